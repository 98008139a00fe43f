/* Locks: what the scheduler does to threads that contend for a lock.
 *
 * lock_mutex_fair: 2 x ncpu threads on one pthread mutex (MUTEX work). The
 * lock lets one in at a time (structural: the group's count taken under
 * the lock equals the sum of what each thread counted, and the holds,
 * end to end, fit in the run), and no thread is starved of it: each one's
 * acquisitions stay near the mean, interval by interval, and the longest
 * wait stays short.
 *
 * lock_pi_boost and lock_pi_inversion: one priority-inversion group per
 * CPU (PI work: a SCHED_FIFO holder, a waiter two levels above it and a
 * spinner between them, all on that CPU). With a PI futex the kernel
 * lends the waiter's priority to the holder, so the waiter waits about
 * the holder's hold and never for the spinner; with a plain futex strict
 * priorities make the waiter wait for the spinner's whole run too, which
 * shows the scheduler honours FIFO priorities. */
/* calibration, measured alone here on 2026-12-07 (2 CPUs, Linux 6.18):
 * 10 catalog runs idle and 10 under stress-ng --cpu 1, n / min / p50 /
 * max of each claim (ktw*: every worker counted), and the margin the
 * worst value leaves (README: Calibration). The figures beside each
 * bound below marked provisional were the first look, on a shared
 * machine; these are the ones that count.
 * lock_mutex_fair acq_min_of_mean at_least 0.5: idle 10 / 0.9609 / 0.9881 / 0.9953; stress 10 / 0.955 / 0.9908 / 0.9955; margin 1.91x
 * lock_mutex_fair acquisitions at_least 2000: idle 10 / 2.707e+04 / 2.768e+04 / 2.812e+04; stress 10 / 2.862e+04 / 2.93e+04 / 2.983e+04; margin 13.54x
 * lock_mutex_fair held_ms at_most (per run): idle 10 / 1384 / 1412 / 1436; stress 10 / 1499 / 1591 / 1623; margin n/a
 * lock_mutex_fair ktw*.acq_of_mean each_at_least 0.1: idle 40 / 0.7701 / 0.9471 / 0.9853; stress 40 / 0.7113 / 0.9552 / 0.9938; margin n/a
 * lock_mutex_fair lock_total eq (per run): idle 10 / 2.707e+04 / 2.768e+04 / 2.812e+04; stress 10 / 2.862e+04 / 2.93e+04 / 2.983e+04; margin n/a
 * lock_mutex_fair wait_max_ms at_most 500: idle 10 / 0.9331 / 2.135 / 9.352; stress 10 / 3.759 / 4.143 / 4.563; margin 53.47x
 * lock_mutex_fair wait_p99_us_worst at_most 5000: idle 10 / 333.8 / 383 / 495.6; stress 10 / 159.7 / 184.3 / 217.1; margin 10.09x
 * lock_pi_boost rounds_min at_least 30: idle 10 / 180 / 180 / 180; stress 10 / 180 / 180 / 180; margin 6.00x
 * lock_pi_boost wait_p50_ms_worst at_most 2.5: idle 10 / 1.012 / 1.016 / 1.016; stress 10 / 1.012 / 1.016 / 1.016; margin 2.46x
 * lock_pi_boost wait_p99_ms_worst at_most 3: idle 10 / 1.02 / 1.032 / 1.13; stress 10 / 1.02 / 1.034 / 1.057; margin 2.65x
 * lock_pi_inversion inversion_min at_least 0.5: idle 10 / 1.005 / 1.005 / 1.005; stress 10 / 1.005 / 1.005 / 1.005; margin 2.01x
 * lock_pi_inversion rounds_min at_least 30: idle 10 / 179 / 180 / 180; stress 10 / 180 / 180 / 180; margin 5.97x
 */
#include <ktstr.h>

#include <inttypes.h>
#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>

#define WARMUP_MS 300
#define WINDOW_MS 1500
#define INTERVAL_MS 100
#define MAX_WORKERS 512

/* ---- lock_mutex_fair ------------------------------------------------------ */

#define MUTEX_HOLD_US 50
#define MUTEX_PAUSE_US 50

/* calibration: acq_min_of_mean; provisional (shared machine: other jobs took
 * 1.0-1.7 of its 2 CPUs even "idle"); idle n=5 min 0.798 p50 0.951 max 0.995;
 * loaded (stress-ng --cpu 1) n=5 min 0.951 p50 0.984 max 0.991; threshold 0.5
 * (2.5x the worst shortfall from 1, 0.20; freezing ktw0 for 1.4 s gives
 * 0.21-0.24) */
