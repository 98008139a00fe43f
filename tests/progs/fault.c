/*
 * fault: break a scheduling property from outside, the way a faulty
 * scheduler would, so a sensitivity test can show the scenario notices,
 * and by how much: every fault has a size that can be dialled (issue 20,
 * detection power), and says what it did, measured by its own clock.
 *
 *   fault [--under PID] [--wait-ms N] [--after-ms N] [--hold-ms N] [--every-ms N]
 *         [--period-ms P] [--for-ms T] ACTION ARGS...
 *
 * It finds its victim threads by name (comm), as an outsider would: the
 * first thread named NAME among the descendants of PID (default: any
 * process), waiting up to --wait-ms (default 5000) for it to appear, then
 * --after-ms more (default 0: at once; in a guest, where the fault starts
 * with the point, this lets the body's workers get going first).
 *
 *   renice NAME NICE      setpriority() on the thread
 *   fifo NAME PRIO        SCHED_FIFO at PRIO; with --hold-ms t, for t ms and
 *                         then back to the policy and priority it had
 *   other NAME            SCHED_OTHER, nice 0
 *   pin NAME CPU          sched_setaffinity() to CPU alone; with --hold-ms t,
 *                         for t ms and then back to the affinity it had
 *   move NAME DIR         write the thread's tid to DIR/tasks (v1) or
 *                         DIR/cgroup.threads|cgroup.procs (v2)
 *   stop NAME             SIGSTOP the thread's process for --hold-ms, then SIGCONT
 *   freeze NAME           hold that one thread stopped (ptrace) for --hold-ms:
 *                         off every CPU while no other task uses one, as a
 *                         scheduler that forgot it would leave it
 *   hog CPU PRIO          a SCHED_FIFO spinner (PRIO 0: SCHED_OTHER) pinned
 *                         to CPU for --hold-ms (default 1000)
 *   write PATH VALUE      write VALUE to PATH for --hold-ms, then restore it
 *   scale PATH PCT        PATH's first integer (cpu.weight, cpu.shares,
 *                         cpu.cfs_quota_us, the quota of cpu.max) times
 *                         PCT/100 (1 to 10000), rounded, at least 1, for
 *                         --hold-ms; then its old content. A file that does
 *                         not start with an integer ("max 100000", -1: no
 *                         limit to scale) is an error
 *   bounce NAME CPULIST   re-pin the thread to each CPU of CPULIST ("0-1,3", at
 *                         least two CPUs) in turn, every --every-ms (default
 *                         10) for --hold-ms or until the thread exits (after
 *                         one move at least), as a scheduler that migrates a
 *                         task needlessly would; then restore its affinity
 *
 * Without --hold-ms, renice, fifo, other, pin and move are permanent; the
 * others hold for --hold-ms (default 1000).
 *
 * --period-ms P repeats stop, freeze, fifo, pin and hog: the fault holds for
 * --hold-ms (at least 1, less than P) at the start of every P ms and is
 * undone for the rest of the period, until --for-ms T have passed (default
 * 0: until the victim exits, which ends it with exit 0 once the fault was
 * applied at least once; hog has no victim and needs --for-ms). Periods
 * start on a fixed grid from the first one, so a late wakeup does not
 * shift the next. At the end it says on stderr what it did and what its
 * own clock measured of each hold (from its apply to its undo done; hog's
 * spinner clocks its own spin):
 *
 *   fault: freeze ktw1: held 20 ms every 1000 ms, 3 times (held min 20.0 / mean 20.1 / max 20.3 ms), until it exited after 2510 ms
 *
 * SIGINT, SIGTERM or SIGHUP during a held fault undo it before fault exits
 * (1): a victim must not stay stopped or SCHED_FIFO behind a killed fault.
 *
 * Prints what it did on stderr; exits 0 on success, 1 when the victim never
 * appeared or the action failed, 2 on a usage error.
 */
#include <ktstr.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NS_PER_MS 1000000LL
#define NS_PER_S  1000000000LL
#define PCT_MAX   10000

typedef struct opts {
    long under, wait_ms, hold_ms, every_ms, after_ms, period_ms, for_ms;
    int hold_given;     /* --hold-ms on the command line: fifo and pin then hold */
} opts;

/* What one word of an action's arguments is, so it is checked before any
 * wait for the victim: a bad number is a usage error at once. */
enum word { W_NAME, W_TEXT, W_INT, W_CPU, W_PCT, W_CPULIST };

/* How long an action lasts: ONCE is applied and left (or, for bounce,
 * runs its own course); HELD is undone after --hold-ms; IF_ASKED holds
 * only when --hold-ms or --period-ms is given (the sensitivity tests rely
 * on a plain fifo or pin staying). */
enum hold { ONCE, HELD, IF_ASKED };

