/* Series claims: every operation passing and failing with its exact
 * record, NaN, too few samples, unsorted timestamps, caller errors, and
 * kt_series_from_timeline on a timeline built by hand. */
#include "harness/unit.h"

#include <ktstr/series.h>

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MS 1000000ull

/* The last failure recorded, or a record of empty strings. */
static const kt_claim_record *last(const kt_verdict *v)
{
    static const kt_claim_record none = { "", "", "", "", "(none)", "", 0, true };
    size_t n = kt_verdict_failure_count(v);

    return n ? kt_verdict_failure(v, n - 1) : &none;
}

/* A series of n samples at ms[i] milliseconds with values x[i]. */
static kt_series *make(const char *label, size_t n, const double *ms, const double *x)
{
    kt_series *s = kt_series_new(label);

    if (!check(s != NULL))
        return NULL;
    for (size_t i = 0; i < n; i++)
        check_int(kt_series_add(s, (uint64_t)(ms[i] * MS), x[i]), ==, 0);
    return s;
}

/* Checks that exactly one claim was checked and one failure recorded,
 * with these strings. */
static void check_failed(const kt_verdict *v, const char *op, const char *expected,
                         const char *actual, const char *message)
{
    check_uint(kt_verdict_claims(v), ==, 1);
    check_uint(kt_verdict_failed(v), ==, 1);
    check_uint(kt_verdict_failure_count(v), ==, 1);
    check_str(last(v)->op, op);
    check_str(last(v)->expected, expected);
    check_str(last(v)->actual, actual);
    check_str(last(v)->message, message);
    check(!last(v)->passed);
}

static const double T4[] = { 0, 10, 20, 30 };
static const double SHARE4[] = { 0.5, 0.3, 0.6, 0.2 };

static void t_accessors(void)
{
    kt_series *s = make("share.ktw0", 4, T4, SHARE4);

    check_str(kt_series_label(s), "share.ktw0");
    check_uint(kt_series_count(s), ==, 4);
    check_uint(kt_series_times(s)[3], ==, 30 * MS);
    check_dbl(kt_series_values(s)[1], ==, 0.3);
    kt_series_free(s);

    s = kt_series_new(NULL);
    check_str(kt_series_label(s), "");
    check_uint(kt_series_count(s), ==, 0);
    check(kt_series_times(s) == NULL);
    check(kt_series_values(s) == NULL);
    kt_series_free(s);
    kt_series_free(NULL);
    check_int(kt_series_add(NULL, 1, 1), ==, -1);
    check_uint(kt_series_count(NULL), ==, 0);
}

static void t_each_at_least(void)
{
    kt_series *s = make("share.ktw0", 4, T4, SHARE4);
    kt_verdict v;
    int line;

    kt_verdict_init(&v);
    check(CLAIM_SERIES(&v, s, each_at_least, 0.2));
    check_uint(kt_verdict_claims(&v), ==, 1);   /* 4 samples, one claim */
    check(kt_verdict_passed(&v));
    kt_verdict_fini(&v);

    kt_verdict_init(&v);
    line = __LINE__ + 1;
    check(!CLAIM_SERIES(&v, s, each_at_least, 0.4));
    check_failed(&v, "each_at_least", "0.4", "0.3",
                 "share.ktw0 (each.at_least 0.4): 2 of 4 samples outside, first at sample 1 (+10ms): value 0.3");
    check_str(last(&v)->label, "share.ktw0");
    check_str(last(&v)->file, __FILE__);
    check_int(last(&v)->line, ==, line);
    kt_verdict_fini(&v);
    kt_series_free(s);
}

static void t_each_at_most(void)
{
    kt_series *s = make("share", 4, T4, SHARE4);
    kt_verdict v;

    kt_verdict_init(&v);
    check(CLAIM_SERIES(&v, s, each_at_most, 0.6));
    check(kt_verdict_passed(&v));
    check(!CLAIM_SERIES(&v, s, each_at_most, 0.55));
    check_uint(kt_verdict_claims(&v), ==, 2);
    check_uint(kt_verdict_failed(&v), ==, 1);
    check_str(last(&v)->op, "each_at_most");
    check_str(last(&v)->expected, "0.55");
    check_str(last(&v)->actual, "0.6");
    check_str(last(&v)->message,
              "share (each.at_most 0.55): 1 of 4 samples outside, first at sample 2 (+20ms): value 0.6");
    kt_verdict_fini(&v);
    kt_series_free(s);
}

