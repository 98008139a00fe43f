/* kt_hist: log-linear buckets, see include/ktstr/hist.h for the layout. */
#include "ktstr/hist.h"

#include <math.h>
#include <string.h>

#define SUB ((uint64_t)1 << KT_HIST_SUB_BITS)

void kt_hist_init(kt_hist *h)
{
    memset(h, 0, sizeof(*h));
    h->min = UINT64_MAX;
}

size_t kt_hist_bucket_of(uint64_t v)
{
    unsigned e, shift;

    if (v < SUB)
        return (size_t)v;
    e = 63u - (unsigned)__builtin_clzll(v);
    if (e >= KT_HIST_MAX_BITS)
        return KT_HIST_NBUCKETS - 1;
    shift = e - KT_HIST_SUB_BITS;
    /* e == 7 continues the exact range: index == v for v < 256. */
    return (size_t)((e - KT_HIST_SUB_BITS + 1) * SUB + ((v >> shift) - SUB));
}

uint64_t kt_hist_bucket_low(size_t i)
{
    uint64_t octave, sub;

    if (i < SUB)
        return i;
    octave = i / SUB;              /* 1 for [128, 256), 2 for [256, 512) ... */
    sub = i % SUB;
    return (SUB + sub) << (octave - 1);
}

uint64_t kt_hist_bucket_high(size_t i)
{
    if (i >= KT_HIST_NBUCKETS - 1)
        return UINT64_MAX;         /* the last bucket also takes the overflow */
    return kt_hist_bucket_low(i + 1) - 1;
}

void kt_hist_record(kt_hist *h, uint64_t v)
{
    h->buckets[kt_hist_bucket_of(v)]++;
    h->count++;
    h->sum += v;
    if (v < h->min)
        h->min = v;
    if (v > h->max)
        h->max = v;
}

uint64_t kt_hist_record_due(kt_hist *h, uint64_t now, uint64_t *due, uint64_t period)
{
    uint64_t n = 0;

    if (period == 0) {
        if (now < *due)
            return 0;
        kt_hist_record(h, now - *due);
        *due = now + 1;
        return 1;
    }
    for (; *due <= now; *due += period, n++)
        kt_hist_record(h, now - *due);
    return n;
}

void kt_hist_merge(kt_hist *dst, const kt_hist *src)
{
    if (!src->count)
        return;
    for (size_t i = 0; i < KT_HIST_NBUCKETS; i++)
        dst->buckets[i] += src->buckets[i];
    dst->count += src->count;
    dst->sum += src->sum;
    if (src->min < dst->min)
        dst->min = src->min;
    if (src->max > dst->max)
        dst->max = src->max;
}

uint64_t kt_hist_percentile(const kt_hist *h, double p)
{
    uint64_t rank, seen = 0, v;
    double r;

    if (!h->count)
        return 0;
    if (!(p > 0.0))                /* also NaN */
        return h->min;
    if (p >= 100.0)
        return h->max;
    /* The small shave keeps 99.9 % of 1000 at rank 999: p / 100 is not
     * exact in binary and would otherwise round the rank up by one. */
    r = p / 100.0 * (double)h->count;
    rank = (uint64_t)ceil(r - r * 1e-12);
    if (rank < 1)
        rank = 1;
    for (size_t i = 0; i < KT_HIST_NBUCKETS; i++) {
        seen += h->buckets[i];
        if (seen >= rank) {
            v = kt_hist_bucket_high(i);
            if (v > h->max)
                v = h->max;
            if (v < h->min)
                v = h->min;
            return v;
        }
    }
    return h->max;
}

void kt_hist_summarize(const kt_hist *h, kt_hist_summary *s)
{
    memset(s, 0, sizeof(*s));
    if (!h->count)
        return;
    s->count = h->count;
    s->min = h->min;
    s->max = h->max;
    s->mean = (double)h->sum / (double)h->count;
    s->p50 = kt_hist_percentile(h, 50.0);
    s->p90 = kt_hist_percentile(h, 90.0);
    s->p99 = kt_hist_percentile(h, 99.0);
    s->p999 = kt_hist_percentile(h, 99.9);
}
