/* scx_load: loads a built-in sched_ext scheduler, shows what the kernel
 * says, waits, unloads. For a guest with a sched_ext kernel (7.3), where
 * the lead checks the built-ins for real; this host has no sched_ext.
 *
 *   scx_load [--task] [--wait SECONDS] [builtin:NAME]    (default builtin:fifo, 2 s)
 *
 * --task forks a SCHED_EXT spinner (under builtin:stall it stalls, and
 * the watchdog ejects the scheduler). Prints the state, the ops name,
 * the event counters, every state change while waiting, and the kernel's
 * `sched_ext:` lines from /dev/kmsg, parsed. Exit 0 when it loaded, the
 * state read "enabled", and then: builtin:stall with --task was ejected
 * with "runnable task stall"; anything else stayed enabled until the
 * unload, after which the state left "enabled". 1 otherwise; 2 on usage. */
#include "scx/scx.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SCHED_EXT_POLICY 7     /* SCHED_EXT: not in glibc's headers here */

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void print_state(const char *when, char *out, size_t cap)
{
    kt_err err = { 0 };

    if (kt_scx_state(out, cap, &err) < 0)
        snprintf(out, cap, "(%.*s)", (int)(cap > 3 ? cap - 3 : 0), err.msg);
    printf("state %s: %s\n", when, out);
}

/* The kernel's sched_ext lines since fd was opened; sets *stalled when
 * one says the scheduler went for a runnable task stall. */
static void print_kmsg(int fd, int *stalled)
{
    char rec[2048];

    if (fd < 0)
        return;
    for (;;) {
        ssize_t n = read(fd, rec, sizeof(rec) - 1);
        kt__scx_msg m;
        char *eol;

        if (n < 0 && errno == EPIPE)       /* overwritten before we read it */
            continue;
        if (n <= 0)
            break;
        rec[n] = '\0';
        eol = strchr(rec, '\n');
        if (!kt__scx_msg_parse(rec, eol ? (size_t)(eol - rec) : (size_t)n, &m))
            continue;
        printf("kmsg: %s name=\"%s\" reason=\"%s\"", kt__scx_msg_kind_name(m.kind), m.name,
               m.reason);
        if (m.kind == KT__SCX_MSG_STALL)
            printf(" comm=\"%s\" pid=%ld", m.comm, m.pid);
        printf("\n");
        if (m.kind == KT__SCX_MSG_DISABLED && !strcmp(m.reason, "runnable task stall"))
            *stalled = 1;
    }
}

static pid_t start_task(void)
{
    pid_t pid;

    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        struct sched_param sp = { 0 };
        volatile unsigned long spin = 0;

        if (sched_setscheduler(0, SCHED_EXT_POLICY, &sp) != 0) {
            fprintf(stderr, "scx_load: task: sched_setscheduler(SCHED_EXT): %s\n",
                    strerror(errno));
            _exit(1);
        }
        for (;;)
            spin++;
    }
    if (pid > 0) {
        usleep(100 * 1000);
        printf("task %d: policy %d (SCHED_EXT is %d)\n", (int)pid, sched_getscheduler(pid),
               SCHED_EXT_POLICY);
    }
    return pid;
}

int main(int argc, char **argv)
{
    const char *spec = "builtin:fifo";
    double wait_s = 2.0, t0, left_at = -1;
    int task = 0, stalled = 0, kmsg, ok;
    char state[KT_ERR_MSG_MAX + 8], ops[KT_ERR_MSG_MAX + 8], last[KT_ERR_MSG_MAX + 8];
    kt_scx_events ev = KT_SCX_EVENTS_INIT;
    kt__scx_handle h;
    kt_err err = { 0 };
    pid_t child = -1;

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--task"))
            task = 1;
        else if (!strcmp(argv[i], "--wait") && i + 1 < argc)
            wait_s = atof(argv[++i]);
        else if (argv[i][0] != '-')
            spec = argv[i];
        else {
            fprintf(stderr, "usage: scx_load [--task] [--wait SECONDS] [builtin:NAME]\n");
            return 2;
        }
    }
    kmsg = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (kmsg >= 0)
        lseek(kmsg, 0, SEEK_END);
    else
        printf("no /dev/kmsg (%s): kernel lines not shown\n", strerror(errno));
    print_state("before", state, sizeof(state));
    if (kt__scx_builtin_load(spec, &h, &err) < 0) {
        printf("load failed: %s\n", err.msg);
        print_kmsg(kmsg, &stalled);
        return 1;
    }
    printf("loaded %s (ops %s): btf fd %d, select_cpu fd %d, enqueue fd %d, map fd %d, "
           "link fd %d\n", h.spec, h.ops_name, h.btf_fd, h.select_fd, h.enqueue_fd, h.map_fd,
           h.link_fd);
    print_state("after load", state, sizeof(state));
    ok = !strcmp(state, "enabled");
    if (kt_scx_ops(ops, sizeof(ops), &err) < 0)
        snprintf(ops, sizeof(ops), "(%s)", err.msg);
    printf("ops: %s\n", ops);
    if (kt_scx_events_read(&ev, &err) == 0) {
        printf("events: %zu counters\n", ev.n);
        for (size_t i = 0; i < ev.n; i++)
            printf("  %s %llu\n", ev.v[i].name, (unsigned long long)ev.v[i].value);
    } else {
        printf("events: %s\n", err.msg);
    }
    if (task)
        child = start_task();
    snprintf(last, sizeof(last), "%s", state);
    t0 = now_s();
    while (now_s() - t0 < wait_s) {
        kt_err e = { 0 };

        usleep(100 * 1000);
        if (kt_scx_state(state, sizeof(state), &e) < 0)
            snprintf(state, sizeof(state), "(%s)", e.msg);
        if (strcmp(state, last)) {
            printf("state: %s after %.1f s\n", state, now_s() - t0);
            snprintf(last, sizeof(last), "%s", state);
            if (left_at < 0)
                left_at = now_s() - t0;
        }
    }
    if (child > 0) {
        printf("task %d: policy %d now\n", (int)child, sched_getscheduler(child));
        kill(child, SIGKILL);
        waitpid(child, NULL, 0);
    }
    kt__scx_builtin_unload(&h);
    usleep(200 * 1000);
    print_state("after unload", state, sizeof(state));
    print_kmsg(kmsg, &stalled);
    if (kt__scx_builtin_has_enqueue(spec) && task)
        ok = ok && stalled;
    else
        ok = ok && left_at < 0 && strcmp(state, "enabled") != 0;
    kt_scx_events_free(&ev);
    printf("%s\n", ok ? "ok" : "FAILED");
    return ok ? 0 : 1;
}
