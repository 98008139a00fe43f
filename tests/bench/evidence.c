/*
 * What the evidence costs:
 *
 * - writing a point's artifacts (sidecar, CSV, SVG, each renamed into
 *   place) for a point the size of the catalog's largest (starve_none: 25
 *   claims, 10 notes, 16 series of 1320 samples in all), against writing
 *   the same bytes to the same three files with plain write() and
 *   rename() in the same run: the goal is at most 5 ms a point; and the
 *   rendering alone (the bytes in memory);
 * - a passing CLAIM_SERIES per sample, against a bare loop comparing the
 *   same samples in the same run.
 *
 * Medians of REPS repetitions; ratios are medians of per-repetition
 * ratios, so a busy neighbour moves both sides alike.
 */
#include <ktstr.h>

#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "evidence/evidence.h"
#include "ktstr/scenario.h"
#include "verdict/verdict_item.h"

#define REPS 21
#define WORKERS 8
#define STALE_SAMPLES 150
#define SHARE_SAMPLES 15
#define SERIES_N 100000

static double now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    return v[n / 2];
}

static void add_series(kt__result *r, const char *label, const char *unit, double lo,
                       double hi, int n, uint64_t step_ns, double base)
{
    kt__evseries s = { strdup(label), strdup(unit), lo, hi, (uint64_t)n,
                       KT__VEC_INIT(uint64_t), KT__VEC_INIT(double) };

    for (int i = 0; i < n; i++) {
        uint64_t t = 1000000000u + (uint64_t)i * step_ns;
        double x = base + 0.37 * (double)((i * 7919) % 101) / 101.0;

        kt__vec_push(&s.t, &t, NULL, "bench");
        kt__vec_push(&s.x, &x, NULL, "bench");
    }
    kt__vec_push(&r->series, &s, NULL, "bench");
}

/* A result shaped like starve_none's. */
static void make_point(kt__result *r)
{
    memset(r, 0, sizeof(*r));
    kt_verdict_init(&r->v);
    r->passes = (kt__vec)KT__VEC_INIT(struct kt__verdict_item *);
    r->cleanup = (kt__vec)KT__VEC_INIT(char *);
    r->series = (kt__vec)KT__VEC_INIT(kt__evseries);
    for (int i = 0; i < 25; i++) {
        char label[48], actual[32], msg[128];
        kt_claim_record c = { label, "at_most", "150", actual, msg, "scenarios/starvation.c",
                              100 + i, i % 5 != 0 };
        struct kt__verdict_item *it;

        snprintf(label, sizeof(label), "ktw%d.max_gap_ms", i);
        snprintf(actual, sizeof(actual), "%.6f", 12.5 + i);
        snprintf(msg, sizeof(msg), "%s: expected at most 150, was %s", label, actual);
        if (!c.passed) {
            kt__verdict_add_failure(&r->v, &c);
            continue;
        }
        it = kt__verdict_item_new(&c, NULL);
        kt__vec_push(&r->passes, &it, NULL, "bench");
    }
    for (int i = 0; i < 10; i++)
        kt_verdict_note(&r->v, "ktw%d spin: 123456 iterations, longest gap 12.34 ms, CPU 0.345 s", i);
    r->claims = 25;
    r->failed = 5;
    r->duration_ms = 1700;
    for (int w = 0; w < WORKERS; w++) {
        char label[32];

        snprintf(label, sizeof(label), "ktw%d.stale_ms", w);
        add_series(r, label, "ms since last progress", NAN, 150, STALE_SAMPLES, 10000000u, 3);
        snprintf(label, sizeof(label), "ktw%d.share", w);
        add_series(r, label, "share of a CPU", 0.005, NAN, SHARE_SAMPLES, 100000000u, 0.2);
    }
}

static void free_point(kt__result *r)
{
    struct kt__verdict_item **p = r->passes.v;

    for (size_t i = 0; i < r->passes.n; i++)
        free(p[i]);
    kt__vec_free(&r->passes);
    kt__vec_free(&r->cleanup);
    kt__series_free_all(&r->series);
    kt_verdict_fini(&r->v);
}

/* The baseline: the same bytes to the same paths, through a rename. */
static int raw_write(const char *dir, const kt__vec *bufs)
{
    static const char *const ext[3] = { "json", "csv", "svg" };

    for (int i = 0; i < 3; i++) {
        char path[512], tmp[520];
        int fd;

        snprintf(path, sizeof(path), "%s/raw.%s", dir, ext[i]);
        snprintf(tmp, sizeof(tmp), "%s.tmp", path);
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
        if (fd < 0 || write(fd, bufs[i].v, bufs[i].n) != (ssize_t)bufs[i].n || close(fd) < 0 ||
            rename(tmp, path) < 0)
            return -1;
    }
    return 0;
}

