/* A scenario's child process, both sides of it: the child runs the body
 * and streams its verdict's events up the wire as they happen; the parent
 * collects them, enforces the deadline, and afterwards kills and reaps
 * every descendant and removes the directories the child asked for. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/file.h"
#include "base/pidstat.h"
#include "evidence.h"
#include "runner.h"
#include "sched.h"
#include "verdict_item.h"

#define DEFAULT_TIMEOUT_S 30
/* How long the parent keeps retrying an rmdir that says EBUSY (a cgroup
 * whose killed tasks are still exiting). */
#define RMDIR_RETRY_MS 500
/* How long to wait for descendants the parent cannot see in /proc. */
#define REAP_GIVE_UP_MS 10000

static int64_t now_ms(void)
{
    return (int64_t)(kt__mono_ns() / 1000000u);
}

/* ---- the child's side ------------------------------------------------- */

static const char *const event_type[] = {
    [KT_EVENT_PASS] = "PASS", [KT_EVENT_FAIL] = "FAIL", [KT_EVENT_NOTE] = "NOTE",
    [KT_EVENT_SKIP] = "SKIP", [KT_EVENT_DROPPED] = "DROP",
};

static void wire_sink(void *arg, kt_event ev, const kt_claim_record *c,
                      const char *text)
{
    const kt__run_ctx *rc = arg;

    if ((unsigned)ev >= sizeof(event_type) / sizeof(event_type[0]))
        return;
    if (ev == KT_EVENT_PASS || ev == KT_EVENT_FAIL) {
        kt__wire_send_claim(rc->wire_fd, ev == KT_EVENT_PASS, c, "");
    } else {
        kt__wire_send(rc->wire_fd, event_type[ev], &text, 1);
    }
}

/* The context the body of this process was handed: set in the child. */
static kt__run_ctx *running;

kt__run_ctx *kt__run_ctx_of(kt_ctx *ctx)
{
    /* compared, not cast: a kt_ctx its caller made has nothing after it */
    return running && ctx == &running->pub ? running : NULL;
}

__attribute__((noreturn)) static void child_main(const kt_scenario *s, kt_ctx *ctx,
                                                 int wire_fd, const sigset_t *mask,
                                                 pid_t parent, const kt__vm_cfg *vm,
                                                 const kt__sched_cfg *sched, unsigned evidence)
{
    kt__run_ctx rc = { *ctx, wire_fd, evidence };
    kt_verdict v;
    char claims[24], failed[24];
    const char *done[2] = { claims, failed };

    /* Both sides set the group, so neither order of running can race. */
    setpgid(0, 0);
    /* A runner killed outright must not leave its scenario running. */
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    if (getppid() != parent)
        _exit(127);
    /* Only the parent writes TAP: a stray printf lands on stderr. */
    if (dup2(STDERR_FILENO, STDOUT_FILENO) < 0)
        _exit(127);
    sigprocmask(SIG_SETMASK, mask, NULL);
    running = &rc;
    if (vm) {
        kt__vm_point(s, &rc.pub, wire_fd, vm);   /* sends the guest's DONE, if it came */
        fflush(NULL);
        _exit(0);
    }
    if (sched) {
        /* this process owns the scheduler; the body runs below it */
        kt__sched_point(s, &rc.pub, sched, wire_fd, evidence);
        fflush(NULL);
        _exit(0);
    }
    kt_verdict_init(&v);
    kt_verdict_set_sink(&v, wire_sink, &rc,
                        rc.pub.verbose || (evidence & KT__EVIDENCE_PASSES));
    /* The body's start, for a host watching a guest from outside. */
    kt__wire_send(wire_fd, "BEGIN", NULL, 0);
    s->fn(&rc.pub, &v);
    snprintf(claims, sizeof(claims), "%llu", (unsigned long long)kt_verdict_claims(&v));
    snprintf(failed, sizeof(failed), "%llu", (unsigned long long)kt_verdict_failed(&v));
    kt__wire_send(wire_fd, "DONE", done, 2);
    kt_verdict_fini(&v);
    fflush(NULL);
    /* _exit: exit() would run the parent's atexit handlers in the child. */
    _exit(0);
}

int kt_ctx_rmdir_at_exit(kt_ctx *ctx, const char *path)
{
    const kt__run_ctx *rc = kt__run_ctx_of(ctx);

    if (!rc) {
        errno = EBADF;   /* not under the runner: nobody to ask */
        return -1;
    }
    if (!path || path[0] != '/') {
        errno = EINVAL;  /* the parent's cwd may differ from the child's */
        return -1;
    }
    if (strlen(path) >= KT__WIRE_FIELD_MAX) {
        errno = ENAMETOOLONG;   /* the wire would cut it: another path */
        return -1;
    }
    return kt__wire_send(rc->wire_fd, "RMDIR", &path, 1);
}

