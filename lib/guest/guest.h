/*
 * lib/guest/guest.h - VM mode's private interfaces.
 *
 *   mounts.c    the guest's PID 1: file systems and power-off
 *   topology.c  kt_topology (public)
 *   qemu.c      QEMU's argv and the accelerator
 *   vcpus.c     kt_vcpus (public): the host's view of the vCPU threads
 *   spawn.c     starting QEMU
 *   console.c   reading the guest's console log
 */
#ifndef KTSTR_LIB_GUEST_GUEST_H
#define KTSTR_LIB_GUEST_GUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "ktstr/error.h"
#include "ktstr/vcpus.h"

/* Mounts proc, sys, devtmpfs, tmpfs on /tmp and /run, and where the kernel
 * has them cgroup2, debugfs and tracefs; -1 naming the mount that failed. */
int kt__guest_mount_all(kt_err *err);

/* Syncs and powers the guest off; never returns. */
void kt__guest_power_off(void) __attribute__((noreturn));

/* ---- spawn.c, console.c ------------------------------------------------ */

struct kt__qemu_argv;
/* Starts QEMU (argv from kt__qemu_argv_build) with wire_fd inherited, its
 * stdout and stderr to log_fd and stdin from /dev/null; it gets SIGKILL
 * when the calling process dies. The pid, or -1 naming why exec failed. */
pid_t kt__qemu_spawn(const struct kt__qemu_argv *a, int wire_fd, int log_fd, kt_err *err);

/* True when the console text shows a kernel panic, oops or BUG. */
bool kt__console_panicked(const char *text);

/* The start of the line `before` lines ahead of the first panic, oops or
 * BUG line, or NULL when there is none. */
const char *kt__console_fatal(const char *text, unsigned before);

/* The first `want` non-empty lines of text, as kt__console_tail. */
size_t kt__console_head(const char *text, size_t want, const char **starts, size_t *lens);

/* The last `want` non-empty lines of text, oldest first, as pointers into
 * it and lengths (without line ends); returns how many. */
size_t kt__console_tail(const char *text, size_t want, const char **starts,
                        size_t *lens);

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
