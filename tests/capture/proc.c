/* /proc sources: schedstat, sched and /proc/stat parsers on fixture files,
 * then live reads and the thread-gone error path. */
#include "harness/unit.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "ktstr/procstat.h"
#include "ktstr/schedstat.h"

/* Reads a fixture into buf; returns its length, or -1 (and fails). */
static ssize_t fixture(const char *name, char *buf, size_t cap)
{
    char path[256];
    ssize_t n;
    int fd;

    snprintf(path, sizeof(path), "tests/fixtures/%s", name);
    fd = open(path, O_RDONLY);
    if (!check(fd >= 0))
        return -1;
    n = read(fd, buf, cap);
    close(fd);
    check(n > 0 && (size_t)n < cap);
    return n;
}

static void t_schedstat_parse(void)
{
    kt_schedstat_sample s;
    kt_err err = { 0 };
    char buf[128];
    ssize_t n = fixture("schedstat.txt", buf, sizeof(buf));

    if (n < 0)
        return;
    check_int(kt_schedstat_parse(buf, (size_t)n, &s, &err), ==, 0);
    check_uint(s.run_ns, ==, 1523847291);
    check_uint(s.delay_ns, ==, 88123456);
    check_uint(s.timeslices, ==, 4211);
    check_int(kt_schedstat_parse("1 2\n", 4, &s, &err), ==, -1);
    check_contains(err.msg, "field 3 missing");
    check_int(kt_schedstat_parse("1 2 3 4\n", 8, &s, &err), ==, -1);
    check_contains(err.msg, "trailing");
    check_int(kt_schedstat_parse("1 x 3\n", 6, &s, &err), ==, -1);
    check_int(kt_schedstat_parse("18446744073709551616 0 0\n", 25, &s, &err), ==, -1);
    check_contains(err.msg, "overflows");
    check_int(kt_schedstat_parse("18446744073709551615 0 0", 24, &s, &err), ==, 0);
    check_uint(s.run_ns, ==, UINT64_MAX);
    check_int(kt_schedstat_parse("", 0, &s, &err), ==, -1);
}

static void t_sched_parse(void)
{
    kt_sched_counters c;
    kt_err err = { 0 };
    char buf[4096];
    ssize_t n = fixture("sched_plain.txt", buf, sizeof(buf));

    if (n < 0)
        return;
    check_int(kt_sched_parse(buf, (size_t)n, &c, &err), ==, 0);
    check_uint(c.nr_switches, ==, 4211);
    check_uint(c.nr_voluntary_switches, ==, 4000);
    check_uint(c.nr_involuntary_switches, ==, 211);
    check_uint(c.nr_migrations, ==, 17);

    n = fixture("sched_schedstats.txt", buf, sizeof(buf));
    if (n < 0)
        return;
    check_int(kt_sched_parse(buf, (size_t)n, &c, &err), ==, 0);
    check_uint(c.nr_switches, ==, 100233);
    check_uint(c.nr_voluntary_switches, ==, 99001);
    check_uint(c.nr_involuntary_switches, ==, 1232);
    check_uint(c.nr_migrations, ==, 1204);  /* not nr_forced_migrations */

    check(!c.has_ext);                       /* no sched_ext: no ext.enabled */

    /* ext.enabled, where the kernel has sched_ext (7.3: "%-45s:%21Ld") */
    {
        static const char ext[] = "nr_switches : 1\nnr_voluntary_switches : 1\n"
                                  "nr_involuntary_switches : 0\nse.nr_migrations : 0\n"
                                  "ext.enabled                                  :"
                                  "                    1\n";

        check_int(kt_sched_parse(ext, sizeof(ext) - 1, &c, &err), ==, 0);
        check(c.has_ext);
        check_uint(c.ext_enabled, ==, 1);
        check_int(kt_sched_parse(ext, sizeof(ext) - 3, &c, &err), ==, -1);   /* "ext.enabled : " */
        check_contains(err.msg, "ext.enabled: malformed");
    }
    check_int(kt_sched_parse("nr_switches : 4\n", 16, &c, &err), ==, -1);
    check_contains(err.msg, "nr_voluntary_switches missing");
    check_int(kt_sched_parse("nr_switches : 4.5\n", 18, &c, &err), ==, -1);
    check_contains(err.msg, "nr_switches: malformed");
}