static int bench_artifacts(void)
{
    char dir[] = "/tmp/ktstr-bench-XXXXXX";
    kt__evidence ev;
    kt_err err;
    kt__result r;
    kt_ctx ctx = { .name = "starve_none", .ncpus = 2, .timeout_s = 20 };
    kt__vec bufs[3] = { KT__VEC_INIT(char), KT__VEC_INIT(char), KT__VEC_INIT(char) };
    double point[REPS], raw[REPS], ratio[REPS], render[REPS];
    size_t bytes;

    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    if (kt__evidence_open(&ev, dir, NULL, 10, 0, &err) < 0) {
        fprintf(stderr, "bench evidence: %s\n", err.msg);
        return 1;
    }
    make_point(&r);
    if (kt__artifacts_render(&ev, ctx.name, &r, KT_OUTCOME_FAIL, NULL, &bufs[0], &bufs[1],
                             &bufs[2]) < 0) {
        fprintf(stderr, "bench evidence: render failed\n");
        return 1;
    }
    bytes = bufs[0].n + bufs[1].n + bufs[2].n;
    for (int k = 0; k < REPS; k++) {
        kt__artifact_files f;
        double t0 = now_ns(), t1, t2;

        kt__artifacts_point(&ev, ctx.name, &r, KT_OUTCOME_FAIL, NULL, &f);
        t1 = now_ns();
        if (f.n != 3 || raw_write(dir, bufs) < 0) {
            fprintf(stderr, "bench evidence: writing failed: %s\n", f.error);
            return 1;
        }
        t2 = now_ns();
        kt__artifact_files_fini(&f);
        {
            kt__vec b[3] = { KT__VEC_INIT(char), KT__VEC_INIT(char), KT__VEC_INIT(char) };
            double t3 = now_ns();

            kt__artifacts_render(&ev, ctx.name, &r, KT_OUTCOME_FAIL, NULL, &b[0], &b[1], &b[2]);
            render[k] = (now_ns() - t3) / 1e6;
            for (int i = 0; i < 3; i++)
                kt__vec_free(&b[i]);
        }
        point[k] = (t1 - t0) / 1e6;
        raw[k] = (t2 - t1) / 1e6;
        ratio[k] = point[k] / raw[k];
    }
    printf("bench: artifacts.point %.3f ms\n", median(point, REPS));
    printf("bench: artifacts.render %.3f ms\n", median(render, REPS));
    printf("bench: artifacts.raw_write %.3f ms\n", median(raw, REPS));
    printf("bench: artifacts.ratio %.1f x\n", median(ratio, REPS));
    printf("bench: artifacts.bytes %zu bytes\n", bytes);
    for (int i = 0; i < 3; i++)
        kt__vec_free(&bufs[i]);
    free_point(&r);
    for (int i = 0; i < 6; i++) {
        static const char *const names[6] = { "starve_none.json", "starve_none.csv",
                                              "starve_none.svg", "raw.json", "raw.csv",
                                              "raw.svg" };
        char path[600];

        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        unlink(path);
    }
    if (rmdir(dir) < 0)
        perror(dir);
    return 0;
}

static int bench_series_claim(void)
{
    kt_series *s = kt_series_new("share");
    volatile double sink;
    double *x = malloc(SERIES_N * sizeof(*x)), bare[REPS], claim[REPS], ratio[REPS];

    if (!s || !x)
        return 1;
    for (int i = 0; i < SERIES_N; i++) {
        x[i] = 0.5 + (double)(i % 97) / 1000.0;
        kt_series_add(s, (uint64_t)i * 1000000u, x[i]);
    }
    for (int k = 0; k < REPS; k++) {
        const double *v = kt_series_values(s);
        kt_verdict ver;
        size_t n = 0;
        double t0, t1, t2;

        t0 = now_ns();
        for (int i = 0; i < SERIES_N; i++)
            n += v[i] >= 0.4;
        t1 = now_ns();
        kt_verdict_init(&ver);
        CLAIM_SERIES(&ver, s, each_at_least, 0.4);
        t2 = now_ns();
        if (n != SERIES_N || !kt_verdict_passed(&ver)) {
            fprintf(stderr, "bench evidence: the series claim did not pass\n");
            return 1;
        }
        kt_verdict_fini(&ver);
        sink = (double)n;
        bare[k] = (t1 - t0) / SERIES_N;
        claim[k] = (t2 - t1) / SERIES_N;
        ratio[k] = claim[k] / (bare[k] > 0 ? bare[k] : 1e-3);
    }
    (void)sink;
    printf("bench: series.claim_per_sample %.2f ns\n", median(claim, REPS));
    printf("bench: series.bare_per_sample %.2f ns\n", median(bare, REPS));
    printf("bench: series.claim_ratio %.1f x\n", median(ratio, REPS));
    kt_series_free(s);
    free(x);
    return 0;
}

int main(void)
{
    return bench_artifacts() || bench_series_claim();
}
