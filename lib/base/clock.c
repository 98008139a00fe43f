/* Clocks and sleeps in ns: see clock.h. */
#include "base/clock.h"

#include <errno.h>

uint64_t kt__clock_ns(clockid_t clk)
{
    struct timespec ts;

    if (clock_gettime(clk, &ts))
        return 0;
    return kt__ts_ns(ts);
}

uint64_t kt__mono_ns(void)
{
    return kt__clock_ns(CLOCK_MONOTONIC);
}

uint64_t kt__thread_cpu_ns(void)
{
    return kt__clock_ns(CLOCK_THREAD_CPUTIME_ID);
}

void kt__sleep_ns(uint64_t ns)
{
    struct timespec ts = kt__ns_ts(ns);

    while (nanosleep(&ts, &ts) && errno == EINTR)
        ;
}

void kt__sleep_until_ns(uint64_t deadline_ns)
{
    struct timespec ts = kt__ns_ts(deadline_ns);

    /* clock_nanosleep returns the error rather than setting errno */
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
        ;
}
