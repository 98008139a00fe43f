/* Cgroups: weights nest (a group's share splits among its children by
 * theirs), a CFS bandwidth cap holds a group to its quota, and CPUs do
 * not idle while tasks wait (work conservation, the ground the other two
 * stand on; it needs no cgroup).
 *
 * Every scenario measures over a window that starts WARMUP_MS after the
 * workers are released and lasts WINDOW_MS; CPU time is each worker's
 * own CPU clock read at both ends of the window and every INTERVAL_MS in
 * between (ktw<N>.share, a share of a CPU per interval, handed to the
 * runner for the artifacts' plot). Workers in groups are processes, so
 * that the scenarios run on cgroup v2 (whole processes) as on v1. */
/* calibration, measured alone here on 2026-12-07 (2 CPUs, Linux 6.18):
 * 10 catalog runs idle and 10 under stress-ng --cpu 1, n / min / p50 /
 * max of each claim (ktw*: every worker counted), and the margin the
 * worst value leaves (README: Calibration). The figures beside each
 * bound below marked provisional were the first look, on a shared
 * machine; these are the ones that count.
 * cg_nested_weights groups_cpu_share at_least 0.25: idle 10 / 0.9985 / 0.9991 / 0.9998; stress 10 / 0.9952 / 0.9995 / 0.9998; margin 3.98x
 * cg_nested_weights nested_ratio each_between [1.5, 8]: idle 10 / 2.658 / 2.8 / 2.801; stress 10 / 2.71 / 2.791 / 2.887; margin n/a
 * cg_nested_weights nested_ratio near 3 (+/-0.3): idle 10 / 2.98 / 3.012 / 3.087; stress 10 / 2.96 / 2.998 / 3.082; margin 71% of tol left
 * cg_nested_weights top_ratio each_between [0.5, 2]: idle 10 / 0.9541 / 0.9738 / 0.9747; stress 10 / 0.9729 / 0.9788 / 0.9984; margin n/a
 * cg_nested_weights top_ratio near 1 (+/-0.25): idle 10 / 0.9951 / 0.9999 / 1.007; stress 10 / 0.9969 / 1.002 / 1.005; margin 97% of tol left
 * cg_bandwidth_max cap_used at_least 0.35: idle 10 / 0.999 / 1.001 / 1.005; stress 10 / 0.9958 / 0.9993 / 1.003; margin 2.85x
 * cg_bandwidth_max group_cpu_share at_most 0.6: idle 10 / 0.4995 / 0.5003 / 0.5027; stress 10 / 0.4979 / 0.4997 / 0.5013; margin 1.19x
 * cg_work_conserving cpu*.idle at_most 0.05: idle 20 / 0 / 0 / 0; stress 20 / 0 / 0 / 0; margin inf
 */
#include <ktstr.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WARMUP_MS 300
#define WINDOW_MS 1500
#define INTERVAL_MS 100
#define RATIO_INTERVALS 3        /* ratios over 300 ms */
#define MAX_WORKERS 512
#define NCPU_MAX 1024

/* A ratio of CPU times means something only over CPU time enough for
 * several slices: windows in which the host left the workers compared
 * less than this share of a CPU are left out of the ratio series, and a
 * window-wide ratio whose workers got less is not judged (the timing
 * claim *_cpu_share, at least this, fails instead: README, On a busy
 * machine). As in scenarios/fairness.c. */
#define RATIO_CPU_MIN 0.25

/* Calibration here is provisional (shared machine). "idle" and "loaded"
 * (stress-ng --cpu 1) are n=5 runs each while the machine was otherwise
 * quiet (foreign_load under 0.1 idle); "shared" are runs beside other
 * helpers' tests, which took 1.0-1.9 of the 2 CPUs (idle n=10, with
 * stress-ng n=5). Margins are against the worst of all of them.
 *
 * cg_nested_weights: A and B weighted alike, A's children A1 : A2 = 3 : 1.
 * provisional (shared machine): calibration: top_ratio; idle n=5 min 0.9930 p50 0.9988 max 1.0054; loaded (stress-ng --cpu 1) n=5 min 0.9946 p50 1.0001 max 1.0026; shared idle n=10 0.9915 / 0.9994 / 1.0022, loaded n=5 1.0003 / 1.0024 / 1.0043; threshold 1 +/- 0.25 (29x the worst deviation, 0.0085; the fault leaves it at ~1: it moves a task inside A) */
