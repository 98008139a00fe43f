/*
 * ktstr/monitor.h - sample threads, CPUs and vCPUs at a fixed cadence into
 * a preallocated timeline, then query it.
 *
 *   kt_target t[2] = {
 *       { .kind = KT_TARGET_THREAD, .tid = tid, .sources = KT_SRC_SCHEDSTAT },
 *       { .kind = KT_TARGET_CPU, .cpu = 0, .sources = KT_SRC_PROCSTAT },
 *   };
 *   kt_monitor *m = kt_monitor_start(t, 2, NULL, &err);   // 100 Hz
 *   ... run the workload ...
 *   kt_monitor_stop(m);
 *   double share = kt_timeline_cpu_share(kt_monitor_timeline(m), 0, 0, KT_TICK_END);
 *   kt_monitor_free(m);
 *
 * Cadence: ticks are due at start + k * period (CLOCK_MONOTONIC, absolute
 * clock_nanosleep, timer slack 1 ns). A tick whose deadline has passed is
 * skipped and counted in kt_monitor_missed(), never caught up in a burst.
 *
 * Capacity: the timeline holds cfg.capacity ticks, allocated at start;
 * nothing is allocated while sampling. When it is full the monitor stops
 * sampling and kt_monitor_full() says so (no ring: the start of a run, when
 * a scheduler misbehaves first, is never overwritten).
 *
 * Each source is read with one syscall per target per tick (/proc/stat: one
 * for all CPU targets). Each tick records a CLOCK_MONOTONIC timestamp per
 * target, taken just before its reads.
 *
 * A target whose read fails with ESRCH or ENOENT (the thread exited) is
 * marked gone at that tick and no longer read; the others go on. Any other
 * read error also stops that target, with the error kept for
 * kt_monitor_target_error(). A thread's exit is seen through its schedstat
 * source; a perf group of an exited thread keeps returning its final
 * counts, so a perf-only thread target reads as stalled, not gone.
 *
 * Threading: only the monitor thread writes. A tick becomes visible to
 * queries once complete (published with a release store), so queries from
 * any thread are safe at any time over ticks [0, kt_timeline_ticks()); after
 * kt_monitor_stop() everything is final.
 */
#ifndef KTSTR_MONITOR_H
#define KTSTR_MONITOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ktstr/api.h"
#include "ktstr/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Sources (bit mask) */
#define KT_SRC_SCHEDSTAT 0x01u /* thread, vcpu: run_ns, delay_ns, timeslices */
#define KT_SRC_PERF_SW   0x02u /* any: task-clock, context switches, migrations */
#define KT_SRC_PERF_HW   0x04u /* any (vcpu: guest only): cycles ... */
#define KT_SRC_PROCSTAT  0x08u /* cpu: busy, idle, steal ns */
#define KT_SRC_KVM       0x10u /* vcpu with kvm_stats_fd: exits, halts ... */

/* Fields of a tick. Counters are cumulative; the timeline stores them raw
 * and queries take deltas. */
typedef enum kt_field {
    KT_F_RUN_NS, KT_F_DELAY_NS, KT_F_TIMESLICES,
    KT_F_TASK_CLOCK_NS, KT_F_CTX_SWITCHES, KT_F_MIGRATIONS,
    KT_F_SW_ENABLED_NS, KT_F_SW_RUNNING_NS,
    KT_F_CYCLES, KT_F_INSTRUCTIONS, KT_F_CACHE_MISSES, KT_F_BRANCH_MISSES,
    KT_F_HW_ENABLED_NS, KT_F_HW_RUNNING_NS,
    KT_F_CPU_BUSY_NS, KT_F_CPU_IDLE_NS, KT_F_CPU_STEAL_NS,
    KT_F_KVM_EXITS, KT_F_KVM_HALT_EXITS, KT_F_KVM_HALT_WAIT_NS,
    KT_F_KVM_HALT_SUCCESSFUL_POLL, KT_F_KVM_HALT_ATTEMPTED_POLL,
    KT_F_KVM_PREEMPTION_REPORTED, KT_F_KVM_PREEMPTION_OTHER,
    KT_F_COUNT
} kt_field;

/* "run_ns", "task_clock_ns", "halt_exits", ... */
KT_API const char *kt_field_name(kt_field f);

/* The fields a set of sources provides (bit i = field i). */
KT_API uint32_t kt_sources_fields(unsigned sources);

/* Width in bits of a field's counter (64 for every field here; a 32-bit
 * counter would wrap modulo 2^32). */
KT_API unsigned kt_field_width(kt_field f);

/* Change of a counter from old to new: modular for a width below 64 (the
 * counter wrapped); for 64-bit counters new < old means the counter was
 * reset, so the change since the reset is new itself. */
KT_API uint64_t kt_counter_delta(uint64_t old_value, uint64_t new_value,
                                 unsigned width);

/* ---- the timeline: storage and queries ---- */

typedef struct kt_timeline kt_timeline;

#define KT_TICK_END SIZE_MAX /* as t1: up to the last tick recorded */

/* Allocates room for capacity ticks of n targets; fields[i] is target i's
 * field mask (kt_sources_fields). NULL with err on bad input. */
KT_API kt_timeline *kt_timeline_new(int n, const uint32_t *fields, size_t capacity,
                                    kt_err *err);
KT_API void kt_timeline_free(kt_timeline *tl);

