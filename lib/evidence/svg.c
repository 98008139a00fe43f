/* The plot of a point's series (kt__svg_plot, evidence.h): plain SVG 1.1
 * that a browser shows as is, one panel per unit stacked under a title,
 * all panels on the same time axis.
 *
 * Each panel is a <g class="panel"> whose data-* attributes give the
 * mapping from data to pixels (data-x0/x1 seconds and data-y0/y1 in the
 * unit across data-left/top/width/height), so a test can check every
 * polyline point against the CSV. A series is drawn as <polyline
 * class="series" data-series="label"> elements over its runs of finite
 * samples, in order: a NaN or infinite sample breaks the line and is
 * not drawn. */
#include "evidence/evidence.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/escape.h"
#include "ktstr/verdict.h"

#define WIDTH 960
#define LEFT 84                  /* room for the y tick labels and title */
#define RIGHT 24
#define PLOT_W (WIDTH - LEFT - RIGHT)
#define PLOT_H 240
#define TITLE_H 56
#define AXIS_H 42                /* x tick labels and the x axis title */
#define LEGEND_ROW 18
#define PANEL_GAP 20
#define CHAR_W 7                 /* a 12 px sans-serif character, about */
#define MARKERS_MAX 60           /* series this short get a dot per sample */
#define BOUND_COLOR "#d62728"

static const char *const palette[] = {
    "#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b",
    "#e377c2", "#7f7f7f", "#bcbd22", "#17becf", "#393b79",
};
#define NCOLORS (sizeof(palette) / sizeof(palette[0]))

/* The look of the k-th series of a panel: ten colours, then the same
 * ten dotted, so a series looks the same in its line and its legend. */
static const char *color_of(size_t k)
{
    return palette[k % NCOLORS];
}

static const char *dash_of(size_t k)
{
    return (k / NCOLORS) % 2 ? " stroke-dasharray=\"2 2\"" : "";
}

typedef struct out {
    kt__vec *v;
    int err;
} out;

static void put(out *o, const char *s)
{
    if (!o->err && kt__vec_append(o->v, s, strlen(s), NULL, "SVG") < 0)
        o->err = -1;
}

