/* Latency: how long the scheduler takes to run a thread once it is woken,
 * by another thread (ping-pong, one-to-many fan-out) or by a timer. Each
 * scenario measures for WINDOW_MS and judges the wake latencies the
 * workers recorded (kt_hist, ns; reported here in microseconds).
 *
 * The ping-pong and fan-out workers are closed loops: one sample per
 * wake, so a thread starved for a second leaves one huge sample among
 * thousands of small ones: p50 and p99 describe the common case, and only
 * the max (or the spread of the per-wakee means) sees a stall. Hence
 * every scenario claims the max too. The timer is an open loop (its
 * deadlines lie on a fixed timeline and a late wake records every one
 * that fell due, kt_hist_record_due): a 20 ms stall adds 20 late samples,
 * which its p99 sees.
 *
 * Over time: the workers' iteration counters are read every INTERVAL_MS,
 * giving the mean time per event in each interval (a ping-pong wake, a
 * timer tick, a fan-out round) as a series. A stretch of slow wakes too
 * short for the p99 and too mild for the max (100 ms of 1 ms wakes among
 * 400000 of 4 us) shows as one slow interval, judged by a series claim;
 * an interval with no event at all counts as one event of the whole
 * interval (a lower bound of the real time). */
#include <ktstr.h>

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define WINDOW_MS 2000
#define INTERVAL_MS 100

/* Thresholds, all in microseconds unless named otherwise. The kernel's
 * own figure behind the max bounds: with RT throttling (or the fair
 * server) at sched_rt_runtime_us 950000 of sched_rt_period_us 1000000, a
 * SCHED_FIFO hog leaves a CFS thread on its CPU 50 ms per second, i.e. a
 * stall of about 950 ms, far above every max bound below. */

/* Measured here (2 CPUs, shared with other developers' builds and fault
 * tests, so the max figures include their SCHED_FIFO hogs): 10 runs of the
 * file idle and 10 with `taskset -c 0` spinning, 2 s windows. An earlier
 * series with 1.5 s windows saw worse tails, given in the margins. */

/* calibration: wake_p50_us; idle n=20 min 3.60 p50 4.02 max 4.38; loaded n=20 min 1.05 p50 1.14 max 1.43.
 * Recalibrated 2026-12-07 on the machine drawn that day (the issue 16
 * soaks: 20 idle runs, 10 under stress-ng --cpu 1, 10 --cpu 2): both
 * latency points' p50 up to 17.5, p99 up to 42.5 idle (87.0 once, a
 * not ok at the old 50 with no foreign load: not starvation, a tighter
 * bound than this machine keeps). Thresholds 60 (3.4x) and 250 (2.9x
 * the worst); a starved wakee still shows in wake_max (800000+). */
#define IDLE_P50_US 60.0
/* calibration: wake_p99_us; idle n=20 min 4.54 p50 5.79 max 6.78; loaded n=20 min 1.82 p50 2.50 max 4.96; 2026-12-07: see IDLE_P50_US */
#define IDLE_P99_US 250.0
/* calibration: wake_max_us; idle n=20 min 215 p50 1048 max 2271; loaded n=20 min 429 p50 4184 max 5068; threshold 100000 (20x the worst seen; the shared machine under others' FIFO hogs gave up to 220000; a starved thread shows 800000+) */
/* Tightened for detection power (README: Detection power), 2026-12-07,
 * from the soak of that day, nothing else running: 20 idle runs, 20
 * under stress-ng --cpu 1 (open-loop probes in place): idle 1140 / 1681 /
 * 2974, stress 2893 / 4038 / 5121. Threshold 15000 (2.9x the worst, and
 * of the 5068 above). The old 100000 let a stall of up to 100 ms every
 * second pass; now 20 ms is enough. Others' FIFO hogs (the 220000 above)
 * make a point inconclusive since issue 16. */
#define IDLE_MAX_US 15000.0
/* calibration: wakeups; idle n=20 min 432608 p50 481750 max 544167; loaded n=20 min 1.24e6 p50 1.54e6 max 1.68e6; threshold 20000 (21x below the fewest seen) */
#define IDLE_MIN_WAKEUPS 20000

