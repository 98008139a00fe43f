/* BURSTY, PREEMPT and PERIODIC: phases replay from the seed, wakeups
 * come at the rate asked and preempt what runs, RT jobs meet light
 * deadlines and miss them under overload. */
#include "work/fixture.h"

#include <sched.h>

static void t_bursty(void)
{
    kt_work_spec s = { .kind = KT_WORK_BURSTY, .count = 2, .burst_us = 3000, .idle_us = 5000,
                       .seed = 42 };
    kt_err err;
    kt_work *w = fx_start(&s, &err);
    kt_work_result r[2];
    uint64_t on, off, on2, off2;

    if (!w)
        return;
    fx_sleep_ms(500);
    expect_alive(w);
    kt_work_stop(w);
    expect_stopped(w);
    for (unsigned i = 0; i < 2; i++) {
        kt_work_get(w, i, &r[i], NULL);
        check_uint(r[i].burst.phases, >=, 10);
        /* The lengths are the seed's: the plan replays them. */
        kt_work_bursty_plan(&s, i, r[i].burst.phases, &on, &off);
        check_uint(r[i].burst.planned_on_ns, ==, on);
        check_uint(r[i].burst.planned_off_ns, ==, off);
        /* Uniform in [1, max]: mean about max / 2 per phase. */
        check_uint(on, <=, r[i].burst.phases * 3000 * 1000);
        check_uint(on, >=, r[i].burst.phases * 3000 * 1000 / 4);
        /* Each on phase spun at least its length (in wall time: a
         * preemption lengthens it), but burned no more CPU than drawn
         * (load only lowers that): a phase spun to burst_us each time
         * would burn twice it. The off phases really slept. */
        check_uint(r[i].burst.busy_ns, >=, on);
        check_uint(r[i].cpu_ns, <=, on * 13 / 10 + 10 * FX_MS);
        check_uint(r[i].run_ns, >=, on + off);
        check_uint(r[i].cpu_ns, <=, r[i].run_ns - off * 8 / 10);
        test_msg("bursty ktw%u: %llu phases, on %.1f ms drawn / %.1f ms spun, off %.1f ms, "
                 "cpu %.1f ms of %.1f ms", i, (unsigned long long)r[i].burst.phases, on / 1e6,
                 r[i].burst.busy_ns / 1e6, off / 1e6, r[i].cpu_ns / 1e6, r[i].run_ns / 1e6);
    }
    /* Each worker its own stream; another seed other lengths; the same
     * seed the same ones. */
    kt_work_bursty_plan(&s, 0, 10, &on, &off);
    kt_work_bursty_plan(&s, 1, 10, &on2, &off2);
    check(on != on2 || off != off2);
    s.seed = 43;
    kt_work_bursty_plan(&s, 0, 10, &on2, &off2);
    check(on != on2 || off != off2);
    s.seed = 42;
    kt_work_bursty_plan(&s, 0, 10, &on2, &off2);
    check_uint(on2, ==, on);
    check_uint(off2, ==, off);
    kt_work_free(w);
}

/* The CPU this process may use last (the first is busiest here). */
static int last_cpu(char *buf, size_t n)
{
    int cpus[CPU_SETSIZE], k = kt_allowed_cpus(cpus, CPU_SETSIZE, NULL);

    if (k < 1)
        return -1;
    snprintf(buf, n, "%d", cpus[k - 1]);
    return 0;
}

