/* /proc/<pid>/task/<tid>/schedstat: a kept-open fd, one pread per tick. */
#include "ktstr/schedstat.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void task_path(char *buf, size_t n, int pid, int tid, const char *file)
{
    if (pid > 0)
        snprintf(buf, n, "/proc/%d/task/%d/%s", pid, tid, file);
    else
        snprintf(buf, n, "/proc/self/task/%d/%s", tid, file);
}

int kt_schedstat_parse(const char *buf, size_t n, kt_schedstat_sample *out,
                       kt_err *err)
{
    uint64_t v[3];
    size_t i = 0;

    for (int f = 0; f < 3; f++) {
        uint64_t x = 0;
        size_t start;

        while (i < n && buf[i] == ' ')
            i++;
        start = i;
        while (i < n && buf[i] >= '0' && buf[i] <= '9') {
            unsigned d = (unsigned)(buf[i] - '0');

            if (x > (UINT64_MAX - d) / 10)
                return kt_err_set(err, ERANGE, "schedstat: field %d overflows", f + 1);
            x = x * 10 + d;
            i++;
        }
        if (i == start)
            return kt_err_set(err, EINVAL,
                              "schedstat: field %d missing or not a number in \"%.*s\"",
                              f + 1, (int)(n < 64 ? n : 64), buf);
        v[f] = x;
    }
    while (i < n && (buf[i] == ' ' || buf[i] == '\n'))
        i++;
    if (i != n)
        return kt_err_set(err, EINVAL, "schedstat: trailing text after 3 fields");
    out->run_ns = v[0];
    out->delay_ns = v[1];
    out->timeslices = v[2];
    return 0;
}

int kt_schedstat_open(kt_schedstat *s, int pid, int tid, kt_err *err)
{
    char path[64];

    task_path(path, sizeof(path), pid, tid, "schedstat");
    s->pid = pid;
    s->tid = tid;
    s->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (s->fd < 0)
        return kt_err_sys(err, errno, "schedstat (tid %d): open %s", tid, path);
    return 0;
}

int kt_schedstat_read(const kt_schedstat *s, kt_schedstat_sample *out,
                      kt_err *err)
{
    char buf[96];
    ssize_t n;

    n = pread(s->fd, buf, sizeof(buf), 0);
    if (n < 0)
        return kt_err_sys(err, errno, "schedstat (tid %d): pread", s->tid);
    if ((size_t)n == sizeof(buf))
        return kt_err_set(err, EINVAL, "schedstat (tid %d): longer than %zu bytes",
                          s->tid, sizeof(buf));
    return kt_schedstat_parse(buf, (size_t)n, out, err);
}

void kt_schedstat_close(kt_schedstat *s)
{
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
}
