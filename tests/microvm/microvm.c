/*
 * Tests of the micro-VM (include/ktstr/microvm.h): config checks, KVM
 * refusal, every program's behaviour as the host sees it (thread CPU time
 * from /proc/self/task/<tid>/schedstat, KVM stats), discovery by thread
 * name, prompt stop, and no fd or thread left behind.
 *
 * Points that need KVM skip with the reason when /dev/kvm refuses; once it
 * opens, a kt_microvm_create failure is a failure, not a skip.
 */
#include "microvm/helpers.h"

#include <ktstr/microvm.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

/* Long enough to see shares on a loaded 2-CPU machine, short enough that
 * the whole file stays a few seconds. */
#define WINDOW_MS 600

/* The thread's time on a CPU and time queued for one, in seconds, from
 * /proc/self/task/<tid>/schedstat; false when it cannot be read. */
static bool thread_times(pid_t tid, double *run_s, double *queued_s)
{
    char path[64];
    unsigned long long run_ns, delay_ns;
    FILE *f;
    int n;

    snprintf(path, sizeof(path), "/proc/self/task/%d/schedstat", (int)tid);
    f = fopen(path, "r");
    if (!f)
        return false;
    n = fscanf(f, "%llu %llu", &run_ns, &delay_ns);
    fclose(f);
    *run_s = (double)run_ns / 1e9;
    *queued_s = (double)delay_ns / 1e9;
    return n == 2;
}

static uint64_t stat_of(kt_microvm *vm, int i, const char *name)
{
    kt_err err = { 0 };
    uint64_t v = 0;
    int rc = kt_microvm_vcpu_stat(vm, i, name, &v, &err);

    if (!check_int(rc, ==, 0))
        test_msg("%s", err.msg);
    return v;
}

/* What one vCPU did over a window of WINDOW_MS. */
typedef struct window {
    double share;              /* thread CPU time / wall time */
    double queued;             /* time queued for a CPU / wall time */
    uint64_t progress;         /* guest iterations */
    uint64_t exits, halt_exits, halt_wait_ns;
    double wall_s;
} window;

static window measure(kt_microvm *vm, int i)
{
    pid_t tid = kt_microvm_vcpu_tid(vm, i);
    window w;
    uint64_t p0, e0, h0, hw0;
    double t0, r0 = 0, r1 = 0, q0 = 0, q1 = 0;
    bool ok0, ok1;

    p0 = kt_microvm_vcpu_progress(vm, i);
    e0 = stat_of(vm, i, "exits");
    h0 = stat_of(vm, i, "halt_exits");
    hw0 = stat_of(vm, i, "halt_wait_ns");
    ok0 = thread_times(tid, &r0, &q0);
    t0 = now_s();
    sleep_ms(WINDOW_MS);
    ok1 = thread_times(tid, &r1, &q1);
    w.wall_s = now_s() - t0;
    w.progress = kt_microvm_vcpu_progress(vm, i) - p0;
    w.exits = stat_of(vm, i, "exits") - e0;
    w.halt_exits = stat_of(vm, i, "halt_exits") - h0;
    w.halt_wait_ns = stat_of(vm, i, "halt_wait_ns") - hw0;
    check(ok0 && ok1);
    w.share = (r1 - r0) / w.wall_s;
    w.queued = (q1 - q0) / w.wall_s;
    test_msg("vCPU %d: share %.3f, queued %.3f, progress %llu, exits %llu, halt_exits %llu, "
             "halt_wait %.3f s over %.3f s", i, w.share, w.queued,
             (unsigned long long)w.progress, (unsigned long long)w.exits,
             (unsigned long long)w.halt_exits, (double)w.halt_wait_ns / 1e9,
             w.wall_s);
    return w;
}

static void expect_create_error(const kt_microvm_config *cfg, int code,
                                const char *needle)
{
    kt_err err = { 0 };
    kt_microvm *vm = kt_microvm_create(cfg, &err);

    check(vm == NULL);
    kt_microvm_destroy(vm);
    check_int(err.code, ==, code);
    check_contains(err.msg, needle);
}

