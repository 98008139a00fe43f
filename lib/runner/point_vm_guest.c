/*
 * VM mode, the guest's side: the scenario binary started by the kernel as
 * PID 1. It mounts what a scenario expects, says BOOT on ttyS1, and then
 * runs each point the host asks for (a RUN line on the same ttyS1) exactly
 * as the host runner would (its own forked child, the timeout, crash
 * reporting, the scheduler under test around it), streaming the child's
 * wire lines to the host. After each point it checks that the point left
 * nothing behind for the next one (the scheduler detached, no cgroup of
 * its own) and says READY, or DIRTY and powers off.
 *
 * The kernel hands command-line words of the form NAME=value without a dot
 * to init as environment variables: KTSTR_GUEST (this is a guest) and
 * KTSTR_GUEST_TOPOLOGY.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/vec.h"
#include "guest/guest.h"
#include "ktstr/scx.h"
#include "runner/reqs.h"
#include "runner/sched.h"
#include "runner/vm.h"
#include "runner/wire.h"

#define GUEST_WIRE "/dev/ttyS1"

bool kt__vm_is_guest(void)
{
    return getpid() == 1 && getenv("KTSTR_GUEST") != NULL;
}

/* ttyS1 raw (no newline translation, no echo, nothing the wire did not
 * say), opened twice: a blocking end for the lines we send, and a
 * non-blocking one for the host's commands. */
