/*
 * fault: break a scheduling property from outside, the way a faulty
 * scheduler would, so a sensitivity test can show the scenario notices.
 *
 *   fault [--under PID] [--wait-ms N] [--after-ms N] [--hold-ms N] [--every-ms N]
 *         ACTION ARGS...
 *
 * It finds its victim threads by name (comm), as an outsider would: the
 * first thread named NAME among the descendants of PID (default: any
 * process), waiting up to --wait-ms (default 5000) for it to appear, then
 * --after-ms more (default 0: at once; in a guest, where the fault starts
 * with the point, this lets the body's workers get going first).
 *
 *   renice NAME NICE      setpriority() on the thread
 *   fifo NAME PRIO        SCHED_FIFO at PRIO
 *   other NAME            SCHED_OTHER, nice 0
 *   pin NAME CPU          sched_setaffinity() to CPU alone
 *   move NAME DIR         write the thread's tid to DIR/tasks (v1) or
 *                         DIR/cgroup.threads|cgroup.procs (v2)
 *   stop NAME             SIGSTOP the thread's process for --hold-ms, then SIGCONT
 *   freeze NAME           hold that one thread stopped (ptrace) for --hold-ms:
 *                         off every CPU while no other task uses one, as a
 *                         scheduler that forgot it would leave it
 *   hog CPU PRIO          a SCHED_FIFO spinner (PRIO 0: SCHED_OTHER) pinned
 *                         to CPU for --hold-ms (default 1000)
 *   write PATH VALUE      write VALUE to PATH for --hold-ms, then restore it
 *   bounce NAME CPULIST   re-pin the thread to each CPU of CPULIST ("0-1,3", at
 *                         least two CPUs) in turn, every --every-ms (default
 *                         10) for --hold-ms or until the thread exits (after
 *                         one move at least), as a scheduler that migrates a
 *                         task needlessly would; then restore its affinity
 *
 * Prints what it did on stderr; exits 0 on success, 1 when the victim never
 * appeared or the action failed, 2 on a usage error.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

typedef struct opts {
    int under;
    long wait_ms, hold_ms, every_ms, after_ms;
} opts;

static void usage(const char *why)
{
    fprintf(stderr, "fault: %s\n"
            "usage: fault [--under PID] [--wait-ms N] [--after-ms N] [--hold-ms N] [--every-ms N] ACTION ARGS...\n"
            "  renice NAME NICE | fifo NAME PRIO | other NAME | pin NAME CPU |\n"
            "  move NAME DIR | stop NAME | freeze NAME | hog CPU PRIO | write PATH VALUE |\n"
            "  bounce NAME CPULIST\n",
            why);
    exit(2);
}

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

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
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

static int descends_from(int pid, int ancestor)
{
    for (int depth = 0; pid > 1 && depth < 64; depth++) {
        if (pid == ancestor)
            return 1;
        pid = parent_of(pid);
    }
    return 0;
}

/* One scan of /proc for a thread named name; returns its tid, *pid its process. */
static int scan(const char *name, int under, int *pid_out)
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
        sleep_ms(10);
    }
}

static int fail(const char *what, const char *name)
{
    fprintf(stderr, "fault: %s %s: %s\n", what, name, strerror(errno));
    return 1;
}

static int set_policy(int tid, int policy, int prio)
{
    struct sched_param sp = { .sched_priority = prio };

    return sched_setscheduler(tid, policy, &sp);
}

static int write_str(const char *path, const char *s)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    ssize_t n;

    if (fd < 0)
        return -1;
    n = write(fd, s, strlen(s));
    close(fd);
    return n == (ssize_t)strlen(s) ? 0 : -1;
}

static int do_move(int tid, const char *dir)
{
    static const char *const files[] = { "tasks", "cgroup.threads", "cgroup.procs" };
    char path[512], val[32];

    snprintf(val, sizeof(val), "%d", tid);
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
        if (access(path, W_OK) == 0 && write_str(path, val) == 0)
            return 0;
    }
    return -1;
}

