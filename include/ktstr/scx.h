/*
 * ktstr/scx.h - the sched_ext scheduler a scenario runs under.
 *
 * Reads what the kernel says about the loaded sched_ext scheduler:
 * /sys/kernel/sched_ext/state, root/ops and the counters of root/events
 * (`SCX_EV_<NAME> <count>` lines; the set grows between kernel versions,
 * so counters are found by name, never by position).
 *
 *   uint64_t n;
 *   kt_err err;
 *   if (kt_scx_event("SELECT_CPU_FALLBACK", &n, &err) == 0)
 *       CLAIM(v, n, at_most, 10);
 *   else
 *       kt_verdict_skip(v, "%s", err.msg);
 */
#ifndef KTSTR_SCX_H
#define KTSTR_SCX_H

#include <stddef.h>
#include <stdint.h>

#include "ktstr/api.h"
#include "ktstr/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The enable state of sched_ext ("enabled", "disabled", "enabling",
 * "disabling") into buf[0..cap), newline dropped: its length, or -1 with
 * err ("this kernel has no sched_ext: no /sys/kernel/sched_ext/state"). */
KT_API int kt_scx_state(char *buf, size_t cap, kt_err *err);

/* The ops name of the loaded scheduler (root/ops) into buf[0..cap): its
 * length, or -1 with err ("no sched_ext scheduler is loaded ..."). */
KT_API int kt_scx_ops(char *buf, size_t cap, kt_err *err);

/* One counter of root/events, named with or without its `SCX_EV_`
 * prefix ("SELECT_CPU_FALLBACK" or "SCX_EV_SELECT_CPU_FALLBACK"): 0 with
 * *value, or -1 with err (no sched_ext, no scheduler loaded, no such
 * counter on this kernel). */
KT_API int kt_scx_event(const char *name, uint64_t *value, kt_err *err);

/* One counter of a snapshot: its name as the kernel writes it
 * ("SCX_EV_SELECT_CPU_FALLBACK") and its count. */
typedef struct kt_scx_counter {
    char name[64];
    uint64_t value;
} kt_scx_counter;

/* A snapshot of every counter, in the kernel's order. Start from
 * KT_SCX_EVENTS_INIT; cap_ is the library's. */
typedef struct kt_scx_events {
    kt_scx_counter *v;
    size_t n;
    size_t cap_;
} kt_scx_events;

#define KT_SCX_EVENTS_INIT { NULL, 0, 0 }

/* Reads all of root/events into ev, replacing what it held: 0, or -1
 * with err and ev emptied. */
KT_API int kt_scx_events_read(kt_scx_events *ev, kt_err *err);

/* The counter `name` (with or without `SCX_EV_`) of a snapshot, or NULL
 * when the snapshot has none of that name. */
KT_API const kt_scx_counter *kt_scx_events_find(const kt_scx_events *ev, const char *name);

/* Frees a snapshot and empties it; safe twice. */
KT_API void kt_scx_events_free(kt_scx_events *ev);

#ifdef __cplusplus
}
#endif
#endif