static void t_each_between(void)
{
    kt_series *s = make("share", 4, T4, SHARE4);
    kt_verdict v;

    kt_verdict_init(&v);
    check(CLAIM_SERIES(&v, s, each_between, 0.2, 0.6));   /* inclusive */
    check(kt_verdict_passed(&v));
    kt_verdict_fini(&v);

    kt_verdict_init(&v);
    check(!CLAIM_SERIES(&v, s, each_between, 0.25, 0.55));
    check_failed(&v, "each_between", "[0.25, 0.55]", "0.6",
                 "share (each.between [0.25, 0.55]): 2 of 4 samples outside, first at sample 2 (+20ms): value 0.6");
    kt_verdict_fini(&v);
    kt_series_free(s);
}

static void t_nondecreasing(void)
{
    static const double up[] = { 1, 2, 2, 3 }, down[] = { 1, 2, 2, 1.5 };
    kt_series *s = make("run_ns", 4, T4, up);
    kt_verdict v;

    kt_verdict_init(&v);
    check(CLAIM_SERIES(&v, s, nondecreasing));   /* equal steps are fine */
    check(kt_verdict_passed(&v));
    kt_verdict_fini(&v);
    kt_series_free(s);

    s = make("run_ns", 4, T4, down);
    kt_verdict_init(&v);
    check(!CLAIM_SERIES(&v, s, nondecreasing));
    check_failed(&v, "nondecreasing", "nondecreasing", "1.5",
                 "run_ns (nondecreasing): value 1.5 at sample 3 (+30ms) after 2 at sample 2");
    kt_verdict_fini(&v);
    kt_series_free(s);
}

static void t_rate_within(void)
{
    static const double x[] = { 0, 5, 10, 30 };   /* 500/s, 500/s, 2000/s */
    kt_series *s = make("iterations", 4, T4, x);
    kt_verdict v;

    kt_verdict_init(&v);
    check(CLAIM_SERIES(&v, s, rate_within, 500, 2000));
    check(kt_verdict_passed(&v));
    kt_verdict_fini(&v);

    kt_verdict_init(&v);
    check(!CLAIM_SERIES(&v, s, rate_within, 0, 1000));
    check_failed(&v, "rate_within", "[0, 1000]/s", "2000",
                 "iterations (rate_within [0, 1000]/s): rate 2000/s between samples 2 and 3 (+30ms)");
    kt_verdict_fini(&v);

    kt_verdict_init(&v);
    check(!CLAIM_SERIES(&v, s, rate_within, 600, 1e9));
    check_failed(&v, "rate_within", "[600, 1000000000]/s", "500",
                 "iterations (rate_within [600, 1000000000]/s): rate 500/s between samples 0 and 1 (+10ms)");
    kt_verdict_fini(&v);
    kt_series_free(s);
}

