/* Kind "scheduler": one point under the scheduler under test, in the
 * process that owns the scheduler: the guest's PID 1, or on a host with
 * sched_ext the point's child. The body runs one level further down, as
 * a plain point in a runner child that kills every child it has when the
 * body ends; the scheduler must live until then and be watched
 * meanwhile, so its owner is the level above. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/clock.h"
#include "runner/point.h"
#include "runner/sched.h"
#include "runner/wire.h"

/* The end of the run in the words of the END line. */
static void report_end(int fd, const kt__result *r, const kt_ctx *ctx)
{
    static const char *const kinds[] = {
        [KT__END_EXITED] = "exited", [KT__END_SIGNALED] = "signaled",
        [KT__END_TIMEOUT] = "timeout", [KT__END_INTERRUPTED] = "error",
        [KT__END_START_FAILED] = "error", [KT__END_PANIC] = "error",
        [KT__END_GUEST_ERROR] = "error",
    };
    char arg[KT_ERR_MSG_MAX + 32];

    if (r->end == KT__END_START_FAILED || r->end == KT__END_GUEST_ERROR)
        snprintf(arg, sizeof(arg), "%s", r->start_error.msg);
    else if (r->end == KT__END_TIMEOUT)
        snprintf(arg, sizeof(arg), "%u", ctx->timeout_s);
    else if (r->end == KT__END_INTERRUPTED)
        snprintf(arg, sizeof(arg), "runner interrupted by %s", kt_signal_name(r->status));
    else
        snprintf(arg, sizeof(arg), "%d", r->status);
    kt__wire_send_end(fd, kinds[r->end], arg);
}

/* The runner child's signalfd, as kt__child_supervise wants it. */
static int block_signals(sigset_t *old)
{
    sigset_t set;

    kt__child_signals(&set);
    if (sigprocmask(SIG_BLOCK, &set, old) < 0)
        return -1;
    return signalfd(-1, &set, SFD_CLOEXEC);
}

/* A scheduler that could not start or never attached: its report, and
 * an END that says the body did not run. */
static void sched_only(kt__sched *sc, const char *spec, const kt_err *err, int wire)
{
    if (err) {
        const char *f[2] = { err->msg, "" };

        kt__wire_send(wire, "SCHED", &spec, 1);
        kt__wire_send(wire, "SCHEDFAIL", f, 2);
    } else {
        kt__sched_stop(sc);
        kt__sched_report(sc, wire);
    }
    kt__wire_send_end(wire, "exited", "0");
}

void kt__sched_point(const kt_scenario *s, kt_ctx *ctx, const kt__sched_cfg *cfg, int wire,
                     unsigned evidence)
{
    bool sched = cfg && cfg->spec && *cfg->spec;
    kt__sched sc;
    kt_err err = { 0 };
    sigset_t old;
    pid_t runner;
    int st, sigfd = block_signals(&old);

    if (sigfd < 0) {
        kt__wire_send_end(wire, "error", "runner: signalfd failed");
        return;
    }
    if (sched) {
        int rc = kt__sched_start(&sc, cfg->spec, cfg->attach_s, cfg->fault, &err);

        if (rc < 0 || sc.failed) {
            sched_only(&sc, cfg->spec, rc < 0 ? &err : NULL, wire);
            kt__sched_free(&sc);
            goto out;
        }
        ctx->scheduler = sc.ops;
    }
    fflush(NULL);
    runner = fork();
    if (runner == 0) {
        kt__result r;

        prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
        kt__child_supervise(s, ctx, sigfd, &old, &kt__point_plain, NULL, wire, evidence, 0,
                            &r);
        report_end(wire, &r, ctx);
        kt__result_fini(&r);
        _exit(0);
    }
    /* The runner alone: the scheduler program's death is kt__sched_poll's. */
    while (runner > 0) {
        pid_t w = waitpid(runner, &st, WNOHANG);

        if (w == runner || (w < 0 && errno != EINTR))
            break;
        if (sched)
            kt__sched_poll(&sc);
        if (w <= 0)
            kt__sleep_ns(10000000);   /* the scheduler is watched every 10 ms */
    }
    if (runner < 0)
        kt__wire_send_end(wire, "error", "runner: fork of the runner child failed");
    if (sched) {
        kt__sched_stop(&sc);
        kt__sched_report(&sc, wire);
        kt__sched_free(&sc);
    }
out:
    close(sigfd);
    sigprocmask(SIG_SETMASK, &old, NULL);
}

static unsigned sched_extra_s(const void *cfg)
{
    const kt__sched_cfg *c = cfg;

    return c->attach_s + KT__SCHED_EXTRA_S;
}

static void sched_run(const kt_scenario *s, kt__run_ctx *rc, const void *cfg)
{
    kt__sched_point(s, &rc->pub, cfg, rc->wire_fd, rc->evidence);
}

const kt__point_kind kt__point_sched = { "scheduler", sched_extra_s, sched_run };
