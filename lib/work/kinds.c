/* The table of worker kinds, the spin they share, and the loops of the
 * first six kinds (the others live in kinds_*.c, see work_int.h). Every
 * loop ends when it sees the stop flag; blocking waits recheck it at
 * least every KT__WAIT_SLICE_MS, and kt_work_stop() also wakes them at
 * once. */
#include "work/work_int.h"

#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>

/* Iterations of the spin chunk: 0.68 us here, so the 27 ns clock read
 * that stamps each chunk costs about 4 % and gaps resolve to ~1 us
 * (tests/bench/work.c prints both). */
#define SPIN_CHUNK 512

uint64_t kt__spin_chunk(uint64_t x)
{
    /* A dependent chain the compiler cannot fold or vectorise. */
    for (int k = 0; k < SPIN_CHUNK; k++)
        x = x * 6364136223846793005u + 1442695040888963407u;
    return x;
}

uint64_t kt__spin_until(const kt__wrun *r, uint64_t x, uint64_t deadline_ns)
{
    while (kt_now_ns() < deadline_ns && !kt__stopped(r))
        x = kt__spin_chunk(x);
    return x;
}

uint64_t kt__spin_cpu(const kt__wrun *r, uint64_t x, uint64_t ns)
{
    uint64_t end = kt__thread_cpu_ns() + ns;

    /* The thread CPU clock is a system call (no vDSO), about 0.3 us: a
     * check every 4 chunks keeps it under a tenth of the spin. */
    while (!kt__stopped(r)) {
        for (int k = 0; k < 4; k++)
            x = kt__spin_chunk(x);
        if (kt__thread_cpu_ns() >= end)
            break;
    }
    return x;
}

static void run_spin(kt__wrun *r)
{
    volatile uint64_t sink;
    uint64_t x = r->i;

    while (!kt__stopped(r)) {
        x = kt__spin_chunk(x);
        kt__progress(r->self, kt_now_ns());
    }
    sink = x;
    (void)sink;
}

static void run_yield(kt__wrun *r)
{
    while (!kt__stopped(r)) {
        sched_yield();
        kt__progress(r->self, kt_now_ns());
    }
}

static void run_duty(kt__wrun *r)
{
    volatile uint64_t sink;
    uint64_t x = r->i, run_ns = r->spec->run_us * 1000u, t0, now;

    while (!kt__stopped(r)) {
        t0 = kt_now_ns();
        do {
            x = kt__spin_chunk(x);
            now = kt_now_ns();
            kt__progress(r->self, now);
        } while (now - t0 < run_ns && !kt__stopped(r));
        if (r->spec->sleep_us)
            kt__sleep_ns(r->spec->sleep_us * 1000u);
    }
    sink = x;
    (void)sink;
}

/* PINGPONG: leader->word is whose turn it is (0 or 1; kt_work_stop
 * writes 2). The side whose turn it is records the latency of the wake
 * that gave it the turn, counts one iteration and hands the turn over. */
static void run_pingpong_futex(kt__wrun *r)
{
    _Atomic uint32_t *turn = &r->leader->word;
    uint32_t me = r->role, t;
    uint64_t now, stamp;

    for (;;) {
        while ((t = atomic_load_explicit(turn, memory_order_acquire)) != me) {
            if (kt__stopped(r) || t > 1)
                return;
            kt__futex_wait(turn, t, KT__WAIT_SLICE_MS);
        }
        now = kt_now_ns();
        if (kt__stopped(r))
            return;
        stamp = atomic_load_explicit(&r->leader->stamp, memory_order_relaxed);
        if (stamp)             /* 0: the very first turn, nobody woke us */
            kt_hist_record(&r->self->lat, now - stamp);
        kt__progress(r->self, now);
        atomic_store_explicit(&r->leader->stamp, kt_now_ns(), memory_order_relaxed);
        atomic_store_explicit(turn, 1 - me, memory_order_release);
        kt__futex_wake(turn, 1);
    }
}

static void run_pingpong_pipe(kt__wrun *r)
{
    size_t peer = r->role ? r->leader_i : r->leader_i + 1;
    int in = r->pipes[r->i][0], out = r->pipes[peer][1];
    uint64_t stamp, now;

    if (r->role == 0 && !kt__pipe_send(r, out, kt_now_ns()))
        return;
    while (kt__pipe_recv(r, in, &stamp)) {
        now = kt_now_ns();
        kt_hist_record(&r->self->lat, now - stamp);
        kt__progress(r->self, now);
        if (!kt__pipe_send(r, out, kt_now_ns()))
            return;
    }
}

static void run_pingpong(kt__wrun *r)
{
    if (r->spec->wake == KT_WAKE_PIPE)
        run_pingpong_pipe(r);
    else
        run_pingpong_futex(r);
}

/* FANOUT waker: stamp, wake every wakee (one FUTEX_WAKE, or one pipe
 * write each), wait until all of them acknowledged, count a round. */