#define TOP_TOL 0.25
/* provisional (shared machine): calibration: nested_ratio; idle n=5 min 2.985 p50 3.030 max 3.085; loaded (stress-ng --cpu 1) n=5 min 2.971 p50 3.007 max 3.065; shared idle n=10 2.973 / 3.017 / 3.080, loaded n=5 2.993 / 3.027 / 3.065; threshold 3 +/- 0.3 (3.5x the worst deviation, 0.085; v1's shares make it 7841 : 2598 = 3.018; moving A1's spinner into A2 gives 0.996-1.017) */
#define NESTED_TOL 0.3
/* provisional (shared machine): calibration (series, every 300 ms: the worst window of each run, min / p50 / max): top_ratio
 * idle 0.966 / 0.973 / 0.974, loaded 0.973 / 0.993 / 0.999, shared
 * 0.968 / 0.977 / 0.998 (bounds 0.5 and 2: 14x the worst deviation);
 * nested_ratio idle 2.672 / 2.798 / 2.801, loaded 2.584 / 2.837 / 2.957,
 * shared 2.630 / 2.86 / 2.999 (low bound 1.5: 3.6x the worst deviation,
 * 0.416; the fault gives ~1).
 * A / B and A1 / A2 over every 300 ms (1 and 3 over the window) */
#define INTERVAL_TOP_LO 0.5
#define INTERVAL_TOP_HI 2.0
#define INTERVAL_NESTED_LO 1.5
#define INTERVAL_NESTED_HI 8.0

/* cg_bandwidth_max: 50 ms of CPU time per 100 ms period, half a CPU. */
#define QUOTA_US 50000u
#define PERIOD_US 100000u
#define CAP_SHARE ((double)QUOTA_US / (double)PERIOD_US)
/* A window of 1.5 s touches up to 16 periods: 0.8 s of quota, 0.533 of a
 * CPU, before the few ms a CPU may overrun its slice by (repaid in the
 * next period). The tolerance: the cap + 20%.
 * provisional (shared machine): calibration: group_cpu_share; idle n=5 min 0.498 p50 0.4999 max 0.5014; loaded (stress-ng --cpu 1) n=5 min 0.499 p50 0.5005 max 0.5014; shared idle n=9 0.357 / 0.496 / 0.510, loaded n=5 0.361 / 0.486 / 0.493; threshold 0.6 (the worst seen 0.010 over the cap, the bound 0.1 over it: 10x; the cap lifted for ~1.1 s of the window gives 1.64-1.65, 0.84-0.92 beside the others' load) */
#define CAP_SHARE_MAX 0.6
/* provisional (shared machine): calibration: cap_used; idle n=5 min 0.996 p50 0.9999 max 1.003; loaded (stress-ng --cpu 1) n=5 min 0.998 p50 1.001 max 1.003; shared idle n=9 0.713 / 0.992 / 1.020, loaded n=5 0.722 / 0.971 / 0.986; threshold 0.35 (2.0x below the worst seen; one more shared run, starved at foreign_load 1.92, read 0.13: inconclusive) */
#define CAP_USED_MIN 0.35

/* cg_work_conserving: no allowed CPU idle more than this share of the
 * window while 2 spinners per CPU wait (75 ms of 1.5 s; /proc/stat
 * resolves 10 ms, so this is 7 ticks; outside load only lowers idle
 * time, so the bound holds on a busy machine too).
 * provisional (shared machine): calibration: cpu<N>.idle (the worst CPU of each run); idle n=5 min 0 p50 0 max 0; loaded (stress-ng --cpu 1) n=5 min 0 p50 0 max 0; shared idle n=10 0 / 0 / 0.0066, loaded n=5 0 / 0 / 0; threshold 0.05 (7.5x the worst seen; every spinner pinned to one CPU leaves the other idle 0.993-1 on a quiet machine, and busy with the others' work beside them) */
#define IDLE_MAX 0.05

/* ---- measuring ----------------------------------------------------------- */