#define ACQ_MIN_OF_MEAN 0.5
/* calibration (series: the worst 100 ms interval of each run, any worker):
 * ktw*.acq_of_mean; provisional (shared machine); idle n=5 min 0 p50 0.35
 * max 0.96 (both 0s in inconclusive points, other jobs taking 1.6-1.7
 * CPUs: a worker, or all, stalled 100 ms), loaded n=5 min 0.72 p50 0.82
 * max 0.94; threshold 0.1 (3.5x below the worst of a conclusive run;
 * the frozen ktw0 gives 0 for 14 intervals). Each worker's acquisitions in
 * every 100 ms at least this fraction of the workers' mean */
#define ACQ_INTERVAL_MIN 0.1
/* calibration: wait_max_ms; provisional (shared machine); idle n=5 min 3.3
 * p50 20 max 228 (an inconclusive point, 1.68 CPUs taken by other jobs);
 * loaded n=5 min 4.1 p50 6.2 max 8.0; threshold 500 (2.2x the worst seen,
 * 63x the worst loaded; ktw0 frozen while it holds the lock stalls every
 * waiter for the 1.4 s). Tightened for detection power (README),
 * 2026-12-07, from the soak of that day (20 idle, 20 under stress-ng
 * --cpu 1, nothing else running): idle 1.43 / 1.78 / 4.86, stress 3.06 /
 * 4.35 / 5.85. Threshold 20 (2.5x the 8.0 loaded above; the 228 came
 * with others' load, inconclusive since issue 16); a locker held off its
 * CPU while it holds the lock now fails it from 20 ms on. VM mode keeps
 * 500 (not calibrated in a guest for 20). */
#define WAIT_MAX_MS 20.0
#define VM_WAIT_MAX_MS 500.0
/* calibration: wait_p99_us_worst; provisional (shared machine); idle n=5
 * min 183 p50 362 max 2277 (an inconclusive point); loaded n=5 min 146 p50
 * 179 max 257; threshold 5000 (2.2x the worst seen) */
#define WAIT_P99_US 5000.0
/* calibration: acquisitions; provisional (shared machine); idle n=5 min
 * 9926 p50 14020 max 24800; loaded n=5 min 19840 p50 24850 max 29490;
 * threshold 2000 (5x below the fewest seen) */
#define MIN_ACQUISITIONS 2000

static double ms_of(uint64_t ns)
{
    return (double)ns / 1e6;
}

static double us_of(uint64_t ns)
{
    return (double)ns / 1e3;
}

/* Each worker's acquisitions over every INTERVAL_MS of the window, as a
 * share of the workers' mean over that interval: ktw<i>.acq_of_mean. */
static void sample_acq(const kt_work *w, size_t n, kt_series **s)
{
    uint64_t prev[MAX_WORKERS], t0 = kt_now_ns(), end = t0 + (uint64_t)WINDOW_MS * 1000000u;
    uint64_t since = t0;

    for (size_t i = 0; i < n; i++) {
        char label[48];

        snprintf(label, sizeof(label), "ktw%zu.acq_of_mean", i);
        s[i] = kt_series_new(label);
        prev[i] = kt_work_iterations(w, i);
    }
    for (uint64_t now = t0; now < end;) {
        uint64_t cur[MAX_WORKERS], sum = 0;

        kt_sleep_ms(INTERVAL_MS);
        now = kt_now_ns();
        if (!kt_interval_over(since, now, end, (uint64_t)INTERVAL_MS * 1000000u))
            continue;
        for (size_t i = 0; i < n; i++) {
            cur[i] = kt_work_iterations(w, i);
            sum += cur[i] - prev[i];
        }
        for (size_t i = 0; i < n; i++) {
            double mean = (double)sum / (double)n;

            /* nobody got the lock: every worker starved this interval */
            kt_series_add(s[i], now, mean > 0 ? (double)(cur[i] - prev[i]) / mean : 0.0);
            prev[i] = cur[i];
        }
        since = now;
    }
}

/* 2 x ncpu unpinned threads (ktw0..) take one mutex, hold it
 * MUTEX_HOLD_US (spinning) and pause MUTEX_PAUSE_US (asleep): half of each
 * one's cycle under the lock, so the lock is always wanted (held 70-85%
 * of the run here, on 2 CPUs) and waiters queue for it. Acquisitions are
 * counted over the whole run, warm-up included. */
