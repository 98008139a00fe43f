/* Reductions of samples: see include/ktstr/stats.h for the definitions. */
#include "ktstr/stats.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

size_t kt_percentile_rank(size_t n, double p)
{
    double r, nearest;

    if (n == 0 || !(p >= 0 && p <= 100))
        return 0;
    /* p * n is exact for integer p and moderate n; for p like 99.9, which
     * is not a binary fraction, a result within rounding noise of an
     * integer is that integer, so an exact rank is not pushed one up. */
    r = p * (double)n / 100.0;
    nearest = nearbyint(r);
    if (fabs(r - nearest) <= 1e-9 * (nearest > 1 ? nearest : 1))
        r = nearest;
    else
        r = ceil(r);
    if (r < 1)
        return 1;
    return r > (double)n ? n : (size_t)r;
}

double kt_percentile_sorted(const double *sorted, size_t n, double p)
{
    size_t rank = kt_percentile_rank(n, p);

    return rank && sorted ? sorted[rank - 1] : NAN;
}

double kt_jain(const double *x, size_t n)
{
    double sum = 0, sum2 = 0;
    size_t i;

    if (n == 0 || !x)
        return NAN;
    for (i = 0; i < n; i++) {
        sum += x[i];
        sum2 += x[i] * x[i];
    }
    if (sum2 == 0)
        return NAN;
    return sum * sum / ((double)n * sum2);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

static void all_nan(kt_summary *out)
{
    out->min = out->max = out->mean = out->stddev = out->cv = NAN;
    out->p50 = out->p90 = out->p99 = out->p999 = out->spread = out->jain = NAN;
}

/* Summarises sorted[0..n), ascending and free of NaN, into out. */
static void summarize_sorted(const double *sorted, size_t n, kt_summary *out)
{
    double sum = 0, dev = 0;
    size_t i;

    for (i = 0; i < n; i++)
        sum += sorted[i];
    out->mean = sum / (double)n;
    for (i = 0; i < n; i++)
        dev += (sorted[i] - out->mean) * (sorted[i] - out->mean);
    out->stddev = sqrt(dev / (double)n);
    out->min = sorted[0];
    out->max = sorted[n - 1];
    out->cv = out->mean != 0 ? out->stddev / out->mean : NAN;
    out->spread = out->mean != 0 ? (out->max - out->min) / out->mean : NAN;
    out->p50 = kt_percentile_sorted(sorted, n, 50);
    out->p90 = kt_percentile_sorted(sorted, n, 90);
    out->p99 = kt_percentile_sorted(sorted, n, 99);
    out->p999 = kt_percentile_sorted(sorted, n, 99.9);
    out->jain = kt_jain(sorted, n);
}

/* Summarises the n doubles already in work (which it sorts) into out. */
static void summarize_in(double *work, size_t n, kt_summary *out)
{
    size_t i;

    memset(out, 0, sizeof(*out));
    out->n = n;
    for (i = 0; i < n; i++)
        out->nan_count += isnan(work[i]) != 0;
    if (n == 0 || out->nan_count) {
        all_nan(out);
        return;
    }
    qsort(work, n, sizeof(*work), cmp_double);
    summarize_sorted(work, n, out);
}

/* Returns scratch, or a fresh array of n doubles (*owned set), or NULL. */
static double *work_array(double *scratch, size_t n, double **owned, kt_err *err)
{
    *owned = NULL;
    if (scratch || n == 0)
        return scratch;
    if (n > SIZE_MAX / sizeof(double)) {
        kt_err_set(err, ENOMEM, "kt_summarize: %zu samples: too many", n);
        return NULL;
    }
    *owned = malloc(n * sizeof(double));
    if (!*owned)
        kt_err_sys(err, ENOMEM, "kt_summarize (%zu samples): malloc", n);
    return *owned;
}

int kt_summarize(const double *x, size_t n, double *scratch, kt_summary *out,
                 kt_err *err)
{
    double *work, *owned;

    if (!out || (!x && n))
        return kt_err_set(err, EINVAL, "kt_summarize: %s is NULL",
                          out ? "the sample array" : "out");
    if (scratch && scratch == x && n)
        return kt_err_set(err, EINVAL,
                          "kt_summarize: scratch is the sample array (it would be sorted)");
    work = work_array(scratch, n, &owned, err);
    if (!work && n)
        return -1;
    if (n && work != x)
        memmove(work, x, n * sizeof(*work));
    summarize_in(work, n, out);
    free(owned);
    return 0;
}

int kt_summarize_u64(const uint64_t *x, size_t n, double *scratch,
                     kt_summary *out, kt_err *err)
{
    double *work, *owned;
    size_t i;

    if (!out || (!x && n))
        return kt_err_set(err, EINVAL, "kt_summarize_u64: %s is NULL",
                          out ? "the sample array" : "out");
    work = work_array(scratch, n, &owned, err);
    if (!work && n)
        return -1;
    for (i = 0; i < n; i++)
        work[i] = (double)x[i];
    summarize_in(work, n, out);
    free(owned);
    return 0;
}

int kt_longest_gap_u64(const uint64_t *ts, size_t n, uint64_t *gap,
                       size_t *at, kt_err *err)
{
    uint64_t best = 0;
    size_t best_at = 0, i;

    if (!gap || (!ts && n))
        return kt_err_set(err, EINVAL, "kt_longest_gap_u64: %s is NULL",
                          gap ? "the timestamp array" : "gap");
    for (i = 1; i < n; i++) {
        if (ts[i] < ts[i - 1])
            return kt_err_set(err, EINVAL,
                              "kt_longest_gap_u64: timestamps not sorted: "
                              "ts[%zu]=%llu < ts[%zu]=%llu",
                              i, (unsigned long long)ts[i], i - 1,
                              (unsigned long long)ts[i - 1]);
        if (ts[i] - ts[i - 1] > best) {
            best = ts[i] - ts[i - 1];
            best_at = i;
        }
    }
    *gap = best;
    if (at)
        *at = best_at;
    return 0;
}
