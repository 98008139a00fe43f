/*
 * lib/guest/qemu.h - QEMU's command line for a guest, and the accelerator.
 *
 * The guest's ttyS0 is its console (to a log file); ttyS1 carries the
 * runner's wire protocol both ways, over a connected socket we hand QEMU.
 * QEMU 7.2 has no clusters: an LLC is a socket. vCPU threads are named
 * "CPU <n>/TCG" or "CPU <n>/KVM" (debug-threads=on) for discovery.
 */
#ifndef KTSTR_LIB_GUEST_QEMU_H
#define KTSTR_LIB_GUEST_QEMU_H

#include "ktstr/error.h"
#include "ktstr/topology.h"

/* What a test guest's kernel need not do at boot (README: VM mode, the
 * boot, has what each saved under TCG): load the distribution's
 * certificates and start what no scenario uses (FUSE, the CMOS clock,
 * NVMe, IPv6, EFI's MOK variables); watch the TSC against a slower
 * clocksource; start LSMs and audit. Words for the kernel command line. */
#define KT__QEMU_LEAN_CMDLINE \
    "initcall_blacklist=load_system_certificate_list,fuse_init,cmos_init,nvme_core_init," \
    "inet6_init,efi_mokvar_sysfs_init tsc=reliable no_timer_check lsm=capability audit=0"

#define KT__QEMU_MAX_ARGS 64
#define KT__QEMU_ARG_BYTES 8192

typedef struct kt__qemu_cfg {
    const char *qemu;          /* the program */
    const char *kernel;        /* bzImage */
    const char *initrd;        /* newc cpio */
    const char *accel;         /* "kvm" or "tcg" */
    const char *append;        /* the kernel command line */
    const char *console_path;  /* ttyS0 goes here */
    int wire_fd;               /* ttyS1: a connected stream socket QEMU inherits */
    const char *name;          /* -name, for ps */
    const char *bios;          /* NULL: QEMU's default firmware */
    kt_topology topo;          /* resolved and checked */
} kt__qemu_cfg;

typedef struct kt__qemu_argv {
    char *argv[KT__QEMU_MAX_ARGS + 1];   /* NULL-terminated */
    int argc;
    char bytes[KT__QEMU_ARG_BYTES];
    size_t used;
} kt__qemu_argv;

/* Fills a with QEMU's argv for c; -1 with err when it does not fit. */
int kt__qemu_argv_build(const kt__qemu_cfg *c, kt__qemu_argv *a, kt_err *err);

/* The accelerator to use: want ("kvm", "tcg" or NULL/"" for the default:
 * kvm where /dev/kvm opens and the CPU has vmx or svm, else tcg). Writes
 * why the default fell back to tcg into why (may be NULL; "" when it did
 * not). Returns "kvm" or "tcg", or NULL with err when want is neither. */
const char *kt__qemu_accel(const char *want, char *why, size_t n, kt_err *err);

#endif
