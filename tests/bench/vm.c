/* The VM catalog's wall time with one guest per program (the default)
 * against one guest per point (KTSTR_VM_REUSE=0), in the same run:
 *   vm.run_vm_s           every build/scenarios/ program under KTSTR_VM=1,
 *                         one after the other (make run-vm)
 *   vm.run_vm_noreuse_s   the same with KTSTR_VM_REUSE=0
 *   vm.reuse_ratio        the first over the second (goal <= 0.5)
 *   vm.points_per_boot    points run in a guest over the guests booted
 * The kernel is KTSTR_KERNEL, else build/kernel/vmlinux as make run-vm boots
 * it. A point not ok is said on stderr and fails the bench (a figure over
 * failed points would mean nothing); no kernel or QEMU is a note. */
#include <glob.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

typedef struct catalog_run {
    double wall_s;
    unsigned points, boots, not_ok;
} catalog_run;

/* Runs every program once with reuse on or off, reading its TAP: each
 * point's vm: boot says which boot of that program it ran in. */
static int run_catalog(const char *kernel, bool reuse, catalog_run *out)
{
    glob_t g;
    double t0 = bench_now_ms();

    memset(out, 0, sizeof(*out));
    if (glob("build/scenarios/*.t", 0, NULL, &g) != 0)
        return -1;
    for (size_t i = 0; i < g.gl_pathc; i++) {
        char cmd[1024], line[4096];
        unsigned boots = 0;
        FILE *fp;

        snprintf(cmd, sizeof(cmd), "KTSTR_VM=1 KTSTR_VM_REUSE=%d KTSTR_KERNEL='%s' %s 2>/dev/null",
                 reuse ? 1 : 0, kernel, g.gl_pathv[i]);
        fp = popen(cmd, "r");
        if (!fp) {
            globfree(&g);
            return -1;
        }
        while (fgets(line, sizeof(line), fp)) {
            unsigned b;

            if (strncmp(line, "not ok ", 7) == 0) {
                out->not_ok++;
                fprintf(stderr, "vm bench: %s: %s", g.gl_pathv[i], line);
            }
            if (strncmp(line, "ok ", 3) == 0 || strncmp(line, "not ok ", 7) == 0)
                out->points++;
            if (sscanf(line, " boot: %u", &b) == 1 && b > boots)
                boots = b;
        }
        pclose(fp);
        out->boots += boots;
    }
    globfree(&g);
    out->wall_s = (bench_now_ms() - t0) / 1000.0;
    return 0;
}

int main(void)
{
    const char *kernel = getenv("KTSTR_KERNEL") ? getenv("KTSTR_KERNEL")
                         : access("build/kernel/vmlinux", R_OK) == 0 ? "build/kernel/vmlinux"
                                                                     : "build/kernel/bzImage";
    catalog_run on, off;

    if (access(kernel, R_OK) < 0 || system("command -v qemu-system-x86_64 >/dev/null") != 0) {
        printf("# vm bench skipped: needs %s (make kernel) and qemu-system-x86_64\n", kernel);
        return 0;
    }
    /* without reuse first: a first run also builds the guest images */
    if (run_catalog(kernel, false, &off) < 0 || run_catalog(kernel, true, &on) < 0) {
        fprintf(stderr, "vm bench: cannot run build/scenarios/*.t (make all first)\n");
        return 1;
    }
    printf("# vm bench: kernel %s; %u points, %u guests with reuse, %u without\n", kernel,
           on.points, on.boots, off.boots);
    if (on.not_ok || off.not_ok) {
        fprintf(stderr, "vm bench: %u points not ok with reuse, %u without (above)\n",
                on.not_ok, off.not_ok);
        return 1;
    }
    printf("bench: vm.run_vm_s %.1f s\n", on.wall_s);
    printf("bench: vm.run_vm_noreuse_s %.1f s\n", off.wall_s);
    printf("bench: vm.reuse_ratio %.3f ratio\n", on.wall_s / off.wall_s);
    printf("bench: vm.points_per_boot %.2f points\n",
           on.boots ? (double)on.points / on.boots : 0.0);
    return 0;
}
