/* Every worker kind starts behind the barrier, names itself ktw<N>, makes
 * progress, records its latencies and stops; the gap bookkeeping catches
 * an injected stall. Bounds are loose: the machine is shared and loaded. */
#include "harness/unit.h"

#include <ktstr/work.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MS 1000000u

static void sleep_ms(unsigned ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

    while (nanosleep(&ts, &ts))
        ;
}

/* comm of a thread of ours, or of a process worker (pid). */
static void read_comm(int tid, bool process, char *buf, size_t len)
{
    char path[64];
    FILE *f;

    if (process)
        snprintf(path, sizeof(path), "/proc/%d/comm", tid);
    else
        snprintf(path, sizeof(path), "/proc/self/task/%d/comm", tid);
    buf[0] = '\0';
    f = fopen(path, "r");
    if (!f)
        return;
    if (fgets(buf, (int)len, f))
        buf[strcspn(buf, "\n")] = '\0';
    fclose(f);
}

/* Runs one spec for run_ms and checks what every kind must do. */
static kt_work *run_spec(const kt_work_spec *spec, unsigned first, unsigned run_ms)
{
    kt_err err = { 0 };
    kt_work *w = kt_work_new(first, &err);
    char comm[32], want[32];
    int rc;

    if (!check(w))
        return NULL;
    rc = kt_work_add(w, spec, &err);
    if (rc == 0)
        rc = kt_work_start(w, &err);
    if (!check_int(rc, ==, 0)) {
        test_msg("%s", err.msg);
        kt_work_free(w);
        return NULL;
    }
    sleep_ms(run_ms);
    for (size_t i = 0; i < kt_work_count(w); i++) {
        kt_work_result r;

        rc = kt_work_get(w, i, &r, &err);
        check_int(rc, ==, 0);
        check_int(r.tid, >, 0);
        check_int(kt_work_tid(w, i), ==, r.tid);   /* live, while it runs */
        read_comm(kt_work_tid(w, i), spec->process, comm, sizeof(comm));
        snprintf(want, sizeof(want), "ktw%zu", first + i);
        check_str(comm, want);
        check_uint(kt_work_iterations(w, i), >, 0);
        check_uint(kt_work_last_progress_ns(w, i), <=, kt_now_ns());
        /* Live CPU time through the worker's CPU clock id. */
        check_uint(kt_work_cpu_ns(w, i), >, 0);
    }
    kt_work_stop(w);
    for (size_t i = 0; i < kt_work_count(w); i++) {
        kt_work_result r;
        char path[64];
        struct stat st;

        kt_work_get(w, i, &r, &err);
        check_uint(r.index, ==, first + i);
        check_int(kt_work_tid(w, i), ==, r.tid);
        check_uint(r.iterations, >, 0);
        check_uint(r.run_ns, >=, (uint64_t)run_ms * MS / 2);
        check_uint(r.max_gap_ns, >, 0);
        check_uint(r.max_gap_ns, <=, r.run_ns);
        /* Stopped means gone: joined threads, reaped processes. A joined
         * thread's /proc entry may outlive the join by a moment (the
         * kernel clears the tid before the task is released). */
        snprintf(path, sizeof(path), spec->process ? "/proc/%d" : "/proc/self/task/%d", r.tid);
        for (int k = 0; k < 100 && stat(path, &st) == 0; k++)
            sleep_ms(10);
        check(stat(path, &st) != 0);
    }
    check_int(kt_work_tid(w, kt_work_count(w)), ==, -1);   /* out of range */
    return w;
}

static void t_spin(void)
{
    kt_work_spec s = { .kind = KT_WORK_SPIN, .count = 2 };
    kt_work *w = run_spec(&s, 0, 300);
    kt_work_result r;

    if (!w)
        return;
    for (size_t i = 0; i < 2; i++) {
        kt_work_get(w, i, &r, NULL);
        check_uint(r.cpu_ns, >, 10 * MS);       /* it did burn CPU */
        check_uint(r.cpu_ns, <=, r.run_ns + MS);
        check(r.lat == NULL);
    }
    kt_work_free(w);
}

static void t_yield(void)
{
    kt_work_spec s = { .kind = KT_WORK_YIELD, .count = 2 };

    kt_work_free(run_spec(&s, 3, 200));
}

