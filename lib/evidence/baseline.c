/* A/B baselines (--baseline DIR, DESIGN.md section 10): every numeric
 * claim of a point against the same claim in DIR/<scenario>.json, the
 * sidecar an earlier run wrote with --artifacts DIR.
 *
 * Which way is worse follows the claim's operation: at_least and gt lower,
 * at_most and lt higher, near, between and eq farther from the target
 * (near's t, the middle of between's interval, eq's x). A value is a
 * regression when it is worse by more than both gates: the absolute one
 * (KTSTR_BASELINE_ABS, in the claim's units) and the relative one
 * (KTSTR_BASELINE_REL, % of |baseline value|). Claims are matched by
 * label and occurrence (the k-th claim labelled "x" with the k-th one in
 * the sidecar); ne, is_finite, series and CPU-set claims have no
 * direction and are not compared. */
#include "evidence/evidence.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/file.h"
#include "evidence/json.h"
#include "verdict/verdict_item.h"

/* A sidecar larger than this is not one of ours. */
#define BASELINE_MAX_BYTES (64u << 20)

enum worse { WORSE_LOWER, WORSE_HIGHER, WORSE_FARTHER, WORSE_NONE };

static enum worse direction(const char *op)
{
    if (!strcmp(op, "at_least") || !strcmp(op, "gt"))
        return WORSE_LOWER;
    if (!strcmp(op, "at_most") || !strcmp(op, "lt"))
        return WORSE_HIGHER;
    if (!strcmp(op, "near") || !strcmp(op, "between") || !strcmp(op, "eq"))
        return WORSE_FARTHER;
    return WORSE_NONE;
}

static bool number_in(const char *s, size_t len, double *out)
{
    return kt__json_number(s, len, out) && isfinite(*out);
}

/* The target of a near ("t (+/-tol)"), between ("[lo, hi]": its middle)
 * or eq ("x") claim, from its expected text. */
static bool target_of(const char *op, const char *e, double *t)
{
    const char *p;
    double lo, hi;

    if (!strcmp(op, "eq"))
        return number_in(e, strlen(e), t);
    if (!strcmp(op, "near"))
        return (p = strstr(e, " (+/-")) && number_in(e, (size_t)(p - e), t);
    if (!strcmp(op, "between") && e[0] == '[' && (p = strstr(e, ", ")) &&
        strlen(p) > 3 && p[strlen(p) - 1] == ']' && number_in(e + 1, (size_t)(p - e - 1), &lo) &&
        number_in(p + 2, strlen(p + 2) - 1, &hi)) {
        *t = lo / 2 + hi / 2;
        return true;
    }
    return false;
}

int kt__baseline_regressed(const char *op, const char *expected, double a, double b,
                           double rel_pct, double abs_gate, double *pct)
{
    enum worse d = direction(op);
    double w, t = 0;

    if (d == WORSE_NONE || !isfinite(a) || !isfinite(b))
        return -1;
    if (d == WORSE_FARTHER && !target_of(op, expected, &t))
        return -1;
    w = d == WORSE_LOWER ? a - b : d == WORSE_HIGHER ? b - a : fabs(b - t) - fabs(a - t);
    *pct = a != 0 ? 100.0 * w / fabs(a) : w > 0 ? INFINITY : 0.0;
    return w > abs_gate && *pct > rel_pct ? 1 : 0;
}

/* ---- the sidecar ------------------------------------------------------ */

/* The claims array of a checked sidecar for scenario name, or NULL with
 * why ("line 3, column 7: ...", "no \"claims\" list"). */
static const kt__json *sidecar_claims(const kt__json *doc, const char *name, kt_err *why)
{
    const kt__json *claims = kt__json_get(doc, "claims");
    const char *scenario = kt__json_get_str(doc, "scenario");

    if (!doc || doc->type != KT__JSON_OBJ) {
        kt_err_set(why, EINVAL, "not a JSON object");
        return NULL;
    }
    if (!scenario) {
        kt_err_set(why, EINVAL, "no \"scenario\" string");
        return NULL;
    }
    if (strcmp(scenario, name) != 0) {
        kt_err_set(why, EINVAL, "the sidecar of scenario '%.100s', not '%.100s'", scenario, name);
        return NULL;
    }
    if (!claims || claims->type != KT__JSON_ARR) {
        kt_err_set(why, EINVAL, "no \"claims\" list");
        return NULL;
    }
    for (size_t i = 0; i < claims->len; i++) {
        const kt__json *c = &claims->kids[i], *actual = kt__json_get(c, "actual");

        if (c->type != KT__JSON_OBJ || !kt__json_get_str(c, "label") ||
            !kt__json_get_str(c, "op") || !actual ||
            (actual->type != KT__JSON_NUM && actual->type != KT__JSON_STR)) {
            kt_err_set(why, EINVAL, "claims[%zu]: not a claim (label, op and actual)", i);
            return NULL;
        }
    }
    return claims;
}

/* The occ-th (0-based) claim labelled label in the sidecar, or NULL. */
static const kt__json *find_claim(const kt__json *claims, const char *label, size_t occ)
{
    for (size_t i = 0; i < claims->len; i++)
        if (!strcmp(kt__json_get_str(&claims->kids[i], "label"), label) && occ-- == 0)
            return &claims->kids[i];
    return NULL;
}

/* ---- the check -------------------------------------------------------- */

