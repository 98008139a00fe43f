/* /proc/<pid>/task/<tid>/sched: "name   :   value" lines, parsed by name.
 * Read on demand (open, read, close) for checks slower than a tick. */
#include "ktstr/schedstat.h"

#include "base/file.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static const struct {
    const char *name;
    size_t off;
    bool required;
} fields[] = {
    { "nr_switches", offsetof(kt_sched_counters, nr_switches), true },
    { "nr_voluntary_switches", offsetof(kt_sched_counters, nr_voluntary_switches), true },
    { "nr_involuntary_switches", offsetof(kt_sched_counters, nr_involuntary_switches), true },
    { "se.nr_migrations", offsetof(kt_sched_counters, nr_migrations), true },
    { "ext.enabled", offsetof(kt_sched_counters, ext_enabled), false },   /* CONFIG_SCHED_CLASS_EXT */
};
#define EXT_FIELD 4   /* ext.enabled's index above: the one optional field */
#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

/* Parses "<spaces>:<spaces><digits><spaces>" ending at end; -1 if not. */
static int parse_value(const char *p, const char *end, uint64_t *out)
{
    uint64_t x = 0;
    const char *start;

    while (p < end && *p == ' ')
        p++;
    if (p == end || *p != ':')
        return -1;
    p++;
    while (p < end && *p == ' ')
        p++;
    start = p;
    while (p < end && *p >= '0' && *p <= '9') {
        unsigned d = (unsigned)(*p - '0');

        if (x > (UINT64_MAX - d) / 10)
            return -1;
        x = x * 10 + d;
        p++;
    }
    if (p == start)
        return -1;
    while (p < end && *p == ' ')
        p++;
    if (p != end)
        return -1;
    *out = x;
    return 0;
}

int kt_sched_parse(const char *buf, size_t n, kt_sched_counters *out,
                   kt_err *err)
{
    const char *p = buf, *end = buf + n;
    unsigned found = 0;

    memset(out, 0, sizeof(*out));
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *name_end;

        if (!eol)
            eol = end;
        name_end = p;
        while (name_end < eol && *name_end != ' ' && *name_end != ':')
            name_end++;
        for (size_t f = 0; f < NFIELDS; f++) {
            size_t len = strlen(fields[f].name);
            uint64_t v;

            if ((size_t)(name_end - p) != len || memcmp(p, fields[f].name, len))
                continue;
            if (parse_value(name_end, eol, &v) < 0)
                return kt_err_set(err, EINVAL, "sched: field %s: malformed value",
                                  fields[f].name);
            memcpy((char *)out + fields[f].off, &v, sizeof(v));
            found |= 1u << f;
        }
        p = eol + 1;
    }
    for (size_t f = 0; f < NFIELDS; f++)
        if (fields[f].required && !(found & (1u << f)))
            return kt_err_set(err, EINVAL, "sched: field %s missing",
                              fields[f].name);
    out->has_ext = found & (1u << EXT_FIELD);
    return 0;
}

int kt_sched_read(int pid, int tid, kt_sched_counters *out, kt_err *err)
{
    char path[64], buf[16384];
    ssize_t n;
    kt_err e;

    if (pid > 0)
        snprintf(path, sizeof(path), "/proc/%d/task/%d/sched", pid, tid);
    else
        snprintf(path, sizeof(path), "/proc/self/task/%d/sched", tid);
    n = kt__read_file_buf(path, buf, sizeof(buf), &e);
    if (n < 0)
        return kt_err_set(err, e.code, "sched (tid %d): %s", tid, e.msg);
    return kt_sched_parse(buf, (size_t)n, out, err);
}
