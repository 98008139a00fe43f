/* Private to lib/work: the shared worker state and the helpers the kind
 * loops, the knob code and the set lifecycle share.
 *
 * Files: workers.c (a set's lifecycle: add, start, stop, results),
 * kinds.c (the kind table; SPIN, YIELD, DUTY, PINGPONG, FANOUT, TIMER),
 * kinds_lock.c (MUTEX, PI), kinds_spawn.c (FORK, THREAD),
 * kinds_memory.c (PAGEFAULT, CACHE), kinds_msg.c (PIPE, MESSENGER),
 * kinds_time.c (BURSTY, PREEMPT, PERIODIC), policy.c (the knobs),
 * sync.c (futexes, pipes, the stop-aware nap), cpulist.c, hist.c,
 * cgroup*.c. */
#ifndef KTSTR_WORK_INT_H
#define KTSTR_WORK_INT_H

#include "ktstr/work.h"

#include "base/clock.h"   /* kt__sleep_ns, kt__thread_cpu_ns for every worker file */

#include <pthread.h>
#include <sched.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <sys/types.h>

#define KT__SCHED_EXT 7          /* not in glibc 2.36's headers */
#define KT__WAIT_SLICE_MS 100    /* every blocking wait rechecks stop this often */

#define KT__MAX_WORKERS 1024     /* x 35 KiB of histogram each */
#define KT__NCTR 4               /* a kind's own counters per worker */

enum { SLOT_STARTING, SLOT_READY, SLOT_FAILED, SLOT_DONE };

/* A group's state beyond the leader's word, acks and stamp, kept in its
 * leader's slot (shared memory, so process workers share it too). */
typedef union kt__wgroup {
    struct {
        pthread_mutex_t m;      /* PTHREAD_PROCESS_SHARED */
        uint64_t total;         /* acquisitions, counted under m: a lock that
                                   let two in would lose updates here */
    } mutex;
    struct kt__wgroup_pi {
        _Atomic uint32_t lock;  /* PI futex: 0 or the owner's tid (| waiters);
                                   plain futex: 0 free, 1 held, 2 contended */
        _Atomic uint32_t phase; /* the round's step, see kinds_lock.c */
        _Atomic uint32_t gen;   /* rounds the spinners were released for */
        _Atomic uint32_t done;  /* spinners done with this round */
    } pi;
} kt__wgroup;
enum { GO_WAIT, GO_RUN, GO_ABORT };

/* One worker's state, in memory shared with process workers. Written by
 * the worker alone, except the sync words of a pair/group leader. */
typedef struct kt__wslot {
    alignas(64) _Atomic uint64_t iterations;
    _Atomic uint64_t last_ns;
    _Atomic uint64_t max_gap_ns;
    _Atomic uint32_t word;      /* leader: PINGPONG turn, FANOUT generation */
    _Atomic uint32_t acks;      /* FANOUT leader: wakees done this round */
    _Atomic uint64_t stamp;     /* leader: the waker's stamp for futex wakes */
    _Atomic int32_t tid;
    _Atomic int32_t state;
    _Atomic int32_t failed;     /* the loop ended on an error, said in err */
    bool grp_ready;             /* leader: grp initialised (group_init ran) */
    uint64_t stall_ns;
    uint64_t cpu_ns, run_ns;
    _Atomic uint64_t ctr[KT__NCTR]; /* the kind's counters (its result hook) */
    kt__wgroup grp;
    kt_err err;
    kt_hist lat;
} kt__wslot;

typedef struct kt__wshared {
    _Atomic uint32_t ready;     /* workers that applied their knobs */
    _Atomic uint32_t go;        /* GO_WAIT, GO_RUN, GO_ABORT */
    _Atomic uint32_t stop;
    kt__wslot slots[];
} kt__wshared;

/* A spec as added, with its cpu list parsed. */
typedef struct kt__wspec {
    kt_work_spec spec;
    cpu_set_t mask;
    int cpu_order[CPU_SETSIZE]; /* the list's CPUs in the order written */
    int ncpus;                  /* 0: no affinity */
} kt__wspec;