static void t_duty(void)
{
    kt_work_spec s = { .kind = KT_WORK_DUTY, .count = 1, .run_us = 2000, .sleep_us = 8000 };
    kt_work *w = run_spec(&s, 0, 400);
    kt_work_result r;

    if (!w)
        return;
    kt_work_get(w, 0, &r, NULL);
    /* About 20 % busy; allow anything clearly below a hog. */
    check_uint(r.cpu_ns, <, r.run_ns * 6 / 10);
    check_uint(r.max_gap_ns, >=, 4 * MS);       /* the 8 ms sleep is a gap */
    kt_work_free(w);
}

static void expect_lat(const kt_work_result *r)
{
    kt_hist_summary s;

    if (!check(r->lat != NULL))
        return;
    kt_hist_summarize(r->lat, &s);
    check_uint(s.count, >, 0);
    check_uint(s.p50, <, 10 * MS);
    check_uint(s.max, >=, s.p50);
    check_uint(s.max, <, 10000 * MS);
}

static void t_pingpong(kt_wake wake)
{
    kt_work_spec s = { .kind = KT_WORK_PINGPONG, .count = 1, .wake = wake };
    kt_work *w = run_spec(&s, 0, 300);
    kt_work_result r;
    kt_hist all;

    if (!w)
        return;
    check_uint(kt_work_count(w), ==, 2);
    for (size_t i = 0; i < 2; i++) {
        kt_work_get(w, i, &r, NULL);
        check_uint(r.role, ==, i);
        expect_lat(&r);
    }
    check_uint(kt_work_latency(w, KT_WORK_PINGPONG, &all), ==, 2);
    check_uint(all.count, >, 10);
    {
        kt_hist_summary sm;

        kt_hist_summarize(&all, &sm);
        test_msg("pingpong %s: %llu wakes, p50 %llu ns, p99 %llu ns, max %llu ns",
                 wake == KT_WAKE_PIPE ? "pipe" : "futex", (unsigned long long)sm.count,
                 (unsigned long long)sm.p50, (unsigned long long)sm.p99,
                 (unsigned long long)sm.max);
    }
    kt_work_free(w);
}

static void t_fanout(kt_wake wake)
{
    kt_work_spec s = { .kind = KT_WORK_FANOUT, .count = 1, .fanout = 3, .wake = wake };
    kt_work *w = run_spec(&s, 0, 300);
    kt_work_result r;

    if (!w)
        return;
    check_uint(kt_work_count(w), ==, 4);
    kt_work_get(w, 0, &r, NULL);
    check_uint(r.role, ==, 0);
    check(r.lat == NULL);                        /* the waker records none */
    for (size_t i = 1; i < 4; i++) {
        kt_work_get(w, i, &r, NULL);
        check_uint(r.role, ==, 1);
        expect_lat(&r);
    }
    kt_work_free(w);
}

/* Stopping lands mid-round almost every time when the waker never pauses:
 * such a round must not count, or every wakee seems to have missed it. */
static void t_fanout_stop_mid_round(void)
{
    kt_work_spec s = { .kind = KT_WORK_FANOUT, .count = 1, .fanout = 3 };
    unsigned short_counts = 0, over_counts = 0;

    for (int cycle = 0; cycle < 20; cycle++) {
        kt_err err = { 0 };
        kt_work *w = kt_work_new(0, &err);
        kt_work_result waker, wakee;
        int rc = w ? kt_work_add(w, &s, &err) : -1;

        if (rc == 0)
            rc = kt_work_start(w, &err);
        if (!check_int(rc, ==, 0)) {
            test_msg("%s", err.msg);
            kt_work_free(w);
            return;
        }
        sleep_ms(10);
        kt_work_stop(w);
        kt_work_get(w, 0, &waker, NULL);
        for (size_t i = 1; i < 4; i++) {
            kt_work_get(w, i, &wakee, NULL);
            short_counts += wakee.iterations < waker.iterations;
            over_counts += wakee.iterations > waker.iterations + 1;
        }
        kt_work_free(w);
    }
    check_uint(short_counts, ==, 0);   /* a wakee never misses a counted round */
    check_uint(over_counts, ==, 0);    /* and is at most the cut round ahead */
}