/* Each worker's share of a CPU per interval (ktw<N>.share) and, when
 * cpus is set, each of those CPUs' idle share per interval (cpu<N>.idle)
 * and its times at both ends of the window. */
typedef struct probe {
    kt_series *share[MAX_WORKERS];
    size_t n;
    /* per CPU, only when ncpus > 0 */
    int ncpus, cpus[NCPU_MAX];
    kt_procstat ps;
    kt_cpu_times first[NCPU_MAX], prev[NCPU_MAX], cur[NCPU_MAX];
    kt_series *idle[NCPU_MAX];
} probe;

static void probe_free(probe *p)
{
    for (size_t i = 0; i < p->n; i++)
        kt_series_free(p->share[i]);
    for (int c = 0; c < p->ncpus; c++)
        kt_series_free(p->idle[c]);
    if (p->ncpus > 0)
        kt_procstat_close(&p->ps);
    free(p);
}

/* The idle share of one CPU between two readings; NAN when it had no
 * line or no tick passed. */
static double idle_share(const kt_cpu_times *a, const kt_cpu_times *b)
{
    uint64_t idle, busy;

    if (!a->present || !b->present)
        return NAN;
    idle = kt_cpu_idle_ns(b) - kt_cpu_idle_ns(a);
    busy = kt_cpu_busy_ns(b) - kt_cpu_busy_ns(a);
    return idle + busy ? (double)idle / (double)(idle + busy) : NAN;
}

/* Starts w, skips the warm-up and measures each worker's CPU time over
 * the window into used[] (seconds), and the probe's series (p->ncpus
 * CPUs of p->cpus followed, p->ps open, when p->ncpus > 0). Returns the
 * window's wall time in seconds, or -1 with a skip recorded. */
static double run_window(kt_work *w, kt_verdict *v, double *used, probe *p)
{
    uint64_t c0[MAX_WORKERS], prev[MAX_WORKERS], t0, tprev, now, end, interval;
    size_t n = kt_work_count(w);
    kt_err err;
    int bad = 0;

    if (kt_work_start(w, &err) != 0) {
        kt_verdict_skip(v, "%s", err.msg);
        return -1.0;
    }
    for (size_t i = 0; i < n; i++) {
        char label[32];

        snprintf(label, sizeof(label), "ktw%zu.share", i);
        p->share[i] = kt_series_new(label);
    }
    p->n = n;
    for (int c = 0; c < p->ncpus; c++) {
        char label[32];

        snprintf(label, sizeof(label), "cpu%d.idle", p->cpus[c]);
        p->idle[c] = kt_series_new(label);
    }
    kt_sleep_ms(WARMUP_MS);
    t0 = tprev = kt_now_ns();
    end = t0 + (uint64_t)WINDOW_MS * 1000000u;
    interval = (uint64_t)INTERVAL_MS * 1000000u;
    for (size_t i = 0; i < n; i++)
        c0[i] = prev[i] = kt_work_cpu_ns(w, i);
    if (p->ncpus > 0 && kt_procstat_read(&p->ps, p->first, NCPU_MAX, &err) < 0)
        bad = 1;
    memcpy(p->prev, p->first, sizeof(p->prev));
    while ((now = kt_now_ns()) < end) {
        uint64_t left_ms = (end - now + 999999u) / 1000000u;

        kt_sleep_ms(left_ms < INTERVAL_MS ? (unsigned)left_ms : INTERVAL_MS);
        now = kt_now_ns();
        if (!kt_interval_over(tprev, now, end, interval))
            continue;         /* a sliver at the end says nothing of a share */
        for (size_t i = 0; i < n; i++) {
            uint64_t c = kt_work_cpu_ns(w, i);

            kt_series_add(p->share[i], now, (double)(c - prev[i]) / (double)(now - tprev));
            prev[i] = c;
        }
        if (p->ncpus > 0 && !bad) {
            if (kt_procstat_read(&p->ps, p->cur, NCPU_MAX, &err) < 0) {
                bad = 1;
                continue;
            }
            for (int c = 0; c < p->ncpus; c++) {
                double f = idle_share(&p->prev[p->cpus[c]], &p->cur[p->cpus[c]]);

                if (!isnan(f))
                    kt_series_add(p->idle[c], now, f);
            }
            memcpy(p->prev, p->cur, sizeof(p->prev));
        }
        tprev = now;
    }
    for (size_t i = 0; i < n; i++)
        used[i] = (double)(kt_work_cpu_ns(w, i) - c0[i]) / 1e9;
    now = kt_now_ns();
    if (p->ncpus > 0 && !bad && kt_procstat_read(&p->ps, p->cur, NCPU_MAX, &err) < 0)
        bad = 1;
    kt_work_stop(w);
    if (bad) {
        kt_verdict_skip(v, "%s", err.msg);
        return -1.0;
    }
    return (double)(now - t0) / 1e9;
}

