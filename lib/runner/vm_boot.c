/* A guest's boot deadline in the CPU time the host gave it (vm.h): under
 * a loaded host QEMU's threads wait for a CPU, and a boot that the host
 * slowed is not a stuck boot. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>

#include "ktstr/schedstat.h"
#include "runner/vm.h"

/* The most any thread of pid has waited runnable for a CPU, in ms; -1
 * when none could be read. */
static int64_t denied_ms(int pid)
{
    char path[64];
    DIR *d;
    struct dirent *e;
    int64_t worst = -1;

    snprintf(path, sizeof(path), "/proc/%d/task", pid);
    d = opendir(path);
    if (!d)
        return -1;
    while ((e = readdir(d)) != NULL) {
        kt_schedstat s;
        kt_schedstat_sample x;
        int tid = atoi(e->d_name);

        if (tid <= 0 || kt_schedstat_open(&s, pid, tid, NULL) < 0)
            continue;
        if (kt_schedstat_read(&s, &x, NULL) == 0 && (int64_t)(x.delay_ns / 1000000u) > worst)
            worst = (int64_t)(x.delay_ns / 1000000u);
        kt_schedstat_close(&s);
    }
    closedir(d);
    return worst;
}

void kt__boot_clock_start(kt__boot_clock *b, int pid, int64_t now_ms, unsigned boot_s)
{
    b->pid = pid;
    b->spawn_ms = now_ms;
    b->budget_ms = (int64_t)boot_s * 1000;
    b->ceiling_ms = KT__VM_BOOT_CEILING * b->budget_ms;
    b->denied_ms = 0;
}

bool kt__boot_clock_over(kt__boot_clock *b, int64_t now_ms)
{
    int64_t used = now_ms - b->spawn_ms, d;

    if (used < b->budget_ms)
        return false;   /* within the budget whatever the host did: no need to look */
    d = denied_ms(b->pid);
    if (d > b->denied_ms)
        b->denied_ms = d;
    return used >= b->ceiling_ms || used - b->denied_ms >= b->budget_ms;
}

bool kt__boot_clock_at_ceiling(const kt__boot_clock *b, int64_t now_ms)
{
    return now_ms - b->spawn_ms >= b->ceiling_ms;
}

double kt__boot_clock_steal(const kt__boot_clock *b, int64_t now_ms)
{
    int64_t used = now_ms - b->spawn_ms;

    return used > 0 ? (double)b->denied_ms / (double)used : 0.0;
}