static void t_timer(void)
{
    kt_work_spec s = { .kind = KT_WORK_TIMER, .count = 1, .period_us = 2000 };
    kt_work *w = run_spec(&s, 0, 300);
    kt_work_result r;

    if (!w)
        return;
    kt_work_get(w, 0, &r, NULL);
    expect_lat(&r);
    /* 150 deadlines in 300 ms, every one recorded even when a loaded
     * machine made a wake skip some (open loop); the wakes may be fewer. */
    check_uint(r.lat->count, >=, r.run_ns / 2000000 - 1);
    check_uint(r.lat->count, <=, r.run_ns / 2000000 + 1);
    check_uint(r.lat->count, >=, r.iterations);
    check_uint(r.iterations, >=, 20);
    kt_work_free(w);
}

static void t_gap_injected(void)
{
    kt_work_spec s = { .kind = KT_WORK_SPIN, .count = 1, .stall_once_us = 50000 };
    kt_work *w = run_spec(&s, 0, 200);
    kt_work_result r;

    if (!w)
        return;
    kt_work_get(w, 0, &r, NULL);
    check_uint(r.max_gap_ns, >=, 50 * MS);
    test_msg("longest gap %.3f ms of %.3f ms run", r.max_gap_ns / 1e6, r.run_ns / 1e6);
    kt_work_free(w);
}

static void t_process_workers(void)
{
    kt_work_spec s = { .kind = KT_WORK_SPIN, .count = 2, .process = true };
    kt_work_spec pp = { .kind = KT_WORK_PINGPONG, .count = 1, .process = true };
    kt_work *w = run_spec(&s, 7, 200);

    kt_work_free(w);
    w = run_spec(&pp, 0, 200);
    if (w) {
        kt_work_result r;

        kt_work_get(w, 1, &r, NULL);
        expect_lat(&r);
    }
    kt_work_free(w);
    /* Every child reaped: nothing left to wait for. */
    check_int(waitpid(-1, NULL, WNOHANG), ==, -1);
    check_int(errno, ==, ECHILD);
}

static void t_mixed_set(void)
{
    kt_err err = { 0 };
    kt_work *w = kt_work_new(0, &err);
    kt_work_spec a = { .kind = KT_WORK_SPIN, .count = 1 };
    kt_work_spec b = { .kind = KT_WORK_TIMER, .count = 2, .period_us = 1000 };
    kt_work_result r;
    int rc;

    rc = kt_work_add(w, &a, &err);
    check_int(rc, ==, 0);
    rc = kt_work_add(w, &b, &err);
    check_int(rc, ==, 0);
    check_uint(kt_work_count(w), ==, 3);
    rc = kt_work_start(w, &err);
    check_int(rc, ==, 0);
    /* Neither adding nor starting again once started. */
    rc = kt_work_add(w, &a, &err);
    check_int(rc, ==, -1);
    check_contains(err.msg, "already started");
    rc = kt_work_start(w, &err);
    check_int(rc, ==, -1);
    sleep_ms(100);
    kt_work_stop(w);
    kt_work_stop(w);
    rc = kt_work_get(w, 2, &r, &err);
    check_int(rc, ==, 0);
    check_uint(r.index, ==, 2);
    check(r.kind == KT_WORK_TIMER);
    rc = kt_work_get(w, 3, &r, &err);
    check_int(rc, ==, -1);
    check_contains(err.msg, "worker 3 of 3");
    kt_work_free(w);
    kt_work_free(NULL);
}

/* The newer kinds, each set to block or sleep as long as it can (10 s
 * pauses, 1 spawn a second, a 1 s compute): kt_work_stop() still
 * returns at once, and each worker named itself. Kinds that need
 * SCHED_FIFO come last and are skipped without it. */
