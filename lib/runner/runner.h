/*
 * lib/runner/runner.h - the top of the library (private): kt_main and
 * what it alone uses. The folder's one job is to run scenarios as TAP
 * test points; it may include every folder below it (base, verdict, the
 * sources and actors, evidence). The kinds of point and their supervisor
 * are in point.h, which lists the folder's files in their order; the
 * scenario requirements in reqs.h.
 *
 *   registry.c  KT_SCENARIO's registry, sorted into source order
 *   cli.c       the command line and the KTSTR_* environment
 *   runner.c    kt_main: selection, the kind of each point, the TAP report
 */
#ifndef KTSTR_LIB_RUNNER_RUNNER_H
#define KTSTR_LIB_RUNNER_RUNNER_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/vec.h"
#include "ktstr/error.h"
#include "ktstr/scenario.h"
#include "ktstr/topology.h"
#include "runner/inconclusive.h"

/* ---- registry.c ------------------------------------------------------- */

/* Scenarios one program may register. */
#define KT__MAX_SCENARIOS 4096

/* Sorts the registry by file then line and checks it (no overflow, no
 * duplicate or empty names); on success *list and *n hold the scenarios. */
int kt__registry_get(const kt_scenario **list, size_t *n, kt_err *err);

/* ---- cli.c ------------------------------------------------------------ */

typedef struct kt__cli {
    bool list, describe, verbose, help;   /* describe: --list with each purpose */
    unsigned timeout_s;        /* 0: not given */
    const char **filters;      /* point into argv or env_filters */
    size_t nfilters;
    char *env_filters;         /* a split copy of KTSTR_FILTER */
    bool vm;                   /* --vm / KTSTR_VM=1: every scenario in a guest */
    bool vm_reuse;             /* --vm-reuse / KTSTR_VM_REUSE (default 1): one guest, many points */
    unsigned shard_i, shard_n; /* --shard I/N; 0/0: no sharding */
    const char *kernel;        /* --kernel / KTSTR_KERNEL (a checked bzImage), or NULL */
    const char *qemu;          /* --qemu / KTSTR_QEMU, or NULL */
    const char *accel;         /* --accel / KTSTR_ACCEL: "kvm", "tcg" or NULL */
    kt_topology topology;      /* --topology / KTSTR_TOPOLOGY (resolved), or all 0 */
    const char *scheduler;     /* --scheduler / KTSTR_SCHEDULER (checked), or NULL */
    unsigned sched_attach_s;   /* KTSTR_SCHED_ATTACH_S, or 0 */
    const char *sched_fault;   /* KTSTR_SCHED_FAULT (checked), or NULL */
    const char *guest_fault;   /* KTSTR_GUEST_FAULT (its program found), or NULL */
    char gfault_prog[PATH_MAX];/* that program's path */
    unsigned vm_boot_s;        /* KTSTR_VM_BOOT_S, or 0 */
    /* evidence (evidence/evidence.h) */
    const char *artifacts;     /* --artifacts / KTSTR_ARTIFACTS: a directory, or NULL */
    const char *baseline;      /* --baseline / KTSTR_BASELINE: a directory, or NULL */
    double baseline_rel;       /* KTSTR_BASELINE_REL, % (default 10) */
    double baseline_abs;       /* KTSTR_BASELINE_ABS (default 0) */
    kt__starve_rule starve;    /* KTSTR_STEAL_MAX, KTSTR_STRICT (inconclusive.h) */
} kt__cli;

/* Parses the KTSTR_FILTER, KTSTR_TIMEOUT and KTSTR_VERBOSE environment
 * variables (defaults, for runs under prove), then argv, which overrides
 * them (any --filter replaces KTSTR_FILTER); -1 with a message naming the
 * bad option or variable on a usage error. */
int kt__cli_parse(kt__cli *c, int argc, char **argv, kt_err *err);
void kt__cli_fini(kt__cli *c);
/* True when the k-th selected scenario (0-based) is in this shard. */
bool kt__cli_in_shard(const kt__cli *c, unsigned k);
/* True when no filter was given or name matches one of them. */
bool kt__cli_selects(const kt__cli *c, const char *name);
/* The usage text. */
void kt__cli_usage(FILE *fp, const char *prog);

#endif