/* calibration: wake_p50_us; idle n=20 min 1.20 p50 3.50 max 4.06; loaded n=20 min 1.14 p50 1.24 max 4.32; 2026-12-07: see IDLE_P50_US */
#define LOADED_P50_US 60.0
/* calibration: wake_p99_us; idle n=20 min 4.10 p50 4.90 max 6.62; loaded n=20 min 4.54 p50 5.15 max 6.78; 2026-12-07: see IDLE_P50_US */
#define LOADED_P99_US 250.0
/* calibration: wake_max_us; idle n=20 min 4905 p50 5358 max 5401; loaded n=20 min 8069 p50 8717 max 39980; threshold 150000 (3.75x the worst seen; a starved thread shows 800000+) */
/* 2026-12-07 soak (see IDLE_MAX_US): idle 5327 / 5407 / 8022, stress 5397
 * / 6808 / 8915. Threshold 80000: 2x the worst on record (39980 above);
 * was 150000. */
#define LOADED_MAX_US 80000.0
/* calibration: wakeups; idle n=20 min 200171 p50 284207 max 423333; loaded n=20 min 177100 p50 326000 max 652100; threshold 20000 (8.9x below the fewest seen) */
#define LOADED_MIN_WAKEUPS 20000

#define TIMER_PERIOD_US 1000
/* The loaded p99 is real: a timer wake on the spinner's CPU waits for the
 * spinner's slice (a few ms) instead of preempting it. */
/* calibration: late_p99_us; idle n=20 min 63 p50 95 max 274; loaded n=20 min 91 p50 106 max 307; threshold 5000 (16x the worst seen; the shared machine at load 8 gave up to 6400, when a timer wake waited out a spinner's slice) */
/* 2026-12-07 soak (see IDLE_MAX_US), open loop: late_p99_us idle 100 /
 * 197 / 252, stress 99 / 200 / 389. Threshold 1000 (2.6x the worst; was
 * 5000): a stall of 20 ms every second gives ~10000 (20 late samples of
 * 2000 per second), 10 ms ~1000. */
#define TIMER_P99_US 1000.0
/* calibration: late_max_us; idle n=20 min 268 p50 447 max 6408; loaded n=20 min 252 p50 477 max 1511; threshold 100000 (15x the worst seen; a starved thread shows 800000+) */
/* 2026-12-07 soak: late_max_us idle 413 / 1421 / 4694, stress 706 / 1428
 * / 2666. Threshold 15000 (2.3x the 6408 above; was 100000). */
#define TIMER_MAX_US 15000.0
/* calibration: ticks; idle n=20 min 1994 p50 2001 max 2001; loaded n=20 min 1999 p50 2000 max 2000; threshold 1000 of the 2000 due (the shared machine at load 8 gave 1490) */
#define TIMER_MIN_TICKS 1000

#define FANOUT_PAUSE_US 500
/* calibration: wake_p99_us_worst; idle n=20 min 283 p50 322 max 367; loaded n=20 min 17 p50 24 max 30; threshold 1500 (4x the worst seen) */
#define FANOUT_P99_US 1500.0
/* calibration: wake_max_us_worst; idle n=20 min 453 p50 692 max 983; loaded n=20 min 49 p50 102 max 3997; threshold 100000 (25x the worst seen; a starved wakee shows 800000+) */
/* 2026-12-07 soak (see IDLE_MAX_US): wake_max_us_worst idle 370 / 1412 /
 * 10015, stress 62 / 598 / 5237; the calibration in README saw 14460
 * once, idle. Threshold 30000 (2.1x that worst; was 100000, which let a
 * wakee stalled 100 ms every second pass). */
#define FANOUT_MAX_US 30000.0
/* calibration: wake_mean_spread_us; idle n=20 min 9.7 p50 28.1 max 45.9; loaded n=20 min 0.18 p50 0.46 max 1.95; threshold 150 (3.3x the worst seen; one 800 ms stall in ~3000 rounds adds ~270) */
/* 2026-12-07 soak: idle 1.2 / 5.4 / 9.3, stress 0.13 / 0.49 / 2.9.
 * Threshold 100 (2.2x the 45.9 above; was 150, which VM mode keeps). */
