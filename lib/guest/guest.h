/*
 * lib/guest/guest.h - VM mode's private interfaces.
 *
 *   mounts.c    the guest's PID 1: file systems and power-off
 *   topology.c  kt_topology (public)
 *   qemu.c      QEMU's argv and the accelerator
 *   vcpus.c     kt_vcpus (public): the host's view of the vCPU threads
 */
#ifndef KTSTR_LIB_GUEST_GUEST_H
#define KTSTR_LIB_GUEST_GUEST_H

#include <stdbool.h>

#include "ktstr/error.h"
#include "ktstr/vcpus.h"

/* Mounts proc, sys, devtmpfs, tmpfs on /tmp and /run, and where the kernel
 * has them cgroup2, debugfs and tracefs; -1 naming the mount that failed. */
int kt__guest_mount_all(kt_err *err);

/* Syncs and powers the guest off; never returns. */
void kt__guest_power_off(void) __attribute__((noreturn));

/* ---- vcpus.c: the host's view (kt_vcpus is public, read-only) -------- */

/* An empty view for a guest under accel ("kvm" or "tcg", a static string). */
kt_vcpus *kt__vcpus_new(const char *accel);
/* Finds QEMU's vCPU threads and starts the monitor on them at 100 Hz, for
 * at most body_max_s (schedstat and the software perf group; the hardware
 * group where it opens). */
int kt__vcpus_start(kt_vcpus *vc, int qemu_pid, unsigned body_max_s, kt_err *err);
/* Stops the monitor at the body's end; body_s is its wall time. */
void kt__vcpus_stop(kt_vcpus *vc, double body_s);
void kt__vcpus_free(kt_vcpus *vc);

#endif
