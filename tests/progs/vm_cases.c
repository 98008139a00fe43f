/* VM-mode scenarios for tests/runner/vm_mode.t: every way a guest point can end.
 * Each runs in a guest (.vm set); the test picks them with --filter. */
#include <ktstr.h>

#include "scx/scx.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* Under SAN=1, ASan would turn SIGSEGV into exit(1). */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "handle_segv=0";
}

#define VM { .cores = 2 }

static void host_busy(const kt_vcpus *vc, kt_verdict *v)
{
    CLAIM_AS(v, "vcpus", kt_vcpus_count(vc), eq, 2);
    CLAIM_AS(v, "accel_named", strlen(kt_vcpus_accel(vc)), eq, 3);
    /* Fails on purpose: an idle guest's vCPUs are nowhere near busy. */
    CLAIM_AS(v, "vcpu0_share", kt_vcpus_share(vc, 0), at_least, 0.9);
}

KT_SCENARIO(vm_pass, .vm = VM, .timeout_s = 20)
{
    CLAIM(v, ctx->in_vm, eq, true);
    CLAIM(v, ctx->ncpus, eq, 2);
    CLAIM(v, getpid() != 1, eq, true);   /* its own child, not init */
}

KT_SCENARIO(vm_fail, .vm = VM, .timeout_s = 20)
{
    int guest_answer = 41;

    CLAIM(v, guest_answer, eq, 42);
}

KT_SCENARIO(vm_host_claims, .vm = VM, .timeout_s = 20, .host_check = host_busy)
{
    kt_sleep_ms(300);
    CLAIM(v, ctx->in_vm, eq, true);
}

KT_SCENARIO(vm_crash, .vm = VM, .timeout_s = 20)
{
    int recorded = 1;

    CLAIM(v, recorded, eq, 2);   /* reported although the body dies */
    raise(SIGSEGV);
}

KT_SCENARIO(vm_exit_midway, .vm = VM, .timeout_s = 20)
{
    _exit(3);
}

KT_SCENARIO(vm_hang, .vm = VM, .timeout_s = 3)
{
    for (;;)
        pause();
}

/* sysrq c: the guest kernel panics on purpose. */
static void sysrq_crash(kt_verdict *v)
{
    int fd = open("/proc/sysrq-trigger", O_WRONLY);

    CLAIM(v, fd, at_least, 0);
    if (fd >= 0 && write(fd, "c", 1) < 0)
        CLAIM_AS(v, "sysrq_write", -1, eq, 0);
    kt_sleep_ms(10000);
}

KT_SCENARIO(vm_panic, .vm = VM, .timeout_s = 20)
{
    sysrq_crash(v);
}

KT_SCENARIO(vm_bad_topology, .vm = { .numa_nodes = 3, .llcs = 2 }, .timeout_s = 20)
{
    CLAIM(v, 1, eq, 1);
}

KT_SCENARIO(vm_needs_kvm, .vm = VM, .needs_kvm = true, .timeout_s = 20)
{
    CLAIM(v, 1, eq, 1);
}

/* The built-in schedulers load with plain bpf() in a sched_ext kernel. */
static void builtin_case(kt_verdict *v, const char *spec, const char *ops, bool partial)
{
    kt__scx_handle h;
    kt_err err = { 0 };
    char state[64] = "", name[160] = "";

    if (kt__scx_builtin_load(spec, &h, &err) < 0) {
        CLAIM_AS(v, err.msg, 0, eq, 1);   /* the reason is the label */
        return;
    }
    for (int i = 0; i < 200; i++) {
        if (kt_scx_state(state, sizeof(state), NULL) == 0 && strcmp(state, "enabled") == 0)
            break;
        kt_sleep_ms(10);
    }
    kt_scx_ops(name, sizeof(name), NULL);
    kt_verdict_note(v, "%s: state %s, ops %s%s", spec, state, name, partial ? " (partial)" : "");
    CLAIM_AS(v, "enabled", strcmp(state, "enabled"), eq, 0);
    CLAIM_AS(v, "ops_is_ours", strcmp(name, ops), eq, 0);
    kt__scx_builtin_unload(&h);
    for (int i = 0; i < 200; i++) {
        if (kt_scx_state(state, sizeof(state), NULL) == 0 && strcmp(state, "disabled") == 0)
            break;
        kt_sleep_ms(10);
    }
    CLAIM_AS(v, "disabled_after_unload", strcmp(state, "disabled"), eq, 0);
}

/* Spins on guest CPU 1 for ms, returning the longest gap between two
 * reads of the clock in ms: what the host took from vCPU 1 meanwhile. */