#define FANOUT_MEAN_SPREAD_US 100.0
/* calibration: rounds; idle n=20 min 2952 p50 3085 max 3239; loaded n=20 min 3444 p50 3481 max 3512; threshold 500 (5.9x below the fewest seen) */
#define FANOUT_MIN_ROUNDS 500

/* calibration (series: the worst 100 ms interval of each run; idle n=8, loaded n=8 here, min / p50 / max):
 * wake_cycle_us idle 6.2 / 7.5 / 12.0, loaded 7.2 / 27.7 / 32.4 (bound
 * 1000: 31x); tick_period_us 1011 / 1011 / 1032 both (bound 5000: 4.8x);
 * round_us 615 / 643 / 654 idle, 626 / 629 / 642 loaded (bound 50000).
 * A starved thread stalls 800+ ms, one interval far past each bound.
 * The mean time per event in every 100 ms. Ping-pong: one wake of either
 * side (1-5 us seen, idle and loaded); timer: one tick of the 1000 us
 * period (1000-1100 us seen); fan-out: one round (0.6-1 ms seen). */
#define CYCLE_MAX_US 1000.0
/* VM mode (vm calibration, 20 idle + 20 loaded runs here under TCG, the
 * worst of each run): wake_cycle_us lat_wakeup_idle max 224, lat_wakeup_loaded
 * max 7169; bound 50000 (7x); a starved thread still shows 800000+. The
 * timer's and fan-out's bounds hold there (tick_period_us max 1710,
 * round_us max 2720). */
#define VM_CYCLE_MAX_US 50000.0
#define TICK_PERIOD_MAX_US 5000.0
#define ROUND_MAX_US 50000.0

/* Bounds of one ping-pong scenario: a row of data, not a branch. */
typedef struct wake_bounds {
    double p50_us, p99_us, max_us;
    uint64_t min_wakeups;
} wake_bounds;

static const wake_bounds idle_bounds = { IDLE_P50_US, IDLE_P99_US, IDLE_MAX_US, IDLE_MIN_WAKEUPS };
static const wake_bounds loaded_bounds = { LOADED_P50_US, LOADED_P99_US, LOADED_MAX_US,
                                           LOADED_MIN_WAKEUPS };

/*
 * VM mode (ctx->in_vm: a 2-vCPU guest under TCG on this 2-CPU host) has
 * bounds of its own: an emulated wake costs ~10x a native one and a vCPU
 * is itself a host thread that waits its turn. The host's bounds above
 * are never loosened for it. VM calibration: 20 idle and 20 loaded (a
 * spinner on host CPU 0) catalog runs here, quiet machine, min / p50 /
 * max; a starved thread still shows 800000+ us, far past every max bound.
 */
/* vm calibration: wake_p50_us idle 41.5 / 55.6 / 77.8, loaded 45.3 / 55.8 / 86.0 -> 200 (2.3x);
 * wake_p99_us idle 138 / 259 / 383, loaded 338 / 549 / 1020 -> 2000 (2.0x);
 * wake_max_us idle 1168 / 1838 / 4617, loaded 5839 / 14080 / 32730 -> 100000 (3.1x);
 * wakeups idle 23020 / 29720 / 48100, loaded 14190 / 21950 / 31090 -> 5000 (2.8x) */
static const wake_bounds vm_idle_bounds = { 200.0, 2000.0, 100000.0, 5000 };
/* vm calibration: wake_p50_us idle 38.9 / 524 / 696, loaded 25.6 / 44.8 / 1262 -> 5000 (4.0x);
 * wake_p99_us idle 1409 / 1516 / 2638, loaded 4391 / 6029 / 12190 -> 50000 (4.1x);
 * wake_max_us idle 4776 / 5718 / 11690, loaded 12600 / 16150 / 32930 -> 100000 (3.0x);
 * wakeups idle 2701 / 3370 / 14060, loaded 869 / 3151 / 8534 -> 300 (2.9x) */
static const wake_bounds vm_loaded_bounds = { 5000.0, 50000.0, 100000.0, 300 };

