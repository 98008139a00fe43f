/* Placement on a topology: SMT siblings, LLCs and NUMA nodes, and CPUs
 * that go away and come back. Each scenario boots a guest of the shape it
 * needs (VM mode), samples every SAMPLE_MS the CPU each worker last ran on
 * (kt_thread_last_cpu) and judges where the scheduler put them, read
 * against the guest's own sysfs topology. Under TCG a guest's vCPUs are
 * host threads that the host may stall, so the shares are timing claims;
 * where a task is placed is the guest kernel's decision and is not. */
/* calibration, measured alone here on 2026-12-07 (2 CPUs, Linux 6.18, the guests under TCG):
 * 10 catalog runs idle and 10 under stress-ng --cpu 1, n / min / p50 /
 * max of each claim (ktw*: every worker counted), and the margin the
 * worst value leaves (README: Calibration); the bounds below refer here.
 * smt_spread samples at_least 10: idle 10 / 120 / 124.5 / 129; stress 10 / 117 / 119.5 / 125; margin 11.70x
 * smt_spread smt_shared at_most 0.2: idle 10 / 0 / 0 / 0.032; stress 10 / 0 / 0 / 0; margin 6.25x
 * smt_spread smt_siblings at_least 2: idle 10 / 2 / 2 / 2; stress 10 / 2 / 2 / 2; margin 1.00x
 * llc_wake_affine llcs at_least 2: idle 10 / 2 / 2 / 2; stress 10 / 2 / 2 / 2; margin 1.00x
 * llc_wake_affine same_llc at_least 0.6: idle 10 / 1 / 1 / 1; stress 10 / 0.9921 / 1 / 1; margin 1.65x
 * llc_wake_affine samples at_least 10: idle 10 / 141 / 141.5 / 143; stress 10 / 126 / 133 / 135; margin 12.60x
 * llc_cache_stays cross_llc_per_s_worst at_most 5: idle 10 / 0 / 0 / 0; stress 10 / 0 / 0 / 0; margin inf
 * llc_cache_stays llcs at_least 2: idle 10 / 2 / 2 / 2; stress 10 / 2 / 2 / 2; margin 1.00x
 * llc_cache_stays samples at_least 10: idle 10 / 131 / 137 / 140; stress 10 / 134 / 136.5 / 139; margin 13.10x
 * numa_stays_home cross_node_per_s_worst at_most 5: idle 10 / 0 / 0 / 0; stress 10 / 0 / 0 / 0; margin inf
 * numa_stays_home numa_nodes at_least 2: idle 10 / 2 / 2 / 2; stress 10 / 2 / 2 / 2; margin 1.00x
 * numa_stays_home samples at_least 10: idle 10 / 131 / 137 / 140; stress 10 / 134 / 136.5 / 141; margin 13.10x
 * vcpu_hotplug guest_cpus at_least 2: idle 10 / 4 / 4 / 4; stress 10 / 4 / 4 / 4; margin 2.00x
 * vcpu_hotplug ktw*.max_gap_ms at_most 500: idle 40 / 18.9 / 30.58 / 88.33; stress 40 / 21.31 / 39.15 / 180.2; margin 2.77x
 */
#include <ktstr.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SAMPLE_MS 10
#define WINDOW_MS 1500
#define WARMUP_MS 300
#define MAX_CPUS 64
#define MAX_WORKERS 8
/* One shape for the LLC, NUMA and hotplug scenarios, so that one guest
 * runs them all: 2 nodes of an LLC each, one core of 2 threads per LLC,
 * 4 vCPUs (8 boot in 10 s under TCG here and starve each other on 2 host
 * CPUs). smt_spread boots its own 1n1l2c2t: across nodes the kernel
 * leaves a small imbalance on purpose (imb_numa_nr, to keep tasks near
 * their memory), so in SHAPE two spinners stayed on one core in 4 of 10
 * runs; its idle core must be in the same node and LLC. */
#define SHAPE { .numa_nodes = 2, .llcs = 2, .cores = 1, .threads = 2 }

/* calibration (the figures: the block above): smt_shared: the share of samples in which
 * the two spinners sat on sibling threads of one core while a whole core
 * was idle */
#define SMT_SHARED_MAX 0.2
/* The balancer's time to move a spinner off a busy core before the
 * window. */