static double spin_gap_ms(kt_verdict *v, unsigned ms)
{
    cpu_set_t one;
    uint64_t t0 = kt_now_ns(), last = t0, worst = 0;

    CPU_ZERO(&one);
    CPU_SET(1, &one);
    if (sched_setaffinity(0, sizeof(one), &one) < 0)
        kt_verdict_note(v, "sched_setaffinity(CPU 1): %s", strerror(errno));
    for (;;) {
        uint64_t now = kt_now_ns();

        if (now - last > worst)
            worst = now - last;
        last = now;
        if (now - t0 >= (uint64_t)ms * 1000000u)
            return (double)worst / 1e6;
    }
}

/* A timing claim the host breaks by keeping vCPU 1 from its CPU
 * (tests/runner/inconclusive_vm.t): the longest gap of a spin on guest
 * CPU 1. */
KT_SCENARIO(vm_timed_gap, .vm = VM, .timeout_s = 30)
{
    double gap_ms = spin_gap_ms(v, 2500);

    kt_verdict_timing(v, true);
    CLAIM(v, gap_ms, at_most, 100.0);
    kt_verdict_timing(v, false);
}

/* The same with a claim that is not a timing claim failing too. */
KT_SCENARIO(vm_timed_gap_and_count, .vm = VM, .timeout_s = 30)
{
    double gap_ms = spin_gap_ms(v, 2500);
    int forks = 0;

    kt_verdict_timing(v, true);
    CLAIM(v, gap_ms, at_most, 100.0);
    kt_verdict_timing(v, false);
    CLAIM(v, forks, at_least, 1);
}

/* A body that lasts, for schedulers that fail while it runs. */
KT_SCENARIO(vm_sleep, .vm = VM, .timeout_s = 30)
{
    kt_sleep_ms(2500);
    CLAIM(v, ctx->in_vm, eq, true);
}

/* The scheduler under test around a point. */
KT_SCENARIO(vm_sched_fifo, .vm = VM, .scheduler = "builtin:fifo", .timeout_s = 30)
{
    CLAIM_AS(v, "scheduler_is_ktstr_fifo", strcmp(ctx->scheduler ? ctx->scheduler : "", "ktstr_fifo"),
             eq, 0);
    kt_sleep_ms(200);
}

/* Runs the workers of spec for ms, or skips the point with the reason. */
static void run_workers(kt_verdict *v, const kt_work_spec *spec, unsigned ms)
{
    kt_err err = { 0 };
    kt_work *w = kt_work_run(spec, 1, &err);

    if (!w) {
        kt_verdict_skip(v, "%s", err.msg);
        return;
    }
    kt_sleep_ms(ms);
    kt_work_stop(w);
    kt_work_free(w);
}

/* A SCHED_EXT duty worker, not a spinner: a lone spinner may keep its
 * CPU for good (the kernel keeps the last task running when nothing
 * else is queued: DISPATCH_KEEP_LAST, seen in CI), while every wake of
 * a sleeper goes through builtin:stall's select_cpu and enqueue, which
 * never dispatch. */
static const kt_work_spec ext_sleeper = { .kind = KT_WORK_DUTY, .count = 1,
                                          .policy = KT_POLICY_EXT, .run_us = 1000,
                                          .sleep_us = 1000 };

/* builtin:stall never dispatches a SCHED_EXT task: the kernel's watchdog
 * (3 s) ejects it while this worker waits to run. */
KT_SCENARIO(vm_sched_stall, .vm = VM, .scheduler = "builtin:stall", .timeout_s = 30)
{
    int recorded = 1;

    CLAIM(v, recorded, eq, 1);
    run_workers(v, &ext_sleeper, 6000);
}

KT_SCENARIO(vm_scx_fifo, .vm = VM, .timeout_s = 30)
{
    builtin_case(v, "builtin:fifo", "ktstr_fifo", false);
}

KT_SCENARIO(vm_scx_fifo_partial, .vm = VM, .timeout_s = 30)
{
    builtin_case(v, "builtin:fifo_partial", "ktstr_fifo_partial", true);
}

/* Host mode: points without .vm under a scheduler, run by this binary as
 * an ordinary runner inside a guest, whose kernel has sched_ext (the
 * machine that runs make check need not). vm_host_mode starts them. */
KT_SCENARIO(host_sched_fifo, .scheduler = "builtin:fifo", .timeout_s = 20)
{
    CLAIM_AS(v, "scheduler_is_ktstr_fifo", strcmp(ctx->scheduler ? ctx->scheduler : "", "ktstr_fifo"),
             eq, 0);
    CLAIM_AS(v, "not_in_vm", ctx->in_vm, eq, false);
}

KT_SCENARIO(host_sched_stall, .scheduler = "builtin:stall", .timeout_s = 20)
{
    CLAIM_AS(v, "recorded_before", 1, eq, 1);
    run_workers(v, &ext_sleeper, 6000);
}