/* The timer's and the fan-out's bounds, per mode. */
typedef struct lat_bounds {
    unsigned timer_min_ticks;
    double timer_p99_us, timer_max_us;
    unsigned fanout_min_rounds;
    double fanout_p99_us, fanout_max_us, fanout_mean_spread_us;
} lat_bounds;

static const lat_bounds host_lat = { TIMER_MIN_TICKS, TIMER_P99_US, TIMER_MAX_US,
                                     FANOUT_MIN_ROUNDS, FANOUT_P99_US, FANOUT_MAX_US,
                                     FANOUT_MEAN_SPREAD_US };
/* vm calibration (20 idle + 20 loaded, min / p50 / max): ticks idle 1957 / 1979 / 1994,
 * loaded 1800 / 1877 / 1969 -> 1000 (1.8x); late_p99_us idle 311 / 578 / 1262, loaded
 * 786 / 2523 / 4194 -> 10000 (2.4x); late_max_us idle 2297 / 4425 / 14610, loaded 4451 /
 * 13280 / 33370 -> 100000 (3.0x); rounds idle 1589 / 1713 / 2161, loaded 1098 / 1219 / 1385
 * -> 300 (3.7x); wake_p99_us_worst idle 393 / 676 / 803, loaded 3637 / 5046 / 6062 -> 20000
 * (3.3x); wake_max_us_worst idle 1185 / 2599 / 8431, loaded 10390 / 14300 / 34350 -> 100000
 * (2.9x); wake_mean_spread_us idle 2.1 / 3.7 / 19.5, loaded 9.6 / 29.8 / 80.8 -> 150 (1.9x) */
/* 2026-12-08 VM soak under load (20 runs, stress-ng --cpu 1 on the host,
 * the default guest): late_p99_us 3113 / 4751 / 18612, and 12 more runs
 * up to 9372 (host steal 4-8%, under the inconclusive rule's 20%: a late
 * wake of a mostly idle vCPU, not starvation). 10000 failed one healthy
 * run in 20; late_p99_us now 40000 (2.15x the worst). late_max_us 7496 /
 * 12790 / 38490: 100000 holds (2.6x). */
static const lat_bounds vm_lat = { 1000, 40000.0, 100000.0, 300, 20000.0, 100000.0, 150.0 };

static const lat_bounds *lat_of(const kt_ctx *ctx)
{
    return ctx->in_vm ? &vm_lat : &host_lat;
}

static double cycle_max_us(const kt_ctx *ctx)
{
    return ctx->in_vm ? VM_CYCLE_MAX_US : CYCLE_MAX_US;
}

static double us(uint64_t ns)
{
    return (double)ns / 1000.0;
}

/* The first number in a small /proc file; false when absent or unreadable. */
static bool read_first(const char *path, double *out)
{
    char buf[128], *end;

    if (kt_read_file(path, buf, sizeof(buf), NULL) < 0)
        return false;
    *out = strtod(buf, &end);
    return end != buf;
}

/* What else shaped the numbers: the load on the machine (the idle
 * scenarios assume little) and the RT throttling figures behind the max
 * bounds, when the kernel has them. */
static void note_machine(kt_verdict *v)
{
    double load1, runtime, period;

    if (read_first("/proc/loadavg", &load1))
        kt_verdict_note(v, "load average (1 min) %.2f", load1);
    if (read_first("/proc/sys/kernel/sched_rt_runtime_us", &runtime) &&
        read_first("/proc/sys/kernel/sched_rt_period_us", &period))
        kt_verdict_note(v, "sched_rt_runtime_us %.0f of sched_rt_period_us %.0f", runtime, period);
    else
        kt_verdict_note(v, "RT throttling figures not readable in /proc/sys/kernel");
}

static void note_hist(kt_verdict *v, const char *what, const kt_hist_summary *s)
{
    kt_verdict_note(v, "%s: n=%" PRIu64 " p50 %.1f us, p90 %.1f us, p99 %.1f us, "
                    "p99.9 %.1f us, max %.1f us, mean %.1f us", what, s->count,
                    us(s->p50), us(s->p90), us(s->p99), us(s->p999), us(s->max), s->mean / 1000.0);
}

/* The events counted for a series: the iterations of workers first ..
 * first + count - 1, as the mean time per event over each interval. */
