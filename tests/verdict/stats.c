/* Reductions against hand-computed values (lib/verdict/stats.c). */
#include "harness/unit.h"

#include <ktstr/stats.h>
#include <ktstr/verdict.h>

#include <math.h>
#include <string.h>

static void t_basic(void)
{
    /* mean 5; deviations^2 sum to 32, /8 = 4: population stddev 2 */
    const double x[] = { 9, 2, 4, 5, 4, 7, 4, 5 };
    double copy[8];
    kt_summary s;
    kt_err err = { 0, "" };

    memcpy(copy, x, sizeof(x));
    check_int(kt_summarize(x, 8, NULL, &s, &err), ==, 0);
    check_uint(s.n, ==, 8);
    check_uint(s.nan_count, ==, 0);
    check_dbl(s.min, ==, 2);
    check_dbl(s.max, ==, 9);
    check_dbl(s.mean, ==, 5);
    check_dbl(s.stddev, ==, 2);
    check_dbl(s.cv, ==, 0.4);
    check_dbl(s.spread, ==, 7.0 / 5.0);
    /* sum 40, sum of squares 232: 1600 / (8 * 232) */
    check_dbl(s.jain, ==, 1600.0 / 1856.0);
    /* sorted 2 4 4 4 5 5 7 9: ranks ceil(.5*8)=4, ceil(.9*8)=8, 8, 8 */
    check_dbl(s.p50, ==, 4);
    check_dbl(s.p90, ==, 9);
    check_dbl(s.p99, ==, 9);
    check_dbl(s.p999, ==, 9);
    check(memcmp(copy, x, sizeof(x)) == 0); /* input untouched */
}

static void t_percentile_ranks(void)
{
    double x[1000];
    size_t i;

    check_uint(kt_percentile_rank(100, 99), ==, 99);
    check_uint(kt_percentile_rank(100, 50), ==, 50);
    check_uint(kt_percentile_rank(100, 90), ==, 90);
    check_uint(kt_percentile_rank(1000, 99.9), ==, 999);
    check_uint(kt_percentile_rank(10000, 99.9), ==, 9990);
    check_uint(kt_percentile_rank(1000, 99), ==, 990);
    check_uint(kt_percentile_rank(10, 99.9), ==, 10);
    check_uint(kt_percentile_rank(3, 50), ==, 2);
    check_uint(kt_percentile_rank(4, 50), ==, 2);
    check_uint(kt_percentile_rank(5, 10), ==, 1);
    check_uint(kt_percentile_rank(5, 0), ==, 1);
    check_uint(kt_percentile_rank(5, 100), ==, 5);
    check_uint(kt_percentile_rank(101, 99), ==, 100); /* 99.99 -> 100 */
    check_uint(kt_percentile_rank(7, 14.29), ==, 2);  /* 1.0003 -> 2 */
    check_uint(kt_percentile_rank(0, 50), ==, 0);
    check_uint(kt_percentile_rank(5, -1), ==, 0);
    check_uint(kt_percentile_rank(5, 100.5), ==, 0);
    check_uint(kt_percentile_rank(5, NAN), ==, 0);

    for (i = 0; i < 1000; i++)
        x[i] = (double)(i + 1); /* 1..1000, sorted */
    check_dbl(kt_percentile_sorted(x, 100, 99), ==, 99);
    check_dbl(kt_percentile_sorted(x, 1000, 99.9), ==, 999);
    check_dbl(kt_percentile_sorted(x, 1000, 50), ==, 500);
    check(isnan(kt_percentile_sorted(x, 0, 50)));
    check(isnan(kt_percentile_sorted(x, 10, 101)));
}

static void t_percentiles_of_100(void)
{
    double x[100];
    kt_summary s;
    size_t i;

    for (i = 0; i < 100; i++)
        x[i] = (double)(100 - i); /* reversed: the sort matters */
    check_int(kt_summarize(x, 100, NULL, &s, NULL), ==, 0);
    check_dbl(s.p50, ==, 50);
    check_dbl(s.p90, ==, 90);
    check_dbl(s.p99, ==, 99);
    check_dbl(s.p999, ==, 100);
    check_dbl(s.mean, ==, 50.5);
    check_dbl(s.min, ==, 1);
    check_dbl(s.max, ==, 100);
    check_dbl(x[0], ==, 100);
}

static void t_jain(void)
{
    const double equal[] = { 3, 3, 3, 3 };
    const double one[] = { 0, 0, 0, 8 };
    const double zeros[] = { 0, 0 };
    const double half[] = { 1, 0 };

    check_dbl(kt_jain(equal, 4), ==, 1);
    check_dbl(kt_jain(one, 4), ==, 0.25);
    check_dbl(kt_jain(half, 2), ==, 0.5);
    check(isnan(kt_jain(zeros, 2)));
    check(isnan(kt_jain(equal, 0)));
}

static void t_nan_input(void)
{
    const double x[] = { 1, NAN, 3, NAN };
    kt_summary s;
    kt_verdict v;

    check_int(kt_summarize(x, 4, NULL, &s, NULL), ==, 0);
    check_uint(s.n, ==, 4);
    check_uint(s.nan_count, ==, 2);
    check(isnan(s.min) && isnan(s.max) && isnan(s.mean) && isnan(s.stddev));
    check(isnan(s.p50) && isnan(s.p99) && isnan(s.jain) && isnan(s.spread));
    kt_verdict_init(&v);
    check(!CLAIM(&v, s.max, at_most, 1e300)); /* any claim on it fails */
    check_str(kt_verdict_failure(&v, 0)->message, "s.max: expected at most 1e+300, was nan");
    kt_verdict_fini(&v);
}

