/* The scheduler under test around one point: start, attach, watch, stop,
 * and what it and the kernel said. */
#include "runner/sched.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/file.h"
#include "runner/wire.h"

#define TRACE_DUMP "/sys/kernel/tracing/events/sched_ext/sched_ext_dump/enable"
#define TRACE "/sys/kernel/tracing/trace"
#define STOP_GRACE_MS 2000

int kt__sched_argv(const char *spec, char *buf, size_t n, char **argv, int max, kt_err *err)
{
    const char *p = spec;
    size_t used = 0;
    int argc = 0;

    for (;;) {
        char q = 0;

        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p)
            break;
        if (argc >= max - 1)
            return kt_err_set(err, E2BIG, "scheduler '%s': more than %d words", spec, max - 1);
        argv[argc++] = buf + used;
        for (; *p && (q || (*p != ' ' && *p != '\t')); p++) {
            if (!q && (*p == '\'' || *p == '"')) {
                q = *p;
                continue;
            }
            if (q && *p == q) {
                q = 0;
                continue;
            }
            if (*p == '\\' && p[1] && q != '\'')
                p++;
            if (used + 2 > n)
                return kt_err_set(err, E2BIG, "scheduler '%s': too long", spec);
            buf[used++] = *p;
        }
        if (q)
            return kt_err_set(err, EINVAL, "scheduler '%s': unclosed %c quote", spec, q);
        buf[used++] = '\0';
    }
    argv[argc] = NULL;
    if (argc == 0)
        return kt_err_set(err, EINVAL, "scheduler: empty");
    return argc;
}

/* Keeps a copy of line as the newest of l's last KT__SCHED_LINES. */
static void keep(kt__vec *l, const char *line, size_t len)
{
    char *copy = strndup(line, len > KT__SCHED_LINE_MAX ? KT__SCHED_LINE_MAX : len);

    if (!copy)
        return;
    if (l->n == KT__SCHED_LINES) {
        char **v = l->v;

        free(v[0]);
        memmove(v, v + 1, (l->n - 1) * sizeof(*v));
        l->n--;
    }
    if (kt__vec_push(l, &copy, NULL, "scheduler lines") < 0)
        free(copy);
}

static void free_lines(kt__vec *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(((char **)l->v)[i]);
    kt__vec_free(l);
}

static void read_output(kt__sched *s)
{
    char buf[4096];
    ssize_t n;

    while (s->out_fd >= 0 && (n = read(s->out_fd, buf, sizeof(buf))) > 0) {
        for (ssize_t i = 0; i < n; i++) {
            if (buf[i] == '\n') {
                keep(&s->out, s->partial, s->partial_len);
                s->partial_len = 0;
            } else if (s->partial_len < sizeof(s->partial) - 1) {
                s->partial[s->partial_len++] = buf[i];
            }
        }
    }
}

/* What this process writes to the kernel log when it sees the ejection:
 * the record's timestamp is the kernel log's clock, as the "disabled"
 * line's is. */
#define SEEN_MARK "ktstr: sched_ext ejection seen"

/* The kernel's sched_ext: lines since the start; a "disabled (reason)"
 * line gives the exit reason in the kernel's words. A /dev/kmsg record
 * is "prio,seq,usec,flags;text". */
static void read_kmsg(kt__sched *s)
{
    char rec[2048];
    ssize_t n;

    while (s->kmsg_fd >= 0 && ((n = read(s->kmsg_fd, rec, sizeof(rec) - 1)) > 0 ||
                               (n < 0 && errno == EPIPE))) {
        char *msg, *end;
        long long usec = -1;
        kt__scx_msg m;

        if (n < 0)
            continue;   /* records overwritten before we read them */
        rec[n] = '\0';
        msg = strchr(rec, ';');
        if (!msg)
            continue;
        sscanf(rec, "%*u,%*u,%lld", &usec);
        msg++;
        end = strchr(msg, '\n');
        if (end)
            *end = '\0';
        if (strcmp(msg, SEEN_MARK) == 0) {
            if (s->seen_us < 0)
                s->seen_us = usec;
            continue;
        }
        if (!kt__scx_msg_parse(msg, strlen(msg), &m))
            continue;
        keep(&s->klog, msg, strlen(msg));
        if (m.kind == KT__SCX_MSG_DISABLED && !s->exit[0]) {
            snprintf(s->exit, sizeof(s->exit), "%s", m.reason);
            s->disabled_us = usec;
        }
    }
}

