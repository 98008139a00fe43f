/* The timeline (driven by hand: deltas, resets, wrap, totals, series,
 * share, stalls, gone, full) and the monitor on real threads. */
#include "harness/unit.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "ktstr/monitor.h"

static void t_delta(void)
{
    check_uint(kt_counter_delta(10, 25, 64), ==, 15);
    check_uint(kt_counter_delta(25, 25, 64), ==, 0);
    check_uint(kt_counter_delta(1000, 7, 64), ==, 7);            /* reset */
    check_uint(kt_counter_delta(0xfffffff0u, 0x10, 32), ==, 0x20); /* wrap */
    check_uint(kt_counter_delta(5, 9, 32), ==, 4);
    check_uint(kt_counter_delta(UINT64_MAX - 1, UINT64_MAX, 64), ==, 1);
    check_uint(kt_field_width(KT_F_RUN_NS), ==, 64);
    check_str(kt_field_name(KT_F_KVM_HALT_EXITS), "halt_exits");
    check_str(kt_field_name(KT_F_COUNT), "?");
    check_uint(kt_sources_fields(KT_SRC_SCHEDSTAT), ==,
               1u << KT_F_RUN_NS | 1u << KT_F_DELAY_NS | 1u << KT_F_TIMESLICES);
}

/* Two targets: 0 has run_ns and timeslices, 1 has cpu_busy_ns only. */
static kt_timeline *synthetic(size_t capacity)
{
    uint32_t f[2] = { kt_sources_fields(KT_SRC_SCHEDSTAT),
                      kt_sources_fields(KT_SRC_PROCSTAT) };
    kt_err err = { 0 };
    kt_timeline *tl = kt_timeline_new(2, f, capacity, &err);

    check(tl != NULL);
    return tl;
}

static void put(kt_timeline *tl, int target, uint64_t ts, kt_field f, uint64_t v)
{
    uint64_t vals[KT_F_COUNT] = { 0 };
    int rc;

    vals[f] = v;
    rc = kt_timeline_record(tl, target, ts, vals);
    check_int(rc, ==, 0);
}

static void t_timeline_queries(void)
{
    /* run_ns of target 0 at 10 ms ticks: grows 5 ms/tick, stalls for
     * ticks 3..6, is reset at tick 8 (counter restarted from 0) */
    static const uint64_t run[] = { 100, 5100000, 10100000, 15100000, 15100000,
                                    15100000, 15100000, 20100000, 4000000, 9000000 };
    enum { N = sizeof(run) / sizeof(run[0]) };
    kt_timeline *tl = synthetic(64);
    uint64_t total, wall, d[16], iv[16], v, ns;
    size_t at, gt;
    int code, rc;
    long n;

    if (!tl)
        return;
    for (int t = 0; t < N; t++) {
        put(tl, 0, 1000000000ull + t * 10000000ull, KT_F_RUN_NS, run[t]);
        if (t < 6)  /* target 1 vanishes at tick 6 */
            put(tl, 1, 1000000000ull + t * 10000000ull, KT_F_CPU_BUSY_NS, t * 2000000ull);
        else if (t == 6)
            kt_timeline_mark_gone(tl, 1, ESRCH);
        rc = kt_timeline_commit(tl);
        check_int(rc, ==, 0);
    }
    check_uint(kt_timeline_ticks(tl), ==, N);
    check_int(kt_timeline_value(tl, 0, 3, KT_F_RUN_NS, &v), ==, 0);
    check_uint(v, ==, 15100000);
    check_int(kt_timeline_value(tl, 0, 3, KT_F_CPU_BUSY_NS, &v), ==, -1); /* not captured */
    check_int(kt_timeline_value(tl, 0, N, KT_F_RUN_NS, &v), ==, -1);      /* not yet */
    check_int(kt_timeline_value(tl, 1, 7, KT_F_CPU_BUSY_NS, &v), ==, -1); /* gone */

    /* totals: 4 growths of 5 ms, then the reset contributes its new value */
    check_int(kt_timeline_total(tl, 0, KT_F_RUN_NS, 0, KT_TICK_END, &total, &wall), ==, 0);
    check_uint(total, ==, 5099900 + 3 * 5000000ull + 4000000 + 5000000);
    check_uint(wall, ==, 90000000);
    check_int(kt_timeline_total(tl, 0, KT_F_RUN_NS, 1, 3, &total, &wall), ==, 0);
    check_uint(total, ==, 10000000);
    check_uint(wall, ==, 20000000);
    check_int(kt_timeline_total(tl, 0, KT_F_RUN_NS, 4, 4, &total, &wall), ==, -1);

    n = kt_timeline_series(tl, 0, KT_F_RUN_NS, 0, KT_TICK_END, d, iv, 16);
    check_int(n, ==, N - 1);
    check_uint(d[0], ==, 5099900);
    check_uint(d[3], ==, 0);
    check_uint(d[7], ==, 4000000);  /* reset: the new value */
    check_uint(iv[4], ==, 10000000);
    check_int(kt_timeline_series(tl, 0, KT_F_RUN_NS, 0, KT_TICK_END, d, NULL, 2), ==, N - 1);

    /* share: 29 ms of run in 90 ms of wall */
    check_dbl(kt_timeline_cpu_share(tl, 0, 0, KT_TICK_END), ==, 29099900.0 / 90000000.0);
    check_dbl(kt_timeline_cpu_share(tl, 1, 0, KT_TICK_END), ==, 10000000.0 / 50000000.0);
    check(isnan(kt_timeline_cpu_share(tl, 0, 5, 5)));

    /* stall: grew at tick 3, next growth at tick 7: no growth seen from
     * tick 3 to tick 6, i.e. 30 ms */
    check_int(kt_timeline_longest_stall(tl, 0, KT_F_RUN_NS, 0, KT_TICK_END, &ns, &at), ==, 0);
    check_uint(ns, ==, 30000000);
    check_uint(at, ==, 3);
    check_int(kt_timeline_longest_stall(tl, 0, KT_F_RUN_NS, 0, 3, &ns, &at), ==, 0);
    check_uint(ns, ==, 0);          /* grew every interval */
    check_int(kt_timeline_longest_stall(tl, 0, KT_F_RUN_NS, 4, 6, &ns, &at), ==, 0);
    check_uint(ns, ==, 20000000);   /* a window that ends inside the stall */

    check(kt_timeline_gone(tl, 1, &gt, &code));
    check_uint(gt, ==, 6);
    check_int(code, ==, ESRCH);
    check(!kt_timeline_gone(tl, 0, NULL, NULL));
    /* the gone target's totals stop at its last sample */
    check_int(kt_timeline_total(tl, 1, KT_F_CPU_BUSY_NS, 0, KT_TICK_END, &total, &wall), ==, 0);
    check_uint(total, ==, 10000000);
    kt_timeline_free(tl);
}