static void t_stop_prompt(void)
{
    const kt_work_spec specs[] = {
        { .kind = KT_WORK_MUTEX, .count = 2, .hold_us = 1000, .sleep_us = 10000000 },
        { .kind = KT_WORK_FORK, .count = 1, .rate = 1 },
        { .kind = KT_WORK_THREAD, .count = 1, .rate = 1 },
        { .kind = KT_WORK_PAGEFAULT, .count = 1, .bytes = 1 << 20 },
        { .kind = KT_WORK_CACHE, .count = 1, .bytes = 1 << 20 },
        { .kind = KT_WORK_PIPE, .count = 1, .compute_us = 1000000 },
        { .kind = KT_WORK_MESSENGER, .count = 1, .fanout = 2, .sleep_us = 10000000 },
        { .kind = KT_WORK_BURSTY, .count = 1, .burst_us = 10, .idle_us = 10000000 },
        { .kind = KT_WORK_PREEMPT, .count = 2, .period_us = 10000000 },
        { .kind = KT_WORK_PI, .count = 1, .fanout = 1, .pi = true, .hold_us = 100,
          .run_us = 100, .sleep_us = 10000000 },
        { .kind = KT_WORK_PERIODIC, .count = 1, .period_us = 10000000, .budget_us = 100,
          .policy = KT_POLICY_FIFO, .rt_prio = 5 },
    };

    for (size_t k = 0; k < sizeof(specs) / sizeof(specs[0]); k++) {
        const char *name = kt_work_kind_name(specs[k].kind);
        kt_err err = { 0 };
        kt_work *w = kt_work_new(0, &err);
        char comm[32], want[32];
        uint64_t t0, took;
        int rc = kt_work_add(w, &specs[k], &err);

        if (rc == 0)
            rc = kt_work_start(w, &err);
        if (rc && err.code == EPERM) {
            test_msg("%s: skipped, needs SCHED_FIFO: %s", name, err.msg);
            kt_work_free(w);
            continue;
        }
        if (!check_int(rc, ==, 0)) {
            test_msg("%s: %s", name, err.msg);
            kt_work_free(w);
            continue;
        }
        sleep_ms(100);
        for (size_t i = 0; i < kt_work_count(w); i++) {
            read_comm(kt_work_tid(w, i), false, comm, sizeof(comm));
            snprintf(want, sizeof(want), "ktw%zu", i);
            check_str(comm, want);
        }
        t0 = kt_now_ns();
        kt_work_stop(w);
        took = kt_now_ns() - t0;
        if (!check_uint(took, <, 300 * MS))
            test_msg("%s: kt_work_stop took %.1f ms", name, took / 1e6);
        for (size_t i = 0; i < kt_work_count(w); i++) {
            kt_work_result r;

            kt_work_get(w, i, &r, NULL);
            check(r.error == NULL);
            check(r.kind == specs[k].kind);
        }
        kt_work_free(w);
    }
}

/* Every kind has a name of its own. */
static void t_kind_names(void)
{
    for (int a = 0; a < KT_WORK_NKINDS; a++) {
        check(strcmp(kt_work_kind_name((kt_work_kind)a), "?") != 0);
        for (int b = 0; b < a; b++)
            check(strcmp(kt_work_kind_name((kt_work_kind)a),
                         kt_work_kind_name((kt_work_kind)b)) != 0);
    }
    check_str(kt_work_kind_name(KT_WORK_MESSENGER), "messenger");
    check_str(kt_work_kind_name(KT_WORK_NKINDS), "?");
}

int main(void)
{
    TEST(t_spin(), "spin workers: ktw<N>, progress, CPU time, stop");
    TEST(t_yield(), "yield workers numbered from first_index");
    TEST(t_duty(), "duty cycle: runs part of the time, sleep shows as a gap");
    TEST(t_pingpong(KT_WAKE_FUTEX), "ping-pong over futex records wake latency");
    TEST(t_pingpong(KT_WAKE_PIPE), "ping-pong over pipe records wake latency");
    TEST(t_fanout(KT_WAKE_FUTEX), "fan-out over futex: every wakee records latency");
    TEST(t_fanout(KT_WAKE_PIPE), "fan-out over pipe: every wakee records latency");
    TEST(t_fanout_stop_mid_round(), "fan-out: a round cut short by stop is not counted");
    TEST(t_timer(), "timer records the lateness of every deadline due");
    TEST(t_gap_injected(), "an injected 50 ms stall shows as the longest gap");
    TEST(t_process_workers(), "process workers: named, progress, reaped");
    TEST(t_mixed_set(), "a set of two specs; misuse is refused");
    TEST(t_stop_prompt(), "every newer kind stops at once, even mid-pause, and names itself");
    TEST(t_kind_names(), "every kind has a name of its own");
    return test_done();
}