int kt_ctx_rmdir_hook(void *ctx, const char *path)
{
    return kt_ctx_rmdir_at_exit(ctx, path);
}

/* ---- the parent's record of what arrived ------------------------------ */

/* Frees l's elements (each a malloc'd pointer) and l. */
static void free_all(kt__vec *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(*(void **)kt__vec_at(l, i));
    kt__vec_free(l);
}

/* What the body and its guest reported, empty (a VM point booted again
 * starts over from here). */
static void reported_init(kt__result *r)
{
    kt_verdict_init(&r->v);
    r->passes = (kt__vec)KT__VEC_INIT(struct kt__verdict_item *);
    r->console = (kt__vec)KT__VEC_INIT(char *);
    r->sched_log = (kt__vec)KT__VEC_INIT(char *);
    r->sched_out = (kt__vec)KT__VEC_INIT(char *);
    r->sched_dump = (kt__vec)KT__VEC_INIT(char *);
    r->sched_events = (kt__vec)KT__VEC_INIT(kt_scx_counter);
    r->series = (kt__vec)KT__VEC_INIT(kt__evseries);
    r->series_dropped = 0;
    r->sched_name = r->dropped = NULL;
    r->passes_dropped = 0;
    r->claims = r->failed = 0;
    r->done = r->vm = r->guest_end = r->sched_failed = false;
    r->sched_attach_ms = -1;
    r->sched_has_detect = false;
}

static void reported_fini(kt__result *r)
{
    kt_verdict_fini(&r->v);
    free_all(&r->passes);
    free_all(&r->console);
    free_all(&r->sched_log);
    free_all(&r->sched_out);
    free_all(&r->sched_dump);
    kt__vec_free(&r->sched_events);
    kt__series_free_all(&r->series);
    free(r->sched_name);
    free(r->dropped);
}

static void result_init(kt__result *r)
{
    memset(r, 0, sizeof(*r));
    reported_init(r);
    r->rmdirs = (kt__vec)KT__VEC_INIT(char *);
    r->cleanup = (kt__vec)KT__VEC_INIT(char *);
    r->forward_fd = -1;
    r->boot_ms = -1;
}

/* Keeps a copy of s in l (of char *); false when out of memory. */
static bool str_push(kt__vec *l, const char *s)
{
    char *copy = strdup(s);

    if (copy && kt__vec_push(l, &copy, NULL, "runner: result") == 0)
        return true;
    free(copy);
    return false;
}

/* A passing claim, kept (for --verbose) as the verdict keeps a failure. */
static void add_pass(kt__result *r, const kt_claim_record *c)
{
    struct kt__verdict_item *it = NULL;

    if (r->passes.n < KT_VERDICT_MAX_FAILURES)
        it = kt__verdict_item_new(c, NULL);
    if (!it || kt__vec_push(&r->passes, &it, NULL, "runner: passes") < 0) {
        free(it);
        r->passes_dropped++;
    }
}

static bool parse_u64(const char *s, uint64_t *out)
{
    char *end;

    if (*s < '0' || *s > '9')
        return false;
    errno = 0;
    *out = strtoull(s, &end, 10);
    return !*end && errno == 0;
}

/* Copies a line (not yet split) to the forward fd, but RMDIR: paths of
 * this machine mean nothing to the one the lines go to. */
static void forward(int fd, const char *line)
{
    if (fd >= 0 && strncmp(line, "RMDIR\t", 6) != 0)
        kt__wire_write_line(fd, line);   /* the host listens until the guest is gone */
}

