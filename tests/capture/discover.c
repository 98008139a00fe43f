/* vCPU discovery: the name table, stat parsing with hostile comms (fixture
 * files), and a live process whose threads are named like QEMU's vCPUs. */
#include "harness/unit.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ktstr/discover.h"

static ssize_t fixture(const char *name, char *buf, size_t cap)
{
    char path[256];
    ssize_t n;
    int fd;

    snprintf(path, sizeof(path), "tests/fixtures/%s", name);
    fd = open(path, O_RDONLY);
    if (!check(fd >= 0))
        return -1;
    n = read(fd, buf, cap - 1);
    close(fd);
    if (!check(n > 0 && (size_t)n < cap - 1))
        return -1;
    buf[n] = '\0';
    return n;
}

static void t_comm_table(void)
{
    static const struct {
        const char *comm;
        int match, index;
        kt_vmm_flavour flavour;
    } cases[] = {
        { "CPU 0/KVM", 1, 0, KT_VMM_QEMU_KVM },
        { "CPU 13/KVM", 1, 13, KT_VMM_QEMU_KVM },
        { "CPU 2/TCG", 1, 2, KT_VMM_QEMU_TCG },
        { "fc_vcpu 3", 1, 3, KT_VMM_FIRECRACKER },
        { "vcpu7", 1, 7, KT_VMM_CLOUD_HYPERVISOR },
        { "CPU 1/KVMx", 0, 0, 0 },
        { "CPU /KVM", 0, 0, 0 },
        { "CPU 1/kvm", 0, 0, 0 },
        { "vcpu", 0, 0, 0 },
        { "vcpu 1", 0, 0, 0 },
        { "fc_vcpu", 0, 0, 0 },
        { "qemu-system-x86", 0, 0, 0 },
        { "ktw0", 0, 0, 0 },
        { "", 0, 0, 0 },
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int index = -1;
        kt_vmm_flavour fl = KT_VMM_QEMU_KVM;
        int m = kt_vcpu_comm_match(cases[i].comm, &index, &fl);

        if (!check_int(m, ==, cases[i].match))
            test_msg("comm \"%s\"", cases[i].comm);
        if (m && cases[i].match) {
            check_int(index, ==, cases[i].index);
            check_int(fl, ==, cases[i].flavour);
        }
    }
    check_str(kt_vmm_flavour_name(KT_VMM_FIRECRACKER), "firecracker");
}

static void t_comm_fixture(void)
{
    char buf[64];
    ssize_t n = fixture("comm_qemu.txt", buf, sizeof(buf));
    int index;
    kt_vmm_flavour fl;

    if (n < 0)
        return;
    buf[strcspn(buf, "\n")] = '\0';
    check_int(kt_vcpu_comm_match(buf, &index, &fl), ==, 1);
    check_int(index, ==, 0);
}

static void t_stat_parse(void)
{
    char buf[1024];
    kt_proc_stat st;
    kt_err err = { 0 };
    ssize_t n = fixture("stat_paren.txt", buf, sizeof(buf));

    if (n < 0)
        return;
    /* comm "a) b (c) S" holds ") " and "(": it ends at the LAST ')' */
    check_int(kt_proc_stat_parse(buf, (size_t)n, &st, &err), ==, 0);
    check_int(st.pid, ==, 4242);
    check_str(st.comm, "a) b (c) S");
    check_int(st.state, ==, 'S');
    check_uint(st.utime_ticks, ==, 150);
    check_uint(st.stime_ticks, ==, 30);
    check_int(st.num_threads, ==, 3);
    check_int(st.processor, ==, 1);

    n = fixture("stat_vcpu.txt", buf, sizeof(buf));
    if (n < 0)
        return;
    check_int(kt_proc_stat_parse(buf, (size_t)n, &st, &err), ==, 0);
    check_str(st.comm, "CPU 1/KVM");
    check_int(st.state, ==, 'R');

    check_int(kt_proc_stat_parse("12 (x R 1 2", 11, &st, &err), ==, -1);
    check_contains(err.msg, "no \"(comm)\"");
    check_int(kt_proc_stat_parse("12 (x) R 1 2 3\n", 15, &st, &err), ==, -1);
    check_contains(err.msg, "field 7 missing");
    check_int(kt_proc_stat_parse("12 (x)", 6, &st, &err), ==, -1);
    check_contains(err.msg, "no state");
}