typedef struct rate_probe {
    const char *label;
    size_t first, count;
    kt_series *s;                 /* filled by run_window */
} rate_probe;

static uint64_t probe_events(const kt_work *w, const rate_probe *p)
{
    uint64_t n = 0;

    for (size_t i = p->first; i < p->first + p->count; i++)
        n += kt_work_iterations(w, i);
    return n;
}

/* Sleeps through the window, adding p's mean time per event (us) over
 * each INTERVAL_MS to p->s. */
static void sample_rate(const kt_work *w, rate_probe *p)
{
    uint64_t t0 = kt_now_ns(), end = t0 + (uint64_t)WINDOW_MS * 1000000u, tprev = t0;
    uint64_t prev = probe_events(w, p);

    p->s = kt_series_new(p->label);
    for (uint64_t now = t0; now < end; tprev = now) {
        uint64_t left_ms = (end - now + 999999u) / 1000000u, events;

        kt_sleep_ms(left_ms < INTERVAL_MS ? (unsigned)left_ms : INTERVAL_MS);
        now = kt_now_ns();
        events = probe_events(w, p);
        kt_series_add(p->s, now, (double)(now - tprev) / 1000.0 /
                                     (double)(events > prev ? events - prev : 1));
        prev = events;
    }
}

/* Hands p's series to the runner and frees it. */
static void probe_done(kt_ctx *ctx, rate_probe *p, double bound)
{
    kt_ctx_series(ctx, p->s, "us per event", NAN, bound);
    kt_series_free(p->s);
    p->s = NULL;
}

/* Adds the specs, runs them for the window (sampling probe) and stops
 * them; false (and a skip with the library's reason) when they could
 * not start. */
static bool run_window(kt_verdict *v, kt_work *w, const kt_work_spec *specs, size_t n,
                       rate_probe *probe)
{
    kt_err err;

    for (size_t i = 0; i < n; i++) {
        if (kt_work_add(w, &specs[i], &err) < 0) {
            kt_verdict_skip(v, "%s", err.msg);
            return false;
        }
    }
    if (kt_work_start(w, &err) < 0) {
        kt_verdict_skip(v, "%s", err.msg);
        return false;
    }
    sample_rate(w, probe);
    kt_work_stop(w);
    return true;
}

/* One ping-pong pair (ktw0, ktw1), unpinned so the scheduler places it,
 * optionally beside one spinner per allowed CPU (ktw2...). */
static void wakeup_scenario(kt_ctx *ctx, kt_verdict *v, bool loaded, const wake_bounds *b)
{
    char cpus[4096];
    int ids[CPU_SETSIZE];
    kt_err err;
    kt_work *w;
    kt_hist lat;
    kt_hist_summary s;
    kt_work_spec specs[2] = {
        { .kind = KT_WORK_PINGPONG, .count = 1, .wake = KT_WAKE_FUTEX },
        { .kind = KT_WORK_SPIN, .count = 0, .cpus = cpus, .pin_each = true },
    };
    /* the CPUs this process may run on, so that a run under taskset
     * pins spinners only to CPUs it was given */
    int ncpu = kt_allowed_cpus(ids, CPU_SETSIZE, &err);
    rate_probe cycle = { "wake_cycle_us", 0, 2, NULL };   /* both sides' wakes */

    if (ncpu < 1) {
        kt_verdict_skip(v, "%s", err.msg);
        return;
    }
    if (kt_cpulist_format(cpus, sizeof(cpus), ids, ncpu) < 0) {
        kt_verdict_skip(v, "latency (self): %d CPUs do not fit a %zu-byte cpu list", ncpu,
                        sizeof(cpus));
        return;
    }
    if (ncpu != ctx->ncpus)
        kt_verdict_note(v, "affinity changed: %d CPUs now, %d at start", ncpu, ctx->ncpus);
    specs[1].count = (unsigned)ncpu;
    if (!(w = kt_work_new(0, &err))) {
        kt_verdict_skip(v, "%s", err.msg);
        return;
    }
    if (run_window(v, w, specs, loaded ? 2 : 1, &cycle)) {
        kt_work_latency(w, KT_WORK_PINGPONG, &lat);
        kt_hist_summarize(&lat, &s);
        if (loaded)
            kt_verdict_note(v, "one spinner pinned to each of CPUs %s", cpus);
        note_hist(v, "futex ping-pong wake latency", &s);
        note_machine(v);
        CLAIM_AS(v, "wakeups", s.count, at_least, b->min_wakeups);
        /* latencies: a host that keeps the CPU from the tasks makes them
         * late whatever the scheduler does (README: On a busy machine) */
        kt_verdict_timing(v, true);
        CLAIM_AS(v, "wake_p50_us", us(s.p50), at_most, b->p50_us);
        CLAIM_AS(v, "wake_p99_us", us(s.p99), at_most, b->p99_us);
        CLAIM_AS(v, "wake_max_us", us(s.max), at_most, b->max_us);
        CLAIM_SERIES(v, cycle.s, each_at_most, cycle_max_us(ctx));
        kt_verdict_timing(v, false);
        probe_done(ctx, &cycle, cycle_max_us(ctx));
    }
    kt_work_free(w);
}