static void t_bad_configs(void)
{
    kt_microvm_config c;

    expect_create_error(NULL, EINVAL, "no config");
    c = (kt_microvm_config){ .nr_vcpus = 0, .prog = KT_MICROVM_PROG_SPIN };
    expect_create_error(&c, EINVAL, "nr_vcpus 0 out of range [1, 64]");
    c.nr_vcpus = 65;
    expect_create_error(&c, EINVAL, "nr_vcpus 65 out of range [1, 64]");
    c.nr_vcpus = -3;
    expect_create_error(&c, EINVAL, "nr_vcpus -3 out of range");
    c = (kt_microvm_config){ .nr_vcpus = 1, .prog = (kt_microvm_prog)7 };
    expect_create_error(&c, EINVAL, "unknown program 7");
    c.prog = (kt_microvm_prog)-1;
    expect_create_error(&c, EINVAL, "unknown program -1");
    c = (kt_microvm_config){ .nr_vcpus = 1, .prog = KT_MICROVM_PROG_DUTY,
                             .duty_halt_us = 100 };
    expect_create_error(&c, EINVAL, "duty_run_us > 0");
    c = (kt_microvm_config){ .nr_vcpus = 1, .prog = KT_MICROVM_PROG_DUTY,
                             .duty_run_us = 100 };
    expect_create_error(&c, EINVAL, "duty_halt_us > 0");
}

static void t_no_vm_calls(void)
{
    kt_err err = { 0 };

    int rc = kt_microvm_start(NULL, &err);

    check_int(rc, ==, -1);
    check_contains(err.msg, "no VM");
    kt_microvm_stop(NULL);
    kt_microvm_destroy(NULL);
    check_int(kt_microvm_nr_vcpus(NULL), ==, 0);
    check_int(kt_microvm_vcpu_tid(NULL, 0), ==, -1);
    check_int(kt_microvm_vcpu_fd(NULL, 0), ==, -1);
    check_int(kt_microvm_vcpu_stats_fd(NULL, 0), ==, -1);
    check_uint(kt_microvm_vcpu_progress(NULL, 0), ==, 0);
    check(kt_microvm_vcpu_stats_error(NULL, 0) == NULL);
    check(kt_microvm_vcpu_error(NULL, 0) == NULL);
    check_str(kt_microvm_prog_name(KT_MICROVM_PROG_DUTY), "duty");
    check_str(kt_microvm_prog_name((kt_microvm_prog)42), "unknown");
}

static void t_kvm_refuses(void)
{
    kt_microvm_config c = { .nr_vcpus = 1, .prog = KT_MICROVM_PROG_SPIN,
                            .kvm_path = "/nonexistent/kvm" };

    expect_create_error(&c, ENOENT, "kvm (/nonexistent/kvm): open: ");
    /* A device that is not KVM: the API version ioctl is refused. */
    c.kvm_path = "/dev/null";
    expect_create_error(&c, ENOTTY, "kvm (/dev/null): KVM_GET_API_VERSION");
}

static void t_lifecycle(kt_microvm_prog prog)
{
    kt_microvm_config c = { .nr_vcpus = 2, .prog = prog, .duty_run_us = 2000,
                            .duty_halt_us = 2000, .halt_wake_ms = 20 };
    kt_microvm *vm = vm_up(&c);

    if (!vm)
        return;
    check_int(kt_microvm_nr_vcpus(vm), ==, 2);
    for (int i = 0; i < 2; i++) {
        check_int(kt_microvm_vcpu_tid(vm, i), >, 0);
        check_int(kt_microvm_vcpu_fd(vm, i), >=, 0);
    }
    check_int(kt_microvm_vcpu_tid(vm, 2), ==, -1);
    check_int(kt_microvm_vcpu_tid(vm, -1), ==, -1);
    sleep_ms(200);
    for (int i = 0; i < 2; i++) {
        uint64_t p = kt_microvm_vcpu_progress(vm, i);
        check_uint(p, >, 0);
        check(kt_microvm_vcpu_error(vm, i) == NULL);
    }
    kt_microvm_stop(vm);
    for (int i = 0; i < 2; i++) {
        uint64_t p = kt_microvm_vcpu_progress(vm, i);
        check_int(kt_microvm_vcpu_tid(vm, i), ==, -1);
        check(kt_microvm_vcpu_error(vm, i) == NULL);
        sleep_ms(20);
        /* Stopped means stopped: the guest no longer advances. */
        uint64_t later = kt_microvm_vcpu_progress(vm, i);
        check_uint(later, ==, p);
    }
    kt_microvm_stop(vm); /* twice is fine */
    kt_microvm_destroy(vm);
}

