/* The knobs apply to each worker (read back from the kernel per tid), and
 * a knob that cannot apply stops the start before any worker runs. */
#include "harness/unit.h"

#include <ktstr/work.h>

#include "work/fixture.h"

#include <errno.h>
#include <grp.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Starts spec; NULL (and the point failed) if it would not start. */
static kt_work *start(const kt_work_spec *spec, kt_err *err)
{
    kt_work *w = kt_work_new(0, err);
    int rc;

    if (!w)
        return NULL;
    rc = kt_work_add(w, spec, err);
    if (rc == 0)
        rc = kt_work_start(w, err);
    if (!check_int(rc, ==, 0)) {
        test_msg("%s", err->msg);
        kt_work_free(w);
        return NULL;
    }
    return w;
}

/* Field 19 of /proc/self/task/<tid>/stat: nice. */
static long stat_nice(int tid)
{
    char path[64], buf[1024], *p;
    FILE *f;
    long v = -99;

    snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
    f = fopen(path, "r");
    if (!f)
        return v;
    if (fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')'))) {
        /* p is at the space before field 3 (state): step to the one
         * before field 19. */
        p++;
        for (int field = 3; field < 19 && p; field++)
            p = strchr(p + 1, ' ');
        if (p)
            v = strtol(p + 1, NULL, 10);
    }
    fclose(f);
    return v;
}

static void t_nice(void)
{
    kt_err err;
    kt_work_spec s = { .kind = KT_WORK_SPIN, .count = 2, .set_nice = true, .nice = 7 };
    kt_work *w = start(&s, &err);

    if (!w)
        return;
    for (size_t i = 0; i < 2; i++) {
        int tid = kt_work_tid(w, i);

        errno = 0;
        check_int(getpriority(PRIO_PROCESS, (id_t)tid), ==, 7);
        check_int(errno, ==, 0);
        check_int(stat_nice(tid), ==, 7);
    }
    /* Per thread: the creator keeps its own. */
    check_int(getpriority(PRIO_PROCESS, 0), ==, 0);
    kt_work_free(w);
}

static void t_affinity(void)
{
    kt_err err;
    cpu_set_t mine, got;
    char list[16];
    int last = -1;

    check_int(sched_getaffinity(0, sizeof(mine), &mine), ==, 0);
    for (int c = 0; c < CPU_SETSIZE; c++)
        if (CPU_ISSET(c, &mine))
            last = c;
    snprintf(list, sizeof(list), "%d", last);
    {
        kt_work_spec s = { .kind = KT_WORK_SPIN, .count = 2, .cpus = list };
        kt_work *w = start(&s, &err);

        if (!w)
            return;
        for (size_t i = 0; i < 2; i++) {
            check_int(sched_getaffinity(kt_work_tid(w, i), sizeof(got), &got), ==, 0);
            check_int(CPU_COUNT(&got), ==, 1);
            check(CPU_ISSET(last, &got));
        }
        kt_work_free(w);
    }
    if (CPU_COUNT(&mine) < 2 || !CPU_ISSET(0, &mine) || !CPU_ISSET(1, &mine)) {
        test_skip("pin_each needs CPUs 0 and 1");
        return;
    }
    {
        /* pin_each: the i-th thread on the i-th CPU of the list, round robin. */
        kt_work_spec s = { .kind = KT_WORK_YIELD, .count = 3, .cpus = "1,0", .pin_each = true };
        static const int want[] = { 1, 0, 1 };
        kt_work *w = start(&s, &err);

        if (!w)
            return;
        for (size_t i = 0; i < 3; i++) {
            check_int(sched_getaffinity(kt_work_tid(w, i), sizeof(got), &got), ==, 0);
            check_int(CPU_COUNT(&got), ==, 1);
            check(CPU_ISSET(want[i], &got));
        }
        kt_work_free(w);
    }
}