#define SMT_SETTLE_MS 300
/* calibration (the figures: the block above): same_llc: the share of samples in which a
 * ping-pong pair sat in one LLC */
#define SAME_LLC_MIN 0.6
/* calibration (the figures: the block above): cross-LLC / cross-node moves per second of a
 * cache-heavy worker that has an LLC (a node) to itself */
#define CROSS_MOVES_MAX 5.0
/* calibration (the figures: the block above): the longest a spinner went without progress
 * across the unplug and the replug */
#define HOTPLUG_GAP_MAX_MS 500

/* The id of the group (core, LLC, node) each guest CPU belongs to: the
 * first CPU of the list in sysfs file fmt (with %d the CPU). -1 for a CPU
 * whose file is unreadable. */
static void group_of(const char *fmt, int ncpus, int *out)
{
    for (int cpu = 0; cpu < ncpus && cpu < MAX_CPUS; cpu++) {
        char path[160], buf[256];

        snprintf(path, sizeof(path), fmt, cpu);
        out[cpu] = kt_read_file(path, buf, sizeof(buf), NULL) > 0 ? atoi(buf) : -1;
    }
}

/* The NUMA node of each CPU, from /sys/devices/system/node/node<N>/cpu<C>. */
static void node_of(int ncpus, int *out)
{
    for (int cpu = 0; cpu < ncpus && cpu < MAX_CPUS; cpu++) {
        out[cpu] = -1;
        for (int node = 0; node < 64 && out[cpu] < 0; node++) {
            char path[96], buf[8];

            snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/cpu%d/online", node, cpu);
            if (kt_read_file(path, buf, sizeof(buf), NULL) > 0 || (cpu == 0 && node == 0))
                out[cpu] = node;
        }
    }
}

/* Samples every worker's last CPU every SAMPLE_MS for ms into cpu[w][k];
 * returns the samples taken (all workers read in each). */
static int sample(const kt_work *w, int n, unsigned ms, int cpu[][WINDOW_MS / SAMPLE_MS + 1])
{
    uint64_t end = kt_now_ns() + (uint64_t)ms * 1000000u;
    int k = 0;

    while (kt_now_ns() < end && k <= WINDOW_MS / SAMPLE_MS) {
        for (int i = 0; i < n; i++)
            cpu[i][k] = kt_thread_last_cpu(kt_work_tid(w, (size_t)i));
        k++;
        kt_sleep_ms(SAMPLE_MS);
    }
    return k;
}

/* Moves between groups of one worker: consecutive samples whose CPUs lie
 * in different groups. */
static int moves(const int *cpu, int k, const int *grp)
{
    int m = 0;

    for (int j = 1; j < k; j++)
        if (cpu[j] >= 0 && cpu[j - 1] >= 0 && grp[cpu[j]] != grp[cpu[j - 1]])
            m++;
    return m;
}

static kt_work *start(kt_verdict *v, const kt_work_spec *specs, size_t n)
{
    kt_err err = { 0 };
    kt_work *w = kt_work_run(specs, n, &err);

    if (!w)
        kt_verdict_skip(v, "workers: %s", err.msg);
    return w;
}

/* Two cache-heavy workers, a group's worth of CPUs each (grp: the
 * group of each CPU, an LLC or a node): the most crossings between
 * groups either made, per second of the window, is the claim `label`. */
static void stays_home(kt_verdict *v, const int *grp, const char *what, const char *label)
{
    static int cpu[2][WINDOW_MS / SAMPLE_MS + 1];
    kt_work_spec cache = { .kind = KT_WORK_CACHE, .count = 2, .bytes = 4u << 20 };
    int k, worst = 0;
    kt_work *w;

    if (!(w = start(v, &cache, 1)))
        return;
    kt_sleep_ms(WARMUP_MS);
    k = sample(w, 2, WINDOW_MS, cpu);
    kt_work_stop(w);
    for (int i = 0; i < 2; i++) {
        int m = moves(cpu[i], k, grp);

        worst = m > worst ? m : worst;
        kt_verdict_note(v, "cache worker ktw%d: %d cross-%s moves in %d samples", i, m, what, k);
    }
    CLAIM_AS(v, "samples", k, at_least, 10);
    CLAIM_AS(v, label, worst * 1000.0 / WINDOW_MS, at_most, CROSS_MOVES_MAX);
    kt_work_free(w);
}

