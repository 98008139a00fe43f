/* kt_main: picks the scenarios the command line asks for, chooses each
 * one's kind of point (point.h), runs it in its own child (supervise.c)
 * and reports every result as one TAP 13 point, with each failure
 * repeated on stderr for plain prove. */
#include <errno.h>
#include <fnmatch.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "base/escape.h"
#include "evidence/evidence.h"
#include "ktstr/scx.h"
#include "ktstr/tap.h"
#include "runner/inconclusive.h"
#include "runner/point.h"
#include "runner/reqs.h"
#include "runner/runner.h"
#include "runner/sched.h"
#include "runner/vm.h"
#include "verdict/verdict_item.h"

/* What the run loop holds, passed down instead of living in globals. */
typedef struct run {
    kt_tap tap;
    const kt__cli *cli;
    int sigfd;
    sigset_t child_mask;
    int ncpus;
    bool any_not_ok;
    unsigned inconclusive;     /* points the host's starvation excused */
    kt__vm_cfg vm;
    kt__vm_guest guest;        /* the guest VM points share (vm_guests.c) */
    kt__evidence ev;           /* artifacts and baseline (evidence/evidence.h) */
} run;

/* ---- the TAP report --------------------------------------------------- */

static void yaml_claim(kt_tap *t, const kt_claim_record *c, bool with_message)
{
    kt_tap_yaml_item_map(t);
    kt_tap_yaml_str(t, "label", c->label);
    kt_tap_yaml_str(t, "op", c->op);
    kt_tap_yaml_str(t, "expected", c->expected);
    kt_tap_yaml_str(t, "actual", c->actual);
    if (with_message)
        kt_tap_yaml_str(t, "message", c->message);
    if (c->file && *c->file)
        kt_tap_yaml_strf(t, "at", "%s:%d", c->file, c->line);
    if (c->timed)   /* host starvation may excuse it (README: On a busy machine) */
        kt_tap_yaml_str(t, "timing", "true");
    kt_tap_yaml_close(t);
}

/* The list entry that stands for n claims not kept ("op": "dropped"). */
static void yaml_dropped(kt_tap *t, uint64_t n, const char *what)
{
    char s[KT__MORE_MAX];

    kt_tap_yaml_item_map(t);
    kt_tap_yaml_str(t, "op", "dropped");
    kt_tap_yaml_str(t, "message", kt__more_not_kept(s, n, what));
    kt_tap_yaml_close(t);
}

/* The failures the parent kept, plus one entry for those it could not,
 * under key ("failures"; "inconclusive" for those starvation excused). */
static void yaml_failures(kt_tap *t, const kt__result *r, const char *key)
{
    uint64_t shown = r->v.failures_kept;

    if (shown == 0 && r->failed == 0)
        return;
    kt_tap_yaml_list(t, key);
    for (size_t i = 0; i < r->v.failures_kept; i++)
        yaml_claim(t, kt_verdict_failure(&r->v, i), true);
    if (r->failed > shown)
        yaml_dropped(t, r->failed - shown, "failures");
    kt_tap_yaml_close(t);
}

static void yaml_passes(kt_tap *t, const kt__result *r)
{
    struct kt__verdict_item *const *pass = r->passes.v;

    kt_tap_yaml_list(t, "passes");
    for (size_t i = 0; i < r->passes.n; i++)
        yaml_claim(t, &pass[i]->rec, false);
    if (r->passes_dropped)
        yaml_dropped(t, r->passes_dropped, "passes");
    kt_tap_yaml_close(t);
}

/* Notes the parent could not keep: the child's beyond the bound and the
 * runner's own lost for want of memory. */
static uint64_t notes_dropped(const kt__result *r)
{
    return r->v.notes_dropped + r->cleanup_dropped;
}

static bool has_notes(const kt__result *r)
{
    return r->v.notes_kept || r->cleanup.n || notes_dropped(r) || r->bad_lines ||
           r->dropped;
}

