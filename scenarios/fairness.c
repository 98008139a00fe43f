/* Fairness: CFS/EEVDF hands equal tasks equal CPU, nice levels and cgroup
 * weights in the ratio of the kernel's load weights, and keeps CPUs busy
 * while there is work.
 *
 * Every scenario measures over a window that starts WARMUP_MS after the
 * workers are released (thread start-up and the first load balancing are
 * left out) and lasts WINDOW_MS; CPU time is each worker's own CPU clock
 * read at both ends of the window. */
#include <ktstr.h>

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define WARMUP_MS 300
#define WINDOW_MS 1500
#define MAX_WORKERS 512

/* The kernel's sched_prio_to_weight[] entries the scenarios rely on. */
#define WEIGHT_NICE0 1024.0
#define WEIGHT_NICE5 335.0
#define WEIGHT_NICE10 110.0

/* calibration: share_spread; idle n=10 min 0.0171 p50 0.115 max 0.721; loaded n=10 min 0.0192 p50 0.103 max 0.542; threshold 0.9 (1.25x the worst seen; the worst runs overlapped other developers' SCHED_FIFO hogs on this shared machine; one spinner at nice 19 gives 1.3-1.9) */
#define SPREAD_MAX 0.9
/* calibration: jain; idle n=10 min 0.888 p50 0.998 max 1; loaded n=10 min 0.952 p50 0.998 max 1; threshold 0.85 (just under the worst seen, which overlapped an outside SCHED_FIFO hog; the sensitivity fault gives about 0.7) */
#define JAIN_MIN 0.85
/* calibration: cpu_idle_max; idle n=10 min 0 p50 0 max 0; loaded n=10 min 0 p50 0 max 0; threshold 0.1 (150 ms idle in a 1.5 s window while spinners wait; /proc/stat resolves 10 ms) */
#define IDLE_MAX 0.1
/* calibration: ratio_nice5; idle n=10 min 2.945 p50 3.045 max 3.12; loaded n=10 min 2.961 p50 3.034 max 3.253; threshold 3.06 +/- 0.6 (3x the worst deviation seen, 0.196) */
#define NICE5_TOL 0.6
/* calibration: ratio_nice10; idle n=10 min 8.592 p50 9.194 max 10.13; loaded n=10 min 6.899 p50 8.781 max 10.3; threshold 9.31 +/- 6 (2.5x the worst deviation seen, 2.41: the nice-10 side gets only ~0.14 s) */
#define NICE10_TOL 6.0
/* calibration: cgroup_ratio; idle n=10 min 2.994 p50 3.019 max 3.044; loaded n=10 min 2.99 p50 3.018 max 3.044; threshold 3 +/- 0.3 (7x the worst deviation seen, 0.044) */
#define CGROUP_TOL 0.3

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

    while (nanosleep(&ts, &ts) != 0)
        ;
}

/* The k-th CPU (0-based, modulo the count) of this process's affinity
 * mask, so a scenario pins only to CPUs it may use. -1 on failure. */
static int nth_allowed_cpu(int k)
{
    cpu_set_t set;
    int n, c, seen = 0;

    if (sched_getaffinity(0, sizeof(set), &set) != 0)
        return -1;
    n = CPU_COUNT(&set);
    if (n == 0)
        return -1;
    k %= n;
    for (c = 0; c < CPU_SETSIZE; c++) {
        if (CPU_ISSET(c, &set) && seen++ == k)
            return c;
    }
    return -1;
}

/* CPU time of every worker now. */
static void cpu_snapshot(const kt_work *w, uint64_t *out)
{
    size_t i, n = kt_work_count(w);

    for (i = 0; i < n; i++)
        out[i] = kt_work_cpu_ns(w, i);
}

/* Starts w, skips the warm-up and measures each worker's CPU time over the
 * window into used[] (seconds). Returns the window's wall time in seconds,
 * or -1 with a skip recorded. */
static double run_window(kt_work *w, kt_verdict *v, double *used)
{
    uint64_t before[MAX_WORKERS], after[MAX_WORKERS], t0, t1;
    size_t i, n = kt_work_count(w);
    kt_err err;

    if (kt_work_start(w, &err) != 0) {
        kt_verdict_skip(v, "%s", err.msg);
        return -1.0;
    }
    sleep_ms(WARMUP_MS);
    t0 = kt_now_ns();
    cpu_snapshot(w, before);
    sleep_ms(WINDOW_MS);
    cpu_snapshot(w, after);
    t1 = kt_now_ns();
    kt_work_stop(w);
    for (i = 0; i < n; i++)
        used[i] = (double)(after[i] - before[i]) / 1e9;
    return (double)(t1 - t0) / 1e9;
}

