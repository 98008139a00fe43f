/* The runner's evidence from inside (lib/evidence/evidence.h): the baseline's
 * direction rules and gates, a series across a pipe into a result
 * with its bounds, the file stem of a scenario name, and the plot's
 * structure. The end-to-end checks are tests/evidence/artifacts.t and
 * tests/evidence/baseline.t. */
#include "harness/unit.h"

#include "evidence/evidence.h"
#include "evidence/json.h"
#include "runner/series_wire.h"
#include "ktstr/scenario.h"
#include "ktstr/series.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* kt__baseline_regressed(op, expected, a, b) with the default gates. */
static int regressed(const char *op, const char *expected, double a, double b, double *pct)
{
    return kt__baseline_regressed(op, expected, a, b, 10.0, 0.0, pct);
}

static void t_direction_rules(void)
{
    double pct = 0;

    /* at_least, gt: lower is worse */
    check_int(regressed("at_least", "0", 100, 85, &pct), ==, 1);
    check_dbl(pct, ==, 15);
    check_int(regressed("at_least", "0", 100, 95, &pct), ==, 0);
    check_int(regressed("at_least", "0", 100, 150, &pct), ==, 0);   /* better */
    check_int(regressed("gt", "0", 100, 80, &pct), ==, 1);
    check_int(regressed("gt", "0", 100, 91, &pct), ==, 0);
    /* at_most, lt: higher is worse */
    check_int(regressed("at_most", "150", 100, 120, &pct), ==, 1);
    check_dbl(pct, ==, 20);
    check_int(regressed("at_most", "150", 100, 105, &pct), ==, 0);
    check_int(regressed("at_most", "150", 100, 50, &pct), ==, 0);
    check_int(regressed("lt", "150", -10, -8, &pct), ==, 1);       /* % of |a| */
    check_dbl(pct, ==, 20);
    check_int(regressed("lt", "150", 100, 109, &pct), ==, 0);
    /* near: farther from t, on either side */
    check_int(regressed("near", "3 (+/-0.3)", 3.0, 3.5, &pct), ==, 1);
    check_int(regressed("near", "3 (+/-0.3)", 3.0, 2.5, &pct), ==, 1);
    check_int(regressed("near", "3 (+/-0.3)", 3.0, 3.2, &pct), ==, 0);
    check_int(regressed("near", "3 (+/-0.3)", 3.5, 3.0, &pct), ==, 0);   /* closer */
    /* between: farther from the middle */
    check_int(regressed("between", "[0, 10]", 5, 6, &pct), ==, 1);
    check_int(regressed("between", "[0, 10]", 5, 4, &pct), ==, 1);
    check_int(regressed("between", "[0, 10]", 5, 5.3, &pct), ==, 0);
    check_int(regressed("between", "[-1e+21, 1e+21]", 5, 5.3, &pct), ==, 0);
    /* eq: farther from x */
    check_int(regressed("eq", "4", 4, 5, &pct), ==, 1);
    check_dbl(pct, ==, 25);
    check_int(regressed("eq", "4", 4, 4.2, &pct), ==, 0);
    /* a baseline of 0: any worsening is infinitely many % */
    check_int(regressed("at_most", "0", 0, 1, &pct), ==, 1);
    check(isinf(pct));
    check_int(regressed("at_most", "0", 0, 0, &pct), ==, 0);
    /* no direction, no target, not a number: not compared */
    check_int(regressed("ne", "1", 1, 2, &pct), ==, -1);
    check_int(regressed("is_finite", "finite", 1, 2, &pct), ==, -1);
    check_int(regressed("each_at_least", "0.4", 1, 0, &pct), ==, -1);
    check_int(regressed("near", "garbage", 3, 9, &pct), ==, -1);
    check_int(regressed("between", "[0, x]", 3, 9, &pct), ==, -1);
    check_int(regressed("at_least", "0", NAN, 1, &pct), ==, -1);
    check_int(regressed("at_least", "0", 1, INFINITY, &pct), ==, -1);
}

