/* The public clock and sleep (on lib/base/clock.h) and the workers'
 * futexes, pipes and naps. Futexes are the shared (not PRIVATE) kind
 * because process workers wait on the same words. */
#include "work/work_int.h"

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <poll.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

uint64_t kt_now_ns(void)
{
    return kt__mono_ns();
}

void kt_sleep_ms(unsigned ms)
{
    kt__sleep_ns((uint64_t)ms * 1000000u);
}

bool kt_interval_over(uint64_t since, uint64_t now, uint64_t end, uint64_t interval_ns)
{
    uint64_t took = now - since;

    return took >= interval_ns || (now >= end && took >= interval_ns / 2);
}

/* Returns on a wake, a changed word, a signal or the timeout: callers
 * loop on their condition, so every outcome is fine. */
void kt__futex_wait(_Atomic uint32_t *word, uint32_t val, int timeout_ms)
{
    struct timespec ts = { timeout_ms / 1000, (long)(timeout_ms % 1000) * 1000000 };

    syscall(SYS_futex, (uint32_t *)word, FUTEX_WAIT, val, &ts, NULL, 0);
}

void kt__futex_wake(_Atomic uint32_t *word, int n)
{
    syscall(SYS_futex, (uint32_t *)word, FUTEX_WAKE, n, NULL, NULL, 0);
}

bool kt__wait_change(const kt__wrun *r, _Atomic uint32_t *word, uint32_t val)
{
    while (atomic_load_explicit(word, memory_order_acquire) == val) {
        if (kt__stopped(r))
            return false;
        kt__futex_wait(word, val, KT__WAIT_SLICE_MS);
    }
    return !kt__stopped(r);
}

bool kt__nap_until(const kt__wrun *r, uint64_t deadline_ns)
{
    struct timespec ts = kt__ns_ts(deadline_ns);

    /* FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC deadline, so a
     * wake that ends early (a signal) resumes to the same instant. The
     * word is the stop flag itself: once kt_work_stop() has set it, a
     * wait that starts after its FUTEX_WAKE returns at once (EAGAIN), so
     * no wake is lost between the check and the wait. Every outcome
     * (timeout, wake, EAGAIN, EINTR) loops back to the checks. */
    for (;;) {
        if (kt__stopped(r))
            return false;
        if (kt_now_ns() >= deadline_ns)
            return true;
        syscall(SYS_futex, (uint32_t *)r->stop, FUTEX_WAIT_BITSET, 0, &ts, NULL,
                FUTEX_BITSET_MATCH_ANY);
    }
}

bool kt__pipe_recv(const kt__wrun *r, int fd, uint64_t *stamp)
{
    ssize_t n;

    do {
        n = read(fd, stamp, sizeof(*stamp));
    } while (n < 0 && errno == EINTR);
    return n == (ssize_t)sizeof(*stamp) && !kt__stopped(r);
}

bool kt__pipe_send(const kt__wrun *r, int fd, uint64_t stamp)
{
    struct pollfd p = { .fd = fd, .events = POLLOUT };
    ssize_t n;

    for (;;) {
        n = write(fd, &stamp, sizeof(stamp));
        if (n == (ssize_t)sizeof(stamp))
            return true;
        if (n >= 0 || (errno != EINTR && errno != EAGAIN))
            return false;      /* 8 bytes are written whole or not at all */
        if (errno == EAGAIN) {
            if (kt__stopped(r))
                return false;
            if (poll(&p, 1, KT__WAIT_SLICE_MS) < 0 && errno != EINTR)
                return false;
        }
    }
}
