/*
 * lib/evidence/evidence.h - what a point's result becomes (DESIGN.md
 * section 10), private to the library. This folder's one job is to
 * render results; it includes base, verdict and the public headers of
 * the sources (scx's counters), never the runner above it.
 *
 *   result.c       kt__result: one point's result, as the parent has it
 *   tap.c          TAP 13 (kt_tap, public: ktstr/tap.h)
 *   json.c         JSON: the writer and the reader the baseline uses
 *   artifacts.c    DIR/<scenario>.json, .csv and .svg per point
 *   svg.c          the plot
 *   baseline.c     --baseline: every numeric claim against the sidecar
 *
 * The runner (lib/runner/runner.c) holds one kt__evidence for the run
 * and calls, per point: kt__baseline_check after the child ended (it may
 * add failures), kt__artifacts_point once the outcome is known, and
 * kt__artifacts_yaml while writing a failing point's YAML.
 */
#ifndef KTSTR_LIB_EVIDENCE_EVIDENCE_H
#define KTSTR_LIB_EVIDENCE_EVIDENCE_H

#include <stdbool.h>
#include <stdint.h>

#include "base/vec.h"
#include "evidence/result.h"
#include "ktstr/tap.h"

/* Bits of kt__run_ctx.evidence: what the child sends besides failures,
 * notes and skips. */
#define KT__EVIDENCE_PASSES 1u  /* every passing claim: the sidecar and the baseline list them */
#define KT__EVIDENCE_SERIES 2u  /* kt_ctx_series: only when artifacts are written */

/* ---- artifacts.c ------------------------------------------------------ */

/* The run's evidence settings and the host facts every sidecar carries. */
typedef struct kt__evidence {
    const char *dir;          /* --artifacts / KTSTR_ARTIFACTS, or NULL */
    const char *baseline;     /* --baseline / KTSTR_BASELINE, or NULL */
    double rel_pct;           /* KTSTR_BASELINE_REL, % */
    double abs_gate;          /* KTSTR_BASELINE_ABS, in the claim's units */
    unsigned want;            /* KT__EVIDENCE_* for every kt_ctx */
    char kernel[128];         /* uname -r */
    long cpus;                /* CPUs online */
    char cpu_model[256];      /* /proc/cpuinfo "model name", or "" */
} kt__evidence;

/* Takes the run's settings (dir and baseline may be NULL), creates the
 * artifacts directory (and its parents) and reads the host facts; -1
 * with err naming the directory when it cannot be made. */
int kt__evidence_open(kt__evidence *ev, const char *dir, const char *baseline,
                      double rel_pct, double abs_gate, kt_err *err);

/* What kt__artifacts_point wrote, for the YAML. */
typedef struct kt__artifact_files {
    char *path[3];            /* the .json, then .csv and .svg when written */
    int n;
    char error[KT_ERR_MSG_MAX];  /* "" or why a file could not be written */
} kt__artifact_files;

/* The file name stem of a scenario: its name with every byte outside
 * [A-Za-z0-9_.-] (and a leading '.') as '_', at most 200 bytes. */
void kt__artifact_stem(char out[256], const char *name);

/* Renders a point's sidecar (JSON), and its CSV and SVG when r holds
 * series, into the given buffers (kt__vec of char; csv and svg left
 * empty without series). why: the runner's message (the YAML's), added
 * to the notes for outcomes other than pass, fail and skip; a skip adds
 * "skipped: <reason>" (the verdict's, else why). -1 when out of memory. */
int kt__artifacts_render(const kt__evidence *ev, const char *name, const kt__result *r,
                         kt_outcome o, const char *why, kt__vec *json, kt__vec *csv,
                         kt__vec *svg);

/* Writes DIR/<stem>.json (and .csv, .svg) for a point whose outcome is o,
 * each through a temporary file renamed into place; fills f (also with
 * an error, said on stderr too). Nothing without --artifacts. */
void kt__artifacts_point(const kt__evidence *ev, const char *name, const kt__result *r,
                         kt_outcome o, const char *why, kt__artifact_files *f);
/* The same for a point skipped before its child ran (a requirement). */
void kt__artifacts_skip(const kt__evidence *ev, const char *name, const char *reason);
/* "artifacts:" with f's paths under the current TAP point (nothing when
 * f is empty), and "artifacts_error:" when writing failed. */
void kt__artifacts_yaml(kt_tap *t, const kt__artifact_files *f);
void kt__artifact_files_fini(kt__artifact_files *f);

/* ---- svg.c ------------------------------------------------------------ */

/* Plots series s[0..n) into out (a kt__vec of char) as one SVG document:
 * a panel per unit (in order of first appearance) with its own y axis,
 * time in seconds since t0 on the x axis, one polyline per series and a
 * legend, each series' bounds as dashed lines. title heads it, note (may
 * be NULL) is a line under the title. -1 when out of memory. */
int kt__svg_plot(kt__vec *out, const char *title, const char *note,
                 const kt__evseries *s, size_t n, uint64_t t0);

/* ---- baseline.c ------------------------------------------------------- */

/* With --baseline: compares every numeric claim of r (failures and
 * passes, with ops at_least/gt, at_most/lt, near/between/eq) with the
 * same claim (label and occurrence) in <baseline>/<stem>.json and adds a
 * failure "baseline.<label>: regressed from {a} to {b} ({pct}% worse,
 * gate {g}%)" for each that is worse by more than both gates, a failure
 * naming the file when it is missing or unusable, and a note saying
 * what was compared. Nothing for a point that was skipped. */
void kt__baseline_check(const kt__evidence *ev, const char *name, kt__result *r);

/* The comparison itself: whether value b is worse than baseline a for a
 * claim with operation op and expected text expected, by more than both
 * gates; *pct gets how much worse, in % of |a| (inf when a is 0).
 * -1 when op has no direction or expected has no target, 0 when not
 * regressed, 1 when regressed. */
int kt__baseline_regressed(const char *op, const char *expected, double a, double b,
                           double rel_pct, double abs_gate, double *pct);

#endif
