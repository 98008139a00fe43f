/* The monitor's own CPU use: 64 threads (8 busy, 56 waking every 5 ms)
 * sampled at 1 kHz from schedstat and the perf software group, as the
 * monitor thread's CPU time over wall time. Baseline in the same run: a
 * naive sampler at the same cadence that reopens schedstat each tick and
 * reads the three counters one by one. Medians of REPS runs. */
#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "ktstr/monitor.h"
#include "ktstr/schedstat.h"

#define NT 64
#define NBUSY 8
#define HZ 1000
#define RUN_MS 1500
#define REPS 3

typedef struct worker {
    int busy;
    atomic_int tid;
    atomic_bool *stop;
} worker;

static uint64_t ns_of(clockid_t clk)
{
    struct timespec ts;

    clock_gettime(clk, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

static void *worker_main(void *arg)
{
    worker *w = arg;

    atomic_store(&w->tid, (int)syscall(SYS_gettid));
    while (!atomic_load(w->stop)) {
        if (w->busy)
            for (volatile int i = 0; i < 100000; i++)
                ;
        else
            usleep(5000);
    }
    return NULL;
}

/* ---- the naive sampler ---- */

typedef struct naive {
    const int *tid;
    int fds[NT][3];
    atomic_bool stop;
    uint64_t cpu_ns, ticks;
} naive;

static void *naive_main(void *arg)
{
    naive *n = arg;
    uint64_t next = ns_of(CLOCK_MONOTONIC);

    while (!atomic_load(&n->stop)) {
        for (int t = 0; t < NT; t++) {
            char path[64], buf[96];
            kt_schedstat_sample s;
            uint64_t v[3];
            ssize_t r;
            int fd;

            snprintf(path, sizeof(path), "/proc/self/task/%d/schedstat", n->tid[t]);
            fd = open(path, O_RDONLY | O_CLOEXEC);
            if (fd >= 0) {
                r = read(fd, buf, sizeof(buf));
                close(fd);
                if (r > 0)
                    kt_schedstat_parse(buf, (size_t)r, &s, NULL);
            }
            for (int k = 0; k < 3; k++)
                if (read(n->fds[t][k], v, sizeof(v)) < 0)
                    break;
        }
        n->ticks++;
        next += 1000000000u / HZ;
        {
            uint64_t now = ns_of(CLOCK_MONOTONIC);
            struct timespec ts;

            if (now >= next)
                next += ((now - next) / (1000000000u / HZ) + 1) * (1000000000u / HZ);
            ts.tv_sec = (time_t)(next / 1000000000u);
            ts.tv_nsec = (long)(next % 1000000000u);
            clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
        }
    }
    n->cpu_ns = ns_of(CLOCK_THREAD_CPUTIME_ID);
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

static double run_naive(const int *tid)
{
    static naive n;
    pthread_t th;
    uint64_t t0, wall;

    memset(&n, 0, sizeof(n));
    n.tid = tid;
    atomic_init(&n.stop, false);
    for (int t = 0; t < NT; t++)
        for (int k = 0; k < 3; k++)
            if ((n.fds[t][k] = open_single(tid[t], k)) < 0)
                return -1;
    t0 = ns_of(CLOCK_MONOTONIC);
    if (pthread_create(&th, NULL, naive_main, &n))
        return -1;
    usleep(RUN_MS * 1000);
    atomic_store(&n.stop, true);
    pthread_join(th, NULL);
    wall = ns_of(CLOCK_MONOTONIC) - t0;
    for (int t = 0; t < NT; t++)
        for (int k = 0; k < 3; k++)
            close(n.fds[t][k]);
    printf("# naive: %llu ticks of %d due; %.1f us CPU per tick\n", (unsigned long long)n.ticks,
           RUN_MS * HZ / 1000, (double)n.cpu_ns / 1e3 / (double)(n.ticks ? n.ticks : 1));
    return 100.0 * (double)n.cpu_ns / (double)wall;
}

static double run_monitor(const int *tid, kt_err *err)
{
    kt_target tg[NT];
    kt_monitor_config cfg = { .hz = HZ, .capacity = (size_t)RUN_MS * HZ / 1000 * 2 };
    kt_monitor *m;
    uint64_t t0, wall;
    size_t ticks;
    double pct;

    for (int t = 0; t < NT; t++)
        tg[t] = (kt_target){ .kind = KT_TARGET_THREAD, .tid = tid[t],
                             .sources = KT_SRC_SCHEDSTAT | KT_SRC_PERF_SW };
    t0 = ns_of(CLOCK_MONOTONIC);
    m = kt_monitor_start(tg, NT, &cfg, err);
    if (!m)
        return -1;
    usleep(RUN_MS * 1000);
    kt_monitor_stop(m);
    wall = ns_of(CLOCK_MONOTONIC) - t0;
    pct = 100.0 * (double)kt_monitor_cpu_ns(m) / (double)wall;
    ticks = kt_timeline_ticks(kt_monitor_timeline(m));
    /* missed ticks cost nothing, so also give the cost per tick taken */
    printf("# monitor: %zu ticks of %d due, %llu missed%s; %.1f us CPU per tick "
           "(%.1f pct at a full %d Hz)\n",
           ticks, RUN_MS * HZ / 1000, (unsigned long long)kt_monitor_missed(m),
           kt_monitor_full(m) ? ", full" : "",
           (double)kt_monitor_cpu_ns(m) / 1e3 / (double)(ticks ? ticks : 1),
           (double)kt_monitor_cpu_ns(m) / 1e7 * HZ / (double)(ticks ? ticks : 1), HZ);
    kt_monitor_free(m);
    return pct;
}

int main(void)
{
    static worker w[NT];
    static atomic_bool stop;
    pthread_t th[NT];
    int tid[NT];
    double mon[REPS], nai[REPS];
    kt_err err = { 0 };

    atomic_init(&stop, false);
    for (int t = 0; t < NT; t++) {
        w[t].busy = t % (NT / NBUSY) == 0;
        atomic_init(&w[t].tid, 0);
        w[t].stop = &stop;
        if (pthread_create(&th[t], NULL, worker_main, &w[t]))
            return fprintf(stderr, "pthread_create failed\n"), 1;
    }
    for (int t = 0; t < NT; t++) {
        while (!atomic_load(&w[t].tid))
            usleep(1000);
        tid[t] = atomic_load(&w[t].tid);
    }
    printf("# %d threads (%d busy, %d waking every 5 ms), %d Hz, schedstat + perf "
           "software group, %d ms per run, median of %d\n",
           NT, NBUSY, NT - NBUSY, HZ, RUN_MS, REPS);
    for (int r = 0; r < REPS; r++) {
        mon[r] = run_monitor(tid, &err);
        nai[r] = run_naive(tid);
        if (mon[r] < 0 || nai[r] < 0) {
            printf("# skip: %s\n", mon[r] < 0 ? err.msg : "naive sampler failed to start");
            break;
        }
    }
    atomic_store(&stop, true);
    for (int t = 0; t < NT; t++)
        pthread_join(th[t], NULL);
    if (mon[0] < 0 || nai[0] < 0)
        return 0;
    qsort(mon, REPS, sizeof(mon[0]), cmp_dbl);
    qsort(nai, REPS, sizeof(nai[0]), cmp_dbl);
    printf("bench: capture.monitor.cpu_pct %.1f pct\n", mon[REPS / 2]);
    printf("bench: capture.monitor_naive.cpu_pct %.1f pct\n", nai[REPS / 2]);
    printf("# monitor uses %.2fx the CPU of the naive sampler (goal: <= 10 pct of one CPU)\n",
           mon[REPS / 2] / nai[REPS / 2]);
    return 0;
}
