/*
 * lib/base/cpumask.h - the CPUs a thread may run on, and CPU lists as the
 * kernel prints them (private).
 *
 * The one place the library asks the kernel for an affinity mask:
 *
 *   kt__cpumask m;
 *   if (kt__cpumask_get(0, &m, err) < 0)
 *       return -1;             // err: "affinity (self): sched_getaffinity: ..."
 *   for (int c = 0; c < m.bits; c++)
 *       if (kt__cpumask_has(&m, c)) ...
 *   kt__cpumask_free(&m);
 *
 * The mask is sized at run time (CPU_ALLOC), starting at CPU_SETSIZE and
 * doubling while sched_getaffinity answers EINVAL (its "your mask is
 * smaller than the kernel's" answer), so a machine with more possible
 * CPUs than a fixed cpu_set_t holds is read whole, and every layer counts
 * the same CPUs.
 */
#ifndef KTSTR_LIB_BASE_CPUMASK_H
#define KTSTR_LIB_BASE_CPUMASK_H

#include <sched.h>
#include <stdbool.h>
#include <stddef.h>

#include "ktstr/error.h"

typedef struct kt__cpumask {
    cpu_set_t *set;     /* CPU_ALLOC'd; NULL after kt__cpumask_free */
    size_t size;        /* bytes, for the CPU_*_S macros */
    int bits;           /* CPU numbers below this fit the mask */
} kt__cpumask;

/* Reads the affinity mask of thread tid (0: the calling thread). 0, or -1
 * with err ("affinity (self|tid N): sched_getaffinity: ..." or out of
 * memory) and m empty. */
int kt__cpumask_get(int tid, kt__cpumask *m, kt_err *err);

/* CPUs in the mask. */
int kt__cpumask_count(const kt__cpumask *m);

/* Whether cpu is in the mask (false for any cpu outside 0..bits-1). */
bool kt__cpumask_has(const kt__cpumask *m, int cpu);

/* Frees the mask (safe twice). */
void kt__cpumask_free(kt__cpumask *m);

/* cpus[0..count) as the kernel prints a CPU list, in the given order, a
 * run of ascending neighbours as a range ({0,1,2,3,6} "0-3,6"): the one
 * formatter of such lists (kt_cpulist_format and kt_cpuset_format call
 * it). -1 when count is not positive or buf is too small. */
int kt__cpulist_format(char *buf, size_t n, const int *cpus, int count);

#endif
