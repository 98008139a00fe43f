/* Changes while tasks run: cpusets applied, cleared, resized and swapped,
 * affinities and cgroups churned, a task moved to another group, a nice
 * or a policy changed, all in the middle of a body (ktstr/changes.h).
 * This is where sched_ext schedulers break: a task left on a CPU it may
 * no longer use, a group removed under a queued task, a weight never
 * re-read.
 *
 * Every scenario starts its spinners, lets them settle WARMUP_MS, then
 * runs its table of changes while the main thread samples, every
 * SAMPLE_MS, the CPU each worker last ran on (/proc/<tid>/stat field 39,
 * which the kernel updates when it moves a task, running or queued) and
 * its CPU time. A change splits the body into windows: "before" it, and
 * "after" it from SETTLE_MS past the moment it was made (its record's
 * time) to the next change or the end. The changes themselves are claims
 * (ops[<i>]: made, else the call and errno) and appear in the point's
 * YAML under ops:. */
/* calibration, measured alone here on 2026-12-07 (2 CPUs, Linux 6.18):
 * 10 catalog runs idle and 10 under stress-ng --cpu 1, n / min / p50 /
 * max of each claim (ktw*: every worker counted), and the margin the
 * worst value leaves (README: Calibration); the bounds below refer here.
 * cpuset_apply_midrun ktw*.share_after at_least 0.3: idle 20 / 0.9938 / 1 / 1.009; stress 20 / 0.9672 / 0.9954 / 1.006; margin 3.22x
 * cpuset_clear_midrun ktw*.share_after at_least 0.3: idle 20 / 0.9847 / 0.9923 / 0.999; stress 20 / 0.4343 / 0.5606 / 0.7399; margin 1.45x
 * cpuset_resize_midrun ktw*.share_shrunk at_least 0.3: idle 40 / 0.9708 / 1.005 / 1.033; stress 40 / 0.9664 / 0.9928 / 1.029; margin 3.22x
 * cpuset_swap_midrun ktw*.share_after at_least 0.3: idle 40 / 0.9833 / 0.992 / 1.011; stress 40 / 0.6722 / 0.7568 / 0.8621; margin 2.24x
 * cpuset_swap_midrun ktw*.share_before at_least 0.3: idle 20 / 0.9763 / 0.9879 / 1.004; stress 20 / 0.7601 / 0.8017 / 0.8633; margin 2.53x
 * affinity_churn ktw*.share_last at_least 0.3: idle 40 / 0.971 / 0.9924 / 1.019; stress 40 / 0.6856 / 0.8242 / 0.9563; margin 2.29x
 * affinity_churn max_gap_ms_worst at_most 50 (was 250): idle 10 / 8.204 / 12.03 / 16.03; stress 10 / 12.21 / 16.38 / 24.03; margin 2.08x
 * cgroup_churn max_gap_ms_worst at_most 50 (was 250): idle 10 / 3.66 / 4.124 / 8.182; stress 10 / 12.04 / 12.07 / 16.23; margin 3.08x
 * cgroup_churn share_min at_least 0.3: idle 10 / 0.9861 / 0.989 / 0.9908; stress 10 / 0.6112 / 0.6749 / 0.7084; margin 2.04x
 * cg_move_gets_share ratio_after near 1.5 (+/-0.5): idle 10 / 1.467 / 1.519 / 1.522; stress 10 / 1.462 / 1.513 / 1.524; margin 92% of tol left
 * cg_move_gets_share ratio_before near 1 (+/-0.3): idle 10 / 0.9358 / 0.9741 / 1.056; stress 10 / 0.9347 / 0.9961 / 1.105; margin 65% of tol left
 * cg_nested_move ratio_after near 1 (+/-0.3): idle 10 / 0.9717 / 1 / 1.02; stress 10 / 0.9688 / 1.014 / 1.031; margin 90% of tol left
 * cg_nested_move ratio_before near 0.3333333333333333 (+/-0.1): idle 10 / 0.3214 / 0.3391 / 0.3468; stress 10 / 0.3157 / 0.3296 / 0.354; margin 79% of tol left
 * cg_nested_move top_ratio_after near 1 (+/-0.3): idle 10 / 0.9894 / 1.006 / 1.015; stress 10 / 0.9867 / 0.9975 / 1.011; margin 95% of tol left
 * renice_midrun ratio_after near 3.0567 (+/-0.6): idle 10 / 3.002 / 3.064 / 3.104; stress 10 / 3.006 / 3.041 / 3.097; margin 91% of tol left
 * renice_midrun ratio_before near 1 (+/-0.3): idle 10 / 0.9877 / 0.996 / 1.009; stress 10 / 0.9885 / 1.002 / 1.014; margin 95% of tol left
 * policy_midrun fifo_share_after at_least 0.8: idle 10 / 0.9999 / 1 / 1; stress 10 / 0.9986 / 1 / 1; margin 1.25x
 */
#include <ktstr.h>

#include <errno.h>
#include <math.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define WARMUP_MS 200
#define SAMPLE_MS 5
#define MAX_WORKERS 32
#define MAX_CPUS 8

/* calibration (the figures: the block above): a cpuset or affinity change moves a task's
 * CPU at once (the write returns after the migration); SETTLE_MS only
 * leaves the sample that raced the write out of the "after" window. */
#define SETTLE_MS 20
/* calibration (the figures: the block above): share_after_min: each worker's share of a CPU
 * after the change over its fair share (the CPUs it may use over the
 * workers on them): at least this. */
