/* Cost of one target-tick per source, against the naive way in the same
 * run: a perf group read vs one read per counter, a kept schedstat fd vs
 * open+read+close. Times are medians of REPS repetitions; syscalls are
 * counted by a raw_syscalls:sys_enter tracepoint counter on this thread. */
#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "ktstr/perf.h"
#include "ktstr/schedstat.h"

#define NT 8        /* target threads, all blocked: no IPI in the numbers */
#define TICKS 2000  /* ticks per repetition */
#define REPS 9

typedef struct bench {
    int tid[NT];
    kt_perf_group grp[NT];
    int single[NT][3];   /* the same counters opened one by one */
    kt_schedstat ss[NT];
    char path[NT][64];
} bench;

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return (x > y) - (x < y);
}

/* ---- the tick loops measured ---- */

static void tick_group(bench *b)
{
    kt_perf_values v;

    for (int t = 0; t < NT; t++)
        if (kt_perf_group_read(&b->grp[t], &v, NULL) < 0)
            abort();
}

static void tick_single(bench *b)
{
    uint64_t v[3];

    for (int t = 0; t < NT; t++)
        for (int k = 0; k < 3; k++)
            if (read(b->single[t][k], v, sizeof(v)) != sizeof(v))
                abort();
}

static void tick_schedstat(bench *b)
{
    kt_schedstat_sample s;

    for (int t = 0; t < NT; t++)
        if (kt_schedstat_read(&b->ss[t], &s, NULL) < 0)
            abort();
}

static void tick_reopen(bench *b)
{
    kt_schedstat_sample s;
    char buf[96];

    for (int t = 0; t < NT; t++) {
        int fd = open(b->path[t], O_RDONLY | O_CLOEXEC);
        ssize_t n;

        if (fd < 0)
            abort();
        n = read(fd, buf, sizeof(buf));
        close(fd);
        if (n <= 0 || kt_schedstat_parse(buf, (size_t)n, &s, NULL) < 0)
            abort();
    }
}

static void tick_none(bench *b)
{
    (void)b;
}

typedef void (*tick_fn)(bench *);

static double ns_per_target_tick(bench *b, tick_fn fn)
{
    uint64_t r[REPS];

    for (int i = 0; i < REPS; i++) {
        uint64_t t0 = now_ns();

        for (int k = 0; k < TICKS; k++)
            fn(b);
        r[i] = now_ns() - t0;
    }
    qsort(r, REPS, sizeof(r[0]), cmp_u64);
    return (double)r[REPS / 2] / (TICKS * NT);
}

/* ---- counting syscalls ---- */

static long tracepoint_id(void)
{
    static const char *const paths[] = {
        "/sys/kernel/tracing/events/raw_syscalls/sys_enter/id",
        "/sys/kernel/debug/tracing/events/raw_syscalls/sys_enter/id",
    };

    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        FILE *f = fopen(paths[i], "r");
        long id;

        if (!f)
            continue;
        if (fscanf(f, "%ld", &id) != 1)
            id = -1;
        fclose(f);
        if (id >= 0)
            return id;
    }
    return -1;
}

/* Opens a counter of this thread's syscall entries. When tracefs is not
 * mounted, mounts it in a private mount namespace of this process only
 * (needs root and a single-threaded caller), so nothing outside changes. */
static int syscall_counter(char *why, size_t n)
{
    struct perf_event_attr a;
    long id = tracepoint_id();
    int fd;

    if (id < 0) {
        if (unshare(CLONE_NEWNS) < 0 ||
            mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
            mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, NULL) < 0) {
            snprintf(why, n, "tracefs not mounted and private mount failed: %s",
                     strerror(errno));
            return -1;
        }
        id = tracepoint_id();
        if (id < 0) {
            snprintf(why, n, "no raw_syscalls:sys_enter tracepoint");
            return -1;
        }
    }
    memset(&a, 0, sizeof(a));
    a.size = sizeof(a);
    a.type = PERF_TYPE_TRACEPOINT;
    a.config = (uint64_t)id;
    fd = (int)syscall(SYS_perf_event_open, &a, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
    if (fd < 0)
        snprintf(why, n, "perf_event_open(raw_syscalls:sys_enter): %s", strerror(errno));
    return fd;
}

static uint64_t count_of(int cfd, bench *b, tick_fn fn)
{
    uint64_t c0, c1;

    if (read(cfd, &c0, sizeof(c0)) != sizeof(c0))
        abort();
    for (int k = 0; k < TICKS; k++)
        fn(b);
    if (read(cfd, &c1, sizeof(c1)) != sizeof(c1))
        abort();
    return c1 - c0;
}

/* Syscalls per target-tick, less the counter's own read. */
static double syscalls_per_target_tick(int cfd, bench *b, tick_fn fn)
{
    uint64_t base = count_of(cfd, b, tick_none);

    return (double)(count_of(cfd, b, fn) - base) / (TICKS * NT);
}

/* ---- targets ---- */

typedef struct sleeper {
    int fd;
    int *tid;
} sleeper;

