/*
 * report: renders an artifacts directory (--artifacts DIR) as one HTML
 * page, for `make report`:
 *
 *   build/tools/report DIR build/report/index.html
 *
 * A summary table (point, outcome, duration, claims), failing points
 * first, then a section per point with its failed claims, notes and plot
 * (DIR/<point>.svg inlined, so the page stands alone) and all its claims
 * folded away. Every sidecar is read with the library's bounded JSON
 * reader; one that cannot be read is listed as "unreadable" with the
 * reason instead of stopping the report. Exit status 0, 1 when DIR holds
 * no sidecar or the page cannot be written, 2 on a usage error.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/escape.h"
#include "base/file.h"
#include "base/vec.h"
#include "evidence/json.h"

#define MAX_SIDECAR (64u << 20)
#define MAX_SVG (16u << 20)

typedef struct point {
    char *stem;               /* the file name without .json */
    kt__json *doc;            /* NULL when unreadable */
    char error[4096 + KT_ERR_MSG_MAX];  /* why doc is NULL */
    const char *name, *outcome;
    long long duration_ms;
    size_t claims, failed;
} point;

static kt__vec html = KT__VEC_INIT(char);
static int out_of_memory;

static void put(const char *s)
{
    if (kt__vec_append(&html, s, strlen(s), NULL, "report") < 0)
        out_of_memory = 1;
}

static void putf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void putf(const char *fmt, ...)
{
    char buf[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    put(buf);
}

/* s as HTML text or attribute value. */
static void put_text(const char *s)
{
    size_t need = kt__escape(NULL, 0, s ? s : "", &kt__escape_xml);

    if (kt__vec_reserve(&html, need + 1, NULL, "report") < 0) {
        out_of_memory = 1;
        return;
    }
    kt__escape((char *)html.v + html.n, need + 1, s ? s : "", &kt__escape_xml);
    html.n += need;
}

/* ---- reading ---------------------------------------------------------- */

/* The CSS class of an outcome: only names the report knows. */
static const char *outcome_class(const point *p)
{
    static const char *const known[] = { "pass", "fail", "skip", "crash", "timeout",
                                         "panic", "scheduler", "error" };

    for (size_t i = 0; p->doc && i < sizeof(known) / sizeof(known[0]); i++)
        if (strcmp(p->outcome, known[i]) == 0)
            return known[i];
    return "unreadable";
}

static bool is_bad(const char *outcome)
{
    return strcmp(outcome, "pass") != 0 && strcmp(outcome, "skip") != 0;
}

/* Failing points first, then passes, then skips; by name within each. */
static int rank(const point *p)
{
    return is_bad(p->outcome) ? 0 : strcmp(p->outcome, "pass") == 0 ? 1 : 2;
}

static int by_rank(const void *a, const void *b)
{
    const point *x = a, *y = b;

    if (rank(x) != rank(y))
        return rank(x) - rank(y);
    return strcmp(x->stem, y->stem);
}

static void read_point(const char *dir, point *p)
{
    kt__vec text = KT__VEC_INIT(char);
    kt_err err = { 0, "" };
    char path[4096];
    const kt__json *claims, *dur;

    p->name = p->stem;
    p->outcome = "unreadable";
    p->duration_ms = -1;
    snprintf(path, sizeof(path), "%s/%s.json", dir, p->stem);
    if (kt__read_file(path, MAX_SIDECAR, &text, &err) < 0) {
        snprintf(p->error, sizeof(p->error), "%s", err.msg);
        return;
    }
    p->doc = kt__json_parse(text.v, text.n, &err);
    kt__vec_free(&text);
    if (!p->doc || p->doc->type != KT__JSON_OBJ || !kt__json_get_str(p->doc, "outcome")) {
        snprintf(p->error, sizeof(p->error), "%s: %s", path,
                 p->doc ? "not a sidecar (no \"outcome\")" : err.msg);
        return;
    }
    if (kt__json_get_str(p->doc, "scenario"))
        p->name = kt__json_get_str(p->doc, "scenario");
    p->outcome = kt__json_get_str(p->doc, "outcome");
    dur = kt__json_get(p->doc, "duration_ms");
    p->duration_ms = dur && dur->type == KT__JSON_NUM ? (long long)dur->num : -1;
    claims = kt__json_get(p->doc, "claims");
    for (size_t i = 0; claims && claims->type == KT__JSON_ARR && i < claims->len; i++) {
        const kt__json *passed = kt__json_get(&claims->kids[i], "passed");

        p->claims++;
        p->failed += passed && passed->type == KT__JSON_FALSE;
    }
}

/* The stems of DIR's *.json files; -1 when DIR cannot be read. */
static int list_points(const char *dir, kt__vec *points)
{
    DIR *d = opendir(dir);
    struct dirent *e;

    if (!d)
        return -1;
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        point p;

        if (n <= 5 || strcmp(e->d_name + n - 5, ".json") != 0 || e->d_name[0] == '.')
            continue;
        memset(&p, 0, sizeof(p));
        p.stem = strndup(e->d_name, n - 5);
        if (!p.stem || kt__vec_push(points, &p, NULL, "report") < 0) {
            free(p.stem);
            out_of_memory = 1;
        }
    }
    closedir(d);
    return 0;
}

