/*
 * kt_microvm_vcpu_stat: one named value from a vCPU's KVM binary stats,
 * through the capture library's parser (ktstr/kvmstats.h) on a duplicate
 * of the vCPU's stats fd, so the VM keeps its own fd. Parses the
 * descriptors on every call: for tests and occasional looks; a sampler
 * keeps a kt_kvmstats open and reads one data block per tick instead.
 */
#include "microvm/microvm_int.h"

#include "ktstr/kvmstats.h"

#include <errno.h>
#include <fcntl.h>

int kt_microvm_vcpu_stat(const kt_microvm *vm, int i, const char *name,
                         uint64_t *value, kt_err *err)
{
    kt_kvmstats ks;
    int fd, idx;

    if (!vm || i < 0 || i >= vm->nr_vcpus)
        return kt_err_set(err, EINVAL, "kt_microvm_vcpu_stat: no vCPU %d", i);
    if (!name || !value)
        return kt_err_set(err, EINVAL, "kt_microvm_vcpu_stat: no name or value");
    if (vm->vcpu[i].stats_fd < 0)
        return kt_err_set(err, vm->vcpu[i].stats_err.code, "%s",
                          vm->vcpu[i].stats_err.msg);
    fd = fcntl(vm->vcpu[i].stats_fd, F_DUPFD_CLOEXEC, 0);
    if (fd < 0)
        return kt_err_sys(err, errno, "kvm stats (vCPU %d): dup of the stats fd",
                          i);
    if (kt_kvmstats_open(&ks, fd, err) < 0) /* closes fd on failure */
        return -1;
    idx = kt_kvmstats_find(&ks, name);
    if (idx >= 0)
        *value = kt_kvmstats_value(&ks, idx);
    else
        kt_err_set(err, ENOENT, "kvm stats (vCPU %d): no statistic named \"%s\"",
                   i, name);
    kt_kvmstats_close(&ks);
    return idx >= 0 ? 0 : -1;
}