static void yaml_notes(kt_tap *t, const kt__result *r)
{
    char *const *cleanup = r->cleanup.v;

    if (!has_notes(r))
        return;
    kt_tap_yaml_list(t, "notes");
    for (size_t i = 0; i < r->v.notes_kept; i++)
        kt_tap_yaml_item_str(t, kt_verdict_note_text(&r->v, i));
    for (size_t i = 0; i < r->cleanup.n; i++)
        kt_tap_yaml_item_str(t, cleanup[i]);
    if (r->dropped)
        kt_tap_yaml_item_str(t, r->dropped);
    if (notes_dropped(r)) {
        char s[KT__MORE_MAX];

        kt_tap_yaml_item_str(t, kt__more_not_kept(s, notes_dropped(r), "notes"));
    }
    if (r->bad_lines) {
        char s[80];

        snprintf(s, sizeof(s), "%llu malformed lines from the child dropped",
                 (unsigned long long)r->bad_lines);
        kt_tap_yaml_item_str(t, s);
    }
    kt_tap_yaml_close(t);
}

/* The changes the body made mid-run (kt_ctx_changes), in their order:
 * what, when planned and made (ms after the changes began), the result. */
static void yaml_ops(kt_tap *t, const kt__result *r)
{
    const kt__opres *op = r->ops.v;

    if (!r->ops.n)
        return;
    kt_tap_yaml_list(t, "ops");
    for (size_t i = 0; i < r->ops.n; i++) {
        kt_tap_yaml_item_map(t);
        kt_tap_yaml_str(t, "op", op[i].what);
        kt_tap_yaml_int(t, "planned_ms", (int64_t)op[i].planned_ms);
        if (op[i].actual_ms >= 0) {
            kt_tap_yaml_strf(t, "actual_ms", "%.1f", op[i].actual_ms);
            kt_tap_yaml_strf(t, "took_ms", "%.2f", op[i].took_ms);
        }
        kt_tap_yaml_str(t, "result", op[i].result);
        kt_tap_yaml_close(t);
    }
    kt_tap_yaml_close(t);
}

/* VM mode: the vm: map, and the guest's last console lines when the guest
 * itself failed (a panic, a guest that never reported). */
static void yaml_vm(kt_tap *t, const kt__result *r)
{
    char *const *line = r->console.v;

    if (r->vm) {
        kt_tap_yaml_map(t, "vm");
        kt_tap_yaml_str(t, "accel", r->vm_accel);
        kt_tap_yaml_str(t, "kernel", r->vm_kernel);
        kt_tap_yaml_str(t, "topology", r->vm_topology);
        kt_tap_yaml_int(t, "boot_ms", r->boot_ms);
        if (r->vm_boot)
            kt_tap_yaml_int(t, "boot", r->vm_boot);
        if (r->host_steal.n) {
            const kt__steal *st = r->host_steal.v;

            /* how long the host kept each vCPU off a CPU during the body */
            kt_tap_yaml_list(t, "host_steal");
            for (size_t i = 0; i < r->host_steal.n; i++) {
                kt_tap_yaml_item_map(t);
                kt_tap_yaml_int(t, "vcpu", st[i].vcpu);
                kt_tap_yaml_int(t, "ms", (int64_t)(st[i].ms + 0.5));
                kt_tap_yaml_strf(t, "share", "%.4f", st[i].share);
                kt_tap_yaml_close(t);
            }
            kt_tap_yaml_close(t);
        }
        kt_tap_yaml_close(t);
    }
    if (r->console.n == 0)
        return;
    kt_tap_yaml_list(t, "console");
    for (size_t i = 0; i < r->console.n; i++)
        kt_tap_yaml_item_str(t, line[i]);
    kt_tap_yaml_close(t);
}

static void yaml_lines(kt_tap *t, const char *key, const kt__vec *l)
{
    kt_tap_yaml_list(t, key);
    for (size_t i = 0; i < l->n; i++)
        kt_tap_yaml_item_str(t, ((char **)l->v)[i]);
    kt_tap_yaml_close(t);
}

/* The scheduler: map: its name, and for a failure the kernel's reason,
 * its log lines, the scheduler's output and the dump. */
