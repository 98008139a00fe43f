/* What a VM point boots: its kernel, QEMU, image, topology and kernel
 * command line, found in the runner before the point's child starts, and
 * the key by which a guest already booted can run it. Nothing here boots;
 * a point that cannot boot carries why (a skip or an error) for its child
 * to report. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "guest/image.h"
#include "runner/sched.h"
#include "runner/vm.h"

/* Where a scenario's guest kernel comes from, or why there is none. */
static const char *find_kernel(const char *given, char *buf, size_t n, kt_err *why)
{
    struct utsname u;

    if (given)
        return given;
    if (uname(&u) < 0)
        return kt_err_sys(why, errno, "uname"), NULL;
    snprintf(buf, n, "/boot/vmlinuz-%s", u.release);
    if (access(buf, R_OK) == 0)
        return buf;
    kt_err_set(why, ENOENT,
               "VM mode needs a guest kernel: %s is not readable; run `make kernel` "
               "and set KTSTR_KERNEL=build/kernel/bzImage (or --kernel)", buf);
    return NULL;
}

/* The QEMU program: given, or qemu-system-x86_64 found on PATH. */
static const char *find_qemu(const char *given, char *buf, size_t n, kt_err *why)
{
    const char *path = getenv("PATH");
    const char *name = given ? given : "qemu-system-x86_64";

    if (strchr(name, '/'))
        return name;
    for (const char *p = path ? path : "/usr/bin:/bin"; *p;) {
        size_t len = strcspn(p, ":");

        snprintf(buf, n, "%.*s/%s", (int)len, p, name);
        if (len && access(buf, X_OK) == 0)
            return buf;
        p += len + (p[len] == ':');
    }
    kt_err_set(why, ENOENT,
               "VM mode needs QEMU: %s is not on PATH (apt-get install qemu-system-x86, "
               "or set KTSTR_QEMU)", name);
    return NULL;
}

/* Where the first word of a spec (a program path, maybe quoted) ends. */
static const char *first_word_end(const char *p)
{
    char q = 0;

    while (*p == ' ' || *p == '\t')
        p++;
    for (; *p && (q || (*p != ' ' && *p != '\t')); p++) {
        if (!q && (*p == '\'' || *p == '"'))
            q = *p;
        else if (q && *p == q)
            q = 0;
        else if (*p == '\\' && p[1])
            p++;
    }
    return p;
}

/* A program (a scheduler, KTSTR_GUEST_FAULT's) goes into the image as
 * <dir>/<name> with its libraries; the guest's spec names it there, its
 * arguments unchanged. prog and guest get the two paths (PATH_MAX),
 * gspec (1500 bytes) the spec. A builtin: scheduler is only copied. */
static int prog_for_guest(const char *spec, const char *dir, char *prog, char *guest,
                          char *gspec, kt_err *err)
{
    char buf[1024], *argv[64];
    const char *base;

    if (strncmp(spec, "builtin:", 8) == 0) {
        snprintf(gspec, 1500, "%s", spec);
        prog[0] = '\0';
        return 0;
    }
    if (kt__sched_argv(spec, buf, sizeof(buf), argv, 64, err) < 0)
        return -1;
    if (access(argv[0], X_OK) < 0)
        return kt_err_sys(err, errno, "program '%s'", argv[0]);
    base = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
    snprintf(prog, PATH_MAX, "%s", argv[0]);
    snprintf(guest, PATH_MAX, "%s/%.200s", dir, base);
    snprintf(gspec, 1500, "%.400s%.1000s", guest, first_word_end(spec));
    return 0;
}

/* Per field: the scenario's .vm, else the run's --topology, else the
 * default; so .vm = { .memory_mb = 512 } keeps the run's shape. */
static kt_topology point_topology(const kt_topology *own, const kt_topology *run)
{
    kt_topology t = *own;

    if (!t.numa_nodes)
        t.numa_nodes = run->numa_nodes;
    if (!t.llcs)
        t.llcs = run->llcs;
    if (!t.cores)
        t.cores = run->cores;
    if (!t.threads)
        t.threads = run->threads;
    if (!t.memory_mb)
        t.memory_mb = run->memory_mb;
    kt_topology_resolve(&t);
    return t;
}

