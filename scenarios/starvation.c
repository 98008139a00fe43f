/* Starvation: with every CPU oversubscribed, every runnable task still
 * makes progress within a bounded time.
 *
 * Two series per worker, sampled by the scenario while they run:
 * ktw<N>.stale_ms, how long ago it last made progress (every SAMPLE_MS:
 * the gaps as they open, so a plot shows when a worker was held off), and
 * ktw<N>.share, its share of a CPU over each INTERVAL_MS. A worker that
 * still makes progress every few ms but gets almost no CPU for a while
 * keeps its gaps short; its share shows it. */
#include <ktstr.h>

#include <errno.h>
#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define RUN_MS 1500
#define SAMPLE_MS 10
#define INTERVAL_MS 100
#define MAX_WORKERS 1024

/* calibration: max_gap_ms_worst; idle n=20 min 12.0 p50 12.0 max 12.6; loaded n=20 min 16.0 p50 21.0 max 21.0; threshold 150 (7x the worst seen; on the shared machine at load 8-12 up to 304 ms was seen without RT load; the SCHED_FIFO fault gives 540-2000) */
/* Tightened for detection power (README: Detection power), 2026-12-07,
 * from the soak of that day (20 idle, 20 under stress-ng --cpu 1,
 * nothing else running): max_gap_ms_worst idle 12.0 / 12.2 / 14.1,
 * stress 17.1 / 20.0 / 21.1; ktw*.stale_ms up to 20.5. Threshold 45
 * (2.1x the worst; was 150, which let a worker hold its CPU as
 * SCHED_FIFO for 70 ms of every 100 pass). The 304 ms above came with
 * others' load: inconclusive since issue 16. */
#define MAX_GAP_MS 45.0
/* VM mode (ctx->in_vm): a vCPU is itself a host thread, and an
 * overcommitted guest (4 vCPUs on this 2-CPU host) loses its CPU to the
 * host for whole slices. vm calibration (20 idle + 20 loaded runs, the
 * default 2-vCPU guest): max_gap_ms_worst idle 7.9 / 12.7 / 33.1,
 * loaded 28.3 / 37.7 / 51.0; the gauntlet's presets saw up to 187 at
 * 1n2l2c1t. Threshold 600: 11.8x the default guest's worst, 3.2x the
 * gauntlet's; a SCHED_FIFO hog in the guest still shows the body's
 * length. The host's bound above is not loosened for it. */
#define VM_MAX_GAP_MS 600.0
/* calibration (series: the worst 100 ms interval of each run; idle n=8, loaded n=8 here, min / p50 / max): ktw0.share
 * idle 0.341 / 0.357 / 0.368, loaded 0.231 / 0.247 / 0.256 (bound 0.005:
 * 46x); ktw*.stale_ms worst 14.98 idle, 19.82 loaded (bound MAX_GAP_MS).
 * every spinner's and duty worker's share of a CPU in every 100 ms at
 * least this much (each CPU runs two spinners, a yielder and a duty
 * worker; 0.03-0.5 was seen at load 3). Yielders are not judged: they
 * were seen at 0.001 while making progress every few ms. */
#define INTERVAL_SHARE_MIN 0.005

/* Both series of every worker. */
typedef struct watch {
    size_t n;
    kt_series *stale[MAX_WORKERS], *share[MAX_WORKERS];
    uint64_t cpu[MAX_WORKERS];
} watch;

static void watch_free(watch *wt)
{
    for (size_t i = 0; i < wt->n; i++) {
        kt_series_free(wt->stale[i]);
        kt_series_free(wt->share[i]);
    }
    wt->n = 0;
}

/* Samples every worker of w for RUN_MS into wt. */
static void watch_run(const kt_work *w, watch *wt)
{
    uint64_t t0 = kt_now_ns(), tshare = t0, end = t0 + (uint64_t)RUN_MS * 1000000u;

    wt->n = kt_work_count(w) < MAX_WORKERS ? kt_work_count(w) : MAX_WORKERS;
    for (size_t i = 0; i < wt->n; i++) {
        char label[48];

        snprintf(label, sizeof(label), "ktw%zu.stale_ms", i);
        wt->stale[i] = kt_series_new(label);
        snprintf(label, sizeof(label), "ktw%zu.share", i);
        wt->share[i] = kt_series_new(label);
        wt->cpu[i] = kt_work_cpu_ns(w, i);
    }
    for (uint64_t now = t0; now < end;) {
        bool interval;

        kt_sleep_ms(SAMPLE_MS);
        now = kt_now_ns();
        interval = kt_interval_over(tshare, now, end, (uint64_t)INTERVAL_MS * 1000000u);
        for (size_t i = 0; i < wt->n; i++) {
            uint64_t last = kt_work_last_progress_ns(w, i);

            /* staleness counts from the window's start at the earliest: a
             * worker that has not progressed yet is not stale since boot */
            if (last < t0)
                last = t0;
            kt_series_add(wt->stale[i], now, now > last ? (double)(now - last) / 1e6 : 0.0);
            if (interval) {
                uint64_t c = kt_work_cpu_ns(w, i);

                kt_series_add(wt->share[i], now, (double)(c - wt->cpu[i]) / (double)(now - tshare));
                wt->cpu[i] = c;
            }
        }
        if (interval)
            tshare = now;
    }
}