/* Where a worker sits in the set. */
typedef struct kt__wcfg {
    size_t spec;                /* index into the set's specs */
    unsigned nth;               /* position among the spec's workers */
    unsigned role;
    size_t leader;              /* slot of the pair's or group's first worker */
} kt__wcfg;

/* What a kind's loop is handed. */
typedef struct kt__wrun {
    kt__wslot *self, *leader;
    const kt_work_spec *spec;
    const kt__wspec *ws;        /* the spec with its parsed cpu list */
    _Atomic uint32_t *stop;
    unsigned role;
    unsigned nth;               /* position among the spec's workers */
    unsigned index;             /* N of ktw<N>, for messages */
    int tid;
    size_t i, leader_i;
    int (*pipes)[2];            /* inbound pipe per worker, or NULL */
    void *mem;                  /* the kind's own memory (prepare to release) */
    size_t mem_len;
} kt__wrun;

/* The kind table (kinds.c): everything the set code needs to know about a
 * kind, so that it never names one. A spec's .count is a number of groups
 * of workers; a group's first worker is its leader, whose slot holds the
 * group's sync words, and the p-th worker of a group has the role
 * min(p, last_role). */
typedef struct kt__kind_info {
    const char *name;
    void (*run)(kt__wrun *r);
    unsigned group;        /* workers per group: 1 alone, 2 a ping-pong pair */
    bool plus_fanout;      /* and .fanout more (FANOUT: a waker and its wakees);
                              .fanout must then be 1..KT__MAX_WORKERS */
    bool one_group;        /* the spec's .count workers are one group (MUTEX) */
    unsigned last_role;    /* PINGPONG: roles 0, 1; FANOUT: 0 the waker, 1 wakees */
    unsigned lat_roles;    /* bit r: role r records latency in its kt_hist */
    bool uses_pipes;       /* .wake = KT_WAKE_PIPE gives each worker a pipe */
    bool always_pipes;     /* every worker gets a pipe, whatever .wake says */
    /* Optional hooks, NULL when the kind needs none: */
    /* the kind's own knobs, at kt_work_add: -1 with err naming the field */
    int (*check)(const kt_work_spec *s, kt_err *err);
    /* a group's state in its leader's slot: set up before any worker
     * starts, torn down when the set is freed */
    int (*group_init)(kt__wslot *leader, const kt_work_spec *s, kt_err *err);
    void (*group_fini)(kt__wslot *leader);
    /* in the worker, after the knobs and before the barrier: what must not
     * count as run time (memory to walk) or may fail (RT priorities); -1
     * with err, having released what it took */
    int (*prepare)(kt__wrun *r, kt_err *err);
    /* in the worker, after run, or when the start was aborted */
    void (*release)(kt__wrun *r);
    /* kt_work_stop: make every waiter of the group's own words return */
    void (*wake)(kt__wslot *leader);
    /* kt_work_get: the kind's counters into r */
    void (*result)(const kt__wslot *self, const kt__wslot *leader,
                   const kt_work_spec *s, kt_work_result *r);
} kt__kind_info;
const kt__kind_info *kt__kind(kt_work_kind k);

/* The new kinds' entries, each defined in the file that runs it. */
extern const kt__kind_info kt__kind_mutex, kt__kind_pi;            /* kinds_lock.c */
extern const kt__kind_info kt__kind_fork, kt__kind_thread;         /* kinds_spawn.c */
extern const kt__kind_info kt__kind_pagefault, kt__kind_cache;     /* kinds_memory.c */
extern const kt__kind_info kt__kind_pipe, kt__kind_messenger;      /* kinds_msg.c */
extern const kt__kind_info kt__kind_bursty, kt__kind_preempt,
                           kt__kind_periodic;                      /* kinds_time.c */

/* Workers in one group of spec s of kind k, and in all of its groups. */
static inline unsigned kt__kind_group(const kt__kind_info *k, const kt_work_spec *s)
{
    if (k->one_group)
        return s->count;
    return k->group + (k->plus_fanout ? s->fanout : 0);
}
static inline unsigned kt__kind_workers(const kt__kind_info *k, const kt_work_spec *s)
{
    return k->one_group ? s->count : s->count * kt__kind_group(k, s);
}

/* cpulist.c: parses "0-3,6"; fills mask and order; -1 with err. */
int kt__cpulist_parse(const char *s, cpu_set_t *mask, int *order, int *n,
                      kt_err *err);