static void expect_policy(kt_policy p, int want, int prio)
{
    kt_err err;
    /* A timer sleeps most of the time: even FIFO leaves the machine usable. */
    kt_work_spec s = { .kind = KT_WORK_TIMER, .count = 1, .period_us = 1000, .policy = p,
                       .rt_prio = prio };
    kt_work *w = start(&s, &err);
    struct sched_param sp;

    if (!w)
        return;
    check_int(sched_getscheduler(kt_work_tid(w, 0)), ==, want);
    check_int(sched_getparam(kt_work_tid(w, 0), &sp), ==, 0);
    check_int(sp.sched_priority, ==, prio);
    /* SCHED_IDLE under load may wait long for its first turn. */
    for (int k = 0; k < 500 && kt_work_iterations(w, 0) == 0; k++)
        fx_sleep_ms(10);
    check_uint(kt_work_iterations(w, 0), >, 0);
    kt_work_free(w);
    check_int(sched_getscheduler(0), ==, SCHED_OTHER);
}

static void t_policies(void)
{
    expect_policy(KT_POLICY_BATCH, SCHED_BATCH, 0);
    expect_policy(KT_POLICY_IDLE, SCHED_IDLE, 0);
    expect_policy(KT_POLICY_OTHER, SCHED_OTHER, 0);
}

static void t_rt(void)
{
    if (geteuid() != 0) {
        test_skip("FIFO and RR need root here (euid %d)", (int)geteuid());
        return;
    }
    expect_policy(KT_POLICY_FIFO, SCHED_FIFO, 5);
    expect_policy(KT_POLICY_RR, SCHED_RR, 3);
}

static void t_ext(void)
{
    kt_err err = { 0 };
    kt_work_spec s = { .kind = KT_WORK_TIMER, .count = 1, .period_us = 1000, .policy = KT_POLICY_EXT };
    kt_work *w = kt_work_new(0, &err);
    int rc = kt_work_add(w, &s, &err);

    check_int(rc, ==, 0);
    rc = kt_work_start(w, &err);
    if (rc == 0) {
        check_int(sched_getscheduler(kt_work_tid(w, 0)), ==, 7);
        test_msg("SCHED_EXT accepted by this kernel");
    } else {
        /* No sched_ext: a clear error, not a silent SCHED_OTHER. */
        check_int(err.code, ==, EINVAL);
        check_contains(err.msg, "SCHED_EXT");
        check_contains(err.msg, "ktw0");
        check_uint(kt_work_iterations(w, 0), ==, 0);
        test_msg("%s", err.msg);
    }
    kt_work_free(w);
}

/* In a child without privilege: FIFO must fail with EPERM before any
 * worker ran. Exit status says which check failed (0: all held). */
static int eperm_child(void)
{
    struct rlimit none = { 0, 0 };
    kt_err err = { 0 };
    kt_work_spec s = { .kind = KT_WORK_SPIN, .count = 2, .policy = KT_POLICY_FIFO, .rt_prio = 10 };
    kt_work *w;
    int rc;

    if (setrlimit(RLIMIT_RTPRIO, &none) || setgroups(0, NULL) || setgid(65534) || setuid(65534))
        return 10;
    w = kt_work_new(0, &err);
    if (!w || kt_work_add(w, &s, &err))
        return 11;
    rc = kt_work_start(w, &err);
    fprintf(stderr, "# child: %s\n", err.msg);
    if (rc != -1)
        return 12;
    if (err.code != EPERM)
        return 13;
    if (!strstr(err.msg, "SCHED_FIFO") || !strstr(err.msg, "Operation not permitted"))
        return 14;
    for (size_t i = 0; i < kt_work_count(w); i++)
        if (kt_work_iterations(w, i) != 0)
            return 15;
    kt_work_free(w);
    return 0;
}

static void t_fifo_eperm(void)
{
    fx_in_child_as_root(eperm_child);
}

