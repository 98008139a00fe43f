/* Kinds shaped in time: BURSTY (random on/off phases from a seed),
 * PREEMPT (a storm of short staggered wakeups) and PERIODIC (RT jobs
 * with a CPU budget per period, and their missed deadlines). */
#include "work/work_int.h"

#include <errno.h>
#include <inttypes.h>

#define MAX_PHASE_US 10000000u   /* 10 s: a stop ends an off phase at once */

/* ---- BURSTY -------------------------------------------------------------- */

enum { BURST_PHASES, BURST_BUSY, BURST_ON, BURST_OFF };

static int check_bursty(const kt_work_spec *s, kt_err *err)
{
    if (s->burst_us == 0 || s->burst_us > MAX_PHASE_US)
        return kt_err_set(err, EINVAL, "work spec (bursty): burst_us %" PRIu64
                          " out of 1..%u", s->burst_us, MAX_PHASE_US);
    if (s->idle_us == 0 || s->idle_us > MAX_PHASE_US)
        return kt_err_set(err, EINVAL, "work spec (bursty): idle_us %" PRIu64
                          " out of 1..%u", s->idle_us, MAX_PHASE_US);
    return 0;
}

/* Each worker its own stream: the seed, then its position. */
static uint64_t burst_state(const kt_work_spec *s, unsigned nth)
{
    uint64_t st = s->seed, salt = nth;

    return st ^ kt__rand(&salt);
}

/* One phase's on and off lengths, ns, uniform in [1, max] us. */
static void burst_draw(const kt_work_spec *s, uint64_t *st, uint64_t *on, uint64_t *off)
{
    *on = (1 + kt__rand(st) % s->burst_us) * 1000u;
    *off = (1 + kt__rand(st) % s->idle_us) * 1000u;
}

void kt_work_bursty_plan(const kt_work_spec *s, unsigned nth, uint64_t phases,
                         uint64_t *on_ns, uint64_t *off_ns)
{
    uint64_t st, on, off, son = 0, soff = 0;

    if (s && s->burst_us && s->idle_us) {
        st = burst_state(s, nth);
        for (uint64_t k = 0; k < phases; k++) {
            burst_draw(s, &st, &on, &off);
            son += on;
            soff += off;
        }
    }
    if (on_ns)
        *on_ns = son;
    if (off_ns)
        *off_ns = soff;
}

static void run_bursty(kt__wrun *r)
{
    uint64_t st = burst_state(r->spec, r->nth), on, off, t0, t1, x = r->i;
    uint64_t phases = 0, busy = 0, son = 0, soff = 0;
    volatile uint64_t sink;

    for (;;) {
        burst_draw(r->spec, &st, &on, &off);
        t0 = kt_now_ns();
        do {
            x = kt__spin_chunk(x);
            t1 = kt_now_ns();
            kt__progress(r->self, t1);
        } while (t1 - t0 < on && !kt__stopped(r));
        /* Only whole phases count: a stop mid-phase leaves the sums
         * matching kt_work_bursty_plan of `phases`. */
        if (kt__stopped(r) || !kt__nap_until(r, t1 + off))
            break;
        phases++;
        busy += t1 - t0;
        son += on;
        soff += off;
        kt__ctr_set(r->self, BURST_PHASES, phases);
        kt__ctr_set(r->self, BURST_BUSY, busy);
        kt__ctr_set(r->self, BURST_ON, son);
        kt__ctr_set(r->self, BURST_OFF, soff);
    }
    sink = x;
    (void)sink;
}

static void result_bursty(const kt__wslot *self, const kt__wslot *leader,
                          const kt_work_spec *s, kt_work_result *r)
{
    (void)leader;
    (void)s;
    r->burst.phases = kt__ctr(self, BURST_PHASES);
    r->burst.busy_ns = kt__ctr(self, BURST_BUSY);
    r->burst.planned_on_ns = kt__ctr(self, BURST_ON);
    r->burst.planned_off_ns = kt__ctr(self, BURST_OFF);
}

const kt__kind_info kt__kind_bursty = {
    .name = "bursty", .run = run_bursty, .group = 1, .check = check_bursty,
    .result = result_bursty,
};

/* ---- PREEMPT ------------------------------------------------------------- */

