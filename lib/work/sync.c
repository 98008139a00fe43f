/* The public clock and sleep (on lib/base/clock.h) and the workers'
 * futexes. Futexes are the shared (not PRIVATE) kind because process
 * workers wait on the same words. */
#include "work/work_int.h"

#include <limits.h>
#include <linux/futex.h>
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