static void t_knob_failure_stops_all(void)
{
    kt_err err = { 0 };
    kt_work *w = kt_work_new(0, &err);
    kt_work_spec ok = { .kind = KT_WORK_SPIN, .count = 2 };
    kt_work_spec bad = { .kind = KT_WORK_SPIN, .count = 1, .cpus = "1000" };  /* no such CPU */
    int rc;

    rc = kt_work_add(w, &ok, &err);
    check_int(rc, ==, 0);
    rc = kt_work_add(w, &bad, &err);
    check_int(rc, ==, 0);
    rc = kt_work_start(w, &err);
    check_int(rc, ==, -1);
    check_int(err.code, ==, EINVAL);
    check_contains(err.msg, "ktw2");
    check_contains(err.msg, "sched_setaffinity(1000)");
    for (size_t i = 0; i < 3; i++)
        check_uint(kt_work_iterations(w, i), ==, 0);
    kt_work_free(w);
}

static void expect_add_error(const kt_work_spec *s, const char *what)
{
    kt_err err = { 0 };
    kt_work *w = kt_work_new(0, &err);
    int rc = kt_work_add(w, s, &err);

    check_int(rc, ==, -1);
    check_int(err.code, ==, EINVAL);
    check_contains(err.msg, what);
    check_uint(kt_work_count(w), ==, 0);
    kt_work_free(w);
}

static void t_bad_specs(void)
{
    kt_err err = { 0 };
    int rc;

    expect_add_error(&(kt_work_spec){ .kind = KT_WORK_SPIN, .count = 0 }, "count 0");
    expect_add_error(&(kt_work_spec){ .kind = (kt_work_kind)42, .count = 1 }, "kind 42");
    expect_add_error(&(kt_work_spec){ .kind = KT_WORK_SPIN, .count = 1, .cpus = "0-" }, "cpu list \"0-\"");
    expect_add_error(&(kt_work_spec){ .kind = KT_WORK_SPIN, .count = 1, .cpus = "3-1" }, "cpu list");
    expect_add_error(&(kt_work_spec){ .kind = KT_WORK_SPIN, .count = 1, .cpus = "" }, "cpu list: empty");
    expect_add_error(&(kt_work_spec){ .kind = KT_WORK_SPIN, .count = 1, .set_nice = true, .nice = 25 }, "nice 25");
    expect_add_error(&(kt_work_spec){ .kind = KT_WORK_SPIN, .count = 1, .policy = KT_POLICY_FIFO }, "rt_prio 0 out of 1..99 for SCHED_FIFO");
    expect_add_error(&(kt_work_spec){ .kind = KT_WORK_SPIN, .count = 1, .rt_prio = 5 }, "rt_prio 5 given");
    expect_add_error(&(kt_work_spec){ .kind = KT_WORK_SPIN, .count = 1, .policy = (kt_policy)99 }, "policy 99");
    expect_add_error(&(kt_work_spec){ .kind = KT_WORK_DUTY, .count = 1 }, "run_us 0");
    expect_add_error(&(kt_work_spec){ .kind = KT_WORK_TIMER, .count = 1 }, "period_us 0");
    expect_add_error(&(kt_work_spec){ .kind = KT_WORK_FANOUT, .count = 1 }, "fanout 0");
    expect_add_error(&(kt_work_spec){ .kind = KT_WORK_SPIN, .count = 100000 }, "more than");
    expect_add_error(&(kt_work_spec){ .kind = KT_WORK_FANOUT, .count = 600, .fanout = 1 }, "more than");
    expect_add_error(&(kt_work_spec){ .kind = KT_WORK_SPIN, .count = 1, .pin_each = true }, "pin_each without a cpus list");
    expect_add_error(&(kt_work_spec){ .kind = KT_WORK_PINGPONG, .count = 1, .wake = (kt_wake)7 }, "wake 7");
    rc = kt_work_add(NULL, &(kt_work_spec){ .kind = KT_WORK_SPIN, .count = 1 }, &err);
    check_int(rc, ==, -1);
    {
        kt_work *w = kt_work_new(0, &err);

        rc = kt_work_start(w, &err);
        check_int(rc, ==, -1);
        check_contains(err.msg, "no workers");
        kt_work_free(w);
    }
    {
        /* kt_work_run: every spec added and started, or NULL naming the bad one */
        kt_work_spec two[] = { { .kind = KT_WORK_SPIN, .count = 1 },
                               { .kind = KT_WORK_DUTY, .count = 2, .run_us = 100, .sleep_us = 100 } };
        kt_work *w = kt_work_run(two, 2, &err);

        if (check(w != NULL)) {
            check_uint(kt_work_count(w), ==, 3);
            check_int(kt_work_tid(w, 2), >, 0);
            kt_work_free(w);
        }
        two[1].run_us = 0;
        check(kt_work_run(two, 2, &err) == NULL);
        check_contains(err.msg, "run_us 0");
        check(kt_work_run(two, 0, &err) == NULL);
        check_contains(err.msg, "no workers");
    }
    check_str(kt_policy_name(KT_POLICY_IDLE), "SCHED_IDLE");
    check_str(kt_policy_name((kt_policy)-1), "?");
    check_str(kt_work_kind_name(KT_WORK_FANOUT), "fanout");
}

