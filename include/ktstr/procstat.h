/*
 * ktstr/procstat.h - per-CPU times from /proc/stat.
 *
 * The file is kept open and read with one pread per tick for all CPUs.
 * Times are converted from USER_HZ ticks (sysconf(_SC_CLK_TCK)) to ns, so
 * their resolution is one tick (10 ms at USER_HZ 100): compare them over
 * windows much longer than that.
 */
#ifndef KTSTR_PROCSTAT_H
#define KTSTR_PROCSTAT_H

#include <stddef.h>
#include <stdint.h>

#include "ktstr/api.h"
#include "ktstr/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One CPU's cumulative times, in ns. present is 0 for a CPU that had no
 * line (offline, or past the end of the file). */
typedef struct kt_cpu_times {
    uint64_t user, nice, system, idle, iowait, irq, softirq, steal;
    int present;
} kt_cpu_times;

/* Busy time: everything but idle and iowait (steal counts as busy: the CPU
 * was not available to run this machine's work). */
KT_API uint64_t kt_cpu_busy_ns(const kt_cpu_times *t);

/* Idle time: idle + iowait. */
KT_API uint64_t kt_cpu_idle_ns(const kt_cpu_times *t);

typedef struct kt_procstat {
    int fd;
    long clk_tck;
    char *buf;     /* sized at open for every configured CPU */
    size_t bufsz;
} kt_procstat;

/* Opens /proc/stat and sizes the read buffer. */
KT_API int kt_procstat_open(kt_procstat *ps, kt_err *err);

/* One pread; fills out[0..cap) by CPU number. Returns the number of CPU
 * lines seen, or -1. */
KT_API int kt_procstat_read(const kt_procstat *ps, kt_cpu_times *out, int cap,
                            kt_err *err);

/* Frees the buffer and closes the fd (safe twice). */
KT_API void kt_procstat_close(kt_procstat *ps);

/* Parses /proc/stat text: the "cpuN" lines at its start (the aggregate
 * "cpu" line is skipped; CPUs >= cap are ignored). Returns the number of
 * CPU lines seen, or -1 with err on a malformed or truncated line. */
KT_API int kt_procstat_parse(const char *buf, size_t n, long clk_tck,
                             kt_cpu_times *out, int cap, kt_err *err);

#ifdef __cplusplus
}
#endif
#endif