static int do_hog(int cpu, int prio, long hold_ms)
{
    pid_t child = fork();
    int status;

    if (child < 0)
        return fail("fork", "hog");
    if (child == 0) {
        cpu_set_t set;
        struct timespec t0, t;

        CPU_ZERO(&set);
        CPU_SET(cpu, &set);
        if (sched_setaffinity(0, sizeof(set), &set) < 0)
            _exit(3);
        if (prio > 0 && set_policy(0, SCHED_FIFO, prio) < 0)
            _exit(4);
        clock_gettime(CLOCK_MONOTONIC, &t0);
        do {
            clock_gettime(CLOCK_MONOTONIC, &t);
        } while ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 < hold_ms);
        _exit(0);
    }
    if (waitpid(child, &status, 0) < 0)
        return fail("waitpid", "hog");
    if (!WIFEXITED(status) || WEXITSTATUS(status)) {
        fprintf(stderr, "fault: hog on CPU %d failed (status %d: %s)\n", cpu,
                WIFEXITED(status) ? WEXITSTATUS(status) : -1,
                WIFEXITED(status) && WEXITSTATUS(status) == 3 ? "affinity" : "policy");
        return 1;
    }
    fprintf(stderr, "fault: ran a %s hog on CPU %d for %ld ms\n",
            prio > 0 ? "SCHED_FIFO" : "SCHED_OTHER", cpu, hold_ms);
    return 0;
}

/* PTRACE_SEIZE and PTRACE_INTERRUPT stop the one thread (a SIGSTOP would
 * stop its whole process); detaching lets it run on. */
static int do_freeze(int tid, const char *name, long hold_ms)
{
    int status;

    if (ptrace(PTRACE_SEIZE, tid, NULL, NULL) < 0)
        return fail("PTRACE_SEIZE", name);
    if (ptrace(PTRACE_INTERRUPT, tid, NULL, NULL) < 0 ||
        waitpid(tid, &status, __WALL) < 0) {
        int e = errno;

        ptrace(PTRACE_DETACH, tid, NULL, NULL);
        errno = e;
        return fail("PTRACE_INTERRUPT", name);
    }
    sleep_ms(hold_ms);
    if (ptrace(PTRACE_DETACH, tid, NULL, NULL) < 0)
        return fail("PTRACE_DETACH", name);
    return 0;
}