/* A ping-pong pair on an otherwise idle machine. */
KT_SCENARIO(lat_wakeup_idle, .timeout_s = 20,
            .purpose = "wakeup latency of a ping-pong pair on an idle machine")
{
    wakeup_scenario(ctx, v, false, ctx->in_vm ? &vm_idle_bounds : &idle_bounds);
}

/* The same pair while one spinner per CPU keeps every CPU busy: the
 * woken thread has to preempt (or wait for) a spinner each time. */
KT_SCENARIO(lat_wakeup_loaded, .timeout_s = 20,
            .purpose = "wakeup latency of a ping-pong pair while every CPU is busy")
{
    wakeup_scenario(ctx, v, true, ctx->in_vm ? &vm_loaded_bounds : &loaded_bounds);
}

/* A cyclictest-style thread (ktw0) sleeping to absolute deadlines one
 * period apart; lateness = wake time - deadline. */
KT_SCENARIO(lat_timer_periodic, .timeout_s = 20,
            .purpose = "lateness of a periodic timer thread (cyclictest style)")
{
    kt_work_spec spec = { .kind = KT_WORK_TIMER, .count = 1, .period_us = TIMER_PERIOD_US };
    kt_err err;
    kt_work *w = kt_work_new(0, &err);
    kt_hist lat;
    kt_hist_summary s;
    kt_work_result r;
    rate_probe period = { "tick_period_us", 0, 1, NULL };

    if (!w) {
        kt_verdict_skip(v, "%s", err.msg);
        return;
    }
    if (run_window(v, w, &spec, 1, &period)) {
        kt_work_latency(w, KT_WORK_TIMER, &lat);
        kt_hist_summarize(&lat, &s);
        if (kt_work_get(w, 0, &r, &err) < 0) {
            kt_verdict_skip(v, "%s", err.msg);
            kt_series_free(period.s);
            kt_work_free(w);
            return;
        }
        kt_verdict_note(v, "period %d us over %d ms: %" PRIu64 " ticks due, %" PRIu64
                        " woken (open loop: a wake that came late counts every tick "
                        "due meanwhile)", TIMER_PERIOD_US, WINDOW_MS, s.count, r.iterations);
        note_hist(v, "timer lateness", &s);
        note_machine(v);
        CLAIM_AS(v, "ticks", r.iterations, at_least, lat_of(ctx)->timer_min_ticks);
        kt_verdict_timing(v, true);
        CLAIM_AS(v, "late_p99_us", us(s.p99), at_most, lat_of(ctx)->timer_p99_us);
        CLAIM_AS(v, "late_max_us", us(s.max), at_most, lat_of(ctx)->timer_max_us);
        CLAIM_SERIES(v, period.s, each_at_most, TICK_PERIOD_MAX_US);
        kt_verdict_timing(v, false);
        probe_done(ctx, &period, TICK_PERIOD_MAX_US);
    }
    kt_work_free(w);
}

/* Wakees per waker: two per CPU, so some always wait behind others and
 * the order the scheduler runs them in shows in the spread. */
static unsigned fanout_wakees(int ncpus)
{
    unsigned n = 2u * (unsigned)ncpus;

    return n < 2 ? 2 : n > 16 ? 16 : n;
}