static void t_procstat_parse(void)
{
    kt_cpu_times t[8];
    kt_err err = { 0 };
    char buf[4096];
    ssize_t n = fixture("proc_stat_4cpu.txt", buf, sizeof(buf));

    if (n < 0)
        return;
    check_int(kt_procstat_parse(buf, (size_t)n, 100, t, 8, &err), ==, 3);
    check_int(t[0].present, ==, 1);
    check_int(t[2].present, ==, 0);  /* offline: no line */
    check_int(t[3].present, ==, 1);
    check_int(t[4].present, ==, 0);
    check_uint(t[1].user, ==, 110000000);     /* 11 ticks at 100 Hz */
    check_uint(t[1].nice, ==, 10000000);
    check_uint(t[1].idle, ==, 9900000000);
    check_uint(t[1].steal, ==, 10000000);
    check_uint(kt_cpu_busy_ns(&t[1]), ==, (11 + 1 + 6 + 1 + 0 + 1) * 10000000ull);
    check_uint(kt_cpu_idle_ns(&t[1]), ==, (990 + 2) * 10000000ull);
    check_uint(t[3].softirq, ==, 10000000);
    check_uint(t[3].steal, ==, 20000000);
    /* another tick rate converts exactly */
    check_int(kt_procstat_parse(buf, (size_t)n, 1000, t, 8, &err), ==, 3);
    check_uint(t[0].user, ==, 10000000);
    /* a cap below the CPU count ignores the rest */
    check_int(kt_procstat_parse(buf, (size_t)n, 100, t, 2, &err), ==, 3);
    check_uint(t[1].system, ==, 60000000);
    /* truncated inside the CPU lines: rejected, never half-read */
    check_int(kt_procstat_parse(buf, 70, 100, t, 8, &err), ==, -1);
    check_contains(err.msg, "truncated");
    check_int(kt_procstat_parse("cpu0 1 2 3\nintr 0\n", 18, 100, t, 8, &err), ==, -1);
    check_contains(err.msg, "cpu0: field 4 missing");
    check_int(kt_procstat_parse("cpux 1 2 3\n", 11, 100, t, 8, &err), ==, -1);
    check_contains(err.msg, "bad CPU number");
    /* the line is quoted from its start, also past a number that began well */
    check_int(kt_procstat_parse("cpu12x 1 2\n", 11, 100, t, 8, &err), ==, -1);
    check_contains(err.msg, "bad CPU number in line \"cpu12x 1 2\"");
    check_int(kt_procstat_parse("intr 0\n", 7, 100, t, 8, &err), ==, -1);
    check_contains(err.msg, "no cpuN lines");
}

static void t_procstat_live(void)
{
    kt_procstat ps;
    kt_cpu_times a[64], b[64];
    kt_err err = { 0 };
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    uint64_t da = 0;
    int rc;

    rc = kt_procstat_open(&ps, &err);
    if (!check_int(rc, ==, 0))
        return;
    check_int(kt_procstat_read(&ps, a, 64, &err), >=, ncpu < 64 ? ncpu : 1);
    usleep(100000);
    check_int(kt_procstat_read(&ps, b, 64, &err), >=, 1);
    check_int(a[0].present, ==, 1);
    /* 100 ms of wall time passed on every CPU: busy + idle moved */
    for (int c = 0; c < 64; c++)
        if (a[c].present && b[c].present)
            da += kt_cpu_busy_ns(&b[c]) + kt_cpu_idle_ns(&b[c]) -
                  kt_cpu_busy_ns(&a[c]) - kt_cpu_idle_ns(&a[c]);
    check_uint(da, >=, 50000000);
    kt_procstat_close(&ps);
    kt_procstat_close(&ps);
}

