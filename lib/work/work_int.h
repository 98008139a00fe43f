/* Private to lib/work: the shared worker state and the helpers the kind
 * loops, the knob code and the set lifecycle share. */
#ifndef KTSTR_WORK_INT_H
#define KTSTR_WORK_INT_H

#include "ktstr/work.h"

#include "base/clock.h"   /* kt__sleep_ns, kt__thread_cpu_ns for every worker file */

#include <sched.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <sys/types.h>

#define KT__SCHED_EXT 7          /* not in glibc 2.36's headers */
#define KT__WAIT_SLICE_MS 100    /* every blocking wait rechecks stop this often */

enum { SLOT_STARTING, SLOT_READY, SLOT_FAILED, SLOT_DONE };
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
    uint64_t stall_ns;
    uint64_t cpu_ns, run_ns;
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
    _Atomic uint32_t *stop;
    unsigned role;
    size_t i, leader_i;
    int (*pipes)[2];            /* inbound pipe per worker, or NULL */
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
                              .fanout must then be 1..MAX_WORKERS */
    unsigned last_role;    /* PINGPONG: roles 0, 1; FANOUT: 0 the waker, 1 wakees */
    int waker_role;        /* the role that only wakes others, so records no
                              latency; -1 when none */
    bool has_lat;          /* records wake latency or timer lateness */
    bool uses_pipes;       /* .wake = KT_WAKE_PIPE gives each worker a pipe */
} kt__kind_info;
const kt__kind_info *kt__kind(kt_work_kind k);

/* Workers in one group of spec s of kind k, and in all of its groups. */
static inline unsigned kt__kind_group(const kt__kind_info *k, const kt_work_spec *s)
{
    return k->group + (k->plus_fanout ? s->fanout : 0);
}
static inline unsigned kt__kind_workers(const kt__kind_info *k, const kt_work_spec *s)
{
    return s->count * kt__kind_group(k, s);
}

/* cpulist.c: parses "0-3,6"; fills mask and order; -1 with err. */
int kt__cpulist_parse(const char *s, cpu_set_t *mask, int *order, int *n,
                      kt_err *err);

/* policy.c */
int kt__policy_check(const kt_work_spec *s, kt_err *err);
int kt__apply_knobs(const kt__wspec *ws, const kt__wcfg *c, unsigned index,
                    int tid, kt_err *err);

/* sync.c */
void kt__futex_wait(_Atomic uint32_t *word, uint32_t val, int timeout_ms);
void kt__futex_wake(_Atomic uint32_t *word, int n);

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