static void putf(out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(out *o, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    if (!o->err)
        o->err = kt__vec_vappendf(o->v, NULL, "SVG", fmt, ap);
    va_end(ap);
}

static void put_text(out *o, const char *s)
{
    if (!o->err)
        o->err = kt__escape_append(o->v, s, &kt__escape_xml, NULL, "SVG");
}

/* A pixel coordinate with two decimals, without printf (fast for long
 * polylines, and no locale). Coordinates are small: no overflow. */
static char *fix2(char *p, double v)
{
    long long k = llround(v * 100.0);
    char digits[24];
    int n = 0;

    if (k < 0) {
        *p++ = '-';
        k = -k;
    }
    do {
        digits[n++] = (char)('0' + k % 10);
        k /= 10;
    } while (k > 0 || n < 3);
    while (n > 2)
        *p++ = digits[--n];
    *p++ = '.';
    *p++ = digits[1];
    *p++ = digits[0];
    *p = '\0';
    return p;
}

static void put_fix(out *o, double v)
{
    char buf[32];

    fix2(buf, v);
    put(o, buf);
}

static void put_num(out *o, double v)
{
    char buf[KT_NUM_STR_MAX];

    put(o, kt_format_double(buf, v));
}

/* ---- axes ------------------------------------------------------------- */

/* A tick step of m x 10^e, m in {1, 2, 5}, about span / target. */
typedef struct step {
    int m, e;
} step;

static double pow10i(int e)
{
    double p = 1.0;

    for (int i = 0; i < (e < 0 ? -e : e) && i < 320; i++)
        p *= 10.0;
    return e < 0 ? 1.0 / p : p;
}

static step nice_step(double span, int target)
{
    double raw = span / target, f;
    step s;

    if (!(raw > 0) || !isfinite(raw))
        raw = 1.0;
    s.e = (int)floor(log10(raw));
    f = raw / pow10i(s.e);
    s.m = f <= 1.0 ? 1 : f <= 2.0 ? 2 : f <= 5.0 ? 5 : 10;
    if (s.m == 10)
        s.m = 1, s.e++;
    return s;
}

/* The k-th tick: k x m x 10^e, divided rather than multiplied for e < 0
 * so that 0.3 is the double nearest 0.3 and prints as "0.3". */
static double tick(step s, long long k)
{
    double km = (double)k * s.m;

    return s.e >= 0 ? km * pow10i(s.e) : km / pow10i(-s.e);
}

static double step_value(step s)
{
    return tick(s, 1);
}

/* ---- layout ----------------------------------------------------------- */

typedef struct panel {
    const char *unit;
    double y0, y1;
    step ystep;
    int top, legend_rows;
    double bounds[2 * KT__SERIES_MAX];
    int nbounds;
} panel;

static bool same_unit(const kt__evseries *s, const char *unit)
{
    return strcmp(s->unit ? s->unit : "", unit) == 0;
}

static int legend_width(const char *label)
{
    size_t n = strlen(label);

    return 28 + CHAR_W * (int)(n > 60 ? 60 : n) + 18;
}

/* Rows the legend of panel p takes (its series, then "bound"). */
static int legend_rows(const panel *p, const kt__evseries *s, size_t n)
{
    int rows = 1, x = 0;

    for (size_t i = 0; i <= n; i++) {
        int w;

        if (i < n && !same_unit(&s[i], p->unit))
            continue;
        if (i == n && p->nbounds == 0)
            break;
        w = legend_width(i < n ? s[i].label : "bound");
        if (x > 0 && x + w > PLOT_W)
            rows++, x = 0;
        x += w;
    }
    return rows;
}

static void add_bound(panel *p, double b)
{
    if (!isfinite(b))
        return;
    for (int i = 0; i < p->nbounds; i++)
        if (p->bounds[i] == b)
            return;
    if (p->nbounds < (int)(sizeof(p->bounds) / sizeof(p->bounds[0])))
        p->bounds[p->nbounds++] = b;
}

/* The y range of a panel: every finite value and bound, from 0 when all
 * are on one side of it, a little room above, snapped to ticks. */
static void y_range(panel *p, const kt__evseries *s, size_t n)
{
    double lo = INFINITY, hi = -INFINITY, span;
    long long k0, k1;

    for (size_t i = 0; i < n; i++) {
        const double *x = s[i].x.v;

        if (!same_unit(&s[i], p->unit))
            continue;
        add_bound(p, s[i].lo);
        add_bound(p, s[i].hi);
        for (size_t k = 0; k < s[i].x.n; k++)
            if (isfinite(x[k]))
                lo = fmin(lo, x[k]), hi = fmax(hi, x[k]);
    }
    for (int i = 0; i < p->nbounds; i++)
        lo = fmin(lo, p->bounds[i]), hi = fmax(hi, p->bounds[i]);
    if (lo > hi)
        lo = 0, hi = 1;                    /* nothing finite at all */
    if (lo >= 0)
        lo = 0;
    else if (hi <= 0)
        hi = 0;
    if (hi - lo == 0)
        hi = lo + (fabs(lo) > 0 ? fabs(lo) : 1.0);
    if (!isfinite(hi - lo))
        lo = fmax(lo, -1e300), hi = fmin(hi, 1e300);
    span = hi - lo;
    if (hi > 0)
        hi += span * 0.05;
    if (lo < 0)
        lo -= span * 0.05;
    p->ystep = nice_step(hi - lo, 5);
    k0 = (long long)floor(lo / step_value(p->ystep));
    k1 = (long long)ceil(hi / step_value(p->ystep));
    p->y0 = tick(p->ystep, k0);
    p->y1 = tick(p->ystep, k1 > k0 ? k1 : k0 + 1);
}

typedef struct frame {
    double x1;                /* seconds at the right edge */
    step xstep;
} frame;

/* Seconds from t0 to t (negative for an unsorted series' stray stamp). */
static double secs(uint64_t t, uint64_t t0)
{
    return t >= t0 ? (double)(t - t0) / 1e9 : -(double)(t0 - t) / 1e9;
}

static double px(const frame *f, double t)
{
    return LEFT + t / f->x1 * PLOT_W;
}

static double py(const panel *p, double y)
{
    return p->top + PLOT_H - (y - p->y0) / (p->y1 - p->y0) * PLOT_H;
}

/* ---- drawing ---------------------------------------------------------- */

static void draw_axes(out *o, const frame *f, const panel *p)
{
    double ys = step_value(p->ystep), xs = step_value(f->xstep);
    long long k;

    putf(o, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"#fcfcfc\" "
            "stroke=\"#999\"/>\n", LEFT, p->top, PLOT_W, PLOT_H);
    /* y ticks and grid */
    for (k = (long long)llround(p->y0 / ys); tick(p->ystep, k) <= p->y1 + ys / 1e6; k++) {
        double v = tick(p->ystep, k), y = py(p, v);

        put(o, "<line class=\"grid\" x1=\"" );
        put_fix(o, LEFT);
        put(o, "\" x2=\"");
        put_fix(o, LEFT + PLOT_W);
        put(o, "\" y1=\"");
        put_fix(o, y);
        put(o, "\" y2=\"");
        put_fix(o, y);
        put(o, "\" stroke=\"#e4e4e4\"/>\n<text class=\"ytick\" x=\"");
        put_fix(o, LEFT - 6);
        put(o, "\" y=\"");
        put_fix(o, y + 4);
        put(o, "\" text-anchor=\"end\">");
        put_num(o, v);
        put(o, "</text>\n");
    }
    /* x ticks */
    for (k = 0; tick(f->xstep, k) <= f->x1 + xs / 1e6; k++) {
        double v = tick(f->xstep, k), x = px(f, v);

        put(o, "<line class=\"xtick\" x1=\"");
        put_fix(o, x);
        put(o, "\" x2=\"");
        put_fix(o, x);
        putf(o, "\" y1=\"%d\" y2=\"%d\" stroke=\"#999\"/>\n<text class=\"xtick\" x=\"",
             p->top + PLOT_H, p->top + PLOT_H + 5);
        put_fix(o, x);
        putf(o, "\" y=\"%d\" text-anchor=\"middle\">", p->top + PLOT_H + 18);
        put_num(o, v);
        put(o, "</text>\n");
    }
    putf(o, "<text class=\"xtitle\" x=\"%d\" y=\"%d\" text-anchor=\"middle\">time (s)</text>\n",
         LEFT + PLOT_W / 2, p->top + PLOT_H + 36);
    putf(o, "<text class=\"ytitle\" x=\"0\" y=\"0\" text-anchor=\"middle\" "
            "transform=\"translate(18,%d) rotate(-90)\">", p->top + PLOT_H / 2);
    put_text(o, *p->unit ? p->unit : "value");
    put(o, "</text>\n");
}

/* Bound labels sit at the right end of their line; one that would
 * overlap another moves left a slot at a time. */
#define LABEL_H 14
#define LABEL_SLOT 96

static void draw_bounds(out *o, const panel *p)
{
    double placed_y[2 * KT__SERIES_MAX];
    int placed_slot[2 * KT__SERIES_MAX], nplaced = 0;

    for (int i = 0; i < p->nbounds; i++) {
        double y = py(p, p->bounds[i]);
        int slot = 0;

        for (bool clash = true; clash; ) {
            clash = false;
            for (int k = 0; k < nplaced; k++)
                if (placed_slot[k] == slot && fabs(placed_y[k] - y) < LABEL_H)
                    clash = true;
            slot += clash;
        }
        placed_y[nplaced] = y;
        placed_slot[nplaced++] = slot;
        putf(o, "<line class=\"bound\" x1=\"%d\" x2=\"%d\" y1=\"", LEFT, LEFT + PLOT_W);
        put_fix(o, y);
        put(o, "\" y2=\"");
        put_fix(o, y);
        put(o, "\" stroke=\"" BOUND_COLOR "\" stroke-width=\"1.5\" stroke-dasharray=\"6 4\"/>\n");
        putf(o, "<text class=\"bound\" x=\"%d\" y=\"", LEFT + PLOT_W - 4 - slot * LABEL_SLOT);
        put_fix(o, y - 4);
        put(o, "\" text-anchor=\"end\" fill=\"" BOUND_COLOR "\">bound ");
        put_num(o, p->bounds[i]);
        put(o, "</text>\n");
    }
}

static void open_polyline(out *o, const kt__evseries *s, size_t k)
{
    put(o, "<polyline class=\"series\" data-series=\"");
    put_text(o, s->label);
    putf(o, "\" fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\"%s "
            "stroke-linejoin=\"round\" points=\"", color_of(k), dash_of(k));
}

static void close_polyline(out *o, const kt__evseries *s)
{
    put(o, "\"><title>");
    put_text(o, s->label);
    put(o, "</title></polyline>\n");
}

/* A series as polylines over its runs of finite samples (a NaN or an
 * infinity breaks the line), then a dot per sample when it is short. */
static void draw_series(out *o, const frame *f, const panel *p, const kt__evseries *s,
                        size_t k0, uint64_t t0)
{
    const uint64_t *t = s->t.v;
    const double *x = s->x.v;
    size_t finite = 0;
    bool open = false;
    char pt[64];

    for (size_t k = 0; k < s->x.n; k++) {
        char *e;

        if (!isfinite(x[k])) {
            if (open)
                close_polyline(o, s);
            open = false;
            continue;
        }
        if (!open)
            open_polyline(o, s, k0);
        e = fix2(pt + (open ? 1 : 0), px(f, secs(t[k], t0)));
        if (open)
            pt[0] = ' ';
        *e++ = ',';
        fix2(e, py(p, x[k]));
        put(o, pt);
        open = true;
        finite++;
    }
    if (open)
        close_polyline(o, s);
    if (finite > MARKERS_MAX)
        return;
    for (size_t k = 0; k < s->x.n; k++) {
        if (!isfinite(x[k]))
            continue;
        put(o, "<circle cx=\"");
        put_fix(o, px(f, secs(t[k], t0)));
        put(o, "\" cy=\"");
        put_fix(o, py(p, x[k]));
        putf(o, "\" r=\"2.5\" fill=\"%s\"/>\n", color_of(k0));
    }
}

static void draw_legend(out *o, const panel *p, const kt__evseries *s, size_t n)
{
    int x = 0, row = 0, y0 = p->top + PLOT_H + AXIS_H + 4;
    size_t k = 0;

    for (size_t i = 0; i <= n; i++) {
        const char *label = i < n ? s[i].label : "bound";
        int w, y;

        if (i < n && !same_unit(&s[i], p->unit))
            continue;
        if (i == n && p->nbounds == 0)
            break;
        w = legend_width(label);
        if (x > 0 && x + w > PLOT_W)
            row++, x = 0;
        y = y0 + row * LEGEND_ROW;
        putf(o, "<g class=\"legend\"><line x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\" "
                "stroke=\"%s\" stroke-width=\"%s\"%s/>",
             LEFT + x, LEFT + x + 20, y, y, i < n ? color_of(k) : BOUND_COLOR,
             i < n ? "2" : "1.5", i < n ? dash_of(k) : " stroke-dasharray=\"6 4\"");
        k++;
        putf(o, "<text x=\"%d\" y=\"%d\">", LEFT + x + 26, y + 4);
        put_text(o, label);
        if (i < n && s[i].x.n == 0)
            put(o, " (no samples)");
        put(o, "</text></g>\n");
        x += w;
    }
}

int kt__svg_plot(kt__vec *outv, const char *title, const char *note,
                 const kt__evseries *s, size_t n, uint64_t t0)
{
    out o = { outv, 0 };
    panel *pan = calloc(n ? n : 1, sizeof(*pan));
    size_t np = 0;
    frame f = { 0, { 1, 0 } };
    int height = TITLE_H;

    if (!pan)
        return -1;
    /* one panel per unit, in order of first appearance */
    for (size_t i = 0; i < n; i++) {
        const char *u = s[i].unit ? s[i].unit : "";
        size_t k;

        for (k = 0; k < np && strcmp(pan[k].unit, u) != 0; k++)
            ;
        if (k == np)
            pan[np++].unit = u;
    }
    for (size_t i = 0; i < n; i++)
        if (s[i].t.n) {
            uint64_t last = ((const uint64_t *)s[i].t.v)[s[i].t.n - 1];

            f.x1 = fmax(f.x1, secs(last, t0));
        }
    if (!(f.x1 > 0))
        f.x1 = 1.0;
    f.xstep = nice_step(f.x1, 8);
    f.x1 = tick(f.xstep, (long long)ceil(f.x1 / step_value(f.xstep) - 1e-9));
    for (size_t k = 0; k < np; k++) {
        y_range(&pan[k], s, n);
        pan[k].top = height;
        pan[k].legend_rows = legend_rows(&pan[k], s, n);
        height += PLOT_H + AXIS_H + pan[k].legend_rows * LEGEND_ROW + PANEL_GAP;
    }

    put(&o, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    putf(&o, "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%d\" "
             "height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" "
             "font-size=\"12\">\n<title>", WIDTH, height, WIDTH, height);
    put_text(&o, title);
    put(&o, "</title>\n");
    putf(&o, "<rect width=\"%d\" height=\"%d\" fill=\"white\"/>\n", WIDTH, height);
    putf(&o, "<text class=\"title\" x=\"%d\" y=\"24\" font-size=\"16\" "
             "font-weight=\"bold\">", LEFT);
    put_text(&o, title);
    put(&o, "</text>\n");
    if (note && *note) {
        putf(&o, "<text class=\"note\" x=\"%d\" y=\"42\" fill=\"#555\">", LEFT);
        put_text(&o, note);
        put(&o, "</text>\n");
    }
    for (size_t k = 0; k < np; k++) {
        panel *p = &pan[k];

        put(&o, "<g class=\"panel\" data-unit=\"");
        put_text(&o, p->unit);
        put(&o, "\" data-x0=\"0\" data-x1=\"");
        put_num(&o, f.x1);
        put(&o, "\" data-y0=\"");
        put_num(&o, p->y0);
        put(&o, "\" data-y1=\"");
        put_num(&o, p->y1);
        putf(&o, "\" data-left=\"%d\" data-top=\"%d\" data-width=\"%d\" data-height=\"%d\">\n",
             LEFT, p->top, PLOT_W, PLOT_H);
        draw_axes(&o, &f, p);
        draw_bounds(&o, p);
        for (size_t i = 0, nth = 0; i < n; i++)
            if (same_unit(&s[i], p->unit))
                draw_series(&o, &f, p, &s[i], nth++, t0);
        draw_legend(&o, p, s, n);
        put(&o, "</g>\n");
    }
    put(&o, "</svg>\n");
    free(pan);
    return o.err;
}
