/*
 * lib/verdict/series_int.h - what series.c lets kt_series_from_timeline
 * (lib/capture/timeline_series.c, a folder above) do beyond the public
 * calls (private): fail a series with a reason, reserve room.
 */
#ifndef KTSTR_LIB_SERIES_INT_H
#define KTSTR_LIB_SERIES_INT_H

#include "ktstr/series.h"

/* Marks s unusable with a reason (printf-style): every claim on it then
 * fails with "{l} ({head}): caller error: <reason>". The first reason is
 * kept. */
void kt__series_fail(kt_series *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Makes room for n more samples (an estimate: 0, or -1 when out of
 * memory, with nothing lost). */
int kt__series_reserve(kt_series *s, size_t n);

#endif
