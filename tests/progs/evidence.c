/* Scenarios for the evidence tests (tests/evidence/artifacts.t, tests/evidence/baseline.t,
 * tests/evidence/report_html.t): points of every outcome with claims of every
 * kind, notes and series, and one whose claim values come from the
 * environment (KT_AB_<NAME>) so that two runs can differ on purpose. */
#include <ktstr.h>

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* As in cases.c: ASan would turn SIGSEGV into exit(1). */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "handle_segv=0";
}

/* A made-up series: n samples 10 ms apart from t0, value f(i). */
static kt_series *ramp(const char *label, int n, double base, double step)
{
    kt_series *s = kt_series_new(label);

    for (int i = 0; i < n; i++)
        kt_series_add(s, 1000000000u + (uint64_t)i * 10000000u,
                      base + step * (double)(i % 7) - (i == n / 2 ? step : 0));
    return s;
}

/* Every claim kind, notes, two units of series with bounds, and labels
 * that need escaping in every format the artifacts use. */
KT_SCENARIO(ev_pass)
{
    kt_series *a = ramp("ktw0.share", 40, 0.45, 0.01), *b = ramp("ktw1.share", 40, 0.5, -0.01);
    kt_series *g = ramp("gap \"ms\", <worst> & \\ \xc3\xa9", 25, 3.0, 0.5);
    kt_series *h = kt_series_new("with_nan");
    uint64_t u = 18446744073709551615u;

    kt_series_add(h, 1000000000u, 1.0);
    kt_series_add(h, 1100000000u, NAN);
    kt_series_add(h, 1200000000u, 2.0);
    kt_verdict_note(v, "two spinners, \"quoted\" note: with a colon");
    kt_verdict_note(v, "second note \xe2\x9c\x93");
    CLAIM_AS(v, "share_min", 0.45, at_least, 0.4);
    CLAIM_AS(v, "gap_ms", 4.5, at_most, 10);
    CLAIM_AS(v, "ratio", 3.05, near, 3.06, 0.3);
    CLAIM_AS(v, "jain", 0.99, between, 0.95, 1.0);
    CLAIM_AS(v, "count", 7, eq, 7);
    CLAIM_AS(v, "big", u, eq, u);
    CLAIM_AS(v, "odd \"label\" \\ <x> & y", 1, ne, 2);
    CLAIM_AS(v, "finite", 1.5, is_finite);
    CLAIM_SERIES(v, a, each_at_least, 0.4);
    CLAIM_SERIES(v, b, each_between, 0.4, 0.6);
    CLAIM_SERIES(v, g, each_at_most, 10.0);
    kt_ctx_series(ctx, a, "share of a CPU", 0.4, NAN);
    kt_ctx_series(ctx, b, "share of a CPU", 0.4, 0.6);
    kt_ctx_series(ctx, g, "ms", NAN, 10.0);
    kt_ctx_series(ctx, h, "ms", NAN, NAN);
    kt_series_free(a);
    kt_series_free(b);
    kt_series_free(g);
    kt_series_free(h);
}

/* Two failures, a series that breaks its bound, a note. */
KT_SCENARIO(ev_fail)
{
    kt_series *s = ramp("ktw0.stale_ms", 30, 10.0, 30.0);

    kt_verdict_note(v, "one worker was kept off for a while");
    CLAIM_AS(v, "max_gap_ms", 190.0, at_most, 150);
    CLAIM_AS(v, "ok_claim", 1, eq, 1);
    CLAIM_AS(v, "nan_value", NAN, is_finite);
    CLAIM_SERIES(v, s, each_at_most, 150.0);
    kt_ctx_series(ctx, s, "ms", NAN, 150.0);
    kt_series_free(s);
}

/* A failure, then a crash: the sidecar says crash and keeps the claim. */
KT_SCENARIO(ev_crash)
{
    kt_series *s = ramp("before_crash", 5, 1.0, 1.0);

    CLAIM_AS(v, "before_crash", 2, eq, 3);
    kt_ctx_series(ctx, s, "count", NAN, NAN);
    kt_series_free(s);
    raise(SIGSEGV);
}

KT_SCENARIO(ev_skip)
{
    kt_verdict_skip(v, "nothing to measure here");
}

KT_SCENARIO(ev_needs, .min_cpus = 100000)
{
}

/* Many series: more than a point keeps, and one longer than is sent. */
KT_SCENARIO(ev_bounded)
{
    char label[32];

    for (int k = 0; k < 70; k++) {
        kt_series *s;

        snprintf(label, sizeof(label), "s%d", k);
        s = ramp(label, k == 0 ? KT_CTX_MAX_SAMPLES + 5 : 3, 1.0, 0.1);
        kt_ctx_series(ctx, s, "x", NAN, NAN);
        kt_series_free(s);
    }
    CLAIM_AS(v, "bounded", 1, eq, 1);
}

/* kt_ctx_series with a copy of the context (the runner did not hand it
 * to this body): EBADF; with a NULL series: EINVAL. Without --artifacts
 * it sends nothing and returns 0. */
KT_SCENARIO(ev_api_errors)
{
    kt_ctx fake = *ctx;
    kt_series *s = kt_series_new("x");

    CLAIM_AS(v, "outside_runner", kt_ctx_series(&fake, s, "u", NAN, NAN), eq, -1);
    CLAIM_AS(v, "null_series", kt_ctx_series(ctx, NULL, "u", NAN, NAN), eq, -1);
    CLAIM_AS(v, "handed_over", kt_ctx_series(ctx, s, "u", NAN, NAN), eq, 0);
    kt_series_free(s);
}

/* A value from $KT_AB_<name>, or dflt. */
static double env_value(const char *name, double dflt)
{
    char var[64];
    const char *s;

    snprintf(var, sizeof(var), "KT_AB_%s", name);
    s = getenv(var);
    return s && *s ? strtod(s, NULL) : dflt;
}

/* One claim per direction rule, values from the environment. */
KT_SCENARIO(ab_point)
{
    CLAIM_AS(v, "higher_better", env_value("HIGHER", 100), at_least, 0);
    CLAIM_AS(v, "greater", env_value("GREATER", 100), gt, -1);
    CLAIM_AS(v, "lower_better", env_value("LOWER", 100), at_most, 1e9);
    CLAIM_AS(v, "less", env_value("LESS", 100), lt, 1e9);
    CLAIM_AS(v, "near_target", env_value("NEAR", 3.0), near, 3.0, 1e9);
    CLAIM_AS(v, "in_band", env_value("BETWEEN", 5.0), between, 0, 10);
    CLAIM_AS(v, "exact", env_value("EQ", 4.0), eq, 4.0);
    CLAIM_AS(v, "no_direction", env_value("NE", 4.0), ne, -12345);
}

KT_MAIN()