/* One fault under way: its victim, its arguments and what undoing it needs. */
typedef struct target {
    char **word;                /* the action's arguments */
    long num[2];                /* word[i] as a number, where it is one */
    int tid, pid;               /* the victim thread and its process; 0: none */
    long hold_ms, every_ms;
    long long until_ns;         /* end of the current hold (MONOTONIC) */
    int old_policy;             /* fifo: what undo gives back */
    struct sched_param old_param;
    cpu_set_t old_set;          /* pin */
    pid_t hog;                  /* hog: the spinner */
    volatile long long *spin;   /* hog: when it spun, from and to (shared) */
    long long held_ns;          /* the hold as the action measured it; 0: fault's clock */
    char old_text[4096];        /* write, scale: the file's content before, */
    size_t old_len;             /* written back whole by undo */
    int cpus[CPU_SETSIZE], ncpus;   /* bounce */
    char err[4200];             /* why apply or undo failed ("" : said already) */
} target;

typedef struct action {
    const char *name;
    int nargs;
    struct { enum word kind; const char *label; } args[2];
    int victim;                 /* word[0] names the thread to find */
    enum hold hold;
    int repeats;                /* takes --period-ms */
    int (*apply)(target *t);    /* 0, or -1 with t->err set */
    int (*undo)(target *t);
} action;

static volatile sig_atomic_t stop_asked;

static void on_stop_signal(int sig)
{
    (void)sig;
    stop_asked = 1;
}

static void usage(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static long num_arg(const char *s, const char *what)
{
    char *end;
    long x;

    errno = 0;
    x = strtol(s, &end, 10);
    if (errno || end == s || *end) {
        fprintf(stderr, "fault: %s: not a number: '%s'\n", what, s);
        exit(2);
    }
    return x;
}

static long num_in(const char *s, const char *what, long lo, long hi)
{
    long x = num_arg(s, what);

    if (x < lo || x > hi)
        usage("%s %ld out of range: %ld to %ld", what, x, lo, hi);
    return x;
}

/* The library's clock (CLOCK_MONOTONIC), signed for the arithmetic of
 * holds and periods. */
static long long now_ns(void)
{
    return (long long)kt_now_ns();
}

/* Sleeps until MONOTONIC time ns (at once when it has passed); -1 when a
 * signal asked fault to stop, so the caller undoes its fault first. */
static int sleep_until(long long ns)
{
    struct timespec ts = { (time_t)(ns / NS_PER_S), (long)(ns % NS_PER_S) };
    int e;

    while ((e = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL)) == EINTR)
        if (stop_asked)
            return -1;
    if (e) {
        fprintf(stderr, "fault: clock_nanosleep: %s\n", strerror(e));
        return -1;
    }
    return stop_asked ? -1 : 0;
}

static int read_small(const char *path, char *buf, size_t n)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t r;

    if (fd < 0)
        return -1;
    r = read(fd, buf, n - 1);
    close(fd);
    if (r < 0)
        return -1;
    buf[r] = '\0';
    return 0;
}

/* The parent pid of a process, from the field after the last ')'. */
static int parent_of(int pid)
{
    char path[64], buf[1024], *p;
    int ppid;

    snprintf(path, sizeof(path), "/proc/%d/stat", pid);
    if (read_small(path, buf, sizeof(buf)) < 0)
        return -1;
    p = strrchr(buf, ')');
    if (!p || sscanf(p + 1, " %*c %d", &ppid) != 1)
        return -1;
    return ppid;
}

static int descends_from(int pid, long ancestor)
{
    for (int depth = 0; pid > 1 && depth < 64; depth++) {
        if (pid == ancestor)
            return 1;
        pid = parent_of(pid);
    }
    return 0;
}

/* Whether thread tid of process pid still runs: its task directory is
 * there and it is no zombie. kill() and SIGSTOP succeed on a zombie that
 * its parent has not reaped yet, so that cannot tell. */
static int alive(int pid, int tid)
{
    char path[64], buf[1024], *p;

    snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", pid, tid);
    if (read_small(path, buf, sizeof(buf)) < 0)
        return 0;
    p = strrchr(buf, ')');
    return p && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X' && p[2] != 'x';
}

/* One scan of /proc for a thread named name; returns its tid, *pid its process. */
static int scan(const char *name, long under, int *pid_out)
{
    DIR *procs = opendir("/proc");
    struct dirent *pe;
    int found = -1;

    if (!procs)
        return -1;
    while (found < 0 && (pe = readdir(procs))) {
        char path[300], comm[64];
        DIR *tasks;
        struct dirent *te;
        int pid;

        if (!isdigit((unsigned char)pe->d_name[0]))
            continue;
        pid = atoi(pe->d_name);
        if (pid == getpid() || (under > 0 && !descends_from(pid, under)))
            continue;
        snprintf(path, sizeof(path), "/proc/%d/task", pid);
        tasks = opendir(path);
        if (!tasks)
            continue;
        while ((te = readdir(tasks))) {
            if (!isdigit((unsigned char)te->d_name[0]))
                continue;
            snprintf(path, sizeof(path), "/proc/%d/task/%s/comm", pid, te->d_name);
            if (read_small(path, comm, sizeof(comm)) < 0)
                continue;
            comm[strcspn(comm, "\n")] = '\0';
            if (strcmp(comm, name) == 0) {
                found = atoi(te->d_name);
                *pid_out = pid;
                break;
            }
        }
        closedir(tasks);
    }
    closedir(procs);
    return found;
}