/* The helpers scenarios size and pin themselves with. */
static void t_cpu_helpers(void)
{
    int cpus[CPU_SETSIZE], some[3] = { 0, 2, 5 }, n;
    cpu_set_t set;
    char buf[16];
    uint64_t t0;

    check_int(sched_getaffinity(0, sizeof(set), &set), ==, 0);
    n = kt_allowed_cpus(cpus, CPU_SETSIZE, NULL);
    check_int(n, ==, CPU_COUNT(&set));
    for (int i = 0; i < n; i++) {
        check(CPU_ISSET(cpus[i], &set));
        if (i)
            check_int(cpus[i - 1], <, cpus[i]);
    }
    check_int(kt_allowed_cpus(cpus, 1, NULL), ==, 1);   /* cap honoured */

    check_int(kt_cpulist_format(buf, sizeof(buf), some, 3), ==, 0);
    check_str(buf, "0,2,5");
    check_int(kt_cpulist_format(buf, 5, some, 3), ==, -1);   /* "0,2,5" needs 6 */
    check_int(kt_cpulist_format(buf, sizeof(buf), some, 0), ==, -1);

    t0 = kt_now_ns();
    kt_sleep_ms(20);
    check_uint(kt_now_ns() - t0, >=, 20000000u);
}

/* A sampling interval is over after a whole one, or at the window's end
 * after half of one; never for a shorter last sliver. */
static void t_interval_over(void)
{
    const uint64_t iv = 100, end = 1000;

    check(kt_interval_over(0, 100, end, iv));          /* a whole interval */
    check(kt_interval_over(850, 1200, end, iv));       /* late: still one */
    check(!kt_interval_over(0, 99, end, iv));          /* mid-window, short */
    check(!kt_interval_over(960, 1005, end, iv));      /* the window's end: a sliver */
    check(kt_interval_over(950, 1000, end, iv));       /* half of one counts */
    check(!kt_interval_over(400, 450, end, iv));       /* half, but not at the end */
    check(!kt_interval_over(1000, 1000, end, iv));     /* nothing since */
}

int main(void)
{
    TEST(t_nice(), "nice applies per thread (getpriority, /proc stat field 19)");
    TEST(t_affinity(), "affinity applies per thread, pin_each spreads the list");
    TEST(t_policies(), "SCHED_BATCH, SCHED_IDLE, SCHED_OTHER apply");
    TEST(t_rt(), "SCHED_FIFO and SCHED_RR apply with their priority as root");
    TEST(t_ext(), "SCHED_EXT applies or fails with a clear EINVAL");
    TEST(t_fifo_eperm(), "FIFO without privilege: EPERM before any worker ran");
    TEST(t_knob_failure_stops_all(), "one failing knob: start fails, no worker runs");
    TEST(t_bad_specs(), "bad specs are refused with the field named");
    TEST(t_cpu_helpers(), "allowed CPUs, cpu lists and sleeps for scenarios");
    TEST(t_interval_over(), "a sampling interval: a whole one, or half of one at the end");
    return test_done();
}
