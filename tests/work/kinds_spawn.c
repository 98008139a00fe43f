/* FORK and THREAD churn: the rate asked is the rate measured, flat out is
 * faster, every spawn has its latency recorded. */
#include "work/fixture.h"

#include <sys/wait.h>
#include <unistd.h>

/* Spawns per second over a window of ms, after a warm-up. */
static double measured_rate(const kt_work *w, unsigned ms)
{
    uint64_t n0, n1, t0, t1;

    fx_sleep_ms(100);
    n0 = kt_work_iterations(w, 0);
    t0 = kt_now_ns();
    fx_sleep_ms(ms);
    n1 = kt_work_iterations(w, 0);
    t1 = kt_now_ns();
    return (double)(n1 - n0) * 1e9 / (double)(t1 - t0);
}

static void expect_spawn_lat(const kt_work *w)
{
    kt_work_result r;
    kt_hist_summary sm;

    kt_work_get(w, 0, &r, NULL);
    if (!check(r.lat != NULL))
        return;
    kt_hist_summarize(r.lat, &sm);
    check_uint(sm.count, ==, r.iterations);     /* every child stamped */
    check_uint(sm.min, >, 0);
    check_uint(sm.p50, <, 20 * FX_MS);
    test_msg("%s: %llu spawns, latency p50 %.1f us, p99 %.1f us, max %.1f us",
             kt_work_kind_name(r.kind), (unsigned long long)sm.count, sm.p50 / 1e3,
             sm.p99 / 1e3, sm.max / 1e3);
}

static void expect_rate(kt_work_kind kind, uint64_t rate, unsigned ms)
{
    kt_work_spec s = { .kind = kind, .count = 1, .rate = rate };
    kt_err err;
    kt_work *w = fx_start(&s, &err);
    double got;

    if (!w)
        return;
    got = measured_rate(w, ms);
    expect_alive(w);
    kt_work_stop(w);
    expect_stopped(w);
    expect_spawn_lat(w);
    check_dbl(got, >=, rate * 0.9);
    check_dbl(got, <=, rate * 1.1);
    test_msg("%s: asked %llu/s, measured %.1f/s", kt_work_kind_name(kind),
             (unsigned long long)rate, got);
    kt_work_free(w);
}

static void t_fork_rate(void)
{
    expect_rate(KT_WORK_FORK, 200, 1000);
    /* Every child was reaped by its worker: none left for us. */
    check_int(waitpid(-1, NULL, WNOHANG), ==, -1);
}

static void t_thread_rate(void)
{
    expect_rate(KT_WORK_THREAD, 500, 500);
}

/* rate 0: as fast as it goes, well past a paced rate. */
static void expect_flat_out(kt_work_kind kind, double at_least)
{
    kt_work_spec s = { .kind = kind, .count = 1 };
    kt_err err;
    kt_work *w = fx_start(&s, &err);
    double got;

    if (!w)
        return;
    got = measured_rate(w, 300);
    kt_work_stop(w);
    expect_stopped(w);
    expect_spawn_lat(w);
    check_dbl(got, >=, at_least);
    test_msg("%s flat out: %.0f/s", kt_work_kind_name(kind), got);
    kt_work_free(w);
}

static void t_flat_out(void)
{
    expect_flat_out(KT_WORK_FORK, 400);
    expect_flat_out(KT_WORK_THREAD, 1000);
}

static void t_bad_specs(void)
{
    expect_refused(&(kt_work_spec){ .kind = KT_WORK_FORK, .count = 1, .rate = 2000000 }, "rate 2000000");
    expect_refused(&(kt_work_spec){ .kind = KT_WORK_THREAD, .count = 1, .rate = 2000000 }, "(thread): rate");
}

int main(void)
{
    TEST(t_fork_rate(), "fork: 200 forks/s asked, within 10 %% measured over 1 s");
    TEST(t_thread_rate(), "thread: 500 threads/s asked, within 10 %% over 0.5 s");
    TEST(t_flat_out(), "fork and thread at rate 0 outrun a paced rate");
    TEST(t_bad_specs(), "fork and thread rates are checked");
    return test_done();
}