/* A failure of the point itself: the baseline cannot be used. */
static void fail_baseline(kt__result *r, const char *path, const char *why)
{
    char msg[2 * KT_ERR_MSG_MAX + 64];
    kt_claim_record c = { "baseline", "baseline", "a readable baseline", "unusable",
                          msg, "", 0, false };

    snprintf(msg, sizeof(msg), "baseline: %s: %s", path, why);
    kt__verdict_add_failure(&r->v, &c);
    r->claims++;
    r->failed++;
}

/* The i-th claim the parent kept: its first nfail failures (those before
 * the comparison added its own), then its passes: the sidecar's order. */
static const kt_claim_record *claim_at(const kt__result *r, size_t nfail, size_t i)
{
    struct kt__verdict_item *const *pass = r->passes.v;

    if (i < nfail)
        return kt_verdict_failure(&r->v, i);
    i -= nfail;
    return i < r->passes.n ? &pass[i]->rec : NULL;
}

/* How many claims before the i-th carry the same label. */
static size_t occurrence(const kt__result *r, size_t nfail, size_t i, const char *label)
{
    size_t k = 0;

    for (size_t j = 0; j < i; j++)
        k += strcmp(claim_at(r, nfail, j)->label, label) == 0;
    return k;
}

static void regressed(kt__result *r, const kt__evidence *ev, const kt_claim_record *c,
                      const char *a, double pct)
{
    char label[KT_VERDICT_STR_MAX + 16], msg[3 * KT_VERDICT_STR_MAX];
    char p[KT_NUM_STR_MAX], g[KT_NUM_STR_MAX];
    kt_claim_record f = { label, "baseline", a, c->actual, msg, c->file, c->line, false };

    /* one decimal is enough to read a change by */
    kt_format_double(p, isfinite(pct) ? round(pct * 10.0) / 10.0 : pct);
    kt_format_double(g, ev->rel_pct);
    snprintf(label, sizeof(label), "baseline.%s", c->label);
    snprintf(msg, sizeof(msg), "%s: regressed from %s to %s (%s%% worse, gate %s%%)", label, a,
             c->actual, p, g);
    kt__verdict_add_failure(&r->v, &f);
}

/* Compares r's claims with the sidecar's; returns how many it compared,
 * *missing how many numeric ones the sidecar lacks. */
static size_t compare(kt__result *r, const kt__evidence *ev, const kt__json *claims,
                      size_t *missing)
{
    size_t nfail = r->v.failures_kept, n = nfail + r->passes.n, compared = 0;

    *missing = 0;
    for (size_t i = 0; i < n; i++) {
        const kt_claim_record *c = claim_at(r, nfail, i);
        const kt__json *old, *actual;
        double a, b, pct;
        int rc;

        if (direction(c->op) == WORSE_NONE || !number_in(c->actual, strlen(c->actual), &b))
            continue;
        old = find_claim(claims, c->label, occurrence(r, nfail, i, c->label));
        if (!old || strcmp(kt__json_get_str(old, "op"), c->op) != 0) {
            (*missing)++;
            continue;
        }
        actual = kt__json_get(old, "actual");
        if (actual->type != KT__JSON_NUM || !isfinite(actual->num))
            continue;
        a = actual->num;
        rc = kt__baseline_regressed(c->op, c->expected, a, b, ev->rel_pct, ev->abs_gate, &pct);
        if (rc < 0)
            continue;
        compared++;
        if (rc > 0) {
            regressed(r, ev, c, actual->str, pct);
            r->failed++;
        }
    }
    r->claims += compared;
    return compared;
}

void kt__baseline_check(const kt__evidence *ev, const char *name, kt__result *r)
{
    kt__vec text = KT__VEC_INIT(char);
    kt_err err = { 0, "" };
    kt__json *doc = NULL;
    const kt__json *claims;
    char stem[256], *path;
    size_t len, compared, missing;

    if (!ev->baseline || (!r->failed && kt_verdict_skip_reason(&r->v)))
        return;
    kt__artifact_stem(stem, name);
    len = strlen(ev->baseline) + strlen(stem) + 8;
    path = malloc(len);
    if (!path) {
        fail_baseline(r, ev->baseline, "out of memory");
        return;
    }
    snprintf(path, len, "%s/%s.json", ev->baseline, stem);
    if (kt__read_file(path, BASELINE_MAX_BYTES, &text, &err) < 0) {
        char why[KT_ERR_MSG_MAX + 80];

        /* kt__read_file's message names the path itself */
        snprintf(why, sizeof(why), "%s%s", err.msg + (strncmp(err.msg, path, strlen(path)) ? 0
                                                      : strlen(path) + 2),
                 err.code == ENOENT ? "; a baseline is the --artifacts directory of an earlier run"
                                    : "");
        fail_baseline(r, path, why);
        goto out;
    }
    doc = kt__json_parse(text.v, text.n, &err);
    if (!doc) {
        char why[KT_ERR_MSG_MAX + 16];

        snprintf(why, sizeof(why), "not JSON: %s", err.msg);
        fail_baseline(r, path, why);
        goto out;
    }
    claims = sidecar_claims(doc, name, &err);
    if (!claims) {
        fail_baseline(r, path, err.msg);
        goto out;
    }
    compared = compare(r, ev, claims, &missing);
    if (missing)
        kt_verdict_note(&r->v, "baseline %s: %zu claims compared, %zu not in it", path,
                        compared, missing);
    else
        kt_verdict_note(&r->v, "baseline %s: %zu claims compared", path, compared);
out:
    kt__json_free(doc);
    kt__vec_free(&text);
    free(path);
}