static void yaml_sched(kt_tap *t, const kt__result *r)
{
    if (!r->sched_name)
        return;
    kt_tap_yaml_map(t, "scheduler");
    kt_tap_yaml_str(t, "name", r->sched_name);
    if (r->sched_attach_ms >= 0)
        kt_tap_yaml_int(t, "attach_ms", r->sched_attach_ms);
    if (r->sched_failed) {
        kt_tap_yaml_str(t, "exit", r->sched_exit[0] ? r->sched_exit : r->sched_why);
        if (r->sched_has_detect)
            kt_tap_yaml_int(t, "detect_ms", r->sched_detect_ms);
        yaml_lines(t, "kernel_log", &r->sched_log);
        yaml_lines(t, "output", &r->sched_out);
        if (r->sched_dump.n)
            yaml_lines(t, "dump", &r->sched_dump);
    }
    kt_tap_yaml_close(t);
}

/* The point's outcome, and for anything but a pass or a skip the message
 * that says why. */
static kt_outcome outcome(const kt__result *r, const kt_ctx *ctx, char *msg, size_t n)
{
    /* A guest kernel's panic first, then the scheduler's failure: both
     * outrank what the body did (a stalled body may well time out). */
    if (r->end == KT__END_PANIC) {
        snprintf(msg, n, "%s", r->start_error.msg);
        return KT_OUTCOME_PANIC;
    }
    if (r->sched_failed && !r->sched_eject_expected && r->end != KT__END_START_FAILED &&
        r->end != KT__END_INTERRUPTED) {
        if (r->sched_exit[0])
            snprintf(msg, n, "scheduler %s ejected by the kernel: %s",
                     r->sched_name ? r->sched_name : "?", r->sched_exit);
        else
            snprintf(msg, n, "scheduler %s: %s", r->sched_name ? r->sched_name : "?",
                     r->sched_why);
        return KT_OUTCOME_SCHEDULER;
    }
    switch (r->end) {
    case KT__END_START_FAILED:
        snprintf(msg, n, "could not start: %s", r->start_error.msg);
        return KT_OUTCOME_ERROR;
    case KT__END_TIMEOUT:
        if (r->deadline_ceiling)
            snprintf(msg, n, "timed out after %.0f s of wall time, the ceiling for its %u s "
                     "timeout", r->deadline_ms / 1000.0, ctx->timeout_s);
        else if (r->deadline_ms)
            snprintf(msg, n, "timed out after %.1f s of wall time: its %u s timeout and the "
                     "time other tasks took", r->deadline_ms / 1000.0, ctx->timeout_s);
        else
            snprintf(msg, n, "timed out after %u s",
                     r->timeout_s ? r->timeout_s : ctx->timeout_s);
        return KT_OUTCOME_TIMEOUT;
    case KT__END_SIGNALED:
        snprintf(msg, n, "killed by %s", kt_signal_name(r->status));
        return KT_OUTCOME_CRASH;
    case KT__END_EXITED:
        if (!r->done) {
            snprintf(msg, n, "exited with status %d before the scenario returned",
                     r->status);
            return KT_OUTCOME_ERROR;
        }
        if (r->status != 0) {
            snprintf(msg, n, "exited with status %d after the scenario returned",
                     r->status);
            return KT_OUTCOME_ERROR;
        }
        break;
    case KT__END_INTERRUPTED:
        snprintf(msg, n, "interrupted by %s", kt_signal_name(r->status));
        return KT_OUTCOME_ERROR;
    case KT__END_PANIC:
    case KT__END_GUEST_ERROR:
        snprintf(msg, n, "%s", r->start_error.msg);
        return KT_OUTCOME_ERROR;
    }
    if (r->failed) {
        snprintf(msg, n, "%llu of %llu claims failed", (unsigned long long)r->failed,
                 (unsigned long long)r->claims);
        return KT_OUTCOME_FAIL;
    }
    return kt_verdict_skip_reason(&r->v) ? KT_OUTCOME_SKIP : KT_OUTCOME_PASS;
}

/* A stderr line: \n, \t, other control bytes as \xNN (backslashes as is). */
static const kt__escape_rules oneline_rules = {
    .as = { ['\n'] = "\\n", ['\t'] = "\\t" },
};

/* Writes s keeping it on one line, a slice at a time through a buffer
 * that holds any slice escaped. */
static void put_oneline(const char *s)
{
    enum { SLICE = 256 };
    char buf[SLICE * KT__ESCAPE_MAX_WIDTH + 1];

    for (size_t left = strlen(s), k; left > 0; s += k, left -= k) {
        k = left < SLICE ? left : SLICE;
        kt__escape_n(buf, sizeof(buf), s, k, &oneline_rules);
        fputs(buf, stderr);
    }
}

