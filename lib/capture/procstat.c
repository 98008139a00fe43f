/* /proc/stat per-CPU times: one pread of a kept fd per tick. */
#include "ktstr/procstat.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Field order of a "cpuN" line, as proc(5) lists it. */
static const size_t field_off[] = {
    offsetof(kt_cpu_times, user),   offsetof(kt_cpu_times, nice),
    offsetof(kt_cpu_times, system), offsetof(kt_cpu_times, idle),
    offsetof(kt_cpu_times, iowait), offsetof(kt_cpu_times, irq),
    offsetof(kt_cpu_times, softirq), offsetof(kt_cpu_times, steal),
};
#define NFIELDS (sizeof(field_off) / sizeof(field_off[0]))

uint64_t kt_cpu_busy_ns(const kt_cpu_times *t)
{
    return t->user + t->nice + t->system + t->irq + t->softirq + t->steal;
}

uint64_t kt_cpu_idle_ns(const kt_cpu_times *t)
{
    return t->idle + t->iowait;
}

static uint64_t ticks_to_ns(uint64_t ticks, long clk_tck)
{
    unsigned __int128 ns = (unsigned __int128)ticks * 1000000000u / (uint64_t)clk_tck;

    return ns > UINT64_MAX ? UINT64_MAX : (uint64_t)ns;
}

/* Reads a decimal number at *p (before end); -1 when there is none. */
static int number(const char **p, const char *end, uint64_t *out)
{
    const char *s = *p;
    uint64_t x = 0;

    while (s < end && *s == ' ')
        s++;
    if (s == end || *s < '0' || *s > '9')
        return -1;
    while (s < end && *s >= '0' && *s <= '9') {
        unsigned d = (unsigned)(*s - '0');

        if (x > (UINT64_MAX - d) / 10)
            return -1;
        x = x * 10 + d;
        s++;
    }
    *p = s;
    *out = x;
    return 0;
}

int kt_procstat_parse(const char *buf, size_t n, long clk_tck,
                      kt_cpu_times *out, int cap, kt_err *err)
{
    const char *p = buf, *end = buf + n;
    int seen = 0;

    if (clk_tck <= 0)
        return kt_err_set(err, EINVAL, "/proc/stat: clock tick rate %ld", clk_tck);
    for (int i = 0; i < cap; i++)
        memset(&out[i], 0, sizeof(out[i]));
    while (p < end && end - p >= 3 && memcmp(p, "cpu", 3) == 0) {
        const char *line = p, *eol = memchr(p, '\n', (size_t)(end - p));
        uint64_t cpu, v;
        kt_cpu_times t;

        if (!eol)
            return kt_err_set(err, EINVAL, "/proc/stat: line %d truncated", seen + 1);
        p += 3;
        if (*p == ' ') {  /* the aggregate line */
            p = eol + 1;
            continue;
        }
        if (number(&p, eol, &cpu) < 0 || *p != ' ')
            return kt_err_set(err, EINVAL, "/proc/stat: bad CPU number in line \"%.*s\"",
                              (int)(eol - line < 60 ? eol - line : 60), line);
        memset(&t, 0, sizeof(t));
        for (size_t f = 0; f < NFIELDS; f++) {
            if (number(&p, eol, &v) < 0)
                return kt_err_set(err, EINVAL, "/proc/stat: cpu%llu: field %zu missing",
                                  (unsigned long long)cpu, f + 1);
            v = ticks_to_ns(v, clk_tck);
            memcpy((char *)&t + field_off[f], &v, sizeof(v));
        }
        t.present = 1;
        if (cpu < (uint64_t)cap)
            out[cpu] = t;
        seen++;
        p = eol + 1;
    }
    if (seen == 0)
        return kt_err_set(err, EINVAL, "/proc/stat: no cpuN lines");
    if (p >= end)
        return kt_err_set(err, EINVAL, "/proc/stat: truncated after %d CPU lines", seen);
    return seen;
}

int kt_procstat_open(kt_procstat *ps, kt_err *err)
{
    long ncpu = sysconf(_SC_NPROCESSORS_CONF);

    ps->buf = NULL;
    ps->clk_tck = sysconf(_SC_CLK_TCK);
    if (ps->clk_tck <= 0)
        ps->clk_tck = 100;
    if (ncpu < 1)
        ncpu = 1;
    /* a cpuN line is at most 8 + 10 * 21 bytes; the rest is headroom */
    ps->bufsz = 4096 + (size_t)ncpu * 256;
    ps->fd = open("/proc/stat", O_RDONLY | O_CLOEXEC);
    if (ps->fd < 0)
        return kt_err_sys(err, errno, "/proc/stat (all CPUs): open");
    ps->buf = malloc(ps->bufsz);
    if (!ps->buf) {
        kt_procstat_close(ps);
        return kt_err_sys(err, ENOMEM, "/proc/stat (all CPUs): buffer of %zu bytes",
                          ps->bufsz);
    }
    return 0;
}

int kt_procstat_read(const kt_procstat *ps, kt_cpu_times *out, int cap,
                     kt_err *err)
{
    ssize_t n = pread(ps->fd, ps->buf, ps->bufsz, 0);

    if (n < 0)
        return kt_err_sys(err, errno, "/proc/stat (all CPUs): pread");
    return kt_procstat_parse(ps->buf, (size_t)n, ps->clk_tck, out, cap, err);
}

void kt_procstat_close(kt_procstat *ps)
{
    if (ps->fd >= 0)
        close(ps->fd);
    ps->fd = -1;
    free(ps->buf);
    ps->buf = NULL;
}
