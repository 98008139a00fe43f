/*
 * ktstr report DIR... [-o FILE] [--gate]: one HTML page from one or more
 * artifacts directories (--artifacts DIR): the shards of a CI run merge
 * into one page, each point once. `make report` runs it too.
 *
 * A summary table (point, outcome, duration, claims), failing points
 * first, then a section per point with its failed claims, notes and plot
 * (DIR/<point>.svg inlined, so the page stands alone) and all its claims
 * folded away. Every sidecar is read with the library's bounded JSON
 * reader; one that cannot be read is listed as "unreadable" with the
 * reason instead of stopping the report. Exit status 0; 1 when no
 * directory holds a sidecar or the page cannot be written, and with
 * --gate when a point is not ok; 2 on bad input: an unknown option, a
 * directory that cannot be read, a point in two directories.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/escape.h"
#include "base/file.h"
#include "base/vec.h"
#include "cmd/cmd.h"
#include "evidence/json.h"

#define MAX_SIDECAR (64u << 20)
#define MAX_SVG (16u << 20)

typedef struct point {
    const char *dir;          /* the artifacts directory it came from */
    char *stem;               /* the file name without .json */
    kt__json *doc;            /* NULL when unreadable */
    char error[4096 + KT_ERR_MSG_MAX];  /* why doc is NULL */
    const char *name, *outcome;
    long long duration_ms;
    size_t claims, failed;
} point;

/* The page as it is built. */
typedef struct page {
    kt__vec html;             /* char */
    bool oom;                 /* something did not fit in memory */
} page;


static void put(page *pg, const char *s)
{
    if (kt__vec_append(&pg->html, s, strlen(s), NULL, "report") < 0)
        pg->oom = true;
}