static void stderr_lines(const char *name, const kt__result *r, const char *why)
{
    char more[KT__MORE_MAX];

    if (why)
        fprintf(stderr, "# %s: %s\n", name, why);
    for (size_t i = 0; i < r->v.failures_kept; i++) {
        const kt_claim_record *c = kt_verdict_failure(&r->v, i);

        fprintf(stderr, "# %s: ", name);
        put_oneline(c->message);
        if (c->file && *c->file)
            fprintf(stderr, " (%s:%d)", c->file, c->line);
        fputc('\n', stderr);
    }
    if (r->failed > r->v.failures_kept)
        fprintf(stderr, "# %s: %s\n", name,
                kt__more_not_kept(more, r->failed - r->v.failures_kept, "failures"));
    fflush(stderr);
}

static void report(run *rn, unsigned n, const kt_ctx *ctx, const kt__result *r)
{
    kt_tap *t = &rn->tap;
    char why[KT_ERR_MSG_MAX + 64], starved[320], skip[340];
    kt_outcome o = outcome(r, ctx, why, sizeof(why));
    bool excused = kt__inconclusive(r, o, &rn->cli->starve, starved, sizeof(starved));
    bool ok, skipped;
    kt__artifact_files files;

    if (excused) {
        o = KT_OUTCOME_INCONCLUSIVE;
        rn->inconclusive++;
        snprintf(skip, sizeof(skip), "inconclusive: %s", starved);
    }
    skipped = o == KT_OUTCOME_SKIP || (excused && !rn->cli->starve.strict);
    ok = o == KT_OUTCOME_PASS || skipped;
    kt__artifacts_point(&rn->ev, ctx->name, r, o, excused ? skip : why, &files);

    kt_tap_point(t, ok, n, ctx->name, skipped ? KT_TAP_SKIP : KT_TAP_NONE,
                 excused ? skip : kt_verdict_skip_reason(&r->v));
    if (!ok || excused) {
        if (excused && rn->cli->starve.strict)
            kt_tap_yaml_strf(t, "message", "%s: %s", skip, why);
        else
            kt_tap_yaml_str(t, "message", why);
        kt_tap_yaml_str(t, "severity", kt_outcome_name(o));
        if (o == KT_OUTCOME_CRASH)
            kt_tap_yaml_str(t, "signal", kt_signal_name(r->status));
        if (o == KT_OUTCOME_TIMEOUT)
            kt_tap_yaml_int(t, "timeout_s", r->timeout_s ? r->timeout_s : ctx->timeout_s);
        if (r->end == KT__END_TIMEOUT && r->deadline_ms)
            kt_tap_yaml_int(t, "deadline_ms", r->deadline_ms);
        if (o == KT_OUTCOME_ERROR && r->end == KT__END_EXITED)
            kt_tap_yaml_int(t, "exit_status", r->status);
        if (r->boot_steal == r->boot_steal)
            kt_tap_yaml_strf(t, "boot_steal", "%.4f", r->boot_steal);
        if (excused)
            kt_tap_yaml_strf(t, "steal_max", "%g", rn->cli->starve.steal_max);
    }
    /* what the rest of the machine took meanwhile: read it before blaming
     * the scheduler for a timing claim (and calibrate the rule with it) */
    if ((!ok || excused || rn->cli->verbose) && r->foreign_load == r->foreign_load)
        kt_tap_yaml_strf(t, "foreign_load", "%.2f", r->foreign_load);
    if (!ok || excused || rn->cli->verbose) {
        if (r->done || rn->cli->verbose)
            kt_tap_yaml_int(t, "claims", (int64_t)r->claims);
        yaml_failures(t, r, excused && !rn->cli->starve.strict ? "inconclusive" : "failures");
        if (rn->cli->verbose)
            yaml_passes(t, r);
    }
    if (!ok || excused)
        kt__artifacts_yaml(t, &files);
    kt__artifact_files_fini(&files);
    if (!ok || excused || rn->cli->verbose || has_notes(r) || r->vm || r->sched_name ||
        r->ops.n) {
        yaml_notes(t, r);
        yaml_ops(t, r);
        yaml_vm(t, r);
        yaml_sched(t, r);
        kt_tap_yaml_int(t, "duration_ms", r->duration_ms);
    }
    kt_tap_end(t);
    if (!ok) {
        rn->any_not_ok = true;
        stderr_lines(ctx->name, r, o == KT_OUTCOME_FAIL ? NULL : excused ? skip : why);
    } else if (excused) {
        fprintf(stderr, "# %s: %s\n", ctx->name, skip);
        fflush(stderr);
    }
}