static void t_steady_within(void)
{
    static const double t[] = { 0, 10, 20, 30, 40, 50, 60 };
    /* warm-up to 20 ms; after it the mean is 10, band [5, 15] at tol 0.5 */
    static const double x[] = { 100, 50, 10, 12, 8, 16, 4 };
    static const double calm[] = { 100, 50, 10, 12, 8, 14, 6 };
    kt_series *s = make("rate", 7, t, x);
    kt_verdict v;

    kt_verdict_init(&v);
    check(!CLAIM_SERIES(&v, s, steady_within, 20, 0.5));
    check_failed(&v, "steady_within", "0.5 after 20ms", "16",
                 "rate (steady_within 0.5 after 20ms): sample 5 (+50ms): value 16 outside [5, 15]");
    kt_verdict_fini(&v);

    kt_verdict_init(&v);
    check(CLAIM_SERIES(&v, s, steady_within, 20, 0.6));   /* [4, 16]: inclusive */
    check(kt_verdict_passed(&v));
    /* without the warm-up the first samples drag the mean up */
    check(!CLAIM_SERIES(&v, s, steady_within, 0, 0.6));
    check_uint(kt_verdict_failed(&v), ==, 1);
    kt_verdict_fini(&v);
    kt_series_free(s);

    s = make("rate", 7, t, calm);
    kt_verdict_init(&v);
    check(CLAIM_SERIES(&v, s, steady_within, 15, 0.5));   /* 15 ms: from sample 2 */
    check(kt_verdict_passed(&v));
    kt_verdict_fini(&v);
    kt_series_free(s);

    /* a negative mean: the band is still [lo, hi] */
    static const double neg[] = { -20, -20, -20, -10, -30 };
    s = make("offset", 5, t, neg);
    kt_verdict_init(&v);
    check(!CLAIM_SERIES(&v, s, steady_within, 0, 0.25));
    check_str(last(&v)->message,
              "offset (steady_within 0.25 after 0ms): sample 3 (+30ms): value -10 outside [-25, -15]");
    kt_verdict_fini(&v);
    kt_series_free(s);
}

static void t_converges_to(void)
{
    static const double t[] = { 0, 10, 20, 30, 40, 50, 60 };
    static const double x[] = { 5, 1.05, 0.95, 2, 1, 1.02, 0.99 };
    kt_series *s = make("ratio", 7, t, x);
    kt_verdict v;

    kt_verdict_init(&v);
    check(CLAIM_SERIES(&v, s, converges_to, 1, 0.1, 60));   /* third at +60ms */
    check(kt_verdict_passed(&v));
    kt_verdict_fini(&v);

    kt_verdict_init(&v);
    check(!CLAIM_SERIES(&v, s, converges_to, 1, 0.1, 50));
    check_failed(&v, "converges_to", "1 +/-0.1 by 50ms", "0.99",
                 "ratio (converges_to 1 +/-0.1 by 50ms): no 3 consecutive samples in band (7 samples)");
    kt_verdict_fini(&v);

    kt_verdict_init(&v);   /* in band now and then, never three in a row */
    check(!CLAIM_SERIES(&v, s, converges_to, 1, 0.015, 1000));
    check_str(last(&v)->message,
              "ratio (converges_to 1 +/-0.015 by 1000ms): no 3 consecutive samples in band (7 samples)");
    kt_verdict_fini(&v);
    kt_series_free(s);
}

static void t_nan(void)
{
    static const double t[] = { 0, 10, 20 };
    static const double x[] = { 10, NAN, 10 };
    kt_series *s = make("n", 3, t, x);
    kt_verdict v;

    kt_verdict_init(&v);
    check(!CLAIM_SERIES(&v, s, each_at_least, 0));
    check(!CLAIM_SERIES(&v, s, each_at_most, 100));
    check(!CLAIM_SERIES(&v, s, each_between, -INFINITY, INFINITY));
    check(!CLAIM_SERIES(&v, s, nondecreasing));
    check(!CLAIM_SERIES(&v, s, rate_within, -INFINITY, INFINITY));
    check(!CLAIM_SERIES(&v, s, steady_within, 0, 0.1));
    check(!CLAIM_SERIES(&v, s, converges_to, 10, 1, 1000));
    check_uint(kt_verdict_claims(&v), ==, 7);
    check_uint(kt_verdict_failure_count(&v), ==, 7);
    check_str(kt_verdict_failure(&v, 0)->message,
              "n (each.at_least 0): 1 of 3 samples outside, first at sample 1 (+10ms): value nan");
    check_str(kt_verdict_failure(&v, 0)->actual, "nan");
    check_str(kt_verdict_failure(&v, 2)->message,
              "n (each.between [-inf, inf]): 1 of 3 samples outside, first at sample 1 (+10ms): value nan");
    check_str(kt_verdict_failure(&v, 3)->message,
              "n (nondecreasing): value nan at sample 1 (+10ms) after 10 at sample 0");
    check_str(kt_verdict_failure(&v, 4)->message,
              "n (rate_within [-inf, inf]/s): rate nan/s between samples 0 and 1 (+10ms)");
    /* NaN stays out of the mean (10) and is the offender */
    check_str(kt_verdict_failure(&v, 5)->message,
              "n (steady_within 0.1 after 0ms): sample 1 (+10ms): value nan outside [9, 11]");
    check_str(kt_verdict_failure(&v, 6)->message,
              "n (converges_to 10 +/-1 by 1000ms): no 3 consecutive samples in band (3 samples)");
    kt_verdict_fini(&v);
    kt_series_free(s);

    /* a NaN bound: nothing is in bounds */
    s = make("n", 4, T4, SHARE4);
    kt_verdict_init(&v);
    check(!CLAIM_SERIES(&v, s, each_at_least, NAN));
    check_str(last(&v)->message,
              "n (each.at_least nan): 4 of 4 samples outside, first at sample 0 (+0ms): value 0.5");
    kt_verdict_fini(&v);
    kt_series_free(s);
}

