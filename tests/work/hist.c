/* kt_hist: bucket layout, percentile accuracy against exact nearest-rank
 * percentiles of known inputs, merge, edges, and open-loop recording
 * (kt_hist_record_due) on a fake clock. */
#include "harness/unit.h"

#include <ktstr/hist.h>

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define N 20000

static uint64_t rng = 88172645463325252u;

static uint64_t xorshift(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

/* Exact nearest rank, in integers: rank = ceil(permille * n / 1000). */
static uint64_t exact_pct(const uint64_t *sorted, size_t n, unsigned permille)
{
    size_t rank = (permille * n + 999) / 1000;

    return sorted[rank ? rank - 1 : 0];
}

static void t_layout(void)
{
    int bad = 0;

    check_uint(kt_hist_bucket_low(0), ==, 0);
    for (size_t i = 0; i + 1 < KT_HIST_NBUCKETS; i++) {
        uint64_t lo = kt_hist_bucket_low(i), hi = kt_hist_bucket_high(i);

        if (kt_hist_bucket_low(i + 1) != hi + 1 || hi < lo)
            bad++;
        if (lo >= 128 && (double)(hi - lo + 1) / (double)lo > 1.0 / 128 + 1e-12)
            bad++;
        if (kt_hist_bucket_of(lo) != i || kt_hist_bucket_of(hi) != i)
            bad++;
    }
    check_int(bad, ==, 0);
    /* 100 s still has a bucket of its own, below the shared last one. */
    check_uint(kt_hist_bucket_of(100000000000u), <, KT_HIST_NBUCKETS - 1);
    check_uint(kt_hist_bucket_of(UINT64_MAX), ==, KT_HIST_NBUCKETS - 1);
    check_uint(sizeof(kt_hist), <, 40 * 1024);
}

static void t_random_values_in_bucket(void)
{
    int bad = 0;

    for (int k = 0; k < 200000; k++) {
        uint64_t v = xorshift() >> (xorshift() % 64);
        size_t b = kt_hist_bucket_of(v);

        if (v < kt_hist_bucket_low(b) || v > kt_hist_bucket_high(b))
            bad++;
    }
    check_int(bad, ==, 0);
}

/* Records vals, checks every reported percentile against the exact one
 * within the documented bound: exact <= reported <= exact + exact/128. */
static void expect_against_exact(uint64_t *vals, size_t n)
{
    static const unsigned pm[] = { 1, 100, 250, 500, 900, 990, 999, 1000 };
    kt_hist *h = malloc(sizeof(*h));
    kt_hist_summary s;
    uint64_t sum = 0;

    kt_hist_init(h);
    for (size_t i = 0; i < n; i++) {
        kt_hist_record(h, vals[i]);
        sum += vals[i];
    }
    qsort(vals, n, sizeof(*vals), cmp_u64);
    for (size_t k = 0; k < sizeof(pm) / sizeof(pm[0]); k++) {
        uint64_t want = exact_pct(vals, n, pm[k]);
        uint64_t got = kt_hist_percentile(h, pm[k] / 10.0);

        check_uint(got, >=, want);
        check_uint(got, <=, want + want / 128);
    }
    kt_hist_summarize(h, &s);
    check_uint(s.count, ==, n);
    check_uint(s.min, ==, vals[0]);
    check_uint(s.max, ==, vals[n - 1]);
    check_dbl(s.mean, ==, (double)sum / (double)n);
    check_uint(s.p50, ==, kt_hist_percentile(h, 50));
    check_uint(s.p999, ==, kt_hist_percentile(h, 99.9));
    free(h);
}

static void t_uniform(void)
{
    static uint64_t v[N];

    for (size_t i = 0; i < N; i++)
        v[i] = 1000 + xorshift() % 10000000;
    expect_against_exact(v, N);
}

static void t_long_tail(void)
{
    static uint64_t v[N];

    /* Mostly microseconds, a tail to 100 s: like wake latencies. */
    for (size_t i = 0; i < N; i++)
        v[i] = (uint64_t)exp((double)(xorshift() % 10000) / 10000.0 * log(1e11));
    v[0] = 0;
    v[1] = 100000000000u;
    expect_against_exact(v, N);
}

static void t_small_exact(void)
{
    static uint64_t v[1000];

    /* Below 256 every value is its own bucket: percentiles are exact. */
    for (size_t i = 0; i < 1000; i++)
        v[i] = i % 200;
    expect_against_exact(v, 1000);
    {
        kt_hist h;

        kt_hist_init(&h);
        for (uint64_t i = 1; i <= 100; i++)
            kt_hist_record(&h, i);
        check_uint(kt_hist_percentile(&h, 50), ==, 50);
        check_uint(kt_hist_percentile(&h, 99), ==, 99);
        check_uint(kt_hist_percentile(&h, 99.9), ==, 100);
    }
}

static void t_merge(void)
{
    kt_hist *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b)), *all = malloc(sizeof(*all));

    kt_hist_init(a);
    kt_hist_init(b);
    kt_hist_init(all);
    for (int i = 0; i < 5000; i++) {
        uint64_t v = xorshift() % 1000000000u;

        kt_hist_record(i % 2 ? a : b, v);
        kt_hist_record(all, v);
    }
    kt_hist_merge(a, b);
    check(memcmp(a, all, sizeof(*a)) == 0);
    free(a);
    free(b);
    free(all);
}