#define PROGRESS_FRAC_MIN 0.3
/* calibration (the figures: the block above): ratio bands of cg_move_gets_share and
 * renice_midrun (ratios of CPU time after the change). */
#define MOVE_RATIO_TOL 0.5
#define NICE5_RATIO 3.0567       /* 1024 / 335: nice 0 over nice 5 */
#define NICE5_TOL 0.6
#define EQUAL_TOL 0.3
#define NESTED_BEFORE_TOL 0.1    /* around 1/3 */
/* calibration (the figures: the block above): fifo_share_after: a task made SCHED_FIFO
 * takes its CPU from a SCHED_OTHER one, within RT throttling (0.95). */
#define FIFO_SHARE_MIN 0.8
/* calibration (the figures: the block above): max_gap_ms_worst under churn: no worker
 * waits longer than this between two of its iterations. Tightened for
 * detection power (README), 2026-12-07: 50 is 2.1x the worst above
 * (24.03, stress); 250 let a worker held off its CPU for 200 ms of every
 * second pass. VM mode keeps 250 (not calibrated in a guest for 50). */
#define CHURN_GAP_MAX_MS 50
#define VM_CHURN_GAP_MAX_MS 250

/* One worker, sampled through the body. */
/* Allowed masks a worker held, each from when it was first seen. */
#define MAX_MASKS 64
typedef struct mask_at {
    uint64_t t;
    cpu_set_t m;
} mask_at;

typedef struct track {
    int tid;
    kt_series *cpu;       /* the CPU it last ran on */
    kt_series *cpu_ns;    /* its CPU time so far */
    mask_at masks[MAX_MASKS];   /* its allowed mask, on every change seen */
    size_t nmasks;
} track;

/* What a body ran and saw. */
typedef struct run {
    kt_work *w;
    kt_changes *ch;
    track tr[MAX_WORKERS];
    int n;
    uint64_t end;         /* the end of sampling */
} run;

/* Reads tr's allowed mask now; a new one is kept (the last slot is
 * overwritten past MAX_MASKS, so the mask in force is never lost). */
static void keep_mask(track *tr, uint64_t now)
{
    cpu_set_t m;

    if (sched_getaffinity(tr->tid, sizeof(m), &m) < 0)
        return;
    if (tr->nmasks && CPU_EQUAL(&m, &tr->masks[tr->nmasks - 1].m))
        return;
    if (tr->nmasks == MAX_MASKS)
        tr->nmasks--;
    tr->masks[tr->nmasks++] = (mask_at){ .t = now, .m = m };
}

/* The masks worker i held in [from, to): the one in force at from and
 * every later one; their union and their intersection. */
static void allowed(const run *r, int i, uint64_t from, uint64_t to, kt_cpuset *any,
                    kt_cpuset *every)
{
    const track *tr = &r->tr[i];
    cpu_set_t u, x;
    bool first = true;

    CPU_ZERO(&u);
    CPU_ZERO(&x);
    for (size_t k = 0; k < tr->nmasks; k++) {
        bool next_before = k + 1 < tr->nmasks && tr->masks[k + 1].t <= from;

        if (next_before || tr->masks[k].t >= to)
            continue;
        CPU_OR(&u, &u, &tr->masks[k].m);
        if (first)
            x = tr->masks[k].m;
        else
            CPU_AND(&x, &x, &tr->masks[k].m);
        first = false;
    }
    kt_cpuset_clear(any);
    kt_cpuset_clear(every);
    kt_cpuset_add_mask(any, &u, sizeof(u));
    kt_cpuset_add_mask(every, &x, sizeof(x));
}

static void run_free(kt_ctx *ctx, run *r)
{
    for (int i = 0; i < r->n; i++) {
        if (r->tr[i].cpu)
            kt_ctx_series(ctx, r->tr[i].cpu, "CPU", NAN, NAN);
        kt_series_free(r->tr[i].cpu);
        kt_series_free(r->tr[i].cpu_ns);
    }
    kt_changes_free(r->ch);
    kt_work_free(r->w);
}

/* Starts specs, waits WARMUP_MS, runs plan over body_ms while sampling,
 * then stops the workers and claims the changes. False (with the skip
 * recorded) when the workers or the changes could not start. */
static bool run_plan(kt_ctx *ctx, kt_verdict *v, run *r, const kt_work_spec *specs, size_t nspecs,
                     kt_cgroup **groups, size_t ngroups, const kt_cg_hooks *hooks,
                     const kt_change *plan, size_t nplan, unsigned body_ms)
{
    kt_changes_env env = { .groups = groups, .ngroups = ngroups, .hooks = hooks };
    kt_err err = { 0 };

    r->w = kt_work_run(specs, nspecs, &err);
    if (!r->w) {
        kt_verdict_skip(v, "%s", err.msg);
        return false;
    }
    r->n = (int)kt_work_count(r->w);
    if (r->n > MAX_WORKERS)
        r->n = MAX_WORKERS;
    for (int i = 0; i < r->n; i++) {
        char label[32];

        r->tr[i].tid = kt_work_tid(r->w, (size_t)i);
        snprintf(label, sizeof(label), "ktw%d.cpu", i);
        r->tr[i].cpu = kt_series_new(label);
        snprintf(label, sizeof(label), "ktw%d.cpu_ns", i);
        r->tr[i].cpu_ns = kt_series_new(label);
    }
    kt_sleep_ms(WARMUP_MS);
    env.work = r->w;
    r->ch = kt_changes_start(&env, plan, nplan, &err);
    if (!CLAIM_OK(v, "ops", r->ch ? NULL : err.msg))
        return false;   /* a bad table is the scenario's bug: a failure */
    r->end = kt_changes_start_ns(r->ch) + (uint64_t)body_ms * 1000000u;
    while (kt_now_ns() < r->end) {
        for (int i = 0; i < r->n; i++) {
            int c = kt_thread_last_cpu(r->tr[i].tid);
            uint64_t now = kt_now_ns();

            if (c >= 0)
                kt_series_add(r->tr[i].cpu, now, c);
            keep_mask(&r->tr[i], now);
            kt_series_add(r->tr[i].cpu_ns, now, (double)kt_work_cpu_ns(r->w, (size_t)i));
        }
        kt_sleep_ms(SAMPLE_MS);
    }
    kt_changes_wait(r->ch);
    kt_work_stop(r->w);
    kt_changes_claim(r->ch, v);
    kt_ctx_changes(ctx, r->ch);
    return true;
}