static void t_too_few(void)
{
    static const double t[] = { 0, 10, 20 }, x[] = { 1, 1, 1 };
    kt_series *one = make("x", 1, t, x), *two = make("x", 2, t, x);
    kt_series *empty = kt_series_new("x"), *three = make("x", 3, t, x);
    kt_verdict v;

    kt_verdict_init(&v);
    check(!CLAIM_SERIES(&v, one, each_at_least, 0));
    check_failed(&v, "each_at_least", "0", "1", "x (each.at_least 0): 1 samples, need 2");
    kt_verdict_fini(&v);

    kt_verdict_init(&v);
    check(!CLAIM_SERIES(&v, empty, each_at_most, 1));
    check(!CLAIM_SERIES(&v, empty, each_between, 0, 1));
    check(!CLAIM_SERIES(&v, one, nondecreasing));
    check(!CLAIM_SERIES(&v, one, rate_within, 0, 1));
    check(!CLAIM_SERIES(&v, one, steady_within, 0, 0.1));
    check(!CLAIM_SERIES(&v, two, converges_to, 1, 0.1, 100));
    /* steady_within counts the samples at or after the warm-up */
    check(!CLAIM_SERIES(&v, three, steady_within, 15, 0.1));
    check(CLAIM_SERIES(&v, three, steady_within, 10, 0.1));
    check(CLAIM_SERIES(&v, three, converges_to, 1, 0, 20));
    check_uint(kt_verdict_claims(&v), ==, 9);
    check_uint(kt_verdict_failure_count(&v), ==, 7);
    check_str(kt_verdict_failure(&v, 0)->message, "x (each.at_most 1): 0 samples, need 2");
    check_str(kt_verdict_failure(&v, 0)->actual, "0");
    check_str(kt_verdict_failure(&v, 1)->message, "x (each.between [0, 1]): 0 samples, need 2");
    check_str(kt_verdict_failure(&v, 2)->message, "x (nondecreasing): 1 samples, need 2");
    check_str(kt_verdict_failure(&v, 3)->message, "x (rate_within [0, 1]/s): 1 samples, need 2");
    check_str(kt_verdict_failure(&v, 4)->message,
              "x (steady_within 0.1 after 0ms): 1 samples, need 2");
    check_str(kt_verdict_failure(&v, 5)->message,
              "x (converges_to 1 +/-0.1 by 100ms): 2 samples, need 3");
    check_str(kt_verdict_failure(&v, 6)->message,
              "x (steady_within 0.1 after 15ms): 1 samples, need 2");
    kt_verdict_fini(&v);
    kt_series_free(one);
    kt_series_free(two);
    kt_series_free(three);
    kt_series_free(empty);
}

