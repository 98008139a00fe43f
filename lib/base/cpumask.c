/* The affinity mask, sized to the kernel's: see cpumask.h. */
#include "base/cpumask.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>

/* 2^20 CPUs: far past any kernel's NR_CPUS, so the loop always ends. */
#define MAX_BITS (1 << 20)

int kt__cpumask_get(int tid, kt__cpumask *m, kt_err *err)
{
    char who[32];
    int e = EINVAL;

    if (tid)
        snprintf(who, sizeof(who), "tid %d", tid);
    else
        snprintf(who, sizeof(who), "self");
    m->set = NULL;
    m->size = 0;
    m->bits = 0;
    for (int bits = CPU_SETSIZE; bits <= MAX_BITS; bits *= 2) {
        size_t size = CPU_ALLOC_SIZE(bits);
        cpu_set_t *set = CPU_ALLOC(bits);

        if (!set)
            return kt_err_sys(err, ENOMEM, "affinity (%s): out of memory (%zu bytes)", who,
                              size);
        if (sched_getaffinity(tid, size, set) == 0) {
            m->set = set;
            m->size = size;
            /* CPU_ALLOC rounds up to whole words: every bit of them counts */
            m->bits = (int)(size * 8);
            return 0;
        }
        e = errno;
        CPU_FREE(set);
        if (e != EINVAL)
            break;
    }
    return kt_err_sys(err, e, "affinity (%s): sched_getaffinity", who);
}

int kt__cpumask_count(const kt__cpumask *m)
{
    return m->set ? CPU_COUNT_S(m->size, m->set) : 0;
}

bool kt__cpumask_has(const kt__cpumask *m, int cpu)
{
    return m->set && cpu >= 0 && cpu < m->bits && CPU_ISSET_S((size_t)cpu, m->size, m->set);
}

void kt__cpumask_free(kt__cpumask *m)
{
    CPU_FREE(m->set);
    m->set = NULL;
    m->size = 0;
    m->bits = 0;
}

int kt__cpulist_format(char *buf, size_t n, const int *cpus, int count)
{
    size_t used = 0;

    if (count <= 0 || n == 0)
        return -1;
    for (int i = 0; i < count;) {
        int j = i, r;

        /* a run of ascending neighbours prints as "a-b", as the kernel's
         * lists do; work's kt__cpulist_parse expands it back in the same order */
        while (j + 1 < count && cpus[j] < INT_MAX && cpus[j + 1] == cpus[j] + 1)
            j++;
        if (j > i)
            r = snprintf(buf + used, n - used, "%s%d-%d", i ? "," : "", cpus[i], cpus[j]);
        else
            r = snprintf(buf + used, n - used, "%s%d", i ? "," : "", cpus[i]);
        if (r < 0 || (size_t)r >= n - used)
            return -1;
        used += (size_t)r;
        i = j + 1;
    }
    return 0;
}