/* Per CPU: two pinned spinners, a pinned yielder and a pinned duty worker
 * (1 ms on, 1 ms off). Spinners are ktw0..ktw(2n-1), ktw<i> on the
 * (i mod n)-th allowed CPU, so ktw0 and ktw<n> share a CPU. A worker's
 * longest gap between two iterations is how long it was kept off the CPU
 * (plus the duty worker's own 1 ms sleep). */
KT_SCENARIO(starve_none, .timeout_s = 20,
            .purpose = "no spinner, yielder or duty worker is kept off its CPU for long")
{
    unsigned n = (unsigned)ctx->ncpus;
    kt_work_spec specs[] = {
        { .kind = KT_WORK_SPIN, .count = 2 * n, .cpus = NULL, .pin_each = true },
        { .kind = KT_WORK_YIELD, .count = n, .pin_each = true },
        { .kind = KT_WORK_DUTY, .count = n, .pin_each = true, .run_us = 1000, .sleep_us = 1000 },
    };
    char cpus[4096];
    int ids[CPU_SETSIZE], count;
    double max_gap_ms_worst = 0.0;
    const double max_gap = ctx->in_vm ? VM_MAX_GAP_MS : MAX_GAP_MS;
    watch wt = { .n = 0 };
    size_t i, k;
    unsigned worst = 0;
    long rt_runtime, rt_period;
    kt_work *w;
    kt_err err;

    /* the CPUs of this process's affinity mask as a list ("0,1,3") */
    count = kt_allowed_cpus(ids, CPU_SETSIZE, &err);
    if (count < 1) {
        kt_verdict_skip(v, "%s", err.msg);
        return;
    }
    if (kt_cpulist_format(cpus, sizeof(cpus), ids, count) < 0) {
        kt_verdict_skip(v, "starvation (self): %d CPUs do not fit a %zu-byte cpu list", count,
                        sizeof(cpus));
        return;
    }
    w = kt_work_new(0, &err);
    if (!w) {
        kt_verdict_skip(v, "%s", err.msg);
        return;
    }
    for (k = 0; k < sizeof(specs) / sizeof(specs[0]); k++) {
        specs[k].cpus = cpus;
        if (kt_work_add(w, &specs[k], &err) != 0) {
            kt_verdict_skip(v, "%s", err.msg);
            kt_work_free(w);
            return;
        }
    }
    if (kt_work_start(w, &err) != 0) {
        kt_verdict_skip(v, "%s", err.msg);
        kt_work_free(w);
        return;
    }
    watch_run(w, &wt);
    kt_work_stop(w);
    /* gaps and shares: what the host left the workers (timing claims) */
    kt_verdict_timing(v, true);
    for (i = 0; i < kt_work_count(w); i++) {
        kt_work_result r;
        char label[48];
        double gap_ms;

        if (kt_work_get(w, i, &r, &err) != 0) {
            kt_verdict_skip(v, "%s", err.msg);
            break;
        }
        gap_ms = (double)r.max_gap_ns / 1e6;
        snprintf(label, sizeof(label), "ktw%u.max_gap_ms", r.index);
        CLAIM_AS(v, label, gap_ms, at_most, max_gap);
        kt_verdict_note(v, "ktw%u %s: %llu iterations, longest gap %.2f ms, CPU %.3f s",
                        r.index, kt_work_kind_name(r.kind), (unsigned long long)r.iterations,
                        gap_ms, (double)r.cpu_ns / 1e9);
        if (gap_ms > max_gap_ms_worst) {
            max_gap_ms_worst = gap_ms;
            worst = r.index;
        }
    }
    /* What an RT hog may take from the fair class: the bound is meant
     * to be well under it, so a runaway RT task is caught. */
    if (kt_read_long("/proc/sys/kernel/sched_rt_runtime_us", &rt_runtime, NULL) < 0)
        rt_runtime = -1;
    if (kt_read_long("/proc/sys/kernel/sched_rt_period_us", &rt_period, NULL) < 0)
        rt_period = -1;
    kt_verdict_note(v, "RT limits here sched_rt_runtime_us %ld of sched_rt_period_us %ld",
                    rt_runtime, rt_period);
    kt_verdict_note(v, "longest gap of all %.2f ms, by ktw%u", max_gap_ms_worst, worst);
    CLAIM(v, max_gap_ms_worst, at_most, max_gap);
    for (i = 0; i < wt.n; i++) {
        kt_work_result r;
        /* a yielder gives its CPU away by design (EEVDF pushes its
         * deadline out at every yield): its gaps say it ran, its share
         * says nothing */
        bool yields = kt_work_get(w, i, &r, &err) == 0 && r.kind == KT_WORK_YIELD;
        double lo = yields ? NAN : INTERVAL_SHARE_MIN;

        CLAIM_SERIES(v, wt.stale[i], each_at_most, max_gap);
        if (!yields)
            CLAIM_SERIES(v, wt.share[i], each_at_least, INTERVAL_SHARE_MIN);
        kt_ctx_series(ctx, wt.stale[i], "ms since last progress", NAN, max_gap);
        kt_ctx_series(ctx, wt.share[i], "share of a CPU", lo, NAN);
    }
    kt_verdict_timing(v, false);
    watch_free(&wt);
    kt_work_free(w);
}

KT_MAIN()