static void t_stat_live(void)
{
    char path[64], buf[1024];
    kt_proc_stat st;
    kt_err err = { 0 };
    ssize_t n;
    int fd;

    check_int(pthread_setname_np(pthread_self(), "a) b (c"), ==, 0);
    snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)syscall(SYS_gettid));
    fd = open(path, O_RDONLY);
    if (!check(fd >= 0))
        return;
    n = read(fd, buf, sizeof(buf));
    close(fd);
    check_int(kt_proc_stat_parse(buf, (size_t)n, &st, &err), ==, 0);
    check_str(st.comm, "a) b (c");
    check_int(st.state, ==, 'R');
    check_int(st.pid, ==, (int)syscall(SYS_gettid));
    pthread_setname_np(pthread_self(), "capture_discove");
}

typedef struct named {
    const char *name;
    pthread_mutex_t *lock;  /* held by main until the threads may leave */
} named;

static void *named_thread(void *arg)
{
    named *n = arg;

    pthread_setname_np(pthread_self(), n->name);
    pthread_mutex_lock(n->lock);
    pthread_mutex_unlock(n->lock);
    return NULL;
}

static void t_live(void)
{
    static const char *names[] = { "CPU 1/KVM", "io-worker", "CPU 0/KVM", "CPU 1/KVMx",
                                   "vcpu", "ktw0" };
    enum { N = sizeof(names) / sizeof(names[0]) };
    pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    pthread_t th[N];
    named args[N];
    kt_vcpu_thread v[8];
    kt_err err = { 0 };
    int n = -1, tries;
    int rc;

    pthread_mutex_lock(&lock);
    for (int i = 0; i < N; i++) {
        args[i] = (named){ names[i], &lock };
        rc = pthread_create(&th[i], NULL, named_thread, &args[i]);
        check_int(rc, ==, 0);
    }
    /* the threads name themselves: wait until both vCPUs show up */
    for (tries = 0; tries < 500; tries++) {
        n = kt_discover_vcpus(getpid(), v, 8, &err);
        if (n >= 2)
            break;
        usleep(2000);
    }
    usleep(10000);
    n = kt_discover_vcpus(getpid(), v, 8, &err);
    if (n < 0)
        test_msg("%s", err.msg);
    if (check_int(n, ==, 2)) {
        check_int(v[0].index, ==, 0);
        check_str(v[0].comm, "CPU 0/KVM");
        check_int(v[1].index, ==, 1);
        check_str(v[1].comm, "CPU 1/KVM");
        check_int(v[0].flavour, ==, KT_VMM_QEMU_KVM);
        check(v[0].tid != v[1].tid && v[0].tid != getpid());
    }
    /* cap smaller than the count: the count, cap entries stored */
    check_int(kt_discover_vcpus(getpid(), v, 1, &err), ==, 2);
    check_int(v[0].index, ==, 0);
    /* a second "CPU 0/KVM" makes the index ambiguous: an error, not a guess */
    pthread_setname_np(th[1], "CPU 0/KVM");
    check_int(kt_discover_vcpus(getpid(), v, 8, &err), ==, -1);
    check_contains(err.msg, "both claim vCPU 0");
    pthread_mutex_unlock(&lock);
    for (int i = 0; i < N; i++)
        pthread_join(th[i], NULL);
    check_int(kt_discover_vcpus(getpid(), v, 8, &err), ==, 0);
}

static void t_no_such_pid(void)
{
    kt_vcpu_thread v[2];
    kt_err err = { 0 };

    check_int(kt_discover_vcpus(999999999, v, 2, &err), ==, -1);
    check_int(err.code, ==, ENOENT);
    check_contains(err.msg, "vCPU discovery (pid 999999999)");
}

int main(void)
{
    TEST(t_comm_table(), "vCPU name table: QEMU, Firecracker, cloud-hypervisor, near misses");
    TEST(t_comm_fixture(), "vCPU name from a comm fixture");
    TEST(t_stat_parse(), "stat parser: comm with spaces and parentheses ends at the last ')'");
    TEST(t_stat_live(), "stat parser on this thread renamed with parentheses");
    TEST(t_live(), "discovery finds exactly the threads named CPU n/KVM, by index");
    TEST(t_no_such_pid(), "discovery of a missing process says so");
    return test_done();
}
