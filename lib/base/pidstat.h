/*
 * lib/base/pidstat.h - the one parser of /proc/<pid>/stat lines (private).
 *
 * Used by the runner (whose parent is each process, to kill what it
 * started), by vCPU discovery (a thread's state) and behind the public
 * kt_proc_stat_parse (ktstr/discover.h). The comm ends at the LAST ')'
 * of the line, since a comm may itself hold ") "; the fields after it are
 * read by position, as proc(5) numbers them.
 */
#ifndef KTSTR_LIB_BASE_PIDSTAT_H
#define KTSTR_LIB_BASE_PIDSTAT_H

#include <stddef.h>
#include <stdint.h>

#include "ktstr/error.h"

typedef struct kt__pidstat {
    int pid;                 /* field 1 */
    char comm[64];           /* field 2, without its parentheses */
    char state;              /* field 3: R, S, D, Z, X, ... */
    int ppid;                /* field 4 */
    uint64_t utime_ticks;    /* field 14 */
    uint64_t stime_ticks;    /* field 15 */
    uint64_t cutime_ticks;   /* field 16: its reaped children's */
    uint64_t cstime_ticks;   /* field 17 */
    int num_threads;         /* field 20 */
    int processor;           /* field 39: the CPU it last ran on */
} kt__pidstat;

/* Parses buf[0..n) (need not be NUL-terminated) through field 39. 0, or
 * -1 with err naming what is missing ("stat (pid 12): field 7 missing or
 * not a number"). */
int kt__pidstat_parse(const char *buf, size_t n, kt__pidstat *out, kt_err *err);

#endif
