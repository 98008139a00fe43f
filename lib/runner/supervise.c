/* The supervisor of one point, of any kind: it forks the point's child,
 * which sets itself up and runs the kind; the parent records the child's
 * wire lines as they arrive (record.c), enforces the deadline, and
 * afterwards kills and reaps every descendant and removes the
 * directories the child asked for. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/file.h"
#include "base/pidstat.h"
#include "base/vec.h"
#include "ktstr/procstat.h"
#include "runner/point.h"
#include "runner/wire.h"

#define DEFAULT_TIMEOUT_S 30
/* How long the parent keeps retrying an rmdir that says EBUSY (a cgroup
 * whose killed tasks are still exiting). */
#define RMDIR_RETRY_MS 500
/* How long to wait for descendants the parent cannot see in /proc. */
#define REAP_GIVE_UP_MS 10000
/* CPUs /proc/stat is read for (the rest are not counted). */
#define KT__LOAD_MAX_CPUS 1024

static int64_t now_ms(void)
{
    return (int64_t)(kt__mono_ns() / 1000000u);
}

/* ---- the child's side ------------------------------------------------- */

__attribute__((noreturn)) static void child_main(const kt_scenario *s, kt_ctx *ctx,
                                                 int wire_fd, const sigset_t *mask,
                                                 pid_t parent, const kt__point_kind *kind,
                                                 const void *cfg, unsigned evidence)
{
    kt__run_ctx rc = { *ctx, wire_fd, evidence };

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
    kt__run_ctx_enter(&rc);
    kind->run(s, &rc, cfg);
    fflush(NULL);
    /* _exit: exit() would run the parent's atexit handlers in the child. */
    _exit(0);
}

/* ---- the load from outside the point ---------------------------------- */

/* A mark of the machine's busy CPU time (/proc/stat, every CPU) and of
 * the CPU time of this process's reaped children, when the point starts
 * and when it is over: the busy time its own tree did not use is what
 * the rest of the machine took from it. */
typedef struct load_mark {
    bool ok;
    int ncpus;
    uint64_t busy_ns, tree_ns, t_ns;
} load_mark;

/* One process of a /proc snapshot. */
typedef struct proc_cpu {
    int pid, ppid;
    uint64_t ticks;   /* its own CPU time and its reaped children's */
} proc_cpu;

/* Every process /proc lists now, into out (a kt__vec of proc_cpu): the
 * runner's one walk of /proc. A process gone meanwhile is left out; out
 * of memory keeps what was read. */
static void proc_snapshot(kt__vec *out)
{
    DIR *d = opendir("/proc");
    struct dirent *e;

    if (!d)
        return;
    while ((e = readdir(d)) != NULL) {
        char path[300], buf[4096];
        kt__pidstat st;
        proc_cpu pc;
        ssize_t n;

        if (e->d_name[0] < '1' || e->d_name[0] > '9')
            continue;
        snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
        n = kt__read_file_buf(path, buf, sizeof(buf), NULL);
        if (n <= 0 || kt__pidstat_parse(buf, (size_t)n, &st, NULL) < 0)
            continue;
        pc = (proc_cpu){ st.pid, st.ppid,
                         st.utime_ticks + st.stime_ticks + st.cutime_ticks + st.cstime_ticks };
        if (kt__vec_push(out, &pc, NULL, "/proc snapshot") < 0)
            break;
    }
    closedir(d);
}

static int by_pid(const void *a, const void *b)
{
    const proc_cpu *x = a, *y = b;

    return (x->pid > y->pid) - (x->pid < y->pid);
}

/* CPU time, in ns, of the live processes below this one (the point's
 * tree: under the subreaper every descendant is one), found by walking
 * up the ppid links of a snapshot of /proc. 0 when it cannot be read. */
static uint64_t live_tree_ns(void)
{
    kt__vec procs = KT__VEC_INIT(proc_cpu);
    pid_t self = getpid();
    long hz = sysconf(_SC_CLK_TCK);
    uint64_t ticks = 0;

    if (hz <= 0)
        return 0;
    proc_snapshot(&procs);
    qsort(procs.v, procs.n, sizeof(proc_cpu), by_pid);
    for (size_t i = 0; i < procs.n; i++) {
        const proc_cpu *p = kt__vec_at(&procs, i);
        int up = p->ppid;

        /* Bounded: stale links read across exits cannot loop forever. */
        for (size_t steps = 0; up > 1 && up != self && steps < procs.n; steps++) {
            proc_cpu key = { .pid = up };
            const proc_cpu *q = bsearch(&key, procs.v, procs.n, sizeof(proc_cpu), by_pid);

            up = q ? q->ppid : 0;
        }
        if (up == self)
            ticks += p->ticks;
    }
    kt__vec_free(&procs);
    return ticks * (1000000000u / (uint64_t)hz);
}

/* live: the point's tree is still running, so its CPU time is read from
 * /proc as well as from the children already reaped. */
