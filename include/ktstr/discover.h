/*
 * ktstr/discover.h - find a VMM's vCPU threads and their indices.
 *
 * VMMs name their vCPU threads; a table maps each naming to a flavour:
 *   QEMU             "CPU <n>/KVM" (KVM) or "CPU <n>/TCG" (software)
 *   Firecracker      "fc_vcpu <n>"
 *   cloud-hypervisor "vcpu<n>"
 * Discovery reads /proc/<pid>/task/<tid>/comm for each thread, and its
 * stat to skip threads already dead (state Z or X).
 */
#ifndef KTSTR_DISCOVER_H
#define KTSTR_DISCOVER_H

#include <stddef.h>
#include <stdint.h>

#include "ktstr/api.h"
#include "ktstr/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum kt_vmm_flavour {
    KT_VMM_QEMU_KVM,
    KT_VMM_QEMU_TCG,
    KT_VMM_FIRECRACKER,
    KT_VMM_CLOUD_HYPERVISOR,
} kt_vmm_flavour;

typedef struct kt_vcpu_thread {
    int tid;
    int index;               /* the n in the thread's name */
    kt_vmm_flavour flavour;
    char comm[16];
} kt_vcpu_thread;

/* 1 when comm names a vCPU thread (index and flavour set), else 0. The
 * whole name must match: "CPU 1/KVMx" or "vcpu" alone are not vCPUs. */
KT_API int kt_vcpu_comm_match(const char *comm, int *index, kt_vmm_flavour *flavour);

/* "qemu-kvm", "qemu-tcg", "firecracker", "cloud-hypervisor". */
KT_API const char *kt_vmm_flavour_name(kt_vmm_flavour flavour);

/* The fields of /proc/<pid>/stat (or task/<tid>/stat) that capture uses. */
typedef struct kt_proc_stat {
    int pid;
    char comm[64];           /* may hold spaces and parentheses */
    char state;              /* R, S, D, Z, X, ... */
    uint64_t utime_ticks, stime_ticks;
    int num_threads;
    int processor;           /* CPU it last ran on */
} kt_proc_stat;

/* Parses stat text; the comm ends at the LAST ')' of the line, since a
 * comm may itself hold ") ". -1 with err when malformed. */
KT_API int kt_proc_stat_parse(const char *buf, size_t n, kt_proc_stat *out,
                              kt_err *err);

/* The CPU thread tid (of this process or another) last ran on: field 39
 * of /proc/<tid>/task/<tid>/stat, which the kernel updates as soon as it
 * moves the task, running or queued. -1 when the thread is gone or the
 * line does not parse. */
KT_API int kt_thread_last_cpu(int tid);

/* Lists pid's vCPU threads sorted by index into out[0..cap); returns how
 * many there are (may exceed cap: only cap are stored), or -1 with err
 * (no such process, or two threads claim the same index). */
KT_API int kt_discover_vcpus(int pid, kt_vcpu_thread *out, int cap, kt_err *err);

#ifdef __cplusplus
}
#endif
#endif
