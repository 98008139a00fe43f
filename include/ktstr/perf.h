/*
 * ktstr/perf.h - perf counter groups for a thread, a CPU or a vCPU thread.
 *
 * A group is opened once and read with ONE read() per tick: the kernel
 * returns every counter of the group together with the group's enabled and
 * running times (PERF_FORMAT_GROUP | TOTAL_TIME_ENABLED | TOTAL_TIME_RUNNING
 * | ID). One read matters: reading a thread that runs on another CPU costs
 * an IPI, and for a running vCPU a VM exit, per read.
 *
 *   kt_perf_group g;
 *   if (kt_perf_group_open(&g, KT_PERF_SW, tid, -1, 0, &err) < 0)
 *       skip(err.msg);
 *   kt_perf_group_read(&g, &vals, &err);
 *
 * Values are kept raw. When the PMU multiplexes, time_running < time_enabled
 * and kt_perf_scale() extrapolates; whether to do so is the caller's choice.
 */
#ifndef KTSTR_PERF_H
#define KTSTR_PERF_H

#include <stddef.h>
#include <stdint.h>

#include "ktstr/api.h"
#include "ktstr/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Hardware counters of one vCPU (or thread, or CPU) over some interval. */
typedef struct kt_vcpu_perf_sample {
    uint64_t cycles, instructions, cache_misses, branch_misses;
    uint64_t time_enabled_ns, time_running_ns;
} kt_vcpu_perf_sample;

/* Instructions per cycle; 0.0 when cycles == 0 (nothing ran, no ratio). */
KT_API double kt_ipc(const kt_vcpu_perf_sample *s);

/*
 * IPC bands. A halted vCPU retires next to nothing in guest mode (IPC about
 * 0), a vCPU spinning on a lock runs PAUSE-heavy loops (IPC about 0.5), real
 * work retires one or more instructions per cycle. The edges sit between
 * those centres with room for noise on either side:
 *   cycles < KT_IPC_MIN_CYCLES             unknown  (too few cycles: a single
 *                                          interrupt handler would dominate)
 *   ipc <  KT_IPC_SPINNING_FROM   (0.2)    halted
 *   ipc <  KT_IPC_PRODUCTIVE_FROM (0.8)    spinning
 *   ipc >= KT_IPC_PRODUCTIVE_FROM          productive
 * 0.2 is 2.5x below the spinning centre and far above a halted one; 0.8 is
 * past the spinning centre by more than its usual spread (0.3-0.7) and
 * below the productive floor of 1.
 */
#define KT_IPC_MIN_CYCLES 1000u
#define KT_IPC_SPINNING_FROM 0.2
#define KT_IPC_PRODUCTIVE_FROM 0.8

typedef enum kt_ipc_band {
    KT_IPC_UNKNOWN,
    KT_IPC_HALTED,
    KT_IPC_SPINNING,
    KT_IPC_PRODUCTIVE,
} kt_ipc_band;

/* The band of a sample, by the table above. */
KT_API kt_ipc_band kt_ipc_band_of(const kt_vcpu_perf_sample *s);

/* "unknown", "halted", "spinning", "productive". */
KT_API const char *kt_ipc_band_name(kt_ipc_band band);

/* value * enabled / running, exact (128-bit intermediate), saturating at
 * UINT64_MAX; 0 when running == 0 (the counter never ran: nothing to
 * extrapolate from). */
KT_API uint64_t kt_perf_scale(uint64_t value, uint64_t enabled, uint64_t running);

typedef enum kt_perf_kind {
    KT_PERF_HW, /* cycles, instructions, cache-misses, branch-misses */
    KT_PERF_SW, /* task-clock, context-switches, cpu-migrations */
} kt_perf_kind;

#define KT_PERF_MAX_EVENTS 4

/* open flags */
#define KT_PERF_EXCLUDE_HOST 1u /* count only in guest mode (vCPU threads) */

/* One group read: counters in the kind's event order, plus group times. */
typedef struct kt_perf_values {
    int nr;
    uint64_t v[KT_PERF_MAX_EVENTS];
    uint64_t time_enabled_ns, time_running_ns;
} kt_perf_values;

typedef struct kt_perf_group {
    kt_perf_kind kind;
    int nr;
    int fd[KT_PERF_MAX_EVENTS];  /* fd[0] is the leader, read for all */
    uint64_t id[KT_PERF_MAX_EVENTS];
    int tid, cpu;
} kt_perf_group;

/* Number of events and the name of event i of a kind ("cycles", ...). */
KT_API int kt_perf_kind_events(kt_perf_kind kind);
KT_API const char *kt_perf_event_name(kt_perf_kind kind, int i);

/* Opens a counting group on thread tid (cpu -1) or on CPU cpu (tid -1).
 * Returns 0, or -1 with err naming the group, target, event and errno. */
KT_API int kt_perf_group_open(kt_perf_group *g, kt_perf_kind kind, int tid, int cpu,
                              unsigned flags, kt_err *err);

/* One read() of the whole group into out. A target that is gone reads as
 * -1 with ESRCH. */
KT_API int kt_perf_group_read(const kt_perf_group *g, kt_perf_values *out,
                              kt_err *err);

/* Closes every fd of the group (safe on a zeroed or closed group). */
KT_API void kt_perf_group_close(kt_perf_group *g);

/* Parses a group read buffer in the kernel's layout {nr, enabled, running,
 * {value, id}[nr]} and orders values by ids[0..nr). -1 with err when the
 * length, nr or an id does not match. */
KT_API int kt_perf_group_parse(const void *buf, size_t len, const uint64_t *ids,
                               int nr, kt_perf_values *out, kt_err *err);

/* A hardware group's values as the contract sample. */
KT_API void kt_perf_to_vcpu_sample(const kt_perf_values *vals,
                                   kt_vcpu_perf_sample *out);

#ifdef __cplusplus
}
#endif
#endif
