/*
 * ktstr/series.h - claims over time: a label and timestamped values,
 * judged as a whole.
 *
 *   kt_series *s = kt_series_new("share.ktw0");     // NULL on ENOMEM
 *   kt_series_add(s, t_ns, value);
 *   CLAIM_SERIES(v, s, each_at_least, 0.4);
 *   kt_series_free(s);
 *
 * or from a monitor's timeline (one sample per interval between ticks):
 *
 *   s = kt_series_from_timeline(tl, 0, KT_SERIES_SHARE(KT_F_RUN_NS), "share.ktw0");
 *
 * Every sample is checked. A failing claim records ONE failure, naming
 * the first offending sample ({i}, 0-based), its time since the first
 * sample (+{ms}ms) and, for the each_* operations, how many offend ({k}
 * of {n}). Numbers print as kt_format_num() does. {head} below is the
 * parenthesised part of each message, e.g. "each.at_least 0.4".
 *
 *   op, args                        holds when / failure message
 *   each_at_least, x                every value >= x
 *     {l} (each.at_least {x}): {k} of {n} samples outside, first at sample {i} (+{ms}ms): value {v}
 *   each_at_most, x                 every value <= x
 *     {l} (each.at_most {x}): ... as above
 *   each_between, lo, hi            every value in [lo, hi]
 *     {l} (each.between [{lo}, {hi}]): ... as above
 *   nondecreasing                   v[i] >= v[i-1]
 *     {l} (nondecreasing): value {b} at sample {i} (+{ms}ms) after {a} at sample {i-1}
 *   rate_within, lo, hi             every (v[i]-v[i-1]) / dt, per second, in [lo, hi]
 *     {l} (rate_within [{lo}, {hi}]/s): rate {r}/s between samples {i-1} and {i} (+{ms}ms)
 *   steady_within, warmup_ms, tol   every value at or after +warmup_ms is within
 *                                   mean x (1 +/- tol), mean over those values
 *     {l} (steady_within {tol} after {w}ms): sample {i} (+{ms}ms): value {v} outside [{lo}, {hi}]
 *   converges_to, t, tol, deadline_ms   3 consecutive values with |v - t| <= tol,
 *                                   the third at or before +deadline_ms
 *     {l} (converges_to {t} +/-{tol} by {d}ms): no 3 consecutive samples in band ({n} samples)
 *
 * Too few samples (fewer than 2; 3 for converges_to; for steady_within,
 * fewer than 2 at or after the warm-up):
 *     {l} ({head}): {n} samples, need {m}
 * Caller errors fail the claim, in section 3's style:
 *     {l} ({head}): caller error: interval inverted (lo={lo} > hi={hi})
 *     {l} ({head}): caller error: tolerance negative (={tol})       (also NaN)
 *     {l} ({head}): caller error: warm-up negative (={w}ms)         (also NaN)
 *     {l} ({head}): caller error: deadline negative (={d}ms)        (also NaN)
 *     {l} ({head}): caller error: timestamps not sorted (sample {i} at {t}ns is before sample {i-1} at {t'}ns)
 *     {l} (rate_within ...): caller error: samples {i-1} and {i} at the same time (+{ms}ms)
 *     {l} ({head}): caller error: <why kt_series_from_timeline could not read it>
 *     (no series) ({head}): caller error: series is NULL
 * and a series that lost samples to ENOMEM in kt_series_add fails with
 *     {l} ({head}): {k} samples not stored (out of memory)
 *
 * NaN is never in bounds: a NaN value offends every operation (steady_
 * within leaves NaN out of the mean and flags it). Timestamps must not
 * decrease (equal ones are allowed except by rate_within).
 *
 * In the record: op is the name as written ("each_at_least"), expected
 * the head without the operation ("0.4", "[0.4, 0.6]", "[0, 1e+09]/s",
 * "0.1 after 500ms", "1 +/-0.1 by 2000ms"; "nondecreasing" for
 * nondecreasing), actual the value the message names (the offending
 * value or rate, the last value for converges_to, the number of samples
 * for the other failures). A claim counts once whatever the number of
 * samples; a pass streamed to a sink reads "{l} ({head}): held for {n}
 * samples" with the last value as actual.
 */
#ifndef KTSTR_SERIES_H
#define KTSTR_SERIES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ktstr/api.h"
#include "ktstr/monitor.h"
#include "ktstr/verdict.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct kt_series kt_series;

/* An empty series labelled label (copied; NULL reads as ""). NULL when
 * out of memory (a claim on NULL fails as a caller error). */
KT_API kt_series *kt_series_new(const char *label);
/* Frees s (NULL is fine). */
KT_API void kt_series_free(kt_series *s);

/* Appends a sample: t_ns (any clock, e.g. CLOCK_MONOTONIC; must not
 * decrease) and its value. 0, or -1 when out of memory: the series then
 * remembers the loss and every claim on it fails, so a lost sample never
 * turns into a pass. */
KT_API int kt_series_add(kt_series *s, uint64_t t_ns, double value);

/* The label, the number of samples, and the samples themselves as two
 * arrays of kt_series_count() elements (NULL while empty), valid until
 * the next kt_series_add or kt_series_free. */