/* Two spinners, while whole cores are idle, sit on different cores (the idle core is worth more than a sibling). */
KT_SCENARIO(smt_spread, .vm = { .llcs = 1, .cores = 2, .threads = 2 }, .timeout_s = 30,
            .purpose = "with a whole core idle, two spinners never share one core's threads")
{
    static int cpu[2][WINDOW_MS / SAMPLE_MS + 1];
    int core[MAX_CPUS], k, shared = 0, valid = 0;
    kt_work_spec spin = { .kind = KT_WORK_SPIN, .count = 2 };
    kt_work *w;

    if (!CLAIM_AS(v, "smt_siblings", ctx->topology.threads, at_least, 2))
        return;
    group_of("/sys/devices/system/cpu/cpu%d/topology/thread_siblings_list", ctx->ncpus, core);
    if (!(w = start(v, &spin, 1)))
        return;
    kt_sleep_ms(SMT_SETTLE_MS);
    k = sample(w, 2, WINDOW_MS, cpu);
    kt_work_stop(w);
    for (int j = 0; j < k; j++)
        if (cpu[0][j] >= 0 && cpu[1][j] >= 0) {
            valid++;
            shared += core[cpu[0][j]] == core[cpu[1][j]];
        }
    CLAIM_AS(v, "samples", valid, at_least, 10);
    CLAIM_AS(v, "smt_shared", valid ? (double)shared / valid : 1.0, at_most, SMT_SHARED_MAX);
    kt_verdict_note(v, "2 spinners on %d vCPUs (%u threads per core): on one core in %d of %d samples",
                    ctx->ncpus, ctx->topology.threads, shared, valid);
    kt_work_free(w);
}

/* A futex ping-pong pair stays in one LLC (the
 * wakee is placed near its waker, where its data is warm). */
KT_SCENARIO(llc_wake_affine, .vm = SHAPE, .timeout_s = 30,
            .purpose = "a waker and its wakee share an LLC")
{
    static int cpu[2][WINDOW_MS / SAMPLE_MS + 1];
    int llc[MAX_CPUS], k, same = 0, valid = 0;
    /* a pipe: its writer wakes the reader synchronously (WF_SYNC), the
     * hint a wakee should come near its waker; a futex wake has none, and
     * EEVDF then kept the pair in two LLCs in 3 of 10 runs here */
    kt_work_spec pp = { .kind = KT_WORK_PINGPONG, .count = 1, .wake = KT_WAKE_PIPE };
    kt_work *w;

    if (!CLAIM_AS(v, "llcs", ctx->topology.llcs, at_least, 2))
        return;
    group_of("/sys/devices/system/cpu/cpu%d/cache/index3/shared_cpu_list", ctx->ncpus, llc);
    if (!(w = start(v, &pp, 1)))
        return;
    kt_sleep_ms(WARMUP_MS);
    k = sample(w, 2, WINDOW_MS, cpu);
    kt_work_stop(w);
    for (int j = 0; j < k; j++)
        if (cpu[0][j] >= 0 && cpu[1][j] >= 0) {
            valid++;
            same += llc[cpu[0][j]] == llc[cpu[1][j]];
        }
    CLAIM_AS(v, "samples", valid, at_least, 10);
    CLAIM_AS(v, "same_llc", valid ? (double)same / valid : 0.0, at_least, SAME_LLC_MIN);
    kt_verdict_note(v, "ping-pong pair in one LLC in %d of %d samples", same, valid);
    kt_work_free(w);
}

/* Two cache-heavy workers, an LLC's worth of CPUs each, rarely cross
 * between LLCs (a move leaves a warm cache behind). */
KT_SCENARIO(llc_cache_stays, .vm = SHAPE, .timeout_s = 30,
            .purpose = "cache-heavy workers with an LLC each rarely cross between LLCs")
{
    int llc[MAX_CPUS];

    if (!CLAIM_AS(v, "llcs", ctx->topology.llcs, at_least, 2))
        return;
    group_of("/sys/devices/system/cpu/cpu%d/cache/index3/shared_cpu_list", ctx->ncpus, llc);
    stays_home(v, llc, "LLC", "cross_llc_per_s_worst");
}

