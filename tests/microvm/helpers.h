/*
 * Shared by the micro-VM tests (tests/microvm*.c): whether KVM is usable here,
 * bringing a VM up inside a TEST() point, and time helpers.
 *
 * A point that needs KVM skips with the reason when /dev/kvm refuses; once
 * it opens with the right API version, a failing kt_microvm_create is a
 * failure, never a skip, so a broken VM cannot pass as "no KVM here".
 */
#ifndef KT_TESTS_MICROVM_HELPERS_H
#define KT_TESTS_MICROVM_HELPERS_H

#include "harness/unit.h"

#include <ktstr/microvm.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

/* True when /dev/kvm opens and speaks API 12; otherwise marks the current
 * point skipped with the reason. */
static inline bool kvm_usable_or_skip(void)
{
    int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    int ver;

    if (fd < 0) {
        test_skip("/dev/kvm: %s", strerror(errno));
        return false;
    }
    ver = ioctl(fd, KVM_GET_API_VERSION, 0);
    close(fd);
    if (ver != KVM_API_VERSION) {
        test_skip("/dev/kvm: API version %d, need %d", ver, KVM_API_VERSION);
        return false;
    }
    return true;
}

/* Creates and starts a VM; NULL after a skip (no KVM) or a failed check. */
static inline kt_microvm *vm_up(const kt_microvm_config *cfg)
{
    kt_err err = { 0 };
    kt_microvm *vm;
    int rc;

    if (!kvm_usable_or_skip())
        return NULL;
    vm = kt_microvm_create(cfg, &err);
    if (!check(vm != NULL)) {
        test_msg("kt_microvm_create: %s", err.msg);
        return NULL;
    }
    rc = kt_microvm_start(vm, &err);
    if (!check_int(rc, ==, 0)) {
        test_msg("kt_microvm_start: %s", err.msg);
        kt_microvm_destroy(vm);
        return NULL;
    }
    return vm;
}

static inline double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline void sleep_ms(unsigned ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

#endif