/* The run's last stderr line when the host's starvation excused points. */
static void inconclusive_summary(const run *rn)
{
    if (!rn->inconclusive)
        return;
    fprintf(stderr, "ktstr: %u point%s inconclusive (host starvation); %s\n",
            rn->inconclusive, rn->inconclusive == 1 ? "" : "s",
            rn->cli->starve.strict ? "failed by KTSTR_STRICT=1" : "KTSTR_STRICT=1 fails them");
    fflush(stderr);
}

/* ---- the run loop ----------------------------------------------------- */

/* Where guest images are kept: $KTSTR_CACHE, else $XDG_CACHE_HOME/ktstr,
 * else ~/.cache/ktstr, else /tmp/ktstr-cache-<uid>. */
static const char *cache_dir(char *buf, size_t n)
{
    const char *own = getenv("KTSTR_CACHE"), *xdg = getenv("XDG_CACHE_HOME");
    const char *home = getenv("HOME");

    if (own && *own)
        snprintf(buf, n, "%s", own);
    else if (xdg && *xdg == '/')
        snprintf(buf, n, "%s/ktstr", xdg);
    else if (home && *home == '/')
        snprintf(buf, n, "%s/.cache/ktstr", home);
    else
        snprintf(buf, n, "/tmp/ktstr-cache-%u", (unsigned)getuid());
    return buf;
}

/* Any INT/TERM/HUP waiting on the signalfd (SIGCHLDs are dropped). */
static int pending_interrupt(int sigfd)
{
    struct signalfd_siginfo si[8];
    ssize_t got;
    int sig = 0;

    while ((got = read(sigfd, si, sizeof(si))) > 0)
        for (ssize_t i = 0; i < got / (ssize_t)sizeof(si[0]); i++)
            if (si[i].ssi_signo != SIGCHLD && !sig)
                sig = (int)si[i].ssi_signo;
    return sig;
}

static void bail_out(run *rn, int sig)
{
    fprintf(stderr, "# interrupted by %s: the running scenario was stopped\n",
            kt_signal_name(sig));
    kt_tap_bail_out(&rn->tap, "interrupted");
}

/* A scheduler for a point on this machine needs this kernel's sched_ext:
 * without it the point skips, saying so. */
static int host_sched_check(const char *spec, kt_err *why)
{
    char state[64];
    kt_err no = { 0 };

    if (!spec || kt_scx_state(state, sizeof(state), &no) >= 0)
        return 0;
    return kt_err_set(why, ENOTSUP, "scheduler %s: %s (run it in a guest: --vm)", spec, no.msg);
}

/* .expect_eject: the scheduler under test was meant to be ejected with a
 * matching message. That ejection is then the point's claim
 * "sched.ejected" rather than its failure; no ejection, or another one,
 * fails the claim. */
static void expect_eject(const kt_scenario *s, kt__result *r)
{
    const char *want = s->opts.expect_eject;
    const char *exit = r->sched_exit[0] ? r->sched_exit : r->sched_why;
    char why[KT_ERR_MSG_MAX + 600];

    if (!want || !r->sched_name || r->end == KT__END_START_FAILED ||
        r->end == KT__END_INTERRUPTED)
        return;
    if (r->sched_failed && fnmatch(want, exit, 0) == 0)
        r->sched_eject_expected = true;
    else if (r->sched_failed)
        snprintf(why, sizeof(why), "expected the scheduler ejected with \"%s\", was: %s", want,
                 exit);
    else
        snprintf(why, sizeof(why), "expected the scheduler ejected with \"%s\"; it stayed "
                 "attached", want);
    r->claims++;
    if (!kt_claim_ok(&r->v, "sched.ejected", r->sched_eject_expected ? NULL : why, s->file,
                     s->line))
        r->failed++;
}

