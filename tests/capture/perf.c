/* perf groups: sample arithmetic, the group read parser on fixture buffers,
 * the software group on live threads and CPUs, and the error paths. */
#include "harness/unit.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "ktstr/perf.h"

static void t_ipc(void)
{
    kt_vcpu_perf_sample s = { .cycles = 0, .instructions = 5 };

    check_dbl(kt_ipc(&s), ==, 0.0);
    s.cycles = 2;
    s.instructions = 3;
    check_dbl(kt_ipc(&s), ==, 1.5);
}

static kt_ipc_band band(uint64_t cycles, uint64_t instructions)
{
    kt_vcpu_perf_sample s = { .cycles = cycles, .instructions = instructions };

    return kt_ipc_band_of(&s);
}

static void t_bands_at_edges(void)
{
    check_int(band(0, 0), ==, KT_IPC_UNKNOWN);
    check_int(band(KT_IPC_MIN_CYCLES - 1, 5000), ==, KT_IPC_UNKNOWN);
    check_int(band(1000, 0), ==, KT_IPC_HALTED);
    check_int(band(1000, 199), ==, KT_IPC_HALTED);
    check_int(band(1000, 200), ==, KT_IPC_SPINNING);   /* exactly 0.2 */
    check_int(band(1000, 500), ==, KT_IPC_SPINNING);
    check_int(band(1000, 799), ==, KT_IPC_SPINNING);
    check_int(band(1000, 800), ==, KT_IPC_PRODUCTIVE); /* exactly 0.8 */
    check_int(band(1000, 3000), ==, KT_IPC_PRODUCTIVE);
    check_str(kt_ipc_band_name(KT_IPC_SPINNING), "spinning");
    check_str(kt_ipc_band_name(KT_IPC_UNKNOWN), "unknown");
    check_str(kt_ipc_band_name((kt_ipc_band)42), "unknown");
}

static void t_scale(void)
{
    check_uint(kt_perf_scale(100, 200, 0), ==, 0);          /* never ran */
    check_uint(kt_perf_scale(100, 200, 200), ==, 100);
    check_uint(kt_perf_scale(100, 300, 100), ==, 300);
    check_uint(kt_perf_scale(10, 3, 4), ==, 7);             /* floor of 7.5 */
    /* value * enabled overflows 64 bits; the result does not */
    check_uint(kt_perf_scale(UINT64_MAX - 15, 1000000007, 1000000007), ==,
               UINT64_MAX - 15);
    check_uint(kt_perf_scale(UINT64_C(1) << 62, 4, 2), ==, UINT64_C(1) << 63);
    check_uint(kt_perf_scale(UINT64_C(3) << 61, 3000000000u, 1000000000u), ==,
               UINT64_MAX);                                 /* saturates */
}

/* A buffer in the kernel's PERF_FORMAT_GROUP|TOTAL_TIME_*|ID layout. */
static void t_parse_fixture(void)
{
    const uint64_t ids[4] = { 71, 72, 73, 74 };
    /* counters come back in an order other than ids[] */
    const uint64_t buf[] = { 4, 5000, 2500, 300, 73, 100, 71, 400, 74, 200, 72 };
    kt_perf_values v;
    kt_vcpu_perf_sample s;
    kt_err err = { 0 };

    check_int(kt_perf_group_parse(buf, sizeof(buf), ids, 4, &v, &err), ==, 0);
    check_int(v.nr, ==, 4);
    check_uint(v.v[0], ==, 100);
    check_uint(v.v[1], ==, 200);
    check_uint(v.v[2], ==, 300);
    check_uint(v.v[3], ==, 400);
    kt_perf_to_vcpu_sample(&v, &s);
    check_uint(s.cycles, ==, 100);
    check_uint(s.instructions, ==, 200);
    check_uint(s.cache_misses, ==, 300);
    check_uint(s.branch_misses, ==, 400);
    check_uint(s.time_enabled_ns, ==, 5000);
    check_uint(s.time_running_ns, ==, 2500);
    check_dbl(kt_ipc(&s), ==, 2.0);
    check_uint(kt_perf_scale(s.cycles, s.time_enabled_ns, s.time_running_ns), ==, 200);
}

static void t_parse_malformed(void)
{
    const uint64_t ids[3] = { 1, 2, 3 };
    const uint64_t good[] = { 3, 10, 10, 5, 1, 6, 2, 7, 3 };
    uint64_t bad[9];
    kt_perf_values v;
    kt_err err = { 0 };

    check_int(kt_perf_group_parse(good, sizeof(good), ids, 3, &v, &err), ==, 0);
    check_int(kt_perf_group_parse(good, sizeof(good) - 8, ids, 3, &v, &err), ==, -1);
    check_contains(err.msg, "bytes, expected 72");
    memcpy(bad, good, sizeof(bad));
    bad[0] = 4;
    check_int(kt_perf_group_parse(bad, sizeof(bad), ids, 3, &v, &err), ==, -1);
    check_contains(err.msg, "nr 4, expected 3");
    memcpy(bad, good, sizeof(bad));
    bad[6] = 99;
    check_int(kt_perf_group_parse(bad, sizeof(bad), ids, 3, &v, &err), ==, -1);
    check_contains(err.msg, "unknown event id 99");
    memcpy(bad, good, sizeof(bad));
    bad[6] = 1;
    check_int(kt_perf_group_parse(bad, sizeof(bad), ids, 3, &v, &err), ==, -1);
    check_contains(err.msg, "twice");
    check_int(kt_perf_group_parse(good, sizeof(good), ids, 0, &v, &err), ==, -1);
}