/* The sum of the share series of workers idx[0..k) per interval, as a
 * group's share of a CPU (label). */
static kt_series *group_share(const char *label, const probe *p, const size_t *idx, size_t k)
{
    kt_series *g = kt_series_new(label);
    size_t n = p->share[idx[0]] ? kt_series_count(p->share[idx[0]]) : 0;

    for (size_t j = 1; j < k; j++)
        if (!p->share[idx[j]] || kt_series_count(p->share[idx[j]]) < n)
            n = p->share[idx[j]] ? kt_series_count(p->share[idx[j]]) : 0;
    for (size_t t = 0; g && t < n; t++) {
        double sum = 0.0;

        for (size_t j = 0; j < k; j++)
            sum += kt_series_values(p->share[idx[j]])[t];
        kt_series_add(g, kt_series_times(p->share[idx[0]])[t], sum);
    }
    return g;
}

/* The ratio of two share series' CPU time over every RATIO_INTERVALS
 * consecutive intervals, stamped at the last of them; windows where the
 * two together got less than min_share of a CPU are left out and counted
 * in *starved (scenarios/fairness.c's ratio_series, with the floor
 * scaled to what the pair gets alone: RATIO_CPU_MIN x its fair share). */
static kt_series *ratio_series(const char *label, const kt_series *num, const kt_series *den,
                               double min_share, unsigned *starved)
{
    kt_series *r = kt_series_new(label);
    size_t n = num && den ? kt_series_count(num) : 0;
    const double *a, *b;
    const uint64_t *t;
    uint64_t prev;

    if (den && kt_series_count(den) < n)
        n = kt_series_count(den);
    if (!r || n < 2)
        return r;
    a = kt_series_values(num);
    b = kt_series_values(den);
    t = kt_series_times(num);
    prev = t[0] - (t[1] - t[0]);
    for (size_t i = 0; i + RATIO_INTERVALS <= n; i += RATIO_INTERVALS) {
        double x = 0, y = 0;

        for (size_t k = i; k < i + RATIO_INTERVALS; k++) {
            double dt = (double)(t[k] - (k ? t[k - 1] : prev));

            x += a[k] * dt;
            y += b[k] * dt;
        }
        if (x + y < min_share * (double)(t[i + RATIO_INTERVALS - 1] - (i ? t[i - 1] : prev))) {
            ++*starved;
            continue;
        }
        kt_series_add(r, t[i + RATIO_INTERVALS - 1], y > 0 ? x / y : INFINITY);
    }
    return r;
}

/* A share the host may take away, as a timing claim; returns whether it
 * held (the ratios that need it are judged only then). */
static bool fed(kt_verdict *v, const char *label, double share)
{
    bool was = kt_verdict_timing(v, true);
    bool ok = CLAIM_AS(v, label, share, at_least, RATIO_CPU_MIN);

    kt_verdict_timing(v, was);
    return ok;
}

/* Judges a ratio series unless the host left too few of its windows
 * (then a note says so: a starved pair is never a wrong ratio). */
static void claim_ratios(kt_verdict *v, const kt_series *r, double min_share, unsigned starved,
                         double lo, double hi)
{
    if (starved)
        kt_verdict_note(v, "%s: %u windows left out: the pair got under %.3f of a CPU "
                        "(host starvation, not a ratio)", kt_series_label(r), starved, min_share);
    if (r && kt_series_count(r) < 2)
        kt_verdict_note(v, "%s: %zu windows left: not judged", kt_series_label(r),
                        kt_series_count(r));
    else
        CLAIM_SERIES(v, r, each_between, lo, hi);
}