/* The lines only a VM point's host child sends. */
static bool on_vm_line(kt__result *r, const kt__wire_msg *m)
{
    const char *t = m->type;

    if (!strcmp(t, "VM") && m->n == 4) {
        r->vm = true;
        snprintf(r->vm_accel, sizeof(r->vm_accel), "%s", m->field[0]);
        snprintf(r->vm_kernel, sizeof(r->vm_kernel), "%s", m->field[1]);
        snprintf(r->vm_topology, sizeof(r->vm_topology), "%s", m->field[2]);
        r->boot_ms = strtoll(m->field[3], NULL, 10);
    } else if (!strcmp(t, "END") && m->n == 2) {
        r->guest_end = true;
        snprintf(r->guest_end_kind, sizeof(r->guest_end_kind), "%s", m->field[0]);
        snprintf(r->guest_end_arg, sizeof(r->guest_end_arg), "%s", m->field[1]);
    } else if (!strcmp(t, "CONSOLE") && m->n == 1) {
        if (r->console.n < 64)
            str_push(&r->console, m->field[0]);
    } else if (!strcmp(t, "SCHED") && (m->n == 1 || m->n == 2)) {
        free(r->sched_name);
        r->sched_name = strdup(m->field[0]);
        r->sched_attach_ms = m->n == 2 && *m->field[1] ? strtoll(m->field[1], NULL, 10) : -1;
    } else if (!strcmp(t, "SCHEDFAIL") && (m->n == 2 || m->n == 3)) {
        r->sched_failed = true;
        snprintf(r->sched_why, sizeof(r->sched_why), "%s", m->field[0]);
        snprintf(r->sched_exit, sizeof(r->sched_exit), "%s", m->field[1]);
        r->sched_has_detect = m->n == 3 && *m->field[2];
        r->sched_detect_ms = r->sched_has_detect ? strtoll(m->field[2], NULL, 10) : 0;
    } else if (!strcmp(t, "SCHEDEV") && m->n == 2) {
        kt_scx_counter ev = { .value = 0 };

        if (!parse_u64(m->field[1], &ev.value))
            return false;
        snprintf(ev.name, sizeof(ev.name), "%s", m->field[0]);
        kt_verdict_note(&r->v, "sched_ext %s +%s", m->field[0], m->field[1]);
        if (r->sched_events.n < 256)
            kt__vec_push(&r->sched_events, &ev, NULL, "runner: scheduler events");
    } else if (!strncmp(t, "SCHED", 5) && m->n == 1) {
        kt__vec *l = !strcmp(t, "SCHEDLOG") ? &r->sched_log : !strcmp(t, "SCHEDOUT") ? &r->sched_out
                   : !strcmp(t, "SCHEDDUMP") ? &r->sched_dump : NULL;

        if (!l)
            return false;
        if (l->n < 64)
            str_push(l, m->field[0]);
    } else if (!strcmp(t, "RESET") && m->n == 0) {
        reported_fini(r);   /* the guest booted again: its first boot's lines go */
        reported_init(r);
    } else if (!strcmp(t, "BEGIN") && m->n == 0) {
        /* the body started: only a host watching a guest needs to know */
    } else {
        return false;
    }
    return true;
}

/* Applies one wire line to the result; bad lines are counted, never fatal. */
static void on_line(void *arg, char *line)
{
    kt__result *r = arg;
    kt__wire_msg m;
    bool ok;
    const char *t;

    forward(r->forward_fd, line);
    ok = kt__wire_split(line, &m) == 0;
    t = m.type;
    if (!ok) {
        r->bad_lines++;
    } else if ((!strcmp(t, "PASS") || !strcmp(t, "FAIL")) && m.n == 7) {
        kt_claim_record c = { m.field[0], m.field[1], m.field[2], m.field[3],
                              m.field[4], m.field[5], atoi(m.field[6]), t[0] == 'P' };

        if (c.passed)
            add_pass(r, &c);
        else
            kt__verdict_add_failure(&r->v, &c);
        r->claims++;
        r->failed += !c.passed;
    } else if (!strcmp(t, "NOTE") && m.n == 1) {
        kt_verdict_note(&r->v, "%s", m.field[0]);
    } else if (!strcmp(t, "DROP") && m.n == 1) {
        /* One per dropped item, each with the running count: keep the last. */
        char *copy = strdup(m.field[0]);

        if (copy) {
            free(r->dropped);
            r->dropped = copy;
        }
    } else if (!strcmp(t, "SKIP") && m.n == 1) {
        kt_verdict_skip(&r->v, "%s", m.field[0]);
    } else if (!strcmp(t, "RMDIR") && m.n == 1 && m.field[0][0] == '/') {
        if (r->rmdirs.n < KT__RESULT_MAX_RMDIRS)
            str_push(&r->rmdirs, m.field[0]);
    } else if (!strcmp(t, "DONE") && m.n == 2 && parse_u64(m.field[0], &r->claims) &&
               parse_u64(m.field[1], &r->failed)) {
        r->done = true;
    } else if (kt__series_line(r, &m)) {
        /* kt_ctx_series: kept for the artifacts */
    } else if (!on_vm_line(r, &m)) {
        r->bad_lines++;
    }
}


void kt__result_fini(kt__result *r)
{
    reported_fini(r);
    free_all(&r->rmdirs);
    free_all(&r->cleanup);
    memset(r, 0, sizeof(*r));
}

/* ---- supervision ------------------------------------------------------ */