static void t_timeline_full_and_bad_input(void)
{
    kt_timeline *tl = synthetic(2);
    uint64_t vals[KT_F_COUNT] = { 0 };
    uint32_t f = 1;
    kt_err err = { 0 };
    int rc;

    if (!tl)
        return;
    for (int t = 0; t < 2; t++) {
        rc = kt_timeline_record(tl, 0, 5 + t, vals);
        check_int(rc, ==, 0);
        rc = kt_timeline_commit(tl);
        check_int(rc, ==, 0);
    }
    rc = kt_timeline_record(tl, 0, 7, vals);
    check_int(rc, ==, -1);
    rc = kt_timeline_commit(tl);
    check_int(rc, ==, -1);
    check_uint(kt_timeline_ticks(tl), ==, 2);
    check_int(kt_timeline_record(tl, 5, 7, vals), ==, -1);
    kt_timeline_free(tl);
    check(kt_timeline_new(0, &f, 10, &err) == NULL);
    check_contains(err.msg, "0 targets");
    check(kt_timeline_new(1, &f, 1, &err) == NULL);
    check_contains(err.msg, "capacity 1");
}

/* ---- live ---- */

typedef struct worker {
    int mode;                 /* 0 spin, 1 sleep, 2 exit after a while */
    atomic_int tid;
    atomic_bool stop;
} worker;

static void *work(void *arg)
{
    worker *w = arg;

    atomic_store(&w->tid, (int)syscall(SYS_gettid));
    if (w->mode == 2) {
        usleep(150000);
        return NULL;
    }
    while (!atomic_load(&w->stop)) {
        if (w->mode == 1) {
            usleep(20000);
        } else {
            for (volatile int i = 0; i < 10000; i++)
                ;
        }
    }
    return NULL;
}

