/*
 * ktstr/work.h - worker threads (or processes) that load the scheduler
 * and measure what it did to them.
 *
 *   kt_work *w = kt_work_new(0, &err);
 *   kt_work_spec hogs = { .kind = KT_WORK_SPIN, .count = 2, .nice = 5, .set_nice = true };
 *   kt_work_spec pp   = { .kind = KT_WORK_PINGPONG, .count = 1, .wake = KT_WAKE_PIPE };
 *   if (kt_work_add(w, &hogs, &err) || kt_work_add(w, &pp, &err) ||
 *       kt_work_start(w, &err)) { kt_verdict_skip(v, "%s", err.msg); ... }
 *   sleep(2);
 *   kt_work_stop(w);
 *   kt_work_result r; kt_work_get(w, 0, &r);   // r.iterations, r.max_gap_ns ...
 *   kt_work_free(w);
 *
 * Kinds: SPIN (a fixed chunk of arithmetic per iteration), YIELD
 * (sched_yield per iteration), DUTY (spin run_us, sleep sleep_us),
 * PINGPONG (pairs hand a token back and forth by futex or pipe), FANOUT
 * (one waker wakes `fanout` wakees per round and waits for all of them),
 * TIMER (clock_nanosleep TIMER_ABSTIME to deadlines period_us apart).
 *
 * Every worker names itself ktw<N> (N = first_index + its position in the
 * set, in the order added), counts iterations (relaxed atomic), stamps
 * its last progress (CLOCK_MONOTONIC ns) and keeps its longest gap between
 * consecutive stamps: one clock read per iteration. Measured here
 * (tests/bench/work.c): a clock read 27 ns, a SPIN iteration 0.68 us, so
 * stamping every iteration costs about 4 % and gaps resolve to ~1 us.
 * The first gap starts at the release from the start barrier, the last
 * one ends when the worker sees the stop flag. Gaps include the worker's
 * own sleeps and waits (DUTY sleep, a PINGPONG side waiting its turn).
 *
 * Stopping: spinning kinds see the flag within one iteration, blocked
 * ones are woken at once; a TIMER finishes its current period and a DUTY
 * worker its current sleep first.
 *
 * Latencies (kt_hist, ns): PINGPONG and FANOUT wakees record wakee's
 * CLOCK_MONOTONIC after waking minus the waker's stamp taken just before
 * the wake; TIMER records lateness = wake time - deadline.
 *
 * Knobs are applied by each worker to itself before the start barrier
 * (name, cgroup, affinity, policy + RT priority, nice, in that order: a
 * v1 cpuset move resets the affinity before Linux 6.2, and a v1 cpu
 * cgroup refuses RT
 * tasks unless its cpu.rt_runtime_us is set, so the move comes first and
 * an RT worker in a fresh v1 group fails with EPERM, said so). If any
 * knob fails, no worker runs: kt_work_start() returns -1 with the first
 * failure, e.g. "ktw0 (tid 812): sched_setscheduler(SCHED_FIFO, 10):
 * Operation not permitted (EPERM: ...)", ready to be a skip reason.
 */
#ifndef KTSTR_WORK_H
#define KTSTR_WORK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ktstr/api.h"
#include "ktstr/cgroup.h"
#include "ktstr/error.h"
#include "ktstr/hist.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum kt_work_kind {
    KT_WORK_SPIN,
    KT_WORK_YIELD,
    KT_WORK_DUTY,
    KT_WORK_PINGPONG,
    KT_WORK_FANOUT,
    KT_WORK_TIMER,
    KT_WORK_NKINDS
} kt_work_kind;

/* Scheduling policy. INHERIT (the zero value) leaves the creator's. EXT is
 * sched_ext (SCHED_EXT = 7): kernels without it answer EINVAL. */
typedef enum kt_policy {
    KT_POLICY_INHERIT = 0,
    KT_POLICY_OTHER,
    KT_POLICY_BATCH,
    KT_POLICY_IDLE,
    KT_POLICY_FIFO,
    KT_POLICY_RR,
    KT_POLICY_EXT,
    KT_POLICY_N
} kt_policy;

typedef enum kt_wake { KT_WAKE_FUTEX = 0, KT_WAKE_PIPE } kt_wake;

typedef struct kt_work_spec {
    kt_work_kind kind;
    unsigned count;        /* workers; pairs for PINGPONG; groups for FANOUT */
    const char *cpus;      /* cpu list ("0-1,3") for every worker; NULL: inherit */
    bool pin_each;         /* the spec's i-th thread gets only the i-th CPU of cpus (mod) */
    bool set_nice;         /* apply nice (0 is a valid nice, hence the flag) */
    int nice;              /* -20..19, setpriority(PRIO_PROCESS, tid) */
    kt_policy policy;
    int rt_prio;           /* 1..99 for FIFO and RR; must be 0 otherwise */
    kt_cgroup *cgroup;     /* NULL: stay where the creator is */
    bool process;          /* fork a process per worker (needed for cgroups on v2) */
    kt_wake wake;          /* PINGPONG, FANOUT: futex (default) or pipe */
    unsigned fanout;       /* FANOUT: wakees per waker, >= 1 */
    uint64_t run_us;       /* DUTY: run time per cycle, > 0 */
    uint64_t sleep_us;     /* DUTY: sleep per cycle; FANOUT: waker's pause between rounds */
    uint64_t period_us;    /* TIMER: > 0 */
    uint64_t stall_once_us;/* each worker sleeps this long once, after its first
                              progress (a test hook for the gap bookkeeping) */
} kt_work_spec;