/* One waker (ktw0) wakes N wakees (ktw1..ktwN) with one FUTEX_WAKE per
 * round and waits until all of them ran. The waker counts a round only
 * after every wakee acknowledged it, so each wakee's wakeups are the
 * rounds, or one more when the stop came mid-round; fewer is a lost wake. */
KT_SCENARIO(wake_fanout, .timeout_s = 20,
            .purpose = "one waker wakes N wakees each round: no wakeup lost, latency bounded")
{
    unsigned n = fanout_wakees(ctx->ncpus);
    kt_work_spec spec = { .kind = KT_WORK_FANOUT, .count = 1, .fanout = n,
                          .sleep_us = FANOUT_PAUSE_US, .wake = KT_WAKE_FUTEX };
    kt_err err;
    kt_work *w = kt_work_new(0, &err);
    kt_work_result waker, r;
    kt_hist_summary s;
    double p99_worst = 0, max_worst = 0, mean_lo = 0, mean_hi = 0;
    int64_t missed_worst = INT64_MIN;
    char label[64];
    rate_probe round = { "round_us", 0, 1, NULL };   /* the waker's rounds */

    if (!w) {
        kt_verdict_skip(v, "%s", err.msg);
        return;
    }
    if (!run_window(v, w, &spec, 1, &round)) {
        kt_work_free(w);
        return;
    }
    if (kt_work_get(w, 0, &waker, &err) < 0) {
        kt_verdict_skip(v, "%s", err.msg);
        kt_work_free(w);
        return;
    }
    kt_verdict_note(v, "1 waker, %u wakees, %" PRIu64 " rounds, %d us pause between rounds",
                    n, waker.iterations, FANOUT_PAUSE_US);
    CLAIM_AS(v, "rounds", waker.iterations, at_least, lat_of(ctx)->fanout_min_rounds);
    for (unsigned i = 1; i <= n; i++) {
        int64_t missed;
        double mean;

        if (kt_work_get(w, i, &r, &err) < 0) {
            kt_verdict_skip(v, "%s", err.msg);
            break;
        }
        kt_hist_summarize(r.lat, &s);
        mean = s.mean / 1000.0;
        missed = (int64_t)waker.iterations - (int64_t)r.iterations;
        snprintf(label, sizeof(label), "ktw%u wake latency", r.index);
        note_hist(v, label, &s);
        snprintf(label, sizeof(label), "ktw%u.wakeups", r.index);
        CLAIM_AS(v, label, r.iterations, between, waker.iterations, waker.iterations + 1);
        snprintf(label, sizeof(label), "ktw%u.wake_p99_us", r.index);
        kt_verdict_timing(v, true);
        CLAIM_AS(v, label, us(s.p99), at_most, lat_of(ctx)->fanout_p99_us);
        kt_verdict_timing(v, false);
        if (missed > missed_worst)
            missed_worst = missed;
        if (us(s.p99) > p99_worst)
            p99_worst = us(s.p99);
        if (us(s.max) > max_worst)
            max_worst = us(s.max);
        if (i == 1 || mean < mean_lo)
            mean_lo = mean;
        if (i == 1 || mean > mean_hi)
            mean_hi = mean;
    }
    kt_verdict_note(v, "per-wakee mean latency from %.1f us to %.1f us", mean_lo, mean_hi);
    note_machine(v);
    CLAIM_AS(v, "wakeups_missed_worst", missed_worst, at_most, 0);
    kt_verdict_timing(v, true);
    CLAIM_AS(v, "wake_p99_us_worst", p99_worst, at_most, lat_of(ctx)->fanout_p99_us);
    CLAIM_AS(v, "wake_max_us_worst", max_worst, at_most, lat_of(ctx)->fanout_max_us);
    CLAIM_AS(v, "wake_mean_spread_us", mean_hi - mean_lo, at_most,
             lat_of(ctx)->fanout_mean_spread_us);
    CLAIM_SERIES(v, round.s, each_at_most, ROUND_MAX_US);
    kt_verdict_timing(v, false);
    probe_done(ctx, &round, ROUND_MAX_US);
    kt_work_free(w);
}

KT_MAIN()
