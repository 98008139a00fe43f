/*
 * lib/runner/inconclusive.h - the rule that keeps host starvation from
 * failing a point (private; README: On a busy machine).
 *
 * A point that failed only timing claims (kt_verdict_timing), or whose
 * guest missed its boot deadline, while the host kept it from the CPU
 * for more than KTSTR_STEAL_MAX of the time is inconclusive: the figures
 * say the host, not the scheduler under test, was short of CPU. So is a
 * point stopped at its deadline's ceiling (supervise.c: it was given the
 * time other tasks took, up to twice its timeout, and they still took
 * more than half the machine). Anything else (a crash, a timeout within
 * the time it was given, a panic, the scheduler ejected, a guest that
 * never reported, any failed claim that is not a timing claim) stays not
 * ok, whatever the host did.
 */
#ifndef KTSTR_LIB_RUNNER_INCONCLUSIVE_H
#define KTSTR_LIB_RUNNER_INCONCLUSIVE_H

#include <stdbool.h>
#include <stddef.h>

#include "evidence/result.h"

/* KTSTR_STEAL_MAX's default, a share. calibration (10 catalog runs a
 * mode, 200 points, 2-CPU host; README: On a busy machine): VM mode, the
 * worst vCPU's steal idle p50 0.027 / p99 0.080 / max 0.158, under
 * stress-ng --cpu 1 p50 0.35, --cpu 2 p50 0.44, the 4 points that failed
 * timing claims there 0.33-0.35; host mode's foreign share idle p50 0,
 * stress-ng --cpu 1 p50 0.33, --cpu 2 p50 0.5. 0.2: 1.27x the idle worst
 * (2.5x its p99), 1.65x under the starved points that failed. */
#define KT__STEAL_MAX_DEFAULT 0.2

/* The limits of the rule (cli.c reads them: KTSTR_STEAL_MAX, KTSTR_STRICT). */
typedef struct kt__starve_rule {
    double steal_max;          /* KTSTR_STEAL_MAX: a share in (0, 1] */
    bool strict;               /* KTSTR_STRICT=1: inconclusive fails */
} kt__starve_rule;

/* How much the host starved the point, a share: in VM mode the worst
 * vCPU's host steal over the body (or over the boot, when the body never
 * began), on the host (and for a body stopped at its deadline, VM or
 * not) the other tasks' CPU time over the machine's; NaN
 * when not measured. what (n bytes) gets it in words ("host kept vCPU 1
 * off a CPU for 38% of the body"). */
double kt__starvation(const kt__result *r, char *what, size_t n);

/* True when the point with outcome o (a FAIL, or a guest ERROR for a
 * missed boot) is inconclusive under rule; why (n bytes) then gets
 * "<starvation in words> (limit 20%)". */
bool kt__inconclusive(const kt__result *r, kt_outcome o, const kt__starve_rule *rule,
                      char *why, size_t n);

#endif
