/*
 * lib/runner/vm.h - VM mode's two sides (private): the host's kind of
 * point (point_vm_host.c: boot, relay, watch the vCPUs) and the guest's
 * PID 1 (point_vm_guest.c: run the one point and power off).
 */
#ifndef KTSTR_LIB_RUNNER_VM_H
#define KTSTR_LIB_RUNNER_VM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

/* The cfg of kt__point_vm (point.h): the run's VM settings. */
typedef struct kt__vm_cfg {
    bool all;                  /* --vm: every scenario, not only those with .vm */
    const char *kernel, *qemu, *accel;   /* NULL: the defaults */
    kt_topology topology;      /* the run's default (resolved), or all 0 */
    const char *cache_dir;     /* guest images */
    const char *scheduler;     /* --scheduler / KTSTR_SCHEDULER, or NULL */
    unsigned sched_attach_s;   /* KTSTR_SCHED_ATTACH_S, else KT__SCHED_ATTACH_S */
    const char *sched_fault;   /* KTSTR_SCHED_FAULT (checked), or NULL */
    unsigned boot_s;           /* KTSTR_VM_BOOT_S, else KT__VM_BOOT_S */
} kt__vm_cfg;

/* True when s runs in a guest under cfg. */
bool kt__vm_wanted(const kt_scenario *s, const kt__vm_cfg *cfg);

/* True in the guest's PID 1 (KTSTR_GUEST in the environment). */
bool kt__vm_is_guest(void);
/* The guest's PID 1: runs KTSTR_GUEST's scenario and powers off. */
__attribute__((noreturn)) void kt__vm_guest_main(const kt_scenario *list, size_t n);

#endif
