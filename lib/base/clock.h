/*
 * lib/base/clock.h - clocks and sleeps in nanoseconds (private).
 *
 * Every layer reads time through these: CLOCK_MONOTONIC for stamps and
 * deadlines, the thread CPU clock for what a thread used, as uint64_t ns.
 * Sleeps resume after a signal, so a measuring window or a sampling tick
 * is never cut short by one.
 */
#ifndef KTSTR_LIB_BASE_CLOCK_H
#define KTSTR_LIB_BASE_CLOCK_H

#include <stdint.h>
#include <time.h>

#define KT__NS_PER_S 1000000000u

/* ts as ns (negative fields are not expected from a clock). */
static inline uint64_t kt__ts_ns(struct timespec ts)
{
    return (uint64_t)ts.tv_sec * KT__NS_PER_S + (uint64_t)ts.tv_nsec;
}

/* ns as a timespec. */
static inline struct timespec kt__ns_ts(uint64_t ns)
{
    struct timespec ts = { (time_t)(ns / KT__NS_PER_S), (long)(ns % KT__NS_PER_S) };

    return ts;
}

/* Clock clk now, in ns; 0 when it cannot be read (a CPU clock of a
 * thread that is gone). */
uint64_t kt__clock_ns(clockid_t clk);

/* CLOCK_MONOTONIC now, in ns. */
uint64_t kt__mono_ns(void);

/* The calling thread's CPU time, in ns. */
uint64_t kt__thread_cpu_ns(void);

/* Sleeps ns, resuming after signals for what is left. */
void kt__sleep_ns(uint64_t ns);

/* Sleeps until CLOCK_MONOTONIC reads deadline_ns (at once when past),
 * resuming after signals. */
void kt__sleep_until_ns(uint64_t deadline_ns);

#endif
