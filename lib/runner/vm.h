/*
 * lib/runner/vm.h - VM mode's two sides (private): on the host, the plan
 * of a point (vm_plan.c), the run's guest (vm_guests.c) and the point's
 * child (point_vm_host.c: relay, watch the vCPUs); in the guest, its PID 1
 * (point_vm_guest.c: run the points the host asks for).
 */
#ifndef KTSTR_LIB_RUNNER_VM_H
#define KTSTR_LIB_RUNNER_VM_H

#include <stdbool.h>
#include <stddef.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>

#include "evidence/result.h"
#include "guest/qemu.h"
#include "ktstr/scenario.h"
#include "ktstr/topology.h"

/* A guest that has not reached /init (no BOOT line) within this many
 * seconds (KTSTR_VM_BOOT_S) is stuck: the slowest boot seen here, 4 vCPUs
 * on this 2-CPU host beside a spinner, is far below it. Under TCG a
 * loaded host was seen to leave a guest silent (an empty console) for
 * good: such a guest is booted again (point_vm_host.c). */
#define KT__VM_BOOT_S 30
/* How long beyond the body's timeout a VM point may take: boot and
 * power-off, and up to two boots again after a guest stuck before /init
 * (KT__VM_BOOT_S each). */
#define KT__VM_EXTRA_S 100

/* A guest's boot deadline counts the time its QEMU got a CPU (vm_boot.c):
 * KTSTR_VM_BOOT_S of wall time plus what the host denied the most starved
 * of its threads, up to this many times KTSTR_VM_BOOT_S of wall time. A
 * guest stopped at that ceiling while starved is inconclusive
 * (inconclusive.h); one that used its whole budget is not ok. */
#define KT__VM_BOOT_CEILING 2

typedef struct kt__boot_clock {
    int pid;                   /* QEMU */
    int64_t spawn_ms, budget_ms, ceiling_ms;
    int64_t denied_ms;         /* the most any of its threads waited for a CPU */
} kt__boot_clock;

/* Starts b for QEMU's pid, spawned at now_ms, with boot_s of budget. */
void kt__boot_clock_start(kt__boot_clock *b, int pid, int64_t now_ms, unsigned boot_s);
/* True when the boot has had its budget of CPU time or hit the ceiling
 * (reads QEMU's threads' schedstat only once past the budget). */
bool kt__boot_clock_over(kt__boot_clock *b, int64_t now_ms);
/* True once the boot has run to its wall-clock ceiling. */
bool kt__boot_clock_at_ceiling(const kt__boot_clock *b, int64_t now_ms);
/* The share of the boot so far that the host denied QEMU. */
double kt__boot_clock_steal(const kt__boot_clock *b, int64_t now_ms);

/* The run's VM settings. */
typedef struct kt__vm_cfg {
    bool all;                  /* --vm: every scenario, not only those with .vm */
    bool reuse;                /* KTSTR_VM_REUSE / --vm-reuse: a guest runs many points */
    const char *kernel, *qemu, *accel;   /* NULL: the defaults */
    kt_topology topology;      /* the run's default (resolved), or all 0 */
    const char *cache_dir;     /* guest images */
    const char *scheduler;     /* --scheduler / KTSTR_SCHEDULER, or NULL */
    unsigned sched_attach_s;   /* KTSTR_SCHED_ATTACH_S, else KT__SCHED_ATTACH_S */
    const char *sched_fault;   /* KTSTR_SCHED_FAULT (checked), or NULL */
    const char *guest_fault;   /* KTSTR_GUEST_FAULT, or NULL */
    unsigned boot_s;           /* KTSTR_VM_BOOT_S, else KT__VM_BOOT_S */
} kt__vm_cfg;

/* ---- vm_plan.c: what a VM point boots --------------------------------- */

/* The kernel, QEMU, image, topology and command line of one VM point,
 * found in the runner before the point's child starts. A point that
 * cannot boot carries why: skip (no kernel, no QEMU) or error. */
