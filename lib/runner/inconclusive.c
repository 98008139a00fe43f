/* The inconclusive rule (inconclusive.h): which points host starvation
 * may excuse, measured from what the point itself recorded. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "runner/inconclusive.h"

static double foreign_share(const kt__result *r, char *what, size_t n)
{
    double share;

    if (!(r->foreign_load == r->foreign_load) || r->machine_cpus <= 0)
        return NAN;
    share = r->foreign_load / r->machine_cpus;
    snprintf(what, n, "other tasks took %.2f of the machine's %d CPUs (%.0f%%) while it ran",
             r->foreign_load, r->machine_cpus, 100.0 * share);
    return share;
}

double kt__starvation(const kt__result *r, char *what, size_t n)
{
    const kt__steal *st = r->host_steal.v;
    const kt__steal *worst = NULL;

    what[0] = '\0';
    /* A body that ran out of time: the whole machine's view, VM or not. */
    if (r->end == KT__END_TIMEOUT && r->deadline_ms)
        return foreign_share(r, what, n);
    for (size_t i = 0; i < r->host_steal.n; i++)
        if (st[i].share == st[i].share && (!worst || st[i].share > worst->share))
            worst = &st[i];
    if (worst) {
        snprintf(what, n, "host kept vCPU %d off a CPU for %.0f%% of the body (%.0f ms)",
                 worst->vcpu, 100.0 * worst->share, worst->ms);
        return worst->share;
    }
    if (r->boot_steal == r->boot_steal) {
        snprintf(what, n, "host kept the guest's threads off a CPU for %.0f%% of its boot",
                 100.0 * r->boot_steal);
        return r->boot_steal;
    }
    if (!r->vm)
        return foreign_share(r, what, n);
    return NAN;
}

/* Every failure a timing claim, and none of them lost: one not kept may
 * have been anything. */
static bool only_timing_failed(const kt__result *r)
{
    if (r->failed == 0 || r->failed != r->v.failures_kept || r->v.failures_dropped)
        return false;
    for (size_t i = 0; i < r->v.failures_kept; i++)
        if (!kt_verdict_failure(&r->v, i)->timed)
            return false;
    return true;
}

bool kt__inconclusive(const kt__result *r, kt_outcome o, const kt__starve_rule *rule,
                      char *why, size_t n)
{
    char what[200];
    double share;
    bool eligible = (o == KT_OUTCOME_FAIL && only_timing_failed(r)) ||
                    (o == KT_OUTCOME_ERROR && r->end == KT__END_GUEST_ERROR &&
                     r->boot_steal == r->boot_steal) ||
                    (o == KT_OUTCOME_TIMEOUT && r->end == KT__END_TIMEOUT &&
                     r->deadline_ceiling);

    if (!eligible || r->sched_failed)
        return false;
    share = kt__starvation(r, what, sizeof(what));
    if (!(share > rule->steal_max))
        return false;
    snprintf(why, n, "%s (limit %.3g%%)", what, 100.0 * rule->steal_max);
    return true;
}