static void t_schedstat_live(void)
{
    kt_schedstat s;
    kt_schedstat_sample a, b;
    kt_sched_counters c;
    kt_err err = { 0 };
    struct timespec t0, t1;
    int tid = (int)syscall(SYS_gettid);
    int rc;

    rc = kt_schedstat_open(&s, 0, tid, &err);
    if (!check_int(rc, ==, 0))
        return;
    check_int(kt_schedstat_read(&s, &a, &err), ==, 0);
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
    do
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t1);
    while ((t1.tv_sec - t0.tv_sec) * 1000000000L + t1.tv_nsec - t0.tv_nsec < 20000000L);
    check_int(kt_schedstat_read(&s, &b, &err), ==, 0);
    check_uint(b.run_ns - a.run_ns, >=, 20000000);
    check_uint(b.timeslices, >=, a.timeslices);
    kt_schedstat_close(&s);
    rc = kt_schedstat_open(&s, getpid(), tid, &err);
    check_int(rc, ==, 0);
    kt_schedstat_close(&s);
    usleep(1000);
    check_int(kt_sched_read(0, tid, &c, &err), ==, 0);
    check_uint(c.nr_switches, >=, 1);
    check_uint(c.nr_switches, ==, c.nr_voluntary_switches + c.nr_involuntary_switches);
}

/* pthread_join returns when the kernel clears the thread's tid, a moment
 * before /proc stops showing it: wait (bounded) until it is really gone. */
static void wait_reaped(int tid)
{
    char path[64];

    snprintf(path, sizeof(path), "/proc/self/task/%d", tid);
    for (int i = 0; i < 2000 && access(path, F_OK) == 0; i++)
        usleep(1000);
}

static void *short_thread(void *arg)
{
    *(int *)arg = (int)syscall(SYS_gettid);
    return NULL;
}

/* Kept open before the thread exits: the next read says ESRCH, thread gone. */
static volatile int release;
static void *waiting_thread(void *arg)
{
    *(int *)arg = (int)syscall(SYS_gettid);
    while (!release)
        usleep(1000);
    return NULL;
}

static void t_thread_gone(void)
{
    kt_schedstat s;
    kt_schedstat_sample x;
    kt_sched_counters c;
    kt_err err = { 0 };
    pthread_t th;
    volatile int tid = 0;
    int rc;

    rc = pthread_create(&th, NULL, waiting_thread, (void *)&tid);
    check_int(rc, ==, 0);
    while (!tid)
        usleep(1000);
    rc = kt_schedstat_open(&s, 0, tid, &err);
    if (check_int(rc, ==, 0)) {
        check_int(kt_schedstat_read(&s, &x, &err), ==, 0);
        release = 1;
        pthread_join(th, NULL);
        wait_reaped(tid);
        rc = kt_schedstat_read(&s, &x, &err);
        check_int(rc, ==, -1);
        check_int(err.code, ==, ESRCH);
        check_contains(err.msg, "schedstat (tid ");
        check_contains(err.msg, "thread gone");
        kt_schedstat_close(&s);
    }

    tid = 0;
    rc = pthread_create(&th, NULL, short_thread, (void *)&tid);
    check_int(rc, ==, 0);
    pthread_join(th, NULL);
    wait_reaped(tid);
    rc = kt_schedstat_open(&s, 0, tid, &err);
    check_int(rc, ==, -1);
    check_int(err.code, ==, ENOENT);
    check_contains(err.msg, "/schedstat");
    check_int(kt_sched_read(0, tid, &c, &err), ==, -1);
    check_contains(err.msg, "/sched");
}

int main(void)
{
    TEST(t_schedstat_parse(), "schedstat parser: fixture and malformed text");
    TEST(t_sched_parse(), "sched parser: with and without schedstats fields");
    TEST(t_procstat_parse(), "/proc/stat parser: several CPUs, one offline, USER_HZ");
    TEST(t_procstat_live(), "/proc/stat live read");
    TEST(t_schedstat_live(), "schedstat and sched live reads of this thread");
    TEST(t_thread_gone(), "schedstat of an exited thread: ESRCH/ENOENT, named");
    return test_done();
}
