/* The scheduler under test's costs in a guest (TCG here), medians of REPS
 * VM points each, read from the points' YAML:
 *   scx.attach_ms.builtin_fifo  start to sched_ext "enabled", builtin:fifo
 *   scx.attach_ms.scx_simple    the same for build/scx/scx_simple (make scx)
 *   scx.eject_detect_ms         the kernel's "disabled" line to the runner
 *                               seeing the ejection, both on the kernel log's
 *                               clock (builtin:stall; goal <= 100)
 * The kernel is KTSTR_KERNEL, else build/kernel/vmlinux. Skips (a note, no
 * figure) without a kernel or QEMU; scx_simple's line without make scx. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

#define REPS 5

/* One VM point of vm_cases: the number after "key: " in its YAML, or -1e9. */
static double yaml_number(const char *kernel, const char *sched, const char *scenario,
                          const char *key)
{
    char cmd[1024], line[1024], want[64];
    double x = -1e9;
    FILE *fp;

    snprintf(want, sizeof(want), "%s: ", key);
    snprintf(cmd, sizeof(cmd),
             "env -u KTSTR_VM -u KTSTR_TOPOLOGY -u KTSTR_SCHED_FAULT KTSTR_KERNEL='%s' %s%s%s "
             "build/tests/progs/vm_cases --filter %s 2>/dev/null",
             kernel, sched ? "KTSTR_SCHEDULER='" : "", sched ? sched : "", sched ? "'" : "",
             scenario);
    fp = popen(cmd, "r");
    if (!fp)
        return x;
    while (fgets(line, sizeof(line), fp)) {
        char *at = strstr(line, want);

        if (at && x == -1e9)
            x = strtod(at + strlen(want), NULL);
    }
    pclose(fp);
    return x;
}

/* The median of REPS points, or -1e9 when one of them had no figure. */
static double median_of(const char *kernel, const char *sched, const char *scenario,
                        const char *key)
{
    double v[REPS];

    for (int i = 0; i < REPS; i++) {
        v[i] = yaml_number(kernel, sched, scenario, key);
        if (v[i] == -1e9) {
            fprintf(stderr, "scx bench: %s under %s gave no %s\n", scenario,
                    sched ? sched : "its own scheduler", key);
            return -1e9;
        }
    }
    return bench_median(v, REPS);
}

int main(void)
{
    const char *kernel = getenv("KTSTR_KERNEL") ? getenv("KTSTR_KERNEL")
                         : access("build/kernel/vmlinux", R_OK) == 0 ? "build/kernel/vmlinux"
                                                                     : "build/kernel/bzImage";
    double fifo, simple = -1e9, detect;
    bool have_simple = access("build/scx/scx_simple", X_OK) == 0;

    if (access(kernel, R_OK) < 0 || system("command -v qemu-system-x86_64 >/dev/null") != 0) {
        printf("# scx bench skipped: needs %s (make kernel) and qemu-system-x86_64\n", kernel);
        return 0;
    }
    fifo = median_of(kernel, NULL, "vm_sched_fifo", "attach_ms");
    if (have_simple)
        simple = median_of(kernel, "build/scx/scx_simple", "vm_pass", "attach_ms");
    else
        printf("# scx bench: no build/scx/scx_simple (make scx): its attach time is not measured\n");
    detect = median_of(kernel, NULL, "vm_sched_stall", "detect_ms");
    printf("# scx bench: kernel %s, %d VM points each\n", kernel, REPS);
    if (fifo == -1e9 || detect == -1e9 || (have_simple && simple == -1e9))
        return 1;
    printf("bench: scx.attach_ms.builtin_fifo %.0f ms\n", fifo);
    if (simple != -1e9)
        printf("bench: scx.attach_ms.scx_simple %.0f ms\n", simple);
    printf("bench: scx.eject_detect_ms %.0f ms\n", detect);
    return 0;
}