/* Stamps the moment the ejection was seen into the kernel log. */
static void mark_seen(kt__sched *s)
{
    static const char line[] = "<6>" SEEN_MARK "\n";
    int fd;

    if (s->marked)
        return;
    s->marked = true;
    fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    if (write(fd, line, sizeof(line) - 1) < 0)
        s->seen_us = -1;   /* no stamp: no figure */
    close(fd);
}

static void read_dump(kt__sched *s)
{
    kt__vec text = KT__VEC_INIT(char);

    if (kt__read_file(TRACE, 1u << 20, &text, NULL) == 0) {
        for (char *p = text.v, *nl; p && *p; p = nl ? nl + 1 : NULL) {
            nl = strchr(p, '\n');
            if (nl)
                *nl = '\0';
            char *at = strstr(p, "sched_ext_dump: ");

            /* The tracer's columns say nothing the dump does not. */
            if (at)
                keep(&s->dump, at + 16, strlen(at + 16));
        }
    }
    kt__vec_free(&text);
}

static void fail(kt__sched *s, const char *fmt, const char *arg)
    __attribute__((format(printf, 2, 0)));

static void fail(kt__sched *s, const char *fmt, const char *arg)
{
    if (s->failed)
        return;
    s->failed = true;
    snprintf(s->why, sizeof(s->why), fmt, arg);
}

static int write_file(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    ssize_t n;

    if (fd < 0)
        return -1;
    n = write(fd, text, strlen(text));
    close(fd);
    return n == (ssize_t)strlen(text) ? 0 : -1;
}

static int start_program(kt__sched *s, kt_err *err)
{
    char buf[1024], *argv[64];
    int p[2], rep[2], e = 0;
    ssize_t n;

    if (kt__sched_argv(s->spec, buf, sizeof(buf), argv, 64, err) < 0)
        return -1;
    if (pipe2(p, O_CLOEXEC) < 0 || pipe2(rep, O_CLOEXEC) < 0)
        return kt_err_sys(err, errno, "scheduler %s: pipe", argv[0]);
    s->pid = fork();
    if (s->pid < 0)
        return kt_err_sys(err, errno, "scheduler %s: fork", argv[0]);
    if (s->pid == 0) {
        sigset_t none;

        /* its owner blocks the signals it reads from a signalfd; exec
         * keeps the mask, and a scheduler must hear the SIGINT that stops it */
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        signal(SIGINT, SIG_DFL);
        setpgid(0, 0);
        if (dup2(p[1], 1) >= 0 && dup2(p[1], 2) >= 0)
            execv(argv[0], argv);
        e = errno;
        if (write(rep[1], &e, sizeof(e)) < 0)
            _exit(127);
        _exit(127);
    }
    close(p[1]);
    close(rep[1]);
    n = read(rep[0], &e, sizeof(e));
    close(rep[0]);
    s->out_fd = p[0];
    fcntl(s->out_fd, F_SETFL, O_NONBLOCK);
    if (n == (ssize_t)sizeof(e)) {
        waitpid(s->pid, NULL, 0);
        s->pid = -1;
        return kt_err_sys(err, e, "scheduler %s: exec", argv[0]);
    }
    return 0;
}

int kt__sched_fault_parse(const char *what, const char *s, unsigned *stop_ms, kt_err *err)
{
    unsigned long v;
    char *end;

    if (strncmp(s, "stop:", 5) != 0 || s[5] < '0' || s[5] > '9')
        return kt_err_set(err, EINVAL, "%s '%s': expected stop:MS (SIGSTOP the scheduler "
                          "MS milliseconds after it attached)", what, s);
    errno = 0;
    v = strtoul(s + 5, &end, 10);
    if (*end || errno || v > 3600000)
        return kt_err_set(err, EINVAL, "%s '%s': MS must be 0 to 3600000", what, s);
    *stop_ms = (unsigned)v;
    return 0;
}