static void t_monitor_live(void)
{
    worker w[3] = { { .mode = 0 }, { .mode = 1 }, { .mode = 2 } };
    pthread_t th[3];
    kt_target tg[5];
    kt_monitor_config cfg = { .hz = 100, .capacity = 1000 };
    kt_monitor *m;
    kt_err err = { 0 };
    const kt_timeline *tl;
    size_t ticks, gone_at;
    uint64_t total, wall;
    double spin, sleep, spin_tc, truth;
    struct timespec c0, c1, w0, w1;
    clockid_t spin_clock;
    int code, rc;

    for (int i = 0; i < 3; i++) {
        atomic_init(&w[i].tid, 0);
        atomic_init(&w[i].stop, false);
        rc = pthread_create(&th[i], NULL, work, &w[i]);
        check_int(rc, ==, 0);
    }
    for (int i = 0; i < 3; i++)
        while (!atomic_load(&w[i].tid))
            usleep(1000);
    memset(tg, 0, sizeof(tg));
    tg[0] = (kt_target){ .kind = KT_TARGET_THREAD, .tid = w[0].tid,
                         .sources = KT_SRC_SCHEDSTAT | KT_SRC_PERF_SW };
    tg[1] = (kt_target){ .kind = KT_TARGET_THREAD, .tid = w[1].tid,
                         .sources = KT_SRC_SCHEDSTAT | KT_SRC_PERF_SW };
    tg[2] = (kt_target){ .kind = KT_TARGET_THREAD, .pid = getpid(), .tid = w[2].tid,
                         .sources = KT_SRC_SCHEDSTAT };
    tg[3] = (kt_target){ .kind = KT_TARGET_CPU, .cpu = 0,
                         .sources = KT_SRC_PROCSTAT | KT_SRC_PERF_SW };
    tg[4] = (kt_target){ .kind = KT_TARGET_THREAD, .tid = (int)syscall(SYS_gettid),
                         .sources = KT_SRC_SCHEDSTAT };
    /* The spinner shares 2 CPUs with other developers' builds and this
     * test's threads; a higher weight (root only, else ignored) keeps its
     * share near 1 so that "spinning" stays far from "sleeping". */
    if (setpriority(PRIO_PROCESS, (id_t)w[0].tid, -10) < 0)
        test_msg("spinner keeps nice 0: %s", strerror(errno));
    pthread_getcpuclockid(th[0], &spin_clock);
    clock_gettime(spin_clock, &c0);
    clock_gettime(CLOCK_MONOTONIC, &w0);
    m = kt_monitor_start(tg, 5, &cfg, &err);
    if (!check(m != NULL)) {
        test_msg("%s", err.msg);
        goto out;
    }
    usleep(600000);
    kt_monitor_stop(m);
    clock_gettime(spin_clock, &c1);
    clock_gettime(CLOCK_MONOTONIC, &w1);
    truth = ((c1.tv_sec - c0.tv_sec) * 1e9 + (c1.tv_nsec - c0.tv_nsec)) /
            ((w1.tv_sec - w0.tv_sec) * 1e9 + (w1.tv_nsec - w0.tv_nsec));
    tl = kt_monitor_timeline(m);
    ticks = kt_timeline_ticks(tl);
    test_msg("%zu ticks in 600 ms at 100 Hz, %llu deadlines missed, monitor cpu %.2f ms",
             ticks, (unsigned long long)kt_monitor_missed(m), kt_monitor_cpu_ns(m) / 1e6);
    /* 60 due; a loaded machine may skip some, never burst past the due count */
    check_uint(ticks + kt_monitor_missed(m), >=, 40);
    check_uint(ticks, <=, 62);
    check(!kt_monitor_full(m));

    /* On a loaded 2-CPU machine the spinner shares a CPU with other
     * developers' builds and with the test's own threads, so its share can
     * drop towards 0.5 or below; 0.3 still separates it from a sleeper. */
    spin = kt_timeline_cpu_share(tl, 0, 0, KT_TICK_END);
    sleep = kt_timeline_cpu_share(tl, 1, 0, KT_TICK_END);
    test_msg("cpu share: spinner %.3f (its own CPU clock says %.3f), sleeper %.4f",
             spin, truth, sleep);
    check_dbl(fabs(spin - truth), <=, 0.1);  /* the monitor measures what happened */
    /* When the machine gave the spinner under 0.3 of a CPU by its own
     * clock, "spinning looks busy" cannot be shown on this run: a skip
     * that says so, never a pass (the checks above and below still count). */
    if (truth < 0.3)
        test_skip("machine too loaded: the spinner ran %.2f of a CPU by its own clock", truth);
    else
        check_dbl(spin, >=, 0.3);
    check_dbl(spin, <=, 1.05);
    check_dbl(sleep, <=, 0.05);
    check_dbl(sleep, >=, 0.0);
    /* task-clock agrees with schedstat for the spinner */
    check_int(kt_timeline_total(tl, 0, KT_F_TASK_CLOCK_NS, 0, KT_TICK_END, &total, &wall), ==, 0);
    spin_tc = (double)total / (double)wall;
    check_dbl(fabs(spin_tc - spin), <=, 0.1);
    check_int(kt_timeline_total(tl, 1, KT_F_CTX_SWITCHES, 0, KT_TICK_END, &total, &wall), ==, 0);
    check_uint(total, >=, 10);  /* it slept 20 ms at a time for 600 ms */

    /* the thread that exited at ~150 ms is gone, named, and the others
     * were sampled after that */
    if (check(kt_timeline_gone(tl, 2, &gone_at, &code))) {
        uint64_t v;

        test_msg("exited thread gone at tick %zu: %s", gone_at, kt_monitor_target_error(m, 2));
        check_uint(gone_at, >=, 1);         /* read while it lived */
        check_uint(gone_at + 2, <=, ticks); /* the others went on after */
        check(code == ESRCH || code == ENOENT);
        check_contains(kt_monitor_target_error(m, 2), "schedstat (tid ");
        check_int(kt_timeline_value(tl, 2, gone_at, KT_F_RUN_NS, &v), ==, -1);
        check_int(kt_timeline_value(tl, 0, ticks - 1, KT_F_RUN_NS, &v), ==, 0);
        check_int(kt_timeline_value(tl, 1, ticks - 1, KT_F_RUN_NS, &v), ==, 0);
    }
    check(!kt_timeline_gone(tl, 0, NULL, NULL));
    check_str(kt_monitor_target_error(m, 0), "");
    /* CPU 0 was observed; its busy + idle time tracks wall time */
    check_int(kt_timeline_total(tl, 3, KT_F_CPU_BUSY_NS, 0, KT_TICK_END, &total, &wall), ==, 0);
    check_uint(wall, >=, 300000000);
    {
        uint64_t idle, w2;

        check_int(kt_timeline_total(tl, 3, KT_F_CPU_IDLE_NS, 0, KT_TICK_END, &idle, &w2), ==, 0);
        /* USER_HZ resolution: within a few ticks of the wall time */
        check_dbl((double)(total + idle) / (double)wall, >=, 0.8);
        check_dbl((double)(total + idle) / (double)wall, <=, 1.2);
    }
    kt_monitor_free(m);
out:
    for (int i = 0; i < 3; i++) {
        atomic_store(&w[i].stop, true);
        pthread_join(th[i], NULL);
    }
}