/* The window after change i: from SETTLE_MS past when it was made to
 * the next change made, or the end. False when change i was not made. */
static bool after(const run *r, size_t i, uint64_t *from, uint64_t *to)
{
    uint64_t t = kt_changes_at_ns(r->ch, i);

    if (!t)
        return false;
    *from = t + (uint64_t)SETTLE_MS * 1000000u;
    *to = r->end;
    for (size_t k = i + 1; k < kt_changes_count(r->ch); k++)
        if (kt_changes_at_ns(r->ch, k) > t) {
            *to = kt_changes_at_ns(r->ch, k);
            break;
        }
    return *to > *from;
}

/* The CPUs worker i was seen on in [from, to). */
static kt_cpuset seen(const run *r, int i, uint64_t from, uint64_t to)
{
    kt_cpuset s = { 0 };
    const kt_series *cs = r->tr[i].cpu;
    const uint64_t *t = kt_series_times(cs);
    const double *x = kt_series_values(cs);

    for (size_t k = 0; k < kt_series_count(cs); k++)
        if (t[k] >= from && t[k] < to)
            kt_cpuset_add(&s, (int)x[k]);
    return s;
}

/* Worker i's share of a CPU over [from, to): its CPU time between the
 * samples nearest inside the window, over their distance. NaN when the
 * window holds fewer than two samples. */
static double share(const run *r, int i, uint64_t from, uint64_t to)
{
    const kt_series *s = r->tr[i].cpu_ns;
    const uint64_t *t = kt_series_times(s);
    const double *x = kt_series_values(s);
    size_t a = SIZE_MAX, b = SIZE_MAX;

    for (size_t k = 0; k < kt_series_count(s); k++)
        if (t[k] >= from && t[k] < to) {
            if (a == SIZE_MAX)
                a = k;
            b = k;
        }
    if (a == SIZE_MAX || b <= a)
        return NAN;
    return (x[b] - x[a]) / (double)(t[b] - t[a]);
}

/* Each of workers [lo, hi) ran only on cpus in [from, to), the kernel
 * allowed it no other (its masks), and it got at least PROGRESS_FRAC_MIN
 * of its fair share, fair (timing). */
static void judge_confined(kt_verdict *v, const run *r, int lo, int hi, uint64_t from, uint64_t to,
                           const kt_cpuset *cpus, double fair, const char *when)
{
    char label[64];

    for (int i = lo; i < hi; i++) {
        kt_cpuset s = seen(r, i, from, to);
        bool was;

        kt_cpuset any, every;

        snprintf(label, sizeof(label), "ktw%d.cpus_%s", i, when);
        CLAIM_CPUS_AS(v, label, s, subset_of, *cpus);
        allowed(r, i, from, to, &any, &every);
        snprintf(label, sizeof(label), "ktw%d.allowed_%s", i, when);
        CLAIM_CPUS_AS(v, label, any, subset_of, *cpus);
        snprintf(label, sizeof(label), "ktw%d.share_%s", i, when);
        was = kt_verdict_timing(v, true);
        CLAIM_AS(v, label, share(r, i, from, to) / fair, at_least, PROGRESS_FRAC_MIN);
        kt_verdict_timing(v, was);
    }
}

/* After a cpuset grew to cpus: every worker of [0, r->n) was allowed all
 * of them through [from, to) (structural: the kernel widened the masks),
 * and together they ran on at least n of them (a timing claim: a balancer
 * that keeps a cgroup's tasks together while another task loads the
 * other CPU as much is still fair, so only an idle machine shows it). */
static void judge_widened(kt_verdict *v, const run *r, uint64_t from, uint64_t to,
                          const kt_cpuset *cpus, int n, const char *when)
{
    kt_cpuset used = { 0 };
    char label[64];
    bool was;

    for (int i = 0; i < r->n; i++) {
        kt_cpuset s = seen(r, i, from, to), any, every;

        kt_cpuset_add_set(&used, &s);
        allowed(r, i, from, to, &any, &every);
        snprintf(label, sizeof(label), "ktw%d.allowed_%s", i, when);
        CLAIM_CPUS_AS(v, label, every, contains, *cpus);
    }
    snprintf(label, sizeof(label), "cpus_used_%s", when);
    was = kt_verdict_timing(v, true);
    CLAIM_CPUS_AS(v, label, used, count_at_least, n);
    kt_verdict_timing(v, was);
}

/* The CPUs this process may use (at most MAX_CPUS): their ids, all of
 * them as a list and a set, the first and the last alone. */