bool kt__vm_wanted(const kt_scenario *s, const kt__vm_cfg *cfg)
{
    return cfg->all || kt_topology_is_set(&s->opts.vm);
}

/* The guest's part of the kernel command line: what every point run in
 * it shares (each point's own settings travel on the RUN line). */
static int make_append(kt__vm_plan *p)
{
    char topo[64];
    int len;

    kt_topology_name(&p->t, topo, sizeof(topo));
    len = snprintf(p->append, sizeof(p->append),
                   "console=ttyS0 quiet loglevel=4 panic=-1 oops=panic mitigations=off "
                   KT__QEMU_LEAN_CMDLINE " rdinit=/init KTSTR_GUEST=1 KTSTR_GUEST_TOPOLOGY=%s%um", topo,
                   p->t.memory_mb);
    return len > 0 && (size_t)len < sizeof(p->append) ? 0 : -1;
}

void kt__vm_plan_make(kt__vm_plan *p, const kt_scenario *s, kt_ctx *ctx, const kt__vm_cfg *cfg)
{
    const char *spec = cfg->scheduler ? cfg->scheduler : s->opts.scheduler;
    const char *kernel, *qemu;
    kt__image_file extra[2];
    size_t nextra = 0;
    kt_err err = { 0 };
    char topo[64];

    memset(p, 0, sizeof(*p));
    p->t = point_topology(&s->opts.vm, &cfg->topology);
    ctx->topology = p->t;
    if (kt_topology_check(&p->t, &err) < 0) {
        snprintf(p->error, sizeof(p->error), "%s", err.msg);
        return;
    }
    kernel = find_kernel(cfg->kernel, p->kbuf, sizeof(p->kbuf), &err);
    qemu = kernel ? find_qemu(cfg->qemu, p->qbuf, sizeof(p->qbuf), &err) : NULL;
    if (!kernel || !qemu) {
        snprintf(p->skip, sizeof(p->skip), "%s", err.msg);
        return;
    }
    if ((spec && prog_for_guest(spec, "/scx", p->sprog, p->sguest, p->gspec, &err) < 0) ||
        (cfg->guest_fault &&
         prog_for_guest(cfg->guest_fault, "/fault", p->fprog, p->fguest, p->gfault, &err) < 0)) {
        snprintf(p->error, sizeof(p->error), "%s", err.msg);
        return;
    }
    if (spec && p->sprog[0])
        extra[nextra++] = (kt__image_file){ .guest = p->sguest, .host = p->sprog, .libs = true };
    if (p->fprog[0])
        extra[nextra++] = (kt__image_file){ .guest = p->fguest, .host = p->fprog, .libs = true };
    p->accel = kt__qemu_accel(cfg->accel, p->note, sizeof(p->note), &err);
    if (!p->accel || kt__image_cached("/proc/self/exe", extra, nextra,
                                      cfg->cache_dir, p->image, sizeof(p->image), &err) < 0) {
        snprintf(p->error, sizeof(p->error), "%s", err.msg);
        return;
    }
    if (make_append(p) < 0) {
        snprintf(p->error, sizeof(p->error), "VM mode: the kernel command line is too long");
        return;
    }
    p->qc = (kt__qemu_cfg){ .qemu = qemu, .kernel = kernel, .initrd = p->image,
                            .accel = p->accel, .append = p->append, .wire_fd = -1,
                            .name = program_invocation_short_name, .topo = p->t,
                            .bios = access("/usr/share/qemu/qboot.rom", R_OK) == 0
                                    ? "/usr/share/qemu/qboot.rom" : NULL };
    /* Everything QEMU's command line is made of, so that equal keys boot
     * equal guests. */
    kt_topology_name(&p->t, topo, sizeof(topo));
    snprintf(p->key, sizeof(p->key), "%s|%s|%s|%s|%s|%s|%u|%s", qemu, kernel, p->image,
             p->accel, p->append, topo, p->t.memory_mb, p->qc.bios ? p->qc.bios : "");
}