int kt__sched_start(kt__sched *s, const char *spec, unsigned attach_s, const char *fault,
                    kt_err *err)
{
    uint64_t until;
    char state[64];

    memset(s, 0, sizeof(*s));
    s->pid = -1;
    s->out_fd = s->kmsg_fd = -1;
    s->h.map_fd = s->h.link_fd = s->h.select_fd = s->h.enqueue_fd = s->h.btf_fd = -1;
    s->h.dispatch_fd = s->h.init_fd = -1;
    s->out = (kt__vec)KT__VEC_INIT(char *);
    s->klog = (kt__vec)KT__VEC_INIT(char *);
    s->dump = (kt__vec)KT__VEC_INIT(char *);
    s->ev0 = (kt_scx_events)KT_SCX_EVENTS_INIT;
    s->ev1 = (kt_scx_events)KT_SCX_EVENTS_INIT;
    snprintf(s->spec, sizeof(s->spec), "%s", spec);
    s->disabled_us = s->seen_us = -1;
    if (fault && *fault) {
        if (kt__sched_fault_parse("KTSTR_SCHED_FAULT", fault, &s->fault_stop_ms, err) < 0)
            return -1;
        s->fault_stop_ms += !s->fault_stop_ms;   /* stop:0 still waits for the attach */
    }
    if (kt_scx_state(state, sizeof(state), err) < 0)
        return -1;
    s->kmsg_fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (s->kmsg_fd >= 0)
        lseek(s->kmsg_fd, 0, SEEK_END);
    write_file(TRACE_DUMP, "1");   /* the dump, where tracefs has it */
    s->builtin = strncmp(spec, "builtin:", 8) == 0;
    if (s->builtin ? kt__scx_builtin_load(spec, &s->h, err) : start_program(s, err))
        return -1;
    s->started = true;
    s->t_start_ns = kt__mono_ns();
    until = s->t_start_ns + (uint64_t)attach_s * 1000000000u;
    while (kt__mono_ns() < until) {
        if (kt_scx_state(state, sizeof(state), NULL) > 0 && strcmp(state, "enabled") == 0) {
            s->t_enabled_ns = kt__mono_ns();
            kt_scx_ops(s->ops, sizeof(s->ops), NULL);
            kt_scx_events_read(&s->ev0, NULL);
            return 0;
        }
        read_output(s);
        read_kmsg(s);
        if (s->pid > 0 && waitpid(s->pid, NULL, WNOHANG) == s->pid) {
            s->pid = -1;
            read_output(s);
            fail(s, "%.400s exited before sched_ext was enabled", s->spec);
            return 0;
        }
        kt__sleep_ns(5000000);
    }
    char secs[16];

    snprintf(secs, sizeof(secs), "%u", attach_s);
    fail(s, "not enabled within %s s (KTSTR_SCHED_ATTACH_S)", secs);
    return 0;
}

/* KTSTR_SCHED_FAULT, once its time has come. */
static void inject_fault(kt__sched *s)
{
    if (!s->fault_stop_ms || s->fault_done || !s->t_enabled_ns ||
        kt__mono_ns() < s->t_enabled_ns + (uint64_t)s->fault_stop_ms * 1000000u)
        return;
    s->fault_done = true;
    if (s->pid <= 0) {
        snprintf(s->fault_note, sizeof(s->fault_note),
                 "KTSTR_SCHED_FAULT: a built-in has no process to stop: not applied");
    } else if (kill(s->pid, SIGSTOP) == 0) {
        s->stopped = true;
        snprintf(s->fault_note, sizeof(s->fault_note),
                 "KTSTR_SCHED_FAULT: SIGSTOP sent to the scheduler (pid %d) %u ms after it attached",
                 (int)s->pid, s->fault_stop_ms);
    } else {
        snprintf(s->fault_note, sizeof(s->fault_note), "KTSTR_SCHED_FAULT: SIGSTOP failed: %s",
                 strerror(errno));
    }
}

bool kt__sched_poll(kt__sched *s)
{
    char state[64] = "";
    int st;

    if (!s->started || s->failed)
        return s->failed;
    inject_fault(s);
    read_output(s);
    read_kmsg(s);
    if (kt_scx_state(state, sizeof(state), NULL) < 0 || strcmp(state, "enabled") != 0) {
        mark_seen(s);
        /* The kernel logs its reason as it disables: give it a moment. */
        kt__sleep_ns(20000000);
        read_kmsg(s);
        fail(s, "ejected: sched_ext state is '%s'", state);
        read_dump(s);
    }
    if (s->pid > 0 && waitpid(s->pid, &st, WNOHANG) == s->pid) {
        char how[64];

        s->pid = -1;
        read_output(s);
        if (WIFSIGNALED(st))
            snprintf(how, sizeof(how), "killed by %s", kt_signal_name(WTERMSIG(st)));
        else
            snprintf(how, sizeof(how), "exited with status %d", WEXITSTATUS(st));
        fail(s, "the scheduler %s while the body ran", how);
    }
    return s->failed;
}