typedef struct cpus_of {
    int id[MAX_CPUS], n;
    char all[64], first[16], last[16];
    kt_cpuset every, c_first, c_last;
} cpus_of;

/* Fills c; false with the skip recorded when fewer than min are allowed. */
static bool get_cpus(kt_verdict *v, cpus_of *c, int min)
{
    kt_err err = { 0 };

    memset(c, 0, sizeof(*c));
    c->n = kt_allowed_cpus(c->id, MAX_CPUS, &err);
    if (c->n < min) {
        if (c->n < 0)
            kt_verdict_skip(v, "%s", err.msg);
        else
            kt_verdict_skip(v, "fewer than %d CPUs allowed", min);
        return false;
    }
    kt_cpulist_format(c->all, sizeof(c->all), c->id, c->n);
    snprintf(c->first, sizeof(c->first), "%d", c->id[0]);
    snprintf(c->last, sizeof(c->last), "%d", c->id[c->n - 1]);
    kt_cpuset_add_list(&c->every, c->id, c->n);
    kt_cpuset_add(&c->c_first, c->id[0]);
    kt_cpuset_add(&c->c_last, c->id[c->n - 1]);
    return true;
}

/* A scratch group for the body, its cpuset set to cpus; NULL with the
 * skip recorded. */
static kt_cgroup *group(kt_verdict *v, const kt_cg_hooks *h, const char *name, const char *cpus)
{
    kt_err err = { 0 };
    kt_cgroup *g = kt_cgroup_create(h, name, &err);

    if (!g) {
        kt_verdict_skip(v, "%s", err.msg);
        return NULL;
    }
    if (cpus && kt_cgroup_set_cpus(g, cpus, &err) < 0) {
        kt_verdict_skip(v, "%s", err.msg);
        kt_cgroup_destroy(g, NULL);
        return NULL;
    }
    return g;
}

static void groups_free(kt_verdict *v, kt_cgroup **g, size_t n)
{
    kt_err err = { 0 };

    for (size_t i = 0; i < n; i++)
        if (g[i] && kt_cgroup_destroy(g[i], &err) < 0)
            kt_verdict_note(v, "cleanup: %s", err.msg);
}

/* ncpu spinners in a group holding every allowed CPU; at 400 ms its
 * cpuset becomes the last CPU alone: from then on they run only there,
 * and each still gets a share of it. */
KT_SCENARIO(cpuset_apply_midrun, .timeout_s = 20, .needs_root = true, .min_cpus = 2,
            .purpose = "a cpuset narrowed mid-run confines its running tasks at once")
{
    cpus_of c;
    kt_cg_hooks h = { kt_ctx_rmdir_hook, ctx, kt_verdict_note_hook, v };
    kt_cgroup *g[1] = { 0 };
    run r = { 0 };
    uint64_t from, to;

    if (!get_cpus(v, &c, 2) || !(g[0] = group(v, &h, "apply", c.all)))
        return;
    kt_work_spec spin = { .kind = KT_WORK_SPIN, .count = (unsigned)c.n, .cgroup = g[0],
                          .process = true };
    kt_change plan[] = { { .at_ms = 400, .op = KT_CHANGE_CPUSET, .group = 0, .cpus = c.last } };

    if (run_plan(ctx, v, &r, &spin, 1, g, 1, &h, plan, 1, 1200) && after(&r, 0, &from, &to))
        judge_confined(v, &r, 0, r.n, from, to, &c.c_last, 1.0 / r.n, "after");
    kt_verdict_note(v, "%d spinners in a cpuset of CPUs %s, narrowed to %s at 400 ms", c.n, c.all,
                    c.last);
    run_free(ctx, &r);
    groups_free(v, g, 1);
}

/* ncpu spinners confined to the last CPU; at 400 ms the cpuset is
 * cleared: they spread over every CPU (each gets about a whole one). */
KT_SCENARIO(cpuset_clear_midrun, .timeout_s = 20, .needs_root = true, .min_cpus = 2,
            .purpose = "a cpuset cleared mid-run lets its tasks spread over every CPU")
{
    cpus_of c;
    kt_cg_hooks h = { kt_ctx_rmdir_hook, ctx, kt_verdict_note_hook, v };
    kt_cgroup *g[1] = { 0 };
    run r = { 0 };
    uint64_t from, to;

    if (!get_cpus(v, &c, 2) || !(g[0] = group(v, &h, "clear", c.last)))
        return;
    kt_work_spec spin = { .kind = KT_WORK_SPIN, .count = (unsigned)c.n, .cgroup = g[0],
                          .process = true };
    kt_change plan[] = { { .at_ms = 400, .op = KT_CHANGE_CPUSET, .group = 0, .cpus = "" } };

    if (run_plan(ctx, v, &r, &spin, 1, g, 1, &h, plan, 1, 1200) && after(&r, 0, &from, &to)) {
        /* a balancer needs a few ticks to spread them: judge the last 400 ms */
        from = to - 400 * 1000000u;
        judge_confined(v, &r, 0, r.n, from, to, &c.every, 1.0, "after");
        judge_widened(v, &r, from, to, &c.every, c.n, "after");
    }
    kt_verdict_note(v, "%d spinners in a cpuset of CPU %s, cleared (to %s) at 400 ms", c.n, c.last,
                    c.all);
    run_free(ctx, &r);
    groups_free(v, g, 1);
}

/* 2 x ncpu spinners in a one-CPU cpuset (the first); at 400 ms it grows
 * to every CPU (they use them all), at 900 ms it shrinks to the last CPU
 * (they run only there). */