static void *sleeper_main(void *arg)
{
    sleeper *s = arg;
    char c;

    *s->tid = (int)syscall(SYS_gettid);
    while (read(s->fd, &c, 1) < 0 && errno == EINTR)
        ;
    return NULL;
}

static int open_single(int tid, int k)
{
    static const uint64_t cfg[3] = { PERF_COUNT_SW_TASK_CLOCK, PERF_COUNT_SW_CONTEXT_SWITCHES,
                                     PERF_COUNT_SW_CPU_MIGRATIONS };
    struct perf_event_attr a;

    memset(&a, 0, sizeof(a));
    a.size = sizeof(a);
    a.type = PERF_TYPE_SOFTWARE;
    a.config = cfg[k];
    a.read_format = PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING;
    return (int)syscall(SYS_perf_event_open, &a, tid, -1, -1, PERF_FLAG_FD_CLOEXEC);
}

int main(void)
{
    static bench b;
    sleeper sl[NT];
    pthread_t th[NT];
    int pipefd[2], cfd;
    char why[200];
    kt_err err = { 0 };
    kt_perf_group hw;
    double g, s, ss, sr;

    /* before any thread: a private mount namespace needs a lone thread */
    cfd = syscall_counter(why, sizeof(why));
    if (pipe(pipefd) < 0)
        return perror("pipe"), 1;
    for (int t = 0; t < NT; t++) {
        b.tid[t] = 0;
        sl[t] = (sleeper){ pipefd[0], &b.tid[t] };
        if (pthread_create(&th[t], NULL, sleeper_main, &sl[t]))
            return fprintf(stderr, "pthread_create failed\n"), 1;
    }
    for (int t = 0; t < NT; t++)
        while (!__atomic_load_n(&b.tid[t], __ATOMIC_ACQUIRE))
            usleep(1000);
    for (int t = 0; t < NT; t++) {
        if (kt_perf_group_open(&b.grp[t], KT_PERF_SW, b.tid[t], -1, 0, &err) < 0 ||
            kt_schedstat_open(&b.ss[t], 0, b.tid[t], &err) < 0) {
            printf("# skip: %s\n", err.msg);
            return 0;
        }
        for (int k = 0; k < 3; k++)
            if ((b.single[t][k] = open_single(b.tid[t], k)) < 0)
                return perror("perf_event_open"), 1;
        snprintf(b.path[t], sizeof(b.path[t]), "/proc/self/task/%d/schedstat", b.tid[t]);
    }
    if (kt_perf_group_open(&hw, KT_PERF_HW, b.tid[0], -1, 0, &err) == 0)
        printf("# a hardware group opens here; this bench still measures the software "
               "group (3 counters) so that figures compare across machines\n");
    else
        printf("# hardware group unavailable here (%s): measuring the software group "
               "(task-clock, context-switches, cpu-migrations: 3 counters)\n", err.msg);
    printf("# %d blocked target threads, %d ticks per repetition, median of %d\n",
           NT, TICKS, REPS);

    g = ns_per_target_tick(&b, tick_group);
    s = ns_per_target_tick(&b, tick_single);
    ss = ns_per_target_tick(&b, tick_schedstat);
    sr = ns_per_target_tick(&b, tick_reopen);
    if (cfd >= 0) {
        printf("# syscalls counted by a raw_syscalls:sys_enter perf tracepoint counter on "
               "the sampling thread, less an empty loop's count\n");
        printf("bench: capture.perf_group.syscalls_per_target_tick %.2f syscalls\n",
               syscalls_per_target_tick(cfd, &b, tick_group));
        printf("bench: capture.perf_single.syscalls_per_target_tick %.2f syscalls\n",
               syscalls_per_target_tick(cfd, &b, tick_single));
        printf("bench: capture.schedstat.syscalls_per_target_tick %.2f syscalls\n",
               syscalls_per_target_tick(cfd, &b, tick_schedstat));
        printf("bench: capture.schedstat_reopen.syscalls_per_target_tick %.2f syscalls\n",
               syscalls_per_target_tick(cfd, &b, tick_reopen));
    } else {
        printf("# syscall counts not measured: %s\n", why);
    }
    printf("bench: capture.perf_group.ns_per_target_tick %.0f ns\n", g);
    printf("bench: capture.perf_single.ns_per_target_tick %.0f ns\n", s);
    printf("# perf: single reads cost %.2fx the group read\n", s / g);
    printf("bench: capture.schedstat.ns_per_target_tick %.0f ns\n", ss);
    printf("bench: capture.schedstat_reopen.ns_per_target_tick %.0f ns\n", sr);
    printf("# schedstat: reopening costs %.2fx the kept fd\n", sr / ss);

    close(pipefd[1]);  /* wakes the sleepers: read returns 0 */
    for (int t = 0; t < NT; t++) {
        pthread_join(th[t], NULL);
        kt_perf_group_close(&b.grp[t]);
        kt_schedstat_close(&b.ss[t]);
        for (int k = 0; k < 3; k++)
            close(b.single[t][k]);
    }
    close(pipefd[0]);
    kt_perf_group_close(&hw);
    if (cfd >= 0)
        close(cfd);
    return 0;
}
