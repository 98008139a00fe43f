/* Fuzzing the readers of the artifacts' sidecars (tests/fuzz/fuzz.h): the JSON
 * reader on its own (what it accepts is a well-formed tree), the JSON
 * number grammar, and the baseline reading a mutated sidecar from a file
 * (a file it cannot use is a failure naming it, never a crash or a pass).
 * Seeds: sidecars the artifacts writer renders and generated JSON. */
#include "fuzz/fuzz.h"

#include "evidence/evidence.h"
#include "ktstr/scenario.h"
#include "evidence/json.h"
#include "verdict/verdict_item.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A sidecar as the artifacts writer writes it, for a point with a few
 * claims of each kind (the seeds are the real format). */
static void seed_sidecar(fuzz_seeds *s, kt_outcome o)
{
    kt__evidence ev = { .kernel = "6.18.0", .cpus = 2, .cpu_model = "Fuzz \"CPU\"" };
    kt__vec json = KT__VEC_INIT(char), csv = KT__VEC_INIT(char), svg = KT__VEC_INIT(char);
    kt__result r;
    struct kt__verdict_item *it;
    kt_claim_record pass = { "share_min", "at_least", "0.4", "0.45", "share_min: ...",
                             "scenarios/f.c", 12, true };
    kt_claim_record fail = { "ratio \xc3\xa9", "near", "3.06 (+/-0.3)", "nan", "ratio: ...",
                             "scenarios/f.c", 13, false };
    kt_claim_record band = { "jain", "between", "[0.95, 1]", "0.99", "jain: ...", "", 0, true };

    memset(&r, 0, sizeof(r));
    kt_verdict_init(&r.v);
    r.passes = (kt__vec)KT__VEC_INIT(struct kt__verdict_item *);
    r.cleanup = (kt__vec)KT__VEC_INIT(char *);
    kt__verdict_add_failure(&r.v, &fail);
    kt_verdict_note(&r.v, "a note\twith \"quotes\" and \\");
    if ((it = kt__verdict_item_new(&pass, NULL)) != NULL)
        kt__vec_push(&r.passes, &it, NULL, "fuzz");
    if ((it = kt__verdict_item_new(&band, NULL)) != NULL)
        kt__vec_push(&r.passes, &it, NULL, "fuzz");
    r.duration_ms = 1234;
    if (kt__artifacts_render(&ev, "fz", &r, o, "killed by SIGSEGV", &json, &csv, &svg) == 0)
        fuzz_seed(s, json.v, json.n);
    for (size_t i = 0; i < r.passes.n; i++)
        free(((struct kt__verdict_item **)r.passes.v)[i]);
    kt__vec_free(&r.passes);
    kt__vec_free(&r.cleanup);
    kt_verdict_fini(&r.v);
    kt__vec_free(&json);
    kt__vec_free(&csv);
    kt__vec_free(&svg);
}

static void seed_json(fuzz_seeds *s)
{
    seed_sidecar(s, KT_OUTCOME_FAIL);
    seed_sidecar(s, KT_OUTCOME_CRASH);
    fuzz_seed_str(s, "[1, -0, 2.5e-3, 1E+21, true, false, null, \"\\u00e9\\ud83d\\ude00\\/\"]");
    fuzz_seed_str(s, "{\"a\": {\"b\": [[], {}, [{\"c\": \"\"}]]}, \"\": 0}");
    fuzz_seed_fmt(s, "%.*s%.*s", 60, "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
                  60, "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]");
    fuzz_seed_str(s, "\"\\b\\f\\n\\r\\t\\\"\\\\ \xe2\x9c\x93\"");
}

/* An accepted tree: every string NUL-free (len is its strlen), every
 * member of an object named, nesting within the bound. */
static bool well_formed(const kt__json *j, int depth)
{
    if (depth > KT__JSON_MAX_DEPTH)
        return false;
    if (j->type == KT__JSON_STR && (!j->str || strlen(j->str) != j->len))
        return false;
    if (j->type == KT__JSON_NUM && (!j->str || !kt__json_number(j->str, strlen(j->str), NULL)))
        return false;
    if (j->type == KT__JSON_ARR || j->type == KT__JSON_OBJ) {
        if (j->len && !j->kids)
            return false;
        for (size_t i = 0; i < j->len; i++)
            if ((j->type == KT__JSON_OBJ && !j->kids[i].key) ||
                !well_formed(&j->kids[i], depth + 1))
                return false;
    }
    return true;
}

static int parse_json(const unsigned char *in, size_t n, kt_err *err)
{
    kt__json *j = kt__json_parse((const char *)in, n, err);

    if (!j)
        return -1;
    if (!well_formed(j, 1))
        fuzz_bad("an accepted document is not a well-formed tree");
    kt__json_free(j);
    return 0;
}

/* ---- the number grammar ------------------------------------------------ */

static void seed_number(fuzz_seeds *s)
{
    static const char *const n[] = { "0", "-0", "12.5", "1e+21", "1E-05", "18446744073709551615",
                                     "0.30000000000000004", "-123456789.000001e-10" };

    for (size_t i = 0; i < sizeof(n) / sizeof(n[0]); i++)
        fuzz_seed_str(s, n[i]);
}