KT_SCENARIO(lock_mutex_fair, .timeout_s = 20,
            .purpose = "threads on one mutex: it lets one in at a time and starves none")
{
    unsigned n = 2u * (unsigned)(ctx->ncpus > 0 ? ctx->ncpus : 1);
    kt_work_spec spec = { .kind = KT_WORK_MUTEX, .count = n, .hold_us = MUTEX_HOLD_US,
                          .sleep_us = MUTEX_PAUSE_US };
    kt_series *s[MAX_WORKERS] = { NULL };
    uint64_t sum = 0, total = 0, held = 0, run = 0, lo = UINT64_MAX, wait_max = 0;
    unsigned lo_at = 0, wmax_at = 0;
    double mean, wait_p99_worst = 0;
    kt_work *w;
    kt_hist lat;
    kt_hist_summary hs;
    kt_err err;

    if (n > MAX_WORKERS)
        n = spec.count = MAX_WORKERS;
    w = kt_work_new(0, &err);
    if (!w || kt_work_add(w, &spec, &err) || kt_work_start(w, &err)) {
        kt_verdict_skip(v, "%s", err.msg);
        kt_work_free(w);
        return;
    }
    kt_sleep_ms(WARMUP_MS);
    sample_acq(w, n, s);
    kt_work_stop(w);
    for (size_t i = 0; i < n; i++) {
        kt_work_result r;

        if (kt_work_get(w, i, &r, &err) < 0) {
            kt_verdict_skip(v, "%s", err.msg);
            goto out;
        }
        sum += r.iterations;
        total = r.mutex.total;
        held += r.mutex.held_ns;
        if (r.run_ns > run)
            run = r.run_ns;
        if (r.iterations < lo) {
            lo = r.iterations;
            lo_at = r.index;
        }
        if (r.mutex.max_wait_ns > wait_max) {
            wait_max = r.mutex.max_wait_ns;
            wmax_at = r.index;
        }
        if (r.lat && us_of(kt_hist_percentile(r.lat, 99)) > wait_p99_worst)
            wait_p99_worst = us_of(kt_hist_percentile(r.lat, 99));
        kt_verdict_note(v, "ktw%u: %" PRIu64 " acquisitions, held %.1f ms, longest wait %.3f ms",
                        r.index, r.iterations, ms_of(r.mutex.held_ns), ms_of(r.mutex.max_wait_ns));
    }
    mean = (double)sum / (double)n;
    kt_work_latency(w, KT_WORK_MUTEX, &lat);
    kt_hist_summarize(&lat, &hs);
    kt_verdict_note(v, "%u threads, hold %d us, pause %d us: %" PRIu64 " acquisitions in %.0f ms, "
                    "lock held %.1f%% of it; wait p50 %.1f us, p99 %.1f us, max %.3f ms",
                    n, MUTEX_HOLD_US, MUTEX_PAUSE_US, sum, ms_of(run), 100.0 * (double)held / (double)run,
                    us_of(hs.p50), us_of(hs.p99), ms_of(hs.max));
    kt_verdict_note(v, "fewest acquisitions: ktw%u, %.3f of the mean; longest wait: ktw%u", lo_at,
                    mean > 0 ? (double)lo / mean : NAN, wmax_at);
    /* one in at a time: the count kept under the lock lost no update, and
     * the holds (disjoint if the lock is exclusive) fit in the run, with
     * one hold to spare for the release skew */
    CLAIM_AS(v, "lock_total", total, eq, sum);
    CLAIM_AS(v, "held_ms", ms_of(held), at_most, ms_of(run) + MUTEX_HOLD_US / 1000.0);
    CLAIM_AS(v, "acquisitions", sum, at_least, (uint64_t)MIN_ACQUISITIONS);
    /* Starvation is judged by timing claims, the comparison among equals
     * too: they share the CPUs alike only until an outside RT task holds
     * one of them, and the worker queued there waits (here, beside other
     * jobs' SCHED_FIFO faults, one got 0.003 of the mean for 400 ms while
     * the others went on). */
    kt_verdict_timing(v, true);
    CLAIM_AS(v, "acq_min_of_mean", mean > 0 ? (double)lo / mean : NAN, at_least, ACQ_MIN_OF_MEAN);
    CLAIM_AS(v, "wait_max_ms", ms_of(wait_max), at_most,
             ctx->in_vm ? VM_WAIT_MAX_MS : WAIT_MAX_MS);
    CLAIM_AS(v, "wait_p99_us_worst", wait_p99_worst, at_most, WAIT_P99_US);
    for (size_t i = 0; i < n; i++)
        CLAIM_SERIES(v, s[i], each_at_least, ACQ_INTERVAL_MIN);
    kt_verdict_timing(v, false);
    for (size_t i = 0; i < n; i++)
        kt_ctx_series(ctx, s[i], "acquisitions / mean", ACQ_INTERVAL_MIN, NAN);
out:
    for (size_t i = 0; i < n; i++)
        kt_series_free(s[i]);
    kt_work_free(w);
}

