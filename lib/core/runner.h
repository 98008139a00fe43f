/*
 * lib/core/runner.h - private interfaces between the runner's files.
 *
 *   registry.c  KT_SCENARIO's registry, sorted into source order
 *   cli.c       the command line
 *   reqs.c      scenario requirements (root, KVM, hardware PMU, CPUs)
 *   wire.c      the child-to-parent line protocol
 *   child.c     a scenario's child process: its side and its supervision
 *   runner.c    kt_main: selection, the run loop and the TAP report
 *
 * Wire protocol: one event per line, fields separated by tabs, each field
 * escaped (\\ \t \n \r, other control bytes as \xNN), so a line crosses a
 * pipe or a serial port unchanged:
 *   PASS|FAIL <label> <op> <expected> <actual> <message> <file> <line>
 *   NOTE <text>     SKIP <reason>     DROP <text>     RMDIR <path>
 *   DONE <claims> <failed>            (the body returned)
 *   SERIES ...      SAMPLES ...       (kt_ctx_series: see evidence.h)
 */
#ifndef KTSTR_LIB_RUNNER_H
#define KTSTR_LIB_RUNNER_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/vec.h"
#include "ktstr/error.h"
#include "ktstr/scenario.h"
#include "ktstr/topology.h"

/* ---- registry.c ------------------------------------------------------- */

/* Scenarios one program may register. */
#define KT__MAX_SCENARIOS 4096

/* Sorts the registry by file then line and checks it (no overflow, no
 * duplicate or empty names); on success *list and *n hold the scenarios. */
int kt__registry_get(const kt_scenario **list, size_t *n, kt_err *err);

/* ---- cli.c ------------------------------------------------------------ */

typedef struct kt__cli {
    bool list, verbose, help;
    unsigned timeout_s;        /* 0: not given */
    const char **filters;      /* point into argv or env_filters */
    size_t nfilters;
    char *env_filters;         /* a split copy of KTSTR_FILTER */
    bool vm;                   /* --vm / KTSTR_VM=1: every scenario in a guest */
    unsigned shard_i, shard_n; /* --shard I/N; 0/0: no sharding */
    const char *kernel;        /* --kernel / KTSTR_KERNEL (a checked bzImage), or NULL */
    const char *qemu;          /* --qemu / KTSTR_QEMU, or NULL */
    const char *accel;         /* --accel / KTSTR_ACCEL: "kvm", "tcg" or NULL */
    kt_topology topology;      /* --topology / KTSTR_TOPOLOGY (resolved), or all 0 */
    const char *scheduler;     /* --scheduler / KTSTR_SCHEDULER (checked), or NULL */
    unsigned sched_attach_s;   /* KTSTR_SCHED_ATTACH_S, or 0 */
    const char *sched_fault;   /* KTSTR_SCHED_FAULT (checked), or NULL */
    unsigned vm_boot_s;        /* KTSTR_VM_BOOT_S, or 0 */
    /* evidence (evidence.h) */
    const char *artifacts;     /* --artifacts / KTSTR_ARTIFACTS: a directory, or NULL */
    const char *baseline;      /* --baseline / KTSTR_BASELINE: a directory, or NULL */
    double baseline_rel;       /* KTSTR_BASELINE_REL, % (default 10) */
    double baseline_abs;       /* KTSTR_BASELINE_ABS (default 0) */
} kt__cli;

/* Parses the KTSTR_FILTER, KTSTR_TIMEOUT and KTSTR_VERBOSE environment
 * variables (defaults, for runs under prove), then argv, which overrides
 * them (any --filter replaces KTSTR_FILTER); -1 with a message naming the
 * bad option or variable on a usage error. */
int kt__cli_parse(kt__cli *c, int argc, char **argv, kt_err *err);
void kt__cli_fini(kt__cli *c);
/* True when the k-th selected scenario (0-based) is in this shard. */
bool kt__cli_in_shard(const kt__cli *c, unsigned k);
/* True when no filter was given or name matches one of them. */
bool kt__cli_selects(const kt__cli *c, const char *name);
/* The usage text. */
void kt__cli_usage(FILE *fp, const char *prog);

/* ---- reqs.c ----------------------------------------------------------- */

/* CPUs in this process's affinity mask (at least 1). */
int kt__affinity_cpus(void);
/* 0 when every requirement in o holds, else -1 with the reason
 * ("needs KVM: /dev/kvm: No such file or directory ..."). */
int kt__reqs_check(const kt_scenario_opts *o, int ncpus, kt_err *why);