static int open_wire(int *rfd, kt_err *err)
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
    *rfd = open(GUEST_WIRE, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (*rfd < 0) {
        kt_err_sys(err, errno, "guest: open %s for reading", GUEST_WIRE);
        close(fd);
        return -1;
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

/* A RUN line's fields (wire.h), or QUIT. */
typedef struct guest_cmd {
    bool got, quit;
    char name[256], timeout[16], verbose[4], evidence[16], sched[1024], attach[16],
        fault[64], gfault[1500];
} guest_cmd;

static void on_cmd(void *arg, char *line)
{
    guest_cmd *c = arg;
    kt__wire_msg m;
    char *const out[8] = { c->name, c->timeout, c->verbose, c->evidence, c->sched,
                           c->attach, c->fault, c->gfault };
    const size_t len[8] = { sizeof(c->name), sizeof(c->timeout), sizeof(c->verbose),
                            sizeof(c->evidence), sizeof(c->sched), sizeof(c->attach),
                            sizeof(c->fault), sizeof(c->gfault) };

    if (c->got || kt__wire_split(line, &m) < 0)
        return;
    if (!strcmp(m.type, "QUIT")) {
        c->got = c->quit = true;
    } else if (!strcmp(m.type, "RUN") && m.n == 8) {
        for (size_t i = 0; i < 8; i++)
            snprintf(out[i], len[i], "%s", m.field[i]);
        c->got = true;
    }
}

/* Waits for the host's next command; -1 when ttyS1 is gone. */
static int next_command(int rfd, kt__wire_reader *rd, guest_cmd *c)
{
    memset(c, 0, sizeof(*c));
    while (!c->got) {
        struct pollfd p = { rfd, POLLIN, 0 };

        if (poll(&p, 1, -1) < 0 && errno != EINTR)
            return -1;
        if (kt__wire_read(rd, rfd, on_cmd, c) != 0)
            return -1;
    }
    return 0;
}

/* The directories under the cgroup root, one name per line, into out
 * (a kt__vec of char, NUL-terminated; v NULL when there are none). */
static void cgroup_dirs(kt__vec *out)
{
    DIR *d = opendir("/sys/fs/cgroup");
    struct dirent *e;

    out->n = 0;
    if (out->v)
        *(char *)out->v = '\0';
    while (d && (e = readdir(d)) != NULL)
        if (e->d_type == DT_DIR && e->d_name[0] != '.')
            kt__vec_appendf(out, NULL, "guest: cgroups", "%s\n", e->d_name);
    if (d)
        closedir(d);
}

/* Seconds a stopped scheduler has to reach "disabled": the kernel
 * disables sched_ext from a worker after the link is gone. */
#define SCX_DISABLE_S 5

/* Why the guest is not fit for another point, or NULL: the scheduler of
 * the last point still attached, or a cgroup it left behind (the names
 * the guest booted with are in boot_dirs). */
static const char *unfit(const kt__vec *boot_dirs, kt__vec *now, char *why, size_t n)
{
    char state[64] = "";
    uint64_t until = kt__mono_ns() + SCX_DISABLE_S * 1000000000ull;

    while (kt_scx_state(state, sizeof(state), NULL) >= 0 && strcmp(state, "disabled") != 0) {
        if (kt__mono_ns() > until) {
            snprintf(why, n, "sched_ext is still \"%s\" %d s after the point's scheduler "
                     "stopped", state, SCX_DISABLE_S);
            return why;
        }
        kt__sleep_ns(10000000);
    }
    cgroup_dirs(now);
    for (const char *p = now->v ? now->v : ""; *p; p += strcspn(p, "\n") + 1) {
        size_t len = strcspn(p, "\n");
        const char *b = boot_dirs->v ? boot_dirs->v : "";
        bool known = false;

        for (; *b && !known; b += strcspn(b, "\n") + 1)
            known = strcspn(b, "\n") == len && strncmp(b, p, len) == 0;
        if (!known) {
            snprintf(why, n, "the point left the cgroup /sys/fs/cgroup/%.*s behind",
                     (int)len, p);
            return why;
        }
    }
    return NULL;
}

/* KTSTR_GUEST_FAULT: spec's program, started beside the point with its
 * stderr on a pipe (*errfd); its pid, or -1 with a NOTE said why. */
static pid_t fault_start(const char *spec, int wire, int *errfd)
{
    char buf[2048], *argv[64], note[KT_ERR_MSG_MAX + 64];
    int p[2];
    pid_t pid;
    kt_err err = { 0 };

    *errfd = -1;
    if (kt__sched_argv(spec, buf, sizeof(buf), argv, 64, &err) < 0 ||
        pipe2(p, O_CLOEXEC) < 0) {
        snprintf(note, sizeof(note), "guest fault: %s", err.msg[0] ? err.msg : strerror(errno));
        kt__wire_send(wire, "NOTE", (const char *const[]){ note }, 1);
        return -1;
    }
    pid = fork();
    if (pid == 0) {
        /* "PROG A ; B": PROG A, then PROG B, one after another */
        int st = 0;

        dup2(p[1], 2);
        for (char **seg = argv; *seg;) {
            char **end = seg;
            pid_t one;

            while (*end && strcmp(*end, ";"))
                end++;
            bool last = !*end;
            *end = NULL;
            if (seg != argv)
                *--seg = argv[0];   /* the ";" slot before it: the program again */
            one = fork();
            if (one == 0) {
                execv(seg[0], seg);
                _exit(127);
            }
            if (one < 0 || waitpid(one, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st))
                _exit(one < 0 ? 126 : WIFEXITED(st) ? WEXITSTATUS(st) : 128);
            if (last)
                break;
            seg = end + 1;
        }
        _exit(0);
    }
    close(p[1]);
    if (pid < 0) {
        close(p[0]);
        return -1;
    }
    *errfd = p[0];
    return pid;
}

/* Ends the fault (killed if it outlived the point) and says what it did. */
static void fault_end(pid_t pid, int errfd, int wire)
{
    char text[1024] = "", note[1200];
    ssize_t n, got = 0;
    int st = 0;

    if (pid <= 0)
        return;
    if (waitpid(pid, &st, WNOHANG) == 0) {
        kill(pid, SIGKILL);
        waitpid(pid, &st, 0);
    }
    while (got < (ssize_t)sizeof(text) - 1 &&
           (n = read(errfd, text + got, sizeof(text) - 1 - (size_t)got)) > 0)
        got += n;
    text[got > 0 ? got : 0] = '\0';
    close(errfd);
    for (char *q = text; *q; q++)
        if (*q == '\n')
            *q = ' ';
    snprintf(note, sizeof(note), "guest fault (%s %d): %s",
             WIFEXITED(st) ? "exit" : "signal", WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st),
             text);
    kt__wire_send(wire, "NOTE", (const char *const[]){ note }, 1);
}

/* One point the host asked for: the scenario under the scheduler it
 * named, if any, or why it cannot run. */
static void run_one(const kt_scenario *list, size_t n, const guest_cmd *c,
                    const kt_topology *t, int wire)
{
    const kt_scenario *s = find(list, n, c->name);
    kt__sched_cfg cfg = { .spec = c->sched,
                          .attach_s = *c->attach ? (unsigned)atoi(c->attach)
                                                 : KT__SCHED_ATTACH_S,
                          .fault = *c->fault ? c->fault : NULL };
    kt_ctx ctx = { .in_vm = true, .topology = *t };
    kt_err err = { 0 };
    pid_t fault = -1;
    int errfd = -1;

    if (!s) {
        char why[400];

        snprintf(why, sizeof(why), "guest: no scenario named '%s' in this binary", c->name);
        kt__wire_send_end(wire, "error", why);
        return;
    }
    ctx.name = s->name;
    ctx.timeout_s = (unsigned)strtoul(c->timeout, NULL, 10);
    ctx.verbose = strcmp(c->verbose, "1") == 0;
    ctx.ncpus = kt__affinity_cpus();
    /* Requirements are judged here, where the body runs. */
    if (kt__reqs_check(&s->opts, ctx.ncpus, &err) < 0) {
        const char *f[2] = { "0", "0" };

        kt__wire_send(wire, "SKIP", (const char *const[]){ err.msg }, 1);
        kt__wire_send(wire, "DONE", f, 2);
        kt__wire_send_end(wire, "exited", "0");
        return;
    }
    if (*c->gfault)
        fault = fault_start(c->gfault, wire, &errfd);
    kt__sched_point(s, &ctx, &cfg, wire, (unsigned)strtoul(c->evidence, NULL, 10));
    fault_end(fault, errfd, wire);
}

void kt__vm_guest_main(const kt_scenario *list, size_t n)
{
    const char *topology = getenv("KTSTR_GUEST_TOPOLOGY");
    kt__vec boot_dirs = KT__VEC_INIT(char), now = KT__VEC_INIT(char);
    kt__wire_reader rd;
    kt_topology t = { 0 };
    kt_err err = { 0 };
    guest_cmd *cmd = calloc(1, sizeof(*cmd));
    char why[400];
    int wire, rfd = -1;

    if (kt__guest_mount_all(&err) < 0)
        fprintf(stderr, "ktstr: %s\n", err.msg);   /* the console shows it */
    wire = open_wire(&rfd, &err);
    if (wire < 0 || !cmd || kt__wire_reader_init(&rd) < 0) {
        fprintf(stderr, "ktstr: %s\n", wire < 0 ? err.msg : "guest: out of memory");
        kt__guest_power_off();
    }
    if (topology)
        kt_topology_parse(topology, &t, NULL);
    kt_topology_resolve(&t);
    cgroup_dirs(&boot_dirs);
    send_boot(wire);
    while (next_command(rfd, &rd, cmd) == 0 && !cmd->quit) {
        const char *bad;

        run_one(list, n, cmd, &t, wire);
        bad = unfit(&boot_dirs, &now, why, sizeof(why));
        if (bad) {
            kt__wire_send(wire, "DIRTY", &bad, 1);
            break;
        }
        kt__wire_send(wire, "READY", NULL, 0);
        tcdrain(wire);
    }
    tcdrain(wire);
    kt__guest_power_off();
}
