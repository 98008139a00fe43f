/* PIPE and MESSENGER: every message is received and timed, the compute
 * asked is done (it bounds the rate), and a round waits for every reply. */
#include "work/fixture.h"

#define PIPE_SLOTS (65536 / 8)   /* a default pipe holds 64 KiB of 8-byte stamps */

static void t_pipe(void)
{
    const uint64_t compute_us = 100;
    kt_work_spec s = { .kind = KT_WORK_PIPE, .count = 1, .compute_us = compute_us };
    kt_err err;
    kt_work *w = fx_start(&s, &err);
    kt_work_result p, c;
    kt_hist_summary sm;

    if (!w)
        return;
    fx_sleep_ms(400);
    expect_alive(w);
    kt_work_stop(w);
    expect_stopped(w);
    check_uint(kt_work_count(w), ==, 2);
    kt_work_get(w, 0, &p, NULL);
    kt_work_get(w, 1, &c, NULL);
    check_uint(p.role, ==, 0);
    check_uint(c.role, ==, 1);
    check(p.lat == NULL);                        /* the producer only writes */
    if (!check(c.lat != NULL))
        goto out;
    /* Nothing received that was not sent, nothing sent beyond what the
     * pipe holds, every message timed. */
    check_uint(c.iterations, <=, p.iterations);
    check_uint(p.iterations - c.iterations, <=, PIPE_SLOTS);
    check_uint(c.lat->count, ==, c.iterations);
    check_uint(c.iterations, >=, 100);
    /* Each side spins compute_us per message: neither can go faster. */
    check_uint(p.iterations * compute_us * 1000, <=, p.run_ns + compute_us * 1000);
    check_uint(c.iterations * compute_us * 1000, <=, c.run_ns + compute_us * 1000);
    kt_hist_summarize(c.lat, &sm);
    check_uint(sm.min, >, 0);
    check_uint(sm.p50, <, 200 * FX_MS);
    test_msg("pipe: %llu sent, %llu received (%.0f/s), latency p50 %.1f us, p99 %.1f us",
             (unsigned long long)p.iterations, (unsigned long long)c.iterations, c.per_s,
             sm.p50 / 1e3, sm.p99 / 1e3);
out:
    kt_work_free(w);
}

static void t_messenger(void)
{
    const uint64_t compute_us = 200;
    kt_work_spec s = { .kind = KT_WORK_MESSENGER, .count = 1, .fanout = 2,
                       .compute_us = compute_us };
    kt_err err;
    kt_work *w = fx_start(&s, &err);
    kt_work_result m, r;
    kt_hist all;
    uint64_t requests = 0;

    if (!w)
        return;
    fx_sleep_ms(400);
    expect_alive(w);
    kt_work_stop(w);
    expect_stopped(w);
    check_uint(kt_work_count(w), ==, 3);
    kt_work_get(w, 0, &m, NULL);
    check_uint(m.role, ==, 0);
    if (!check(m.lat != NULL))
        goto out;
    check_uint(m.lat->count, ==, m.iterations);
    check_uint(m.iterations, >=, 50);
    /* A round waits for a worker's compute: no faster than compute_us. */
    check_uint(m.iterations * compute_us * 1000, <=, m.run_ns + compute_us * 1000);
    check_uint(kt_hist_percentile(m.lat, 1), >=, compute_us * 1000);
    for (size_t i = 1; i < 3; i++) {
        kt_work_get(w, i, &r, NULL);
        check_uint(r.role, ==, 1);
        /* Every counted round had this worker's reply; at most the round
         * cut by the stop more. */
        check_uint(r.iterations, >=, m.iterations);
        check_uint(r.iterations, <=, m.iterations + 1);
        if (check(r.lat != NULL)) {
            check_uint(r.lat->count, ==, r.iterations);
            /* post to reply holds the compute */
            check_uint(r.lat->min, >=, compute_us * 1000);
        }
        check_uint(r.msg.max_wake_ns, >, 0);
        check_uint(r.msg.max_wake_ns, <=, r.lat->max);
        requests += r.iterations;
    }
    check_uint(kt_work_latency(w, KT_WORK_MESSENGER, &all), ==, 3);
    test_msg("messenger: %llu rounds, %.0f requests/s, request p50 %.1f us, p99 %.1f us",
             (unsigned long long)m.iterations, requests * 1e9 / m.run_ns,
             kt_hist_percentile(r.lat, 50) / 1e3, kt_hist_percentile(r.lat, 99) / 1e3);
out:
    kt_work_free(w);
}

static void t_bad_specs(void)
{
    expect_refused(&(kt_work_spec){ .kind = KT_WORK_PIPE, .count = 1, .compute_us = 2000000 }, "(pipe): compute_us 2000000");
    expect_refused(&(kt_work_spec){ .kind = KT_WORK_MESSENGER, .count = 1 }, "fanout 0");
    expect_refused(&(kt_work_spec){ .kind = KT_WORK_MESSENGER, .count = 1, .fanout = 1, .compute_us = 2000000 }, "compute_us");
}

int main(void)
{
    TEST(t_pipe(), "pipe: every message received once and timed, compute bounds the rate");
    TEST(t_messenger(), "messenger: rounds wait for every reply, requests timed");
    TEST(t_bad_specs(), "pipe and messenger knobs are checked");
    return test_done();
}