static int check_preempt(const kt_work_spec *s, kt_err *err)
{
    if (s->period_us == 0)
        return kt_err_set(err, EINVAL, "work spec (preempt): period_us 0");
    if (s->compute_us >= s->period_us)
        return kt_err_set(err, EINVAL, "work spec (preempt): compute_us %" PRIu64
                          " not below period_us %" PRIu64, s->compute_us, s->period_us);
    return 0;
}

/* Deadlines on a grid shared by the spec's threads (multiples of the
 * period, each thread offset by nth / count of it), so that their wakes
 * interleave however their releases fell. A late wake skips the
 * deadlines already past, as TIMER does, and records each one's lateness
 * (open loop); a deadline passed while computing is the next wake's. */
static void run_preempt(kt__wrun *r)
{
    uint64_t period = r->spec->period_us * 1000u, compute = r->spec->compute_us * 1000u;
    uint64_t offset = period * (r->nth % r->spec->count) / r->spec->count;
    uint64_t now = kt_now_ns(), due = now - now % period + offset, x = r->i;
    volatile uint64_t sink;

    while (due <= now)
        due += period;
    while (kt__nap_until(r, due)) {
        now = kt_now_ns();
        kt_hist_record_due(&r->self->lat, now, &due, period);
        x = compute ? kt__spin_until(r, x, now + compute) : kt__spin_chunk(x);
        now = kt_now_ns();
        kt__progress(r->self, now);
        while (due <= now)
            due += period;
    }
    sink = x;
    (void)sink;
}

const kt__kind_info kt__kind_preempt = {
    .name = "preempt", .run = run_preempt, .group = 1, .lat_roles = 1,
    .check = check_preempt,
};

/* ---- PERIODIC ------------------------------------------------------------ */

enum { PER_MISSED, PER_MAX_RESP };

static int check_periodic(const kt_work_spec *s, kt_err *err)
{
    if (s->policy != KT_POLICY_FIFO && s->policy != KT_POLICY_RR)
        return kt_err_set(err, EINVAL, "work spec (periodic): policy %s: periodic RT work "
                          "needs KT_POLICY_FIFO or KT_POLICY_RR", kt_policy_name(s->policy));
    if (s->period_us == 0)
        return kt_err_set(err, EINVAL, "work spec (periodic): period_us 0");
    if (s->budget_us == 0 || s->budget_us >= s->period_us)
        return kt_err_set(err, EINVAL, "work spec (periodic): budget_us %" PRIu64
                          " out of 1..period_us - 1 (%" PRIu64 ")", s->budget_us,
                          s->period_us - 1);
    return 0;
}

/* Job k is released at t0 + k * period and due at the next release. */
static void run_periodic(kt__wrun *r)
{
    uint64_t period = r->spec->period_us * 1000u, budget = r->spec->budget_us * 1000u;
    uint64_t release = kt_now_ns(), wake, fin, missed = 0, max_resp = 0, x = r->i;
    volatile uint64_t sink;

    while (kt__nap_until(r, release)) {
        wake = kt_now_ns();
        x = kt__spin_cpu(r, x, budget);
        /* A job cut by the stop is neither done nor late, and its start
         * is not recorded either: one lateness per job counted. */
        if (kt__stopped(r))
            break;
        fin = kt_now_ns();
        kt_hist_record(&r->self->lat, wake - release);
        if (fin - release > max_resp)
            max_resp = fin - release;
        if (fin > release + period)
            missed++;
        release += period;
        /* A period that passed whole while this job ran had no chance:
         * skipped, and missed. The next may still start late. */
        while (release + period <= fin) {
            release += period;
            missed++;
        }
        kt__ctr_set(r->self, PER_MISSED, missed);
        kt__ctr_set(r->self, PER_MAX_RESP, max_resp);
        kt__progress(r->self, fin);
    }
    sink = x;
    (void)sink;
}

static void result_periodic(const kt__wslot *self, const kt__wslot *leader,
                            const kt_work_spec *s, kt_work_result *r)
{
    (void)leader;
    (void)s;
    r->periodic.missed = kt__ctr(self, PER_MISSED);
    r->periodic.max_response_ns = kt__ctr(self, PER_MAX_RESP);
}

const kt__kind_info kt__kind_periodic = {
    .name = "periodic", .run = run_periodic, .group = 1, .lat_roles = 1,
    .check = check_periodic, .result = result_periodic,
};
