/*
 * ktstr/hist.h - a log-linear latency histogram of fixed size.
 *
 *   kt_hist h;                     // 35 KiB: embed it, never allocated
 *   kt_hist_init(&h);
 *   kt_hist_record(&h, lat_ns);    // no allocation, no lock, O(1)
 *   kt_hist_summary s;
 *   kt_hist_summarize(&h, &s);     // s.p99, s.max, ...
 *
 * Layout (HdrHistogram style): values below 256 ns have a bucket each;
 * above, every power of two [2^e, 2^(e+1)) is cut into 128 equal buckets
 * of width 2^(e-7). A bucket's width is therefore at most 1/128 (0.78 %)
 * of the smallest value it holds. Values up to 2^40 ns (about 18 min) get
 * their own bucket; larger ones share the last bucket (count, sum, min
 * and max stay exact).
 *
 * Recording is per thread: a kt_hist has no atomics, so each thread keeps
 * its own and kt_hist_merge() adds them up afterwards.
 *
 * Percentile definition: nearest rank over buckets. For p in (0, 100] the
 * rank is r = ceil(p / 100 * count); the bucket holding the r-th smallest
 * value is found and its upper bound (largest value it can hold) is
 * reported, clamped to [min, max]. p <= 0 (or NaN) gives the exact min,
 * p >= 100 the exact max. Error bound, for values below 2^40: with x the
 * exact nearest-rank value, x <= reported <= x + x/128, i.e. the report
 * is never low and at most 0.79 % high.
 */
#ifndef KTSTR_HIST_H
#define KTSTR_HIST_H

#include <stddef.h>
#include <stdint.h>

#include "ktstr/api.h"

#ifdef __cplusplus
extern "C" {
#endif

#define KT_HIST_SUB_BITS 7                          /* 128 buckets per octave */
#define KT_HIST_MAX_BITS 40                         /* own buckets below 2^40 ns */
#define KT_HIST_NBUCKETS ((KT_HIST_MAX_BITS - KT_HIST_SUB_BITS + 1) << KT_HIST_SUB_BITS)

typedef struct kt_hist {
    uint64_t count;
    uint64_t sum;      /* exact while the total stays below 2^64 ns */
    uint64_t min;      /* UINT64_MAX when empty */
    uint64_t max;
    uint64_t buckets[KT_HIST_NBUCKETS];
} kt_hist;

typedef struct kt_hist_summary {
    uint64_t count, min, max;       /* exact; min and max are 0 when empty */
    uint64_t p50, p90, p99, p999;   /* kt_hist_percentile() of 50, 90, 99, 99.9 */
    double mean;                    /* exact sum / count; 0 when empty */
} kt_hist_summary;

/* Empties h. */
KT_API void kt_hist_init(kt_hist *h);

/* Adds one value (ns). Constant time, touches one bucket. */
KT_API void kt_hist_record(kt_hist *h, uint64_t v);

/* Open-loop recording, for a thread woken on a fixed timeline (due,
 * due + period, ...): records the lateness now - d of every deadline d
 * that fell due by now, not just the latest, moves *due to the first
 * deadline after now, and returns how many it recorded (0 when now is
 * before *due). A stall of S therefore adds about S / period samples,
 * from S down to 0, as HdrHistogram's expected-interval correction and
 * wrk2 do: a closed-loop probe would add one, which p99 never sees.
 * Costs one kt_hist_record per deadline; period 0 records one. */
KT_API uint64_t kt_hist_record_due(kt_hist *h, uint64_t now, uint64_t *due, uint64_t period);

/* Adds every value of src to dst (both initialised). */
KT_API void kt_hist_merge(kt_hist *dst, const kt_hist *src);

/* The p-th percentile as defined above; 0 when h is empty. */
KT_API uint64_t kt_hist_percentile(const kt_hist *h, double p);

/* count, min, max, mean and the usual percentiles in one pass each. */
KT_API void kt_hist_summarize(const kt_hist *h, kt_hist_summary *s);

/* The bucket that holds v, and the smallest and largest value bucket i
 * holds (exposed for tests and for plotting). */
KT_API size_t kt_hist_bucket_of(uint64_t v);
KT_API uint64_t kt_hist_bucket_low(size_t i);
KT_API uint64_t kt_hist_bucket_high(size_t i);

#ifdef __cplusplus
}
#endif
#endif