static int find_thread(const char *name, const opts *o, int *pid)
{
    for (long waited = 0;; waited += 10) {
        int tid = scan(name, o->under, pid);

        if (tid > 0)
            return tid;
        if (waited >= o->wait_ms) {
            fprintf(stderr, "fault: no thread named '%s'%s appeared within %ld ms\n",
                    name, o->under > 0 ? " under the given pid" : "", o->wait_ms);
            exit(1);
        }
        kt_sleep_ms(10);
    }
}

/* Records why an apply or undo failed (errno's text after what and the
 * first argument, as "SIGSTOP ktw1: No such process"); returns -1. */
static int failed(target *t, const char *what)
{
    snprintf(t->err, sizeof(t->err), "%s %s: %s", what, t->word[0], strerror(errno));
    return -1;
}

static int set_policy(int tid, int policy, int prio)
{
    struct sched_param sp = { .sched_priority = prio };

    return sched_setscheduler(tid, policy, &sp);
}

/* Writes s to path from its start. A regular file (a test's scratch file)
 * is cut to s, so no tail of a longer old value stays; pseudo-files
 * (cgroup, proc: size 0) take the write as their whole new value. */
static int write_str(const char *path, const char *s, size_t len)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    struct stat st;
    ssize_t n;
    int rc = 0;

    if (fd < 0)
        return -1;
    n = write(fd, s, len);
    if (n != (ssize_t)len)
        rc = -1;
    else if (fstat(fd, &st) < 0)
        rc = -1;
    else if (S_ISREG(st.st_mode) && st.st_size > (off_t)len && ftruncate(fd, (off_t)len) < 0)
        rc = -1;
    if (close(fd) < 0)
        rc = -1;
    if (rc && !errno)
        errno = EIO;    /* a short write sets none */
    return rc;
}

/* ---- the actions: each apply puts its fault in place, each undo lifts it ---- */

static int apply_renice(target *t)
{
    if (setpriority(PRIO_PROCESS, (id_t)t->tid, (int)t->num[1]) < 0)
        return failed(t, "renice");
    return 0;
}

/* The policy and priority are read at every apply, so undo gives back what
 * the thread had just before (the scenario may change them itself). The
 * legacy sched_setscheduler keeps the nice value across the switch. A
 * SCHED_DEADLINE thread cannot be given back its policy this way: undo
 * then fails and says so. */
static int apply_fifo(target *t)
{
    t->old_policy = sched_getscheduler(t->tid);
    if (t->old_policy < 0 || sched_getparam(t->tid, &t->old_param) < 0)
        return failed(t, "reading the policy of");
    if (set_policy(t->tid, SCHED_FIFO, (int)t->num[1]) < 0)
        return failed(t, "SCHED_FIFO");
    return 0;
}

static int undo_policy(target *t)
{
    /* old_policy keeps SCHED_RESET_ON_FORK: sched_setscheduler takes it back */
    if (sched_setscheduler(t->tid, t->old_policy, &t->old_param) < 0)
        return failed(t, "restoring the policy of");
    return 0;
}

static int apply_other(target *t)
{
    if (set_policy(t->tid, SCHED_OTHER, 0) < 0 || setpriority(PRIO_PROCESS, (id_t)t->tid, 0) < 0)
        return failed(t, "SCHED_OTHER");
    return 0;
}

static int apply_pin(target *t)
{
    cpu_set_t one;

    if (sched_getaffinity(t->tid, sizeof(t->old_set), &t->old_set) < 0)
        return failed(t, "reading the affinity of");
    CPU_ZERO(&one);
    CPU_SET((int)t->num[1], &one);
    if (sched_setaffinity(t->tid, sizeof(one), &one) < 0)
        return failed(t, "pin");
    return 0;
}

static int undo_affinity(target *t)
{
    if (sched_setaffinity(t->tid, sizeof(t->old_set), &t->old_set) < 0)
        return failed(t, "restoring the affinity of");
    return 0;
}

static int apply_move(target *t)
{
    static const char *const files[] = { "tasks", "cgroup.threads", "cgroup.procs" };
    char path[512], val[32];

    snprintf(val, sizeof(val), "%d", t->tid);
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", t->word[1], files[i]);
        if (access(path, W_OK) == 0 && write_str(path, val, strlen(val)) == 0)
            return 0;
    }
    return failed(t, "move");
}

static int apply_stop(target *t)
{
    if (kill(t->pid, SIGSTOP) < 0)
        return failed(t, "SIGSTOP");
    return 0;
}

static int undo_stop(target *t)
{
    if (kill(t->pid, SIGCONT) < 0)
        return failed(t, "SIGCONT");
    return 0;
}

