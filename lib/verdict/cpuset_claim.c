/*
 * Claims on CPU sets (ktstr/cpuset.h has the operations and messages).
 * A passing claim is a few word operations over the bitmaps; the lists
 * are formatted only for a failure or a sink that asked for passes.
 */
#include "ktstr/cpuset.h"

#include "verdict/verdict_item.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WORDS (KT_CPUSET_MAX / 64)

/* Per operation: its name, the words before the bound, and what a
 * failure says of the offending CPUs (one, several). */
static const struct {
    const char *name, *lead, *one, *many;
} op_table[] = {
    [KT_CPUS_SUBSET_OF] = { "subset_of", "expected subset of ", "is not in it", "are not in it" },
    [KT_CPUS_DISJOINT_FROM] = { "disjoint_from", "expected disjoint from ", "is in it",
                                "are in it" },
    [KT_CPUS_CONTAINS] = { "contains", "expected to contain ", "is missing", "are missing" },
    [KT_CPUS_COUNT_AT_MOST] = { "count_at_most", "expected at most ", NULL, NULL },
    [KT_CPUS_COUNT_AT_LEAST] = { "count_at_least", "expected at least ", NULL, NULL },
};

#define OP_COUNT (sizeof(op_table) / sizeof(op_table[0]))

const char *kt_cpus_op_name(kt_cpus_op op)
{
    return (unsigned)op < OP_COUNT ? op_table[op].name : "?";
}

/* A set as a CPU list ("none" when empty) in dst, KT_VERDICT_STR_MAX + 1
 * bytes, cut as the verdict cuts its strings. */
static void list_of(char *dst, const kt_cpuset *s)
{
    int count = kt_cpuset_count(s);
    size_t size = (size_t)count * 5 + 1;   /* "8191," per CPU at most */
    char *buf;

    if (count == 0) {
        strcpy(dst, "none");
        return;
    }
    buf = malloc(size);
    if (!buf || kt_cpuset_format(s, buf, size) < 0)
        snprintf(dst, KT_VERDICT_STR_MAX + 1, "(%d CPUs, list lost: out of memory)", count);
    else
        kt__verdict_cut(dst, buf);
    free(buf);
}

/* The offending CPUs of a set operation, in d; true when there are none. */
static bool set_holds(kt_cpus_op op, const kt_cpuset *s, const kt_cpuset *b,
                      kt_cpuset *d)
{
    uint64_t any = 0;

    for (int i = 0; i < WORDS; i++) {
        uint64_t w = op == KT_CPUS_SUBSET_OF     ? s->bits_[i] & ~b->bits_[i]
                     : op == KT_CPUS_DISJOINT_FROM ? s->bits_[i] & b->bits_[i]
                                                   : b->bits_[i] & ~s->bits_[i];

        if (d)
            d->bits_[i] = w;
        any |= w;
    }
    return any == 0;
}

/* The strings of one claim's record, built in place. */
typedef struct cpus_text {
    char label[KT_VERDICT_STR_MAX + 1];
    char expected[KT_VERDICT_STR_MAX + 1];
    char actual[KT_VERDICT_STR_MAX + 1];
    char offending[KT_VERDICT_STR_MAX + 1];
    char message[4 * KT_VERDICT_STR_MAX + 128];   /* all of the above: the verdict cuts it */
} cpus_text;

static bool report(kt_verdict *v, kt_cpus_op op, cpus_text *t, const char *file,
                   int line, bool passed)
{
    kt_claim_record rec = { t->label, kt_cpus_op_name(op), t->expected, t->actual,
                            t->message, file ? file : "", line, passed };

    kt__claim_report(v, &rec);
    return passed;
}

static bool caller_error(kt_verdict *v, kt_cpus_op op, cpus_text *t,
                         const kt_cpuset *set, const kt_cpuset *bound, long long n,
                         const char *why, const char *file, int line)
{
    bool counts = op == KT_CPUS_COUNT_AT_MOST || op == KT_CPUS_COUNT_AT_LEAST;

    if (counts)
        snprintf(t->expected, sizeof(t->expected), "%lld", n);
    else if (bound)
        list_of(t->expected, bound);
    if (set)
        list_of(t->actual, set);
    snprintf(t->message, sizeof(t->message), "%s: caller error: %s", t->label, why);
    return report(v, op, t, file, line, false);
}

bool kt_claim_cpus(kt_verdict *v, kt_cpus_op op, const char *label,
                   const kt_cpuset *set, const kt_cpuset *bound, long long n,
                   const char *file, int line)
{
    cpus_text *t;
    kt_cpuset d;
    char why[128];
    bool counts = op == KT_CPUS_COUNT_AT_MOST || op == KT_CPUS_COUNT_AT_LEAST;
    bool ok = false, rc;
    int k = 0;

    v->claims++;
    why[0] = '\0';
    if ((unsigned)op >= OP_COUNT)
        snprintf(why, sizeof(why), "unknown CPU-set operation %d", (int)op);
    else if (!set)
        snprintf(why, sizeof(why), "set is NULL");
    else if (!counts && !bound)
        snprintf(why, sizeof(why), "bound is NULL");
    else if (set->bad_)
        snprintf(why, sizeof(why), "CPU %d out of range (0-%d) in the set", set->bad_cpu_,
                 KT_CPUSET_MAX - 1);
    else if (!counts && bound->bad_)
        snprintf(why, sizeof(why), "CPU %d out of range (0-%d) in the bound",
                 bound->bad_cpu_, KT_CPUSET_MAX - 1);
    if (!why[0]) {
        if (counts) {
            k = kt_cpuset_count(set);
            ok = op == KT_CPUS_COUNT_AT_MOST ? k <= n : k >= n;
        } else {
            ok = set_holds(op, set, bound, NULL);
        }
        if (ok && !v->sink_passes)
            return true;
    }

    /* the failure path (or a pass a sink wants): 5 KiB, so from the heap */
    t = calloc(1, sizeof(*t));
    if (!t) {
        kt_claim_record rec = { label ? label : "", kt_cpus_op_name(op), "", "",
                                "CPU-set claim: out of memory describing it",
                                file ? file : "", line, false };

        rec.passed = !why[0] && ok;
        kt__claim_report(v, &rec);
        return rec.passed;
    }
    kt__verdict_cut(t->label, label ? label : "");
    if (why[0]) {
        rc = caller_error(v, (unsigned)op < OP_COUNT ? op : KT_CPUS_SUBSET_OF, t, set,
                          bound, n, why, file, line);
        free(t);
        return rc;
    }
    list_of(t->actual, set);
    if (counts) {
        snprintf(t->expected, sizeof(t->expected), "%lld", n);
        snprintf(t->message, sizeof(t->message), "%s: %s%lld %s, was %d (%s)", t->label,
                 op_table[op].lead, n, n == 1 ? "CPU" : "CPUs", k, t->actual);
        snprintf(t->actual, sizeof(t->actual), "%d", k);
    } else {
        list_of(t->expected, bound);
        if (ok) {
            snprintf(t->message, sizeof(t->message), "%s: %s%s, was %s", t->label,
                     op_table[op].lead, t->expected, t->actual);
        } else {
            set_holds(op, set, bound, &d);
            list_of(t->offending, &d);
            snprintf(t->message, sizeof(t->message), "%s: %s%s, but %s %s", t->label,
                     op_table[op].lead, t->expected, t->offending,
                     kt_cpuset_count(&d) == 1 ? op_table[op].one : op_table[op].many);
        }
    }
    rc = report(v, op, t, file, line, ok);
    free(t);
    return rc;
}