typedef struct kt_work_result {
    unsigned index;        /* N of ktw<N> */
    kt_work_kind kind;
    unsigned role;         /* PINGPONG: 0 or 1; FANOUT: 0 waker, 1 wakee; else 0 */
    int tid;               /* thread id (process workers: their pid) */
    uint64_t iterations;
    uint64_t max_gap_ns;
    uint64_t cpu_ns;       /* the worker's CPU time (its thread CPU clock at exit) */
    uint64_t run_ns;       /* release from the barrier to exit */
    const kt_hist *lat;    /* wake latency / timer lateness; NULL for kinds without */
} kt_work_result;

typedef struct kt_work kt_work;

/* An empty set whose workers are numbered from first_index (0 for the
 * first set a scenario starts). NULL with err on allocation failure. */
KT_API kt_work *kt_work_new(unsigned first_index, kt_err *err);

/* Validates spec and adds its workers (copied; spec may go). -1 with err
 * naming the bad field; nothing is added then. Not after kt_work_start. */
KT_API int kt_work_add(kt_work *w, const kt_work_spec *spec, kt_err *err);

/* Starts every worker, waits until each has applied its knobs, then
 * releases them together. -1 with the first failure (no worker ran). */
KT_API int kt_work_start(kt_work *w, kt_err *err);

/* The workers of specs[0..n), numbered from 0, started: kt_work_new,
 * kt_work_add of each, kt_work_start. NULL with err from the first step
 * that failed (nothing is left running then). */
KT_API kt_work *kt_work_run(const kt_work_spec *specs, size_t n, kt_err *err);

/* Sets the stop flag, wakes every waiter, joins threads, reaps processes.
 * Safe to call twice. */
KT_API void kt_work_stop(kt_work *w);

/* Stops if needed and frees everything (NULL is fine). */
KT_API void kt_work_free(kt_work *w);

/* Workers in the set. */
KT_API size_t kt_work_count(const kt_work *w);

/* Live readings of worker i (0-based within the set), safe while running. */
KT_API uint64_t kt_work_iterations(const kt_work *w, size_t i);
/* Its thread id (a process worker's pid) once kt_work_start returned;
 * -1 when i is out of range. */
KT_API int kt_work_tid(const kt_work *w, size_t i);
KT_API uint64_t kt_work_last_progress_ns(const kt_work *w, size_t i);
KT_API uint64_t kt_work_max_gap_ns(const kt_work *w, size_t i);
/* CPU time so far, from pthread_getcpuclockid (threads) or
 * clock_getcpuclockid (processes); after stop, the value at exit. */
KT_API uint64_t kt_work_cpu_ns(const kt_work *w, size_t i);

/* Fills r for worker i; meaningful after kt_work_stop. -1 with err if i is
 * out of range. r->lat points into w and lives until kt_work_free. */
KT_API int kt_work_get(const kt_work *w, size_t i, kt_work_result *r, kt_err *err);

/* Merges the latency histograms of every worker of a kind into out
 * (initialised by the call). Returns how many were merged. */
KT_API size_t kt_work_latency(const kt_work *w, kt_work_kind kind, kt_hist *out);

/* "spin", "SCHED_FIFO": names for messages; "?" when out of range. */
KT_API const char *kt_work_kind_name(kt_work_kind kind);
KT_API const char *kt_policy_name(kt_policy p);

/* Now on CLOCK_MONOTONIC, ns (the clock every stamp uses). */
KT_API uint64_t kt_now_ns(void);
/* Sleeps ms milliseconds, resuming after a signal, so a scenario's
 * measuring window is never cut short by one. */
KT_API void kt_sleep_ms(unsigned ms);
/* Whether a sampling interval of interval_ns begun at `since` is over at
 * `now`, in a window that ends at `end`: a whole interval has passed, or
 * the window is over and at least half of one has (a shorter last sliver
 * says nothing of a share: a 40 ms one read 0 in a loaded VM run). */
KT_API bool kt_interval_over(uint64_t since, uint64_t now, uint64_t end, uint64_t interval_ns);
/* The CPUs this process may run on (its affinity mask, read whole
 * however many CPUs the machine has), ascending, at most cap of them:
 * their count, or -1 with err. Scenarios pin only to these, so they also
 * run under taskset or in a cpuset. */
KT_API int kt_allowed_cpus(int *cpus, int cap, kt_err *err);
/* Writes cpus[0..count) as a cpu list for kt_work_spec.cpus, in their
 * order, a run of ascending neighbours as a range as the kernel prints
 * them ({0,1,2,3,6} "0-3,6", {0,2,5} "0,2,5"); -1 when count is not
 * positive or buf is too small. */
KT_API int kt_cpulist_format(char *buf, size_t n, const int *cpus, int count);

#ifdef __cplusplus
}
#endif
#endif