/* Largest idle fraction of any CPU between two /proc/stat readings. */
static double max_idle_fraction(const kt_cpu_times *a, const kt_cpu_times *b, int n)
{
    double worst = 0.0;
    int c;

    for (c = 0; c < n; c++) {
        uint64_t idle, busy;
        double f;

        if (!a[c].present || !b[c].present)
            continue;
        idle = kt_cpu_idle_ns(&b[c]) - kt_cpu_idle_ns(&a[c]);
        busy = kt_cpu_busy_ns(&b[c]) - kt_cpu_busy_ns(&a[c]);
        if (idle + busy == 0)
            continue;
        f = (double)idle / (double)(idle + busy);
        if (f > worst)
            worst = f;
    }
    return worst;
}

/* 2 x ncpu equal spinners, free to go anywhere: each gets the same CPU
 * time (spread, Jain) and no CPU sits idle while they wait (work
 * conserving; outside load only lowers idle time, so this bound holds
 * on a busy machine too). */
KT_SCENARIO(fair_equal_hogs, .timeout_s = 20)
{
    enum { NCPU_MAX = 256 };
    kt_work_spec spec = { .kind = KT_WORK_SPIN };
    kt_cpu_times *a = NULL, *b = NULL;
    double used[MAX_WORKERS], wall, share_spread, jain, cpu_idle_max;
    kt_procstat ps = { .fd = -1 };
    uint64_t before[MAX_WORKERS], after[MAX_WORKERS], t0, t1;
    kt_summary s;
    kt_work *w = NULL;
    kt_err err;
    size_t i, n;
    int ncpu_lines;

    spec.count = (unsigned)(2 * ctx->ncpus);
    if (spec.count > MAX_WORKERS)
        spec.count = MAX_WORKERS;
    a = calloc(NCPU_MAX, sizeof(*a));
    b = calloc(NCPU_MAX, sizeof(*b));
    if (!a || !b) {
        kt_verdict_skip(v, "out of memory");
        goto out;
    }
    if (kt_procstat_open(&ps, &err) != 0) {
        kt_verdict_skip(v, "%s", err.msg);
        goto out;
    }
    w = kt_work_new(0, &err);
    if (!w || kt_work_add(w, &spec, &err) != 0 || kt_work_start(w, &err) != 0) {
        kt_verdict_skip(v, "%s", err.msg);
        goto out;
    }
    n = kt_work_count(w);
    sleep_ms(WARMUP_MS);
    t0 = kt_now_ns();
    cpu_snapshot(w, before);
    if (kt_procstat_read(&ps, a, NCPU_MAX, &err) < 0) {
        kt_verdict_skip(v, "%s", err.msg);
        goto out;
    }
    sleep_ms(WINDOW_MS);
    cpu_snapshot(w, after);
    ncpu_lines = kt_procstat_read(&ps, b, NCPU_MAX, &err);
    t1 = kt_now_ns();
    kt_work_stop(w);
    if (ncpu_lines < 0) {
        kt_verdict_skip(v, "%s", err.msg);
        goto out;
    }
    wall = (double)(t1 - t0) / 1e9;
    for (i = 0; i < n; i++)
        used[i] = (double)(after[i] - before[i]) / 1e9;
    if (kt_summarize(used, n, NULL, &s, &err) != 0) {
        kt_verdict_skip(v, "%s", err.msg);
        goto out;
    }
    cpu_idle_max = max_idle_fraction(a, b, ncpu_lines < NCPU_MAX ? ncpu_lines : NCPU_MAX);
    kt_verdict_note(v, "%zu spinners on %d CPUs over %.2f s: CPU s min %.3f mean %.3f max %.3f",
                    n, ctx->ncpus, wall, s.min, s.mean, s.max);
    kt_verdict_note(v, "spread %.3f, Jain %.4f, spinners used %.1f%% of the CPUs, "
                    "the idlest CPU was idle %.1f%%", s.spread, s.jain,
                    100.0 * s.mean * (double)n / ((double)ctx->ncpus * wall), 100.0 * cpu_idle_max);
    share_spread = s.spread;
    jain = s.jain;
    CLAIM(v, share_spread, at_most, SPREAD_MAX);
    CLAIM(v, jain, at_least, JAIN_MIN);
    CLAIM(v, cpu_idle_max, at_most, IDLE_MAX);
out:
    kt_work_free(w);
    if (ps.fd >= 0)
        kt_procstat_close(&ps);
    free(a);
    free(b);
}

/* Adds one spinner at a nice level, pinned to cpu. */
static int add_spinner(kt_work *w, int cpu, int nice, kt_cgroup *g, kt_err *err)
{
    char cpus[16];
    kt_work_spec spec = { .kind = KT_WORK_SPIN, .count = 1, .cpus = cpus,
                          .set_nice = true, .nice = nice, .cgroup = g,
                          .process = g != NULL };

    snprintf(cpus, sizeof(cpus), "%d", cpu);
    return kt_work_add(w, &spec, err);
}