static void t_unsorted(void)
{
    static const double t[] = { 0, 20, 10 }, same[] = { 0, 0, 10 }, x[] = { 1, 2, 3 };
    kt_series *s = make("x", 3, t, x);
    kt_verdict v;

    kt_verdict_init(&v);
    check(!CLAIM_SERIES(&v, s, each_at_least, 0));   /* would hold if sorted */
    check_failed(&v, "each_at_least", "0", "3",
                 "x (each.at_least 0): caller error: timestamps not sorted (sample 2 at 10000000ns is before sample 1 at 20000000ns)");
    check(!CLAIM_SERIES(&v, s, nondecreasing));
    check_str(last(&v)->message,
              "x (nondecreasing): caller error: timestamps not sorted (sample 2 at 10000000ns is before sample 1 at 20000000ns)");
    kt_verdict_fini(&v);
    kt_series_free(s);

    /* equal timestamps are sorted; a rate over no time is not a rate */
    s = make("x", 3, same, x);
    kt_verdict_init(&v);
    check(CLAIM_SERIES(&v, s, each_at_least, 0));
    check(CLAIM_SERIES(&v, s, nondecreasing));
    check(!CLAIM_SERIES(&v, s, rate_within, 0, 1e12));
    check_str(last(&v)->message,
              "x (rate_within [0, 1000000000000]/s): caller error: samples 0 and 1 at the same time (+0ms)");
    check_uint(kt_verdict_failed(&v), ==, 1);
    kt_verdict_fini(&v);
    kt_series_free(s);
}

static void t_caller_errors(void)
{
    kt_series *s = make("x", 4, T4, SHARE4);
    kt_verdict v;

    kt_verdict_init(&v);
    check(!CLAIM_SERIES(&v, s, each_between, 2, 1));
    check(!CLAIM_SERIES(&v, s, rate_within, 2, 1));
    check(!CLAIM_SERIES(&v, s, steady_within, 0, -0.1));
    check(!CLAIM_SERIES(&v, s, steady_within, 0, NAN));
    check(!CLAIM_SERIES(&v, s, steady_within, -5, 0.1));
    check(!CLAIM_SERIES(&v, s, converges_to, 1, -1, 10));
    check(!CLAIM_SERIES(&v, s, converges_to, 1, 1, -10));
    check(!CLAIM_SERIES(&v, NULL, nondecreasing));
    check_uint(kt_verdict_claims(&v), ==, 8);
    check_uint(kt_verdict_failure_count(&v), ==, 8);
    check_str(kt_verdict_failure(&v, 0)->message,
              "x (each.between [2, 1]): caller error: interval inverted (lo=2 > hi=1)");
    check_str(kt_verdict_failure(&v, 0)->expected, "[2, 1]");
    check_str(kt_verdict_failure(&v, 0)->actual, "4");
    check_str(kt_verdict_failure(&v, 1)->message,
              "x (rate_within [2, 1]/s): caller error: interval inverted (lo=2 > hi=1)");
    check_str(kt_verdict_failure(&v, 2)->message,
              "x (steady_within -0.1 after 0ms): caller error: tolerance negative (=-0.1)");
    check_str(kt_verdict_failure(&v, 3)->message,
              "x (steady_within nan after 0ms): caller error: tolerance negative (=nan)");
    check_str(kt_verdict_failure(&v, 4)->message,
              "x (steady_within 0.1 after -5ms): caller error: warm-up negative (=-5ms)");
    check_str(kt_verdict_failure(&v, 5)->message,
              "x (converges_to 1 +/--1 by 10ms): caller error: tolerance negative (=-1)");
    check_str(kt_verdict_failure(&v, 6)->message,
              "x (converges_to 1 +/-1 by -10ms): caller error: deadline negative (=-10ms)");
    check_str(kt_verdict_failure(&v, 7)->message,
              "(no series) (nondecreasing): caller error: series is NULL");
    check_str(kt_verdict_failure(&v, 7)->label, "(no series)");
    kt_verdict_fini(&v);
    kt_series_free(s);
}

static void t_op_names(void)
{
    check_str(kt_series_op_name(KT_SERIES_EACH_AT_LEAST), "each_at_least");
    check_str(kt_series_op_name(KT_SERIES_EACH_AT_MOST), "each_at_most");
    check_str(kt_series_op_name(KT_SERIES_EACH_BETWEEN), "each_between");
    check_str(kt_series_op_name(KT_SERIES_NONDECREASING), "nondecreasing");
    check_str(kt_series_op_name(KT_SERIES_RATE_WITHIN), "rate_within");
    check_str(kt_series_op_name(KT_SERIES_STEADY_WITHIN), "steady_within");
    check_str(kt_series_op_name(KT_SERIES_CONVERGES_TO), "converges_to");
    check_str(kt_series_op_name((kt_series_op)99), "?");
}