/* ---- wire.c ----------------------------------------------------------- */

#define KT__WIRE_MAX_FIELDS 8
/* Longest field sent; longer ones are cut (bounds every line). */
#define KT__WIRE_FIELD_MAX 2048
/* Longest line the reader keeps; longer ones are dropped and counted. */
#define KT__WIRE_LINE_MAX (KT__WIRE_MAX_FIELDS * (4 * KT__WIRE_FIELD_MAX + 1) + 16)

/* Sends one line "type\tf0\tf1..." with one write(); 0 or -1 with errno. */
int kt__wire_send(int fd, const char *type, const char *const *fields, size_t n);
/* A claim's PASS or FAIL line, its label and message after prefix ("" for
 * none: the host's claims on a guest are "host."); 0 or -1 with errno. */
int kt__wire_send_claim(int fd, bool passed, const kt_claim_record *c, const char *prefix);
/* Writes a received line (its fields still escaped, no newline) on to fd
 * with one write(): how a relay passes lines through. 0 or -1 with errno. */
int kt__wire_write_line(int fd, const char *line);
/* VM mode's END line: how the guest's body ended (kind, argument). */
void kt__vm_send_end(int fd, const char *kind, const char *arg);

typedef struct kt__wire_msg {
    const char *type;
    const char *field[KT__WIRE_MAX_FIELDS];
    size_t n;
} kt__wire_msg;

/* Splits a received line (without its newline) in place and unescapes
 * its fields; -1 when it is not a well-formed line. */
int kt__wire_split(char *line, kt__wire_msg *m);

typedef struct kt__wire_reader {
    char *buf;                 /* KT__WIRE_LINE_MAX + 1 bytes */
    size_t len;
    bool discarding;           /* inside an overlong line */
    uint64_t overlong;         /* lines dropped: too long, or cut */
} kt__wire_reader;

int kt__wire_reader_init(kt__wire_reader *r);
void kt__wire_reader_fini(kt__wire_reader *r);
/* Reads what fd has (non-blocking) and calls fn for each whole line.
 * Returns 1 at end of file, 0 when more may come, -1 on a read error. */
int kt__wire_read(kt__wire_reader *r, int fd, void (*fn)(void *arg, char *line),
                 void *arg);

/* ---- child.c ---------------------------------------------------------- */

/* What a scenario body runs with: the public context it is handed (pub)
 * and the wire its events travel on, which the body never sees. */
typedef struct kt__run_ctx {
    kt_ctx pub;
    int wire_fd;               /* the pipe to the parent */
    unsigned evidence;         /* KT__EVIDENCE_* (evidence.h): passes, series */
} kt__run_ctx;

/* The runner's context around ctx, or NULL when ctx is not the one this
 * process's body was handed (a kt_ctx made by its caller has no wire). */
kt__run_ctx *kt__run_ctx_of(kt_ctx *ctx);

/* RMDIR paths a result keeps (later ones are ignored), which also bounds
 * the runner's own notes about them. */
#define KT__RESULT_MAX_RMDIRS 256

typedef enum kt__end {
    KT__END_EXITED,       /* status is the exit status */
    KT__END_SIGNALED,     /* status is the signal */
    KT__END_TIMEOUT,      /* killed at the deadline */
    KT__END_INTERRUPTED,  /* the runner got status (a signal) */
    KT__END_START_FAILED, /* could not start: start_error says why */
    KT__END_PANIC,        /* VM mode: the guest kernel panicked (console kept) */
    KT__END_GUEST_ERROR   /* VM mode: the guest failed: start_error says why */
} kt__end;

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
    kt__vec series;            /* kt__evseries (evidence.h): kt_ctx_series, artifacts only */
    uint64_t series_dropped;   /* series samples beyond the bounds, not kept */
    kt__end end;
    int status;
    int64_t duration_ms;
    kt_err start_error;
    int forward_fd;            /* >= 0: every line but RMDIR is copied there */
    /* VM mode: what the host child added to the guest's lines. */
    bool vm;                   /* a VM line arrived */
    char vm_accel[8], vm_kernel[128], vm_topology[32];
    int64_t boot_ms;
    bool guest_end;            /* an END line arrived */
    char guest_end_kind[16];
    char guest_end_arg[KT_ERR_MSG_MAX];
    kt__vec console;           /* char *: the guest's last console lines */
    unsigned timeout_s;        /* the timeout the guest reported, else 0 */
    /* The scheduler under test (SCHED... lines). */
    char *sched_name;          /* its ops name, or NULL when none ran */
    bool sched_failed;
    char sched_why[KT_ERR_MSG_MAX], sched_exit[256];
    int64_t sched_attach_ms;   /* start to "enabled", or -1 */
    bool sched_has_detect;     /* the next is known */
    int64_t sched_detect_ms;   /* the kernel's "disabled" line to the ejection seen */
    kt__vec sched_log, sched_out, sched_dump;   /* char * */
    kt__vec sched_events;      /* kt_scx_counter: each that changed, value its delta */
} kt__result;