/* Adds one spinner in group g (NULL: none), on cpus (NULL: anywhere). */
static int add_spinner(kt_work *w, kt_cgroup *g, const char *cpus, kt_err *err)
{
    kt_work_spec spec = { .kind = KT_WORK_SPIN, .count = 1, .cpus = cpus, .cgroup = g,
                          .process = true };

    return kt_work_add(w, &spec, err);
}

/* ---- scenarios ----------------------------------------------------------- */

/* Two top groups A and B, weight 100 each; A holds A1 (weight 300) and
 * A2 (weight 100). One spinner per leaf, all on one CPU: ktw0 in A1,
 * ktw1 in A2, ktw2 in B. A's children together get what B gets (1 : 1),
 * and split it 3 : 1. */
KT_SCENARIO(cg_nested_weights, .timeout_s = 20, .needs_root = true,
            .purpose = "nested cgroups: A and B share a CPU 1:1, A's children split A's half 3:1")
{
    static const size_t a_idx[] = { 0, 1 }, b_idx[] = { 2 };
    kt_cg_hooks hooks = { kt_ctx_rmdir_hook, ctx, kt_verdict_note_hook, v };
    kt_cgroup *a = NULL, *b = NULL, *a1 = NULL, *a2 = NULL;
    kt_series *ga = NULL, *gb = NULL, *top = NULL, *nested = NULL;
    double used[3], wall, top_ratio, nested_ratio;
    unsigned starved_top = 0, starved_nested = 0;
    int cpus[NCPU_MAX], n;
    char cpu[16];
    probe *p = calloc(1, sizeof(*p));
    kt_work *w = NULL;
    kt_err err;

    if (!p) {
        kt_verdict_skip(v, "out of memory");
        return;
    }
    /* the last allowed CPU: outside hogs and other tests favour CPU 0 */
    n = kt_allowed_cpus(cpus, NCPU_MAX, &err);
    if (n < 1) {
        kt_verdict_skip(v, "%s", err.msg);
        goto out;
    }
    snprintf(cpu, sizeof(cpu), "%d", cpus[n - 1]);
    if (!(a = kt_cgroup_create(&hooks, "nestA", &err)) ||
        !(b = kt_cgroup_create(&hooks, "nestB", &err)) ||
        !(a1 = kt_cgroup_create_in(a, &hooks, "a1", &err)) ||
        !(a2 = kt_cgroup_create_in(a, &hooks, "a2", &err)) ||
        kt_cgroup_set_weight(a, 100, &err) || kt_cgroup_set_weight(b, 100, &err) ||
        kt_cgroup_set_weight(a1, 300, &err) || kt_cgroup_set_weight(a2, 100, &err)) {
        kt_verdict_skip(v, "%s", err.msg);
        goto out;
    }
    w = kt_work_new(0, &err);
    if (!w || add_spinner(w, a1, cpu, &err) || add_spinner(w, a2, cpu, &err) ||
        add_spinner(w, b, cpu, &err)) {
        kt_verdict_skip(v, "%s", err.msg);
        goto out;
    }
    wall = run_window(w, v, used, p);
    if (wall < 0)
        goto out;
    top_ratio = used[2] > 0 ? (used[0] + used[1]) / used[2] : 1e9;
    nested_ratio = used[1] > 0 ? used[0] / used[1] : 1e9;
    kt_verdict_note(v, "CPU %s over %.2f s (cgroup v%d): A1 (weight 300) %.3f s, A2 (weight 100) "
                    "%.3f s, B %.3f s; A / B %.3f, A1 / A2 %.3f", cpu, wall,
                    (int)kt_cgroup_version(a), used[0], used[1], used[2], top_ratio, nested_ratio);
    ga = group_share("A.share", p, a_idx, 2);
    gb = group_share("B.share", p, b_idx, 1);
    /* A and B together get the CPU, A1 and A2 half of it */
    top = ratio_series("top_ratio", ga, gb, RATIO_CPU_MIN, &starved_top);
    nested = ratio_series("nested_ratio", p->share[0], p->share[1], RATIO_CPU_MIN / 2,
                          &starved_nested);
    if (fed(v, "groups_cpu_share", (used[0] + used[1] + used[2]) / wall)) {
        CLAIM(v, top_ratio, near, 1.0, TOP_TOL);
        CLAIM(v, nested_ratio, near, 3.0, NESTED_TOL);
        claim_ratios(v, top, RATIO_CPU_MIN, starved_top, INTERVAL_TOP_LO, INTERVAL_TOP_HI);
        claim_ratios(v, nested, RATIO_CPU_MIN / 2, starved_nested, INTERVAL_NESTED_LO,
                     INTERVAL_NESTED_HI);
    }
    for (size_t i = 0; i < p->n; i++)
        kt_ctx_series(ctx, p->share[i], "share of a CPU", NAN, NAN);
    kt_ctx_series(ctx, ga, "share of a CPU", NAN, NAN);
    kt_ctx_series(ctx, gb, "share of a CPU", NAN, NAN);
    kt_ctx_series(ctx, top, "ratio", INTERVAL_TOP_LO, INTERVAL_TOP_HI);
    kt_ctx_series(ctx, nested, "ratio", INTERVAL_NESTED_LO, INTERVAL_NESTED_HI);
out:
    kt_series_free(ga);
    kt_series_free(gb);
    kt_series_free(top);
    kt_series_free(nested);
    kt_work_free(w);
    kt_cgroup_destroy(a, &err);      /* a1 and a2 with it */
    kt_cgroup_destroy(b, &err);
    probe_free(p);
}

