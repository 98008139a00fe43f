/*
 * ktstr/cgroup.h - scratch cgroups for a scenario, on cgroup v1 or v2.
 *
 *   kt_cg_hooks h = { kt_ctx_rmdir_hook, ctx, kt_verdict_note_hook, v };
 *   kt_cgroup *g = kt_cgroup_create(&h, "heavy", &err);   // NULL: skip with err.msg
 *   kt_cgroup_set_weight(g, 200, &err);                     // v2 units, 1..10000
 *   kt_cgroup_set_cpus(g, "0", &err);
 *   kt_cgroup_add(g, tid, &err);
 *   ...
 *   kt_cgroup_destroy(g, &err);    // moves tasks back to the root, rmdir
 *
 *   kt_cgroup *a = kt_cgroup_create(&h, "a", &err);
 *   kt_cgroup *a1 = kt_cgroup_create_in(a, &h, "a1", &err);   // a/a1
 *   kt_cgroup_set_max(a, 50000, 100000, &err);              // half a CPU
 *   ...
 *   kt_cgroup_destroy(a, &err);    // a1 first, then a (a1's handle is gone)
 *
 * The version is detected at run time: /sys/fs/cgroup on a cgroup2 file
 * system (statfs magic) is v2; otherwise the v1 "cpu" and "cpuset"
 * hierarchies are looked up in /proc/self/mountinfo (a hybrid host with
 * both v1 controllers mounted uses v1, where the controllers are).
 *
 * A group is created directly under the hierarchy root with the unique
 * name ktstr-<pid>-<start>-<n>-<name> (pid and start: the creating
 * process and its start time, /proc/<pid>/stat field 22, clock ticks
 * since boot; n: the first number not taken), one directory per v1
 * hierarchy (cpu and cpuset) or one v2 directory with +cpu +cpuset
 * enabled in the root's cgroup.subtree_control. The root is
 * used because v2 forbids processes in inner groups that distribute
 * controllers, and the root is exempt.
 *
 * Nested groups: kt_cgroup_create_in() makes a child directory named
 * exactly name inside a group (one per v1 hierarchy, or one v2
 * directory), no unique number: the parent's name is unique already, and
 * a name taken in the parent is an error (EEXIST). On v1 a cpuset child
 * starts with the parent's cpuset.cpus and cpuset.mems (an empty one
 * refuses tasks). On v2 the parent's cgroup.subtree_control gets +cpu
 * +cpuset, and v2 then forbids tasks in the parent (the no-internal-
 * process rule): from its first child on, kt_cgroup_add() on the parent
 * fails with EBUSY saying so, and a parent that already holds tasks
 * cannot have children (EBUSY, said so too). On v1 a parent may hold
 * tasks beside its children. Destroying a group destroys its children
 * first, deepest first, and frees their handles with it.
 *
 * Bandwidth: kt_cgroup_set_max() caps a group at quota_us of CPU time
 * per period_us (v2 cpu.max "quota period", v1 cpu.cfs_quota_us and
 * cpu.cfs_period_us); quota 0 lifts the cap ("max", -1 on v1).
 *
 * Thread granularity: v1 moves single threads through "tasks"; v2 moves
 * whole processes through "cgroup.procs" (threaded mode is not used: it
 * would demand the whole subtree be threaded). kt_cgroup_add() therefore
 * takes a tid on v1 and moves the whole thread group on v2; the workload
 * library refuses thread workers in a cgroup on v2 and asks for process
 * workers instead.
 *
 * Weights: the API speaks v2 cpu.weight (1..10000, default 100). On v1 it
 * is written as cpu.shares with the inverse of the kernel's conversion
 * (weight = 1 + ((shares - 2) * 9999) / 262142), rounded so that the
 * kernel's formula gives back the same weight.
 *
 * Cleanup: this module never calls the runner above it. Whoever creates
 * groups for a scenario lends it hooks (kt_cg_hooks): rmdir_at_exit gets
 * every new directory, a child's too, so that a scenario's runner
 * (kt_ctx_rmdir_hook, in ktstr/scenario.h; it removes the deepest
 * first) removes it even after a crash or a timeout; kt_cgroup_destroy()
 * removes it in the normal teardown anyway.
 *
 * Leftovers: a runner killed outright (kill -9) removes nothing. So the
 * first kt_cgroup_create of each process sweeps the hierarchy roots
 * (kt_cg_sweep): a ktstr-<pid>-<start>-* group whose creator is gone (no
 * process pid, or one that started at another time: the pid was reused)
 * is removed, and the note hook hears of it. A live creator's groups are
 * never touched, nor is a stale group that still has tasks (they are not
 * ours to move or kill): it is left, with a note saying so. Names without
 * a start time (older ktstr) are not swept. A stale group's children
 * (whatever their names) go first, deepest first, each removed or left
 * by the same rule; a group whose child was left stays too.
 */