/* ---- lock_pi_boost, lock_pi_inversion ----------------------------------- */

/* The holder's priority; the spinner runs at +1, the waiter at +2. Above
 * the SCHED_FIFO 10 of this repository's other scenarios and faults,
 * below the kernel's own RT threads (threaded interrupts at 50). */
#define PI_BASE_PRIO 20
#define PI_HOLD_US 1000          /* the holder's CPU time under the lock */
#define PI_SPIN_US 5000          /* the spinner's run per round */
#define PI_PAUSE_US 4000         /* between rounds: about half of each CPU is RT */

/* calibration: wait_p99_ms_worst; provisional (shared machine); idle n=5
 * min 1.025 p50 1.036 max 1.044; loaded n=5 min 1.012 p50 1.028 max 1.036;
 * threshold 3 (2.9x the worst seen; the spinner at the waiter's priority
 * gives 6.03) */
#define BOOST_WAIT_P99_MS 3.0
/* calibration: wait_p50_ms_worst; provisional (shared machine); idle n=5
 * min 1.012 p50 1.012 max 1.012; loaded n=5 the same; threshold 2.5 (2.5x
 * the worst seen, the hold itself; the spinner at the waiter's priority
 * gives 6.03, its run and the hold) */
#define BOOST_WAIT_P50_MS 2.5
/* calibration: inversion_min; provisional (shared machine); idle n=5 min
 * 1.004 p50 1.005 max 1.005; loaded n=5 the same; threshold 0.5 (2x below
 * the least seen; the spinner made SCHED_OTHER gives 0.168, the hold
 * alone) */
#define INVERSION_MIN 0.5
/* calibration: rounds_min (both PI scenarios); provisional (shared
 * machine); idle n=10 min 175 p50 180 max 212; loaded n=10 min 180 p50 180
 * max 211; threshold 30 (5.8x below the fewest seen) */
#define PI_MIN_ROUNDS 30

/* One PI group per CPU this process may use (ktw<3g> holder, ktw<3g+1>
 * waiter, ktw<3g+2> spinner, all on the g-th CPU), run for the warm-up
 * and the window. The waiters' waits per group go to wait[] (ms: p50,
 * p99, max) and rounds[]; false (with a skip) when they could not run. */
typedef struct pi_group {
    double p50_ms, p99_ms, max_ms;
    uint64_t rounds;
    int cpu;
} pi_group;

static int pi_run(kt_verdict *v, bool pi, pi_group *g, int cap)
{
    int cpus[CPU_SETSIZE], n;
    kt_work_spec spec = { .kind = KT_WORK_PI, .fanout = 1, .pi = pi, .policy = KT_POLICY_FIFO,
                          .rt_prio = PI_BASE_PRIO, .hold_us = PI_HOLD_US, .run_us = PI_SPIN_US,
                          .sleep_us = PI_PAUSE_US };
    kt_err err;
    kt_work *w;

    n = kt_allowed_cpus(cpus, CPU_SETSIZE, &err);
    if (n < 1) {
        kt_verdict_skip(v, "%s", err.msg);
        return -1;
    }
    if (n > cap)
        n = cap;
    spec.count = (unsigned)n;
    w = kt_work_new(0, &err);
    if (!w || kt_work_add(w, &spec, &err) || kt_work_start(w, &err)) {
        /* without RT privilege: "... PI holder needs SCHED_FIFO: ... EPERM" */
        kt_verdict_skip(v, "%s", err.msg);
        kt_work_free(w);
        return -1;
    }
    kt_sleep_ms(WARMUP_MS + WINDOW_MS);
    kt_work_stop(w);
    for (int k = 0; k < n; k++) {
        kt_work_result r;

        if (kt_work_get(w, (size_t)(3 * k + 1), &r, &err) < 0 || !r.lat) {
            kt_verdict_skip(v, "%s", r.lat ? err.msg : "PI: the waiter recorded no waits");
            kt_work_free(w);
            return -1;
        }
        if (r.error)
            kt_verdict_note(v, "ktw%u: %s", r.index, r.error);
        g[k].cpu = cpus[k];
        g[k].rounds = r.iterations;
        g[k].p50_ms = ms_of(kt_hist_percentile(r.lat, 50));
        g[k].p99_ms = ms_of(kt_hist_percentile(r.lat, 99));
        g[k].max_ms = ms_of(r.lat->max);
        kt_verdict_note(v, "CPU %d: holder ktw%d, waiter ktw%d (SCHED_FIFO %d), spinner ktw%d "
                        "(%d): %" PRIu64 " rounds, wait p50 %.3f ms, p99 %.3f ms, max %.3f ms",
                        cpus[k], 3 * k, 3 * k + 1, PI_BASE_PRIO + 2, 3 * k + 2, PI_BASE_PRIO + 1,
                        r.iterations, g[k].p50_ms, g[k].p99_ms, g[k].max_ms);
    }
    kt_work_free(w);
    return n;
}