/* Reads the group's nr_throttled from its cpu.stat (both versions have
 * it); -1 when it cannot. */
static long nr_throttled(const kt_cgroup *g)
{
    char path[4200], buf[2048], *at;
    kt_err err;

    snprintf(path, sizeof(path), "%s/cpu.stat", kt_cgroup_path(g, KT_CG_QUOTA));
    if (kt_read_file(path, buf, sizeof(buf), &err) < 0 || !(at = strstr(buf, "nr_throttled ")))
        return -1;
    return strtol(at + strlen("nr_throttled "), NULL, 10);
}

/* One group capped at QUOTA_US per PERIOD_US (half a CPU) holding two
 * spinners free to run on any CPU: together they get no more than the
 * cap over the window (a host can starve a task but never give it more:
 * not a timing claim), and most of it (a timing claim). */
KT_SCENARIO(cg_bandwidth_max, .timeout_s = 20, .needs_root = true, .min_cpus = 2,
            .purpose = "a cgroup capped at half a CPU gets at most half a CPU, and most of it")
{
    kt_cg_hooks hooks = { kt_ctx_rmdir_hook, ctx, kt_verdict_note_hook, v };
    kt_cgroup *g = NULL;
    kt_series *gs = NULL;
    double used[2], wall, group_cpu_share, cap_used;
    static const size_t idx[] = { 0, 1 };
    long thr0 = -1, thr1 = -1;
    probe *p = calloc(1, sizeof(*p));
    kt_work *w = NULL;
    kt_err err;
    bool was;

    if (!p) {
        kt_verdict_skip(v, "out of memory");
        return;
    }
    if (!(g = kt_cgroup_create(&hooks, "capped", &err)) ||
        kt_cgroup_set_max(g, QUOTA_US, PERIOD_US, &err)) {
        kt_verdict_skip(v, "%s", err.msg);
        goto out;
    }
    w = kt_work_new(0, &err);
    if (!w || add_spinner(w, g, NULL, &err) || add_spinner(w, g, NULL, &err)) {
        kt_verdict_skip(v, "%s", err.msg);
        goto out;
    }
    thr0 = nr_throttled(g);
    wall = run_window(w, v, used, p);
    if (wall < 0)
        goto out;
    thr1 = nr_throttled(g);
    group_cpu_share = (used[0] + used[1]) / wall;
    cap_used = group_cpu_share / CAP_SHARE;
    kt_verdict_note(v, "cap %u us per %u us (%.2f of a CPU, cgroup v%d) on %d CPUs: over %.2f s "
                    "the spinners got %.3f s and %.3f s, %.3f of a CPU (%.0f%% of the cap)",
                    QUOTA_US, PERIOD_US, CAP_SHARE, (int)kt_cgroup_version(g), ctx->ncpus, wall,
                    used[0], used[1], group_cpu_share, 100.0 * cap_used);
    if (thr0 >= 0 && thr1 >= thr0)
        kt_verdict_note(v, "throttled in %ld periods of the warm-up and the window (cpu.stat "
                        "nr_throttled)", thr1 - thr0);
    CLAIM(v, group_cpu_share, at_most, CAP_SHARE_MAX);
    was = kt_verdict_timing(v, true);
    CLAIM(v, cap_used, at_least, CAP_USED_MIN);
    kt_verdict_timing(v, was);
    gs = group_share("group.share", p, idx, 2);
    for (size_t i = 0; i < p->n; i++)
        kt_ctx_series(ctx, p->share[i], "share of a CPU", NAN, NAN);
    kt_ctx_series(ctx, gs, "share of a CPU", NAN, NAN);
out:
    kt_series_free(gs);
    kt_work_free(w);
    kt_cgroup_destroy(g, &err);
    probe_free(p);
}