static void t_gates(void)
{
    double pct = 0;

    /* both gates must be exceeded */
    check_int(kt__baseline_regressed("at_least", "0", 100, 85, 20.0, 0.0, &pct), ==, 0);
    check_int(kt__baseline_regressed("at_least", "0", 100, 85, 10.0, 20.0, &pct), ==, 0);
    check_int(kt__baseline_regressed("at_least", "0", 100, 85, 10.0, 14.9, &pct), ==, 1);
    check_int(kt__baseline_regressed("at_most", "0", 0, 1, 10.0, 1.0, &pct), ==, 0);
}

static void t_stem(void)
{
    char out[256], longname[400];

    kt__artifact_stem(out, "fair_equal_hogs");
    check_str(out, "fair_equal_hogs");
    kt__artifact_stem(out, "../a b/c.d-e");
    check_str(out, "_._a_b_c.d-e");
    kt__artifact_stem(out, "");
    check_str(out, "_");
    memset(longname, 'x', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    kt__artifact_stem(out, longname);
    check_uint(strlen(out), ==, 200);
}

/* Lines from a pipe into a result, as the runner's record.c does. */
static void feed(void *arg, char *line)
{
    kt__result *r = arg;
    kt__wire_msg m;

    if (kt__wire_split(line, &m) < 0 || !kt__series_line(r, &m))
        r->bad_lines++;
}

static void t_series_wire(void)
{
    kt_ctx ctx = { .name = "x" };
    kt_series *s = kt_series_new("ktw0.share");
    kt__result r;
    kt__wire_reader rd;
    int p[2];
    const kt__evseries *got;

    memset(&r, 0, sizeof(r));
    for (int i = 0; i < 500; i++)
        kt_series_add(s, 1000u + (uint64_t)i * 7u, i == 3 ? NAN : 0.1 * i);
    /* a kt_ctx the runner did not hand to a body has no wire */
    check_int(kt_ctx_series(&ctx, s, "u", 0.4, NAN), ==, -1);
    check_int(errno, ==, EBADF);
    if (!check_int(pipe(p), ==, 0) || !check_int(kt__wire_reader_init(&rd), ==, 0))
        return;
    check_int(kt__series_send(p[1], s, "share of a CPU", 0.4, NAN), ==, 0);
    close(p[1]);   /* about 20 KiB: the pipe held it all */
    while (kt__wire_read(&rd, p[0], feed, &r) == 0)
        ;
    close(p[0]);
    check_uint(r.bad_lines, ==, 0);
    check_uint(r.series.n, ==, 1);
    got = r.series.v;
    if (r.series.n == 1) {
        check_str(got->label, "ktw0.share");
        check_str(got->unit, "share of a CPU");
        check_dbl(got->lo, ==, 0.4);
        check(isnan(got->hi));
        check_uint(got->x.n, ==, 500);
        check_uint(((const uint64_t *)got->t.v)[499], ==, 1000u + 499u * 7u);
        check_dbl(((const double *)got->x.v)[7], ==, 0.1 * 7);   /* exact */
        check(isnan(((const double *)got->x.v)[3]));
    }
    kt__series_free_all(&r.series);
    kt__wire_reader_fini(&rd);
    kt_series_free(s);
}

/* The parent's bounds: a series too many, samples beyond the total, and
 * malformed lines refused. */
static void t_series_bounds(void)
{
    kt__result r;
    char line[256];
    kt__wire_msg m;

    memset(&r, 0, sizeof(r));
    for (int i = 0; i < KT__SERIES_MAX + 2; i++) {
        snprintf(line, sizeof(line), "SERIES\ts%d\tu\t7ff8000000000000\t7ff8000000000000\t2\t1", i);
        check(kt__wire_split(line, &m) == 0 && kt__series_line(&r, &m));
    }
    check_uint(r.series.n, ==, KT__SERIES_MAX);
    /* 1 dropped by each child-side count, 2 announced by each series too many */
    check_uint(r.series_dropped, ==, KT__SERIES_MAX + 2 + 2 * 2);
    snprintf(line, sizeof(line), "SAMPLES\ts0\t1:3ff0000000000000 2:4000000000000000 3:0");
    check(kt__wire_split(line, &m) == 0 && kt__series_line(&r, &m));
    check_uint(((const kt__evseries *)r.series.v)[0].x.n, ==, 2);   /* it announced 2 */
    check_uint(r.series_dropped, ==, KT__SERIES_MAX + 2 + 4 + 1);
    snprintf(line, sizeof(line), "SAMPLES\tnobody\t1:0");
    check(kt__wire_split(line, &m) == 0 && kt__series_line(&r, &m));   /* counted, kept nowhere */
    snprintf(line, sizeof(line), "SAMPLES\ts1\t1:zz");
    check(kt__wire_split(line, &m) == 0 && !kt__series_line(&r, &m));
    snprintf(line, sizeof(line), "SAMPLES\ts1\t-1:0");
    check(kt__wire_split(line, &m) == 0 && !kt__series_line(&r, &m));
    snprintf(line, sizeof(line), "SERIES\ts\tu\tnot-hex\t0\t1\t0");
    check(kt__wire_split(line, &m) == 0 && !kt__series_line(&r, &m));
    snprintf(line, sizeof(line), "NOTE\tx");
    check(kt__wire_split(line, &m) == 0 && !kt__series_line(&r, &m));
    kt__series_free_all(&r.series);
}

static kt__evseries make_series(const char *label, const char *unit, double lo, double hi,
                                int n)
{
    kt__evseries s = { strdup(label), strdup(unit), lo, hi, (uint64_t)n,
                       KT__VEC_INIT(uint64_t), KT__VEC_INIT(double) };

    for (int i = 0; i < n; i++) {
        uint64_t t = 5000000000u + (uint64_t)i * 100000000u;
        double x = i == 2 ? NAN : 0.5 + 0.01 * i;

        kt__vec_push(&s.t, &t, NULL, "test");
        kt__vec_push(&s.x, &x, NULL, "test");
    }
    return s;
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;

    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

static void t_plot(void)
{
    kt__evseries s[3] = { make_series("a<&>", "share", 0.4, NAN, 10),
                          make_series("b", "share", 0.4, 0.6, 10),
                          make_series("c", "ms", NAN, NAN, 0) };
    kt__vec out = KT__VEC_INIT(char);
    const char *svg;

    if (!check_int(kt__svg_plot(&out, "t\"itle", "pass", s, 3, 5000000000u), ==, 0))
        return;
    svg = out.v;
    check(strncmp(svg, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg ", 44) == 0);
    check_uint(count(svg, "<g class=\"panel\""), ==, 2);          /* share, ms */
    /* a NaN sample breaks a line in two: 2 + 2 polylines, none for c */
    check_uint(count(svg, "<polyline class=\"series\""), ==, 4);
    check_uint(count(svg, "data-series=\"a&lt;&amp;&gt;\""), ==, 2);
    check_uint(count(svg, "<line class=\"bound\""), ==, 2);       /* 0.4 once, 0.6 */
    check_contains(svg, "bound 0.4");
    check_contains(svg, "(no samples)");
    check_contains(svg, ">time (s)</text>");
    check_contains(svg, "<title>t&quot;itle</title>");
    check_contains(svg, "data-x0=\"0\" data-x1=\"1\"");
    check_contains(svg, "</svg>\n");
    kt__vec_free(&out);
    for (int i = 0; i < 3; i++) {
        free(s[i].label);
        free(s[i].unit);
        kt__vec_free(&s[i].t);
        kt__vec_free(&s[i].x);
    }
}

int main(void)
{
    TEST(t_direction_rules(), "baseline: lower, higher or farther from the target is worse");
    TEST(t_gates(), "baseline: a regression exceeds both the relative and the absolute gate");
    TEST(t_stem(), "a scenario's file stem: safe bytes only, bounded");
    TEST(t_series_wire(), "a series across a pipe: every sample exact, NaN kept");
    TEST(t_series_bounds(), "the parent keeps 64 series, what they announced, and refuses bad lines");
    TEST(t_plot(), "the plot: a panel per unit, lines broken at NaN, bounds once, escaped text");
    return test_done();
}