typedef struct seen {
    int passes, fails;
    char message[256], actual[64], op[32];
} seen;

static void sink(void *arg, kt_event ev, const kt_claim_record *rec, const char *text)
{
    seen *s = arg;

    (void)text;
    if (ev == KT_EVENT_PASS)
        s->passes++;
    else if (ev == KT_EVENT_FAIL)
        s->fails++;
    else
        return;
    snprintf(s->message, sizeof(s->message), "%s", rec->message);
    snprintf(s->actual, sizeof(s->actual), "%s", rec->actual);
    snprintf(s->op, sizeof(s->op), "%s", rec->op);
}

static void t_sink(void)
{
    kt_series *s = make("share", 4, T4, SHARE4);
    kt_verdict v;
    seen got = { 0 };

    kt_verdict_init(&v);
    kt_verdict_set_sink(&v, sink, &got, true);
    check(CLAIM_SERIES(&v, s, each_at_least, 0.1));
    check_int(got.passes, ==, 1);
    check_str(got.message, "share (each.at_least 0.1): held for 4 samples");
    check_str(got.actual, "0.2");   /* the last value */
    check_str(got.op, "each_at_least");
    check(!CLAIM_SERIES(&v, s, nondecreasing));
    check_int(got.fails, ==, 1);
    check_str(got.message, "share (nondecreasing): value 0.3 at sample 1 (+10ms) after 0.5 at sample 0");
    check_uint(kt_verdict_claims(&v), ==, 2);
    kt_verdict_fini(&v);
    kt_series_free(s);
}

static void t_long_label(void)
{
    char label[3000];
    kt_series *s;
    kt_verdict v;

    memset(label, 'a', sizeof(label) - 1);
    label[sizeof(label) - 1] = '\0';
    s = make(label, 4, T4, SHARE4);
    kt_verdict_init(&v);
    check(!CLAIM_SERIES(&v, s, each_at_least, 1));
    check_uint(strlen(last(&v)->label), <=, KT_VERDICT_STR_MAX);
    check_contains(last(&v)->label, "...[cut]");
    check_contains(last(&v)->message, "...[cut] (each.at_least 1): 4 of 4 samples outside");
    kt_verdict_fini(&v);
    kt_series_free(s);
}

/* ---- kt_series_from_timeline ---------------------------------------- */

/* Target 0: schedstat, read at 1, 11, 21, 31 ms with run_ns 0, 5, 10, 12 ms.
 * Target 1: procstat, not read at tick 2, then gone at tick 4. */
static kt_timeline *hand_timeline(void)
{
    uint32_t f[2] = { kt_sources_fields(KT_SRC_SCHEDSTAT), kt_sources_fields(KT_SRC_PROCSTAT) };
    static const uint64_t run[] = { 0, 5 * MS, 10 * MS, 12 * MS, 3 * MS };
    static const uint64_t busy[] = { 100, 200, 0, 400, 0 };
    kt_err err = { 0 };
    kt_timeline *tl = kt_timeline_new(2, f, 8, &err);

    if (!check(tl != NULL))
        return NULL;
    for (size_t t = 0; t < 5; t++) {
        uint64_t vals[KT_F_COUNT] = { 0 };

        vals[KT_F_RUN_NS] = run[t];
        vals[KT_F_CPU_BUSY_NS] = busy[t];
        check_int(kt_timeline_record(tl, 0, (1 + 10 * t) * MS, vals), ==, 0);
        if (t == 4)
            kt_timeline_mark_gone(tl, 1, ESRCH);
        else if (t != 2)
            check_int(kt_timeline_record(tl, 1, (2 + 10 * t) * MS, vals), ==, 0);
        check_int(kt_timeline_commit(tl), ==, 0);
    }
    return tl;
}