KT_SCENARIO(cpuset_resize_midrun, .timeout_s = 20, .needs_root = true, .min_cpus = 2,
            .purpose = "a cpuset grown then shrunk mid-run: tasks use the new CPUs, then leave the old ones")
{
    cpus_of c;
    kt_cg_hooks h = { kt_ctx_rmdir_hook, ctx, kt_verdict_note_hook, v };
    kt_cgroup *g[1] = { 0 };
    run r = { 0 };
    uint64_t from, to;

    if (!get_cpus(v, &c, 2) || !(g[0] = group(v, &h, "resize", c.first)))
        return;
    kt_work_spec spin = { .kind = KT_WORK_SPIN, .count = 2u * (unsigned)c.n, .cgroup = g[0],
                          .process = true };
    kt_change plan[] = {
        { .at_ms = 400, .op = KT_CHANGE_CPUSET, .group = 0, .cpus = c.all },
        { .at_ms = 900, .op = KT_CHANGE_CPUSET, .group = 0, .cpus = c.last },
    };

    if (!run_plan(ctx, v, &r, &spin, 1, g, 1, &h, plan, 2, 1400))
        goto out;
    if (after(&r, 0, &from, &to)) {
        from = to - 300 * 1000000u;   /* the balancer's few ticks to spread them */
        judge_widened(v, &r, from, to, &c.every, c.n, "grown");
    }
    if (after(&r, 1, &from, &to))
        judge_confined(v, &r, 0, r.n, from, to, &c.c_last, 1.0 / r.n, "shrunk");
out:
    kt_verdict_note(v, "%d spinners in a cpuset of CPU %s, grown to %s at 400 ms, shrunk to %s at 900 ms",
                    2 * c.n, c.first, c.all, c.last);
    run_free(ctx, &r);
    groups_free(v, g, 1);
}

/* Two groups, one on the first CPU (ktw0, ktw1), one on the last (ktw2,
 * ktw3); at 500 ms they trade cpusets: each pair moves to the other CPU
 * and runs only there. */
KT_SCENARIO(cpuset_swap_midrun, .timeout_s = 20, .needs_root = true, .min_cpus = 2,
            .purpose = "two cpusets swapped mid-run: each group's tasks move to the other's CPUs")
{
    cpus_of c;
    kt_cg_hooks h = { kt_ctx_rmdir_hook, ctx, kt_verdict_note_hook, v };
    kt_cgroup *g[2] = { 0 };
    run r = { 0 };
    uint64_t from, to, t_swap;

    if (!get_cpus(v, &c, 2))
        return;
    if (!(g[0] = group(v, &h, "swapa", c.first)) || !(g[1] = group(v, &h, "swapb", c.last)))
        goto out;
    kt_work_spec spin[2] = {
        { .kind = KT_WORK_SPIN, .count = 2, .cgroup = g[0], .process = true },
        { .kind = KT_WORK_SPIN, .count = 2, .cgroup = g[1], .process = true },
    };
    kt_change plan[] = { { .at_ms = 500, .op = KT_CHANGE_CPUSET_SWAP, .group = 0, .other = 1 } };

    if (!run_plan(ctx, v, &r, spin, 2, g, 2, &h, plan, 1, 1200))
        goto out;
    t_swap = kt_changes_at_ns(r.ch, 0) ? kt_changes_at_ns(r.ch, 0) : r.end;
    judge_confined(v, &r, 0, 2, kt_changes_start_ns(r.ch), t_swap, &c.c_first, 0.5, "before");
    if (after(&r, 0, &from, &to)) {
        judge_confined(v, &r, 0, 2, from, to, &c.c_last, 0.5, "after");
        judge_confined(v, &r, 2, 4, from, to, &c.c_first, 0.5, "after");
    }
    kt_verdict_note(v, "2 spinners on CPU %s and 2 on CPU %s, their cpusets swapped at 500 ms",
                    c.first, c.last);
out:
    run_free(ctx, &r);
    groups_free(v, g, 2);
}

/* 2 x ncpu spinners re-pinned every 40 ms (each to the next CPU in turn,
 * staggered), then at 1000 ms each pinned one last time: none starves
 * through the churn (longest gap, share), each runs only on its last CPU
 * after it. */
