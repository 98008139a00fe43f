/*
 * VM mode, the guest's side: the scenario binary started by the kernel as
 * PID 1. It mounts what a scenario expects, runs the one scenario named on
 * the kernel command line exactly as the host runner would (its own forked
 * child, the timeout, crash reporting), streams the child's wire lines to
 * the host over ttyS1, says how the body ended, and powers off.
 *
 * The kernel hands command-line words of the form NAME=value without a dot
 * to init as environment variables: KTSTR_GUEST (the scenario),
 * KTSTR_GUEST_TIMEOUT, KTSTR_VERBOSE and the KTSTR_GUEST_SCHED... of the
 * scheduler under test (sched_point.c runs the point around it).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "guest/guest.h"
#include "runner/reqs.h"
#include "runner/sched.h"
#include "runner/vm.h"
#include "runner/wire.h"

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

static const kt_scenario *find(const kt_scenario *list, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i].name, name) == 0)
            return &list[i];
    return NULL;
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

/* The point, under the scheduler the host named (percent-encoded so
 * that the kernel command line keeps it one word), if any. */
static void run_point(const kt_scenario *s, kt_ctx *ctx, int wire)
{
    const char *spec = getenv("KTSTR_GUEST_SCHED");
    const char *attach = getenv("KTSTR_GUEST_SCHED_ATTACH_S");
    const char *evidence = getenv("KTSTR_GUEST_EVIDENCE");   /* evidence/evidence.h */
    char spec_buf[1024] = "";
    kt__sched_cfg cfg = { .spec = spec_buf,
                          .attach_s = attach ? (unsigned)atoi(attach) : KT__SCHED_ATTACH_S,
                          .fault = getenv("KTSTR_GUEST_SCHED_FAULT") };

    if (spec) {
        snprintf(spec_buf, sizeof(spec_buf), "%s", spec);
        unpercent(spec_buf);
    }
    kt__sched_point(s, ctx, &cfg, wire, evidence ? (unsigned)strtoul(evidence, NULL, 10) : 0);
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
    int wire;

    if (kt__guest_mount_all(&err) < 0)
        fprintf(stderr, "ktstr: %s\n", err.msg);   /* the console shows it */
    wire = open_wire(&err);
    if (wire < 0) {
        fprintf(stderr, "ktstr: %s\n", err.msg);
        kt__guest_power_off();
    }
    send_boot(wire);
    s = find(list, n, name);
    if (!s) {
        char why[300];

        snprintf(why, sizeof(why), "guest: no scenario named '%s' in this binary", name);
        kt__wire_send_end(wire, "error", why);
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
        kt__wire_send_end(wire, "exited", "0");
        tcdrain(wire);
        kt__guest_power_off();
    }
    run_point(s, &ctx, wire);
    tcdrain(wire);
    kt__guest_power_off();
}
