/*
 * ktstr/stats.h - reductions of captured samples into the numbers claims
 * judge (mean, spread, percentiles, fairness, gaps).
 *
 *   kt_summary s;
 *   if (kt_summarize(runtimes, n, NULL, &s, &err) < 0) ...
 *   CLAIM(v, s.spread, at_most, 0.15);
 *   CLAIM(v, s.jain, at_least, 0.95);
 *
 * Definitions, so a threshold means the same thing everywhere:
 * - stddev is the POPULATION standard deviation: sqrt(sum (x - mean)^2 / n),
 *   an n denominator, not n - 1 (the samples are the whole population of
 *   threads or CPUs a scenario ran, not a draw from a larger one).
 * - cv = stddev / mean; spread = (max - min) / mean; both NaN when mean
 *   is 0.
 * - jain = (sum x)^2 / (n * sum x^2), Jain's fairness index: 1 when all
 *   samples are equal, 1/n when one sample has everything; NaN when every
 *   sample is 0.
 * - Percentiles use the NEAREST-RANK definition: the p-th percentile is the
 *   smallest sample such that at least p% of the samples are <= it, that is
 *   the sample of rank ceil(p/100 * n) (1-based, at least 1) in sorted
 *   order. It is always one of the samples, never an interpolation. The
 *   rank is computed so that an exact rank stays exact despite p being a
 *   binary double: p99 of 100 samples is the 99th, p99.9 of 1000 the 999th.
 *
 * NaN: a NaN sample is counted in nan_count and makes every statistic NaN
 * (so every claim on them fails, naming the NaN) instead of being sorted
 * somewhere or skipped silently. No samples: n = 0 and every statistic is
 * NaN. Inputs are never modified.
 */
#ifndef KTSTR_STATS_H
#define KTSTR_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "ktstr/api.h"
#include "ktstr/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct kt_summary {
    size_t n;          /* samples given, NaN ones included */
    size_t nan_count;  /* NaN samples; any makes the statistics below NaN */
    double min, max, mean;
    double stddev;     /* population: n denominator */
    double cv;         /* stddev / mean */
    double p50, p90, p99, p999; /* nearest rank */
    double spread;     /* (max - min) / mean */
    double jain;       /* (sum x)^2 / (n * sum x^2) */
} kt_summary;

/* Summarises x[0..n). scratch, when not NULL, is n doubles the function may
 * overwrite (for the sorted copy; it must not be x), so a caller
 * summarising in a loop allocates nothing; with NULL one copy is allocated
 * and freed. Returns 0,
 * or -1 with err set when x or out is NULL (x may be NULL when n is 0) or
 * memory runs out. */
KT_API int kt_summarize(const double *x, size_t n, double *scratch, kt_summary *out,
                        kt_err *err);

/* kt_summarize for u64 samples (nanoseconds, counts); each is converted to
 * the nearest double (exact below 2^53). scratch as above. */
KT_API int kt_summarize_u64(const uint64_t *x, size_t n, double *scratch,
                            kt_summary *out, kt_err *err);

/* The 1-based nearest rank of the p-th percentile of n samples,
 * ceil(p/100 * n) clamped to [1, n]; 0 when n is 0 or p is outside
 * [0, 100] or NaN. */
KT_API size_t kt_percentile_rank(size_t n, double p);

/* The p-th percentile (nearest rank) of sorted[0..n), ascending; NaN when
 * the rank is 0 (no samples, bad p). */
KT_API double kt_percentile_sorted(const double *sorted, size_t n, double p);

/* Jain's fairness index of x[0..n); NaN when n is 0, a sample is NaN or
 * every sample is 0. */
KT_API double kt_jain(const double *x, size_t n);

/* The longest gap between consecutive timestamps ts[0..n), which must be
 * sorted ascending (equal neighbours allowed): *gap = max ts[i] - ts[i-1],
 * and *at (may be NULL) = that i. Fewer than 2 timestamps: gap 0, at 0.
 * An unsorted series is an error (-1, err names the first index out of
 * order), never a wrong answer. */
KT_API int kt_longest_gap_u64(const uint64_t *ts, size_t n, uint64_t *gap,
                              size_t *at, kt_err *err);

#ifdef __cplusplus
}
#endif
#endif