static int do_write(const char *path, const char *value, long hold_ms)
{
    char old[256];

    if (read_small(path, old, sizeof(old)) < 0)
        return fail("read", path);
    old[strcspn(old, "\n")] = '\0';
    if (write_str(path, value) < 0)
        return fail("write", path);
    fprintf(stderr, "fault: %s = %s (was %s) for %ld ms\n", path, value, old, hold_ms);
    sleep_ms(hold_ms);
    if (write_str(path, old) < 0)
        return fail("restore", path);
    return 0;
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

static long elapsed_ms(const struct timespec *t0)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/* Moves the thread to cpus[0], cpus[1], ... in turn (wrapping), one every
 * every_ms, for hold_ms; then gives it back the affinity it had. A thread
 * that exits meanwhile (ESRCH, after the first move) ends it early: the
 * fault lasted as long as its victim, so a caller may ask for more time
 * than the victim has left. */
static int do_bounce(int tid, const char *name, const int *cpus, int n, long every_ms,
                     long hold_ms)
{
    cpu_set_t old, one;
    struct timespec t0;
    long moves = 0;

    if (sched_getaffinity(tid, sizeof(old), &old) < 0)
        return fail("bounce: sched_getaffinity", name);
    if (clock_gettime(CLOCK_MONOTONIC, &t0) < 0)
        return fail("bounce: clock_gettime", name);
    do {
        CPU_ZERO(&one);
        CPU_SET(cpus[moves % n], &one);
        if (sched_setaffinity(tid, sizeof(one), &one) < 0) {
            int e = errno;

            if (e == ESRCH && moves > 0) {
                fprintf(stderr, "fault: bounced %s over %d CPUs every %ld ms until it exited "
                        "after %ld ms: %ld moves\n", name, n, every_ms, elapsed_ms(&t0), moves);
                return 0;
            }
            fprintf(stderr, "fault: bounce %s: sched_setaffinity to CPU %d: %s\n", name,
                    cpus[moves % n], strerror(e));
            if (sched_setaffinity(tid, sizeof(old), &old) < 0)
                fail("bounce: restoring the affinity of", name);
            return 1;
        }
        moves++;
        sleep_ms(every_ms);
    } while (elapsed_ms(&t0) < hold_ms);
    if (sched_setaffinity(tid, sizeof(old), &old) < 0 && errno != ESRCH)
        return fail("bounce: restoring the affinity of", name);
    fprintf(stderr, "fault: bounced %s over %d CPUs every %ld ms for %ld ms: %ld moves, "
            "affinity restored\n", name, n, every_ms, hold_ms, moves);
    return 0;
}

int main(int argc, char **argv)
{
    opts o = { .under = 0, .wait_ms = 5000, .hold_ms = 1000, .every_ms = 10 };
    const char *action, *name;
    int i = 1, tid, pid = 0, bounce_cpus[CPU_SETSIZE], nbounce = 0;

    for (; i + 1 < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
        long x = num_arg(argv[i + 1], argv[i]);

        if (strcmp(argv[i], "--under") == 0)
            o.under = (int)x;
        else if (strcmp(argv[i], "--wait-ms") == 0)
            o.wait_ms = x;
        else if (strcmp(argv[i], "--hold-ms") == 0)
            o.hold_ms = x;
        else if (strcmp(argv[i], "--after-ms") == 0)
            o.after_ms = x;
        else if (strcmp(argv[i], "--every-ms") == 0 && x > 0)
            o.every_ms = x;
        else if (strcmp(argv[i], "--every-ms") == 0)
            usage("--every-ms must be at least 1");
        else
            usage("unknown option");
    }
    if (i + 1 >= argc)
        usage("missing action or its arguments");
    action = argv[i];
    name = argv[i + 1];
    if (strcmp(action, "hog") == 0) {
        if (i + 2 >= argc)
            usage("hog needs CPU PRIO");
        return do_hog((int)num_arg(name, "CPU"), (int)num_arg(argv[i + 2], "PRIO"), o.hold_ms);
    }
    if (strcmp(action, "write") == 0) {
        if (i + 2 >= argc)
            usage("write needs PATH VALUE");
        return do_write(name, argv[i + 2], o.hold_ms);
    }
    if (strcmp(action, "bounce") == 0) {
        if (i + 2 >= argc)
            usage("bounce needs NAME CPULIST");
        /* a bad list is a usage error before any wait for the victim */
        nbounce = parse_cpulist(argv[i + 2], bounce_cpus, CPU_SETSIZE);
    }

    tid = find_thread(name, &o, &pid);
    if (o.after_ms > 0)
        sleep_ms(o.after_ms);
    if (strcmp(action, "renice") == 0 && i + 2 < argc) {
        if (setpriority(PRIO_PROCESS, (id_t)tid, (int)num_arg(argv[i + 2], "NICE")) < 0)
            return fail("renice", name);
    } else if (strcmp(action, "fifo") == 0 && i + 2 < argc) {
        if (set_policy(tid, SCHED_FIFO, (int)num_arg(argv[i + 2], "PRIO")) < 0)
            return fail("SCHED_FIFO", name);
    } else if (strcmp(action, "other") == 0) {
        if (set_policy(tid, SCHED_OTHER, 0) < 0 || setpriority(PRIO_PROCESS, (id_t)tid, 0) < 0)
            return fail("SCHED_OTHER", name);
    } else if (strcmp(action, "pin") == 0 && i + 2 < argc) {
        cpu_set_t set;

        CPU_ZERO(&set);
        CPU_SET((int)num_arg(argv[i + 2], "CPU"), &set);
        if (sched_setaffinity(tid, sizeof(set), &set) < 0)
            return fail("pin", name);
    } else if (strcmp(action, "move") == 0 && i + 2 < argc) {
        if (do_move(tid, argv[i + 2]) < 0)
            return fail("move", name);
    } else if (strcmp(action, "freeze") == 0) {
        if (do_freeze(tid, name, o.hold_ms) != 0)
            return 1;
    } else if (strcmp(action, "stop") == 0) {
        if (kill(pid, SIGSTOP) < 0)
            return fail("SIGSTOP", name);
        sleep_ms(o.hold_ms);
        if (kill(pid, SIGCONT) < 0)
            return fail("SIGCONT", name);
    } else if (strcmp(action, "bounce") == 0) {
        if (do_bounce(tid, name, bounce_cpus, nbounce, o.every_ms, o.hold_ms) != 0)
            return 1;
    } else {
        usage("unknown action or missing argument");
    }
    fprintf(stderr, "fault: %s %s (tid %d, pid %d)%s%s\n", action, name, tid, pid,
            i + 2 < argc ? " " : "", i + 2 < argc ? argv[i + 2] : "");
    return 0;
}