void kt__result_fini(kt__result *r);

/* Runs s in a forked child in its own process group and fills r; the
 * child's events arrive as they happen. sigfd is a signalfd for SIGCHLD,
 * SIGINT, SIGTERM and SIGHUP (blocked); child_mask is the mask the child
 * restores. Kills and reaps every descendant and removes the RMDIR paths
 * before returning. */
struct kt__vm_cfg;
struct kt__sched_cfg;
/* How long beyond the body's timeout a host point under a scheduler may
 * take, besides the scheduler's attach time (its stop and report). */
#define KT__SCHED_EXTRA_S 10
/* Seconds a scheduler has to reach "enabled" (KTSTR_SCHED_ATTACH_S). */
#define KT__SCHED_ATTACH_S 10
/* vm: NULL to run the body here, else the child boots a guest that runs
 * it (vm_host.c). sched: NULL, or the scheduler the child starts and
 * watches around the body (sched_point.c; a host point). forward_fd: -1,
 * or where each wire line but RMDIR is copied as it arrives (the guest's
 * PID 1 relays to the host this way).
 * evidence: KT__EVIDENCE_* bits, what the body sends besides failures. */
void kt__child_supervise(const kt_scenario *s, kt_ctx *ctx, int sigfd,
                         const sigset_t *child_mask, const struct kt__vm_cfg *vm,
                         const struct kt__sched_cfg *sched, int forward_fd, unsigned evidence,
                         kt__result *r);

/* Fills set with the signals a supervisor takes through its signalfd
 * instead of dying (kt__child_supervise's sigfd): SIGCHLD, SIGINT,
 * SIGTERM and SIGHUP. */
void kt__child_signals(sigset_t *set);

/* ---- vm_host.c, vm_guest.c: VM mode ------------------------------------ */

/* A guest that has not reached /init (no BOOT line) within this many
 * seconds (KTSTR_VM_BOOT_S) is stuck: the slowest boot seen here, 4 vCPUs
 * on this 2-CPU host beside a spinner, is far below it. Under TCG a
 * loaded host was seen to leave a guest silent (an empty console) for
 * good: such a guest is booted again (vm_host.c). */
#define KT__VM_BOOT_S 30
/* How long beyond the body's timeout a VM point may take: boot and
 * power-off, and up to two boots again after a guest stuck before /init
 * (KT__VM_BOOT_S each). */
#define KT__VM_EXTRA_S 100

typedef struct kt__vm_cfg {
    bool all;                  /* --vm: every scenario, not only those with .vm */
    const char *kernel, *qemu, *accel;   /* NULL: the defaults */
    kt_topology topology;      /* the run's default (resolved), or all 0 */
    const char *cache_dir;     /* guest images */
    const char *scheduler;     /* --scheduler / KTSTR_SCHEDULER, or NULL */
    unsigned sched_attach_s;   /* KTSTR_SCHED_ATTACH_S, else KT__SCHED_ATTACH_S */
    const char *sched_fault;   /* KTSTR_SCHED_FAULT (checked), or NULL */
    unsigned boot_s;           /* KTSTR_VM_BOOT_S, else KT__VM_BOOT_S */
} kt__vm_cfg;

/* True when s runs in a guest under cfg. */
bool kt__vm_wanted(const kt_scenario *s, const kt__vm_cfg *cfg);

/* In the scenario's child, instead of the body: boots the guest, relays
 * its wire lines to ctx's wire, watches its vCPUs during the body, adds
 * the host check's claims ("host.") and the VM, END and CONSOLE lines. */
void kt__vm_point(const kt_scenario *s, kt_ctx *ctx, int wire_fd, const kt__vm_cfg *cfg);

/* True in the guest's PID 1 (KTSTR_GUEST in the environment). */
bool kt__vm_is_guest(void);
/* The guest's PID 1: runs KTSTR_GUEST's scenario and powers off. */
__attribute__((noreturn)) void kt__vm_guest_main(const kt_scenario *list, size_t n);

#endif