/* Two pairs, each pinned together on one CPU: nice 0 with nice 5 (ktw0,
 * ktw1) and nice 0 with nice 10 (ktw2, ktw3). Within a pair CPU time
 * follows the load-weight table, whatever else runs on that CPU. */
KT_SCENARIO(fair_nice_weights, .timeout_s = 20)
{
    double used[4], wall, ratio_nice5, ratio_nice10;
    int cpu_a = nth_allowed_cpu(0), cpu_b = nth_allowed_cpu(1);
    kt_work *w;
    kt_err err;

    if (cpu_a < 0 || cpu_b < 0) {
        kt_verdict_skip(v, "sched_getaffinity failed");
        return;
    }
    w = kt_work_new(0, &err);
    if (!w || add_spinner(w, cpu_a, 0, NULL, &err) || add_spinner(w, cpu_a, 5, NULL, &err) ||
        add_spinner(w, cpu_b, 0, NULL, &err) || add_spinner(w, cpu_b, 10, NULL, &err)) {
        kt_verdict_skip(v, "%s", err.msg);
        kt_work_free(w);
        return;
    }
    wall = run_window(w, v, used);
    kt_work_free(w);
    if (wall < 0)
        return;
    ratio_nice5 = used[1] > 0 ? used[0] / used[1] : 1e9;
    ratio_nice10 = used[3] > 0 ? used[2] / used[3] : 1e9;
    kt_verdict_note(v, "CPU %d: nice 0 %.3f s, nice 5 %.3f s, ratio %.3f (weights %.0f:%.0f = %.3f)",
                    cpu_a, used[0], used[1], ratio_nice5, WEIGHT_NICE0, WEIGHT_NICE5,
                    WEIGHT_NICE0 / WEIGHT_NICE5);
    kt_verdict_note(v, "CPU %d: nice 0 %.3f s, nice 10 %.3f s, ratio %.3f (weights %.0f:%.0f = %.3f)",
                    cpu_b, used[2], used[3], ratio_nice10, WEIGHT_NICE0, WEIGHT_NICE10,
                    WEIGHT_NICE0 / WEIGHT_NICE10);
    CLAIM(v, ratio_nice5, near, WEIGHT_NICE0 / WEIGHT_NICE5, NICE5_TOL);
    CLAIM(v, ratio_nice10, near, WEIGHT_NICE0 / WEIGHT_NICE10, NICE10_TOL);
}

/* Two groups weighted 1 : 3 (cpu.weight 100 and 300), one spinner each
 * (ktw0 in fairlight, ktw1 in fairheavy), both pinned to one CPU: CPU
 * time in the ratio of the weights. Process workers, so it works on
 * cgroup v2 (whole processes) as on v1. */
KT_SCENARIO(fair_cgroup_weights, .timeout_s = 20, .needs_root = true)
{
    double used[2], wall, cgroup_ratio;
    int cpu = nth_allowed_cpu(0);
    kt_cgroup *light = NULL, *heavy = NULL;
    kt_work *w = NULL;
    kt_err err;

    if (cpu < 0) {
        kt_verdict_skip(v, "sched_getaffinity failed");
        return;
    }
    light = kt_cgroup_create(ctx, "fairlight", &err);
    if (light)
        heavy = kt_cgroup_create(ctx, "fairheavy", &err);
    if (!light || !heavy || kt_cgroup_set_weight(light, 100, &err) ||
        kt_cgroup_set_weight(heavy, 300, &err)) {
        kt_verdict_skip(v, "%s", err.msg);
        goto out;
    }
    w = kt_work_new(0, &err);
    if (!w || add_spinner(w, cpu, 0, light, &err) || add_spinner(w, cpu, 0, heavy, &err)) {
        kt_verdict_skip(v, "%s", err.msg);
        goto out;
    }
    wall = run_window(w, v, used);
    if (wall < 0)
        goto out;
    cgroup_ratio = used[0] > 0 ? used[1] / used[0] : 1e9;
    kt_verdict_note(v, "CPU %d over %.2f s: weight 100 group %.3f s, weight 300 group %.3f s, "
                    "ratio %.3f (cgroup v%d)", cpu, wall, used[0], used[1], cgroup_ratio,
                    (int)kt_cgroup_version(light));
    CLAIM(v, cgroup_ratio, near, 3.0, CGROUP_TOL);
out:
    kt_work_free(w);
    kt_cgroup_destroy(heavy, &err);
    kt_cgroup_destroy(light, &err);
}

KT_MAIN()