static load_mark load_mark_now(bool live)
{
    load_mark m = { .ok = false, .t_ns = kt__mono_ns() };
    kt_cpu_times cpus[KT__LOAD_MAX_CPUS];
    struct rusage ru;
    kt_procstat ps;
    int n;

    if (kt_procstat_open(&ps, NULL) < 0)
        return m;
    n = kt_procstat_read(&ps, cpus, KT__LOAD_MAX_CPUS, NULL);
    kt_procstat_close(&ps);
    if (n <= 0 || getrusage(RUSAGE_CHILDREN, &ru) < 0)
        return m;
    for (int i = 0; i < n && i < KT__LOAD_MAX_CPUS; i++)
        if (cpus[i].present) {
            m.busy_ns += kt_cpu_busy_ns(&cpus[i]);
            m.ncpus++;
        }
    m.tree_ns = (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000u +
                (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000u;
    if (live)
        m.tree_ns += live_tree_ns();
    m.ok = true;
    return m;
}

/* /proc/stat counts in ticks of 10 ms per CPU: over a shorter point the
 * figure is noise (a 5 ms point read 11 CPUs' worth here), so none is
 * given. */
#define FOREIGN_MIN_NS 250000000u

/* Foreign load between two marks, CPUs' worth, in [0, the CPUs read];
 * NaN when not measured or the point was too short to measure it. */
static double foreign_load(const load_mark *a, const load_mark *b)
{
    double busy, tree, load;

    if (!a->ok || !b->ok || b->t_ns < a->t_ns + FOREIGN_MIN_NS)
        return NAN;
    busy = (double)(b->busy_ns - a->busy_ns);
    tree = (double)(b->tree_ns - a->tree_ns);
    load = busy > tree ? (busy - tree) / (double)(b->t_ns - a->t_ns) : 0.0;
    return load < b->ncpus ? load : b->ncpus;
}

/* ---- the deadline ----------------------------------------------------- */

/* The point's timeout counts the machine it was given, as the boot clock
 * does (vm_boot.c): past its timeout of wall time, a point is given the
 * time other tasks took from the machine meanwhile (a share f of it: a
 * deadline of timeout / (1 - f)), up to DEADLINE_CEILING times the
 * timeout, which it reaches only while they take 2/3 of the machine or
 * more. On the 2-CPU host under stress-ng --switch 2, points whose body
 * takes 2 s idle waited 20 s to over 120 s in KVM's SRCU and in the
 * reaping of their threads (README: On a busy machine). 3, not 2: one
 * spinner beside a spinning hang on 2 CPUs is a share of 1/2, and that
 * hang must stay a timeout (tests/runner/inconclusive.t). */
#define DEADLINE_CEILING 3
/* How often the share is read again past the timeout (a /proc walk). */
#define DEADLINE_RECHECK_MS 500

typedef struct deadline {
    int64_t t0_ms, limit_ms, at_ms;   /* at_ms: the deadline now */
    load_mark m0;                     /* the machine when the point began */
    bool stretched, ceiling;
} deadline;

/* Called once now >= d->at_ms: true when the point is out of time; else
 * d->at_ms has moved on, for the time other tasks took. */
static bool deadline_passed(deadline *d, int64_t now)
{
    int64_t ceiling = d->t0_ms + DEADLINE_CEILING * d->limit_ms, want;
    load_mark m = load_mark_now(true);
    double load = foreign_load(&d->m0, &m), share;

    if (d->ceiling || !(load == load) || m.ncpus <= 0)
        return true;
    share = load / m.ncpus;
    want = share < 1.0 - (double)d->limit_ms / (double)(ceiling - d->t0_ms)
               ? d->t0_ms + (int64_t)((double)d->limit_ms / (1.0 - share))
               : ceiling;
    /* Other tasks' noise (an idle machine reads a share of 0.02) is no
     * reason to stretch: under 5% of the timeout, none is given. */
    if (want <= now || (!d->stretched && want < d->t0_ms + d->limit_ms + d->limit_ms / 20))
        return true;
    d->stretched = true;
    d->ceiling = want >= ceiling;
    d->at_ms = want < now + DEADLINE_RECHECK_MS || d->ceiling ? want : now + DEADLINE_RECHECK_MS;
    return false;
}

/* ---- supervision ------------------------------------------------------ */

/* Waits for the child's exit, the deadline or a signal to the runner,
 * reading the wire meanwhile. */
static kt__end watch(pid_t pid, int *pfd, int sigfd, kt__wire_reader *rd,
                    kt__result *r, deadline *d, int *sig)
{
    for (;;) {
        struct pollfd fds[2] = { { sigfd, POLLIN, 0 }, { *pfd, POLLIN, 0 } };
        int64_t now = now_ms(), left = d->at_ms - now;
        int n;

        if (left <= 0) {
            if (deadline_passed(d, now))
                return KT__END_TIMEOUT;
            continue;
        }
        n = poll(fds, *pfd >= 0 ? 2 : 1, left > INT_MAX ? INT_MAX : (int)left);
        if (n < 0 && errno != EINTR)
            return KT__END_TIMEOUT;   /* cannot watch: stop it rather than hang */
        if (n <= 0)
            continue;
        if (*pfd >= 0 && fds[1].revents && kt__wire_read(rd, *pfd, kt__record_line, r) != 0) {
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
 * subreaper adopted included) but keep, and with reap waits for each;
 * returns how many it found. */
static int kill_children(pid_t keep, bool reap)
{
    kt__vec procs = KT__VEC_INIT(proc_cpu);
    pid_t self = getpid();
    int found = 0;

    proc_snapshot(&procs);
    for (size_t i = 0; i < procs.n; i++) {
        const proc_cpu *p = kt__vec_at(&procs, i);

        if (p->ppid != self || p->pid == keep)
            continue;
        kill((pid_t)p->pid, SIGKILL);
        found++;
    }
    for (size_t i = 0; reap && i < procs.n; i++) {
        const proc_cpu *p = kt__vec_at(&procs, i);

        if (p->ppid == self && p->pid != keep)
            while (waitpid((pid_t)p->pid, NULL, 0) < 0 && errno == EINTR)
                ;
    }
    kt__vec_free(&procs);
    return found;
}

/* Kills and reaps every remaining descendant but keep (a guest the runner
 * keeps for the next point, or 0). Under the subreaper every live
 * descendant has a live parent that is ours or is one of our children, so
 * "no child left" means "no descendant left". */
static void reap_all(pid_t keep)
{
    int64_t give_up = now_ms() + REAP_GIVE_UP_MS;

    /* keep must stay unreaped: each other child is waited for by its pid */
    if (keep > 0) {
        while (kill_children(keep, true) > 0)
            ;
        return;
    }
    for (;;) {
        pid_t w = waitpid(-1, NULL, WNOHANG);

        if (w > 0 || (w < 0 && errno == EINTR))
            continue;
        if (w < 0)
            return;   /* ECHILD: nothing left */
        if (kill_children(0, false) > 0) {
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
            if (!kt__result_keep_str(&r->cleanup, note))
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
                         const sigset_t *child_mask, const kt__point_kind *kind,
                         const void *cfg, int forward_fd, unsigned evidence, pid_t keep,
                         kt__result *r)
{
    unsigned limit_s;
    kt__wire_reader rd;
    int p[2], st = 0, sig = 0;
    int64_t t0;
    pid_t pid, self = getpid();
    kt__end end;
    load_mark m0, m1;
    deadline dl;

    kt__result_init(r);
    r->forward_fd = forward_fd;
    if (ctx->timeout_s == 0)
        ctx->timeout_s = DEFAULT_TIMEOUT_S;
    limit_s = ctx->timeout_s + kind->extra_s(cfg);
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
    /* A kept guest's QEMU is the point's while it runs: counted live. */
    m0 = load_mark_now(keep > 0);
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
        child_main(s, ctx, p[1], child_mask, self, kind, cfg, evidence);
    }
    setpgid(pid, pid);   /* may fail once the child has set it: fine */
    close(p[1]);
    fcntl(p[0], F_SETFL, O_NONBLOCK);

    dl = (deadline){ .t0_ms = t0, .limit_ms = (int64_t)limit_s * 1000,
                     .at_ms = t0 + (int64_t)limit_s * 1000, .m0 = m0 };
    end = watch(pid, &p[0], sigfd, &rd, r, &dl, &sig);
    /* The group first, while the child's zombie still holds its id. */
    kill(-pid, SIGKILL);
    if (end != KT__END_EXITED)
        kill(pid, SIGKILL);
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    if (p[0] >= 0 && kt__wire_read(&rd, p[0], kt__record_line, r) != 0) {
        close(p[0]);
        p[0] = -1;
    }
    reap_all(keep);
    m1 = load_mark_now(keep > 0);
    r->foreign_load = foreign_load(&m0, &m1);
    r->machine_cpus = m1.ncpus;
    /* Whatever the killed writers managed to send before dying. */
    if (p[0] >= 0) {
        kt__wire_read(&rd, p[0], kt__record_line, r);
        close(p[0]);
    }
    r->bad_lines += rd.overlong;
    kt__wire_reader_fini(&rd);
    r->duration_ms = now_ms() - t0;

    r->end = end;
    if (end == KT__END_TIMEOUT && dl.stretched) {
        r->deadline_ms = dl.at_ms - t0;
        r->deadline_ceiling = dl.ceiling;
    }
    if (end == KT__END_INTERRUPTED)
        r->status = sig;
    else if (end == KT__END_EXITED && WIFSIGNALED(st))
        r->end = KT__END_SIGNALED, r->status = WTERMSIG(st);
    else if (end == KT__END_EXITED)
        r->status = WEXITSTATUS(st);
    apply_guest_end(r);
    rmdir_all(r);
}