static void t_from_timeline(void)
{
    kt_timeline *tl = hand_timeline();
    kt_series *raw, *delta, *rate, *share, *busy;
    kt_verdict v;

    if (!tl)
        return;
    /* tick 4 reset run_ns to 3 ms: the change since the reset is 3 ms */
    raw = kt_series_from_timeline(tl, 0, KT_F_RUN_NS, "run_ns.ktw0");
    delta = kt_series_from_timeline(tl, 0, KT_SERIES_DELTA(KT_F_RUN_NS), "ran.ktw0");
    rate = kt_series_from_timeline(tl, 0, KT_SERIES_RATE(KT_F_RUN_NS), "rate.ktw0");
    share = kt_series_from_timeline(tl, 0, KT_SERIES_SHARE(KT_F_RUN_NS), "share.ktw0");
    busy = kt_series_from_timeline(tl, 1, KT_SERIES_DELTA(KT_F_CPU_BUSY_NS), "busy.cpu");

    check_str(kt_series_label(raw), "run_ns.ktw0");
    check_uint(kt_series_count(raw), ==, 5);
    check_uint(kt_series_times(raw)[0], ==, 1 * MS);
    check_dbl(kt_series_values(raw)[3], ==, 12e6);

    check_uint(kt_series_count(delta), ==, 4);
    check_uint(kt_series_times(delta)[0], ==, 11 * MS);   /* the later tick */
    check_dbl(kt_series_values(delta)[0], ==, 5e6);
    check_dbl(kt_series_values(delta)[2], ==, 2e6);
    check_dbl(kt_series_values(delta)[3], ==, 3e6);

    check_uint(kt_series_count(rate), ==, 4);
    check_dbl(kt_series_values(rate)[0], ==, 5e8);   /* ns per second */
    check_dbl(kt_series_values(rate)[2], ==, 2e8);

    check_uint(kt_series_count(share), ==, 4);
    check_dbl(kt_series_values(share)[1], ==, 0.5);
    check_dbl(kt_series_values(share)[2], ==, 0.2);

    /* target 1: ticks 0, 1, 3 read; the interval 1..3 spans the gap */
    check_uint(kt_series_count(busy), ==, 2);
    check_uint(kt_series_times(busy)[1], ==, 32 * MS);
    check_dbl(kt_series_values(busy)[0], ==, 100);
    check_dbl(kt_series_values(busy)[1], ==, 200);

    kt_verdict_init(&v);
    check(!CLAIM_SERIES(&v, raw, nondecreasing));   /* the reset */
    check_str(last(&v)->message,
              "run_ns.ktw0 (nondecreasing): value 3000000 at sample 4 (+40ms) after 12000000 at sample 3");
    check(!CLAIM_SERIES(&v, share, each_at_least, 0.4));
    check_str(last(&v)->message,
              "share.ktw0 (each.at_least 0.4): 2 of 4 samples outside, first at sample 2 (+20ms): value 0.2");
    check(CLAIM_SERIES(&v, share, each_between, 0.2, 0.5));
    check(CLAIM_SERIES(&v, rate, rate_within, -3e10, 3e10));
    check_uint(kt_verdict_claims(&v), ==, 4);
    check_uint(kt_verdict_failed(&v), ==, 2);
    kt_verdict_fini(&v);

    kt_series_free(raw);
    kt_series_free(delta);
    kt_series_free(rate);
    kt_series_free(share);
    kt_series_free(busy);
    kt_timeline_free(tl);
}