/* Runs this binary (the guest's /init) as a plain runner of one scenario
 * and hands its TAP back as notes, "inner| <line>", for the test to
 * parse; returns its exit status, or -1. */
static int nested(kt_verdict *v, const char *name)
{
    static char buf[1 << 16];
    size_t len = 0;
    ssize_t n;
    int p[2], st;
    pid_t pid;

    if (pipe(p) < 0)
        return -1;
    pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        dup2(p[1], 1);
        close(p[0]);
        close(p[1]);
        execl("/init", "/init", "--filter", name, (char *)NULL);
        _exit(127);
    }
    close(p[1]);
    while (len < sizeof(buf) - 1 && (n = read(p[0], buf + len, sizeof(buf) - 1 - len)) > 0)
        len += (size_t)n;
    close(p[0]);
    buf[len] = '\0';
    if (waitpid(pid, &st, 0) != pid)
        return -1;
    for (char *line = buf, *nl; *line; line = nl + 1) {
        nl = strchr(line, '\n');
        if (!nl)
            nl = line + strlen(line) - 1;
        else
            *nl = '\0';
        kt_verdict_note(v, "inner| %s", line);
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

KT_SCENARIO(vm_host_mode, .vm = VM, .timeout_s = 60)
{
    CLAIM_AS(v, "fifo_exit_status", nested(v, "host_sched_fifo"), eq, 0);
    CLAIM_AS(v, "stall_exit_status", nested(v, "host_sched_stall"), eq, 1);
}

/* ---- one guest for many points (tests/runner/vm_reuse.t) ----------------
 * In source order: the test picks them with --filter and reads each
 * point's vm: boot. */

/* A point that uses the scheduler under test and a cgroup of its own, both
 * stopped and removed at its end, as every point's are. */
KT_SCENARIO(reuse_sched_cgroup, .vm = VM, .scheduler = "builtin:fifo", .timeout_s = 20)
{
    kt_cg_hooks h = { kt_ctx_rmdir_hook, ctx, kt_verdict_note_hook, v };
    kt_err err = { 0 };
    kt_cgroup *g = kt_cgroup_create(&h, "reuse", &err);

    CLAIM_AS(v, "scheduler_is_ktstr_fifo", strcmp(ctx->scheduler ? ctx->scheduler : "", "ktstr_fifo"),
             eq, 0);
    if (!g) {
        kt_verdict_skip(v, "%s", err.msg);
        return;
    }
    CLAIM_AS(v, "cgroup_add", kt_cgroup_add(g, getpid(), &err), eq, 0);
    /* left for the runner to remove, as after a crash */
}

/* The next point sees neither: sched_ext disabled, and no cgroup under the
 * root but those the guest booted with. */
KT_SCENARIO(reuse_clean, .vm = VM, .timeout_s = 20)
{
    char state[64] = "";
    DIR *d = opendir("/sys/fs/cgroup");
    struct dirent *e;
    int ours = 0;

    CLAIM_AS(v, "scx_state_read", kt_scx_state(state, sizeof(state), NULL), at_least, 0);
    CLAIM_AS(v, "scx_disabled", strcmp(state, "disabled"), eq, 0);
    while (d && (e = readdir(d)) != NULL)
        ours += strncmp(e->d_name, "ktstr-", 6) == 0;
    if (d)
        closedir(d);
    CLAIM_AS(v, "cgroup_root_opened", d != NULL, eq, true);
    CLAIM_AS(v, "ktstr_cgroups_left", ours, eq, 0);
}

/* A cgroup made behind the runner's back: the guest cannot run the next
 * point clean, so it says why and the next point boots a new guest. */
KT_SCENARIO(reuse_leak_cgroup, .vm = VM, .timeout_s = 20)
{
    CLAIM_AS(v, "mkdir_leak", mkdir("/sys/fs/cgroup/leaked-by-a-point", 0755), eq, 0);
}

KT_SCENARIO(reuse_pass, .vm = VM, .timeout_s = 20)
{
    CLAIM(v, ctx->in_vm, eq, true);
}

/* The guest kernel panics in the middle of a file. */
KT_SCENARIO(reuse_panic, .vm = VM, .timeout_s = 20)
{
    sysrq_crash(v);
}

KT_SCENARIO(reuse_after, .vm = VM, .timeout_s = 20)
{
    CLAIM(v, ctx->in_vm, eq, true);
}

/* Another shape: another guest. */
KT_SCENARIO(reuse_other_shape, .vm = { .cores = 1 }, .timeout_s = 20)
{
    CLAIM(v, ctx->ncpus, eq, 1);
}

KT_MAIN()