#ifndef KTSTR_CGROUP_H
#define KTSTR_CGROUP_H

#include <stddef.h>
#include <stdint.h>

#include "ktstr/api.h"
#include "ktstr/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum kt_cg_version { KT_CG_NONE = 0, KT_CG_V1 = 1, KT_CG_V2 = 2 } kt_cg_version;

/* The knobs this module writes, named per version by kt_cg_file(). */
typedef enum kt_cg_knob {
    KT_CG_WEIGHT,      /* v1 cpu.shares, v2 cpu.weight */
    KT_CG_CPUS,        /* cpuset.cpus */
    KT_CG_MEMS,        /* cpuset.mems */
    KT_CG_PROCS,       /* v1 tasks (per thread), v2 cgroup.procs (per process) */
    KT_CG_QUOTA,       /* v1 cpu.cfs_quota_us, v2 cpu.max ("quota period") */
    KT_CG_PERIOD,      /* v1 cpu.cfs_period_us, v2 cpu.max (the same file) */
    KT_CG_NKNOBS
} kt_cg_knob;

/* Where the hierarchies are. v1: cpu_root and cpuset_root are the mount
 * points of the "cpu" and "cpuset" hierarchies; v2: both are the unified
 * mount point. */
typedef struct kt_cg_layout {
    kt_cg_version version;
    char cpu_root[256];
    char cpuset_root[256];
} kt_cg_layout;

typedef struct kt_cgroup kt_cgroup;

/* What the layer creating groups lends this one; every field may be 0. */
typedef struct kt_cg_hooks {
    /* Called with each new directory (an absolute path) right after it is
     * made; 0, or -1 with errno set, and kt_cgroup_create then fails with
     * an error naming the path. A scenario passes kt_ctx_rmdir_hook with
     * its kt_ctx. */
    int (*rmdir_at_exit)(void *arg, const char *path);
    void *rmdir_arg;
    /* Called with one line for each stale group the sweep removed or had
     * to leave. A scenario passes kt_verdict_note_hook with its verdict. */
    void (*note)(void *arg, const char *msg);
    void *note_arg;
} kt_cg_hooks;

/* ---- pure functions (no file system) ---------------------------------- */

/* The file name of knob on version v ("cpu.shares"), or NULL if unknown. */
KT_API const char *kt_cg_file(kt_cg_version v, kt_cg_knob knob);

/* The kernel's v1 -> v2 conversion: 1 + ((shares - 2) * 9999) / 262142,
 * shares clamped to [2, 262144]. */
KT_API uint64_t kt_cg_shares_to_weight(uint64_t shares);

/* The smallest shares value that kt_cg_shares_to_weight() maps to weight
 * (weight clamped to [1, 10000]): weight 100 -> shares 2598. */
KT_API uint64_t kt_cg_weight_to_shares(uint64_t weight);

/* Reads a /proc/self/mountinfo text into out. Returns 0, or -1 with err
 * when it names neither a cgroup2 mount nor both v1 cpu and cpuset. */
KT_API int kt_cg_parse_mountinfo(const char *text, kt_cg_layout *out, kt_err *err);

/* Writes "ktstr-<pid>-<start>-<n>-<name>" into buf. -1 with err when name
 * is empty, has a '/' or the result does not fit. */
KT_API int kt_cg_name(char *buf, size_t len, long pid, unsigned long long start, unsigned n,
                      const char *name, kt_err *err);

/* Reads the creator's pid and start time back from a group's name: 0, or
 * -1 when leaf is not "ktstr-<pid>-<start>-<n>-<name>" (pid > 0, name not
 * empty). */