/* PTRACE_SEIZE and PTRACE_INTERRUPT stop the one thread (a SIGSTOP would
 * stop its whole process); detaching lets it run on. A thread that exits
 * instead of stopping reports its exit to the tracer: ESRCH then. */
static int apply_freeze(target *t)
{
    int status, r;

    if (ptrace(PTRACE_SEIZE, t->tid, NULL, NULL) < 0)
        return failed(t, "PTRACE_SEIZE");
    if (ptrace(PTRACE_INTERRUPT, t->tid, NULL, NULL) < 0)
        r = -1;
    else
        while ((r = waitpid(t->tid, &status, __WALL)) < 0 && errno == EINTR)
            ;
    if (r >= 0 && !WIFSTOPPED(status)) {
        errno = ESRCH;
        return failed(t, "PTRACE_INTERRUPT");
    }
    if (r < 0) {
        int e = errno;

        /* best effort: the thread must not stay traced by us; the error
         * reported is the one that stopped the freeze */
        if (ptrace(PTRACE_DETACH, t->tid, NULL, NULL) < 0 && errno != ESRCH)
            fprintf(stderr, "fault: PTRACE_DETACH %s: %s\n", t->word[0], strerror(errno));
        errno = e;
        return failed(t, "PTRACE_INTERRUPT");
    }
    return 0;
}

static int undo_freeze(target *t)
{
    if (ptrace(PTRACE_DETACH, t->tid, NULL, NULL) < 0)
        return failed(t, "PTRACE_DETACH");
    return 0;
}

/* The spinner times itself to t->until_ns, the end of the hold, rather
 * than wait to be killed: a SCHED_FIFO spinner on the only CPU fault
 * could run on would keep fault from ever killing it. For the same reason
 * it clocks its own spin (fault may not run while it does) and leaves the
 * times in t->spin, memory it shares with fault. */
static int apply_hog(target *t)
{
    int cpu = (int)t->num[0], prio = (int)t->num[1];

    if (!t->spin) {
        void *m = mmap(NULL, 2 * sizeof(long long), PROT_READ | PROT_WRITE,
                       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

        if (m == MAP_FAILED)
            return failed(t, "mmap for the hog on CPU");
        t->spin = m;
    }
    t->spin[0] = t->spin[1] = 0;
    t->hog = fork();
    if (t->hog < 0)
        return failed(t, "fork for the hog on CPU");
    if (t->hog == 0) {
        cpu_set_t set;
        long long ns;

        CPU_ZERO(&set);
        CPU_SET(cpu, &set);
        if (sched_setaffinity(0, sizeof(set), &set) < 0)
            _exit(3);
        if (prio > 0 && set_policy(0, SCHED_FIFO, prio) < 0)
            _exit(4);
        do {
            ns = now_ns();
            if (!t->spin[0])
                t->spin[0] = ns;
        } while (ns < t->until_ns);
        t->spin[1] = ns;
        _exit(0);
    }
    return 0;
}

static int undo_hog(target *t)
{
    static const char *const why[] = { [3] = "affinity", [4] = "policy", [5] = "clock" };
    int status, code;

    while (waitpid(t->hog, &status, 0) < 0)
        if (errno != EINTR)
            return failed(t, "waitpid for the hog on CPU");
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        t->held_ns = t->spin[1] - t->spin[0];
        return 0;
    }
    code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    snprintf(t->err, sizeof(t->err), "hog on CPU %ld failed (status %d: %s)", t->num[0], code,
             code >= 3 && code <= 5 ? why[code] : "killed");
    return -1;
}

/* Saves path's content in t->old_text; it must fit whole, or it could not
 * be put back as it was. */
static int save_text(target *t, const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t r;

    if (fd < 0)
        return failed(t, "read");
    r = read(fd, t->old_text, sizeof(t->old_text) - 1);
    if (r < 0) {
        int e = errno;

        close(fd);
        errno = e;
        return failed(t, "read");
    }
    close(fd);
    if ((size_t)r == sizeof(t->old_text) - 1) {
        snprintf(t->err, sizeof(t->err), "%s: longer than %zu bytes, too long to restore",
                 path, sizeof(t->old_text) - 2);
        return -1;
    }
    t->old_text[r] = '\0';
    t->old_len = (size_t)r;
    return 0;
}

static int apply_write(target *t)
{
    const char *path = t->word[0], *value = t->word[1];

    if (save_text(t, path) < 0)
        return -1;
    if (write_str(path, value, strlen(value)) < 0)
        return failed(t, "write");
    fprintf(stderr, "fault: %s = %s (was %.*s) for %ld ms\n", path, value,
            (int)strcspn(t->old_text, "\n"), t->old_text, t->hold_ms);
    return 0;
}

/* Its first line's leading integer times PCT/100, rounded half up, at
 * least 1 (a weight or quota of 0 is refused or means something else);
 * the rest of the line (cpu.max's period) as it was. */
