/*
 * ktstr/microvm.h - a micro-VM: real vCPU threads with no guest kernel.
 *
 * kt_microvm runs N vCPUs under KVM, each on its own host thread named
 * like QEMU's ("CPU <n>/KVM"), each executing one tiny built-in real-mode
 * program (kt_microvm_prog). Not to be confused with a QEMU guest running
 * a kernel: this VMM has no kernel, no devices and no I/O. It gives the
 * capture library genuine vCPU threads to measure and lets a scenario
 * watch how the host scheduler treats vCPUs that spin, compute, halt or
 * alternate.
 *
 * Halting is done in the kernel (an in-kernel irqchip is created), so a
 * halted vCPU thread sleeps inside KVM_RUN: the host sees an idle thread
 * and the vCPU's halt_wait_ns statistic grows (KVM adds to it when a halt
 * ends). Where the kernel offers no irqchip (or no_irqchip is set), HLT
 * exits to userspace (KVM_EXIT_HLT) and the thread sleeps there, in
 * sigwaitinfo, instead: idle all the same, but halt_wait_ns stays 0.
 *
 * Host-side kicks: each vCPU thread keeps the kick signal (see
 * kt_microvm_kick_signal) blocked except inside KVM_RUN, so a kick takes
 * it out of the guest without being delivered. Kicks come from
 * kt_microvm_stop and from a per-vCPU POSIX timer that paces the halt and
 * duty programs.
 *
 *   kt_microvm_config cfg = { .nr_vcpus = 2, .prog = KT_MICROVM_PROG_SPIN };
 *   kt_err err;
 *   kt_microvm *vm = kt_microvm_create(&cfg, &err);
 *   if (!vm) skip(err.msg);
 *   kt_microvm_start(vm, &err);  ...  kt_microvm_destroy(vm);
 */
#ifndef KTSTR_MICROVM_H
#define KTSTR_MICROVM_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "ktstr/api.h"
#include "ktstr/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define KT_MICROVM_MAX_VCPUS 64

/* The programs a vCPU can run. Each counts its iterations in guest memory (see
 * kt_microvm_vcpu_progress); none of them exits to the host on its own. */
typedef enum kt_microvm_prog {
    KT_MICROVM_PROG_HALT,    /* HLT forever; one iteration per wake-up */
    KT_MICROVM_PROG_SPIN,    /* PAUSE loop; one iteration per PAUSE */
    KT_MICROVM_PROG_COMPUTE, /* multiply-add loop; one iteration per 256 of them */
    KT_MICROVM_PROG_DUTY,    /* COMPUTE for duty_run_us, HLT for duty_halt_us, ... */
    KT_MICROVM_NR_PROGS
} kt_microvm_prog;

typedef struct kt_microvm_config {
    int nr_vcpus;              /* 1 .. KT_MICROVM_MAX_VCPUS */
    kt_microvm_prog prog;      /* the same program on every vCPU */
    unsigned duty_run_us;      /* DUTY only: compute phase, > 0 */
    unsigned duty_halt_us;     /* DUTY only: halt phase, > 0 */
    unsigned halt_wake_ms;     /* HALT only: wake every this often; 0 = never */
    const char *kvm_path;      /* NULL = "/dev/kvm" */
    bool no_stats_fd;          /* act as a kernel without KVM_GET_STATS_FD */
    bool no_irqchip;           /* act as a KVM without an in-kernel irqchip */
} kt_microvm_config;

typedef struct kt_microvm kt_microvm;

/* Checks cfg, opens KVM and builds the VM with its vCPUs, guest memory and
 * each vCPU's stats fd; no thread runs yet. NULL with err filled when the
 * config is bad or KVM is missing or refuses (the reason is a skip reason). */
KT_API kt_microvm *kt_microvm_create(const kt_microvm_config *cfg, kt_err *err);

/* Starts one host thread per vCPU and returns once every one is named and
 * about to enter the guest. -1 with err on failure (threads already started
 * are stopped again). A VM starts at most once. */
KT_API int kt_microvm_start(kt_microvm *vm, kt_err *err);

/* Kicks every vCPU out of the guest and joins its thread. Safe to call
 * twice, before start and after a failed start. */
KT_API void kt_microvm_stop(kt_microvm *vm);

/* Stops the VM if it runs, closes every fd and frees it. NULL is a no-op. */
KT_API void kt_microvm_destroy(kt_microvm *vm);

/* Number of vCPUs of vm. */
KT_API int kt_microvm_nr_vcpus(const kt_microvm *vm);

/* Host thread id of vCPU i; -1 before start, after its thread ended, or
 * for a bad index. */
KT_API pid_t kt_microvm_vcpu_tid(const kt_microvm *vm, int i);

/* KVM fd of vCPU i (owned by vm); -1 for a bad index. */
KT_API int kt_microvm_vcpu_fd(const kt_microvm *vm, int i);

/* KVM binary stats fd of vCPU i (owned by vm, opened before the vCPU first
 * ran); -1 when unavailable (see kt_microvm_vcpu_stats_error) or a bad
 * index. */
KT_API int kt_microvm_vcpu_stats_fd(const kt_microvm *vm, int i);

/* Why vCPU i has no stats fd; NULL when it has one or for a bad index. */
KT_API const kt_err *kt_microvm_vcpu_stats_error(const kt_microvm *vm, int i);

/* Iterations the guest on vCPU i has reported so far (a counter in guest
 * memory, read without stopping the vCPU); 0 for a bad index. */
KT_API uint64_t kt_microvm_vcpu_progress(const kt_microvm *vm, int i);

/* Reads the KVM statistic called name (e.g. "exits", "halt_exits",
 * "halt_wait_ns") of vCPU i into *value: the first element for a
 * histogram. Parses the stats file on each call (ktstr/kvmstats.h does the
 * work): meant for occasional reads, not sampling loops. -1 with err when
 * there is no stats fd or no such statistic. Note that KVM adds to
 * halt_wait_ns when a halt ends, so a vCPU halted since its last wake-up
 * shows none of its current halt. */
KT_API int kt_microvm_vcpu_stat(const kt_microvm *vm, int i, const char *name,
                                uint64_t *value, kt_err *err);

/* The run loop's error for vCPU i (an unexpected guest exit or a failing
 * ioctl, after which that vCPU's thread ended); NULL when there was none. */
KT_API const kt_err *kt_microvm_vcpu_error(const kt_microvm *vm, int i);

/* The signal kt_microvm uses to kick vCPU threads (a real-time signal).
 * The first kt_microvm_create installs an empty handler for it unless the
 * process already has one; a process must not ignore or use it itself. */
KT_API int kt_microvm_kick_signal(void);

/* The name of a program ("halt", "spin", "compute", "duty"), or
 * "unknown". */
KT_API const char *kt_microvm_prog_name(kt_microvm_prog prog);

#ifdef __cplusplus
}
#endif
#endif
