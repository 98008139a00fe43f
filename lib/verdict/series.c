/*
 * Series: timestamped values, and the claims that judge every sample of
 * one at once (ktstr/series.h has the operations and their messages).
 *
 * A claim first finds its outcome without formatting anything, so a
 * passing claim costs one pass over the samples; the message is built
 * only for a failure or for a sink that asked for passes.
 */
#include "verdict/series_int.h"

#include "base/vec.h"
#include "verdict/verdict_item.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct kt_series {
    char *label;
    kt__vec t;        /* uint64_t: timestamps, ns */
    kt__vec x;        /* double: values */
    uint64_t lost;    /* samples kt_series_add could not store */
    char *error;      /* why the series cannot be judged (kt__series_fail) */
};

/* The reason kept when its copy cannot be allocated. */
static char error_no_memory[] = "series unusable (reason lost: out of memory)";

kt_series *kt_series_new(const char *label)
{
    kt_series *s = calloc(1, sizeof(*s));

    if (!s)
        return NULL;
    s->label = strdup(label ? label : "");
    if (!s->label) {
        free(s);
        return NULL;
    }
    s->t = (kt__vec)KT__VEC_INIT(uint64_t);
    s->x = (kt__vec)KT__VEC_INIT(double);
    return s;
}

void kt_series_free(kt_series *s)
{
    if (!s)
        return;
    kt__vec_free(&s->t);
    kt__vec_free(&s->x);
    if (s->error != error_no_memory)
        free(s->error);
    free(s->label);
    free(s);
}

int kt_series_add(kt_series *s, uint64_t t_ns, double value)
{
    if (!s)
        return -1;
    if (kt__vec_push(&s->t, &t_ns, NULL, "series") < 0) {
        s->lost++;
        return -1;
    }
    if (kt__vec_push(&s->x, &value, NULL, "series") < 0) {
        s->t.n--;   /* the two arrays stay the same length */
        s->lost++;
        return -1;
    }
    return 0;
}

int kt__series_reserve(kt_series *s, size_t n)
{
    return kt__vec_reserve(&s->t, n, NULL, "series") < 0 ||
                   kt__vec_reserve(&s->x, n, NULL, "series") < 0
               ? -1
               : 0;
}

void kt__series_fail(kt_series *s, const char *fmt, ...)
{
    char buf[KT_VERDICT_STR_MAX + 1];
    va_list ap;

    if (s->error)
        return;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    s->error = strdup(buf);
    if (!s->error)
        s->error = error_no_memory;
}

kt_series *kt_series_window(const kt_series *s, uint64_t from_ns, uint64_t to_ns,
                            const char *label)
{
    kt_series *w = kt_series_new(label ? label : kt_series_label(s));
    size_t i;

    if (!w || !s)
        return w;   /* NULL s: every claim on w fails (too few samples) */
    w->lost = s->lost;
    if (s->error)
        kt__series_fail(w, "%s", s->error);
    for (i = 0; i < s->t.n; i++) {
        uint64_t t = ((const uint64_t *)s->t.v)[i];

        if (t >= from_ns && t < to_ns)
            kt_series_add(w, t, ((const double *)s->x.v)[i]);
    }
    return w;
}

const char *kt_series_label(const kt_series *s)
{
    return s ? s->label : "";
}

size_t kt_series_count(const kt_series *s)
{
    return s ? s->x.n : 0;
}

const uint64_t *kt_series_times(const kt_series *s)
{
    return s && s->t.n ? s->t.v : NULL;
}

const double *kt_series_values(const kt_series *s)
{
    return s && s->x.n ? s->x.v : NULL;
}

/* ---- claims ----------------------------------------------------------- */

/* Per operation: its name, the word its messages use, the samples it
 * needs. */
static const struct {
    const char *name, *word;
    size_t need;
} op_table[] = {
    [KT_SERIES_EACH_AT_LEAST] = { "each_at_least", "each.at_least", 2 },
    [KT_SERIES_EACH_AT_MOST] = { "each_at_most", "each.at_most", 2 },
    [KT_SERIES_EACH_BETWEEN] = { "each_between", "each.between", 2 },
    [KT_SERIES_NONDECREASING] = { "nondecreasing", "nondecreasing", 2 },
    [KT_SERIES_RATE_WITHIN] = { "rate_within", "rate_within", 2 },
    [KT_SERIES_STEADY_WITHIN] = { "steady_within", "steady_within", 2 },
    [KT_SERIES_CONVERGES_TO] = { "converges_to", "converges_to", 3 },
};

#define OP_COUNT (sizeof(op_table) / sizeof(op_table[0]))

const char *kt_series_op_name(kt_series_op op)
{
    return (unsigned)op < OP_COUNT ? op_table[op].name : "?";
}

