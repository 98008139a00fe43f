/*
 * lib/verdict/verdict_item.h - how a verdict stores what it keeps
 * (private): shared by verdict.c (storage, notes, merge), claim.c,
 * series.c and cpuset_claim.c (checking claims), and by the folders
 * above that keep claims the same way (evidence's result and baseline,
 * the runner's record of a child's passing claims).
 *
 * This folder's one job is the verdict: kt_err's users, numbers, claims,
 * the verdict and its items, reductions (stats.c), series and CPU-set
 * claims: everything a scenario author's CLAIM touches, and nothing that
 * runs a process. It includes base and the public headers only.
 */
#ifndef KTSTR_LIB_VERDICT_ITEM_H
#define KTSTR_LIB_VERDICT_ITEM_H

#include <stdint.h>

#include "ktstr/verdict.h"

/* One kept failure or note, its strings in the same allocation. A note
 * keeps its text in rec.message. */
struct kt__verdict_item {
    kt_claim_record rec;
    char buf[];
};

/* Records a failed claim (rec's strings are copied, cut to bounded sizes)
 * and streams it to the sink; counts it in v->failed even when it cannot
 * be kept. */
void kt__verdict_add_failure(kt_verdict *v, const kt_claim_record *rec);

/* Streams a passing record to the sink (if any) or records a failing one,
 * marked timed while the verdict's timing is on: for every claim that
 * builds its own record. The caller has counted the claim. */
static inline void kt__claim_report(kt_verdict *v, const kt_claim_record *rec)
{
    kt_claim_record r = *rec;

    r.timed = rec->timed || v->timing;
    if (!r.passed)
        kt__verdict_add_failure(v, &r);
    else if (v->sink)
        v->sink(v->sink_arg, KT_EVENT_PASS, &r, NULL);
}

/* Copies s to dst (KT_VERDICT_STR_MAX + 1 bytes), cut as the verdict cuts
 * its strings. */
void kt__verdict_cut(char *dst, const char *s);

/* A copy of rec in one allocation (free() it), its strings cut as the
 * verdict cuts them and its label and message prefixed with "<prefix>: "
 * when prefix is not NULL; NULL when out of memory. */
struct kt__verdict_item *kt__verdict_item_new(const kt_claim_record *rec,
                                              const char *prefix);

/* Room for any "N more ... not kept" text. */
#define KT__MORE_MAX 64

/* Writes "<n> more <what> not kept" ("failures", "notes", "passes") into
 * buf: the one wording of every summary entry for what a bound dropped,
 * in the verdict and in the report. Returns buf. */
char *kt__more_not_kept(char buf[KT__MORE_MAX], uint64_t n, const char *what);

#endif
