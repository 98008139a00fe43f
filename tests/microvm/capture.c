/*
 * The micro-VM seen through the capture library, as a scenario sees a
 * QEMU guest: its vCPU threads found by name (discover.h), their CPU time
 * from kept-open schedstat fds (schedstat.h), and their KVM statistics
 * from the stats fds kt_microvm opened (kvmstats.h, on duplicates).
 */
#include "microvm/helpers.h"

#include <ktstr/discover.h>
#include <ktstr/kvmstats.h>
#include <ktstr/schedstat.h>
#include <ktstr/microvm.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

static void t_discovered_as_qemu(void)
{
    kt_microvm_config c = { .nr_vcpus = 3, .prog = KT_MICROVM_PROG_HALT };
    kt_vcpu_thread found[8];
    kt_err err = { 0 };
    kt_microvm *vm = vm_up(&c);
    int n;

    if (!vm)
        return;
    n = kt_discover_vcpus(getpid(), found, 8, &err);
    if (!check_int(n, ==, 3))
        test_msg("kt_discover_vcpus: %s", err.msg);
    for (int i = 0; i < n && i < 3; i++) {
        check_int(found[i].index, ==, i);
        check_int(found[i].tid, ==, kt_microvm_vcpu_tid(vm, i));
        check_int(found[i].flavour, ==, KT_VMM_QEMU_KVM);
    }
    kt_microvm_destroy(vm);
    n = kt_discover_vcpus(getpid(), found, 8, &err);
    check_int(n, ==, 0);
}

/* What capture would keep open for one vCPU. */
typedef struct probe {
    kt_schedstat ss;
    kt_kvmstats ks;
    int halt_exits, halt_wait_ns;
    kt_schedstat_sample s0, s1;
    uint64_t he0, he1, hw0, hw1;
} probe;

static bool probe_open(probe *p, kt_microvm *vm)
{
    kt_err err = { 0 };
    int fd = fcntl(kt_microvm_vcpu_stats_fd(vm, 0), F_DUPFD_CLOEXEC, 0);

    if (!check(kt_schedstat_open(&p->ss, 0, kt_microvm_vcpu_tid(vm, 0), &err) == 0)) {
        test_msg("%s", err.msg);
        return false;
    }
    if (!check(fd >= 0) || !check(kt_kvmstats_open(&p->ks, fd, &err) == 0)) {
        test_msg("%s", err.msg);
        kt_schedstat_close(&p->ss);
        return false;
    }
    p->halt_exits = kt_kvmstats_find(&p->ks, "halt_exits");
    p->halt_wait_ns = kt_kvmstats_find(&p->ks, "halt_wait_ns");
    check(p->halt_exits >= 0);
    check(p->halt_wait_ns >= 0);
    return true;
}

static void probe_read(probe *p, kt_schedstat_sample *s, uint64_t *he,
                       uint64_t *hw)
{
    kt_err err = { 0 };

    if (!check(kt_schedstat_read(&p->ss, s, &err) == 0))
        test_msg("%s", err.msg);
    if (!check(kt_kvmstats_read(&p->ks, &err) == 0))
        test_msg("%s", err.msg);
    *he = kt_kvmstats_value(&p->ks, p->halt_exits);
    *hw = kt_kvmstats_value(&p->ks, p->halt_wait_ns);
}

static void probe_close(probe *p)
{
    kt_schedstat_close(&p->ss);
    kt_kvmstats_close(&p->ks);
}

/* A spinning and a halted VM side by side, sampled the way a scenario
 * would: the spinner is busy and never halts, the halter is idle and
 * its halt_wait_ns grows. */
static void t_spin_and_halt_captured(void)
{
    kt_microvm_config cs = { .nr_vcpus = 1, .prog = KT_MICROVM_PROG_SPIN };
    kt_microvm_config ch = { .nr_vcpus = 1, .prog = KT_MICROVM_PROG_HALT,
                             .halt_wake_ms = 50 };
    kt_microvm *spin = vm_up(&cs), *halt = spin ? vm_up(&ch) : NULL;
    probe ps, ph;
    double t0, wall, spin_share, spin_queued, halt_share;

    if (!spin || !halt)
        goto out;
    if (!probe_open(&ps, spin))
        goto out;
    if (!probe_open(&ph, halt)) {
        probe_close(&ps);
        goto out;
    }
    t0 = now_s();
    probe_read(&ps, &ps.s0, &ps.he0, &ps.hw0);
    probe_read(&ph, &ph.s0, &ph.he0, &ph.hw0);
    sleep_ms(600);
    probe_read(&ps, &ps.s1, &ps.he1, &ps.hw1);
    probe_read(&ph, &ph.s1, &ph.he1, &ph.hw1);
    wall = now_s() - t0;
    spin_share = (double)(ps.s1.run_ns - ps.s0.run_ns) / 1e9 / wall;
    spin_queued = (double)(ps.s1.delay_ns - ps.s0.delay_ns) / 1e9 / wall;
    halt_share = (double)(ph.s1.run_ns - ph.s0.run_ns) / 1e9 / wall;
    test_msg("spin share %.3f, queued %.3f, halt_exits +%llu; halt share %.3f, halt_exits "
             "+%llu, halt_wait +%.3f s over %.3f s", spin_share, spin_queued,
             (unsigned long long)(ps.he1 - ps.he0), halt_share,
             (unsigned long long)(ph.he1 - ph.he0),
             (double)(ph.hw1 - ph.hw0) / 1e9, wall);
    /* As in tests/microvm/microvm.c: runnable nearly all the time whatever the load,
     * and a share of 0.3 unless queued for over half the window. */
    check_dbl(spin_share + spin_queued, >=, 0.8);
    if (spin_queued <= 0.5)
        check_dbl(spin_share, >=, 0.3);
    check_uint(ps.he1 - ps.he0, <=, 2);
    check_dbl(halt_share, <=, 0.1);
    check_uint(ph.hw1, >, ph.hw0);
    check_uint(ph.he1 - ph.he0, >=, 3);
    probe_close(&ps);
    probe_close(&ph);
out:
    kt_microvm_destroy(spin);
    kt_microvm_destroy(halt);
}

int main(void)
{
    TEST(t_discovered_as_qemu(), "vCPU discovery finds the VM's threads as QEMU's");
    TEST(t_spin_and_halt_captured(), "capture sees a busy spinner and an idle halter");
    return test_done();
}
