/*
 * VM mode, the guest's side: the scenario binary started by the kernel as
 * PID 1. It mounts what a scenario expects, runs the one scenario named on
 * the kernel command line exactly as the host runner would (its own forked
 * child, the timeout, crash reporting), streams the child's wire lines to
 * the host over ttyS1, says how the body ended, and powers off.
 *
 * The kernel hands command-line words of the form NAME=value without a dot
 * to init as environment variables: KTSTR_GUEST (the scenario),
 * KTSTR_GUEST_TIMEOUT and KTSTR_VERBOSE.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <sys/utsname.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "guest/guest.h"
#include "runner.h"
#include "sched.h"

#define GUEST_WIRE "/dev/ttyS1"

bool kt__vm_is_guest(void)
{
    return getpid() == 1 && getenv("KTSTR_GUEST") != NULL;
}

/* ttyS1 raw: no newline translation, no echo, nothing the wire did not say. */
static int open_wire(kt_err *err)
{
    struct termios t;
    int fd = open(GUEST_WIRE, O_WRONLY | O_NOCTTY | O_CLOEXEC);

    if (fd < 0)
        return kt_err_sys(err, errno, "guest: open %s", GUEST_WIRE);
    if (tcgetattr(fd, &t) == 0) {
        cfmakeraw(&t);
        if (tcsetattr(fd, TCSANOW, &t) < 0) {
            kt_err_sys(err, errno, "guest: raw mode on %s", GUEST_WIRE);
            close(fd);
            return -1;
        }
    }
    return fd;
}

static void send_boot(int fd)
{
    struct timespec ts;
    struct utsname u;
    char up[24];
    const char *f[2] = { up, u.release };

    clock_gettime(CLOCK_BOOTTIME, &ts);
    if (uname(&u) < 0)
        snprintf(u.release, sizeof(u.release), "unknown");
    snprintf(up, sizeof(up), "%lld", (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
    kt__wire_send(fd, "BOOT", f, 2);
}

void kt__vm_send_end(int fd, const char *kind, const char *arg)
{
    const char *f[2] = { kind, arg };

    kt__wire_send(fd, "END", f, 2);
}

/* The end of the run in the host's words. */
static void report(int fd, const kt__result *r, const kt_ctx *ctx)
{
    static const char *const kinds[] = {
        [KT__END_EXITED] = "exited", [KT__END_SIGNALED] = "signaled",
        [KT__END_TIMEOUT] = "timeout", [KT__END_INTERRUPTED] = "error",
        [KT__END_START_FAILED] = "error",
    };
    char arg[KT_ERR_MSG_MAX + 32];

    if (r->end == KT__END_START_FAILED)
        snprintf(arg, sizeof(arg), "%s", r->start_error.msg);
    else if (r->end == KT__END_TIMEOUT)
        snprintf(arg, sizeof(arg), "%u", ctx->timeout_s);
    else if (r->end == KT__END_INTERRUPTED)
        snprintf(arg, sizeof(arg), "guest runner interrupted by %s", kt_signal_name(r->status));
    else
        snprintf(arg, sizeof(arg), "%d", r->status);
    kt__vm_send_end(fd, kinds[r->end], arg);
}

static const kt_scenario *find(const kt_scenario *list, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i].name, name) == 0)
            return &list[i];
    return NULL;
}

static int signals(sigset_t *old)
{
    sigset_t set;

    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    if (sigprocmask(SIG_BLOCK, &set, old) < 0)
        return -1;
    return signalfd(-1, &set, SFD_CLOEXEC);
}

/* "%xx" escapes back to bytes, in place (the host encodes the scheduler's
 * spec so that the kernel command line keeps it one word). */
static void unpercent(char *s)
{
    char *w = s;

    for (; *s; s++) {
        unsigned v;

        if (*s == '%' && sscanf(s + 1, "%2x", &v) == 1) {
            *w++ = (char)v;
            s += 2;
        } else {
            *w++ = *s;
        }
    }
    *w = '\0';
}

/* The body in a forked runner child (a subreaper, as the host's runner):
 * it kills every child it has when the body ends, and PID 1 must keep
 * the scheduler under test alive until then, watching it meanwhile. */