KT_API const char *kt_series_label(const kt_series *s);
KT_API size_t kt_series_count(const kt_series *s);
KT_API const uint64_t *kt_series_times(const kt_series *s);
KT_API const double *kt_series_values(const kt_series *s);

/* The samples of s stamped in [from_ns, to_ns), as a new series labelled
 * label (NULL: s's label): a claim on the part before or after a change
 * (ktstr/changes.h: kt_changes_at_ns). It inherits s's lost samples and
 * error, so a broken series stays unjudgeable. NULL only when out of
 * memory; free it with kt_series_free. */
KT_API kt_series *kt_series_window(const kt_series *s, uint64_t from_ns, uint64_t to_ns,
                                   const char *label);

/* What kt_series_from_timeline reads of a timeline field: wrap a kt_field
 * in one of these. A plain kt_field is KT_SERIES_RAW. */
typedef unsigned kt_series_field;
/* The counter as stored, one sample per tick (cumulative: e.g. for
 * nondecreasing). */
#define KT_SERIES_RAW(f) ((kt_series_field)(f))
/* Its change over each interval between two consecutive ticks (as
 * kt_timeline_series: wraps and resets handled), stamped at the later one. */
#define KT_SERIES_DELTA(f) ((kt_series_field)(f) | 0x100u)
/* That change per second: delta * 1e9 / interval_ns. */
#define KT_SERIES_RATE(f) ((kt_series_field)(f) | 0x200u)
/* That change over the interval's wall time, delta / interval_ns: for a
 * *_ns field the share of a CPU (run_ns: 1 = a whole CPU). */
#define KT_SERIES_SHARE(f) ((kt_series_field)(f) | 0x300u)

/* A series of target's field in tl, over every tick it was read at (a
 * tick where it was not, e.g. after it was gone, is skipped; the interval
 * then spans the gap). Timestamps are the target's own tick stamps.
 * NULL only when out of memory; a bad tl, target or field gives a series
 * whose every claim fails as a caller error naming the problem. */
KT_API kt_series *kt_series_from_timeline(const kt_timeline *tl, int target,
                                          kt_series_field field, const char *label);

/* ---- claims ----------------------------------------------------------- */

typedef enum kt_series_op {
    KT_SERIES_EACH_AT_LEAST, KT_SERIES_EACH_AT_MOST, KT_SERIES_EACH_BETWEEN,
    KT_SERIES_NONDECREASING, KT_SERIES_RATE_WITHIN, KT_SERIES_STEADY_WITHIN,
    KT_SERIES_CONVERGES_TO
} kt_series_op;

/* "each_at_least", ...; "?" when out of range. */
KT_API const char *kt_series_op_name(kt_series_op op);

/* The function CLAIM_SERIES calls: a, b, c are the operation's arguments
 * in order (unused ones 0). True when the claim holds. */
KT_API bool kt_claim_series(kt_verdict *v, const kt_series *s, kt_series_op op,
                            double a, double b, double c, const char *file, int line);

/* CLAIM_SERIES(v, s, op, args...): judges every sample of s (labelled with
 * s's label) against op; true when it holds. A missing argument does not
 * compile. */
#define CLAIM_SERIES(v, s, ...) \
    KT__SERIES_CLAIM((v), (s), __VA_ARGS__, kt__claim_no_argument)

/* Internal: dispatch on the operation's name, as CLAIM does. */
#define KT__SERIES_CLAIM(v, s, op, ...) KT__SERIES_OP_##op(v, s, __VA_ARGS__)
#define KT__SERIES_CALL(v, s, o, a, b, c) \
    kt_claim_series(v, s, o, (double)(a), (double)(b), (double)(c), __FILE__, __LINE__)
#define KT__SERIES_OP_each_at_least(v, s, x, ...) \
    KT__SERIES_CALL(v, s, KT_SERIES_EACH_AT_LEAST, x, 0, 0)
#define KT__SERIES_OP_each_at_most(v, s, x, ...) \
    KT__SERIES_CALL(v, s, KT_SERIES_EACH_AT_MOST, x, 0, 0)
#define KT__SERIES_OP_each_between(v, s, lo, hi, ...) \
    KT__SERIES_CALL(v, s, KT_SERIES_EACH_BETWEEN, lo, hi, 0)
#define KT__SERIES_OP_nondecreasing(v, s, ...) \
    KT__SERIES_CALL(v, s, KT_SERIES_NONDECREASING, 0, 0, 0)
#define KT__SERIES_OP_rate_within(v, s, lo, hi, ...) \
    KT__SERIES_CALL(v, s, KT_SERIES_RATE_WITHIN, lo, hi, 0)
#define KT__SERIES_OP_steady_within(v, s, warmup_ms, tol, ...) \
    KT__SERIES_CALL(v, s, KT_SERIES_STEADY_WITHIN, warmup_ms, tol, 0)
#define KT__SERIES_OP_converges_to(v, s, t, tol, deadline_ms, ...) \
    KT__SERIES_CALL(v, s, KT_SERIES_CONVERGES_TO, t, tol, deadline_ms)

#ifdef __cplusplus
}
#endif
#endif