/* With a PI futex the holder runs at the waiter's priority, above the
 * spinner: the waiter waits about the holder's PI_HOLD_US, never the
 * spinner's PI_SPIN_US. */
KT_SCENARIO(lock_pi_boost, .timeout_s = 20, .needs_root = true,
            .purpose = "a PI futex lifts the lock holder past a spinner: the waiter waits only the hold")
{
    pi_group g[MAX_WORKERS / 3];
    double p50 = 0, p99 = 0;
    uint64_t rounds = UINT64_MAX;
    int n = pi_run(v, true, g, MAX_WORKERS / 3), worst = 0;

    if (n < 1)
        return;
    for (int k = 0; k < n; k++) {
        if (g[k].p99_ms > p99) {
            p99 = g[k].p99_ms;
            worst = k;
        }
        if (g[k].p50_ms > p50)
            p50 = g[k].p50_ms;
        if (g[k].rounds < rounds)
            rounds = g[k].rounds;
    }
    kt_verdict_note(v, "hold %d us of CPU, spin %d us: the longest waits were CPU %d's",
                    PI_HOLD_US, PI_SPIN_US, g[worst].cpu);
    CLAIM_AS(v, "rounds_min", rounds, at_least, (uint64_t)PI_MIN_ROUNDS);
    /* The median is not a timing claim: fair-class load (all a host's
     * neighbours usually are) cannot delay SCHED_FIFO tasks at all, and
     * an RT task or a hypervisor outside that stalls half of a group's
     * rounds by a spinner's run is a fault, not noise. The tail is. */
    CLAIM_AS(v, "wait_p50_ms_worst", p50, at_most, BOOST_WAIT_P50_MS);
    kt_verdict_timing(v, true);
    CLAIM_AS(v, "wait_p99_ms_worst", p99, at_most, BOOST_WAIT_P99_MS);
    kt_verdict_timing(v, false);
}

/* With a plain futex nobody is boosted: the spinner outranks the holder,
 * so the waiter waits for the spinner's run and then the hold. That a
 * waiter's wait holds the spinner's whole run shows the scheduler ran
 * the higher FIFO priority first. */
KT_SCENARIO(lock_pi_inversion, .timeout_s = 20, .needs_root = true,
            .purpose = "without PI, strict FIFO priorities make the waiter wait for the spinner too")
{
    pi_group g[MAX_WORKERS / 3];
    double lo = INFINITY;
    uint64_t rounds = UINT64_MAX;
    int n = pi_run(v, false, g, MAX_WORKERS / 3), least = 0;

    if (n < 1)
        return;
    for (int k = 0; k < n; k++) {
        double frac = g[k].p50_ms / ((PI_SPIN_US + PI_HOLD_US) / 1000.0);

        if (frac < lo) {
            lo = frac;
            least = k;
        }
        if (g[k].rounds < rounds)
            rounds = g[k].rounds;
    }
    kt_verdict_note(v, "the inversion, the waiter's median wait over the spinner's run and the hold "
                    "(%d + %d us); the least, %.3f, on CPU %d", PI_SPIN_US, PI_HOLD_US, lo,
                    g[least].cpu);
    CLAIM_AS(v, "rounds_min", rounds, at_least, (uint64_t)PI_MIN_ROUNDS);
    /* a wait too short: the spinner did not run first, a lower priority
     * ran ahead of a higher one (the host can only make waits longer) */
    CLAIM_AS(v, "inversion_min", lo, at_least, INVERSION_MIN);
}

KT_MAIN()
