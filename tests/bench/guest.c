/* VM mode's costs under this machine's accelerator (TCG here), medians of
 * REPS runs, all in the same run so they compare:
 *   guest.initramfs_ms      building the guest image of a dynamic binary
 *   guest.boot_to_init_ms   QEMU's exec to the first line from /init, booted
 *                           as VM mode boots (machine, firmware, kernel
 *                           command line: README, VM mode, the boot)
 *   guest.bare_qemu_ms      QEMU's exec to its exit, /init powering off at once
 *   guest.point_ms          a whole VM point (vm_cases' vm_pass), runner
 *                           start to its TAP line
 *   guest.point_vs_bare_ratio  point over bare (goal <= 1.25)
 *   guest.default_boot_ms   QEMU's exec to /init with QEMU's defaults, as a
 *                           user's own script would boot: q35, its default
 *                           firmware, the bzImage, -nographic, no tuning
 *   guest.boot_ratio        boot_to_init over default_boot (goal <= 0.5)
 * The kernel is KTSTR_KERNEL, else build/kernel/vmlinux as make run-vm
 * boots it. This binary is its own trivial /init: as PID 1 it writes one line to
 * ttyS1 and powers off. Skips (prints a note, no figure) without a kernel
 * or QEMU. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "guest/guest.h"
#include "guest/image.h"
#include "guest/qemu.h"

#define REPS 5


/* The line goes to the wire (ttyS1, our boots) and to the console
 * (ttyS0, the default boot's only serial port, on QEMU's stdout). */
static void as_init(void)
{
    static const char *const ttys[] = { "/dev/ttyS1", "/dev/console" };

    mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
    for (size_t i = 0; i < sizeof(ttys) / sizeof(ttys[0]); i++) {
        int fd = open(ttys[i], O_WRONLY | O_NOCTTY);

        if (fd >= 0 && write(fd, "\nKTSTR-INIT\n", 13) == 13)
            tcdrain(fd);
        if (fd >= 0)
            close(fd);
    }
    reboot(RB_POWER_OFF);
    _exit(1);
}

/* One boot with QEMU's defaults: ms from exec to /init's line on the
 * console, or -1 (why on stderr: QEMU's status and its last output). */
static double default_boot(const char *bzimage, const char *image)
{
    char out[65536];
    size_t got = 0;
    double t0 = bench_now_ms(), t = -1;
    int p[2], st = 0;
    pid_t pid;

    if (pipe(p) < 0)
        return -1;
    pid = fork();
    if (pid == 0) {
        int null = open("/dev/null", O_RDWR);

        dup2(null, STDIN_FILENO);
        dup2(p[1], STDOUT_FILENO);
        dup2(p[1], STDERR_FILENO);
        execlp("qemu-system-x86_64", "qemu-system-x86_64", "-machine", "q35", "-accel", "tcg",
               "-nographic", "-kernel", bzimage, "-initrd", image, "-append",
               "console=ttyS0 rdinit=/init", (char *)NULL);
        _exit(127);
    }
    close(p[1]);
    if (pid < 0) {
        close(p[0]);
        return -1;
    }
    for (;;) {
        ssize_t n = read(p[0], out + got, sizeof(out) - 1 - got);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
        out[got] = '\0';
        if (t < 0 && strstr(out, "KTSTR-INIT"))
            t = bench_now_ms() - t0;
        if (got > sizeof(out) / 2) {   /* keep the tail, for the error */
            memmove(out, out + got - 1024, 1024);
            got = 1024;
        }
    }
    close(p[0]);
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    if (t < 0) {
        out[got] = '\0';
        fprintf(stderr, "guest bench: the default boot never reached /init (QEMU status %d); "
                "its last output:\n%s\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1,
                got > 600 ? out + got - 600 : out);
    }
    return t;
}

/* One bare boot, as VM mode boots (its machine and kernel command line):
 * *to_init and *total in ms, or -1 saying why (QEMU's exit status and the
 * console's last lines) on stderr. */
