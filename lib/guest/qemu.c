/* QEMU's command line from a topology, and which accelerator can boot. */
#include "guest/qemu.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int add(kt__qemu_argv *a, kt_err *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int add(kt__qemu_argv *a, kt_err *err, const char *fmt, ...)
{
    size_t room = sizeof(a->bytes) - a->used;
    va_list ap;
    int n;

    if (a->argc >= KT__QEMU_MAX_ARGS)
        return kt_err_set(err, E2BIG, "QEMU command line: more than %d arguments",
                          KT__QEMU_MAX_ARGS);
    va_start(ap, fmt);
    n = vsnprintf(a->bytes + a->used, room, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= room)
        return kt_err_set(err, E2BIG, "QEMU command line: longer than %d bytes",
                          KT__QEMU_ARG_BYTES);
    a->argv[a->argc++] = a->bytes + a->used;
    a->argv[a->argc] = NULL;
    a->used += (size_t)n + 1;
    return 0;
}

/* -object/-numa pairs: node i holds llcs/nodes sockets, in QEMU's CPU
 * order (socket, then core, then thread), and an equal share of memory. */
static int add_numa(kt__qemu_argv *a, const kt_topology *t, kt_err *err)
{
    unsigned per_node = kt_topology_vcpus(t) / t->numa_nodes;

    for (unsigned i = 0; i < t->numa_nodes; i++) {
        unsigned first = i * per_node, last = first + per_node - 1;

        if (add(a, err, "-object") < 0 ||
            add(a, err, "memory-backend-ram,id=mem%u,size=%uM", i,
                t->memory_mb / t->numa_nodes) < 0 ||
            add(a, err, "-numa") < 0)
            return -1;
        if (first == last ? add(a, err, "node,nodeid=%u,cpus=%u,memdev=mem%u", i, first, i)
                          : add(a, err, "node,nodeid=%u,cpus=%u-%u,memdev=mem%u", i, first,
                                last, i))
            return -1;
    }
    return 0;
}

int kt__qemu_argv_build(const kt__qemu_cfg *c, kt__qemu_argv *a, kt_err *err)
{
    const kt_topology *t = &c->topo;
    bool kvm = strcmp(c->accel, "kvm") == 0;

    memset(a, 0, sizeof(*a));
    if (add(a, err, "%s", c->qemu) < 0 ||
        add(a, err, "-name") < 0 || add(a, err, "%s,debug-threads=on", c->name) < 0 ||
        /* no SMBus, SATA or USB controller: nothing a scenario uses, and
         * each one probed at boot (README: VM mode, the boot) */
        add(a, err, "-machine") < 0 || add(a, err, "q35,smbus=off,sata=off,usb=off") < 0 ||
        add(a, err, "-accel") < 0 || add(a, err, kvm ? "kvm" : "tcg,thread=multi") < 0 ||
        add(a, err, "-cpu") < 0 || add(a, err, kvm ? "host" : "max") < 0 ||
        add(a, err, "-m") < 0 || add(a, err, "%u", t->memory_mb) < 0 ||
        add(a, err, "-smp") < 0 ||
        add(a, err, "cpus=%u,sockets=%u,cores=%u,threads=%u", kt_topology_vcpus(t),
            t->llcs, t->cores, t->threads) < 0)
        return -1;
    if (t->numa_nodes > 1 && add_numa(a, t, err) < 0)
        return -1;
    if (c->bios && (add(a, err, "-bios") < 0 || add(a, err, "%s", c->bios) < 0))
        return -1;
    if (add(a, err, "-nodefaults") < 0 || add(a, err, "-no-user-config") < 0 ||
        add(a, err, "-display") < 0 || add(a, err, "none") < 0 ||
        add(a, err, "-nic") < 0 || add(a, err, "none") < 0 ||
        add(a, err, "-no-reboot") < 0 ||
        add(a, err, "-chardev") < 0 ||
        add(a, err, "file,id=console,path=%s", c->console_path) < 0 ||
        add(a, err, "-serial") < 0 || add(a, err, "chardev:console") < 0 ||
        add(a, err, "-chardev") < 0 ||
        add(a, err, "socket,id=wire,fd=%d", c->wire_fd) < 0 ||
        add(a, err, "-serial") < 0 || add(a, err, "chardev:wire") < 0 ||
        add(a, err, "-kernel") < 0 || add(a, err, "%s", c->kernel) < 0 ||
        add(a, err, "-initrd") < 0 || add(a, err, "%s", c->initrd) < 0 ||
        add(a, err, "-append") < 0 || add(a, err, "%s", c->append) < 0)
        return -1;
    return 0;
}

/* True when /proc/cpuinfo's flags name hardware virtualisation. */
static bool cpu_has_hw_virt(void)
{
    char line[8192];
    bool found = false;
    FILE *fp = fopen("/proc/cpuinfo", "re");

    if (!fp)
        return false;
    while (!found && fgets(line, sizeof(line), fp))
        if (strncmp(line, "flags", 5) == 0)
            found = strstr(line, " vmx") || strstr(line, " svm");
    fclose(fp);
    return found;
}

const char *kt__qemu_accel(const char *want, char *why, size_t n, kt_err *err)
{
    int fd;

    if (why && n)
        why[0] = '\0';
    if (want && *want) {
        if (strcmp(want, "kvm") == 0 || strcmp(want, "tcg") == 0)
            return strcmp(want, "kvm") == 0 ? "kvm" : "tcg";
        kt_err_set(err, EINVAL, "KTSTR_ACCEL=%s: expected kvm or tcg", want);
        return NULL;
    }
    fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        if (why)
            snprintf(why, n, "accel tcg: /dev/kvm: %s", strerror(errno));
        return "tcg";
    }
    close(fd);
    if (!cpu_has_hw_virt()) {
        if (why)
            snprintf(why, n, "accel tcg: /dev/kvm opens but the CPU has no vmx or svm: "
                             "a software KVM backend cannot boot a stock kernel");
        return "tcg";
    }
    return "kvm";
}
