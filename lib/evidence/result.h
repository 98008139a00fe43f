/*
 * lib/evidence/result.h - one point's result as the runner's parent
 * received it (private): what the writers of this folder render (TAP's
 * YAML, the sidecar, the plots, the baseline comparison). The runner
 * (lib/runner/record.c) fills it from the child's wire lines; nothing
 * here knows how they travelled.
 */
#ifndef KTSTR_LIB_EVIDENCE_RESULT_H
#define KTSTR_LIB_EVIDENCE_RESULT_H

#include <stdbool.h>
#include <stdint.h>

#include "base/vec.h"
#include "ktstr/error.h"
#include "ktstr/scx.h"
#include "ktstr/verdict.h"

/* RMDIR paths a result keeps (later ones are ignored), which also bounds
 * the runner's own notes about them. */
#define KT__RESULT_MAX_RMDIRS 256

/* What a point keeps of its series: later series and samples are counted
 * in kt__result.series_dropped and said so in a note. */
#define KT__SERIES_MAX 64
#define KT__SERIES_MAX_SAMPLES 100000   /* all of a point's series together */
/* Labels and units longer than this are cut by kt_ctx_series. */
#define KT__SERIES_NAME_MAX 200

/* One series as the parent received it. */
typedef struct kt__evseries {
    char *label, *unit;
    double lo, hi;            /* the claim's bounds; NaN: none */
    uint64_t want;            /* samples its SERIES line announced */
    kt__vec t;                /* uint64_t, ns on the child's clock */
    kt__vec x;                /* double */
} kt__evseries;

typedef enum kt__end {
    KT__END_EXITED,       /* status is the exit status */
    KT__END_SIGNALED,     /* status is the signal */
    KT__END_TIMEOUT,      /* killed at the deadline */
    KT__END_INTERRUPTED,  /* the runner got status (a signal) */
    KT__END_START_FAILED, /* could not start: start_error says why */
    KT__END_PANIC,        /* VM mode: the guest kernel panicked (console kept) */
    KT__END_GUEST_ERROR   /* VM mode: the guest failed: start_error says why */
} kt__end;

/* Host steal of one vCPU thread over the body (VM mode's STEAL lines). */
typedef struct kt__steal {
    int vcpu;
    double ms;                /* run delay on the host */
    double share;             /* of the body's wall time */
} kt__steal;

/* A change the body made mid-run (an OP line: ktstr/changes.h). */
typedef struct kt__opres {
    char what[160];
    uint64_t planned_ms;
    double actual_ms;         /* -1: not made */
    double took_ms;
    char result[KT_ERR_MSG_MAX + 32];  /* "ok" or what failed */
} kt__opres;
#define KT__RESULT_MAX_OPS 256

/* What the parent learnt about one scenario run. The child's failures,
 * notes and skip land in a verdict of the parent's own, kept within the
 * same bounds as the child's. */
typedef struct kt__result {
    bool done;                 /* DONE arrived: the body returned */
    uint64_t claims, failed;   /* from DONE; else what was streamed */
    kt_verdict v;              /* failures, notes, skip reason */
    kt__vec passes;            /* struct kt__verdict_item *: --verbose, artifacts, baseline */
    uint64_t passes_dropped;   /* beyond KT_VERDICT_MAX_FAILURES, or no memory */
    kt__vec rmdirs;            /* char *: paths to remove when it is over */
    kt__vec cleanup;           /* char *: the runner's own notes (rmdir errors) */
    uint64_t cleanup_dropped;  /* such notes lost for want of memory */
    char *dropped;             /* the verdict's last "N more ... not kept" */
    uint64_t bad_lines;        /* malformed or overlong wire lines */
    kt__vec series;            /* kt__evseries: kt_ctx_series, artifacts only */
    kt__vec ops;               /* kt__opres: kt_ctx_changes, the YAML's ops: */
    uint64_t series_dropped;   /* series samples beyond the bounds, not kept */
    kt__end end;
    int status;
    int64_t duration_ms;
    /* CPU time this machine spent outside the point's process tree while
     * it ran, in CPUs' worth (0.9: nearly a whole CPU busy with other
     * work); NaN when it could not be measured. */
    double foreign_load;
    int machine_cpus;          /* CPUs foreign_load was measured over */
    /* A point past its timeout while other tasks held the machine is
     * given the time they took, up to twice the timeout (supervise.c):
     * the wall time it was given when stretched (else 0), and whether
     * that was the ceiling. */
    int64_t deadline_ms;
    bool deadline_ceiling;
    kt_err start_error;
    int forward_fd;            /* >= 0: every line but RMDIR is copied there */
    /* VM mode: what the host child added to the guest's lines. */
    bool vm;                   /* a VM line arrived */
    char vm_accel[8], vm_kernel[128], vm_topology[32];
    int64_t boot_ms;
    unsigned vm_boot;          /* which boot of the run's guests it ran in; 0: none */
    /* What the point's child said of its guest (a GUEST line): "ready" for
     * another point, "gone", or "again" (boot it again: guest_again says why). */
    char guest_next[8];
    char guest_again[KT_ERR_MSG_MAX];
    bool guest_end;            /* an END line arrived */
    char guest_end_kind[16];
    char guest_end_arg[KT_ERR_MSG_MAX];
    kt__vec console;           /* char *: the guest's last console lines */
    kt__vec host_steal;        /* kt__steal, one per vCPU thread watched */
    double boot_steal;         /* a missed boot's steal share (BOOTSTEAL), else NaN */
    unsigned timeout_s;        /* the timeout the guest reported, else 0 */
    /* The scheduler under test (SCHED... lines). */
    char *sched_name;          /* its ops name, or NULL when none ran */
    bool sched_failed;
    bool sched_eject_expected; /* sched_failed as .expect_eject asked: not a failure */
    char sched_why[KT_ERR_MSG_MAX], sched_exit[256];
    int64_t sched_attach_ms;   /* start to "enabled", or -1 */
    bool sched_has_detect;     /* the next is known */
    int64_t sched_detect_ms;   /* the kernel's "disabled" line to the ejection seen */
    kt__vec sched_log, sched_out, sched_dump;   /* char * */
    kt__vec sched_events;      /* kt_scx_counter: each that changed, value its delta */
} kt__result;

/* An empty result: nothing reported, no forward fd, boot_ms -1. */
void kt__result_init(kt__result *r);

/* Frees everything r holds and zeroes it. */
void kt__result_fini(kt__result *r);

/* Frees a kt__vec of kt__evseries and what they hold. */
void kt__series_free_all(kt__vec *series);

/* Keeps a copy of s in l (a kt__vec of char *); false when out of memory. */
bool kt__result_keep_str(kt__vec *l, const char *s);

#endif