/* Busy: on a CPU or queued for one for nearly all the window, whatever
 * the load. The CPU share itself is at least 0.3 on a loaded 2-CPU
 * machine; only when the scheduler kept the thread queued for over half
 * the window (a machine overloaded beyond that) is it reported instead of
 * judged, since the share then measures the load, not the guest. */
static void expect_busy(const window *w)
{
    check_dbl(w->share + w->queued, >=, 0.8);
    if (w->queued <= 0.5)
        check_dbl(w->share, >=, 0.3);
    else
        test_msg("queued %.3f of the window: overloaded, share %.3f not judged",
                 w->queued, w->share);
}

static void t_spin_busy(void)
{
    kt_microvm_config c = { .nr_vcpus = 1, .prog = KT_MICROVM_PROG_SPIN };
    kt_microvm *vm = vm_up(&c);
    window w;

    if (!vm)
        return;
    w = measure(vm, 0);
    expect_busy(&w);
    check_uint(w.progress, >, 1000);
    check_uint(w.halt_exits, <=, 2);
    kt_microvm_destroy(vm);
}

static void t_compute_busy(void)
{
    kt_microvm_config c = { .nr_vcpus = 1, .prog = KT_MICROVM_PROG_COMPUTE };
    kt_microvm *vm = vm_up(&c);
    window w;

    if (!vm)
        return;
    w = measure(vm, 0);
    expect_busy(&w);
    check_uint(w.progress, >, 10);
    check_uint(w.halt_exits, <=, 2);
    kt_microvm_destroy(vm);
}

/* halt_wait_ns is accounted when a halt ends, so the vCPU is woken every
 * 50 ms for the statistic to move within the window. */
static void t_halt_idle(void)
{
    kt_microvm_config c = { .nr_vcpus = 1, .prog = KT_MICROVM_PROG_HALT,
                            .halt_wake_ms = 50 };
    kt_microvm *vm = vm_up(&c);
    window w;

    if (!vm)
        return;
    w = measure(vm, 0);
    check_dbl(w.share, <=, 0.1);
    check_uint(w.halt_wait_ns, >, 0);
    /* Asleep for most of the window, whatever the load. */
    check_dbl((double)w.halt_wait_ns / 1e9, >=, 0.5 * w.wall_s);
    /* About one wake per 50 ms: a few at least, never thousands. */
    check_uint(w.progress, >=, 3);
    check_uint(w.progress, <=, 2 * WINDOW_MS / 50 + 5);
    check_uint(w.halt_exits, >=, 3);
    kt_microvm_destroy(vm);
}

/* Never woken: the thread sleeps in KVM_RUN the whole time. */
static void t_halt_never_woken(void)
{
    kt_microvm_config c = { .nr_vcpus = 1, .prog = KT_MICROVM_PROG_HALT };
    kt_microvm *vm = vm_up(&c);
    window w;

    if (!vm)
        return;
    w = measure(vm, 0);
    check_dbl(w.share, <=, 0.1);
    check_uint(w.progress, ==, 0);
    kt_microvm_destroy(vm);
}

static void t_duty(void)
{
    kt_microvm_config c = { .nr_vcpus = 1, .prog = KT_MICROVM_PROG_DUTY,
                            .duty_run_us = 5000, .duty_halt_us = 5000 };
    kt_microvm *vm = vm_up(&c);
    window w;

    if (!vm)
        return;
    w = measure(vm, 0);
    check_uint(w.progress, >, 0);
    /* ~60 cycles of 10 ms fit the window; a loaded machine delays some. */
    check_uint(w.halt_exits, >=, 5);
    check_uint(w.halt_wait_ns, >, 0);
    /* Both phases show: neither always busy nor always asleep. */
    check_dbl(w.share, >=, 0.05);
    check_dbl(w.share, <=, 0.9);
    kt_microvm_destroy(vm);
}