typedef struct kt__vm_plan {
    char skip[KT_ERR_MSG_MAX], error[KT_ERR_MSG_MAX];
    char note[256];            /* why TCG, for the point's notes; or "" */
    kt_topology t;
    const char *accel;
    char kbuf[PATH_MAX], qbuf[PATH_MAX], image[PATH_MAX];
    char sprog[PATH_MAX], sguest[PATH_MAX];
    char gspec[1500];          /* the scheduler as the guest names it, or "" */
    char fprog[PATH_MAX], fguest[PATH_MAX];
    char gfault[1500];         /* KTSTR_GUEST_FAULT as the guest names it, or "" */
    char append[1024];
    kt__qemu_cfg qc;           /* but the console's path and the wire */
    /* What the guest is: a guest booted with the same key runs this point. */
    char key[3 * PATH_MAX + 1200];
} kt__vm_plan;

/* Fills p for s under cfg; ctx->topology becomes the guest's. */
void kt__vm_plan_make(kt__vm_plan *p, const kt_scenario *s, kt_ctx *ctx, const kt__vm_cfg *cfg);

/* ---- vm_guests.c: the run's guest, booted once for many points -------- */

/* The guest the runner keeps between points (one at a time): QEMU is the
 * runner's child, so that a point's end does not take it along. */
typedef struct kt__vm_guest {
    pid_t qemu;                /* 0: none */
    int wire;                  /* the host's end of the guest's ttyS1 (a socket) */
    unsigned boot;             /* which boot of this run it is: 1, 2, ... */
    bool booted;               /* its /init said BOOT (an earlier point saw it) */
    int64_t spawn_ms;          /* QEMU started (kt__mono_ns ms) */
    int64_t boot_ms;           /* spawn to BOOT, once booted */
    char release[128];         /* its uname -r, once booted */
    char dir[32], console[PATH_MAX + 16], qlog[PATH_MAX + 16];
    int logfd;                 /* QEMU's stdout and stderr */
    char key[sizeof(((kt__vm_plan *)0)->key)];
} kt__vm_guest;

/* A run with no guest yet. */
void kt__vm_guest_init(kt__vm_guest *g);
/* Kills and reaps the guest's QEMU and removes its files (none: nothing). */
void kt__vm_guest_end(kt__vm_guest *g);

/* Runs s as a VM point, as kt__child_supervise does for the other kinds:
 * in the runner's guest when it was booted with the same plan and left
 * ready by its last point (cfg->reuse), else in a guest booted now; a
 * guest stuck before /init, or hit by TCG's stale int3, is booted again
 * (up to 3 boots). r->vm_boot says which boot of the run it ran in. */
void kt__vm_point_run(kt__vm_guest *g, const kt_scenario *s, kt_ctx *ctx, int sigfd,
                      const sigset_t *child_mask, const kt__vm_cfg *cfg, unsigned evidence,
                      kt__result *r);

/* ---- point_vm_host.c: the point's child ------------------------------- */

/* The cfg of kt__point_vm (point.h). */
typedef struct kt__vm_point_cfg {
    const kt__vm_cfg *cfg;
    const kt__vm_plan *plan;
    const kt__vm_guest *guest; /* booted (qemu > 0) unless the plan says why not */
    const char *again;         /* why this is a second boot, for the notes; or NULL */
    bool last;                 /* no boot after this one: report, never ask again */
} kt__vm_point_cfg;

/* True when s runs in a guest under cfg. */
bool kt__vm_wanted(const kt_scenario *s, const kt__vm_cfg *cfg);

/* True in the guest's PID 1 (KTSTR_GUEST in the environment). */
bool kt__vm_is_guest(void);
/* The guest's PID 1: runs the points the host asks for on ttyS1, one at
 * a time, until it says QUIT or leaves; then powers off. */
__attribute__((noreturn)) void kt__vm_guest_main(const kt_scenario *list, size_t n);

#endif