static void t_edges(void)
{
    kt_hist h;
    kt_hist_summary s;

    kt_hist_init(&h);
    check_uint(kt_hist_percentile(&h, 50), ==, 0);
    kt_hist_summarize(&h, &s);
    check_uint(s.count, ==, 0);
    check_uint(s.min, ==, 0);
    check_dbl(s.mean, ==, 0);
    kt_hist_record(&h, 1000);
    kt_hist_record(&h, (uint64_t)1 << 50);   /* beyond the range: shared last bucket */
    check_uint(kt_hist_percentile(&h, 0), ==, 1000);
    check_uint(kt_hist_percentile(&h, -5), ==, 1000);
    check_uint(kt_hist_percentile(&h, NAN), ==, 1000);
    check_uint(kt_hist_percentile(&h, 100), ==, (uint64_t)1 << 50);
    check_uint(kt_hist_percentile(&h, 250), ==, (uint64_t)1 << 50);
    check_uint(kt_hist_percentile(&h, 75), ==, (uint64_t)1 << 50);
    /* 1000 sits in [1000, 1003]: the bucket's top is reported. */
    check_uint(kt_hist_percentile(&h, 50), ==, 1003);
}

#define MS_NS 1000000u

/* A timer thread on a fake clock: deadlines every 1 ms for 2 s, each wake
 * 50 us late, except that at 500 ms and 1500 ms the thread is stalled for
 * 20 ms (the wake due then comes 20.05 ms late). The open loop records
 * every deadline, the 20 inside each stall with their own lateness; the
 * closed loop (one record per wake) records one per stall. */
static void fake_timeline(kt_hist *open, kt_hist *closed, uint64_t *wakes)
{
    uint64_t due = MS_NS, now;

    kt_hist_init(open);
    kt_hist_init(closed);
    *wakes = 0;
    while (due <= 2000 * MS_NS) {
        bool stalled = due == 500 * MS_NS || due == 1500 * MS_NS;

        now = due + 50000 + (stalled ? 20 * MS_NS : 0);
        kt_hist_record(closed, now - due);
        kt_hist_record_due(open, now, &due, MS_NS);
        ++*wakes;
    }
}

static void t_record_due_stall(void)
{
    kt_hist *open = malloc(sizeof(*open)), *closed = malloc(sizeof(*closed));
    uint64_t wakes, late_ms = 0;

    fake_timeline(open, closed, &wakes);
    /* every one of the 2000 deadlines is recorded, 40 of them by the two
     * wakes that ended a stall: 1960 wakes */
    check_uint(open->count, ==, 2000);
    check_uint(wakes, ==, 1960);
    check_uint(closed->count, ==, wakes);
    for (size_t i = kt_hist_bucket_of(MS_NS); i < KT_HIST_NBUCKETS; i++)
        late_ms += open->buckets[i];
    /* due at 500..519 ms, woken at 520.05: 20.05 down to 1.05 ms late;
     * the 520 ms deadline itself is 0.05 ms late */
    check_uint(late_ms, ==, 40);
    check_uint(open->max, ==, 20 * MS_NS + 50000);
    check_uint(open->min, ==, 50000);
    /* rank 1980 of 2000, the 21st largest, is 10.05 ms: p99 sees the
     * stalls ... */
    check_uint(kt_hist_percentile(open, 99), >=, 10 * MS_NS + 50000);
    check_uint(kt_hist_percentile(open, 99), <=, 10 * MS_NS + 50000 + 11 * MS_NS / 128);
    /* ... which the closed loop's p99 never does */
    check_uint(kt_hist_percentile(closed, 99), <, 51000);
    free(open);
    free(closed);
}

static void t_record_due_edges(void)
{
    kt_hist h;
    uint64_t due = 1000;

    kt_hist_init(&h);
    check_uint(kt_hist_record_due(&h, 999, &due, 100), ==, 0);      /* not yet due */
    check_uint(due, ==, 1000);
    check_uint(kt_hist_record_due(&h, 1000, &due, 100), ==, 1);     /* exactly on time */
    check_uint(due, ==, 1100);
    check_uint(h.max, ==, 0);
    check_uint(kt_hist_record_due(&h, 1350, &due, 100), ==, 3);     /* 1100, 1200, 1300 */
    check_uint(due, ==, 1400);
    check_uint(h.max, ==, 250);
    check_uint(h.sum, ==, 250 + 150 + 50);
    /* period 0: one record per call, the next deadline just after now */
    check_uint(kt_hist_record_due(&h, 2000, &due, 0), ==, 1);
    check_uint(due, ==, 2001);
    check_uint(h.count, ==, 5);
}

int main(void)
{
    TEST(t_layout(), "buckets are contiguous and narrower than 1/128 of their values");
    TEST(t_random_values_in_bucket(), "random values land in the bucket that spans them");
    TEST(t_uniform(), "uniform input: percentiles within 1/128 above exact");
    TEST(t_long_tail(), "long-tailed input 0..100 s: percentiles within 1/128 above exact");
    TEST(t_small_exact(), "values below 256 give exact percentiles");
    TEST(t_merge(), "merging two halves equals recording all");
    TEST(t_edges(), "empty, p out of range, NaN, overflow value");
    TEST(t_record_due_stall(), "open loop: two 20 ms stalls add 40 late samples, p99 sees them");
    TEST(t_record_due_edges(), "open loop: not yet due, on time, three due at once, period 0");
    return test_done();
}