static void t_preempt(void)
{
    const unsigned count = 4, period_us = 2000, ms = 500;
    char cpu[16];
    kt_work_spec specs[2] = {
        { .kind = KT_WORK_SPIN, .count = 1, .cpus = cpu },
        { .kind = KT_WORK_PREEMPT, .count = count, .period_us = period_us, .compute_us = 20,
          .policy = KT_POLICY_FIFO, .rt_prio = 20, .cpus = cpu },
    };
    kt_err err = { 0 };
    kt_work *w;
    kt_work_result r;
    kt_hist all;
    long long cs0, cs1;
    uint64_t w0 = 0, w1 = 0, t0, t1;
    double expected;

    if (!check_int(last_cpu(cpu, sizeof(cpu)), ==, 0))
        return;
    w = fx_try(specs, 2, &err);
    if (!w) {
        if (!fx_skip_eperm(&err)) {
            check(w != NULL);
            test_msg("%s", err.msg);
        }
        return;
    }
    fx_sleep_ms(50);
    /* The spinner's involuntary switches: each FIFO wakeup on its CPU
     * takes the CPU from it. */
    cs0 = fx_status_field(kt_work_tid(w, 0), "nonvoluntary_ctxt_switches");
    for (size_t i = 1; i <= count; i++)
        w0 += kt_work_iterations(w, i);
    t0 = kt_now_ns();
    fx_sleep_ms(ms);
    cs1 = fx_status_field(kt_work_tid(w, 0), "nonvoluntary_ctxt_switches");
    for (size_t i = 1; i <= count; i++)
        w1 += kt_work_iterations(w, i);
    t1 = kt_now_ns();
    expect_alive(w);
    kt_work_stop(w);
    expect_stopped(w);
    expected = (double)(t1 - t0) / (period_us * 1000.0) * count;
    check_dbl(w1 - w0, >=, expected * 0.7);
    check_dbl(w1 - w0, <=, expected * 1.05 + count);
    check_int(cs0, >=, 0);
    check_dbl(cs1 - cs0, >=, (w1 - w0) * 0.5);
    for (size_t i = 1; i <= count; i++) {
        kt_work_get(w, i, &r, NULL);
        check_uint(r.lat->count, ==, r.iterations);
    }
    check_uint(kt_work_latency(w, KT_WORK_PREEMPT, &all), ==, count);
    check_uint(kt_hist_percentile(&all, 50), <, 2 * FX_MS);
    test_msg("preempt: %llu wakes in %.0f ms (%.0f expected), spinner preempted %lld times, "
             "wake p50 %.1f us, p99 %.1f us", (unsigned long long)(w1 - w0), (t1 - t0) / 1e6,
             expected, cs1 - cs0, kt_hist_percentile(&all, 50) / 1e3,
             kt_hist_percentile(&all, 99) / 1e3);
    kt_work_free(w);
}

/* One run of a light periodic job; false when it would not start. */
static bool periodic_light_once(const char *cpu, kt_work_result *r, kt_err *err)
{
    kt_work_spec s = { .kind = KT_WORK_PERIODIC, .count = 1, .period_us = 10000, .budget_us = 200,
                       .policy = KT_POLICY_FIFO, .rt_prio = 20, .cpus = cpu };
    kt_work *w = fx_try(&s, 1, err);

    if (!w)
        return false;
    fx_sleep_ms(600);
    expect_alive(w);
    kt_work_stop(w);
    expect_stopped(w);
    kt_work_get(w, 0, r, NULL);
    check_uint(r->lat->count, ==, r->iterations);
    /* One job a period: about 60 in 600 ms. */
    check_uint(r->iterations, >=, 48);
    check_uint(r->iterations, <=, r->run_ns / 10000000 + 1);
    check_uint(r->periodic.max_response_ns, >=, 200000);   /* the budget, at least */
    /* The budget is CPU time: jobs x budget of it. */
    check_uint(r->cpu_ns, >=, r->iterations * 200000);
    test_msg("periodic 200/10000 us: %llu jobs, %llu missed, worst response %.0f us, "
             "start lateness p99 %.1f us", (unsigned long long)r->iterations,
             (unsigned long long)r->periodic.missed, r->periodic.max_response_ns / 1e3,
             kt_hist_percentile(r->lat, 99) / 1e3);
    kt_work_free(w);
    return true;
}

/* 2 % of a CPU at FIFO 20 misses nothing. Here (a 2-vCPU guest on a
 * shared host) a whole 10 ms period was lost now and then, with no other
 * RT task in the guest: one run with a miss is run again, and the point
 * fails when the second misses too. A kind that misses by itself misses
 * in both. */