/* Runs the selected scenarios; returns the exit status. */
static int run_all(run *rn, const kt_scenario *const *sel, size_t nsel)
{
    kt_tap_version(&rn->tap);
    kt_tap_plan(&rn->tap, (unsigned)nsel);
    for (size_t i = 0; i < nsel; i++) {
        const kt_scenario *s = sel[i];
        kt_ctx ctx = { .name = s->name, .ncpus = rn->ncpus,
                        .timeout_s = s->opts.timeout_s, .verbose = rn->cli->verbose };
        bool in_vm = kt__vm_wanted(s, &rn->vm);
        const char *spec = rn->cli->scheduler ? rn->cli->scheduler : s->opts.scheduler;
        kt__sched_cfg sched = { .spec = spec, .attach_s = rn->vm.sched_attach_s,
                                .fault = rn->cli->sched_fault };
        kt__result r;
        kt_err why = { 0, "" };

        if (rn->cli->timeout_s)
            ctx.timeout_s = rn->cli->timeout_s;
        /* A guest's requirements are the guest's: its PID 1 checks them. */
        if (!in_vm && (kt__reqs_check(&s->opts, rn->ncpus, &why) < 0 ||
                       host_sched_check(spec, &why) < 0)) {
            kt__artifacts_skip(&rn->ev, ctx.name, why.msg);
            kt_tap_point(&rn->tap, true, (unsigned)i + 1, s->name, KT_TAP_SKIP, why.msg);
            kt_tap_end(&rn->tap);
            continue;
        }
        if (in_vm)
            kt__vm_point_run(&rn->guest, s, &ctx, rn->sigfd, &rn->child_mask, &rn->vm,
                             rn->ev.want, &r);
        else
            kt__child_supervise(s, &ctx, rn->sigfd, &rn->child_mask,
                                spec ? &kt__point_sched : &kt__point_plain,
                                spec ? &sched : NULL, -1, rn->ev.want, 0, &r);
        expect_eject(s, &r);
        kt__baseline_check(&rn->ev, ctx.name, &r);
        if (r.end == KT__END_INTERRUPTED) {
            int sig = r.status;

            kt__result_fini(&r);
            bail_out(rn, sig);
            return 128 + sig;
        }
        report(rn, (unsigned)i + 1, &ctx, &r);
        kt__result_fini(&r);
    }
    inconclusive_summary(rn);
    return rn->any_not_ok ? 1 : 0;
}

/* Sets up signals and the subreaper around run_all, and undoes them. */
static int run_supervised(run *rn, const kt_scenario *const *sel, size_t nsel)
{
    sigset_t watch;
    struct sigaction dfl, old_chld;
    int old_reaper = 0, rc, sig;

    kt__child_signals(&watch);
    /* SIGCHLD ignored would reap children behind our back. */
    memset(&dfl, 0, sizeof(dfl));
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    if (sigaction(SIGCHLD, &dfl, &old_chld) < 0 ||
        sigprocmask(SIG_BLOCK, &watch, &rn->child_mask) < 0) {
        fprintf(stderr, "# runner: signals: %s\n", strerror(errno));
        return 1;
    }
    rn->sigfd = signalfd(-1, &watch, SFD_CLOEXEC | SFD_NONBLOCK);
    prctl(PR_GET_CHILD_SUBREAPER, &old_reaper, 0, 0, 0);
    if (rn->sigfd < 0 || prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0) {
        fprintf(stderr, "# runner: %s: %s\n", rn->sigfd < 0 ? "signalfd" : "subreaper",
                strerror(errno));
        rc = 1;
    } else {
        kt__vm_guest_init(&rn->guest);
        rc = run_all(rn, sel, nsel);
        kt__vm_guest_end(&rn->guest);
        /* A Ctrl-C after the last scenario still means "interrupted". */
        if (rc < 128 && (sig = pending_interrupt(rn->sigfd)) != 0) {
            bail_out(rn, sig);
            rc = 128 + sig;
        }
    }
    prctl(PR_SET_CHILD_SUBREAPER, old_reaper, 0, 0, 0);
    if (rn->sigfd >= 0)
        close(rn->sigfd);
    sigprocmask(SIG_SETMASK, &rn->child_mask, NULL);
    sigaction(SIGCHLD, &old_chld, NULL);
    return rc;
}

