/*
 * ktstr/schedstat.h - per-thread scheduler statistics from /proc.
 *
 * /proc/<pid>/task/<tid>/schedstat ("run_ns delay_ns timeslices") is kept
 * open and read with one pread(fd, buf, n, 0) per tick; it works without
 * CONFIG_SCHEDSTATS. /proc/<pid>/task/<tid>/sched holds slower counters
 * (switches, migrations) parsed by field name; the schedstats-only fields
 * there (wait_max, ...) may be absent and are ignored.
 *
 * A thread that has exited reads as -1 with ESRCH ("thread gone").
 */
#ifndef KTSTR_SCHEDSTAT_H
#define KTSTR_SCHEDSTAT_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

#include "ktstr/api.h"
#include "ktstr/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct kt_schedstat_sample {
    uint64_t run_ns;     /* time on a CPU */
    uint64_t delay_ns;   /* time runnable but waiting for a CPU */
    uint64_t timeslices; /* times it was scheduled in */
} kt_schedstat_sample;

typedef struct kt_schedstat {
    int fd;
    int pid, tid;
} kt_schedstat;

/* Opens /proc/<pid>/task/<tid>/schedstat (pid 0: this process). */
KT_API int kt_schedstat_open(kt_schedstat *s, int pid, int tid, kt_err *err);

/* One pread of the kept fd, parsed into out. */
KT_API int kt_schedstat_read(const kt_schedstat *s, kt_schedstat_sample *out,
                             kt_err *err);

/* Closes the fd (safe twice). */
KT_API void kt_schedstat_close(kt_schedstat *s);

/* Parses the text of a schedstat file ("1 2 3\n"); n bytes of buf. */
KT_API int kt_schedstat_parse(const char *buf, size_t n, kt_schedstat_sample *out,
                              kt_err *err);

/* The always-present counters of /proc/<pid>/task/<tid>/sched, and
 * whether the task runs in sched_ext where the kernel has it. */
typedef struct kt_sched_counters {
    uint64_t nr_switches;
    uint64_t nr_voluntary_switches;
    uint64_t nr_involuntary_switches;
    uint64_t nr_migrations; /* se.nr_migrations */
    uint64_t ext_enabled;   /* ext.enabled: 1 while the task is in sched_ext */
    bool has_ext;           /* the file had ext.enabled (a sched_ext kernel) */
} kt_sched_counters;

/* Parses the text of a sched file by field name; -1 naming the first
 * required field missing or malformed (ext.enabled is optional). */
KT_API int kt_sched_parse(const char *buf, size_t n, kt_sched_counters *out,
                          kt_err *err);

/* Reads and parses /proc/<pid>/task/<tid>/sched (pid 0: this process). */
KT_API int kt_sched_read(int pid, int tid, kt_sched_counters *out, kt_err *err);

#ifdef __cplusplus
}
#endif
#endif