static void t_empty(void)
{
    kt_summary s;

    check_int(kt_summarize(NULL, 0, NULL, &s, NULL), ==, 0);
    check_uint(s.n, ==, 0);
    check_uint(s.nan_count, ==, 0);
    check(isnan(s.mean) && isnan(s.min) && isnan(s.p50) && isnan(s.jain));
}

static void t_single_and_zero_mean(void)
{
    const double one[] = { 4 };
    const double sym[] = { -1, 1 };
    kt_summary s;

    check_int(kt_summarize(one, 1, NULL, &s, NULL), ==, 0);
    check_dbl(s.mean, ==, 4);
    check_dbl(s.stddev, ==, 0);
    check_dbl(s.cv, ==, 0);
    check_dbl(s.spread, ==, 0);
    check_dbl(s.p50, ==, 4);
    check_dbl(s.p999, ==, 4);
    check_dbl(s.jain, ==, 1);
    check_int(kt_summarize(sym, 2, NULL, &s, NULL), ==, 0);
    check_dbl(s.mean, ==, 0);
    check_dbl(s.stddev, ==, 1);
    check(isnan(s.cv));
    check(isnan(s.spread));
}

static void t_scratch_and_errors(void)
{
    const double x[] = { 3, 1, 2 };
    double scratch[3];
    kt_summary s;
    kt_err err = { 0, "" };

    check_int(kt_summarize(x, 3, scratch, &s, &err), ==, 0);
    check_dbl(s.p50, ==, 2);
    check_dbl(scratch[0], ==, 1); /* the sorted copy went there */
    check_dbl(x[0], ==, 3);

    check_int(kt_summarize(NULL, 3, NULL, &s, &err), ==, -1);
    check_contains(err.msg, "sample array is NULL");
    check_int(kt_summarize(x, 3, NULL, NULL, &err), ==, -1);
    check_contains(err.msg, "out is NULL");
    check_int(kt_summarize(scratch, 3, scratch, &s, &err), ==, -1);
    check_contains(err.msg, "scratch is the sample array");
}

static void t_u64(void)
{
    const uint64_t ns[] = { 1000, 3000, 2000, 2000 };
    uint64_t copy[4];
    kt_summary s;

    memcpy(copy, ns, sizeof(ns));
    check_int(kt_summarize_u64(ns, 4, NULL, &s, NULL), ==, 0);
    check_dbl(s.mean, ==, 2000);
    check_dbl(s.min, ==, 1000);
    check_dbl(s.max, ==, 3000);
    check_dbl(s.p50, ==, 2000);
    check_dbl(s.spread, ==, 1);
    check_dbl(s.stddev, ==, sqrt(500000.0));
    check(memcmp(copy, ns, sizeof(ns)) == 0);
    check_int(kt_summarize_u64(NULL, 4, NULL, &s, NULL), ==, -1);
}

static void t_longest_gap(void)
{
    const uint64_t ts[] = { 100, 250, 250, 900, 1000 };
    const uint64_t bad[] = { 100, 250, 200, 900 };
    uint64_t gap = 42;
    size_t at = 42;
    kt_err err = { 0, "" };

    check_int(kt_longest_gap_u64(ts, 5, &gap, &at, &err), ==, 0);
    check_uint(gap, ==, 650);
    check_uint(at, ==, 3);
    check_int(kt_longest_gap_u64(ts, 1, &gap, &at, &err), ==, 0);
    check_uint(gap, ==, 0);
    check_uint(at, ==, 0);
    check_int(kt_longest_gap_u64(NULL, 0, &gap, NULL, &err), ==, 0);
    check_uint(gap, ==, 0);

    gap = 42;
    check_int(kt_longest_gap_u64(bad, 4, &gap, &at, &err), ==, -1);
    check_str(err.msg, "kt_longest_gap_u64: timestamps not sorted: ts[2]=200 < ts[1]=250");
    check_uint(gap, ==, 42); /* no partial answer */
    check_int(kt_longest_gap_u64(ts, 5, NULL, &at, &err), ==, -1);
    check_contains(err.msg, "gap is NULL");
}

int main(void)
{
    TEST(t_basic(), "summary of a small set against hand-computed values");
    TEST(t_percentile_ranks(), "nearest-rank percentiles, exact at exact ranks");
    TEST(t_percentiles_of_100(), "p99 of 100 samples is the 99th");
    TEST(t_jain(), "Jain's fairness index");
    TEST(t_nan_input(), "a NaN sample makes every statistic NaN");
    TEST(t_empty(), "no samples: every statistic NaN");
    TEST(t_single_and_zero_mean(), "one sample; zero mean gives NaN cv and spread");
    TEST(t_scratch_and_errors(), "caller scratch is used; bad arguments are errors");
    TEST(t_u64(), "u64 samples");
    TEST(t_longest_gap(), "longest gap; an unsorted series is an error");
    return test_done();
}
