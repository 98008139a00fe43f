/*
 * Private to lib/microvm: the VM and vCPU structures shared by microvm.c
 * (the VM, its memory and fds), vcpu.c (the kick signal, threads and run
 * loop), programs.c (the code the vCPUs run) and stats.c (the stats fd
 * reader). Calls go one way: microvm.c -> vcpu.c, programs.c.
 *
 * Guest physical memory (one 64 KiB slot at 0, real mode):
 *   0x1000  the program's code, shared by every vCPU (CS = 0, IP = 0x1000)
 *   0x2000  vCPU i's data block at 0x2000 + 64 * i, reached through DS, so
 *           one code image serves all vCPUs and no two share a cache line:
 *             +0 u32 progress low, +4 u32 progress high (add/adc pair)
 *             +8 u8  halt request (DUTY: nonzero = HLT at the next check)
 */
#ifndef KTSTR_MICROVM_INT_H
#define KTSTR_MICROVM_INT_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "ktstr/microvm.h"

#define VM_MEM_SIZE     0x10000u
#define VM_CODE_GPA     0x1000u
#define VM_DATA_GPA     0x2000u
#define VM_DATA_STRIDE  64u
#define VM_DATA_LO      0u
#define VM_DATA_HI      4u
#define VM_DATA_HALTREQ 8u

typedef struct kt__microvm_image {
    const uint8_t *code;
    size_t len;
} kt__microvm_image;

struct kt__microvm_vcpu {
    struct kt_microvm *vm;
    int index;
    int fd;                    /* KVM vCPU fd */
    int stats_fd;              /* -1 when unavailable */
    kt_err stats_err;          /* why stats_fd is -1 */
    struct kvm_run *run;       /* mmap of fd, run_size bytes */
    volatile uint8_t *data;    /* this vCPU's data block in guest memory */
    pthread_t thread;
    bool thread_started;       /* pthread_create succeeded: join it */
    atomic_int tid;            /* -1 until the thread is ready, and again once it ends */
    atomic_bool stop;          /* set by kt_microvm_stop before the kick */
    atomic_bool failed;        /* the run loop recorded run_err */
    kt_err run_err;
};

struct kt_microvm {
    kt_microvm_config cfg;
    int kvm_fd, vm_fd;
    bool kernel_halt;          /* in-kernel irqchip: HLT sleeps in KVM_RUN */
    size_t run_size;
    uint8_t *mem;              /* guest memory, VM_MEM_SIZE bytes */
    bool started;
    /* start waits on this until every thread has reported in */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int nr_ready;
    int nr_vcpus;
    struct kt__microvm_vcpu vcpu[];
};

/* The code of a program (programs.c); NULL for an unknown one. */
const kt__microvm_image *kt__microvm_prog_image(kt_microvm_prog prog);

/* Installs an empty handler for the kick signal unless the process has
 * one (vcpu.c; see kt_microvm_kick_signal). 0, or -1 with err. */
int kt__microvm_install_kick(kt_err *err);

#endif