/* The phases are honoured: a vCPU computing 16 ms of every 20 is runnable
 * (on a CPU or queued for one) far more of the time than one computing
 * 4 ms of every 20. Load stretches the light one's runnable time (it must
 * get a CPU to reach its HLT and again to leave it), so the claim is on
 * the difference, with long phases to keep those delays small. */
static void t_duty_ratio(void)
{
    kt_microvm_config heavy = { .nr_vcpus = 1, .prog = KT_MICROVM_PROG_DUTY,
                                .duty_run_us = 16000, .duty_halt_us = 4000 };
    kt_microvm_config light = { .nr_vcpus = 1, .prog = KT_MICROVM_PROG_DUTY,
                                .duty_run_us = 4000, .duty_halt_us = 16000 };
    kt_microvm *vm = vm_up(&heavy);
    window wh, wl;
    double rh, rl;

    if (!vm)
        return;
    wh = measure(vm, 0);
    kt_microvm_destroy(vm);
    vm = vm_up(&light);
    if (!vm)
        return;
    wl = measure(vm, 0);
    kt_microvm_destroy(vm);
    rh = wh.share + wh.queued;
    rl = wl.share + wl.queued;
    test_msg("runnable: 16/4 ms %.3f, 4/16 ms %.3f", rh, rl);
    check_dbl(rh, >=, 0.6);
    check_dbl(rh - rl, >=, 0.25);
}

/* Without an in-kernel irqchip HLT comes back to userspace and the thread
 * sleeps there: idle all the same, but KVM never counts halt_wait_ns. */
static void t_userspace_halt(void)
{
    kt_microvm_config c = { .nr_vcpus = 1, .prog = KT_MICROVM_PROG_HALT,
                            .halt_wake_ms = 50, .no_irqchip = true };
    kt_microvm *vm = vm_up(&c);
    window w;

    if (!vm)
        return;
    w = measure(vm, 0);
    check_dbl(w.share, <=, 0.1);
    check_uint(w.progress, >=, 3);
    check_uint(w.progress, <=, 2 * WINDOW_MS / 50 + 5);
    check_uint(w.exits, >=, 3);
    check_uint(w.halt_wait_ns, ==, 0);
    kt_microvm_destroy(vm);
}

static void t_userspace_duty(void)
{
    kt_microvm_config c = { .nr_vcpus = 2, .prog = KT_MICROVM_PROG_DUTY, .no_irqchip = true,
                            .duty_run_us = 5000, .duty_halt_us = 5000 };
    kt_microvm *vm = vm_up(&c);
    window w;
    uint64_t p1;

    if (!vm)
        return;
    w = measure(vm, 0);
    p1 = kt_microvm_vcpu_progress(vm, 1);
    check_uint(w.progress, >, 0);
    check_uint(p1, >, 0);
    check_uint(w.exits, >=, 5);
    check_dbl(w.share, >=, 0.05);
    check_dbl(w.share, <=, 0.9);
    kt_microvm_destroy(vm);
}

/* A vCPU whose fd stops being a vCPU (swapped for /dev/null while it
 * runs) ends its thread with the reason; the rest of the VM is unharmed
 * and stop and destroy stay safe. */