static void t_monitor_full(void)
{
    kt_target tg = { .kind = KT_TARGET_THREAD, .tid = (int)syscall(SYS_gettid),
                     .sources = KT_SRC_SCHEDSTAT };
    kt_monitor_config cfg = { .hz = 1000, .capacity = 5 };
    kt_err err = { 0 };
    kt_monitor *m = kt_monitor_start(&tg, 1, &cfg, &err);
    int waited = 0;

    if (!check(m != NULL))
        return;
    while (!kt_monitor_full(m) && waited++ < 2000)
        usleep(1000);
    check(kt_monitor_full(m));
    check_uint(kt_timeline_ticks(kt_monitor_timeline(m)), ==, 5);
    kt_monitor_stop(m);
    kt_monitor_stop(m);
    kt_monitor_free(m);
}

/* pthread_join returns when the kernel clears the thread's tid, a moment
 * before /proc stops showing it: wait (bounded) until it is really gone. */
static void wait_reaped(int tid)
{
    char path[64];

    snprintf(path, sizeof(path), "/proc/self/task/%d", tid);
    for (int i = 0; i < 2000 && access(path, F_OK) == 0; i++)
        usleep(1000);
}

static void *quick(void *arg)
{
    *(int *)arg = (int)syscall(SYS_gettid);
    return NULL;
}