static void t_from_timeline_errors(void)
{
    kt_timeline *tl = hand_timeline();
    kt_series *s[4];
    kt_verdict v;

    if (!tl)
        return;
    s[0] = kt_series_from_timeline(tl, 0, KT_SERIES_SHARE(KT_F_CPU_BUSY_NS), "busy");
    s[1] = kt_series_from_timeline(tl, 5, KT_F_RUN_NS, "run");
    s[2] = kt_series_from_timeline(NULL, 0, KT_F_RUN_NS, "run");
    s[3] = kt_series_from_timeline(tl, 0, 0x400u | KT_F_RUN_NS, "run");
    kt_verdict_init(&v);
    for (int i = 0; i < 4; i++) {
        check(s[i] != NULL);
        check_uint(kt_series_count(s[i]), ==, 0);
        check(!CLAIM_SERIES(&v, s[i], each_at_least, 0));
    }
    check_uint(kt_verdict_failure_count(&v), ==, 4);
    check_str(kt_verdict_failure(&v, 0)->message,
              "busy (each.at_least 0): caller error: target 0 has no field cpu_busy_ns (share) in the timeline");
    check_str(kt_verdict_failure(&v, 1)->message,
              "run (each.at_least 0): caller error: target 5 not in the timeline (2 targets)");
    check_str(kt_verdict_failure(&v, 2)->message,
              "run (each.at_least 0): caller error: timeline is NULL");
    check_str(kt_verdict_failure(&v, 3)->message,
              "run (each.at_least 0): caller error: field 0x400 is not a kt_field in KT_SERIES_RAW/DELTA/RATE/SHARE");
    kt_verdict_fini(&v);
    for (int i = 0; i < 4; i++)
        kt_series_free(s[i]);
    kt_timeline_free(tl);
}

static void t_window(void)
{
    const double ms[] = { 0, 100, 200, 300, 400 }, x[] = { 1, 2, 3, 4, 5 };
    kt_series *s = make("share", 5, ms, x), *w, *none;
    kt_verdict v;

    w = kt_series_window(s, 100 * MS, 300 * MS, "share.after");
    check_str(kt_series_label(w), "share.after");
    check_uint(kt_series_count(w), ==, 2);          /* [100, 300): 100 and 200 */
    check_dbl(kt_series_values(w)[0], ==, 2);
    check_dbl(kt_series_values(w)[1], ==, 3);
    check_uint(kt_series_times(w)[0], ==, 100 * MS);
    kt_series_free(w);
    w = kt_series_window(s, 0, UINT64_MAX, NULL);   /* NULL label: s's own */
    check_str(kt_series_label(w), "share");
    check_uint(kt_series_count(w), ==, 5);
    kt_series_free(w);
    none = kt_series_window(s, 500 * MS, 900 * MS, "empty");
    kt_verdict_init(&v);
    check(!kt_claim_series(&v, none, KT_SERIES_EACH_AT_LEAST, 0, 0, 0, "f.c", 1));
    check_contains(last(&v)->message, "0 samples, need 2");
    kt_verdict_fini(&v);
    kt_series_free(none);
    kt_series_free(s);
}

int main(void)
{
    TEST(t_accessors(), "kt_series keeps its label and samples");
    TEST(t_each_at_least(), "each_at_least: passes, fails naming the first offender and the count");
    TEST(t_each_at_most(), "each_at_most: passes and fails with its message");
    TEST(t_each_between(), "each_between: inclusive, fails with its message");
    TEST(t_nondecreasing(), "nondecreasing: equal steps pass, a drop fails with its message");
    TEST(t_rate_within(), "rate_within: per-second rates, fails with its message");
    TEST(t_steady_within(), "steady_within: band around the post-warm-up mean");
    TEST(t_converges_to(), "converges_to: 3 consecutive in band by the deadline");
    TEST(t_nan(), "NaN is never in bounds, for every operation");
    TEST(t_too_few(), "too few samples: {n} samples, need {m}");
    TEST(t_unsorted(), "unsorted timestamps are a caller error");
    TEST(t_caller_errors(), "inverted intervals, negative tolerances, NULL: caller errors");
    TEST(t_op_names(), "operation names");
    TEST(t_sink(), "a sink sees one pass or one failure per series claim");
    TEST(t_long_label(), "a long label is cut as the verdict cuts");
    TEST(t_from_timeline(), "kt_series_from_timeline: raw, delta, rate, share, gaps, resets");
    TEST(t_window(), "kt_series_window: the samples of [from, to), the label given or kept");
    TEST(t_from_timeline_errors(), "kt_series_from_timeline: bad input fails the claims");
    return test_done();
}