static void t_run_error(void)
{
    kt_microvm_config c = { .nr_vcpus = 2, .prog = KT_MICROVM_PROG_DUTY,
                            .duty_run_us = 1000, .duty_halt_us = 1000 };
    kt_microvm *vm = vm_up(&c);
    const kt_err *e = NULL;
    int null_fd;
    pid_t tid;

    if (!vm)
        return;
    null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
    check(null_fd >= 0);
    check(dup2(null_fd, kt_microvm_vcpu_fd(vm, 0)) >= 0);
    close(null_fd);
    for (int k = 0; k < 200 && !(e = kt_microvm_vcpu_error(vm, 0)); k++)
        sleep_ms(10);
    if (check(e != NULL)) {
        test_msg("%s", e->msg);
        check_contains(e->msg, "vCPU 0");
        check_contains(e->msg, "Inappropriate ioctl");
    }
    for (int k = 0; k < 200 && kt_microvm_vcpu_tid(vm, 0) != -1; k++)
        sleep_ms(10);
    tid = kt_microvm_vcpu_tid(vm, 0);
    check_int(tid, ==, -1);
    check(kt_microvm_vcpu_error(vm, 1) == NULL);
    check_int(kt_microvm_vcpu_tid(vm, 1), >, 0);
    kt_microvm_stop(vm);
    kt_microvm_destroy(vm);
}

/* Walks this process's threads: the tid of the one whose comm is name
 * (as a vCPU discovery by name does for QEMU; -1 when none), and in *nr_vcpu
 * how many are named like vCPUs ("CPU <n>/KVM"). KVM may add threads of
 * its own (kvm-nx-lpage-recovery), so vCPU threads are counted by name. */
static pid_t scan_threads(const char *name, int *nr_vcpu)
{
    DIR *d = opendir("/proc/self/task");
    struct dirent *e;
    pid_t found = -1;
    int n = 0;

    if (!d)
        return -1;
    while ((e = readdir(d)) != NULL) {
        char path[300], comm[32] = "";
        unsigned idx;
        char tail[8];
        FILE *f;

        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "/proc/self/task/%s/comm", e->d_name);
        f = fopen(path, "r");
        if (!f)
            continue;
        if (fgets(comm, sizeof(comm), f))
            comm[strcspn(comm, "\n")] = '\0';
        fclose(f);
        if (name && strcmp(comm, name) == 0)
            found = (pid_t)atoi(e->d_name);
        if (sscanf(comm, "CPU %u/%7s", &idx, tail) == 2 && strcmp(tail, "KVM") == 0)
            n++;
    }
    closedir(d);
    if (nr_vcpu)
        *nr_vcpu = n;
    return found;
}

static pid_t tid_by_comm(const char *name)
{
    return scan_threads(name, NULL);
}

static int nr_vcpu_threads(void)
{
    int n = -1;

    scan_threads(NULL, &n);
    return n;
}

static void t_found_by_name(void)
{
    kt_microvm_config c = { .nr_vcpus = 3, .prog = KT_MICROVM_PROG_HALT };
    kt_microvm *vm = vm_up(&c);
    char name[16];

    if (!vm)
        return;
    for (int i = 0; i < 3; i++) {
        snprintf(name, sizeof(name), "CPU %d/KVM", i);
        pid_t found = tid_by_comm(name);
        check_int(found, ==, kt_microvm_vcpu_tid(vm, i));
    }
    check(tid_by_comm("CPU 3/KVM") == -1);
    kt_microvm_destroy(vm);
    check(tid_by_comm("CPU 0/KVM") == -1);
}