/* Writer side (the monitor thread; tests drive it by hand): record values
 * of the tick being written, mark a target gone, then publish the tick.
 * kt_timeline_record returns -1 when the timeline is full. */
KT_API int kt_timeline_record(kt_timeline *tl, int target, uint64_t ts_ns,
                              const uint64_t *values /* [KT_F_COUNT], by field */);
KT_API void kt_timeline_mark_gone(kt_timeline *tl, int target, int code);
KT_API int kt_timeline_commit(kt_timeline *tl);

/* Completed ticks, targets, capacity. */
KT_API size_t kt_timeline_ticks(const kt_timeline *tl);
KT_API int kt_timeline_targets(const kt_timeline *tl);
KT_API size_t kt_timeline_capacity(const kt_timeline *tl);

/* The value of a field and the timestamp at a tick; -1 when the target was
 * not read then (gone), the field is not captured, or the tick is not
 * complete. */
KT_API int kt_timeline_value(const kt_timeline *tl, int target, size_t tick,
                             kt_field f, uint64_t *value);
KT_API int kt_timeline_time(const kt_timeline *tl, int target, size_t tick,
                            uint64_t *ts_ns);

/* true when the target is gone; *tick (the first tick it was not read at)
 * and *code (its errno) are set when non-NULL. */
KT_API bool kt_timeline_gone(const kt_timeline *tl, int target, size_t *tick,
                             int *code);

/* Sum of the field's deltas over ticks t0..t1 (inclusive, t1 clamped to
 * the target's last recorded tick); *wall_ns (if non-NULL) gets the time
 * between those two samples. -1 when fewer than two samples. */
KT_API int kt_timeline_total(const kt_timeline *tl, int target, kt_field f,
                             size_t t0, size_t t1, uint64_t *total,
                             uint64_t *wall_ns);

/* Per-interval deltas over ticks t0..t1: deltas[i] is the change between
 * tick t0+i and t0+i+1, interval_ns[i] (may be NULL) the time between them.
 * Returns the number of intervals (stores at most cap), or -1. */
KT_API long kt_timeline_series(const kt_timeline *tl, int target, kt_field f,
                               size_t t0, size_t t1, uint64_t *deltas,
                               uint64_t *interval_ns, size_t cap);

/* CPU time over wall time in ticks t0..t1: from run_ns (schedstat), else
 * task_clock_ns, else cpu_busy_ns. NaN when none is captured or fewer than
 * two samples exist. */
KT_API double kt_timeline_cpu_share(const kt_timeline *tl, int target, size_t t0,
                                    size_t t1);

/* The longest stretch of ticks t0..t1 over which the field did not grow:
 * from the sample where it last grew to the last sample before it grew
 * again (a lower bound of the true stall: the true one may be up to one
 * period longer at either end; 0 when it grew every interval). *at gets the
 * tick where that stretch began. -1 when fewer than two samples. */
KT_API int kt_timeline_longest_stall(const kt_timeline *tl, int target, kt_field f,
                                     size_t t0, size_t t1, uint64_t *ns,
                                     size_t *at);

/* ---- the monitor ---- */

typedef enum kt_target_kind {
    KT_TARGET_THREAD,
    KT_TARGET_CPU,
    KT_TARGET_VCPU,  /* a vCPU thread: perf hw counts guest mode only */
} kt_target_kind;

typedef struct kt_target {
    kt_target_kind kind;
    int pid;           /* thread, vcpu: its process (0: this process) */
    int tid;           /* thread, vcpu */
    int cpu;           /* cpu */
    unsigned sources;  /* KT_SRC_* */
    int kvm_stats_fd;  /* vcpu with KT_SRC_KVM: KVM_GET_STATS_FD's fd (dup'ed) */
} kt_target;

typedef struct kt_monitor_config {
    unsigned hz;       /* 1..1000; 0: 100 */
    size_t capacity;   /* ticks; 0: 10 s at hz */
} kt_monitor_config;

typedef struct kt_monitor kt_monitor;

/* Opens every source of every target, allocates the timeline and starts
 * the monitor thread. NULL with err naming the source, target and errno
 * when a source cannot be opened (the scenario can skip with err.msg). */
KT_API kt_monitor *kt_monitor_start(const kt_target *targets, int n,
                                    const kt_monitor_config *cfg, kt_err *err);

/* Stops sampling and joins the thread (within one period). Safe twice. */
KT_API void kt_monitor_stop(kt_monitor *m);

/* Stops if needed, closes every source, frees the timeline. */
KT_API void kt_monitor_free(kt_monitor *m);

KT_API const kt_timeline *kt_monitor_timeline(const kt_monitor *m);

/* Deadlines skipped because a tick ran late. */
KT_API uint64_t kt_monitor_missed(const kt_monitor *m);

/* true when sampling stopped because the timeline was full. */
KT_API bool kt_monitor_full(const kt_monitor *m);

/* The read error that stopped a target ("" when none), e.g.
 * "schedstat (tid 812): pread: No such process (ESRCH: thread gone)". */
KT_API const char *kt_monitor_target_error(const kt_monitor *m, int target);

/* The monitor thread's CPU time so far, in ns (for overhead checks). */
KT_API uint64_t kt_monitor_cpu_ns(const kt_monitor *m);

#ifdef __cplusplus
}
#endif
#endif
