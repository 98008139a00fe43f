/*
 * kt_cpuset: a fixed bitmap of CPUs 0..KT_CPUSET_MAX-1, printed as a
 * kernel CPU list by kt__cpulist_format (lib/base), the one formatter of
 * such lists.
 */
#include "ktstr/cpuset.h"

#include "base/cpumask.h"

#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#define WORDS (KT_CPUSET_MAX / 64)

/* Bits set in x (portable: no compiler builtin). */
static int popcount64(uint64_t x)
{
    x = x - ((x >> 1) & UINT64_C(0x5555555555555555));
    x = (x & UINT64_C(0x3333333333333333)) + ((x >> 2) & UINT64_C(0x3333333333333333));
    x = (x + (x >> 4)) & UINT64_C(0x0f0f0f0f0f0f0f0f);
    return (int)((x * UINT64_C(0x0101010101010101)) >> 56);
}

static int refuse(kt_cpuset *s, int cpu)
{
    if (!s->bad_) {
        s->bad_ = true;
        s->bad_cpu_ = cpu;
    }
    return -1;
}

void kt_cpuset_clear(kt_cpuset *s)
{
    memset(s, 0, sizeof(*s));
}

int kt_cpuset_add(kt_cpuset *s, int cpu)
{
    if (cpu < 0 || cpu >= KT_CPUSET_MAX)
        return refuse(s, cpu);
    s->bits_[cpu / 64] |= UINT64_C(1) << (cpu % 64);
    return 0;
}

int kt_cpuset_add_list(kt_cpuset *s, const int *cpus, int n)
{
    int rc = 0;

    for (int i = 0; i < n; i++)
        if (kt_cpuset_add(s, cpus[i]) < 0)
            rc = -1;
    return rc;
}

int kt_cpuset_add_mask(kt_cpuset *s, const void *mask, size_t bytes)
{
    const cpu_set_t *m = mask;
    int rc = 0;

    /* CPU_ISSET_S knows the mask's word layout */
    for (size_t c = 0; c < bytes * 8 && c <= INT_MAX; c++)
        if (CPU_ISSET_S(c, bytes, m) && kt_cpuset_add(s, (int)c) < 0)
            rc = -1;
    return rc;
}

void kt_cpuset_add_set(kt_cpuset *dst, const kt_cpuset *src)
{
    for (int i = 0; i < WORDS; i++)
        dst->bits_[i] |= src->bits_[i];
    if (src->bad_)
        refuse(dst, src->bad_cpu_);
}

bool kt_cpuset_has(const kt_cpuset *s, int cpu)
{
    return cpu >= 0 && cpu < KT_CPUSET_MAX &&
           (s->bits_[cpu / 64] >> (cpu % 64) & 1);
}

int kt_cpuset_count(const kt_cpuset *s)
{
    int n = 0;

    for (int i = 0; i < WORDS; i++)
        n += popcount64(s->bits_[i]);
    return n;
}

int kt_cpuset_format(const kt_cpuset *s, char *buf, size_t n)
{
    int count = kt_cpuset_count(s), k = 0, rc;
    int *cpus;

    if (n == 0)
        return -1;
    if (count == 0) {
        buf[0] = '\0';
        return 0;
    }
    cpus = malloc((size_t)count * sizeof(*cpus));
    if (!cpus) {
        errno = ENOMEM;
        return -1;
    }
    for (int c = 0; c < KT_CPUSET_MAX; c++)
        if (kt_cpuset_has(s, c))
            cpus[k++] = c;
    rc = kt__cpulist_format(buf, n, cpus, count);
    free(cpus);
    return rc;
}