static int apply_scale(target *t)
{
    const char *path = t->word[0];
    long long v, scaled;
    char *end, buf[4200];
    int line;

    if (save_text(t, path) < 0)
        return -1;
    line = (int)strcspn(t->old_text, "\n");
    errno = 0;
    v = isdigit((unsigned char)t->old_text[0]) ? strtoll(t->old_text, &end, 10) : -1;
    if (v < 0 || errno) {
        snprintf(t->err, sizeof(t->err), "scale: %s holds '%.*s', which does not start with "
                 "an integer to scale (a limit of max or -1 has none)", path, line, t->old_text);
        return -1;
    }
    if (v > LLONG_MAX / PCT_MAX) {
        snprintf(t->err, sizeof(t->err), "scale: %s holds %lld, too large to scale", path, v);
        return -1;
    }
    scaled = (v * t->num[1] + 50) / 100;
    if (scaled < 1)
        scaled = 1;
    snprintf(buf, sizeof(buf), "%lld%.*s%s", scaled, line - (int)(end - t->old_text), end,
             t->old_text[line] ? "\n" : "");
    if (write_str(path, buf, strlen(buf)) < 0)
        return failed(t, "write");
    fprintf(stderr, "fault: %s = %lld%.*s (was %.*s: %ld%%) for %ld ms\n", path, scaled,
            line - (int)(end - t->old_text), end, line, t->old_text, t->num[1], t->hold_ms);
    return 0;
}

/* A file gone by then went with the group its scenario removed on the
 * way out: there is nothing left to restore, and the fault did its work
 * (a caller may hold it longer than the scenario lives). */
static int undo_write(target *t)
{
    if (write_str(t->word[0], t->old_text, t->old_len) == 0)
        return 0;
    if (errno == ENOENT) {
        fprintf(stderr, "fault: %s went away with its group: nothing to restore\n", t->word[0]);
        return 0;
    }
    return failed(t, "restore");
}

/* A cpu list ("0-1,3", the kernel's format) into cpus, in its order;
 * their count, or exits with a usage error naming what is wrong. */
static int parse_cpulist(const char *list, int *cpus, int cap)
{
    const char *p = list;
    int n = 0;

    while (*p) {
        char *end;
        long lo, hi;

        errno = 0;
        lo = strtol(p, &end, 10);
        if (errno || end == p || lo < 0 || !isdigit((unsigned char)*p))
            goto bad;
        hi = lo;
        p = end;
        if (*p == '-') {
            const char *q = p + 1;

            errno = 0;
            hi = strtol(q, &end, 10);
            if (errno || end == q || !isdigit((unsigned char)*q))
                goto bad;
            if (hi < lo) {
                fprintf(stderr, "fault: bounce: CPULIST '%s': range %ld-%ld inverted\n",
                        list, lo, hi);
                exit(2);
            }
            p = end;
        }
        if (hi >= CPU_SETSIZE) {
            fprintf(stderr, "fault: bounce: CPULIST '%s': CPU %ld past the last one (%d)\n",
                    list, hi, CPU_SETSIZE - 1);
            exit(2);
        }
        for (long c = lo; c <= hi; c++) {
            if (n == cap) {
                fprintf(stderr, "fault: bounce: CPULIST '%s': more than %d CPUs\n", list, cap);
                exit(2);
            }
            cpus[n++] = (int)c;
        }
        if (*p == ',' && p[1])
            p++;
        else if (*p)
            goto bad;
    }
    if (n < 2) {
        fprintf(stderr, "fault: bounce: CPULIST '%s': %s (bouncing needs two CPUs at least)\n",
                list, n ? "one CPU" : "no CPU");
        exit(2);
    }
    return n;
bad:
    fprintf(stderr, "fault: bounce: CPULIST '%s': not a cpu list (like 0-1,3) at '%s'\n",
            list, p);
    exit(2);
}

static long elapsed_ms(long long t0)
{
    return (long)((now_ns() - t0) / NS_PER_MS);
}

/* Moves the thread to cpus[0], cpus[1], ... in turn (wrapping), one every
 * every_ms, for hold_ms; then gives it back the affinity it had. A thread
 * that exits meanwhile (ESRCH, after the first move) ends it early: the
 * fault lasted as long as its victim, so a caller may ask for more time
 * than the victim has left. Says what went wrong itself (t->err stays ""). */