/* Two cache-heavy workers, a node's worth of CPUs each, rarely cross
 * between nodes. */
KT_SCENARIO(numa_stays_home, .vm = SHAPE, .timeout_s = 30,
            .purpose = "cache-heavy workers with a node each rarely cross between NUMA nodes")
{
    int node[MAX_CPUS];

    if (!CLAIM_AS(v, "numa_nodes", ctx->topology.numa_nodes, at_least, 2))
        return;
    node_of(ctx->ncpus, node);
    stays_home(v, node, "node", "cross_node_per_s_worst");
}

/* A spinner per vCPU: the last vCPU goes offline at 400 ms and comes
 * back at 1000 ms. While it is away nobody runs there and no spinner gets
 * stuck (longest gap); once back, it is used again. */
KT_SCENARIO(vcpu_hotplug, .vm = SHAPE, .timeout_s = 30,
            .purpose = "a vCPU unplugged and replugged mid-run: tasks leave it, none stuck, it is used again")
{
    enum { OFF_MS = 400, ON_MS = 1000, END_MS = 1600 };
    int n = ctx->ncpus > MAX_WORKERS ? MAX_WORKERS : ctx->ncpus, last = ctx->ncpus - 1;
    kt_work_spec spin = { .kind = KT_WORK_SPIN, .count = (unsigned)n };
    kt_change plan[] = {
        { .at_ms = OFF_MS, .op = KT_CHANGE_CPU_OFFLINE, .cpu = last },
        { .at_ms = ON_MS, .op = KT_CHANGE_CPU_ONLINE, .cpu = last },
    };
    kt_changes_env env = { 0 };
    kt_changes *c = NULL;
    kt_cpuset away = { 0 }, back = { 0 }, gone = { 0 };
    uint64_t t0;
    kt_err err = { 0 };
    kt_work *w;

    if (!CLAIM_AS(v, "guest_cpus", ctx->ncpus, at_least, 2))
        return;
    if (!(w = start(v, &spin, 1)))
        return;
    kt_sleep_ms(WARMUP_MS);
    env.work = w;
    c = kt_changes_start(&env, plan, 2, &err);
    if (!CLAIM_OK(v, "ops", c ? NULL : err.msg))
        goto out;
    t0 = kt_changes_start_ns(c);
    while (kt_now_ns() < t0 + (uint64_t)END_MS * 1000000u) {
        uint64_t now = kt_now_ns(), at_off = kt_changes_at_ns(c, 0), at_on = kt_changes_at_ns(c, 1);

        for (int i = 0; i < n; i++) {
            int cp = kt_thread_last_cpu(kt_work_tid(w, (size_t)i));

            if (cp < 0)
                continue;
            /* away: after the unplug returned and before the replug began */
            if (at_off && !at_on && now > at_off + 20 * 1000000u && now < t0 + ON_MS * 1000000u)
                kt_cpuset_add(&away, cp);
            if (at_on && now > at_on + 200 * 1000000u)
                kt_cpuset_add(&back, cp);
        }
        kt_sleep_ms(SAMPLE_MS);
    }
    kt_changes_wait(c);
    kt_work_stop(w);
    kt_changes_claim(c, v);
    kt_ctx_changes(ctx, c);
    kt_cpuset_add(&gone, last);
    if (kt_changes_at_ns(c, 0) && kt_changes_at_ns(c, 1)) {
        bool was;

        CLAIM_CPUS_AS(v, "cpus_while_away", away, disjoint_from, gone);
        CLAIM_CPUS_AS(v, "cpus_after_back", back, contains, gone);
        was = kt_verdict_timing(v, true);
        for (int i = 0; i < n; i++) {
            kt_work_result r;
            char label[32];

            kt_work_get(w, (size_t)i, &r, NULL);
            snprintf(label, sizeof(label), "ktw%d.max_gap_ms", i);
            CLAIM_AS(v, label, r.max_gap_ns / 1e6, at_most, HOTPLUG_GAP_MAX_MS);
        }
        kt_verdict_timing(v, was);
    }
    kt_verdict_note(v, "%d spinners on %d vCPUs; vCPU %d off at %d ms, on at %d ms", n,
                    ctx->ncpus, last, OFF_MS, ON_MS);
out:
    kt_changes_free(c);
    kt_work_free(w);
}

KT_MAIN()
