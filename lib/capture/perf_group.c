/* perf counter groups: opened once, read with one read() per tick. */
#include "ktstr/perf.h"

#include <errno.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static const struct {
    const char *group;
    int nr;
    struct {
        uint32_t type;
        uint64_t config;
        const char *name;
    } ev[KT_PERF_MAX_EVENTS];
} kinds[] = {
    [KT_PERF_HW] = { "perf hardware group", 4, {
        { PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES, "cycles" },
        { PERF_TYPE_HARDWARE, PERF_COUNT_HW_INSTRUCTIONS, "instructions" },
        { PERF_TYPE_HARDWARE, PERF_COUNT_HW_CACHE_MISSES, "cache-misses" },
        { PERF_TYPE_HARDWARE, PERF_COUNT_HW_BRANCH_MISSES, "branch-misses" },
    } },
    [KT_PERF_SW] = { "perf software group", 3, {
        { PERF_TYPE_SOFTWARE, PERF_COUNT_SW_TASK_CLOCK, "task-clock" },
        { PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CONTEXT_SWITCHES, "context-switches" },
        { PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_MIGRATIONS, "cpu-migrations" },
    } },
};

static int valid_kind(kt_perf_kind kind)
{
    return (unsigned)kind < sizeof(kinds) / sizeof(kinds[0]);
}

int kt_perf_kind_events(kt_perf_kind kind)
{
    return valid_kind(kind) ? kinds[kind].nr : 0;
}

const char *kt_perf_event_name(kt_perf_kind kind, int i)
{
    if (!valid_kind(kind) || i < 0 || i >= kinds[kind].nr)
        return "?";
    return kinds[kind].ev[i].name;
}

/* "tid 812" or "cpu 1", for messages. */
static const char *target_name(char *buf, size_t n, int tid, int cpu)
{
    if (tid >= 0)
        snprintf(buf, n, "tid %d", tid);
    else
        snprintf(buf, n, "cpu %d", cpu);
    return buf;
}

void kt_perf_group_close(kt_perf_group *g)
{
    for (int i = 0; i < KT_PERF_MAX_EVENTS; i++) {
        if (g->fd[i] >= 0)
            close(g->fd[i]);
        g->fd[i] = -1;
    }
    g->nr = 0;
}

int kt_perf_group_open(kt_perf_group *g, kt_perf_kind kind, int tid, int cpu,
                       unsigned flags, kt_err *err)
{
    char who[32];

    for (int i = 0; i < KT_PERF_MAX_EVENTS; i++)
        g->fd[i] = -1;
    g->nr = 0;
    g->tid = tid;
    g->cpu = cpu;
    g->kind = kind;
    if (!valid_kind(kind))
        return kt_err_set(err, EINVAL, "perf group: unknown kind %d", (int)kind);
    if ((tid < 0) == (cpu < 0))
        return kt_err_set(err, EINVAL,
                          "%s: give a thread (tid %d) or a CPU (cpu %d), not both or neither",
                          kinds[kind].group, tid, cpu);
    target_name(who, sizeof(who), tid, cpu);
    for (int i = 0; i < kinds[kind].nr; i++) {
        struct perf_event_attr a;
        int fd, e;

        memset(&a, 0, sizeof(a));
        a.size = sizeof(a);
        a.type = kinds[kind].ev[i].type;
        a.config = kinds[kind].ev[i].config;
        a.read_format = PERF_FORMAT_GROUP | PERF_FORMAT_TOTAL_TIME_ENABLED |
                        PERF_FORMAT_TOTAL_TIME_RUNNING | PERF_FORMAT_ID;
        a.disabled = i == 0;  /* the leader starts the group at once */
        a.exclude_host = (flags & KT_PERF_EXCLUDE_HOST) != 0;
        fd = (int)syscall(SYS_perf_event_open, &a, tid, cpu,
                          i == 0 ? -1 : g->fd[0], PERF_FLAG_FD_CLOEXEC);
        if (fd < 0) {
            e = errno;
            kt_perf_group_close(g);
            return kt_err_sys(err, e, "%s (%s): perf_event_open(%s)",
                              kinds[kind].group, who, kinds[kind].ev[i].name);
        }
        g->fd[i] = fd;
        g->nr = i + 1;
        if (ioctl(fd, PERF_EVENT_IOC_ID, &g->id[i]) < 0) {
            e = errno;
            kt_perf_group_close(g);
            return kt_err_sys(err, e, "%s (%s): ioctl(PERF_EVENT_IOC_ID, %s)",
                              kinds[kind].group, who, kinds[kind].ev[i].name);
        }
    }
    if (ioctl(g->fd[0], PERF_EVENT_IOC_ENABLE, PERF_IOC_FLAG_GROUP) < 0) {
        int e = errno;

        kt_perf_group_close(g);
        return kt_err_sys(err, e, "%s (%s): ioctl(PERF_EVENT_IOC_ENABLE)",
                          kinds[kind].group, who);
    }
    return 0;
}

int kt_perf_group_read(const kt_perf_group *g, kt_perf_values *out,
                       kt_err *err)
{
    uint64_t buf[3 + 2 * KT_PERF_MAX_EVENTS];
    char who[32];
    ssize_t n;

    if (g->nr < 1)
        return kt_err_set(err, EBADF, "perf group: read of a group not open");
    n = read(g->fd[0], buf, sizeof(buf));
    if (n > 0)
        return kt_perf_group_parse(buf, (size_t)n, g->id, g->nr, out, err);
    target_name(who, sizeof(who), g->tid, g->cpu);
    /* A task event whose thread has exited and been reaped reads as EOF. */
    return kt_err_sys(err, n == 0 ? ESRCH : errno, "%s (%s): read",
                      kinds[g->kind].group, who);
}