static void t_periodic_light(void)
{
    char cpu[16];
    kt_err err = { 0 };
    kt_work_result r;

    if (!check_int(last_cpu(cpu, sizeof(cpu)), ==, 0))
        return;
    for (int attempt = 0; attempt < 2; attempt++) {
        if (!periodic_light_once(cpu, &r, &err)) {
            if (!fx_skip_eperm(&err)) {
                check(false);
                test_msg("%s", err.msg);
            }
            return;
        }
        if (r.periodic.missed == 0)
            break;
        test_msg("attempt %d missed %llu: a stall of the machine, or of the kind?", attempt + 1,
                 (unsigned long long)r.periodic.missed);
    }
    check_uint(r.periodic.missed, ==, 0);
    check_uint(r.periodic.max_response_ns, <, 10 * FX_MS);
}

/* Two jobs of 3 ms every 4 ms on one CPU: demand 150 %, so deadlines
 * must be missed (and the count says so). */
static void t_periodic_overload(void)
{
    char cpu[16];
    kt_work_spec s = { .kind = KT_WORK_PERIODIC, .count = 2, .period_us = 4000, .budget_us = 3000,
                       .policy = KT_POLICY_FIFO, .rt_prio = 20, .cpus = cpu };
    kt_err err = { 0 };
    kt_work *w;
    kt_work_result r;
    uint64_t missed = 0, jobs = 0;

    if (!check_int(last_cpu(cpu, sizeof(cpu)), ==, 0))
        return;
    w = fx_try(&s, 1, &err);
    if (!w) {
        if (!fx_skip_eperm(&err)) {
            check(w != NULL);
            test_msg("%s", err.msg);
        }
        return;
    }
    fx_sleep_ms(200);
    kt_work_stop(w);
    expect_stopped(w);
    for (size_t i = 0; i < 2; i++) {
        kt_work_get(w, i, &r, NULL);
        missed += r.periodic.missed;
        jobs += r.iterations;
    }
    /* At most 4 ms of work fits in each 4 ms: of 6 ms asked, a third of
     * the jobs at least must be late or skipped. */
    check_uint(missed, >=, (jobs + missed) / 4);
    test_msg("periodic overload: %llu jobs, %llu missed", (unsigned long long)jobs,
             (unsigned long long)missed);
    kt_work_free(w);
}

static void t_bad_specs(void)
{
    expect_refused(&(kt_work_spec){ .kind = KT_WORK_BURSTY, .count = 1, .idle_us = 10 }, "burst_us 0");
    expect_refused(&(kt_work_spec){ .kind = KT_WORK_BURSTY, .count = 1, .burst_us = 10 }, "idle_us 0");
    expect_refused(&(kt_work_spec){ .kind = KT_WORK_PREEMPT, .count = 1 }, "(preempt): period_us 0");
    expect_refused(&(kt_work_spec){ .kind = KT_WORK_PREEMPT, .count = 1, .period_us = 10, .compute_us = 10 }, "compute_us 10");
    expect_refused(&(kt_work_spec){ .kind = KT_WORK_PERIODIC, .count = 1, .period_us = 10, .budget_us = 5 }, "policy inherited");
    expect_refused(&(kt_work_spec){ .kind = KT_WORK_PERIODIC, .count = 1, .period_us = 10, .budget_us = 10,
                                    .policy = KT_POLICY_RR, .rt_prio = 1 }, "budget_us 10");
    expect_refused(&(kt_work_spec){ .kind = KT_WORK_PERIODIC, .count = 1, .budget_us = 10,
                                    .policy = KT_POLICY_RR, .rt_prio = 1 }, "(periodic): period_us 0");
}

int main(void)
{
    TEST(t_bursty(), "bursty: phases replay from the seed, spin on, sleep off");
    TEST(t_preempt(), "preempt: wakes at count / period, each preempting a spinner");
    TEST(t_periodic_light(), "periodic RT: a light budget misses no deadline");
    TEST(t_periodic_overload(), "periodic RT: 150 %% demand on one CPU misses deadlines");
    TEST(t_bad_specs(), "bursty, preempt and periodic knobs are checked");
    return test_done();
}