/* What judging found. */
typedef enum verdict_kind {
    HELD,      /* the claim holds */
    OFFENDS,   /* sample i (and k in all) broke it */
    NO_BAND,   /* converges_to: never 3 in band by the deadline */
    TOO_FEW,   /* n samples, need m */
    CALLER,    /* why[] says which caller error */
    LOST,      /* samples lost to ENOMEM */
} verdict_kind;

typedef struct outcome {
    verdict_kind kind;
    size_t n;          /* samples judged (TOO_FEW: those there were) */
    size_t i, k;       /* first offender, offenders */
    double val;        /* its value (rate_within: the rate) */
    double lo, hi;     /* steady_within's band */
    char why[192];     /* CALLER */
} outcome;

typedef struct args {
    kt_series_op op;
    double a, b, c;
    size_t n;
    const uint64_t *t;
    const double *x;
} args;

static char *num(char buf[KT_NUM_STR_MAX], double x)
{
    return kt_format_double(buf, x);
}

/* Milliseconds of sample i since the first sample. */
static double ms_of(const args *g, size_t i)
{
    return (double)(g->t[i] - g->t[0]) / 1e6;
}

static void caller(outcome *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void caller(outcome *o, const char *fmt, ...)
{
    va_list ap;

    o->kind = CALLER;
    va_start(ap, fmt);
    vsnprintf(o->why, sizeof(o->why), fmt, ap);
    va_end(ap);
}

/* Arguments the operation cannot judge with; true when they are fine. */
static bool check_args(const args *g, outcome *o)
{
    char p[KT_NUM_STR_MAX], q[KT_NUM_STR_MAX];

    switch (g->op) {
    case KT_SERIES_EACH_BETWEEN:
    case KT_SERIES_RATE_WITHIN:
        if (g->a > g->b)
            caller(o, "interval inverted (lo=%s > hi=%s)", num(p, g->a), num(q, g->b));
        break;
    case KT_SERIES_STEADY_WITHIN:
        if (!(g->a >= 0))
            caller(o, "warm-up negative (=%sms)", num(p, g->a));
        else if (!(g->b >= 0))
            caller(o, "tolerance negative (=%s)", num(p, g->b));
        break;
    case KT_SERIES_CONVERGES_TO:
        if (!(g->b >= 0))
            caller(o, "tolerance negative (=%s)", num(p, g->b));
        else if (!(g->c >= 0))
            caller(o, "deadline negative (=%sms)", num(p, g->c));
        break;
    default:
        break;
    }
    return o->kind != CALLER;
}

/* Timestamps must not go back (rate_within: must go forward). */
static bool check_times(const args *g, outcome *o)
{
    char p[KT_NUM_STR_MAX];

    for (size_t i = 1; i < g->n; i++) {
        if (g->t[i] < g->t[i - 1]) {
            caller(o, "timestamps not sorted (sample %zu at %lluns is before sample %zu at %lluns)",
                   i, (unsigned long long)g->t[i], i - 1,
                   (unsigned long long)g->t[i - 1]);
            return false;
        }
        if (g->op == KT_SERIES_RATE_WITHIN && g->t[i] == g->t[i - 1]) {
            caller(o, "samples %zu and %zu at the same time (+%sms)", i - 1, i,
                   num(p, ms_of(g, i)));
            return false;
        }
    }
    return true;
}

static void offends(outcome *o, size_t i, double val)
{
    o->kind = OFFENDS;
    o->i = i;
    o->val = val;
}

static void judge_each(const args *g, outcome *o)
{
    for (size_t i = 0; i < g->n; i++) {
        double x = g->x[i];
        bool in = g->op == KT_SERIES_EACH_AT_LEAST ? x >= g->a
                  : g->op == KT_SERIES_EACH_AT_MOST ? x <= g->a
                  : x >= g->a && x <= g->b;

        if (!in && o->k++ == 0)
            offends(o, i, x);
    }
}

static void judge_nondecreasing(const args *g, outcome *o)
{
    for (size_t i = 1; i < g->n; i++)
        if (!(g->x[i] >= g->x[i - 1])) {
            offends(o, i, g->x[i]);
            return;
        }
}

static void judge_rate(const args *g, outcome *o)
{
    for (size_t i = 1; i < g->n; i++) {
        /* delta * 1e9 / dt: exact inputs give a correctly rounded rate */
        double r = (g->x[i] - g->x[i - 1]) * 1e9 / (double)(g->t[i] - g->t[i - 1]);

        if (!(r >= g->a && r <= g->b)) {
            offends(o, i, r);
            return;
        }
    }
}

/* Samples from j0 on are judged; NaN ones stay out of the mean and
 * offend. */
static void judge_steady(const args *g, size_t j0, outcome *o)
{
    double sum = 0, mean, lo, hi;
    size_t cnt = 0;

    for (size_t i = j0; i < g->n; i++)
        if (!isnan(g->x[i])) {
            sum += g->x[i];
            cnt++;
        }
    mean = cnt ? sum / (double)cnt : NAN;
    lo = mean * (1 - g->b);
    hi = mean * (1 + g->b);
    if (lo > hi) {   /* a negative mean */
        double tmp = lo;

        lo = hi;
        hi = tmp;
    }
    o->lo = lo;
    o->hi = hi;
    for (size_t i = j0; i < g->n; i++)
        if (!(g->x[i] >= lo && g->x[i] <= hi)) {
            offends(o, i, g->x[i]);
            return;
        }
}

static void judge_converges(const args *g, outcome *o)
{
    int run = 0;

    for (size_t i = 0; i < g->n && ms_of(g, i) <= g->c; i++) {
        run = fabs(g->x[i] - g->a) <= g->b ? run + 1 : 0;
        if (run == 3)
            return;
    }
    o->kind = NO_BAND;
}

static void judge(const kt_series *s, const args *g, outcome *o)
{
    size_t j0 = 0;

    if (!check_args(g, o))
        return;
    if (s->error) {
        caller(o, "%s", s->error);
        return;
    }
    if (s->lost) {
        o->kind = LOST;
        o->k = (size_t)s->lost;
        return;
    }
    if (!check_times(g, o))
        return;
    if (g->op == KT_SERIES_STEADY_WITHIN)
        while (j0 < g->n && !(ms_of(g, j0) >= g->a))
            j0++;
    if (g->n - j0 < op_table[g->op].need) {
        o->kind = TOO_FEW;
        o->n = g->n - j0;
        return;
    }
    switch (g->op) {
    case KT_SERIES_EACH_AT_LEAST:
    case KT_SERIES_EACH_AT_MOST:
    case KT_SERIES_EACH_BETWEEN:
        judge_each(g, o);
        break;
    case KT_SERIES_NONDECREASING:
        judge_nondecreasing(g, o);
        break;
    case KT_SERIES_RATE_WITHIN:
        judge_rate(g, o);
        break;
    case KT_SERIES_STEADY_WITHIN:
        judge_steady(g, j0, o);
        break;
    case KT_SERIES_CONVERGES_TO:
        judge_converges(g, o);
        break;
    }
}

/* The head, "each.at_least 0.4"; returns where its expected part starts
 * (the whole head when the operation takes no argument). */
static const char *format_head(char *head, size_t size, const args *g)
{
    char p[KT_NUM_STR_MAX], q[KT_NUM_STR_MAX], r[KT_NUM_STR_MAX];
    const char *word = op_table[g->op].word;

    switch (g->op) {
    case KT_SERIES_EACH_AT_LEAST:
    case KT_SERIES_EACH_AT_MOST:
        snprintf(head, size, "%s %s", word, num(p, g->a));
        break;
    case KT_SERIES_EACH_BETWEEN:
        snprintf(head, size, "%s [%s, %s]", word, num(p, g->a), num(q, g->b));
        break;
    case KT_SERIES_NONDECREASING:
        snprintf(head, size, "%s", word);
        return head;
    case KT_SERIES_RATE_WITHIN:
        snprintf(head, size, "%s [%s, %s]/s", word, num(p, g->a), num(q, g->b));
        break;
    case KT_SERIES_STEADY_WITHIN:
        snprintf(head, size, "%s %s after %sms", word, num(p, g->b), num(q, g->a));
        break;
    case KT_SERIES_CONVERGES_TO:
        snprintf(head, size, "%s %s +/-%s by %sms", word, num(p, g->a),
                 num(q, g->b), num(r, g->c));
        break;
    }
    return head + strlen(word) + 1;
}

/* A held each_* claim's actual: the sample nearest its bound (the
 * minimum for at_least, the maximum for at_most, the nearer edge's for
 * between), so calibration and baselines see the worst interval, not the
 * last. Other operations report their last sample. */
static double held_actual(const args *g)
{
    double lo = NAN, hi = NAN;

    for (size_t i = 0; i < g->n; i++) {
        if (!(g->x[i] >= lo))
            lo = g->x[i];
        if (!(g->x[i] <= hi))
            hi = g->x[i];
    }
    switch (g->op) {
    case KT_SERIES_EACH_AT_LEAST:
        return lo;
    case KT_SERIES_EACH_AT_MOST:
        return hi;
    case KT_SERIES_EACH_BETWEEN:
        return lo - g->a <= g->b - hi ? lo : hi;
    default:
        return g->n ? g->x[g->n - 1] : NAN;
    }
}

/* The message after "{l} ({head}): " and the actual value, from o. */
static void format_body(char *body, size_t size, char actual[KT_NUM_STR_MAX],
                        const args *g, const outcome *o)
{
    char v[KT_NUM_STR_MAX], ms[KT_NUM_STR_MAX], a[KT_NUM_STR_MAX];
    char lo[KT_NUM_STR_MAX], hi[KT_NUM_STR_MAX];
    double last = g->n ? g->x[g->n - 1] : NAN;

    if (o->kind == OFFENDS) {
        num(v, o->val);
        num(ms, ms_of(g, o->i));
        strcpy(actual, v);
    } else if (o->kind == HELD) {
        num(actual, held_actual(g));
    } else if (o->kind == NO_BAND) {
        num(actual, last);
    } else {
        snprintf(actual, KT_NUM_STR_MAX, "%zu", o->kind == TOO_FEW ? o->n : g->n);
    }
    switch (o->kind) {
    case HELD:
        snprintf(body, size, "held for %zu samples", g->n);
        return;
    case TOO_FEW:
        snprintf(body, size, "%zu samples, need %zu", o->n, op_table[g->op].need);
        return;
    case CALLER:
        snprintf(body, size, "caller error: %s", o->why);
        return;
    case LOST:
        snprintf(body, size, "%zu samples not stored (out of memory)", o->k);
        return;
    case NO_BAND:
        snprintf(body, size, "no 3 consecutive samples in band (%zu samples)", g->n);
        return;
    case OFFENDS:
        break;
    }
    switch (g->op) {
    case KT_SERIES_EACH_AT_LEAST:
    case KT_SERIES_EACH_AT_MOST:
    case KT_SERIES_EACH_BETWEEN:
        snprintf(body, size, "%zu of %zu samples outside, first at sample %zu (+%sms): value %s",
                 o->k, g->n, o->i, ms, v);
        break;
    case KT_SERIES_NONDECREASING:
        snprintf(body, size, "value %s at sample %zu (+%sms) after %s at sample %zu",
                 v, o->i, ms, num(a, g->x[o->i - 1]), o->i - 1);
        break;
    case KT_SERIES_RATE_WITHIN:
        snprintf(body, size, "rate %s/s between samples %zu and %zu (+%sms)", v,
                 o->i - 1, o->i, ms);
        break;
    case KT_SERIES_STEADY_WITHIN:
        snprintf(body, size, "sample %zu (+%sms): value %s outside [%s, %s]", o->i,
                 ms, v, num(lo, o->lo), num(hi, o->hi));
        break;
    case KT_SERIES_CONVERGES_TO:
        break;   /* NO_BAND, above */
    }
}

bool kt_claim_series(kt_verdict *v, const kt_series *s, kt_series_op op,
                     double a, double b, double c, const char *file, int line)
{
    args g = { op, a, b, c, 0, NULL, NULL };
    outcome o;
    kt_claim_record rec;
    char head[4 * KT_NUM_STR_MAX + 64], body[6 * KT_NUM_STR_MAX + 256];
    char label[KT_VERDICT_STR_MAX + 1], actual[KT_NUM_STR_MAX];
    char message[KT_VERDICT_STR_MAX + sizeof(head) + sizeof(body) + 8];
    const char *expected;

    v->claims++;
    memset(&o, 0, sizeof(o));
    o.kind = HELD;
    if ((unsigned)op >= OP_COUNT) {
        /* not reachable through CLAIM_SERIES; the record still says why */
        snprintf(message, sizeof(message), "%s: caller error: unknown series operation %d",
                 s ? s->label : "(no series)", (int)op);
        rec = (kt_claim_record){ s ? s->label : "(no series)", "?", "", "", message,
                                 file ? file : "", line, false };
        kt__claim_report(v, &rec);
        return false;
    }
    if (s) {
        g.n = s->x.n;
        g.t = s->t.v;
        g.x = s->x.v;
        judge(s, &g, &o);
    } else {
        caller(&o, "series is NULL");
    }
    if (o.kind == HELD && !v->sink_passes)
        return true;

    kt__verdict_cut(label, s ? s->label : "(no series)");
    expected = format_head(head, sizeof(head), &g);
    format_body(body, sizeof(body), actual, &g, &o);
    snprintf(message, sizeof(message), "%s (%s): %s", label, head, body);
    rec.label = label;
    rec.op = op_table[op].name;
    rec.expected = expected;
    rec.actual = actual;
    rec.message = message;
    rec.file = file ? file : "";
    rec.line = line;
    rec.passed = o.kind == HELD;
    rec.timed = false;
    kt__claim_report(v, &rec);
    return rec.passed;
}