KT_SCENARIO(affinity_churn, .timeout_s = 20, .min_cpus = 2,
            .purpose = "affinities changed every 40 ms: no task starves, each ends on its last mask")
{
    enum { STEP_MS = 40, LAST_MS = 1000 };
    cpus_of c;
    int n, nw;
    char cpu_list[MAX_CPUS][16];
    run r = { 0 };
    kt_change plan[1024];
    size_t np = 0;
    uint64_t gap_worst = 0, from, to;

    if (!get_cpus(v, &c, 2))
        return;
    n = c.n;
    nw = 2 * n;
    for (int k = 0; k < n; k++)
        snprintf(cpu_list[k], sizeof(cpu_list[k]), "%d", c.id[k]);
    for (unsigned t = 0; t < LAST_MS && np + (size_t)nw < 1024; t += STEP_MS)
        for (int i = 0; i < nw; i++)
            plan[np++] = (kt_change){ .at_ms = t, .op = KT_CHANGE_AFFINITY, .worker = i,
                                      .cpus = cpu_list[(i + t / STEP_MS) % (unsigned)n] };
    for (int i = 0; i < nw; i++)
        plan[np++] = (kt_change){ .at_ms = LAST_MS, .op = KT_CHANGE_AFFINITY, .worker = i,
                                  .cpus = cpu_list[i % n] };
    kt_work_spec spin = { .kind = KT_WORK_SPIN, .count = (unsigned)nw };

    if (!run_plan(ctx, v, &r, &spin, 1, NULL, 0, NULL, plan, np, 1400))
        goto out;
    for (int i = 0; i < r.n; i++) {
        uint64_t g = kt_work_max_gap_ns(r.w, (size_t)i);

        gap_worst = g > gap_worst ? g : gap_worst;
    }
    {
        bool was = kt_verdict_timing(v, true);

        CLAIM_AS(v, "max_gap_ms_worst", gap_worst / 1e6, at_most,
                 ctx->in_vm ? VM_CHURN_GAP_MAX_MS : CHURN_GAP_MAX_MS);
        kt_verdict_timing(v, was);
    }
    /* the last row of each worker: its final mask */
    for (int i = 0; i < r.n; i++) {
        size_t k = np - (size_t)nw + (size_t)i;
        uint64_t t = kt_changes_at_ns(r.ch, k);
        kt_cpuset own = { 0 };

        if (!t)
            continue;
        kt_cpuset_add(&own, c.id[i % n]);
        from = t + (uint64_t)SETTLE_MS * 1000000u;
        to = r.end;
        if (to > from)
            judge_confined(v, &r, i, i + 1, from, to, &own, 0.5, "last");
    }
out:
    kt_verdict_note(v, "%d spinners over CPUs %s re-pinned every %d ms (%zu changes), "
                    "then once more at %d ms", nw, c.all, STEP_MS, np, LAST_MS);
    run_free(ctx, &r);
}

/* ncpu spinners; every 150 ms a group is created, a worker moved in,
 * and the group removed 100 ms later with the worker still in it (its
 * tasks go back to the root): none of them gets stuck. */
KT_SCENARIO(cgroup_churn, .timeout_s = 20, .needs_root = true,
            .purpose = "groups created and removed under running tasks: no task stuck")
{
    enum { ROUNDS = 8, STEP_MS = 150 };
    kt_cg_hooks h = { kt_ctx_rmdir_hook, ctx, kt_verdict_note_hook, v };
    kt_cgroup *g[ROUNDS] = { 0 };
    kt_change plan[3 * ROUNDS];
    char names[ROUNDS][16];
    size_t np = 0;
    run r = { 0 };
    int n = ctx->ncpus < 2 ? 2 : ctx->ncpus > MAX_WORKERS / 2 ? MAX_WORKERS / 2 : ctx->ncpus;
    uint64_t gap_worst = 0;
    double share_min = 1e9;

    for (int k = 0; k < ROUNDS; k++) {
        unsigned t = (unsigned)k * STEP_MS;

        snprintf(names[k], sizeof(names[k]), "churn%d", k);
        plan[np++] = (kt_change){ .at_ms = t, .op = KT_CHANGE_CGROUP_CREATE, .group = k,
                                  .name = names[k] };
        plan[np++] = (kt_change){ .at_ms = t, .op = KT_CHANGE_MOVE, .worker = k % n, .group = k };
        plan[np++] = (kt_change){ .at_ms = t + 100, .op = KT_CHANGE_CGROUP_REMOVE, .group = k };
    }
    kt_work_spec spin = { .kind = KT_WORK_SPIN, .count = (unsigned)n, .process = true };

    if (!run_plan(ctx, v, &r, &spin, 1, g, ROUNDS, &h, plan, np, 1400))
        goto out;
    for (int i = 0; i < r.n; i++) {
        uint64_t gp = kt_work_max_gap_ns(r.w, (size_t)i);
        double s = share(&r, i, kt_changes_start_ns(r.ch), r.end);

        gap_worst = gp > gap_worst ? gp : gap_worst;
        share_min = s < share_min ? s : share_min;
    }
    {
        bool was = kt_verdict_timing(v, true);
        double fair = (double)(ctx->ncpus < n ? ctx->ncpus : n) / n;

        CLAIM_AS(v, "max_gap_ms_worst", gap_worst / 1e6, at_most,
                 ctx->in_vm ? VM_CHURN_GAP_MAX_MS : CHURN_GAP_MAX_MS);
        CLAIM_AS(v, "share_min", share_min / fair, at_least, PROGRESS_FRAC_MIN);
        kt_verdict_timing(v, was);
    }
out:
    kt_verdict_note(v, "%d spinners; %d groups created, entered and removed with a task "
                    "inside, %d ms apart", n, ROUNDS, STEP_MS);
    run_free(ctx, &r);
    groups_free(v, g, ROUNDS);
}

/* In a guest on cgroup v2 (Debian's 7.3 cloud kernel under TCG here), the
 * group a task is moved into weighed double on that CPU for as long as it
 * was measured (2.4 s; 5 of 5 runs: cg_move_gets_share's ratio 3.0 where
 * the weights give 1.5, cg_nested_move's A : B 2.0 where they give 1),
 * while the host (6.18, cgroup v1) gives the weights (10 + 10 calibration
 * runs). Until it is known whose it is (that kernel's, v2's, TCG's), such
 * a guest reports the figure and skips that claim's point, saying so,
 * rather than pass or fail it (README: VM mode, what the catalog found). */
static bool v2_guest_divergence(const kt_ctx *ctx, kt_verdict *v, const kt_cgroup *g,
                                const char *label, double got, double want)
{
    if (!ctx->in_vm || kt_cgroup_version(g) != KT_CG_V2)
        return false;
    kt_verdict_skip(v, "%s %.3f where the weights give %.3f: cgroup v2 in this guest gives a "
                    "group a task is moved into double weight (seen in every run; the host's "
                    "v1 does not): not judged here until it is understood", label, got, want);
    return true;
}