/* ---- writing ---------------------------------------------------------- */

static const char style[] =
    "body{font-family:sans-serif;margin:2em;color:#222;max-width:1100px}"
    "table{border-collapse:collapse;margin:0.5em 0}"
    "th,td{border:1px solid #ccc;padding:3px 8px;text-align:left;vertical-align:top}"
    "th{background:#f0f0f0}"
    "td.num{text-align:right}"
    ".o-pass{color:#176117}.o-skip{color:#777}"
    ".o-fail,.o-crash,.o-timeout,.o-panic,.o-scheduler,.o-error,.o-unreadable"
    "{color:#b00;font-weight:bold}"
    "tr.bad{background:#fff0f0}"
    "section{border-top:2px solid #ddd;margin-top:1.5em}"
    "code{font-size:90%}"
    "figure{margin:0.5em 0;overflow-x:auto}"
    "figure svg{max-width:100%;height:auto}";

static void put_claim_row(const kt__json *c)
{
    const kt__json *actual = kt__json_get(c, "actual"), *passed = kt__json_get(c, "passed");
    bool failed = passed && passed->type == KT__JSON_FALSE;

    put(failed ? "<tr class=\"bad\"><td>" : "<tr><td>");
    put_text(kt__json_get_str(c, "label"));
    put("</td><td>");
    put_text(kt__json_get_str(c, "op"));
    put("</td><td>");
    put_text(kt__json_get_str(c, "expected"));
    put("</td><td>");
    put_text(actual && actual->str ? actual->str : "");
    put("</td><td>");
    put(failed ? "failed" : "passed");
    put("</td><td><code>");
    put_text(kt__json_get_str(c, "at"));
    put("</code></td></tr>\n");
}

/* The claims of p, only the failed ones when failed_only. */
static void put_claims(const point *p, bool failed_only)
{
    const kt__json *claims = kt__json_get(p->doc, "claims");

    put("<table class=\"claims\"><thead><tr><th>claim</th><th>op</th><th>expected</th>"
        "<th>actual</th><th>result</th><th>at</th></tr></thead><tbody>\n");
    for (size_t i = 0; claims && claims->type == KT__JSON_ARR && i < claims->len; i++) {
        const kt__json *passed = kt__json_get(&claims->kids[i], "passed");

        if (!failed_only || (passed && passed->type == KT__JSON_FALSE))
            put_claim_row(&claims->kids[i]);
    }
    put("</tbody></table>\n");
}

static void put_notes(const point *p)
{
    const kt__json *notes = kt__json_get(p->doc, "notes");

    if (!notes || notes->type != KT__JSON_ARR || notes->len == 0)
        return;
    put("<h3>Notes</h3>\n<ul class=\"notes\">\n");
    for (size_t i = 0; i < notes->len; i++) {
        put("<li>");
        put_text(notes->kids[i].type == KT__JSON_STR ? notes->kids[i].str : "?");
        put("</li>\n");
    }
    put("</ul>\n");
}

/* DIR/<stem>.svg inlined (without its XML declaration), when there. */
static void put_plot(const char *dir, const point *p)
{
    kt__vec svg = KT__VEC_INIT(char);
    char path[4096];
    const char *s;

    snprintf(path, sizeof(path), "%s/%s.svg", dir, p->stem);
    if (kt__read_file(path, MAX_SVG, &svg, NULL) < 0 || !svg.v)
        return;
    s = svg.v;
    if (strncmp(s, "<?xml", 5) == 0 && strstr(s, "?>"))
        s = strstr(s, "?>") + 2;
    if (strstr(s, "<svg")) {
        put("<h3>Series</h3>\n<figure class=\"plot\">\n");
        put(s);
        put("</figure>\n");
    }
    kt__vec_free(&svg);
}