static int apply_bounce(target *t)
{
    const char *name = t->word[0];
    cpu_set_t old, one;
    long long t0 = now_ns();
    long moves = 0;

    if (sched_getaffinity(t->tid, sizeof(old), &old) < 0)
        return failed(t, "bounce: sched_getaffinity");
    do {
        int cpu = t->cpus[moves % t->ncpus];

        CPU_ZERO(&one);
        CPU_SET(cpu, &one);
        if (sched_setaffinity(t->tid, sizeof(one), &one) < 0) {
            int e = errno;

            if (e == ESRCH && moves > 0) {
                fprintf(stderr, "fault: bounced %s over %d CPUs every %ld ms until it exited "
                        "after %ld ms: %ld moves\n", name, t->ncpus, t->every_ms,
                        elapsed_ms(t0), moves);
                return 0;
            }
            fprintf(stderr, "fault: bounce %s: sched_setaffinity to CPU %d: %s\n", name, cpu,
                    strerror(e));
            if (sched_setaffinity(t->tid, sizeof(old), &old) < 0)
                fprintf(stderr, "fault: bounce: restoring the affinity of %s: %s\n", name,
                        strerror(errno));
            return -1;
        }
        moves++;
        kt_sleep_ms((unsigned)t->every_ms);
    } while (elapsed_ms(t0) < t->hold_ms);
    if (sched_setaffinity(t->tid, sizeof(old), &old) < 0 && errno != ESRCH)
        return failed(t, "bounce: restoring the affinity of");
    fprintf(stderr, "fault: bounced %s over %d CPUs every %ld ms for %ld ms: %ld moves, "
            "affinity restored\n", name, t->ncpus, t->every_ms, t->hold_ms, moves);
    return 0;
}

static const action actions[] = {
    /* name     n  arguments                                    victim hold   repeats */
    { "renice", 2, { { W_NAME, "NAME" }, { W_INT, "NICE" } },     1, ONCE,     0,
      apply_renice, NULL },
    { "fifo",   2, { { W_NAME, "NAME" }, { W_INT, "PRIO" } },     1, IF_ASKED, 1,
      apply_fifo, undo_policy },
    { "other",  1, { { W_NAME, "NAME" } },                        1, ONCE,     0,
      apply_other, NULL },
    { "pin",    2, { { W_NAME, "NAME" }, { W_CPU, "CPU" } },      1, IF_ASKED, 1,
      apply_pin, undo_affinity },
    { "move",   2, { { W_NAME, "NAME" }, { W_TEXT, "DIR" } },     1, ONCE,     0,
      apply_move, NULL },
    { "stop",   1, { { W_NAME, "NAME" } },                        1, HELD,     1,
      apply_stop, undo_stop },
    { "freeze", 1, { { W_NAME, "NAME" } },                        1, HELD,     1,
      apply_freeze, undo_freeze },
    { "hog",    2, { { W_CPU, "CPU" }, { W_INT, "PRIO" } },       0, HELD,     1,
      apply_hog, undo_hog },
    { "write",  2, { { W_TEXT, "PATH" }, { W_TEXT, "VALUE" } },   0, HELD,     0,
      apply_write, undo_write },
    { "scale",  2, { { W_TEXT, "PATH" }, { W_PCT, "PCT" } },      0, HELD,     0,
      apply_scale, undo_write },
    { "bounce", 2, { { W_NAME, "NAME" }, { W_CPULIST, "CPULIST" } }, 1, ONCE,  0,
      apply_bounce, NULL },
};
#define NACTIONS (sizeof(actions) / sizeof(actions[0]))

static void usage(const char *fmt, ...)
{
    va_list ap;

    fputs("fault: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\nusage: fault [--under PID] [--wait-ms N] [--after-ms N] [--hold-ms N] "
          "[--every-ms N]\n             [--period-ms P] [--for-ms T] ACTION ARGS...\n ", stderr);
    for (size_t i = 0; i < NACTIONS; i++) {
        fprintf(stderr, " %s", actions[i].name);
        for (int j = 0; j < actions[i].nargs; j++)
            fprintf(stderr, " %s", actions[i].args[j].label);
        fputs(i + 1 < NACTIONS ? (i % 4 == 3 ? " |\n " : " |") : "\n", stderr);
    }
    exit(2);
}

/* The options before the action; returns the index of the action. */
static int parse_options(int argc, char **argv, opts *o)
{
    const struct { const char *flag; long *dst; long min; } defs[] = {
        { "--under", &o->under, 0 },       { "--wait-ms", &o->wait_ms, 0 },
        { "--after-ms", &o->after_ms, 0 }, { "--hold-ms", &o->hold_ms, 0 },
        { "--every-ms", &o->every_ms, 1 }, { "--period-ms", &o->period_ms, 1 },
        { "--for-ms", &o->for_ms, 0 },
    };
    int i = 1;

    for (; i + 1 < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
        size_t d = 0;

        while (d < sizeof(defs) / sizeof(defs[0]) && strcmp(argv[i], defs[d].flag))
            d++;
        if (d == sizeof(defs) / sizeof(defs[0]))
            usage("unknown option '%s'", argv[i]);
        *defs[d].dst = num_arg(argv[i + 1], argv[i]);
        if (*defs[d].dst < defs[d].min)
            usage("%s must be at least %ld", argv[i], defs[d].min);
        if (defs[d].dst == &o->hold_ms)
            o->hold_given = 1;
    }
    return i;
}