KT_API int kt_cg_parse_name(const char *leaf, long *pid, unsigned long long *start);

/* Reads the start time (field 22, after the parenthesised comm, which may
 * hold spaces and parentheses) from a /proc/<pid>/stat text: 0, or -1. */
KT_API int kt_cg_parse_stat_start(const char *text, unsigned long long *start);

/* ---- on this machine --------------------------------------------------- */

/* Detects the version and the hierarchy roots. -1 with err when there is
 * no usable cgroup file system. */
KT_API int kt_cg_detect(kt_cg_layout *out, kt_err *err);

/* The start time of process pid (see kt_cg_parse_stat_start): 0, or -1
 * with err (code ENOENT or ESRCH when there is no such process). */
KT_API int kt_cg_proc_start(long pid, unsigned long long *start, kt_err *err);

/* Removes the stale groups (see Leftovers above) directly under lay's
 * roots and their children, telling hooks->note (hooks may be NULL) of
 * each directory removed or left. Returns how many directories it
 * removed, children included, or -1 with err when a root cannot be read. */
KT_API int kt_cg_sweep(const kt_cg_layout *lay, const kt_cg_hooks *hooks, kt_err *err);

/* Creates a group (see above); the process's first one sweeps first.
 * hooks may be NULL (no crash-proof cleanup, sweep notes dropped). NULL
 * with err when not root, a controller is missing, name is bad, or the
 * rmdir_at_exit hook fails. */
KT_API kt_cgroup *kt_cgroup_create(const kt_cg_hooks *hooks, const char *name, kt_err *err);

/* Creates a child group named name (a plain name: no '/', not "." or
 * "..") inside parent; see Nested groups above. hooks as for
 * kt_cgroup_create (rmdir_at_exit hears each new directory; no sweep).
 * NULL with err when parent is NULL, name is bad or taken (EEXIST), on
 * v2 the parent holds tasks (EBUSY), or a write, mkdir or the hook fails. */
KT_API kt_cgroup *kt_cgroup_create_in(kt_cgroup *parent, const kt_cg_hooks *hooks,
                                      const char *name, kt_err *err);

/* The version of the group and its directory for a knob's controller
 * (v1: the cpu or the cpuset directory; v2: the one directory). */
KT_API kt_cg_version kt_cgroup_version(const kt_cgroup *g);
KT_API const char *kt_cgroup_path(const kt_cgroup *g, kt_cg_knob knob);

/* Sets the CPU weight (v2 units, 1..10000; converted on v1). */
KT_API int kt_cgroup_set_weight(kt_cgroup *g, uint64_t weight, kt_err *err);

/* Sets cpuset.cpus to a cpu list ("0-1,3"). */
KT_API int kt_cgroup_set_cpus(kt_cgroup *g, const char *cpus, kt_err *err);

/* Caps the group's CPU time at quota_us per period_us (both in us): the
 * period 1000..1000000 (the kernel's 1 ms .. 1 s), the quota 0 (no cap:
 * "max" on v2, -1 on v1) or at least 1000. v1 writes the quota -1, the
 * period, then the quota, so that no step is refused against the old
 * pair. -1 with err (EINVAL for the ranges; ENOENT naming the file on a
 * kernel without CFS bandwidth control). */
KT_API int kt_cgroup_set_max(kt_cgroup *g, uint64_t quota_us, uint64_t period_us, kt_err *err);

/* Moves a thread (v1) or its whole process (v2) into the group; on v2
 * EBUSY for a group with children (see Nested groups). */
KT_API int kt_cgroup_add(kt_cgroup *g, long tid, kt_err *err);

/* Reads a knob's file of the group into buf (trailing newline dropped). */
KT_API int kt_cgroup_read(const kt_cgroup *g, kt_cg_knob knob, char *buf, size_t len,
                          kt_err *err);

/* Destroys g's children first (deepest first, their handles freed too),
 * then moves every task of g back to the hierarchy root, removes its
 * directories and frees g (NULL is fine). -1 with err if a directory
 * stayed (the first one that did); g and its children are freed either
 * way. */
KT_API int kt_cgroup_destroy(kt_cgroup *g, kt_err *err);

#ifdef __cplusplus
}
#endif
#endif