static void put_point(const char *dir, const point *p)
{
    put("<section class=\"point\" id=\"p-");
    put_text(p->stem);
    put("\">\n<h2>");
    put_text(p->name);
    putf(" <span class=\"o-%s\">", outcome_class(p));
    put_text(p->outcome);
    put("</span></h2>\n");
    if (!p->doc) {
        put("<p class=\"error\">");
        put_text(p->error);
        put("</p>\n</section>\n");
        return;
    }
    if (p->failed) {
        put("<h3>Failed claims</h3>\n");
        put_claims(p, true);
    }
    put_notes(p);
    put_plot(dir, p);
    if (p->claims) {
        putf("<details><summary>All claims (%zu)</summary>\n", p->claims);
        put_claims(p, false);
        put("</details>\n");
    }
    put("</section>\n");
}

static void put_page(const char *dir, const point *pts, size_t n)
{
    size_t bad = 0, pass = 0, skip = 0;
    const kt__json *host = NULL;

    for (size_t i = 0; i < n; i++) {
        bad += rank(&pts[i]) == 0;
        pass += rank(&pts[i]) == 1;
        skip += rank(&pts[i]) == 2;
        if (!host && pts[i].doc)
            host = kt__json_get(pts[i].doc, "host");
    }
    put("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<title>ktstr report</title>\n<style>");
    put(style);
    put("</style>\n</head>\n<body>\n<h1>ktstr report</h1>\n<p class=\"summary\">");
    putf("%zu points: %zu not ok, %zu passed, %zu skipped. Artifacts from <code>", n, bad,
         pass, skip);
    put_text(dir);
    put("</code>");
    if (host) {
        const kt__json *cpus = kt__json_get(host, "cpus");

        put("; host kernel ");
        put_text(kt__json_get_str(host, "kernel"));
        if (cpus && cpus->type == KT__JSON_NUM)
            putf(", %s CPUs", cpus->str);
        if (kt__json_get_str(host, "cpu_model") && *kt__json_get_str(host, "cpu_model")) {
            put(" (");
            put_text(kt__json_get_str(host, "cpu_model"));
            put(")");
        }
    }
    put(".</p>\n<table id=\"summary\"><thead><tr><th>point</th><th>outcome</th>"
        "<th>duration</th><th>claims</th></tr></thead><tbody>\n");
    for (size_t i = 0; i < n; i++) {
        const point *p = &pts[i];

        put(rank(p) == 0 ? "<tr class=\"bad\"><td><a href=\"#p-" : "<tr><td><a href=\"#p-");
        put_text(p->stem);
        put("\">");
        put_text(p->name);
        putf("</a></td><td class=\"o-%s\">", outcome_class(p));
        put_text(p->outcome);
        put("</td><td class=\"num\">");
        if (p->duration_ms >= 0)
            putf("%lld ms", p->duration_ms);
        putf("</td><td class=\"num\">%zu of %zu failed</td></tr>\n", p->failed, p->claims);
    }
    put("</tbody></table>\n");
    for (size_t i = 0; i < n; i++)
        put_point(dir, &pts[i]);
    put("</body>\n</html>\n");
}

static int write_page(const char *path)
{
    char tmp[4200];
    FILE *f;

    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    f = fopen(tmp, "w");
    if (!f) {
        fprintf(stderr, "report: %s: %s\n", tmp, strerror(errno));
        return -1;
    }
    if (fwrite(html.v, 1, html.n, f) != html.n || fclose(f) != 0) {
        fprintf(stderr, "report: %s: write: %s\n", tmp, strerror(errno));
        unlink(tmp);
        return -1;
    }
    if (rename(tmp, path) < 0) {
        fprintf(stderr, "report: rename %s to %s: %s\n", tmp, path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    kt__vec points = KT__VEC_INIT(point);
    point *pts;
    int rc = 0;

    if (argc != 3) {
        fprintf(stderr, "usage: %s ARTIFACTS_DIR OUT.html\n", argc > 0 ? argv[0] : "report");
        return 2;
    }
    if (list_points(argv[1], &points) < 0) {
        fprintf(stderr, "report: %s: %s (write artifacts with make run, or "
                "KTSTR_ARTIFACTS=DIR / --artifacts DIR)\n", argv[1], strerror(errno));
        return 1;
    }
    if (points.n == 0) {
        fprintf(stderr, "report: %s: no sidecar (*.json) in it\n", argv[1]);
        return 1;
    }
    pts = points.v;
    for (size_t i = 0; i < points.n; i++)
        read_point(argv[1], &pts[i]);
    qsort(pts, points.n, sizeof(*pts), by_rank);
    put_page(argv[1], pts, points.n);
    if (out_of_memory) {
        fprintf(stderr, "report: out of memory\n");
        rc = 1;
    } else if (write_page(argv[2]) < 0) {
        rc = 1;
    }
    for (size_t i = 0; i < points.n; i++) {
        kt__json_free(pts[i].doc);
        free(pts[i].stem);
    }
    kt__vec_free(&points);
    kt__vec_free(&html);
    return rc;
}
