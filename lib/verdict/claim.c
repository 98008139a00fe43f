/*
 * Claims: check a value against an operation and, when it fails (or a
 * sink asked for passes), describe it as a kt_claim_record.
 *
 * A passing claim only counts: the description is built on the failure
 * path, so the common case stays a comparison and an increment.
 */
#include "verdict/verdict_item.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Per operation: its name and the words before the expected bound. */
static const struct {
    const char *name;
    const char *lead;
} op_table[] = {
    [KT_OP_EQ] = { "eq", "expected " },
    [KT_OP_NE] = { "ne", "expected != " },
    [KT_OP_LT] = { "lt", "expected less than " },
    [KT_OP_GT] = { "gt", "expected greater than " },
    [KT_OP_AT_LEAST] = { "at_least", "expected at least " },
    [KT_OP_AT_MOST] = { "at_most", "expected at most " },
    [KT_OP_BETWEEN] = { "between", "expected in " },
    [KT_OP_NEAR] = { "near", "expected near " },
    [KT_OP_IS_FINITE] = { "is_finite", "expected " },
};

static bool op_valid(kt_op op)
{
    return (unsigned)op < sizeof(op_table) / sizeof(op_table[0]);
}

const char *kt_op_name(kt_op op)
{
    return op_valid(op) ? op_table[op].name : "?";
}

/* The description of one claim, built in place. */
typedef struct claim_text {
    char label[KT_VERDICT_STR_MAX + 1];
    char expected[2 * KT_NUM_STR_MAX + 16];
    char actual[KT_NUM_STR_MAX];
    char message[2 * KT_VERDICT_STR_MAX];
} claim_text;

/* Streams a pass or records a failure. caller_error, when set, replaces
 * the usual message after "{label}: ". */
static void report(kt_verdict *v, kt_op op, const char *label, kt_num value,
                   claim_text *t, const char *caller_error, const char *file,
                   int line, bool passed)
{
    kt_claim_record rec;

    kt__verdict_cut(t->label, label ? label : "");
    kt_format_num(t->actual, value);
    if (caller_error)
        snprintf(t->message, sizeof(t->message), "%s: caller error: %s",
                 t->label, caller_error);
    else
        snprintf(t->message, sizeof(t->message), "%s: %s%s, was %s", t->label,
                 op_valid(op) ? op_table[op].lead : "expected ", t->expected,
                 t->actual);
    rec.label = t->label;
    rec.op = kt_op_name(op);
    rec.expected = t->expected;
    rec.actual = t->actual;
    rec.message = t->message;
    rec.file = file ? file : "";
    rec.line = line;
    rec.passed = passed;
    rec.timed = false;
    kt__claim_report(v, &rec);
}

static bool holds(kt_op op, int c)
{
    switch (op) {
    case KT_OP_EQ:
        return c == 0;
    case KT_OP_NE:
        return c != 0;
    case KT_OP_LT:
        return c < 0;
    case KT_OP_GT:
        return c > 0;
    case KT_OP_AT_LEAST:
        return c >= 0;
    case KT_OP_AT_MOST:
        return c <= 0;
    default:
        return false;
    }
}

bool kt_claim_cmp(kt_verdict *v, kt_op op, const char *label, kt_num value,
                  kt_num bound, const char *file, int line)
{
    claim_text t;
    int c;
    bool ok = op <= KT_OP_AT_MOST && kt_num_cmp(value, bound, &c) && holds(op, c);

    v->claims++;
    if (ok && !v->sink_passes)
        return true;
    kt_format_num(t.expected, bound);
    report(v, op, label, value, &t, NULL, file, line, ok);
    return ok;
}

bool kt_claim_between(kt_verdict *v, const char *label, kt_num value,
                      kt_num lo, kt_num hi, const char *file, int line)
{
    claim_text t;
    char los[KT_NUM_STR_MAX], his[KT_NUM_STR_MAX], err[2 * KT_NUM_STR_MAX + 64];
    int c_lo, c_hi, c;
    bool inverted = kt_num_cmp(lo, hi, &c) && c > 0;
    bool ok = !inverted && kt_num_cmp(value, lo, &c_lo) && c_lo >= 0 &&
              kt_num_cmp(value, hi, &c_hi) && c_hi <= 0;

    v->claims++;
    if (ok && !v->sink_passes)
        return true;
    kt_format_num(los, lo);
    kt_format_num(his, hi);
    snprintf(t.expected, sizeof(t.expected), "[%s, %s]", los, his);
    if (inverted)
        snprintf(err, sizeof(err), "interval inverted (lo=%s > hi=%s)", los, his);
    report(v, KT_OP_BETWEEN, label, value, &t, inverted ? err : NULL, file,
           line, ok);
    return ok;
}

bool kt_claim_near(kt_verdict *v, const char *label, kt_num value,
                   double target, double tol, const char *file, int line)
{
    claim_text t;
    char ts[KT_NUM_STR_MAX], tols[KT_NUM_STR_MAX], err[KT_NUM_STR_MAX + 64];
    bool bad_tol = !(tol >= 0); /* negative or NaN */
    bool ok = !bad_tol && fabs(kt_num_to_double(value) - target) <= tol;

    v->claims++;
    if (ok && !v->sink_passes)
        return true;
    kt_format_double(ts, target);
    kt_format_double(tols, tol);
    snprintf(t.expected, sizeof(t.expected), "%s (+/-%s)", ts, tols);
    if (bad_tol)
        snprintf(err, sizeof(err), "tolerance negative (=%s)", tols);
    report(v, KT_OP_NEAR, label, value, &t, bad_tol ? err : NULL, file, line,
           ok);
    return ok;
}

bool kt_claim_is_finite(kt_verdict *v, const char *label, kt_num value,
                        const char *file, int line)
{
    claim_text t;
    bool ok = value.kind != KT_NUM_F64 || isfinite(value.v.f);

    v->claims++;
    if (ok && !v->sink_passes)
        return true;
    strcpy(t.expected, "finite");
    report(v, KT_OP_IS_FINITE, label, value, &t, NULL, file, line, ok);
    return ok;
}

bool kt_claim_ok(kt_verdict *v, const char *label, const char *error, const char *file, int line)
{
    claim_text t;
    char actual[KT_VERDICT_STR_MAX + 1];
    kt_claim_record rec;

    v->claims++;
    if (!error && !v->sink_passes)
        return true;
    kt__verdict_cut(t.label, label ? label : "");
    snprintf(t.expected, sizeof(t.expected), "ok");
    kt__verdict_cut(actual, error ? error : "ok");
    snprintf(t.message, sizeof(t.message), "%s: %s", t.label, error ? error : "ok");
    rec = (kt_claim_record){ .label = t.label, .op = "ok", .expected = t.expected,
                             .actual = actual, .message = t.message, .file = file ? file : "",
                             .line = line, .passed = !error };
    kt__claim_report(v, &rec);
    return !error;
}
