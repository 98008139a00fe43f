/*
 * ktstr/vm.h - a micro-VM: real vCPU threads with no guest kernel.
 *
 * kt_vm runs N vCPUs under KVM, each on its own host thread named like
 * QEMU's ("CPU <n>/KVM"), each executing one tiny built-in real-mode guest
 * program. It gives the capture library genuine vCPU threads to measure
 * and lets a scenario watch how the host scheduler treats vCPUs that spin,
 * compute, halt or alternate.
 *
 * Halting is done in the kernel (an in-kernel irqchip is created), so a
 * halted vCPU thread sleeps inside KVM_RUN: the host sees an idle thread
 * and the vCPU's halt_wait_ns statistic grows (KVM adds to it when a halt
 * ends). Where the kernel offers no irqchip (or no_irqchip is set), HLT
 * exits to userspace (KVM_EXIT_HLT) and the thread sleeps there, in
 * sigwaitinfo, instead: idle all the same, but halt_wait_ns stays 0.
 *
 * Host-side kicks: each vCPU thread keeps the kick signal (see
 * kt_vm_kick_signal) blocked except inside KVM_RUN, so a kick takes it out
 * of the guest without being delivered. Kicks come from kt_vm_stop and
 * from a per-vCPU POSIX timer that paces the halt and duty programs.
 *
 *   kt_vm_config cfg = { .nr_vcpus = 2, .prog = KT_GUEST_SPIN };
 *   kt_err err;
 *   kt_vm *vm = kt_vm_create(&cfg, &err);
 *   if (!vm) skip(err.msg);
 *   kt_vm_start(vm, &err);  ...  kt_vm_destroy(vm);
 */
#ifndef KTSTR_VM_H
#define KTSTR_VM_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define KT_VM_MAX_VCPUS 64

/* The guest programs. Each counts its iterations in guest memory (see
 * kt_vm_vcpu_progress); none of them exits to the host on its own. */
typedef enum kt_guest_prog {
    KT_GUEST_HALT,    /* HLT forever; one iteration per wake-up */
    KT_GUEST_SPIN,    /* PAUSE loop; one iteration per PAUSE */
    KT_GUEST_COMPUTE, /* multiply-add loop; one iteration per 256 of them */
    KT_GUEST_DUTY,    /* COMPUTE for duty_run_us, HLT for duty_halt_us, ... */
    KT_GUEST_NR_PROGS
} kt_guest_prog;

typedef struct kt_vm_config {
    int nr_vcpus;              /* 1 .. KT_VM_MAX_VCPUS */
    kt_guest_prog prog;        /* the same program on every vCPU */
    unsigned duty_run_us;      /* DUTY only: compute phase, > 0 */
    unsigned duty_halt_us;     /* DUTY only: halt phase, > 0 */
    unsigned halt_wake_ms;     /* HALT only: wake every this often; 0 = never */
    const char *kvm_path;      /* NULL = "/dev/kvm" */
    bool no_stats_fd;          /* act as a kernel without KVM_GET_STATS_FD */
    bool no_irqchip;           /* act as a KVM without an in-kernel irqchip */
} kt_vm_config;

typedef struct kt_vm kt_vm;

/* Checks cfg, opens KVM and builds the VM with its vCPUs, guest memory and
 * each vCPU's stats fd; no thread runs yet. NULL with err filled when the
 * config is bad or KVM is missing or refuses (the reason is a skip reason). */
kt_vm *kt_vm_create(const kt_vm_config *cfg, kt_err *err);

/* Starts one host thread per vCPU and returns once every one is named and
 * about to enter the guest. -1 with err on failure (threads already started
 * are stopped again). A VM starts at most once. */
int kt_vm_start(kt_vm *vm, kt_err *err);

/* Kicks every vCPU out of the guest and joins its thread. Safe to call
 * twice, before start and after a failed start. */
void kt_vm_stop(kt_vm *vm);

/* Stops the VM if it runs, closes every fd and frees it. NULL is a no-op. */
void kt_vm_destroy(kt_vm *vm);

/* Number of vCPUs of vm. */
int kt_vm_nr_vcpus(const kt_vm *vm);

/* Host thread id of vCPU i; -1 before start, after its thread ended, or
 * for a bad index. */
pid_t kt_vm_vcpu_tid(const kt_vm *vm, int i);

/* KVM fd of vCPU i (owned by vm); -1 for a bad index. */
int kt_vm_vcpu_fd(const kt_vm *vm, int i);

/* KVM binary stats fd of vCPU i (owned by vm, opened before the vCPU first
 * ran); -1 when unavailable (see kt_vm_vcpu_stats_error) or a bad index. */
int kt_vm_vcpu_stats_fd(const kt_vm *vm, int i);

/* Why vCPU i has no stats fd; NULL when it has one or for a bad index. */
const kt_err *kt_vm_vcpu_stats_error(const kt_vm *vm, int i);

/* Iterations the guest on vCPU i has reported so far (a counter in guest
 * memory, read without stopping the vCPU); 0 for a bad index. */
uint64_t kt_vm_vcpu_progress(const kt_vm *vm, int i);

/* Reads the KVM statistic called name (e.g. "exits", "halt_exits",
 * "halt_wait_ns") of vCPU i into *value: the first element for a
 * histogram. Parses the stats file on each call (ktstr/kvmstats.h does the
 * work): meant for occasional reads, not sampling loops. -1 with err when
 * there is no stats fd or no such statistic. Note that KVM adds to
 * halt_wait_ns when a halt ends, so a vCPU halted since its last wake-up
 * shows none of its current halt. */
int kt_vm_vcpu_stat(const kt_vm *vm, int i, const char *name,
                    uint64_t *value, kt_err *err);

/* The run loop's error for vCPU i (an unexpected guest exit or a failing
 * ioctl, after which that vCPU's thread ended); NULL when there was none. */
const kt_err *kt_vm_vcpu_error(const kt_vm *vm, int i);

/* The signal kt_vm uses to kick vCPU threads (a real-time signal). The
 * first kt_vm_create installs an empty handler for it unless the process
 * already has one; a process must not ignore or use it for itself. */
int kt_vm_kick_signal(void);

/* The name of a guest program ("halt", "spin", "compute", "duty"), or
 * "unknown". */
const char *kt_guest_prog_name(kt_guest_prog prog);

#ifdef __cplusplus
}
#endif
#endif
