/* Cpu lists as the kernel prints them ("0-3,6"), for worker affinity, and
 * the CPUs this process may use. */
#include "work/work_int.h"

#include "base/cpumask.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int parse_num(const char **p, long *out)
{
    char *end;

    if (!isdigit((unsigned char)**p))
        return -1;
    errno = 0;
    *out = strtol(*p, &end, 10);
    if (errno || *out < 0 || *out >= CPU_SETSIZE)
        return -1;
    *p = end;
    return 0;
}

int kt__cpulist_parse(const char *s, cpu_set_t *mask, int *order, int *n,
                      kt_err *err)
{
    const char *p = s;
    long lo, hi;

    CPU_ZERO(mask);
    *n = 0;
    if (!s || !*s)
        return kt_err_set(err, EINVAL, "cpu list: empty");
    for (;;) {
        if (parse_num(&p, &lo))
            goto bad;
        hi = lo;
        if (*p == '-') {
            p++;
            if (parse_num(&p, &hi) || hi < lo)
                goto bad;
        }
        for (long c = lo; c <= hi; c++) {
            if (!CPU_ISSET((int)c, mask))
                order[(*n)++] = (int)c;
            CPU_SET((int)c, mask);
        }
        if (*p == '\0')
            return 0;
        if (*p++ != ',')
            goto bad;
    }
bad:
    return kt_err_set(err, EINVAL,
                      "cpu list \"%s\": bad at offset %d (want e.g. \"0-3,6\", CPUs below %d)",
                      s, (int)(p - s), CPU_SETSIZE);
}

int kt_allowed_cpus(int *cpus, int cap, kt_err *err)
{
    kt__cpumask m;
    int n = 0;

    if (kt__cpumask_get(0, &m, err) < 0)
        return -1;
    for (int c = 0; c < m.bits && n < cap; c++)
        if (kt__cpumask_has(&m, c))
            cpus[n++] = c;
    kt__cpumask_free(&m);
    return n;
}

int kt_cpulist_format(char *buf, size_t n, const int *cpus, int count)
{
    return kt__cpulist_format(buf, n, cpus, count);
}