static void spin_ms(long ms)
{
    struct timespec a, b;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a);
    do
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b);
    while ((b.tv_sec - a.tv_sec) * 1000000000L + (b.tv_nsec - a.tv_nsec) < ms * 1000000L);
}

/* Here (no PMU) the open must fail with ENOENT and say so; with a PMU the
 * group must read back counts. */
static void t_hardware_group(void)
{
    kt_perf_group g;
    kt_perf_values v;
    kt_err err = { 0 };
    int tid = (int)syscall(SYS_gettid);

    if (kt_perf_group_open(&g, KT_PERF_HW, tid, -1, 0, &err) < 0) {
        check(err.code == ENOENT || err.code == ENODEV || err.code == EOPNOTSUPP);
        check_contains(err.msg, "perf hardware group (tid ");
        check_contains(err.msg, "perf_event_open(cycles)");
        if (err.code != EOPNOTSUPP)
            check_contains(err.msg, "no such counter");
        test_msg("hardware group: %s", err.msg);
        return;
    }
    spin_ms(20);
    check_int(kt_perf_group_read(&g, &v, &err), ==, 0);
    check_int(v.nr, ==, 4);
    check_uint(v.v[0], >, 0);
    check_uint(v.time_enabled_ns, >=, v.time_running_ns);
    kt_perf_group_close(&g);
}

static void t_software_group_thread(void)
{
    kt_perf_group g;
    kt_perf_values a, b;
    kt_err err = { 0 };
    int tid = (int)syscall(SYS_gettid);

    if (kt_perf_group_open(&g, KT_PERF_SW, tid, -1, 0, &err) < 0) {
        test_skip("%s", err.msg);
        return;
    }
    check_int(kt_perf_group_read(&g, &a, &err), ==, 0);
    spin_ms(30);
    usleep(2000);  /* at least one voluntary context switch */
    check_int(kt_perf_group_read(&g, &b, &err), ==, 0);
    check_int(b.nr, ==, 3);
    /* 30 ms of this thread's CPU clock; task-clock misses the moments
     * around the two reads */
    check_uint(b.v[0] - a.v[0], >=, 25000000);
    check_uint(b.v[1] - a.v[1], >=, 1);               /* context switches */
    check_uint(b.time_enabled_ns, >=, b.time_running_ns);
    check_uint(b.time_running_ns, >, a.time_running_ns);
    check_str(kt_perf_event_name(KT_PERF_SW, 2), "cpu-migrations");
    kt_perf_group_close(&g);
    kt_perf_group_close(&g);  /* closing twice is harmless */
}

static void t_software_group_cpu(void)
{
    kt_perf_group g;
    kt_perf_values a, b;
    kt_err err = { 0 };

    if (kt_perf_group_open(&g, KT_PERF_SW, -1, 0, 0, &err) < 0) {
        test_skip("%s", err.msg);
        return;
    }
    check_int(kt_perf_group_read(&g, &a, &err), ==, 0);
    usleep(20000);
    check_int(kt_perf_group_read(&g, &b, &err), ==, 0);
    /* a CPU-wide clock runs whatever runs there, idle included */
    check_uint(b.v[0] - a.v[0], >=, 10000000);
    check_uint(b.time_enabled_ns - a.time_enabled_ns, >=, 10000000);
    kt_perf_group_close(&g);
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

static void t_errors(void)
{
    kt_perf_group g;
    kt_err err = { 0 };
    pthread_t th;
    int tid = 0;
    int rc;

    check_int(kt_perf_group_open(&g, KT_PERF_SW, -1, -1, 0, &err), ==, -1);
    check_contains(err.msg, "not both or neither");
    check_int(kt_perf_group_open(&g, KT_PERF_SW, 5, 1, 0, &err), ==, -1);
    check_int(kt_perf_group_open(&g, (kt_perf_kind)9, 5, -1, 0, &err), ==, -1);
    check_contains(err.msg, "unknown kind");

    rc = pthread_create(&th, NULL, short_thread, &tid);
    check_int(rc, ==, 0);
    pthread_join(th, NULL);
    wait_reaped(tid);
    check_int(kt_perf_group_open(&g, KT_PERF_SW, tid, -1, 0, &err), ==, -1);
    check_int(err.code, ==, ESRCH);
    check_contains(err.msg, "thread gone");
    check_contains(err.msg, "perf software group (tid ");
}

int main(void)
{
    TEST(t_ipc(), "kt_ipc: instructions / cycles, 0 when no cycles");
    TEST(t_bands_at_edges(), "IPC bands at their exact edges");
    TEST(t_scale(), "multiplex scaling: exact, running == 0, overflow");
    TEST(t_parse_fixture(), "group read parser on a fixture buffer");
    TEST(t_parse_malformed(), "group read parser rejects malformed buffers");
    TEST(t_hardware_group(), "hardware group: counts, or ENOENT saying no such counter");
    TEST(t_software_group_thread(), "software group on a thread");
    TEST(t_software_group_cpu(), "software group on a CPU");
    TEST(t_errors(), "perf group errors: bad target, thread gone");
    return test_done();
}
