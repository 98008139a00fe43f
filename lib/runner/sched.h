/*
 * lib/runner/sched.h - the scheduler under test around one point (private).
 *
 *   kt__sched s;
 *   kt__sched_start(&s, "builtin:fifo", 10, NULL, &err);   // or "/scx/scx_simple -v"
 *   while (body runs) kt__sched_poll(&s);             // every <= 10 ms
 *   kt__sched_stop(&s);                               // SIGINT, then SIGKILL
 *   kt__sched_report(&s, wire_fd);                    // SCHED... lines
 *
 * The process that starts it owns it (a program is its child): the
 * guest's PID 1, never the supervisor that kills every child it has.
 * Ejection (the state leaves "enabled") or the program's death at any
 * time until the stop is the point's failure, in the kernel's words.
 */
#ifndef KTSTR_LIB_RUNNER_SCHED_H
#define KTSTR_LIB_RUNNER_SCHED_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/vec.h"
#include "ktstr/error.h"
#include "ktstr/scenario.h"
#include "ktstr/scx.h"
#include "scx/scx.h"

/* Seconds a scheduler has to reach "enabled" (KTSTR_SCHED_ATTACH_S). */
#define KT__SCHED_ATTACH_S 10
/* How long beyond the body's timeout a host point under a scheduler may
 * take, besides the scheduler's attach time (its stop and report). */
#define KT__SCHED_EXTRA_S 10

#define KT__SCHED_LINES 40        /* lines kept of each: output, kernel log, dump */
#define KT__SCHED_LINE_MAX 400

typedef struct kt__sched {
    char spec[1024];
    bool builtin, started;
    kt__scx_handle h;
    pid_t pid;                    /* a program's, or -1 */
    int out_fd;                   /* its stdout and stderr, or -1 */
    int kmsg_fd;                  /* /dev/kmsg from the start, or -1 */
    char partial[KT__SCHED_LINE_MAX];
    size_t partial_len;
    kt__vec out, klog, dump;      /* char *, the last KT__SCHED_LINES of each */
    uint64_t out_dropped;
    char ops[129];
    bool failed;                  /* ejected, died or never attached */
    char why[512];                /* the failure in words */
    char exit[256];               /* the kernel's reason, "" when none */
    kt_scx_events ev0, ev1;
    bool killed;                  /* it ignored SIGINT and got SIGKILL */
    uint64_t t_start_ns, t_enabled_ns;   /* kt__mono_ns(); 0 until then */
    /* The kernel log's clock (/dev/kmsg timestamps, us), so that the
     * delay between the kernel's "disabled" line and this process seeing
     * the ejection is read on one clock: -1 until known. */
    int64_t disabled_us, seen_us;
    bool marked;                  /* the "ejection seen" line was written */
    unsigned fault_stop_ms;       /* KTSTR_SCHED_FAULT stop:MS, or 0 */
    bool fault_done, stopped;     /* the fault was applied; SIGSTOP is in force */
    char fault_note[160];
} kt__sched;

/* The scheduler of a point that runs on this machine (or in this guest). */
typedef struct kt__sched_cfg {
    const char *spec;             /* builtin:NAME or a program and its arguments */
    unsigned attach_s;            /* seconds to reach "enabled" (KT__SCHED_ATTACH_S) */
    const char *fault;            /* KTSTR_SCHED_FAULT, or NULL */
} kt__sched_cfg;

/* KTSTR_SCHED_FAULT: "stop:MS" sends the scheduler program SIGSTOP MS
 * milliseconds after it attached (a test of the harness's own watch: a
 * user-space scheduler that stops dispatching). 0 with *stop_ms, or -1
 * with err naming the value. */
int kt__sched_fault_parse(const char *what, const char *s, unsigned *stop_ms, kt_err *err);

/* Parses spec into argv (words split on blanks; '...' and "..." quote,
 * \ escapes): at most max-1 words into buf. -1 with err on an empty spec,
 * an unclosed quote or too many words. */
int kt__sched_argv(const char *spec, char *buf, size_t n, char **argv, int max, kt_err *err);

/* Starts the scheduler and waits up to attach_s for "enabled". fault:
 * KTSTR_SCHED_FAULT's value or NULL. -1 with err when it cannot start; a
 * scheduler that starts but never attaches is s->failed (with its
 * output), not -1. */
int kt__sched_start(kt__sched *s, const char *spec, unsigned attach_s, const char *fault,
                    kt_err *err);

/* Reads its output and the kernel log, and checks it is still attached
 * and alive; true once it has failed. */
bool kt__sched_poll(kt__sched *s);

/* Stops it (a program: SIGINT, 2 s, SIGKILL; a built-in: closes its
 * link), after a last poll. Safe twice. */
void kt__sched_stop(kt__sched *s);

/* Sends what the point's report needs: SCHED <name> <attach_ms>,
 * SCHEDFAIL <why> <exit> <detect_ms>, SCHEDLOG/SCHEDOUT/SCHEDDUMP <line>,
 * and SCHEDEV <name> <delta> for each events counter that changed (the
 * parent makes a note of each). */
void kt__sched_report(const kt__sched *s, int wire_fd);

void kt__sched_free(kt__sched *s);

/* One point under cfg (cfg->spec may be NULL: no scheduler), in the
 * process that owns the scheduler (the guest's PID 1, or a host point's
 * child): starts it, runs the body as a plain point in a forked
 * subreaping runner child whose wire lines are copied to wire, watches
 * the scheduler every 10 ms until the body has ended, stops it, and
 * sends the body's END and the scheduler's report. evidence:
 * KT__EVIDENCE_* bits. point_sched.c; kt__point_sched (point.h) is the
 * same as a kind of point, its cfg a kt__sched_cfg. */
void kt__sched_point(const kt_scenario *s, kt_ctx *ctx, const kt__sched_cfg *cfg,
                     int wire, unsigned evidence);

#endif
