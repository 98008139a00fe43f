/*
 * ktstr/cgroup.h - scratch cgroups for a scenario, on cgroup v1 or v2.
 *
 *   kt_cgroup *g = kt_cgroup_create(ctx, "heavy", &err);  // NULL: skip with err.msg
 *   kt_cgroup_set_weight(g, 200, &err);                     // v2 units, 1..10000
 *   kt_cgroup_set_cpus(g, "0", &err);
 *   kt_cgroup_add(g, tid, &err);
 *   ...
 *   kt_cgroup_destroy(g, &err);    // moves tasks back to the root, rmdir
 *
 * The version is detected at run time: /sys/fs/cgroup on a cgroup2 file
 * system (statfs magic) is v2; otherwise the v1 "cpu" and "cpuset"
 * hierarchies are looked up in /proc/self/mountinfo (a hybrid host with
 * both v1 controllers mounted uses v1, where the controllers are).
 *
 * A group is created directly under the hierarchy root with the unique
 * name ktstr-<pid>-<n>-<name> (n: the first number not taken), one
 * directory per v1 hierarchy (cpu and cpuset) or one v2 directory with
 * +cpu +cpuset enabled in the root's cgroup.subtree_control. The root is
 * used because v2 forbids processes in inner groups that distribute
 * controllers, and the root is exempt.
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
 * Cleanup: with a ctx, every directory is registered with
 * kt_ctx_rmdir_at_exit() so the runner removes it even after a crash or a
 * timeout; kt_cgroup_destroy() removes it in the normal teardown anyway.
 */
#ifndef KTSTR_CGROUP_H
#define KTSTR_CGROUP_H

#include <stddef.h>
#include <stdint.h>

#include "ktstr/error.h"
#include "ktstr/scenario.h"

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

/* ---- pure functions (no file system) ---------------------------------- */

/* The file name of knob on version v ("cpu.shares"), or NULL if unknown. */
const char *kt_cg_file(kt_cg_version v, kt_cg_knob knob);

/* The kernel's v1 -> v2 conversion: 1 + ((shares - 2) * 9999) / 262142,
 * shares clamped to [2, 262144]. */
uint64_t kt_cg_shares_to_weight(uint64_t shares);

/* The smallest shares value that kt_cg_shares_to_weight() maps to weight
 * (weight clamped to [1, 10000]): weight 100 -> shares 2598. */
uint64_t kt_cg_weight_to_shares(uint64_t weight);

/* Reads a /proc/self/mountinfo text into out. Returns 0, or -1 with err
 * when it names neither a cgroup2 mount nor both v1 cpu and cpuset. */
int kt_cg_parse_mountinfo(const char *text, kt_cg_layout *out, kt_err *err);

/* Writes "ktstr-<pid>-<n>-<name>" into buf. -1 with err when name is
 * empty, has a '/' or the result does not fit. */
int kt_cg_name(char *buf, size_t len, long pid, unsigned n, const char *name,
               kt_err *err);

/* ---- on this machine --------------------------------------------------- */

/* Detects the version and the hierarchy roots. -1 with err when there is
 * no usable cgroup file system. */
int kt_cg_detect(kt_cg_layout *out, kt_err *err);

/* Creates a group (see above). ctx may be NULL (no crash-proof cleanup).
 * NULL with err when not root, a controller is missing, or name is bad. */
kt_cgroup *kt_cgroup_create(kt_ctx *ctx, const char *name, kt_err *err);

/* The version of the group and its directory for a knob's controller
 * (v1: the cpu or the cpuset directory; v2: the one directory). */
kt_cg_version kt_cgroup_version(const kt_cgroup *g);
const char *kt_cgroup_path(const kt_cgroup *g, kt_cg_knob knob);

/* Sets the CPU weight (v2 units, 1..10000; converted on v1). */
int kt_cgroup_set_weight(kt_cgroup *g, uint64_t weight, kt_err *err);

/* Sets cpuset.cpus to a cpu list ("0-1,3"). */
int kt_cgroup_set_cpus(kt_cgroup *g, const char *cpus, kt_err *err);

/* Moves a thread (v1) or its whole process (v2) into the group. */
int kt_cgroup_add(kt_cgroup *g, long tid, kt_err *err);

/* Reads a knob's file of the group into buf (trailing newline dropped). */
int kt_cgroup_read(const kt_cgroup *g, kt_cg_knob knob, char *buf, size_t len,
                   kt_err *err);

/* Moves every task back to the hierarchy root, removes the directories
 * and frees g (NULL is fine). -1 with err if a directory stayed; g is
 * freed either way. */
int kt_cgroup_destroy(kt_cgroup *g, kt_err *err);

#ifdef __cplusplus
}
#endif
#endif