int kt_main(int argc, char **argv)
{
    const char *prog = argc > 0 && argv[0] ? argv[0] : "ktstr";
    const kt_scenario *all;
    const kt_scenario **sel = NULL;
    size_t nall, nsel = 0;
    kt__cli cli;
    kt_err err = { 0, "" };
    run rn;
    char cache[4096];
    int rc;

    /* The kernel started this binary as a guest's init: no command line. */
    if (kt__vm_is_guest() && kt__registry_get(&all, &nall, &err) == 0)
        kt__vm_guest_main(all, nall);
    if (kt__cli_parse(&cli, argc, argv, &err) < 0) {
        fprintf(stderr, "%s: %s\n", prog, err.msg);
        kt__cli_usage(stderr, prog);
        kt__cli_fini(&cli);
        return 2;
    }
    if (cli.help) {
        kt__cli_usage(stdout, prog);
        kt__cli_fini(&cli);
        return 0;
    }
    memset(&rn, 0, sizeof(rn));
    rn.cli = &cli;
    kt_tap_init_file(&rn.tap, stdout);
    if (kt__registry_get(&all, &nall, &err) < 0) {
        /* A broken program, not a failing scenario: stop prove as well. */
        fprintf(stderr, "%s: %s\n", prog, err.msg);
        kt_tap_version(&rn.tap);
        kt_tap_bail_out(&rn.tap, err.msg);
        rc = 2;
        goto out;
    }
    sel = calloc(nall ? nall : 1, sizeof(*sel));
    if (!sel) {
        fprintf(stderr, "%s: out of memory\n", prog);
        rc = 1;
        goto out;
    }
    for (size_t i = 0, k = 0; i < nall; i++)
        if (kt__cli_selects(&cli, all[i].name) && kt__cli_in_shard(&cli, (unsigned)k++))
            sel[nsel++] = &all[i];
    if (cli.list || cli.describe) {
        for (size_t i = 0; i < nsel; i++) {
            const char *purpose = sel[i]->opts.purpose ? sel[i]->opts.purpose : "";

            if (cli.describe)
                printf("%s\t%s\n", sel[i]->name, purpose);
            else
                printf("%s\n", sel[i]->name);
        }
        rc = fflush(stdout) == 0 ? 0 : 1;
        goto out;
    }
    if (nsel == 0) {
        /* A filter that matches nothing is a visible skip, not an error:
         * `prove dir/ :: --filter X` passes the same filter to every file. */
        const char *why = !nall ? "no scenarios registered"
                          : cli.shard_n > 1 ? "no scenario in this --shard of the selection"
                                            : "no scenario matches --filter";

        fprintf(stderr, "# %s: %s\n", prog, why);
        kt_tap_version(&rn.tap);
        kt_tap_plan_skip_all(&rn.tap, why);
        rc = 0;
        goto out;
    }
    if (kt__evidence_open(&rn.ev, cli.artifacts, cli.baseline, cli.baseline_rel,
                          cli.baseline_abs, &err) < 0) {
        fprintf(stderr, "%s: %s\n", prog, err.msg);
        rc = 2;
        goto out;
    }
    rn.ncpus = kt__affinity_cpus();
    rn.vm = (kt__vm_cfg){ .all = cli.vm, .reuse = cli.vm_reuse, .kernel = cli.kernel, .qemu = cli.qemu,
                          .accel = cli.accel, .topology = cli.topology,
                          .cache_dir = cache_dir(cache, sizeof(cache)),
                          .scheduler = cli.scheduler,
                          .sched_attach_s = cli.sched_attach_s ? cli.sched_attach_s
                                                               : KT__SCHED_ATTACH_S,
                          .sched_fault = cli.sched_fault,
                          .guest_fault = cli.guest_fault,
                          .boot_s = cli.vm_boot_s ? cli.vm_boot_s : KT__VM_BOOT_S };
    rc = run_supervised(&rn, sel, nsel);
out:
    free(sel);
    kt_tap_fini(&rn.tap);
    kt__cli_fini(&cli);
    return rc;
}