/* Checks every argument word of action a now, before any wait. */
static void parse_words(const action *a, target *t)
{
    for (int j = 0; j < a->nargs; j++) {
        const char *w = t->word[j], *label = a->args[j].label;

        switch (a->args[j].kind) {
        case W_NAME:
        case W_TEXT:
            break;
        case W_INT:
            t->num[j] = num_arg(w, label);
            break;
        case W_CPU:     /* CPU_SET past the set would write out of it */
            t->num[j] = num_in(w, label, 0, CPU_SETSIZE - 1);
            break;
        case W_PCT:
            t->num[j] = num_in(w, label, 1, PCT_MAX);
            break;
        case W_CPULIST: /* a bad list is a usage error before any wait */
            t->ncpus = parse_cpulist(w, t->cpus, CPU_SETSIZE);
            break;
        }
    }
}

/* The hold times of a held fault, by fault's clock. */
typedef struct held {
    long n;
    long long min, max, sum;
} held;

static void add_held(held *h, long long ns)
{
    if (!h->n || ns < h->min)
        h->min = ns;
    if (!h->n || ns > h->max)
        h->max = ns;
    h->sum += ns;
    h->n++;
}

enum end { END_DONE, END_GONE, END_FAILED, END_STOPPED };

/* Whether the victim has exited (never, for a fault without one). */
static int gone(const target *t)
{
    return t->tid > 0 && !alive(t->pid, t->tid);
}

#define POLL_NS (10 * NS_PER_MS)

/* Sleeps until MONOTONIC time ns, looking every 10 ms whether the victim
 * still runs: 0 at ns, 1 as soon as the victim is gone (a hold ends with
 * it, and fault with its victim), -1 when a signal asked fault to stop. */
static int wait_until(const target *t, long long ns)
{
    for (;;) {
        long long now = now_ns(), next = now + POLL_NS < ns ? now + POLL_NS : ns;

        if (now >= ns)
            return 0;
        if (sleep_until(t->tid > 0 ? next : ns) < 0)
            return -1;
        if (gone(t))
            return 1;
    }
}

/* Applies a's fault, holds it hold_ms, undoes it; with period_ms, again at
 * the start of every period until for_ms (0: until the victim exits).
 * Every hold it completes lands in h, timed from its apply to its undo
 * done; a victim that exits during a hold ends it there. */
static enum end hold_loop(const action *a, target *t, const opts *o, held *h, long long *ran)
{
    long long t0 = now_ns(), period = o->period_ms * NS_PER_MS;

    for (long k = 0;; k++) {
        long long start = t0 + k * period, on;
        int waited, undone;

        if (k > 0 && (!period || (o->for_ms && k * period >= o->for_ms * NS_PER_MS)))
            return END_DONE;
        waited = k > 0 ? wait_until(t, start) : 0;
        *ran = now_ns() - t0;
        if (waited < 0)
            return END_STOPPED;
        if (waited > 0 || gone(t))
            return END_GONE;
        t->until_ns = start + o->hold_ms * NS_PER_MS;
        t->held_ns = 0;
        /* timed from before the apply: fault itself may lose its CPU as
         * the fault lands (a victim pinned onto fault's CPU preempts it) */
        on = now_ns();
        if (a->apply(t) < 0)
            return gone(t) ? END_GONE : END_FAILED;
        /* SIGSTOP and sched_setscheduler succeed on a zombie: a victim
         * that exited just before is not counted as held */
        if (gone(t)) {
            (void)a->undo(t);   /* best effort: there is no one left to give it back to */
            return END_GONE;
        }
        waited = wait_until(t, t->until_ns);
        undone = a->undo(t) == 0;
        if (!undone && !gone(t))
            return END_FAILED;
        add_held(h, t->held_ns ? t->held_ns : now_ns() - on);
        *ran = now_ns() - t0;
        if (waited > 0 || !undone)
            return END_GONE;
        if (waited < 0)
            return END_STOPPED;
    }
}

/* "fifo ktw1 10": the action and its arguments, for the summary. */
static void describe(char *buf, size_t n, const action *a, const target *t)
{
    int len = snprintf(buf, n, "%s", a->name);

    for (int j = 0; j < a->nargs && len > 0 && (size_t)len < n; j++)
        len += snprintf(buf + len, n - (size_t)len, " %s", t->word[j]);
}

/* The line a periodic fault ends with. */
static void say_periodic(const action *a, const target *t, const opts *o, const held *h,
                         enum end how, long long ran)
{
    char what[256];

    describe(what, sizeof(what), a, t);
    fprintf(stderr, "fault: %s: held %ld ms every %ld ms, %ld time%s", what, o->hold_ms,
            o->period_ms, h->n, h->n == 1 ? "" : "s");
    if (h->n)
        fprintf(stderr, " (held min %.1f / mean %.1f / max %.1f ms)",
                (double)h->min / NS_PER_MS, (double)h->sum / h->n / NS_PER_MS,
                (double)h->max / NS_PER_MS);
    if (how == END_GONE)
        fprintf(stderr, ", until it exited after %lld ms\n", ran / NS_PER_MS);
    else if (how == END_STOPPED)
        fprintf(stderr, ", interrupted after %lld ms: undone\n", ran / NS_PER_MS);
    else if (how == END_FAILED)
        fprintf(stderr, ", then failed after %lld ms\n", ran / NS_PER_MS);
    else
        fprintf(stderr, ", for %ld ms\n", o->for_ms);
}

