/*
 * kt_series_from_timeline: a series of one field of one target of a
 * monitor's timeline. It reads the timeline through its public queries
 * only; core depends on capture, never the other way.
 */
#include "verdict/series_int.h"

/* The part of a kt_series_field that says how to read the counter. */
enum { MODE_MASK = 0xf00u, FIELD_MASK = 0xffu };
enum { MODE_RAW = 0x000u, MODE_DELTA = 0x100u, MODE_RATE = 0x200u, MODE_SHARE = 0x300u };

static const char *mode_suffix(unsigned mode)
{
    switch (mode) {
    case MODE_DELTA: return " (delta)";
    case MODE_RATE: return " (rate)";
    case MODE_SHARE: return " (share)";
    default: return "";
    }
}

/* Checks tl, target and field; false with s marked failed. */
static bool usable(kt_series *s, const kt_timeline *tl, int target,
                   kt_series_field field)
{
    unsigned mode = field & MODE_MASK, f = field & FIELD_MASK;
    uint64_t dummy;

    if (!tl) {
        kt__series_fail(s, "timeline is NULL");
        return false;
    }
    if ((field & ~(MODE_MASK | FIELD_MASK)) || mode > MODE_SHARE || f >= KT_F_COUNT) {
        kt__series_fail(s, "field 0x%x is not a kt_field in KT_SERIES_RAW/DELTA/RATE/SHARE",
                        field);
        return false;
    }
    if (target < 0 || target >= kt_timeline_targets(tl)) {
        kt__series_fail(s, "target %d not in the timeline (%d targets)", target,
                        kt_timeline_targets(tl));
        return false;
    }
    /* kt_timeline_series fails only on an uncaptured field when a second
     * sample exists; check the field directly on any tick read. */
    for (size_t t = 0; t < kt_timeline_ticks(tl); t++) {
        uint64_t ts;

        if (kt_timeline_time(tl, target, t, &ts) != 0)
            continue;
        if (kt_timeline_value(tl, target, t, (kt_field)f, &dummy) != 0) {
            kt__series_fail(s, "target %d has no field %s%s in the timeline", target,
                            kt_field_name((kt_field)f), mode_suffix(mode));
            return false;
        }
        break;
    }
    return true;
}

kt_series *kt_series_from_timeline(const kt_timeline *tl, int target,
                                   kt_series_field field, const char *label)
{
    kt_series *s = kt_series_new(label);
    unsigned mode = field & MODE_MASK;
    kt_field f = (kt_field)(field & FIELD_MASK);
    uint64_t prev_v = 0, prev_ts = 0;
    bool have_prev = false;
    size_t ticks;

    if (!s)
        return NULL;
    if (!usable(s, tl, target, field))
        return s;
    ticks = kt_timeline_ticks(tl);
    if (kt__series_reserve(s, ticks) < 0) {
        kt_series_free(s);
        return NULL;
    }
    for (size_t t = 0; t < ticks; t++) {
        uint64_t ts, val, d;

        if (kt_timeline_time(tl, target, t, &ts) != 0 ||
            kt_timeline_value(tl, target, t, f, &val) != 0)
            continue;   /* not read at this tick */
        if (mode == MODE_RAW) {
            kt_series_add(s, ts, (double)val);
        } else if (have_prev) {
            d = kt_counter_delta(prev_v, val, kt_field_width(f));
            if (mode == MODE_DELTA)
                kt_series_add(s, ts, (double)d);
            else if (mode == MODE_RATE)
                kt_series_add(s, ts, (double)d * 1e9 / (double)(ts - prev_ts));
            else
                kt_series_add(s, ts, (double)d / (double)(ts - prev_ts));
        }
        prev_v = val;
        prev_ts = ts;
        have_prev = true;
    }
    return s;
}
