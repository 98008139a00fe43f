/*
 * kt_vm_vcpu_stat: one named value from a vCPU's KVM binary stats fd, by a
 * plain descriptor walk (header, descriptors, then the value's 8 bytes).
 * The capture library keeps descriptors and reads the whole data block in
 * one pread; this is for tests and occasional looks.
 */
#include "vm_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Reads exactly len bytes at off, or fails naming what it read. */
static int pread_all(int fd, void *buf, size_t len, off_t off, int vcpu,
                     const char *what, kt_err *err)
{
    ssize_t n = pread(fd, buf, len, off);

    if (n < 0)
        return kt_err_sys(err, errno, "kvm stats (vCPU %d): pread of %s",
                          vcpu, what);
    if ((size_t)n != len)
        return kt_err_set(err, EIO, "kvm stats (vCPU %d): short read of %s "
                          "(%zd of %zu bytes)", vcpu, what, n, len);
    return 0;
}

int kt_vm_vcpu_stat(const kt_vm *vm, int i, const char *name,
                    uint64_t *value, kt_err *err)
{
    struct kvm_stats_header h;
    size_t dsz;
    char *descs;
    int fd, rc = -1;

    if (!vm || i < 0 || i >= vm->nr_vcpus)
        return kt_err_set(err, EINVAL, "kt_vm_vcpu_stat: no vCPU %d", i);
    if (!name || !value)
        return kt_err_set(err, EINVAL, "kt_vm_vcpu_stat: no name or value");
    fd = vm->vcpu[i].stats_fd;
    if (fd < 0)
        return kt_err_set(err, vm->vcpu[i].stats_err.code, "%s",
                          vm->vcpu[i].stats_err.msg);
    if (pread_all(fd, &h, sizeof(h), 0, i, "the header", err) < 0)
        return -1;
    /* Bounds far above any kernel's, so a garbled header cannot make us
     * allocate gigabytes. */
    if (h.name_size == 0 || h.name_size > 4096 || h.num_desc > 65536)
        return kt_err_set(err, EINVAL, "kvm stats (vCPU %d): implausible "
                          "header (name_size %u, num_desc %u)", i, h.name_size,
                          h.num_desc);
    dsz = sizeof(struct kvm_stats_desc) + h.name_size;
    descs = malloc(dsz * h.num_desc + 1);
    if (!descs)
        return kt_err_sys(err, ENOMEM, "kvm stats (vCPU %d): descriptors", i);
    if (pread_all(fd, descs, dsz * h.num_desc, h.desc_offset, i,
                  "the descriptors", err) < 0)
        goto out;
    for (uint32_t k = 0; k < h.num_desc; k++) {
        const struct kvm_stats_desc *d = (const void *)(descs + k * dsz);
        if (strnlen(d->name, h.name_size) == h.name_size ||
            strcmp(d->name, name) != 0)
            continue;
        rc = pread_all(fd, value, sizeof(*value),
                       (off_t)h.data_offset + d->offset, i, name, err);
        goto out;
    }
    kt_err_set(err, ENOENT, "kvm stats (vCPU %d): no statistic named \"%s\"",
               i, name);
out:
    free(descs);
    return rc;
}