/* 2 x ncpu spinners free to run anywhere: while they wait, none of the
 * CPUs this process may use stays idle beyond IDLE_MAX of the window
 * (per-CPU idle time from /proc/stat). No cgroup: the other two stand on
 * this. */
KT_SCENARIO(cg_work_conserving, .timeout_s = 20,
            .purpose = "no allowed CPU idles while spinners wait")
{
    double used[MAX_WORKERS], wall, total = 0.0;
    probe *p = calloc(1, sizeof(*p));
    kt_work_spec spec = { .kind = KT_WORK_SPIN };
    kt_work *w = NULL;
    kt_err err;
    size_t n;

    if (!p) {
        kt_verdict_skip(v, "out of memory");
        return;
    }
    p->ncpus = kt_allowed_cpus(p->cpus, NCPU_MAX, &err);
    if (p->ncpus < 1) {
        p->ncpus = 0;
        kt_verdict_skip(v, "%s", err.msg);
        goto out;
    }
    /* /proc/stat is read into NCPU_MAX slots: CPUs past them are not followed */
    while (p->ncpus > 0 && p->cpus[p->ncpus - 1] >= NCPU_MAX)
        p->ncpus--;
    if (p->ncpus < 1) {
        kt_verdict_skip(v, "no allowed CPU below %d to read in /proc/stat", NCPU_MAX);
        goto out;
    }
    if (kt_procstat_open(&p->ps, &err) != 0) {
        p->ncpus = 0;
        kt_verdict_skip(v, "%s", err.msg);
        goto out;
    }
    spec.count = p->ncpus > MAX_WORKERS / 2 ? MAX_WORKERS : (unsigned)(2 * p->ncpus);
    w = kt_work_new(0, &err);
    if (!w || kt_work_add(w, &spec, &err) != 0) {
        kt_verdict_skip(v, "%s", err.msg);
        goto out;
    }
    n = kt_work_count(w);
    wall = run_window(w, v, used, p);
    if (wall < 0)
        goto out;
    for (size_t i = 0; i < n; i++)
        total += used[i];
    kt_verdict_note(v, "%zu spinners on %d CPUs over %.2f s used %.2f CPUs' worth", n, p->ncpus,
                    wall, total / wall);
    for (int c = 0; c < p->ncpus; c++) {
        int cpu = p->cpus[c];
        double idle = idle_share(&p->first[cpu], &p->cur[cpu]);
        char label[32];

        snprintf(label, sizeof(label), "cpu%d.idle", cpu);
        if (isnan(idle)) {
            kt_verdict_note(v, "CPU %d: no /proc/stat line or no tick over the window", cpu);
            continue;
        }
        if (idle > 0.0)
            kt_verdict_note(v, "CPU %d idle %.1f%% of the window", cpu, 100.0 * idle);
        CLAIM_AS(v, label, idle, at_most, IDLE_MAX);
        kt_ctx_series(ctx, p->idle[c], "idle share of a CPU", NAN, IDLE_MAX);
    }
    for (size_t i = 0; i < p->n; i++)
        kt_ctx_series(ctx, p->share[i], "share of a CPU", NAN, NAN);
out:
    kt_work_free(w);
    probe_free(p);
}

KT_MAIN()