static void run_fanout_waker(kt__wrun *r)
{
    unsigned n = r->spec->fanout;
    uint32_t a;
    uint64_t stamp;

    while (!kt__stopped(r)) {
        atomic_store_explicit(&r->self->acks, 0, memory_order_relaxed);
        stamp = kt_now_ns();
        if (r->spec->wake == KT_WAKE_PIPE) {
            for (unsigned k = 0; k < n; k++)
                if (!kt__pipe_send(r, r->pipes[r->i + 1 + k][1], stamp))
                    return;
        } else {
            atomic_store_explicit(&r->self->stamp, stamp, memory_order_relaxed);
            atomic_fetch_add_explicit(&r->self->word, 1, memory_order_release);
            kt__futex_wake(&r->self->word, INT_MAX);
        }
        while ((a = atomic_load_explicit(&r->self->acks, memory_order_acquire)) < n) {
            if (kt__stopped(r))
                return;
            kt__futex_wait(&r->self->acks, a, KT__WAIT_SLICE_MS);
        }
        /* kt_work_stop() lifts acks past n to wake us: a round it cut
         * short is not a round, or wakees would seem to miss a wake. */
        if (kt__stopped(r))
            return;
        kt__progress(r->self, kt_now_ns());
        if (r->spec->sleep_us)
            kt__sleep_ns(r->spec->sleep_us * 1000u);
    }
}

static void run_fanout_wakee(kt__wrun *r)
{
    kt__wslot *w = r->leader;
    uint32_t seen = 0;
    uint64_t stamp, now;

    for (;;) {
        if (r->spec->wake == KT_WAKE_PIPE) {
            if (!kt__pipe_recv(r, r->pipes[r->i][0], &stamp))
                return;
        } else {
            if (!kt__wait_change(r, &w->word, seen))
                return;
            seen = atomic_load_explicit(&w->word, memory_order_acquire);
            stamp = atomic_load_explicit(&w->stamp, memory_order_relaxed);
        }
        now = kt_now_ns();
        kt_hist_record(&r->self->lat, now - stamp);
        kt__progress(r->self, now);
        if (atomic_fetch_add_explicit(&w->acks, 1, memory_order_acq_rel) + 1 >= r->spec->fanout)
            kt__futex_wake(&w->acks, 1);
    }
}

static void run_fanout(kt__wrun *r)
{
    if (r->role == 0)
        run_fanout_waker(r);
    else
        run_fanout_wakee(r);
}

/* TIMER: sleeps to absolute deadlines; a late wake skips the deadlines
 * already past instead of firing a burst to catch up, but records the
 * lateness of each of them (open loop: a stall counts every wake that
 * fell due inside it, kt_hist_record_due). */
static void run_timer(kt__wrun *r)
{
    uint64_t period = r->spec->period_us * 1000u;
    uint64_t deadline = kt_now_ns() + period, now;
    struct timespec ts;

    while (!kt__stopped(r)) {
        ts.tv_sec = (time_t)(deadline / 1000000000u);
        ts.tv_nsec = (long)(deadline % 1000000000u);
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
            ;
        now = kt_now_ns();
        kt_hist_record_due(&r->self->lat, now, &deadline, period);
        kt__progress(r->self, now);
    }
}

static int check_duty(const kt_work_spec *s, kt_err *err)
{
    if (s->run_us == 0)
        return kt_err_set(err, EINVAL, "work spec (duty): run_us 0");
    return 0;
}

static int check_timer(const kt_work_spec *s, kt_err *err)
{
    if (s->period_us == 0)
        return kt_err_set(err, EINVAL, "work spec (timer): period_us 0");
    return 0;
}

static const kt__kind_info kind_spin = { .name = "spin", .run = run_spin, .group = 1 };
static const kt__kind_info kind_yield = { .name = "yield", .run = run_yield, .group = 1 };
static const kt__kind_info kind_duty = { .name = "duty", .run = run_duty, .group = 1,
                                         .check = check_duty };
/* Two sides that wake each other: both record latency. */
static const kt__kind_info kind_pingpong = { .name = "pingpong", .run = run_pingpong,
                                             .group = 2, .last_role = 1, .lat_roles = 3,
                                             .uses_pipes = true };
/* One waker (role 0) and .fanout wakees (role 1): only wakees are woken. */
static const kt__kind_info kind_fanout = { .name = "fanout", .run = run_fanout, .group = 1,
                                           .plus_fanout = true, .last_role = 1,
                                           .lat_roles = 2, .uses_pipes = true };
static const kt__kind_info kind_timer = { .name = "timer", .run = run_timer, .group = 1,
                                          .lat_roles = 1, .check = check_timer };

static const kt__kind_info *const kinds[KT_WORK_NKINDS] = {
    [KT_WORK_SPIN] = &kind_spin,
    [KT_WORK_YIELD] = &kind_yield,
    [KT_WORK_DUTY] = &kind_duty,
    [KT_WORK_PINGPONG] = &kind_pingpong,
    [KT_WORK_FANOUT] = &kind_fanout,
    [KT_WORK_TIMER] = &kind_timer,
    [KT_WORK_MUTEX] = &kt__kind_mutex,
    [KT_WORK_PI] = &kt__kind_pi,
    [KT_WORK_FORK] = &kt__kind_fork,
    [KT_WORK_THREAD] = &kt__kind_thread,
    [KT_WORK_PAGEFAULT] = &kt__kind_pagefault,
    [KT_WORK_CACHE] = &kt__kind_cache,
    [KT_WORK_PIPE] = &kt__kind_pipe,
    [KT_WORK_MESSENGER] = &kt__kind_messenger,
    [KT_WORK_BURSTY] = &kt__kind_bursty,
    [KT_WORK_PREEMPT] = &kt__kind_preempt,
    [KT_WORK_PERIODIC] = &kt__kind_periodic,
};

const kt__kind_info *kt__kind(kt_work_kind k)
{
    if ((unsigned)k >= KT_WORK_NKINDS)
        return NULL;
    return kinds[k];
}

const char *kt_work_kind_name(kt_work_kind k)
{
    return (unsigned)k < KT_WORK_NKINDS ? kinds[k]->name : "?";
}