void kt__sched_stop(kt__sched *s)
{
    if (!s->started)
        return;
    kt__sched_poll(s);
    kt_scx_events_read(&s->ev1, NULL);
    if (s->builtin) {
        kt__scx_builtin_unload(&s->h);
    } else if (s->pid > 0) {
        uint64_t until = kt__mono_ns() + STOP_GRACE_MS * 1000000ull;

        if (s->stopped)
            kill(s->pid, SIGCONT);   /* a stopped program cannot hear SIGINT */
        kill(s->pid, SIGINT);
        while (waitpid(s->pid, NULL, WNOHANG) == 0 && kt__mono_ns() < until)
            kt__sleep_ns(10000000);
        if (waitpid(s->pid, NULL, WNOHANG) == 0) {
            s->killed = true;
            kill(-s->pid, SIGKILL);
            kill(s->pid, SIGKILL);
            waitpid(s->pid, NULL, 0);
        }
        s->pid = -1;
    }
    read_output(s);
    if (s->partial_len) {
        keep(&s->out, s->partial, s->partial_len);
        s->partial_len = 0;
    }
    read_kmsg(s);
    s->started = false;
}

static void send_lines(int fd, const char *type, const kt__vec *l)
{
    for (size_t i = 0; i < l->n; i++) {
        const char *line = ((char **)l->v)[i];

        kt__wire_send(fd, type, &line, 1);
    }
}

void kt__sched_report(const kt__sched *s, int fd)
{
    const char *name = s->ops[0] ? s->ops : s->spec;
    char attach[24] = "", detect[24] = "";
    const char *sf[2] = { name, attach };

    if (s->t_enabled_ns)   /* start to "enabled" */
        snprintf(attach, sizeof(attach), "%llu",
                 (unsigned long long)((s->t_enabled_ns - s->t_start_ns) / 1000000u));
    kt__wire_send(fd, "SCHED", sf, 2);
    if (s->fault_note[0]) {
        const char *note = s->fault_note;

        kt__wire_send(fd, "NOTE", &note, 1);
    }
    if (s->killed) {
        const char *note = "the scheduler ignored SIGINT: SIGKILL after 2 s";

        kt__wire_send(fd, "NOTE", &note, 1);
    }
    for (size_t i = 0; i < s->ev1.n; i++) {
        const kt_scx_counter *b = &s->ev1.v[i];
        const kt_scx_counter *a = kt_scx_events_find(&s->ev0, b->name);
        char delta[24];
        const char *ev[2] = { b->name, delta };

        if (!a || b->value == a->value)
            continue;
        snprintf(delta, sizeof(delta), "%llu", (unsigned long long)(b->value - a->value));
        kt__wire_send(fd, "SCHEDEV", ev, 2);   /* a note, and the sidecar's scheduler.events */
    }
    if (!s->failed)
        return;
    /* the kernel's "disabled" line to this process seeing it, in ms */
    if (s->disabled_us >= 0 && s->seen_us >= 0)
        snprintf(detect, sizeof(detect), "%lld",
                 (long long)llround((double)(s->seen_us - s->disabled_us) / 1000.0));
    const char *f[3] = { s->why, s->exit, detect };

    kt__wire_send(fd, "SCHEDFAIL", f, 3);
    send_lines(fd, "SCHEDLOG", &s->klog);
    send_lines(fd, "SCHEDOUT", &s->out);
    send_lines(fd, "SCHEDDUMP", &s->dump);
}

void kt__sched_free(kt__sched *s)
{
    if (s->out_fd >= 0)
        close(s->out_fd);
    if (s->kmsg_fd >= 0)
        close(s->kmsg_fd);
    s->out_fd = s->kmsg_fd = -1;
    free_lines(&s->out);
    free_lines(&s->klog);
    free_lines(&s->dump);
    kt_scx_events_free(&s->ev0);
    kt_scx_events_free(&s->ev1);
}
