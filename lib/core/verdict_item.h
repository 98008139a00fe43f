/*
 * Internal to lib/core: how a verdict stores what it keeps, shared by
 * verdict.c (storage, notes, merge) and claim.c (checking claims).
 */
#ifndef KTSTR_LIB_VERDICT_ITEM_H
#define KTSTR_LIB_VERDICT_ITEM_H

#include "ktstr/verdict.h"

/* One kept failure or note, its strings in the same allocation. A note
 * keeps its text in rec.message. */
struct kt_verdict_item {
    kt_claim_record rec;
    char buf[];
};

/* Records a failed claim (rec's strings are copied, cut to bounded sizes)
 * and streams it to the sink; counts it in v->failed even when it cannot
 * be kept. */
void kt_verdict_add_failure_(kt_verdict *v, const kt_claim_record *rec);

/* Streams a passing record to the sink (if any) or records a failing one:
 * for claims that build their own record (series, CPU sets). The caller
 * has counted the claim. */
static inline void kt__claim_report(kt_verdict *v, const kt_claim_record *rec)
{
    if (!rec->passed)
        kt_verdict_add_failure_(v, rec);
    else if (v->sink)
        v->sink(v->sink_arg, KT_EVENT_PASS, rec, NULL);
}

/* Copies s to dst (KT_VERDICT_STR_MAX + 1 bytes), cut as the verdict cuts
 * its strings. */
void kt_verdict_cut_(char *dst, const char *s);

#endif
