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
 * TIMER (clock_nanosleep TIMER_ABSTIME to deadlines period_us apart),
 * and eleven more that each stress one path of the scheduler:
 *
 *   MUTEX      .count threads take one pthread mutex (process-shared),
 *              hold it hold_us (wall time, spinning; 0: take and release)
 *              and sleep sleep_us between acquisitions. Iterations are
 *              acquisitions; lat is the wait to acquire; mutex.* the
 *              longest wait, the time held and the group's total counted
 *              under the lock (equal to the sum of iterations unless the
 *              lock let two in).
 *   PI         priority inversion, per group on one CPU: a SCHED_FIFO
 *              holder (role 0, base priority) takes a futex lock and
 *              works hold_us of CPU time under it; a waiter (role 1,
 *              base + 2) then asks for it while .fanout spinners (role 2,
 *              base + 1) spin run_us each. pi = true makes the lock a PI
 *              futex (FUTEX_LOCK_PI), which boosts the holder past the
 *              spinners; without it the waiter waits for them too. The
 *              waiter's lat is its wait for the lock, one per round
 *              (iterations); rounds are sleep_us apart. Base priority:
 *              rt_prio with policy FIFO, else 10. The group's CPU: the
 *              g-th of .cpus, else of the worker's allowed CPUs.
 *   FORK       fork() a child that stamps the clock and _exits; waitpid;
 *              repeat, `rate` per second (0: back to back). lat: fork
 *              called to child running. Iterations: children reaped.
 *   THREAD     the same with pthread_create and pthread_join.
 *   PAGEFAULT  mmap `bytes` (rounded up to pages, MADV_NOHUGEPAGE so each
 *              page faults alone), write every page, munmap. Iterations:
 *              whole cycles; fault.pages = iterations x pages per cycle;
 *              fault.faults: the thread's minor faults over the run.
 *   CACHE      chases pointers through a random single cycle of 64-byte
 *              lines (each load's address comes from the last, so every
 *              step is a miss once the set outgrows the caches). Set:
 *              `bytes`, else llc_mult (0: 2) x the LLC (the level-3 cache
 *              of cpu0 in sysfs, or its largest level), floored to 64
 *              bytes. Built before the barrier. Iterations: steps of 1024
 *              lines; cache.passes whole cycles walked.
 *   PIPE       pairs: a producer (role 0) spins compute_us then writes a
 *              stamp to a pipe; the consumer (role 1) reads it, records
 *              read time - stamp in lat (queueing included: a slower
 *              consumer fills the pipe), spins compute_us. Iterations:
 *              messages sent, received.
 *   MESSENGER  schbench-like: a messenger (role 0) posts a request to its
 *              .fanout workers (role 1) by futex, each spins compute_us and
 *              replies; workers record post to reply in lat, the
 *              messenger post to the last reply seen. Iterations: rounds
 *              (messenger), requests done (worker); per_s is the rate.
 *   BURSTY     on/off phases, each length drawn uniform in [1, max] us
 *              (burst_us on, spinning; idle_us off, asleep) from `seed`
 *              and the worker's position (kt_work_bursty_plan replays
 *              them). Iterations: spin chunks; burst.* completed phases,
 *              the measured busy time, the drawn on and off totals.
 *   PREEMPT    .count threads wake every period_us, staggered evenly over
 *              the period (a wakeup every period_us / count), do
 *              compute_us of spin (0: one chunk) and sleep: give them
 *              SCHED_FIFO or a low nice to preempt what runs. lat: wake
 *              time - due time of every wake that fell due (open loop,
 *              as TIMER); iterations: wakes.
 *   PERIODIC   SCHED_FIFO or SCHED_RR (policy required) jobs: every
 *              period_us, budget_us of CPU time. A job finishing after the
 *              next period start is a missed deadline, and so is every
 *              later period that passed whole meanwhile (skipped).
 *              Iterations: jobs; lat: start lateness (wake - release);
 *              periodic.missed and the longest response (finish - release).
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
 * the wake; TIMER records lateness = wake time - deadline for every
 * deadline that fell due (open loop, kt_hist_record_due: a stall of S ms
 * at period P adds S / P samples, so a percentile sees it), while its
 * iterations count the wakes that happened; the other kinds say above
 * what theirs holds.
 *
 * Sleeps of the new kinds (pauses, rates, off phases, periods) wait on
 * the stop flag's futex, so kt_work_stop() ends them at once; a MUTEX
 * or PI waiter is released by its holder, which stops within one hold.
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
    KT_WORK_MUTEX,
    KT_WORK_PI,
    KT_WORK_FORK,
    KT_WORK_THREAD,
    KT_WORK_PAGEFAULT,
    KT_WORK_CACHE,
    KT_WORK_PIPE,
    KT_WORK_MESSENGER,
    KT_WORK_BURSTY,
    KT_WORK_PREEMPT,
    KT_WORK_PERIODIC,
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
    unsigned count;        /* workers; pairs for PINGPONG and PIPE; groups for
                              FANOUT, PI and MESSENGER; MUTEX: threads on the lock */
    const char *cpus;      /* cpu list ("0-1,3") for every worker; NULL: inherit */
    bool pin_each;         /* the spec's i-th thread gets only the i-th CPU of cpus (mod) */
    bool set_nice;         /* apply nice (0 is a valid nice, hence the flag) */
    int nice;              /* -20..19, setpriority(PRIO_PROCESS, tid) */
    kt_policy policy;
    int rt_prio;           /* 1..99 for FIFO and RR; must be 0 otherwise */
    kt_cgroup *cgroup;     /* NULL: stay where the creator is */
    bool process;          /* fork a process per worker (needed for cgroups on v2) */
    kt_wake wake;          /* PINGPONG, FANOUT: futex (default) or pipe */
    unsigned fanout;       /* FANOUT: wakees per waker, MESSENGER: workers per
                              messenger, PI: spinners per group; >= 1 */
    uint64_t run_us;       /* DUTY: run time per cycle, > 0; PI: each spinner's
                              spin per round, > 0 */
    uint64_t sleep_us;     /* DUTY: sleep per cycle; FANOUT, MESSENGER: pause
                              between rounds; MUTEX: pause between acquisitions;
                              PI: pause between rounds */
    uint64_t period_us;    /* TIMER, PREEMPT, PERIODIC: > 0 */
    uint64_t hold_us;      /* MUTEX: time held (<= 1 s; 0: take and release);
                              PI: the holder's CPU time under the lock, 1 us..1 s */
    bool pi;               /* PI: a PI futex (FUTEX_LOCK_PI); false: a plain one */
    uint64_t rate;         /* FORK, THREAD: spawns per second (<= 1e6); 0: flat out */
    uint64_t bytes;        /* PAGEFAULT: the region, > 0; CACHE: the working set
                              (>= 128; 0: llc_mult x the LLC) */
    double llc_mult;       /* CACHE: working set over the LLC (0: 2), in (0, 64] */
    uint64_t compute_us;   /* PIPE: spin per message on each side; MESSENGER: each
                              worker's spin per request; PREEMPT: spin per wakeup,
                              < period_us */
    uint64_t burst_us;     /* BURSTY: longest on phase, > 0 */
    uint64_t idle_us;      /* BURSTY: longest off phase, > 0 */
    uint64_t seed;         /* BURSTY: seed of the phase lengths */
    uint64_t budget_us;    /* PERIODIC: CPU time per period, in (0, period_us) */
    uint64_t stall_once_us;/* each worker sleeps this long once, after its first
                              progress (a test hook for the gap bookkeeping) */
} kt_work_spec;