/* RFC 8259's grammar, written out again: -?(0|[1-9]d*)(.d+)?([eE][+-]?d+)? */
static bool grammar(const unsigned char *p, size_t n)
{
    size_t i = 0, d;

    if (i < n && p[i] == '-')
        i++;
    if (i < n && p[i] == '0')
        i++;
    else if (i < n && p[i] >= '1' && p[i] <= '9')
        while (i < n && p[i] >= '0' && p[i] <= '9')
            i++;
    else
        return false;
    if (i < n && p[i] == '.') {
        for (d = ++i; i < n && p[i] >= '0' && p[i] <= '9'; i++)
            ;
        if (i == d)
            return false;
    }
    if (i < n && (p[i] == 'e' || p[i] == 'E')) {
        if (++i < n && (p[i] == '+' || p[i] == '-'))
            i++;
        for (d = i; i < n && p[i] >= '0' && p[i] <= '9'; i++)
            ;
        if (i == d)
            return false;
    }
    return i == n;
}

static int parse_number(const unsigned char *in, size_t n, kt_err *err)
{
    double x = 0;
    bool ok = kt__json_number((const char *)in, n, &x);

    (void)err;
    if (ok != grammar(in, n))
        fuzz_bad("kt__json_number says %s, the grammar %s", ok ? "yes" : "no",
                 ok ? "no" : "yes");
    if (ok && isnan(x))
        fuzz_bad("a number read as NaN");
    return ok ? 0 : -1;
}

/* ---- the baseline ------------------------------------------------------ */

static char dir[] = "/tmp/ktstr-fuzz-json-XXXXXX";
static char path[64];

static void seed_baseline(fuzz_seeds *s)
{
    seed_sidecar(s, KT_OUTCOME_FAIL);
    seed_sidecar(s, KT_OUTCOME_PASS);
    fuzz_seed_str(s, "{\"scenario\": \"fz\", \"claims\": [{\"label\": \"share_min\", "
                     "\"op\": \"at_least\", \"actual\": 1e308}, {\"label\": \"jain\", "
                     "\"op\": \"between\", \"actual\": -1e-308}]}");
    if (!mkdtemp(dir))
        return;
    snprintf(path, sizeof(path), "%s/fz.json", dir);
}

/* The input as DIR/fz.json, compared with a point's claims: 0 when the
 * baseline was usable (any regressions among its failures), -1 with the
 * failure's message when it was not. */
static int parse_baseline(const unsigned char *in, size_t n, kt_err *err)
{
    kt__evidence ev = { .baseline = dir, .rel_pct = 10 };
    kt_ctx ctx = { .name = "fz" };
    kt_claim_record pass = { "share_min", "at_least", "0.4", "0.45", "m", "", 0, true };
    kt_claim_record band = { "jain", "between", "[0.95, 1]", "0.99", "m", "", 0, true };
    struct kt__verdict_item *it;
    kt__result r;
    int fd, rc = 0;

    if (!path[0])
        return kt_err_set(err, EIO, "baseline: no scratch directory");
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || write(fd, in, n) != (ssize_t)n || close(fd) < 0)
        return kt_err_set(err, EIO, "baseline: cannot write %s", path);
    memset(&r, 0, sizeof(r));
    kt_verdict_init(&r.v);
    r.passes = (kt__vec)KT__VEC_INIT(struct kt__verdict_item *);
    if ((it = kt__verdict_item_new(&pass, NULL)) != NULL)
        kt__vec_push(&r.passes, &it, NULL, "fuzz");
    if ((it = kt__verdict_item_new(&band, NULL)) != NULL)
        kt__vec_push(&r.passes, &it, NULL, "fuzz");
    kt__baseline_check(&ev, ctx.name, &r);
    for (size_t i = 0; i < kt_verdict_failure_count(&r.v); i++) {
        const kt_claim_record *f = kt_verdict_failure(&r.v, i);

        if (strcmp(f->label, "baseline") == 0) {
            if (strncmp(f->message, "baseline: ", 10) != 0 || !strstr(f->message, path))
                fuzz_bad("an unusable baseline's failure does not name the file: %s",
                         f->message);
            kt_err_set(err, EINVAL, "%s", f->message);
            rc = -1;
        } else if (strncmp(f->label, "baseline.", 9) != 0) {
            fuzz_bad("an unexpected failure: %s", f->message);
        }
    }
    if (rc == 0 && r.claims > 2)
        fuzz_bad("%llu claims compared, of 2", (unsigned long long)r.claims);
    for (size_t i = 0; i < r.passes.n; i++)
        free(((struct kt__verdict_item **)r.passes.v)[i]);
    kt__vec_free(&r.passes);
    kt_verdict_fini(&r.v);
    return rc;
}

static const fuzz_target targets[] = {
    { "json", "line ", false, 16384, seed_json, parse_json },
    { "json_number", NULL, false, 64, seed_number, parse_number },
    { "baseline_sidecar", "baseline: ", false, 16384, seed_baseline, parse_baseline },
};

int main(void)
{
    int rc = fuzz_main(targets, FUZZ_COUNT(targets));

    if (path[0]) {
        unlink(path);
        rmdir(dir);
    }
    return rc;
}
