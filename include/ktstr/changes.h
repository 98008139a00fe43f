/*
 * ktstr/changes.h - changes made while the workload runs: a scenario's
 * timeline, as a table.
 *
 *   kt_cgroup *groups[2] = { box, NULL };          // the groups changes name
 *   static const kt_change plan[] = {
 *       { .at_ms = 300, .op = KT_CHANGE_CPUSET,   .group = 0, .cpus = "0" },
 *       { .at_ms = 600, .op = KT_CHANGE_AFFINITY, .worker = 1, .cpus = "1" },
 *       { .at_ms = 900, .op = KT_CHANGE_CPUSET,   .group = 0, .cpus = "" },  // cleared
 *   };
 *   kt_changes_env env = { .work = w, .groups = groups, .ngroups = 2, .hooks = &hooks };
 *   kt_changes *c = kt_changes_start(&env, plan, 3, &err);  // NULL: skip with err.msg
 *   ... sample the workers ...
 *   kt_changes_wait(c);                  // every change made (or failed)
 *   kt_changes_claim(c, v);              // a failed change is a failed claim
 *   uint64_t t1 = kt_changes_at_ns(c, 0); // when the cpuset really changed
 *   kt_ctx_changes(ctx, c);              // the point's YAML lists them (ops:)
 *   kt_changes_free(c);
 *
 * A thread of the caller's process makes each change at its time
 * (CLOCK_MONOTONIC, at_ms after kt_changes_start; the table must be in
 * time order) and records when it really happened and how long it took.
 * A change that fails is recorded with the call and its errno, e.g.
 * "cgroup_remove g1: rmdir /sys/fs/cgroup/cpu/ktstr-..-churn: No such file
 * or directory (ENOENT)"; the later ones are still made. Nothing is
 * skipped silently: kt_changes_claim turns each failure into a failed
 * claim labelled "ops[<i>]" whose message is that text.
 *
 * Targets are indexes: .worker into the work set (its ktw<N>, numbered
 * within the set), .group into env.groups (a slot; CGROUP_CREATE fills an
 * empty one, CGROUP_REMOVE empties it; the slots are the caller's and
 * hold the groups when it is over, so the caller destroys what is left).
 * On cgroup v2 a worker is moved with its whole process, so MOVE refuses
 * thread workers there (use .process = true workers).
 */
#ifndef KTSTR_CHANGES_H
#define KTSTR_CHANGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ktstr/api.h"
#include "ktstr/cgroup.h"
#include "ktstr/error.h"
#include "ktstr/verdict.h"
#include "ktstr/work.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum kt_change_op {
    KT_CHANGE_MOVE,          /* worker into groups[group]; group -1: the root */
    KT_CHANGE_CPUSET,        /* groups[group]'s cpuset.cpus := cpus; "" or NULL:
                                every CPU of the root (cleared) */
    KT_CHANGE_CPUSET_SWAP,   /* groups[group] and groups[other] trade cpusets */
    KT_CHANGE_AFFINITY,      /* worker's affinity := cpus; "" or NULL: the
                                CPUs the process may use */
    KT_CHANGE_CGROUP_CREATE, /* groups[group] := a new group named name (slot
                                empty); cpus, when set, its cpuset */
    KT_CHANGE_CGROUP_REMOVE, /* groups[group] removed, its tasks to the root */
    KT_CHANGE_WEIGHT,        /* groups[group]'s weight := weight (1..10000) */
    KT_CHANGE_NICE,          /* worker's nice := nice */
    KT_CHANGE_POLICY,        /* worker's policy := policy, rt_prio */
    KT_CHANGE_CPU_OFFLINE,   /* /sys/devices/system/cpu/cpu<cpu>/online := 0 */
    KT_CHANGE_CPU_ONLINE,    /* ... := 1 */
    KT_CHANGE_NOPS
} kt_change_op;

/* One row of the table. Fields an op does not use are ignored. */
typedef struct kt_change {
    uint64_t at_ms;          /* after kt_changes_start; not before the previous row */
    kt_change_op op;
    int worker;              /* index in env.work */
    int group;               /* slot in env.groups (MOVE: -1 for the root) */
    int other;               /* CPUSET_SWAP: the other slot */
    const char *cpus;        /* a cpu list, "0-1,3" */
    const char *name;        /* CGROUP_CREATE: the group's name (ktstr/cgroup.h) */
    int nice;                /* -20..19 */
    kt_policy policy;
    int rt_prio;
    uint64_t weight;
    int cpu;                 /* CPU_OFFLINE, CPU_ONLINE */
} kt_change;

/* What a change needs to find its targets; pointers are borrowed until
 * kt_changes_free. */
typedef struct kt_changes_env {
    kt_work *work;           /* may be NULL when no row names a worker */
    kt_cgroup **groups;      /* slots, may be NULL when no row names a group */
    size_t ngroups;
    const kt_cg_hooks *hooks;/* for CGROUP_CREATE (rmdir at exit, notes) */
} kt_changes_env;

/* How one change went. */
typedef struct kt_change_record {
    char what[160];          /* "cpuset g0 0-1", "affinity ktw1 1" */
    uint64_t planned_ms;     /* its at_ms */
    double actual_ms;        /* when it was made, after the start (-1: not yet) */
    double took_ms;          /* how long the call(s) took */
    int error;               /* 0, or the errno of the failed call */
    char result[KT_ERR_MSG_MAX + 32]; /* "ok", or what failed and why (ENAME) */
} kt_change_record;

typedef struct kt_changes kt_changes;

/* "move", "cpuset", "cpuset_swap", "affinity", "cgroup_create",
 * "cgroup_remove", "weight", "nice", "policy", "cpu_offline",
 * "cpu_online"; "?" when out of range. */
KT_API const char *kt_change_op_name(kt_change_op op);

/* Checks the table (ops known, times in order, indexes within env, cpu
 * lists that parse, names given): -1 with err naming the row and field,
 * else starts the thread that makes the changes (copied: plan may go)
 * and returns the handle. Time 0 is now. */
KT_API kt_changes *kt_changes_start(const kt_changes_env *env, const kt_change *plan, size_t n,
                                    kt_err *err);

/* Waits until every change is made (or failed). Safe to call twice. */
KT_API void kt_changes_wait(kt_changes *c);

/* Stops the thread before the changes not yet due (they are recorded as
 * "not made: stopped"), waits for it and frees c (NULL is fine). */
KT_API void kt_changes_free(kt_changes *c);

/* The rows and their records (after kt_changes_wait; before it, a row not
 * yet made reads actual_ms -1). */
KT_API size_t kt_changes_count(const kt_changes *c);
KT_API const kt_change_record *kt_changes_get(const kt_changes *c, size_t i);

/* When change i was made, on CLOCK_MONOTONIC (ns, as kt_now_ns), or 0
 * when it was not (or i is out of range). */
KT_API uint64_t kt_changes_at_ns(const kt_changes *c, size_t i);
/* kt_now_ns() at kt_changes_start. */
KT_API uint64_t kt_changes_start_ns(const kt_changes *c);

/* One claim per change: "ops[<i>]" holds when it was made; a failed or
 * unmade change fails with its record's result as the message. Returns
 * true when all were made. */
KT_API bool kt_changes_claim_at(const kt_changes *c, kt_verdict *v, const char *file, int line);
/* kt_changes_claim(c, v): kt_changes_claim_at at the caller's line. */
#define kt_changes_claim(c, v) kt_changes_claim_at((c), (v), __FILE__, __LINE__)

#ifdef __cplusplus
}
#endif
#endif