/* Waits for the child's exit, the deadline or a signal to the runner,
 * reading the wire meanwhile. */
static kt__end watch(pid_t pid, int *pfd, int sigfd, kt__wire_reader *rd,
                    kt__result *r, int64_t deadline, int *sig)
{
    for (;;) {
        struct pollfd fds[2] = { { sigfd, POLLIN, 0 }, { *pfd, POLLIN, 0 } };
        int64_t left = deadline - now_ms();
        int n;

        if (left <= 0)
            return KT__END_TIMEOUT;
        n = poll(fds, *pfd >= 0 ? 2 : 1, left > INT_MAX ? INT_MAX : (int)left);
        if (n < 0 && errno != EINTR)
            return KT__END_TIMEOUT;   /* cannot watch: stop it rather than hang */
        if (n <= 0)
            continue;
        if (*pfd >= 0 && fds[1].revents && kt__wire_read(rd, *pfd, on_line, r) != 0) {
            close(*pfd);   /* end of file: every writer is gone */
            *pfd = -1;
        }
        if (fds[0].revents & POLLIN) {
            struct signalfd_siginfo si[8];
            ssize_t got = read(sigfd, si, sizeof(si));
            siginfo_t info;

            for (ssize_t i = 0; i < got / (ssize_t)sizeof(si[0]); i++) {
                if (si[i].ssi_signo != SIGCHLD) {
                    *sig = (int)si[i].ssi_signo;
                    return KT__END_INTERRUPTED;
                }
            }
            /* SIGCHLD also comes for reparented grandchildren: ask. */
            memset(&info, 0, sizeof(info));
            if (waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
                info.si_pid == pid)
                return KT__END_EXITED;
        }
    }
}

/* SIGKILLs every process whose parent is this one (orphans the child
 * subreaper adopted included); returns how many it found. */
static int kill_children(void)
{
    DIR *d = opendir("/proc");
    struct dirent *e;
    pid_t self = getpid();
    int found = 0;

    if (!d)
        return 0;
    while ((e = readdir(d)) != NULL) {
        char path[300], buf[4096];
        kt__pidstat st;
        ssize_t n;

        if (e->d_name[0] < '1' || e->d_name[0] > '9')
            continue;
        snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
        n = kt__read_file_buf(path, buf, sizeof(buf), NULL);
        if (n <= 0 || kt__pidstat_parse(buf, (size_t)n, &st, NULL) < 0 || st.ppid != self)
            continue;
        kill((pid_t)st.pid, SIGKILL);
        found++;
    }
    closedir(d);
    return found;
}

/* Kills and reaps every remaining descendant. Under the subreaper every
 * live descendant has a live parent that is ours or is one of our
 * children, so "no child left" means "no descendant left". */
static void reap_all(void)
{
    int64_t give_up = now_ms() + REAP_GIVE_UP_MS;

    for (;;) {
        pid_t w = waitpid(-1, NULL, WNOHANG);

        if (w > 0 || (w < 0 && errno == EINTR))
            continue;
        if (w < 0)
            return;   /* ECHILD: nothing left */
        if (kill_children() > 0) {
            waitpid(-1, NULL, 0);
        } else {
            /* Children we cannot see (another /proc): wait a little. */
            struct timespec ms = { 0, 1000000 };

            if (now_ms() > give_up)
                return;
            nanosleep(&ms, NULL);
        }
    }
}

static int depth(const char *p)
{
    int d = 0;

    for (; *p; p++)
        d += *p == '/';
    return d;
}

/* Deepest first; among equals the last asked first (created last). */
static void rmdir_all(kt__result *r)
{
    char **v = r->rmdirs.v;
    size_t n = r->rmdirs.n;

    for (size_t done = 0; done < n; done++) {
        size_t best = n;

        for (size_t i = n; i-- > 0;)
            if (v[i] && (best == n || depth(v[i]) > depth(v[best])))
                best = i;
        if (best == n)
            break;
        int64_t until = now_ms() + RMDIR_RETRY_MS;
        int rc;

        while ((rc = rmdir(v[best])) < 0 && errno == EBUSY && now_ms() < until) {
            struct timespec ms = { 0, 10000000 };

            nanosleep(&ms, NULL);
        }
        if (rc < 0 && errno != ENOENT) {
            char note[600];

            snprintf(note, sizeof(note), "rmdir %s: %s", v[best], strerror(errno));
            if (!str_push(&r->cleanup, note))
                r->cleanup_dropped++;
        }
        free(v[best]);
        v[best] = NULL;
    }
    kt__vec_free(&r->rmdirs);
}

