/* The loop of each worker kind, and the table that names them. Every loop
 * ends when it sees the stop flag; blocking waits recheck it at least
 * every KT__WAIT_SLICE_MS, and kt_work_stop() also wakes them at once. */
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

static uint64_t spin_chunk(uint64_t x)
{
    /* A dependent chain the compiler cannot fold or vectorise. */
    for (int k = 0; k < SPIN_CHUNK; k++)
        x = x * 6364136223846793005u + 1442695040888963407u;
    return x;
}

static void run_spin(kt__wrun *r)
{
    volatile uint64_t sink;
    uint64_t x = r->i;

    while (!kt__stopped(r)) {
        x = spin_chunk(x);
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
            x = spin_chunk(x);
            now = kt_now_ns();
            kt__progress(r->self, now);
        } while (now - t0 < run_ns && !kt__stopped(r));
        if (r->spec->sleep_us)
            kt__sleep_ns(r->spec->sleep_us * 1000u);
    }
    sink = x;
    (void)sink;
}

/* Reads one 8-byte stamp; false on stop or a dead pipe. */
static bool pipe_recv(kt__wrun *r, int fd, uint64_t *stamp)
{
    ssize_t n;

    do {
        n = read(fd, stamp, sizeof(*stamp));
    } while (n < 0 && errno == EINTR);
    return n == (ssize_t)sizeof(*stamp) && !kt__stopped(r);
}

static bool pipe_send(int fd, uint64_t stamp)
{
    ssize_t n;

    do {
        n = write(fd, &stamp, sizeof(stamp));
    } while (n < 0 && errno == EINTR);
    return n == (ssize_t)sizeof(stamp);
}

/* Waits until *word != val; false on stop. */
static bool wait_change(kt__wrun *r, _Atomic uint32_t *word, uint32_t val)
{
    while (atomic_load_explicit(word, memory_order_acquire) == val) {
        if (kt__stopped(r))
            return false;
        kt__futex_wait(word, val, KT__WAIT_SLICE_MS);
    }
    return !kt__stopped(r);
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

    if (r->role == 0 && !pipe_send(out, kt_now_ns()))
        return;
    while (pipe_recv(r, in, &stamp)) {
        now = kt_now_ns();
        kt_hist_record(&r->self->lat, now - stamp);
        kt__progress(r->self, now);
        if (!pipe_send(out, kt_now_ns()))
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
                if (!pipe_send(r->pipes[r->i + 1 + k][1], stamp))
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
            if (!pipe_recv(r, r->pipes[r->i][0], &stamp))
                return;
        } else {
            if (!wait_change(r, &w->word, seen))
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
 * already past instead of firing a burst to catch up. */
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
        kt_hist_record(&r->self->lat, now - deadline);
        kt__progress(r->self, now);
        while (deadline <= now)
            deadline += period;
    }
}

static const kt__kind_info kinds[KT_WORK_NKINDS] = {
    [KT_WORK_SPIN] = { .name = "spin", .run = run_spin, .group = 1, .waker_role = -1 },
    [KT_WORK_YIELD] = { .name = "yield", .run = run_yield, .group = 1, .waker_role = -1 },
    [KT_WORK_DUTY] = { .name = "duty", .run = run_duty, .group = 1, .waker_role = -1 },
    /* Two sides that wake each other: both record latency. */
    [KT_WORK_PINGPONG] = { .name = "pingpong", .run = run_pingpong, .group = 2,
                           .last_role = 1, .waker_role = -1, .has_lat = true,
                           .uses_pipes = true },
    /* One waker (role 0) and .fanout wakees (role 1): only wakees are woken. */
    [KT_WORK_FANOUT] = { .name = "fanout", .run = run_fanout, .group = 1,
                         .plus_fanout = true, .last_role = 1, .waker_role = 0,
                         .has_lat = true, .uses_pipes = true },
    [KT_WORK_TIMER] = { .name = "timer", .run = run_timer, .group = 1, .waker_role = -1,
                        .has_lat = true },
};

const kt__kind_info *kt__kind(kt_work_kind k)
{
    if ((unsigned)k >= KT_WORK_NKINDS)
        return NULL;
    return &kinds[k];
}

const char *kt_work_kind_name(kt_work_kind k)
{
    return (unsigned)k < KT_WORK_NKINDS ? kinds[k].name : "?";
}