static void t_monitor_errors(void)
{
    int self = (int)syscall(SYS_gettid), gone = 0;
    kt_target tg = { .kind = KT_TARGET_THREAD, .tid = self, .sources = KT_SRC_SCHEDSTAT };
    kt_monitor_config cfg = { .hz = 5000 };
    kt_err err = { 0 };
    pthread_t th;
    int rc;

    check(kt_monitor_start(&tg, 1, &cfg, &err) == NULL);
    check_contains(err.msg, "5000 Hz");
    check(kt_monitor_start(&tg, 0, NULL, &err) == NULL);
    check_contains(err.msg, "no targets");
    tg.sources = KT_SRC_PROCSTAT;
    check(kt_monitor_start(&tg, 1, NULL, &err) == NULL);
    check_contains(err.msg, "/proc/stat does not apply to a thread");
    tg.sources = 0;
    check(kt_monitor_start(&tg, 1, NULL, &err) == NULL);
    check_contains(err.msg, "no sources");
    tg = (kt_target){ .kind = KT_TARGET_CPU, .cpu = 100000, .sources = KT_SRC_PROCSTAT };
    check(kt_monitor_start(&tg, 1, NULL, &err) == NULL);
    check_contains(err.msg, "cpu 100000");
    /* the hardware group: here ENOENT, said so; with a PMU it opens */
    tg = (kt_target){ .kind = KT_TARGET_THREAD, .tid = self, .sources = KT_SRC_PERF_HW };
    {
        kt_monitor *m = kt_monitor_start(&tg, 1, NULL, &err);

        if (m)
            kt_monitor_free(m);
        else
            check_contains(err.msg, "perf hardware group (tid ");
    }
    rc = pthread_create(&th, NULL, quick, &gone);
    check_int(rc, ==, 0);
    pthread_join(th, NULL);
    wait_reaped(gone);
    tg = (kt_target){ .kind = KT_TARGET_THREAD, .tid = gone,
                      .sources = KT_SRC_PERF_SW | KT_SRC_SCHEDSTAT };
    check(kt_monitor_start(&tg, 1, NULL, &err) == NULL);
    check_contains(err.msg, "schedstat (tid ");
    tg = (kt_target){ .kind = KT_TARGET_VCPU, .tid = self, .kvm_stats_fd = -1,
                      .sources = KT_SRC_KVM };
    check(kt_monitor_start(&tg, 1, NULL, &err) == NULL);
    check_contains(err.msg, "kvm stats");
}

/* A vCPU target reading KVM stats through the monitor: a real vCPU that
 * is created but never run, so its exit counters stay 0. */
static void t_monitor_kvm(void)
{
    kt_monitor_config cfg = { .hz = 200, .capacity = 100 };
    kt_target tg = { .kind = KT_TARGET_VCPU, .tid = (int)syscall(SYS_gettid),
                     .sources = KT_SRC_KVM | KT_SRC_SCHEDSTAT };
    kt_err err = { 0 };
    kt_monitor *m;
    const kt_timeline *tl;
    int kvm, vm = -1, vcpu = -1;
    uint64_t v;

    kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (kvm < 0) {
        kt_err_sys(&err, errno, "open /dev/kvm");
        test_skip("%s", err.msg);
        return;
    }
    vm = ioctl(kvm, KVM_CREATE_VM, 0);
    if (vm >= 0)
        vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
    if (vcpu >= 0)
        tg.kvm_stats_fd = ioctl(vcpu, KVM_GET_STATS_FD, 0);
    if (vcpu < 0 || tg.kvm_stats_fd < 0) {
        kt_err_sys(&err, errno, "/dev/kvm: creating a vCPU and its stats fd");
        test_skip("%s", err.msg);
        goto out;
    }
    m = kt_monitor_start(&tg, 1, &cfg, &err);
    if (!check(m != NULL)) {
        test_msg("%s", err.msg);
        goto out;
    }
    close(tg.kvm_stats_fd);  /* the monitor keeps its own copy */
    usleep(50000);
    kt_monitor_stop(m);
    tl = kt_monitor_timeline(m);
    check_uint(kt_timeline_ticks(tl), >=, 2);
    check(!kt_timeline_gone(tl, 0, NULL, NULL));
    check_int(kt_timeline_value(tl, 0, 1, KT_F_KVM_EXITS, &v), ==, 0);
    check_uint(v, ==, 0);
    check_int(kt_timeline_value(tl, 0, 1, KT_F_KVM_HALT_EXITS, &v), ==, 0);
    check_int(kt_timeline_value(tl, 0, 1, KT_F_RUN_NS, &v), ==, 0);
    check_uint(v, >, 0);
    kt_monitor_free(m);
out:
    if (vcpu >= 0)
        close(vcpu);
    if (vm >= 0)
        close(vm);
    close(kvm);
}

int main(void)
{
    TEST(t_delta(), "counter deltas: growth, reset, 32-bit wrap");
    TEST(t_timeline_queries(), "timeline queries: totals, series, share, stall, gone");
    TEST(t_timeline_full_and_bad_input(), "timeline: full, bad input");
    TEST(t_monitor_live(), "monitor on live threads: spinner, sleeper, exiting thread, CPU");
    TEST(t_monitor_full(), "monitor stops and says so when the timeline is full");
    TEST(t_monitor_kvm(), "monitor reads a real vCPU's KVM stats");
    TEST(t_monitor_errors(), "monitor start errors name the source and target");
    return test_done();
}