/* On one CPU: ktw0 alone in a heavy group (weight 300), ktw1 and ktw2 in
 * a light one (100). At 600 ms ktw2 moves to the heavy group: it now
 * shares 300 with ktw0 while ktw1 keeps 100, so ktw2 : ktw1 goes from
 * 1 : 1 to 1.5 : 1 (150 : 100). */
KT_SCENARIO(cg_move_gets_share, .timeout_s = 20, .needs_root = true,
            .purpose = "a task moved to another group mid-run gets that group's share")
{
    cpus_of c;
    kt_cg_hooks h = { kt_ctx_rmdir_hook, ctx, kt_verdict_note_hook, v };
    kt_cgroup *g[2] = { 0 };
    run r = { 0 };
    kt_err err = { 0 };
    uint64_t from, to;

    if (!get_cpus(v, &c, 1))
        return;
    const char *cpu = c.first;
    if (!(g[0] = group(v, &h, "heavy", NULL)) || !(g[1] = group(v, &h, "light", NULL)))
        goto out;
    if (kt_cgroup_set_weight(g[0], 300, &err) < 0 || kt_cgroup_set_weight(g[1], 100, &err) < 0) {
        kt_verdict_skip(v, "%s", err.msg);
        goto out;
    }
    kt_work_spec spin[2] = {
        { .kind = KT_WORK_SPIN, .count = 1, .cpus = cpu, .cgroup = g[0], .process = true },
        { .kind = KT_WORK_SPIN, .count = 2, .cpus = cpu, .cgroup = g[1], .process = true },
    };
    kt_change plan[] = { { .at_ms = 600, .op = KT_CHANGE_MOVE, .worker = 2, .group = 0 } };

    if (!run_plan(ctx, v, &r, spin, 2, g, 2, &h, plan, 1, 1400))
        goto out;
    if (kt_changes_at_ns(r.ch, 0)) {
        uint64_t t0 = kt_changes_start_ns(r.ch), t1 = kt_changes_at_ns(r.ch, 0);
        double b1 = share(&r, 1, t0, t1), b2 = share(&r, 2, t0, t1);
        bool was = kt_verdict_timing(v, true);

        CLAIM_AS(v, "ratio_before", b2 / b1, near, 1.0, EQUAL_TOL);
        kt_verdict_timing(v, was);
    }
    if (after(&r, 0, &from, &to)) {
        double a1 = share(&r, 1, from, to), a2 = share(&r, 2, from, to);
        bool was = kt_verdict_timing(v, true);

        if (!v2_guest_divergence(ctx, v, g[0], "ratio_after", a2 / a1, 1.5))
            CLAIM_AS(v, "ratio_after", a2 / a1, near, 1.5, MOVE_RATIO_TOL);
        kt_verdict_timing(v, was);
        kt_verdict_note(v, "after the move: ktw0 %.3f, ktw1 %.3f, ktw2 %.3f of CPU %s",
                        share(&r, 0, from, to), a1, a2, cpu);
    }
out:
    run_free(ctx, &r);
    groups_free(v, g, 2);
}

/* Nested groups on one CPU: A (100) holds A1 (300) and A2 (100), beside
 * B (100). ktw0 in A1, ktw1 in A2, ktw2 in B: ktw1 gets a third of
 * ktw0's share. At 600 ms ktw1 moves into A1: A1 then holds A's whole
 * half and splits it evenly, so ktw1 : ktw0 goes from 1 : 3 to 1 : 1,
 * while B keeps its half. */