typedef struct kt_work_result {
    unsigned index;        /* N of ktw<N> */
    kt_work_kind kind;
    unsigned role;         /* PINGPONG: 0 or 1; FANOUT: 0 waker, 1 wakee; PI: 0
                              holder, 1 waiter, 2 spinner; PIPE: 0 producer, 1
                              consumer; MESSENGER: 0 messenger, 1 worker; else 0 */
    int tid;               /* thread id (process workers: their pid) */
    uint64_t iterations;
    uint64_t max_gap_ns;
    uint64_t cpu_ns;       /* the worker's CPU time (its thread CPU clock at exit) */
    uint64_t run_ns;       /* release from the barrier to exit */
    double per_s;          /* iterations per second of run_ns (0 before stop) */
    const kt_hist *lat;    /* the kind's latency (see above); NULL for kinds and
                              roles without */
    const char *error;     /* NULL, or why the worker's loop ended early (a fork
                              refused, a lock call failed); lives as lat does */
    /* The kinds' own counters; zero for other kinds. */
    struct {
        uint64_t max_wait_ns;  /* longest wait to acquire */
        uint64_t held_ns;      /* time this worker held the lock */
        uint64_t total;        /* the group's acquisitions, counted under the lock */
    } mutex;
    struct {
        uint64_t bytes;        /* the region, in whole pages */
        uint64_t pages;        /* pages touched in whole cycles */
        uint64_t faults;       /* minor faults of the thread over the run */
    } fault;
    struct {
        uint64_t bytes;        /* the working set */
        uint64_t llc_bytes;    /* the LLC size read (0 when .bytes set and none found) */
        uint64_t lines;        /* lines visited */
        uint64_t passes;       /* whole cycles walked */
    } cache;
    struct {
        uint64_t phases;       /* on + off phases completed */
        uint64_t busy_ns;      /* time spun in those phases' on parts */
        uint64_t planned_on_ns, planned_off_ns; /* their drawn lengths, summed */
    } burst;
    struct {
        uint64_t missed;       /* deadlines missed (late jobs and skipped periods) */
        uint64_t max_response_ns; /* longest finish - release */
    } periodic;
    struct {
        uint64_t max_wake_ns;  /* MESSENGER worker: longest post to wake */
    } msg;
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

/* BURSTY: the summed on and off lengths (ns) that worker nth of spec s
 * (its position among the spec's workers) draws for its first `phases`
 * phases, from the seed alone: what burst.planned_on_ns and
 * planned_off_ns read after that many phases. */
KT_API void kt_work_bursty_plan(const kt_work_spec *s, unsigned nth, uint64_t phases,
                                uint64_t *on_ns, uint64_t *off_ns);

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