static void start_failed(kt__result *r, int code, const char *what)
{
    r->end = KT__END_START_FAILED;
    kt_err_sys(&r->start_error, code, "%s", what);
}

/* How a VM point's guest ended, when its host child itself ended well:
 * in the terms the host's own children end in. */
static void apply_guest_end(kt__result *r)
{
    static const struct {
        const char *kind;
        kt__end end;
    } kinds[] = {
        { "exited", KT__END_EXITED }, { "signaled", KT__END_SIGNALED },
        { "timeout", KT__END_TIMEOUT }, { "panic", KT__END_PANIC },
        { "error", KT__END_GUEST_ERROR },
    };

    if (!r->guest_end || r->end != KT__END_EXITED || r->status != 0)
        return;
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        if (strcmp(r->guest_end_kind, kinds[i].kind) != 0)
            continue;
        r->end = kinds[i].end;
        r->status = atoi(r->guest_end_arg);
        if (r->end == KT__END_TIMEOUT)
            r->timeout_s = (unsigned)r->status;
        if (r->end == KT__END_GUEST_ERROR || r->end == KT__END_PANIC)
            kt_err_set(&r->start_error, 0, "%s", r->guest_end_arg);
        return;
    }
    r->end = KT__END_GUEST_ERROR;
    kt_err_set(&r->start_error, 0, "the guest ended as '%s' (%s)", r->guest_end_kind,
               r->guest_end_arg);
}

void kt__child_signals(sigset_t *set)
{
    static const int watched[] = { SIGCHLD, SIGINT, SIGTERM, SIGHUP };

    sigemptyset(set);
    for (size_t i = 0; i < sizeof(watched) / sizeof(watched[0]); i++)
        sigaddset(set, watched[i]);
}

void kt__child_supervise(const kt_scenario *s, kt_ctx *ctx, int sigfd,
                         const sigset_t *child_mask, const kt__vm_cfg *vm,
                         const kt__sched_cfg *sched, int forward_fd, unsigned evidence,
                         kt__result *r)
{
    unsigned limit_s;
    kt__wire_reader rd;
    int p[2], st = 0, sig = 0;
    int64_t t0;
    pid_t pid, self = getpid();
    kt__end end;

    result_init(r);
    r->forward_fd = forward_fd;
    if (ctx->timeout_s == 0)
        ctx->timeout_s = DEFAULT_TIMEOUT_S;
    limit_s = ctx->timeout_s + (vm ? KT__VM_EXTRA_S
                                   : sched ? sched->attach_s + KT__SCHED_EXTRA_S : 0);
    if (kt__wire_reader_init(&rd) < 0) {
        start_failed(r, errno, "runner: wire buffer");
        return;
    }
    if (pipe2(p, O_CLOEXEC) < 0) {
        start_failed(r, errno, "runner: pipe");
        kt__wire_reader_fini(&rd);
        return;
    }
    fflush(NULL);   /* or the child would print the parent's buffer again */
    t0 = now_ms();
    pid = fork();
    if (pid < 0) {
        start_failed(r, errno, "runner: fork");
        close(p[0]);
        close(p[1]);
        kt__wire_reader_fini(&rd);
        return;
    }
    if (pid == 0) {
        close(p[0]);
        close(sigfd);
        child_main(s, ctx, p[1], child_mask, self, vm, sched, evidence);
    }
    setpgid(pid, pid);   /* may fail once the child has set it: fine */
    close(p[1]);
    fcntl(p[0], F_SETFL, O_NONBLOCK);

    end = watch(pid, &p[0], sigfd, &rd, r, t0 + (int64_t)limit_s * 1000, &sig);
    /* The group first, while the child's zombie still holds its id. */
    kill(-pid, SIGKILL);
    if (end != KT__END_EXITED)
        kill(pid, SIGKILL);
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    if (p[0] >= 0 && kt__wire_read(&rd, p[0], on_line, r) != 0) {
        close(p[0]);
        p[0] = -1;
    }
    reap_all();
    /* Whatever the killed writers managed to send before dying. */
    if (p[0] >= 0) {
        kt__wire_read(&rd, p[0], on_line, r);
        close(p[0]);
    }
    r->bad_lines += rd.overlong;
    kt__wire_reader_fini(&rd);
    r->duration_ms = now_ms() - t0;

    r->end = end;
    if (end == KT__END_INTERRUPTED)
        r->status = sig;
    else if (end == KT__END_EXITED && WIFSIGNALED(st))
        r->end = KT__END_SIGNALED, r->status = WTERMSIG(st);
    else if (end == KT__END_EXITED)
        r->status = WEXITSTATUS(st);
    apply_guest_end(r);
    rmdir_all(r);
}
