/* The inconclusive rule (inconclusive.h): which points host starvation
 * may excuse, measured from what the point itself recorded. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evidence/json.h"
#include "runner/inconclusive.h"

int kt__starve_rule_env(kt__starve_rule *rule, kt_err *err)
{
    const char *max = getenv("KTSTR_STEAL_MAX"), *strict = getenv("KTSTR_STRICT");

    rule->steal_max = KT__STEAL_MAX_DEFAULT;
    rule->strict = false;
    if (max && *max) {
        size_t len = strlen(max);
        bool pct = max[len - 1] == '%';
        double x;

        /* a plain decimal read in the C locale, whatever the user's is */
        bool num = kt__json_number(max, len - pct, &x);

        if (num && pct)
            x /= 100.0;
        if (!num || !(x > 0.0 && x <= 1.0))
            return kt_err_set(err, EINVAL,
                              "KTSTR_STEAL_MAX '%s': must be a share in (0, 1] "
                              "(0.2) or a percentage (20%%)", max);
        rule->steal_max = x;
    }
    if (strict && *strict) {
        if (strcmp(strict, "0") != 0 && strcmp(strict, "1") != 0)
            return kt_err_set(err, EINVAL, "KTSTR_STRICT '%s': must be 0 or 1", strict);
        rule->strict = strict[0] == '1';
    }
    return 0;
}

double kt__starvation(const kt__result *r, char *what, size_t n)
{
    const kt__steal *st = r->host_steal.v;
    const kt__steal *worst = NULL;

    what[0] = '\0';
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
    if (!r->vm && r->foreign_load == r->foreign_load && r->machine_cpus > 0) {
        double share = r->foreign_load / r->machine_cpus;

        snprintf(what, n, "other tasks took %.2f of the machine's %d CPUs (%.0f%%) "
                 "while it ran", r->foreign_load, r->machine_cpus, 100.0 * share);
        return share;
    }
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
                     r->boot_steal == r->boot_steal);

    if (!eligible || r->sched_failed)
        return false;
    share = kt__starvation(r, what, sizeof(what));
    if (!(share > rule->steal_max))
        return false;
    snprintf(why, n, "%s (limit %.3g%%)", what, 100.0 * rule->steal_max);
    return true;
}