static void run_point(const kt_scenario *s, kt_ctx *ctx, int wire, int sigfd,
                      const sigset_t *old)
{
    const char *spec = getenv("KTSTR_GUEST_SCHED");
    const char *attach = getenv("KTSTR_GUEST_SCHED_ATTACH_S");
    char spec_buf[1024];
    kt__sched sc;
    kt_err err = { 0 };
    pid_t runner;
    int st;

    if (spec && *spec) {
        snprintf(spec_buf, sizeof(spec_buf), "%s", spec);
        unpercent(spec_buf);
        if (kt__sched_start(&sc, spec_buf, attach ? (unsigned)atoi(attach) : 10, &err) < 0) {
            const char *f[2] = { err.msg, "" };

            kt__wire_send(wire, "SCHED", (const char *const[]){ spec_buf }, 1);
            kt__wire_send(wire, "SCHEDFAIL", f, 2);
            kt__vm_send_end(wire, "exited", "0");
            kt__sched_free(&sc);
            return;
        }
        if (sc.failed) {
            kt__sched_stop(&sc);
            kt__sched_report(&sc, wire);
            kt__vm_send_end(wire, "exited", "0");
            kt__sched_free(&sc);
            return;
        }
        ctx->scheduler = sc.ops;
    }
    fflush(NULL);
    runner = fork();
    if (runner == 0) {
        kt__result r;
        /* what the host's runner collects besides failures (evidence.h) */
        const char *evidence = getenv("KTSTR_GUEST_EVIDENCE");

        prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
        kt__child_supervise(s, ctx, sigfd, old, NULL, wire,
                            evidence ? (unsigned)strtoul(evidence, NULL, 10) : 0, &r);
        report(wire, &r, ctx);
        kt__result_fini(&r);
        _exit(0);
    }
    while (runner > 0) {
        pid_t w = waitpid(-1, &st, WNOHANG);

        if (w == runner)
            break;
        if (w < 0 && errno == ECHILD)
            break;
        if (spec && *spec)
            kt__sched_poll(&sc);
        if (w <= 0)
            kt__sleep_ns(10000000);   /* the scheduler is watched every 10 ms */
    }
    if (runner < 0)
        kt__vm_send_end(wire, "error", "guest: fork of the runner failed");
    if (spec && *spec) {
        kt__sched_stop(&sc);
        kt__sched_report(&sc, wire);
        kt__sched_free(&sc);
    }
}

void kt__vm_guest_main(const kt_scenario *list, size_t n)
{
    const char *name = getenv("KTSTR_GUEST");
    const char *timeout = getenv("KTSTR_GUEST_TIMEOUT");
    const char *verbose = getenv("KTSTR_VERBOSE");
    const char *topology = getenv("KTSTR_GUEST_TOPOLOGY");
    kt_ctx ctx = { .name = name, .in_vm = true };
    const kt_scenario *s;
    kt_err err = { 0 };
    sigset_t old;
    int wire, sigfd;

    if (kt__guest_mount_all(&err) < 0)
        fprintf(stderr, "ktstr: %s\n", err.msg);   /* the console shows it */
    wire = open_wire(&err);
    if (wire < 0) {
        fprintf(stderr, "ktstr: %s\n", err.msg);
        kt__guest_power_off();
    }
    send_boot(wire);
    s = find(list, n, name);
    sigfd = signals(&old);
    if (!s || sigfd < 0) {
        char why[300];

        snprintf(why, sizeof(why), !s ? "guest: no scenario named '%s' in this binary"
                                      : "guest: signalfd failed (%s)", !s ? name : strerror(errno));
        kt__vm_send_end(wire, "error", why);
        tcdrain(wire);
        kt__guest_power_off();
    }
    ctx.timeout_s = timeout ? (unsigned)strtoul(timeout, NULL, 10) : 0;
    ctx.verbose = verbose && strcmp(verbose, "1") == 0;
    ctx.ncpus = kt__affinity_cpus();
    if (topology)
        kt_topology_parse(topology, &ctx.topology, NULL);
    kt_topology_resolve(&ctx.topology);
    /* Requirements are judged here, where the body runs. */
    if (kt__reqs_check(&s->opts, ctx.ncpus, &err) < 0) {
        const char *f[2] = { "0", "0" };

        kt__wire_send(wire, "SKIP", (const char *const[]){ err.msg }, 1);
        kt__wire_send(wire, "DONE", f, 2);
        kt__vm_send_end(wire, "exited", "0");
        tcdrain(wire);
        kt__guest_power_off();
    }
    run_point(s, &ctx, wire, sigfd, &old);
    tcdrain(wire);
    kt__guest_power_off();
}