static int bare_boot(const char *kernel, const char *image, double *to_init, double *total)
{
    char console[] = "/tmp/ktstr-bench-console-XXXXXX";
    kt__qemu_cfg c = { 0 };
    kt__qemu_argv *a = malloc(sizeof(*a));
    kt_err err = { 0 };
    int sv[2], cfd = mkstemp(console), logfd = open("/dev/null", O_WRONLY), st = 0;
    double t0;
    pid_t pid;
    char buf[64];

    if (!a || cfd < 0 || logfd < 0 || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
        return -1;
    close(cfd);
    c = (kt__qemu_cfg){ .qemu = "qemu-system-x86_64", .kernel = kernel, .initrd = image,
                        .accel = "tcg",
                        .append = "console=ttyS0 quiet loglevel=4 panic=-1 " KT__QEMU_LEAN_CMDLINE
                                  " rdinit=/init",
                        .console_path = console, .wire_fd = sv[1], .name = "ktstr-bench",
                        .bios = access("/usr/share/qemu/qboot.rom", R_OK) == 0
                                ? "/usr/share/qemu/qboot.rom" : NULL };
    c.accel = kt__qemu_accel(NULL, NULL, 0, NULL);
    kt_topology_resolve(&c.topo);
    if (kt__qemu_argv_build(&c, a, &err) < 0)
        return -1;
    t0 = bench_now_ms();
    pid = kt__qemu_spawn(a, sv[1], logfd, &err);
    close(sv[1]);
    *to_init = -1;
    /* the wire carries only /init's line */
    if (pid > 0 && read(sv[0], buf, sizeof(buf)) > 0)
        *to_init = bench_now_ms() - t0;
    while (pid > 0 && waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    *total = bench_now_ms() - t0;
    close(sv[0]);
    close(logfd);
    if (pid <= 0 || *to_init <= 0) {
        char text[65536];
        int fd = open(console, O_RDONLY);
        ssize_t n = fd >= 0 ? read(fd, text, sizeof(text) - 1) : -1;

        text[n > 0 ? n : 0] = '\0';
        fprintf(stderr, "guest bench: a bare boot never reached /init (%s; QEMU status %d); "
                "its console's last lines:\n%s\n", pid <= 0 ? err.msg : "booted",
                WIFEXITED(st) ? WEXITSTATUS(st) : -1, n > 600 ? text + n - 600 : text);
        if (fd >= 0)
            close(fd);
    }
    unlink(console);
    free(a);
    return pid > 0 && *to_init > 0 ? 0 : -1;
}

/* One whole VM point through the runner: start to its "ok" line. */
static double point(const char *kernel)
{
    char cmd[512], line[512];
    double t0 = bench_now_ms(), t = -1;
    FILE *fp;

    snprintf(cmd, sizeof(cmd), "KTSTR_KERNEL='%s' build/tests/progs/vm_cases --filter vm_pass 2>/dev/null",
             kernel);
    fp = popen(cmd, "r");
    if (!fp)
        return -1;
    while (fgets(line, sizeof(line), fp))
        if (strncmp(line, "ok 1", 4) == 0 && t < 0)
            t = bench_now_ms() - t0;
    pclose(fp);
    return t;
}

int main(void)
{
    /* make run-vm's default: the vmlinux boots (PVH) without decompressing */
    const char *kernel = getenv("KTSTR_KERNEL") ? getenv("KTSTR_KERNEL")
                         : access("build/kernel/vmlinux", R_OK) == 0 ? "build/kernel/vmlinux"
                                                                     : "build/kernel/bzImage";
    char dir[] = "/tmp/ktstr-bench-image-XXXXXX", image[300];
    double build[REPS], init[REPS], bare[REPS], pt[REPS], dflt[REPS];
    const char *bz = getenv("KTSTR_BZIMAGE") ? getenv("KTSTR_BZIMAGE") : "build/kernel/bzImage";
    int dflt_ok = 0;
    kt_err err = { 0 };

    if (getpid() == 1)
        as_init();
    if (access(kernel, R_OK) < 0 || system("command -v qemu-system-x86_64 >/dev/null") != 0) {
        printf("# guest bench skipped: needs %s (make kernel) and qemu-system-x86_64\n", kernel);
        return 0;
    }
    if (!mkdtemp(dir))
        return 1;
    snprintf(image, sizeof(image), "%s/init.cpio", dir);
    for (int i = 0; i < REPS; i++) {
        double t0 = bench_now_ms();

        if (kt__image_build("/proc/self/exe", NULL, 0, image, &err) < 0) {
            fprintf(stderr, "guest bench: %s\n", err.msg);
            return 1;
        }
        build[i] = bench_now_ms() - t0;
    }
    for (int i = 0; i < REPS; i++)
        if (bare_boot(kernel, image, &init[i], &bare[i]) < 0) {
            unlink(image);
            rmdir(dir);
            return 1;   /* why is on stderr; make bench goes on */
        }
    for (int i = 0; i < REPS; i++)
        pt[i] = point(kernel);
    /* Interleaved would be fairer to drift; after keeps the figures above
     * as they were measured before this one existed. */
    for (int i = 0; access(bz, R_OK) == 0 && i < REPS; i++)
        if ((dflt[dflt_ok] = default_boot(bz, image)) > 0)
            dflt_ok++;
    unlink(image);
    rmdir(dir);
    printf("# guest bench: kernel %s, %d runs each\n", kernel, REPS);
    printf("bench: guest.initramfs_ms %.1f ms\n", bench_median(build, REPS));
    printf("bench: guest.boot_to_init_ms %.0f ms\n", bench_median(init, REPS));
    printf("bench: guest.bare_qemu_ms %.0f ms\n", bench_median(bare, REPS));
    double p = bench_median(pt, REPS), b = bench_median(bare, REPS);

    printf("bench: guest.point_ms %.0f ms\n", p);
    printf("bench: guest.point_vs_bare_ratio %.3f ratio\n", p / b);
    if (dflt_ok == REPS) {
        double d = bench_median(dflt, REPS);

        printf("bench: guest.default_boot_ms %.0f ms\n", d);
        printf("bench: guest.boot_ratio %.3f ratio\n", bench_median(init, REPS) / d);
    } else {
        printf("# guest.default_boot_ms: %s\n", access(bz, R_OK) != 0
               ? "needs the bzImage (make kernel)" : "a default boot failed (above)");
    }
    return 0;
}