KT_SCENARIO(cg_nested_move, .timeout_s = 20, .needs_root = true,
            .purpose = "a task moved between nested groups mid-run gets its new group's share")
{
    cpus_of c;
    kt_cg_hooks h = { kt_ctx_rmdir_hook, ctx, kt_verdict_note_hook, v };
    kt_cgroup *a = NULL, *b = NULL, *slot[1] = { 0 };
    kt_cgroup *a2 = NULL;
    run r = { 0 };
    kt_err err = { 0 };
    uint64_t from, to;

    if (!get_cpus(v, &c, 1))
        return;
    const char *cpu = c.last;
    if (!(a = group(v, &h, "nmA", NULL)) || !(b = group(v, &h, "nmB", NULL)))
        goto out;
    if (!(slot[0] = kt_cgroup_create_in(a, &h, "a1", &err)) ||
        !(a2 = kt_cgroup_create_in(a, &h, "a2", &err)) ||
        kt_cgroup_set_weight(a, 100, &err) < 0 || kt_cgroup_set_weight(b, 100, &err) < 0 ||
        kt_cgroup_set_weight(slot[0], 300, &err) < 0 || kt_cgroup_set_weight(a2, 100, &err) < 0) {
        kt_verdict_skip(v, "%s", err.msg);
        goto out;
    }
    kt_work_spec spin[3] = {
        { .kind = KT_WORK_SPIN, .count = 1, .cpus = cpu, .cgroup = slot[0], .process = true },
        { .kind = KT_WORK_SPIN, .count = 1, .cpus = cpu, .cgroup = a2, .process = true },
        { .kind = KT_WORK_SPIN, .count = 1, .cpus = cpu, .cgroup = b, .process = true },
    };
    kt_change plan[] = { { .at_ms = 600, .op = KT_CHANGE_MOVE, .worker = 1, .group = 0 } };

    if (!run_plan(ctx, v, &r, spin, 3, slot, 1, &h, plan, 1, 1400))
        goto out;
    if (kt_changes_at_ns(r.ch, 0)) {
        uint64_t t0 = kt_changes_start_ns(r.ch), t1 = kt_changes_at_ns(r.ch, 0);
        bool was = kt_verdict_timing(v, true);

        CLAIM_AS(v, "ratio_before", share(&r, 1, t0, t1) / share(&r, 0, t0, t1), near,
                 1.0 / 3, NESTED_BEFORE_TOL);
        kt_verdict_timing(v, was);
        kt_verdict_note(v, "before the move: ktw0 %.3f (A1), ktw1 %.3f (A2), ktw2 %.3f (B) of CPU %s",
                        share(&r, 0, t0, t1), share(&r, 1, t0, t1), share(&r, 2, t0, t1), cpu);
    }
    if (after(&r, 0, &from, &to)) {
        double s0 = share(&r, 0, from, to), s1 = share(&r, 1, from, to), s2 = share(&r, 2, from, to);
        bool was = kt_verdict_timing(v, true);

        CLAIM_AS(v, "ratio_after", s1 / s0, near, 1.0, EQUAL_TOL);
        if (!v2_guest_divergence(ctx, v, a, "top_ratio_after", (s0 + s1) / s2, 1.0))
            CLAIM_AS(v, "top_ratio_after", (s0 + s1) / s2, near, 1.0, EQUAL_TOL);
        kt_verdict_timing(v, was);
        kt_verdict_note(v, "after the move: ktw0 %.3f, ktw1 %.3f (both A1), ktw2 %.3f (B) of CPU %s",
                        s0, s1, s2, cpu);
        for (int i = 0; i < 3; i++) {
            char path[64], buf[512];

            snprintf(path, sizeof(path), "/proc/%d/cgroup", r.tr[i].tid);
            if (kt_read_file(path, buf, sizeof(buf), NULL) > 0)
                kt_verdict_note(v, "ktw%d: %s", i, buf);
        }
    }
out:
    run_free(ctx, &r);
    /* a's destroy takes a1 and a2 with it */
    slot[0] = NULL;
    groups_free(v, (kt_cgroup *[]){ a, b }, 2);
}

/* Two nice-0 spinners on one CPU split it 1 : 1; at 600 ms ktw1 is
 * reniced to 5 and the split becomes 1024 : 335. */
KT_SCENARIO(renice_midrun, .timeout_s = 20,
            .purpose = "a task reniced mid-run gets the share of its new nice at once")
{
    cpus_of c;
    run r = { 0 };
    uint64_t from, to;

    if (!get_cpus(v, &c, 1))
        return;
    const char *cpu = c.first;
    kt_work_spec spin = { .kind = KT_WORK_SPIN, .count = 2, .cpus = cpu, .set_nice = true };
    kt_change plan[] = { { .at_ms = 600, .op = KT_CHANGE_NICE, .worker = 1, .nice = 5 } };

    if (!run_plan(ctx, v, &r, &spin, 1, NULL, 0, NULL, plan, 1, 1400))
        goto out;
    if (kt_changes_at_ns(r.ch, 0)) {
        uint64_t t0 = kt_changes_start_ns(r.ch), t1 = kt_changes_at_ns(r.ch, 0);
        bool was = kt_verdict_timing(v, true);

        CLAIM_AS(v, "ratio_before", share(&r, 0, t0, t1) / share(&r, 1, t0, t1), near, 1.0,
                 EQUAL_TOL);
        kt_verdict_timing(v, was);
    }
    if (after(&r, 0, &from, &to)) {
        bool was = kt_verdict_timing(v, true);

        CLAIM_AS(v, "ratio_after", share(&r, 0, from, to) / share(&r, 1, from, to), near,
                 NICE5_RATIO, NICE5_TOL);
        kt_verdict_timing(v, was);
    }
out:
    run_free(ctx, &r);
}

/* Two SCHED_OTHER spinners on one CPU; at 600 ms ktw0 becomes SCHED_FIFO:
 * from then on it holds the CPU but for RT throttling. */
KT_SCENARIO(policy_midrun, .timeout_s = 20, .needs_root = true, .min_cpus = 2,
            .purpose = "a task made SCHED_FIFO mid-run takes its CPU at once")
{
    cpus_of c;
    run r = { 0 };
    uint64_t from, to;

    if (!get_cpus(v, &c, 1))
        return;
    const char *cpu = c.first;
    kt_work_spec spin = { .kind = KT_WORK_SPIN, .count = 2, .cpus = cpu };
    kt_change plan[] = { { .at_ms = 600, .op = KT_CHANGE_POLICY, .worker = 0,
                           .policy = KT_POLICY_FIFO, .rt_prio = 10 } };

    if (!run_plan(ctx, v, &r, &spin, 1, NULL, 0, NULL, plan, 1, 1200))
        goto out;
    if (after(&r, 0, &from, &to)) {
        bool was = kt_verdict_timing(v, true);

        CLAIM_AS(v, "fifo_share_after", share(&r, 0, from, to), at_least, FIFO_SHARE_MIN);
        kt_verdict_timing(v, was);
        kt_verdict_note(v, "after the change: ktw0 (FIFO) %.3f, ktw1 %.3f of CPU %s",
                        share(&r, 0, from, to), share(&r, 1, from, to), cpu);
    }
out:
    run_free(ctx, &r);
}

KT_MAIN()