/* The line a one-shot fault ends with: what it did to whom, as always. */
static void say_once(const action *a, const target *t, const held *h, enum end how,
                     long long ran)
{
    if (a->apply == apply_hog) {
        fprintf(stderr, "fault: ran a %s hog on CPU %ld for %ld ms\n",
                t->num[1] > 0 ? "SCHED_FIFO" : "SCHED_OTHER", t->num[0], t->hold_ms);
        return;
    }
    if (!a->victim)
        return;     /* write and scale said it as they wrote */
    fprintf(stderr, "fault: %s %s (tid %d, pid %d)%s%s", a->name, t->word[0], t->tid, t->pid,
            a->nargs > 1 ? " " : "", a->nargs > 1 ? t->word[1] : "");
    if (h->n && how == END_GONE)
        fprintf(stderr, ": held %.1f ms, until it exited after %lld ms",
                (double)h->sum / NS_PER_MS, ran / NS_PER_MS);
    else if (h->n)
        fprintf(stderr, ": held %.1f ms, then undone", (double)h->sum / NS_PER_MS);
    fputc('\n', stderr);
}

/* SIGINT, SIGTERM and SIGHUP end the hold early, so the fault is undone. */
static void catch_stop_signals(void)
{
    static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop_signal;   /* no SA_RESTART: sleeps end at once */
    if (sigemptyset(&sa.sa_mask) < 0) {
        perror("fault: sigemptyset");
        exit(1);
    }
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        if (sigaction(sigs[i], &sa, NULL) < 0) {
            perror("fault: sigaction");
            exit(1);
        }
}

/* Usage errors of the hold options, before any wait for the victim; a
 * message names both values where two disagree. */
static void check_hold(const action *a, const opts *o)
{
    if (o->for_ms && !o->period_ms)
        usage("--for-ms %ld needs --period-ms", o->for_ms);
    if (!o->period_ms)
        return;
    if (!a->repeats)
        usage("--period-ms repeats stop, freeze, fifo, pin and hog, not %s", a->name);
    if (o->hold_ms < 1 || o->hold_ms >= o->period_ms)
        usage("--hold-ms %ld must be at least 1 and less than --period-ms %ld", o->hold_ms,
              o->period_ms);
    if (!a->victim && !o->for_ms)
        usage("%s --period-ms %ld has no victim to outlive: give --for-ms", a->name,
              o->period_ms);
}

int main(int argc, char **argv)
{
    static target t;    /* static: the CPU list and buffers are large */
    opts o = { .wait_ms = 5000, .hold_ms = 1000, .every_ms = 10 };
    const action *a = NULL;
    held h = { 0 };
    long long ran = 0;
    enum end how;
    int i = parse_options(argc, argv, &o), held_fault;

    if (i >= argc)
        usage("missing action");
    for (size_t k = 0; k < NACTIONS && !a; k++)
        if (strcmp(argv[i], actions[k].name) == 0)
            a = &actions[k];
    if (!a)
        usage("unknown action '%s'", argv[i]);
    if (argc - i - 1 != a->nargs)
        usage("%s needs %d argument%s, not %d", a->name, a->nargs, a->nargs == 1 ? "" : "s",
              argc - i - 1);
    t.word = &argv[i + 1];
    t.hold_ms = o.hold_ms;
    t.every_ms = o.every_ms;
    parse_words(a, &t);
    held_fault = a->hold == HELD || (a->hold == IF_ASKED && (o.hold_given || o.period_ms));
    check_hold(a, &o);

    if (a->victim) {
        t.tid = find_thread(t.word[0], &o, &t.pid);
        if (o.after_ms > 0)
            kt_sleep_ms((unsigned)o.after_ms);
    }
    if (!held_fault) {
        if (a->apply(&t) < 0) {
            if (t.err[0])
                fprintf(stderr, "fault: %s\n", t.err);
            return 1;
        }
        say_once(a, &t, &h, END_DONE, 0);
        return 0;
    }
    catch_stop_signals();
    how = hold_loop(a, &t, &o, &h, &ran);
    if (how == END_FAILED) {
        fprintf(stderr, "fault: %s\n", t.err);
        if (h.n && o.period_ms)
            say_periodic(a, &t, &o, &h, how, ran);
        return 1;
    }
    if (how == END_GONE && !h.n) {
        fprintf(stderr, "fault: %s exited before %s was applied\n", t.word[0], a->name);
        return 1;
    }
    if (o.period_ms)
        say_periodic(a, &t, &o, &h, how, ran);
    else
        say_once(a, &t, &h, how, ran);
    if (how == END_STOPPED && !o.period_ms)
        fprintf(stderr, "fault: interrupted: %s undone early\n", a->name);
    return how == END_STOPPED ? 1 : 0;
}
