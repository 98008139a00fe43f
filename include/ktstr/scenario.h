/*
 * ktstr/scenario.h - scenarios and the runner that turns them into TAP.
 *
 *   #include <ktstr.h>
 *
 *   KT_SCENARIO(fair_equal_hogs, .timeout_s = 20, .min_cpus = 2)
 *   {
 *       // kt_ctx *ctx and kt_verdict *v are in scope
 *       CLAIM(v, spread, at_most, 0.15);
 *   }
 *
 *   KT_MAIN()
 *
 * Each scenario runs in a forked child in its own process group; the
 * parent alone writes TAP 13 on stdout (the child's stdout goes to
 * stderr). Failures travel to the parent as they are recorded, so a crash
 * or a timeout still reports them. See README.md for the TAP shape.
 */
#ifndef KTSTR_SCENARIO_H
#define KTSTR_SCENARIO_H

#include <stdbool.h>
#include <stdint.h>

#include "ktstr/api.h"
#include "ktstr/topology.h"
#include "ktstr/verdict.h"

#ifdef __cplusplus
extern "C" {
#endif

struct kt_vcpus;
struct kt_series;

/* What a scenario body is handed besides its verdict. */
typedef struct kt_ctx {
    const char *name;     /* the scenario's name */
    int ncpus;            /* CPUs this process may run on (its affinity mask) */
    unsigned timeout_s;   /* the timeout in force */
    bool verbose;         /* --verbose was given */
    bool in_vm;           /* the body runs inside a VM-mode guest */
    kt_topology topology; /* in a guest: the topology it was booted with */
    const char *scheduler;/* the sched_ext scheduler's ops name, or NULL */
} kt_ctx;

/* Options given as designated initialisers after the name. Unmet
 * requirements become "# SKIP <reason>" without running the body. */
typedef struct kt_scenario_opts {
    int opts_version_;    /* private: lets KT_SCENARIO(name) take no options */
    unsigned timeout_s;   /* 0: the default, 30 s */
    int min_cpus;         /* 0: any */
    bool needs_root;      /* effective uid 0 */
    bool needs_kvm;       /* /dev/kvm opens and answers KVM_GET_API_VERSION */
    bool needs_hw_pmu;    /* a hardware cycles counter opens for this thread */
    kt_topology vm;       /* any field set: run in a QEMU guest of this shape */
    /* VM mode: called on the host after the guest finished, with what the
     * host saw of the vCPU threads during the body; its claims are
     * reported as "host.<label>". */
    void (*host_check)(const struct kt_vcpus *vc, kt_verdict *v);
    /* The sched_ext scheduler under test: "builtin:fifo" (fifo_partial,
     * stall) or a program path and its arguments; KTSTR_SCHEDULER and
     * --scheduler override it. Its ejection fails the point. */
    const char *scheduler;
    /* What the scenario proves, in one line (--describe, `ktstr list`). */
    const char *purpose;
    /* A scheduler meant to detect a fault and bail out: the kernel must
     * eject it with an exit message matching this fnmatch pattern
     * ("*runnable task stall*"). The point then holds the claim
     * "sched.ejected" instead of failing on the ejection; a scheduler that
     * stays attached, or leaves with another message, fails it. */
    const char *expect_eject;
} kt_scenario_opts;

typedef struct kt_scenario {
    const char *name;
    void (*fn)(kt_ctx *ctx, kt_verdict *v);
    kt_scenario_opts opts;
    const char *file;
    int line;
} kt_scenario;

/* Adds a scenario to the registry (KT_SCENARIO calls it before main). */
KT_API void kt_register(const kt_scenario *s);

/* Runs the registered scenarios as the command line asks (--list,
 * --describe, --filter GLOB, --timeout S, --verbose, --help); returns the exit status:
 * 0 when no point is "not ok", 1 otherwise, 2 on a usage error, 128 + the
 * signal after SIGINT/SIGTERM/SIGHUP ("Bail out! interrupted"). Filters
 * that match nothing give "1..0 # SKIP" and 0. It kills and reaps every
 * child of the calling process after each scenario (child subreaper). */
KT_API int kt_main(int argc, char **argv);

/* Asks the runner to remove the directory at path (a cgroup, a temp dir)
 * once the scenario's process group is gone, even after a crash or a
 * timeout. Returns 0, or -1 when the path could not be sent (errno EBADF
 * for a kt_ctx the runner did not hand to a body). */
KT_API int kt_ctx_rmdir_at_exit(kt_ctx *ctx, const char *path);
/* The same with ctx as a void *: the rmdir_at_exit hook a scenario lends
 * code below the runner, which must not call it (kt_cg_hooks). */
KT_API int kt_ctx_rmdir_hook(void *ctx, const char *path);

/* Samples of one series kt_ctx_series sends; later ones are counted. */
#define KT_CTX_MAX_SAMPLES 20000

/* Hands series s (ktstr/series.h) to the runner for the point's
 * artifacts (--artifacts DIR, KTSTR_ARTIFACTS): its samples go to
 * DIR/<scenario>.csv and it is drawn in DIR/<scenario>.svg, in a panel
 * per unit (the y axis title, e.g. "share of a CPU", "ms"), time in
 * seconds since the point's first sample on the x axis. lo and hi are
 * the bounds of the claim that judged it, drawn as dashed lines; NAN for
 * none (each_at_least x: x, NAN). s is copied at the call; call it after
 * the last kt_series_add. A point keeps at most 64 series and 100000
 * samples (KT_CTX_MAX_SAMPLES of each series are sent); the rest is
 * counted in a note. Returns 0, also when no artifacts are being written
 * (nothing is sent then), or -1 with errno: EBADF for a kt_ctx the runner
 * did not hand to a body, EINVAL for a NULL s, or the pipe's error. */
KT_API int kt_ctx_series(kt_ctx *ctx, const struct kt_series *s, const char *unit,
                         double lo, double hi);

struct kt_changes;
/* Hands the changes a body made mid-run (ktstr/changes.h) to the runner:
 * the point's YAML lists them under ops:, each with what it was, when it
 * was planned and made (ms after kt_changes_start), how long it took and
 * its result ("ok", or the call and errno that failed). Call it after
 * kt_changes_wait. 0, or -1 with errno (EBADF: not under the runner,
 * EINVAL: c is NULL, or the pipe's error). */
KT_API int kt_ctx_changes(kt_ctx *ctx, const struct kt_changes *c);

/* Options may be omitted: KT_SCENARIO(name) is strict C11 too. */
#define KT_SCENARIO(...) KT__SCENARIO(__VA_ARGS__, )
#define KT__SCENARIO(sname, ...)                                             \
    static void kt__body_##sname(kt_ctx *ctx, kt_verdict *v);                 \
    __attribute__((constructor)) static void kt__reg_##sname(void)            \
    {                                                                        \
        static const kt_scenario s = {                                       \
            #sname, kt__body_##sname, { .opts_version_ = 1, __VA_ARGS__ },    \
            __FILE__, __LINE__ };                                            \
        kt_register(&s);                                                     \
    }                                                                        \
    static void kt__body_##sname(kt_ctx *ctx __attribute__((unused)),        \
                                 kt_verdict *v __attribute__((unused)))

#define KT_MAIN() \
    int main(int argc, char **argv) { return kt_main(argc, argv); }

#ifdef __cplusplus
}
#endif
#endif