static int count_dir(const char *path)
{
    DIR *d = opendir(path);
    struct dirent *e;
    int n = 0;

    if (!d)
        return -1;
    while ((e = readdir(d)) != NULL)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

/* Spinning and sleeping vCPUs alike leave KVM_RUN on a kick. */
static void t_stop_prompt(void)
{
    static const kt_microvm_prog progs[] = { KT_MICROVM_PROG_SPIN, KT_MICROVM_PROG_HALT,
                                             KT_MICROVM_PROG_COMPUTE, KT_MICROVM_PROG_DUTY };

    for (size_t k = 0; k < sizeof(progs) / sizeof(progs[0]); k++) {
        kt_microvm_config c = { .nr_vcpus = 2, .prog = progs[k],
                                .duty_run_us = 1000000, .duty_halt_us = 1000000 };
        kt_microvm *vm = vm_up(&c);
        double t0, ms;

        if (!vm)
            return;
        sleep_ms(50);
        t0 = now_s();
        kt_microvm_stop(vm);
        ms = (now_s() - t0) * 1e3;
        test_msg("stop of 2 %s vCPUs took %.3f ms", kt_microvm_prog_name(progs[k]),
                 ms);
        /* Generous: a kick is microseconds; this only catches a hang. */
        check_dbl(ms, <, 5000);
        kt_microvm_destroy(vm);
    }
}

static void t_destroy_without_stop(void)
{
    kt_microvm_config c = { .nr_vcpus = 4, .prog = KT_MICROVM_PROG_SPIN };
    kt_microvm *vm = vm_up(&c);
    int n;

    if (!vm)
        return;
    n = nr_vcpu_threads();
    check_int(n, ==, 4);
    kt_microvm_destroy(vm);
    n = nr_vcpu_threads();
    check_int(n, ==, 0);
}

static void t_no_fd_leak(void)
{
    int before = count_dir("/proc/self/fd"), after;

    if (!kvm_usable_or_skip())
        return;
    for (int k = 0; k < 20; k++) {
        kt_microvm_config c = { .nr_vcpus = 1 + k % 3, .prog = (kt_microvm_prog)(k % 4),
                                .duty_run_us = 500, .duty_halt_us = 500,
                                .halt_wake_ms = 1 };
        kt_err err = { 0 };
        kt_microvm *vm = kt_microvm_create(&c, &err);

        if (!check(vm != NULL)) {
            test_msg("cycle %d: %s", k, err.msg);
            return;
        }
        if (k % 2 && kt_microvm_start(vm, &err) < 0) {
            check(!"kt_microvm_start failed");
            test_msg("cycle %d: %s", k, err.msg);
        }
        kt_microvm_destroy(vm);
    }
    after = count_dir("/proc/self/fd");
    check_int(after, ==, before);
}

/* The stats fd exists before the vCPU first runs: nothing counted yet. */
static void t_stats_before_run(void)
{
    kt_microvm_config c = { .nr_vcpus = 2, .prog = KT_MICROVM_PROG_SPIN };
    kt_err err = { 0 };
    uint64_t v = 1;
    kt_microvm *vm;
    int rc;

    if (!kvm_usable_or_skip())
        return;
    vm = kt_microvm_create(&c, &err);
    if (!check(vm != NULL)) {
        test_msg("%s", err.msg);
        return;
    }
    for (int i = 0; i < 2; i++) {
        check_int(kt_microvm_vcpu_stats_fd(vm, i), >=, 0);
        check(kt_microvm_vcpu_stats_error(vm, i) == NULL);
        check_int(kt_microvm_vcpu_tid(vm, i), ==, -1);
        uint64_t exits = stat_of(vm, i, "exits");
        check_uint(exits, ==, 0);
    }
    rc = kt_microvm_vcpu_stat(vm, 0, "no_such_stat", &v, &err);
    check_int(rc, ==, -1);
    check_int(err.code, ==, ENOENT);
    check_contains(err.msg, "no statistic named \"no_such_stat\"");
    rc = kt_microvm_vcpu_stat(vm, 5, "exits", &v, &err);
    check_int(rc, ==, -1);
    check_contains(err.msg, "no vCPU 5");
    kt_microvm_destroy(vm);
}

/* As on a kernel without KVM_GET_STATS_FD: the VM runs, the reason shows. */
static void t_without_stats_fd(void)
{
    kt_microvm_config c = { .nr_vcpus = 1, .prog = KT_MICROVM_PROG_SPIN,
                            .no_stats_fd = true };
    kt_err err = { 0 };
    uint64_t v, p;
    int rc;
    kt_microvm *vm = vm_up(&c);

    if (!vm)
        return;
    check_int(kt_microvm_vcpu_stats_fd(vm, 0), ==, -1);
    check(kt_microvm_vcpu_stats_error(vm, 0) != NULL);
    if (kt_microvm_vcpu_stats_error(vm, 0))
        check_contains(kt_microvm_vcpu_stats_error(vm, 0)->msg, "stats fd not opened");
    rc = kt_microvm_vcpu_stat(vm, 0, "exits", &v, &err);
    check_int(rc, ==, -1);
    check_contains(err.msg, "stats fd not opened");
    sleep_ms(100);
    p = kt_microvm_vcpu_progress(vm, 0);
    check_uint(p, >, 0);
    kt_microvm_destroy(vm);
}

static void t_start_rules(void)
{
    kt_microvm_config c = { .nr_vcpus = 1, .prog = KT_MICROVM_PROG_SPIN };
    kt_err err = { 0 };
    kt_microvm *vm;
    int rc;

    if (!kvm_usable_or_skip())
        return;
    vm = kt_microvm_create(&c, &err);
    if (!check(vm != NULL))
        return;
    kt_microvm_stop(vm); /* before start: nothing to do */
    rc = kt_microvm_start(vm, &err);
    check_int(rc, ==, 0);
    rc = kt_microvm_start(vm, &err);
    check_int(rc, ==, -1);
    check_int(err.code, ==, EBUSY);
    check_contains(err.msg, "already started");
    kt_microvm_destroy(vm);
}

/* A start that fails midway (a vCPU fd swapped for /dev/null, so its
 * thread cannot set up) reports why; stop and destroy stay safe after it. */
static void t_failed_start(void)
{
    kt_microvm_config c = { .nr_vcpus = 3, .prog = KT_MICROVM_PROG_SPIN };
    kt_err err = { 0 };
    int null_fd, rc;
    kt_microvm *vm;

    if (!kvm_usable_or_skip())
        return;
    vm = kt_microvm_create(&c, &err);
    if (!check(vm != NULL))
        return;
    null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
    check(null_fd >= 0);
    check(dup2(null_fd, kt_microvm_vcpu_fd(vm, 1)) >= 0);
    close(null_fd);
    rc = kt_microvm_start(vm, &err);
    check_int(rc, ==, -1);
    check_contains(err.msg, "vCPU 1");
    check_contains(err.msg, "KVM_SET_SIGNAL_MASK");
    rc = nr_vcpu_threads();
    check_int(rc, ==, 0);
    kt_microvm_stop(vm);
    kt_microvm_destroy(vm);
}

int main(void)
{
    TEST(t_bad_configs(), "bad configs are rejected with their reasons");
    TEST(t_no_vm_calls(), "calls on no VM fail cleanly");
    TEST(t_kvm_refuses(), "a missing or foreign KVM device is refused with why");
    TEST(t_lifecycle(KT_MICROVM_PROG_HALT), "halt: create, start, progress, stop");
    TEST(t_lifecycle(KT_MICROVM_PROG_SPIN), "spin: create, start, progress, stop");
    TEST(t_lifecycle(KT_MICROVM_PROG_COMPUTE), "compute: create, start, progress, stop");
    TEST(t_lifecycle(KT_MICROVM_PROG_DUTY), "duty: create, start, progress, stop");
    TEST(t_spin_busy(), "a spin vCPU thread is busy and never halts");
    TEST(t_compute_busy(), "a compute vCPU thread is busy");
    TEST(t_halt_idle(), "a halt vCPU thread is idle and halt_wait_ns grows");
    TEST(t_halt_never_woken(), "a halt vCPU never woken stays asleep");
    TEST(t_duty(), "a duty vCPU alternates compute and halt");
    TEST(t_duty_ratio(), "duty phases set how much of the time a vCPU runs");
    TEST(t_userspace_halt(), "without an irqchip a halt vCPU sleeps in userspace");
    TEST(t_userspace_duty(), "without an irqchip duty still alternates");
    TEST(t_run_error(), "a vCPU that fails says why and its thread ends");
    TEST(t_found_by_name(), "vCPU threads are found by comm \"CPU n/KVM\"");
    TEST(t_stop_prompt(), "stop is prompt for every program");
    TEST(t_destroy_without_stop(), "destroy without stop joins the threads");
    TEST(t_no_fd_leak(), "create/destroy cycles leak no fd");
    TEST(t_stats_before_run(), "stats fds are open before the first run");
    TEST(t_without_stats_fd(), "without a stats fd the VM runs and says why");
    TEST(t_start_rules(), "a VM starts once");
    TEST(t_failed_start(), "a failed start reports why and cleans up");
    return test_done();
}
