/* /proc/<pid>/stat parsing: see pidstat.h. */
#include "base/pidstat.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define LAST_FIELD 39

int kt__pidstat_parse(const char *buf, size_t n, kt__pidstat *out, kt_err *err)
{
    const char *open_paren = memchr(buf, '(', n), *close_paren = NULL, *p;
    char rest[1024];
    size_t clen, rlen;
    int field = 3;
    long pid = 0;

    for (size_t i = n; i > 0; i--)
        if (buf[i - 1] == ')') {
            close_paren = buf + i - 1;
            break;
        }
    if (!open_paren || !close_paren || close_paren < open_paren)
        return kt_err_set(err, EINVAL, "stat: no \"(comm)\" in \"%.*s\"",
                          (int)(n < 60 ? n : 60), buf);
    memset(out, 0, sizeof(*out));
    p = buf;
    while (p < open_paren && *p == ' ')
        p++;
    if (p == open_paren || *p < '0' || *p > '9')
        return kt_err_set(err, EINVAL, "stat: no pid before the comm");
    while (p < open_paren && *p >= '0' && *p <= '9') {
        pid = pid * 10 + (*p++ - '0');
        if (pid > INT_MAX)
            return kt_err_set(err, EINVAL, "stat: pid above %d", INT_MAX);
    }
    while (p < open_paren && *p == ' ')
        p++;
    if (p != open_paren)
        return kt_err_set(err, EINVAL, "stat: no pid before the comm");
    out->pid = (int)pid;
    clen = (size_t)(close_paren - open_paren - 1);
    if (clen >= sizeof(out->comm))
        clen = sizeof(out->comm) - 1;
    memcpy(out->comm, open_paren + 1, clen);
    out->comm[clen] = '\0';
    /* fields 3..39 hold at most 37 numbers of 20 digits: 1 KiB is plenty */
    rlen = n - (size_t)(close_paren + 1 - buf);
    if (rlen >= sizeof(rest))
        rlen = sizeof(rest) - 1;
    memcpy(rest, close_paren + 1, rlen);
    rest[rlen] = '\0';
    p = rest;
    while (*p == ' ')
        p++;
    if (!*p || *p == '\n')
        return kt_err_set(err, EINVAL, "stat (pid %d): no state after the comm", out->pid);
    out->state = *p++;
    while (field < LAST_FIELD) {
        char *end;
        long long v;

        field++;
        v = strtoll(p, &end, 10);  /* out of range clamps, defined (rsslim) */
        if (end == p || (*end != ' ' && *end != '\n' && *end != '\0'))
            return kt_err_set(err, EINVAL, "stat (pid %d): field %d missing or not a number",
                              out->pid, field);
        p = end;
        /* an int field past int's range would wrap to another number */
        if ((field == 4 || field == 20 || field == LAST_FIELD) && (v < INT_MIN || v > INT_MAX))
            return kt_err_set(err, EINVAL, "stat (pid %d): field %d out of range (%lld)",
                              out->pid, field, v);
        if (field == 4)
            out->ppid = (int)v;
        else if (field == 14)
            out->utime_ticks = (uint64_t)v;
        else if (field == 15)
            out->stime_ticks = (uint64_t)v;
        else if (field == 16)
            out->cutime_ticks = (uint64_t)v;
        else if (field == 17)
            out->cstime_ticks = (uint64_t)v;
        else if (field == 20)
            out->num_threads = (int)v;
        else if (field == LAST_FIELD)
            out->processor = (int)v;
    }
    return 0;
}