/* policy.c; kt__policy_sched: the SCHED_* value of p, -1 for INHERIT or
 * out of range. */
int kt__policy_sched(kt_policy p);
int kt__policy_check(const kt_work_spec *s, kt_err *err);
int kt__apply_knobs(const kt__wspec *ws, const kt__wcfg *c, unsigned index,
                    int tid, kt_err *err);

/* sync.c */
void kt__futex_wait(_Atomic uint32_t *word, uint32_t val, int timeout_ms);
void kt__futex_wake(_Atomic uint32_t *word, int n);
/* Waits until *word != val; false on stop. */
bool kt__wait_change(const kt__wrun *r, _Atomic uint32_t *word, uint32_t val);
/* Sleeps until CLOCK_MONOTONIC reads deadline_ns, on the stop flag's
 * futex so that kt_work_stop() ends the sleep at once: true at the
 * deadline, false on stop. */
bool kt__nap_until(const kt__wrun *r, uint64_t deadline_ns);
/* One 8-byte stamp over a pipe. Write ends are O_NONBLOCK (a full pipe
 * must not hold a writer past kt_work_stop): a full pipe is waited on in
 * slices that recheck stop. false on stop, a dead pipe or an error. */
bool kt__pipe_send(const kt__wrun *r, int fd, uint64_t stamp);
bool kt__pipe_recv(const kt__wrun *r, int fd, uint64_t *stamp);

/* kinds.c: the spin every kind burns CPU with. A chunk is 0.68 us here
 * (tests/bench/work.c), so a clock read per chunk costs about 4 %. */
uint64_t kt__spin_chunk(uint64_t x);
/* Spins until CLOCK_MONOTONIC reads deadline_ns (or stop), counting no
 * progress: for work inside one iteration (a lock held, a request's
 * compute). Returns the chain's value (feed it back, keep it alive). */
uint64_t kt__spin_until(const kt__wrun *r, uint64_t x, uint64_t deadline_ns);
/* The same for ns of the thread's own CPU time: work that a preemption
 * delays rather than shortens (a PI holder's section, a periodic budget). */
uint64_t kt__spin_cpu(const kt__wrun *r, uint64_t x, uint64_t ns);

/* Records that the worker's loop ended on an error (err already set). */
static inline void kt__fail(kt__wrun *r)
{
    atomic_store(&r->self->failed, 1);
}

/* splitmix64: a small seeded generator (BURSTY's phases, CACHE's walk). */
static inline uint64_t kt__rand(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15u);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

/* A kind's counter: single writer, read live by kt_work_get. */
static inline void kt__ctr_set(kt__wslot *s, int k, uint64_t v)
{
    atomic_store_explicit(&s->ctr[k], v, memory_order_relaxed);
}
static inline uint64_t kt__ctr(const kt__wslot *s, int k)
{
    return atomic_load_explicit(&((kt__wslot *)s)->ctr[k], memory_order_relaxed);
}

/* Keeps the longest gap between the last progress and now. Single
 * writer, so plain load + store (no locked instruction). */
static inline void kt__note_gap(kt__wslot *s, uint64_t now)
{
    uint64_t gap = now - atomic_load_explicit(&s->last_ns, memory_order_relaxed);

    if (gap > atomic_load_explicit(&s->max_gap_ns, memory_order_relaxed))
        atomic_store_explicit(&s->max_gap_ns, gap, memory_order_relaxed);
}

/* One unit of progress at time now: count it and keep the longest gap. */
static inline void kt__progress(kt__wslot *s, uint64_t now)
{
    kt__note_gap(s, now);
    atomic_store_explicit(&s->last_ns, now, memory_order_relaxed);
    atomic_store_explicit(&s->iterations,
                          atomic_load_explicit(&s->iterations, memory_order_relaxed) + 1,
                          memory_order_relaxed);
    if (s->stall_ns) {
        kt__sleep_ns(s->stall_ns);
        s->stall_ns = 0;
    }
}

static inline bool kt__stopped(const kt__wrun *r)
{
    return atomic_load_explicit(r->stop, memory_order_relaxed) != 0;
}

#endif
