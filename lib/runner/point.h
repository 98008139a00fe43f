/*
 * lib/runner/point.h - what every kind of point shares (private): the
 * context its body runs with, the table of point kinds, and the
 * supervisor that runs a point in a forked child and records what it
 * reports. Each kind includes this file; none calls back up into the
 * runner that chose it.
 *
 * The runner's files, each using only those above it in this list:
 *
 *   wire.c            the line protocol, child to parent (wire.h)
 *   run_ctx.c         the context of the body this process runs
 *   series_wire.c     kt_ctx_series over the wire, both ends
 *   record.c          the parent's side: wire lines into a kt__result
 *   supervise.c       fork, watch, deadline, kill and reap: any kind
 *   point_plain.c     kind "plain": the body here, its verdict streamed up
 *   sched.c           the scheduler under test: start, watch, stop, report
 *   point_sched.c     kind "scheduler": a point below the scheduler's owner
 *   vm_boot.c         a guest's boot deadline in the CPU time QEMU got
 *   vm_plan.c         what a VM point boots: kernel, QEMU, image, command line
 *   point_vm_host.c   kind "vm": a point run in the guest, relayed and watched
 *   vm_guests.c       the run's guest: booted once, kept for the next points
 *   point_vm_guest.c  the guest's PID 1: the points the host asks for
 *   inconclusive.c    the rule that lets host starvation excuse timing claims
 *   reqs.c, registry.c, cli.c, runner.c   kt_main: choose, run, report
 *
 * A point's life: runner.c picks its kind once (vm, scheduler or plain)
 * and calls kt__child_supervise with it (a VM point through
 * kt__vm_point_run, which boots or reuses the guest first); the child
 * calls kind->run; a scheduler point supervises a plain point one level
 * down, and a VM point's guest runs a scheduler point in its PID 1.
 */
#ifndef KTSTR_LIB_RUNNER_POINT_H
#define KTSTR_LIB_RUNNER_POINT_H

#include <signal.h>
#include <sys/types.h>

#include "evidence/result.h"
#include "ktstr/scenario.h"

/* What a scenario body runs with: the public context it is handed (pub)
 * and the wire its events travel on, which the body never sees. */
typedef struct kt__run_ctx {
    kt_ctx pub;
    int wire_fd;               /* the pipe to the parent */
    unsigned evidence;         /* KT__EVIDENCE_* (evidence/evidence.h): passes, series */
} kt__run_ctx;

/* ---- run_ctx.c -------------------------------------------------------- */

/* Makes rc the context of the body this process runs (the point's child
 * calls it once, before its kind runs). */
void kt__run_ctx_enter(kt__run_ctx *rc);

/* The runner's context around ctx, or NULL when ctx is not the one this
 * process's body was handed (a kt_ctx made by its caller has no wire). */
kt__run_ctx *kt__run_ctx_of(kt_ctx *ctx);

/* ---- the kinds of point ----------------------------------------------- */

/* One kind of point, chosen once per point by the runner. cfg is the
 * kind's own configuration, handed through unchanged: NULL for plain, a
 * kt__sched_cfg (sched.h) for scheduler, a kt__vm_cfg (vm.h) for vm. */
typedef struct kt__point_kind {
    const char *name;          /* "plain", "scheduler", "vm" */
    /* Seconds the point may take beyond its body's timeout (a scheduler's
     * attach and stop, a guest's boots and power-off). */
    unsigned (*extra_s)(const void *cfg);
    /* Runs in the point's forked child, set up by the supervisor (own
     * process group, stdout on stderr, rc entered): does the point and
     * sends every line on rc->wire_fd; the child _exits when it returns. */
    void (*run)(const kt_scenario *s, kt__run_ctx *rc, const void *cfg);
} kt__point_kind;

extern const kt__point_kind kt__point_plain;   /* point_plain.c */
extern const kt__point_kind kt__point_sched;   /* point_sched.c */
extern const kt__point_kind kt__point_vm;      /* point_vm_host.c */

/* ---- record.c: the parent's side -------------------------------------- */

/* Applies one wire line (as kt__wire_read hands it) to the kt__result
 * arg; bad lines are counted in bad_lines, never fatal. A line is first
 * copied, unsplit, to r->forward_fd when that is >= 0 (but RMDIR: a path
 * of this machine means nothing to the one the lines go to). */
void kt__record_line(void *arg, char *line);

/* ---- supervise.c ------------------------------------------------------ */

/* Fills set with the signals a supervisor takes through its signalfd
 * instead of dying (kt__child_supervise's sigfd): SIGCHLD, SIGINT,
 * SIGTERM and SIGHUP. */
void kt__child_signals(sigset_t *set);

/* Runs s as a point of the given kind in a forked child in its own
 * process group and fills r; the child's events arrive as they happen.
 * sigfd is a signalfd for kt__child_signals (blocked); child_mask is the
 * mask the child restores. The deadline is ctx->timeout_s (30 s when 0)
 * plus kind->extra_s(cfg). forward_fd: -1, or where each wire line but
 * RMDIR is copied as it arrives (the guest's PID 1 relays to the host
 * this way). evidence: KT__EVIDENCE_* bits, what the body sends besides
 * failures. Kills and reaps every descendant and removes the RMDIR
 * paths before returning, but keep (> 0: a VM guest's QEMU, a child of
 * this process the runner keeps for the next point), whose CPU time
 * counts as the point's. */
void kt__child_supervise(const kt_scenario *s, kt_ctx *ctx, int sigfd,
                         const sigset_t *child_mask, const kt__point_kind *kind,
                         const void *cfg, int forward_fd, unsigned evidence, pid_t keep,
                         kt__result *r);

#endif