static void putf(page *pg, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(page *pg, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    if (kt__vec_vappendf(&pg->html, NULL, "report", fmt, ap) < 0)
        pg->oom = true;
    va_end(ap);
}

/* s as HTML text or attribute value. */
static void put_text(page *pg, const char *s)
{
    if (kt__escape_append(&pg->html, s, &kt__escape_xml, NULL, "report") < 0)
        pg->oom = true;
}

/* ---- reading ---------------------------------------------------------- */

/* The CSS class of an outcome: only names the report knows. */
static const char *outcome_class(const point *p)
{
    static const char *const known[] = { "pass", "fail", "skip", "crash", "timeout",
                                         "panic", "scheduler", "error", "inconclusive" };

    for (size_t i = 0; p->doc && i < sizeof(known) / sizeof(known[0]); i++)
        if (strcmp(p->outcome, known[i]) == 0)
            return known[i];
    return "unreadable";
}

/* An inconclusive point is a skip that says why (README: On a busy
 * machine): the run itself failed it when KTSTR_STRICT=1 asked. */
static bool is_bad(const char *outcome)
{
    return strcmp(outcome, "pass") != 0 && strcmp(outcome, "skip") != 0 &&
           strcmp(outcome, "inconclusive") != 0;
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

static void read_point(point *p)
{
    kt__vec text = KT__VEC_INIT(char);
    kt_err err = { 0, "" };
    char path[4096];
    const kt__json *claims, *dur;

    p->name = p->stem;
    p->outcome = "unreadable";
    p->duration_ms = -1;
    snprintf(path, sizeof(path), "%s/%s.json", p->dir, p->stem);
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
static int list_points(const char *dir, kt__vec *points, bool *oom)
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
        p.dir = dir;
        if (!p.stem || kt__vec_push(points, &p, NULL, "report") < 0) {
            free(p.stem);
            *oom = true;
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
    ".o-pass{color:#176117}.o-skip{color:#777}.o-inconclusive{color:#8a5a00}"
    ".o-fail,.o-crash,.o-timeout,.o-panic,.o-scheduler,.o-error,.o-unreadable"
    "{color:#b00;font-weight:bold}"
    "tr.bad{background:#fff0f0}"
    "section{border-top:2px solid #ddd;margin-top:1.5em}"
    "code{font-size:90%}"
    "figure{margin:0.5em 0;overflow-x:auto}"
    "figure svg{max-width:100%;height:auto}";

static void put_claim_row(page *pg, const kt__json *c)
{
    const kt__json *actual = kt__json_get(c, "actual"), *passed = kt__json_get(c, "passed");
    bool failed = passed && passed->type == KT__JSON_FALSE;

    put(pg, failed ? "<tr class=\"bad\"><td>" : "<tr><td>");
    put_text(pg, kt__json_get_str(c, "label"));
    put(pg, "</td><td>");
    put_text(pg, kt__json_get_str(c, "op"));
    put(pg, "</td><td>");
    put_text(pg, kt__json_get_str(c, "expected"));
    put(pg, "</td><td>");
    put_text(pg, actual && actual->str ? actual->str : "");
    put(pg, "</td><td>");
    put(pg, failed ? "failed" : "passed");
    put(pg, "</td><td><code>");
    put_text(pg, kt__json_get_str(c, "at"));
    put(pg, "</code></td></tr>\n");
}

/* The claims of p, only the failed ones when failed_only. */
static void put_claims(page *pg, const point *p, bool failed_only)
{
    const kt__json *claims = kt__json_get(p->doc, "claims");

    put(pg, "<table class=\"claims\"><thead><tr><th>claim</th><th>op</th><th>expected</th>"
        "<th>actual</th><th>result</th><th>at</th></tr></thead><tbody>\n");
    for (size_t i = 0; claims && claims->type == KT__JSON_ARR && i < claims->len; i++) {
        const kt__json *passed = kt__json_get(&claims->kids[i], "passed");

        if (!failed_only || (passed && passed->type == KT__JSON_FALSE))
            put_claim_row(pg, &claims->kids[i]);
    }
    put(pg, "</tbody></table>\n");
}

static void put_notes(page *pg, const point *p)
{
    const kt__json *notes = kt__json_get(p->doc, "notes");

    if (!notes || notes->type != KT__JSON_ARR || notes->len == 0)
        return;
    put(pg, "<h3>Notes</h3>\n<ul class=\"notes\">\n");
    for (size_t i = 0; i < notes->len; i++) {
        put(pg, "<li>");
        put_text(pg, notes->kids[i].type == KT__JSON_STR ? notes->kids[i].str : "?");
        put(pg, "</li>\n");
    }
    put(pg, "</ul>\n");
}

/* DIR/<stem>.svg inlined (without its XML declaration), when there. */
static void put_plot(page *pg, const point *p)
{
    kt__vec svg = KT__VEC_INIT(char);
    char path[4096];
    const char *s;

    snprintf(path, sizeof(path), "%s/%s.svg", p->dir, p->stem);
    if (kt__read_file(path, MAX_SVG, &svg, NULL) < 0 || !svg.v)
        return;
    s = svg.v;
    if (strncmp(s, "<?xml", 5) == 0 && strstr(s, "?>"))
        s = strstr(s, "?>") + 2;
    if (strstr(s, "<svg")) {
        put(pg, "<h3>Series</h3>\n<figure class=\"plot\">\n");
        put(pg, s);
        put(pg, "</figure>\n");
    }
    kt__vec_free(&svg);
}

static void put_point(page *pg, const point *p)
{
    put(pg, "<section class=\"point\" id=\"p-");
    put_text(pg, p->stem);
    put(pg, "\">\n<h2>");
    put_text(pg, p->name);
    putf(pg, " <span class=\"o-%s\">", outcome_class(p));
    put_text(pg, p->outcome);
    put(pg, "</span></h2>\n");
    if (!p->doc) {
        put(pg, "<p class=\"error\">");
        put_text(pg, p->error);
        put(pg, "</p>\n</section>\n");
        return;
    }
    if (p->failed) {
        put(pg, "<h3>Failed claims</h3>\n");
        put_claims(pg, p, true);
    }
    put_notes(pg, p);
    put_plot(pg, p);
    if (p->claims) {
        putf(pg, "<details><summary>All claims (%zu)</summary>\n", p->claims);
        put_claims(pg, p, false);
        put(pg, "</details>\n");
    }
    put(pg, "</section>\n");
}

static void put_page(page *pg, const char *dirs, const point *pts, size_t n)
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
    put(pg, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<title>ktstr report</title>\n<style>");
    put(pg, style);
    put(pg, "</style>\n</head>\n<body>\n<h1>ktstr report</h1>\n<p class=\"summary\">");
    putf(pg, "%zu points: %zu not ok, %zu passed, %zu skipped. Artifacts from <code>", n, bad,
         pass, skip);
    put_text(pg, dirs);
    put(pg, "</code>");
    if (host) {
        const kt__json *cpus = kt__json_get(host, "cpus");

        put(pg, "; host kernel ");
        put_text(pg, kt__json_get_str(host, "kernel"));
        if (cpus && cpus->type == KT__JSON_NUM)
            putf(pg, ", %s CPUs", cpus->str);
        if (kt__json_get_str(host, "cpu_model") && *kt__json_get_str(host, "cpu_model")) {
            put(pg, " (");
            put_text(pg, kt__json_get_str(host, "cpu_model"));
            put(pg, ")");
        }
    }
    put(pg, ".</p>\n<table id=\"summary\"><thead><tr><th>point</th><th>outcome</th>"
        "<th>duration</th><th>claims</th></tr></thead><tbody>\n");
    for (size_t i = 0; i < n; i++) {
        const point *p = &pts[i];

        put(pg, rank(p) == 0 ? "<tr class=\"bad\"><td><a href=\"#p-" : "<tr><td><a href=\"#p-");
        put_text(pg, p->stem);
        put(pg, "\">");
        put_text(pg, p->name);
        putf(pg, "</a></td><td class=\"o-%s\">", outcome_class(p));
        put_text(pg, p->outcome);
        put(pg, "</td><td class=\"num\">");
        if (p->duration_ms >= 0)
            putf(pg, "%lld ms", p->duration_ms);
        putf(pg, "</td><td class=\"num\">%zu of %zu failed</td></tr>\n", p->failed, p->claims);
    }
    put(pg, "</tbody></table>\n");
    for (size_t i = 0; i < n; i++)
        put_point(pg, &pts[i]);
    put(pg, "</body>\n</html>\n");
}

static int write_page(const page *pg, const char *path)
{
    char tmp[4200];
    FILE *f;

    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    f = fopen(tmp, "w");
    if (!f) {
        fprintf(stderr, "ktstr report: %s: %s\n", tmp, strerror(errno));
        return -1;
    }
    if (fwrite(pg->html.v, 1, pg->html.n, f) != pg->html.n || fclose(f) != 0) {
        fprintf(stderr, "ktstr report: %s: write: %s\n", tmp, strerror(errno));
        unlink(tmp);
        return -1;
    }
    if (rename(tmp, path) < 0) {
        fprintf(stderr, "ktstr report: rename %s to %s: %s\n", tmp, path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

static void usage(FILE *fp)
{
    fprintf(fp, "usage: ktstr report DIR... [-o FILE] [--gate]\n"
                "One HTML page (default ktstr-report.html) from the artifacts of one or\n"
                "more runs (ktstr run --artifacts DIR): the shards of one CI run merge,\n"
                "each point once; a point in two directories is an error.\n"
                "  -o FILE   where the page goes\n"
                "  --gate    exit 1 when a point is not ok (a CI job's gate)\n");
}

static int by_stem(const void *a, const void *b)
{
    const point *x = a, *y = b;

    return strcmp(x->stem, y->stem);
}

int kt__cmd_report(int argc, char **argv)
{
    kt__vec points = KT__VEC_INIT(point), dirs = KT__VEC_INIT(char);
    page pg = { KT__VEC_INIT(char), false };
    const char *out = "ktstr-report.html";
    bool gate = false, oom = false;
    size_t ndirs = 0, bad = 0;
    point *pts;
    int rc = 0;

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        }
        if (!strcmp(argv[i], "--gate")) {
            gate = true;
        } else if (!strcmp(argv[i], "-o")) {
            if (++i >= argc) {
                fprintf(stderr, "ktstr report: -o needs a file\n");
                return KT__CMD_USAGE;
            }
            out = argv[i];
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "ktstr report: unknown option '%s' (ktstr report --help)\n",
                    argv[i]);
            return KT__CMD_USAGE;
        } else {
            if (list_points(argv[i], &points, &oom) < 0) {
                fprintf(stderr, "ktstr report: %s: %s (write artifacts with ktstr run "
                        "--artifacts DIR, or make run)\n", argv[i], strerror(errno));
                rc = KT__CMD_USAGE;
                goto out;
            }
            if (ndirs++ > 0)
                kt__vec_append(&dirs, ", ", 2, NULL, "report");
            kt__vec_append(&dirs, argv[i], strlen(argv[i]), NULL, "report");
        }
    }
    if (ndirs == 0) {
        usage(stderr);
        return KT__CMD_USAGE;
    }
    if (points.n == 0) {
        fprintf(stderr, "ktstr report: %s: no sidecar (*.json) in it\n", (char *)dirs.v);
        rc = 1;
        goto out;
    }
    pts = points.v;
    qsort(pts, points.n, sizeof(*pts), by_stem);
    for (size_t i = 1; i < points.n; i++) {
        if (strcmp(pts[i - 1].stem, pts[i].stem) != 0)
            continue;
        fprintf(stderr, "ktstr report: point '%s' is in both %s and %s (two shards ran "
                "it)\n", pts[i].stem, pts[i - 1].dir, pts[i].dir);
        rc = KT__CMD_USAGE;
        goto out;
    }
    for (size_t i = 0; i < points.n; i++) {
        read_point(&pts[i]);
        bad += rank(&pts[i]) == 0;
    }
    qsort(pts, points.n, sizeof(*pts), by_rank);
    put_page(&pg, dirs.v, pts, points.n);
    if (oom || pg.oom) {
        fprintf(stderr, "ktstr report: out of memory\n");
        rc = 1;
    } else if (write_page(&pg, out) < 0) {
        rc = 1;
    } else if (gate && bad) {
        fprintf(stderr, "ktstr report: %zu of %zu points not ok (--gate)\n", bad, points.n);
        rc = 1;
    }
out:
    pts = points.v;
    for (size_t i = 0; i < points.n; i++) {
        kt__json_free(pts[i].doc);
        free(pts[i].stem);
    }
    kt__vec_free(&points);
    kt__vec_free(&dirs);
    kt__vec_free(&pg.html);
    return rc;
}
