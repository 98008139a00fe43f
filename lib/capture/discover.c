/* vCPU thread discovery by thread name, and /proc stat parsing. */
#include "ktstr/discover.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* prefix <decimal index> suffix, matched against the whole comm */
static const struct {
    const char *prefix, *suffix;
    kt_vmm_flavour flavour;
    const char *name;
} patterns[] = {
    { "CPU ", "/KVM", KT_VMM_QEMU_KVM, "qemu-kvm" },
    { "CPU ", "/TCG", KT_VMM_QEMU_TCG, "qemu-tcg" },
    { "fc_vcpu ", "", KT_VMM_FIRECRACKER, "firecracker" },
    { "vcpu", "", KT_VMM_CLOUD_HYPERVISOR, "cloud-hypervisor" },
};
#define NPATTERNS (sizeof(patterns) / sizeof(patterns[0]))

const char *kt_vmm_flavour_name(kt_vmm_flavour flavour)
{
    for (size_t i = 0; i < NPATTERNS; i++)
        if (patterns[i].flavour == flavour)
            return patterns[i].name;
    return "?";
}

int kt_vcpu_comm_match(const char *comm, int *index, kt_vmm_flavour *flavour)
{
    for (size_t i = 0; i < NPATTERNS; i++) {
        size_t plen = strlen(patterns[i].prefix);
        const char *p = comm;
        long n = 0;

        if (strncmp(p, patterns[i].prefix, plen) != 0)
            continue;
        p += plen;
        if (*p < '0' || *p > '9')
            continue;
        while (*p >= '0' && *p <= '9' && n <= 1000000)
            n = n * 10 + (*p++ - '0');
        if (n > 1000000 || strcmp(p, patterns[i].suffix) != 0)
            continue;
        *index = (int)n;
        *flavour = patterns[i].flavour;
        return 1;
    }
    return 0;
}

int kt_proc_stat_parse(const char *buf, size_t n, kt_proc_stat *out,
                       kt_err *err)
{
    const char *open_paren = memchr(buf, '(', n), *close_paren = NULL, *p;
    char rest[1024];
    size_t clen, rlen;
    unsigned long long ut = 0, st = 0;
    int field = 3;

    for (size_t i = n; i > 0; i--)
        if (buf[i - 1] == ')') {
            close_paren = buf + i - 1;
            break;
        }
    if (!open_paren || !close_paren || close_paren < open_paren)
        return kt_err_set(err, EINVAL, "stat: no \"(comm)\" in \"%.*s\"",
                          (int)(n < 60 ? n : 60), buf);
    memset(out, 0, sizeof(*out));
    if (sscanf(buf, "%d", &out->pid) != 1)
        return kt_err_set(err, EINVAL, "stat: no pid before the comm");
    clen = (size_t)(close_paren - open_paren - 1);
    if (clen >= sizeof(out->comm))
        clen = sizeof(out->comm) - 1;
    memcpy(out->comm, open_paren + 1, clen);
    out->comm[clen] = '\0';
    rlen = n - (size_t)(close_paren + 1 - buf);
    if (rlen >= sizeof(rest))
        rlen = sizeof(rest) - 1;
    memcpy(rest, close_paren + 1, rlen);
    rest[rlen] = '\0';
    if (sscanf(rest, " %c", &out->state) != 1)
        return kt_err_set(err, EINVAL, "stat (pid %d): no state after the comm", out->pid);
    /* walk fields 4.. by position: 14 utime, 15 stime, 20 threads, 39 cpu */
    p = rest;
    while (*p == ' ')
        p++;
    while (*p && *p != ' ')
        p++;  /* past the state */
    while (field < 39) {
        char *end;
        long long v;

        field++;
        errno = 0;
        v = strtoll(p, &end, 10);  /* out of range clamps, defined (rsslim) */
        if (end == p || (*end != ' ' && *end != '\n' && *end != '\0'))
            return kt_err_set(err, EINVAL, "stat (pid %d): field %d missing or not a number",
                              out->pid, field);
        p = end;
        if (field == 14)
            ut = (unsigned long long)v;
        else if (field == 15)
            st = (unsigned long long)v;
        else if (field == 20)
            out->num_threads = (int)v;
        else if (field == 39)
            out->processor = (int)v;
    }
    out->utime_ticks = ut;
    out->stime_ticks = st;
    return 0;
}

/* Reads a small /proc file into buf (NUL-terminated); length or -1. */
static ssize_t slurp(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n;

    if (fd < 0)
        return -1;
    n = read(fd, buf, cap - 1);
    close(fd);
    if (n < 0)
        return -1;
    buf[n] = '\0';
    return n;
}

static int by_index(const void *a, const void *b)
{
    const kt_vcpu_thread *x = a, *y = b;

    return (x->index > y->index) - (x->index < y->index);
}

int kt_discover_vcpus(int pid, kt_vcpu_thread *out, int cap, kt_err *err)
{
    char path[64], buf[1024];
    kt_vcpu_thread *found = NULL;
    size_t nfound = 0, room = 0;
    struct dirent *de;
    DIR *dir;
    int ret;

    snprintf(path, sizeof(path), "/proc/%d/task", pid);
    dir = opendir(path);
    if (!dir)
        return kt_err_sys(err, errno, "vCPU discovery (pid %d): opendir %s", pid, path);
    while ((errno = 0, de = readdir(dir)) != NULL) {
        kt_vcpu_thread t;
        kt_proc_stat st;
        ssize_t n;

        if (de->d_name[0] < '0' || de->d_name[0] > '9')
            continue;
        memset(&t, 0, sizeof(t));
        t.tid = atoi(de->d_name);
        snprintf(path, sizeof(path), "/proc/%d/task/%d/comm", pid, t.tid);
        n = slurp(path, buf, sizeof(buf));
        if (n <= 0)
            continue;  /* the thread exited while we listed: not a vCPU now */
        if (buf[n - 1] == '\n')
            buf[n - 1] = '\0';
        if (!kt_vcpu_comm_match(buf, &t.index, &t.flavour))
            continue;
        memcpy(t.comm, buf, strnlen(buf, sizeof(t.comm) - 1));
        snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", pid, t.tid);
        n = slurp(path, buf, sizeof(buf));
        if (n <= 0 || kt_proc_stat_parse(buf, (size_t)n, &st, NULL) < 0 ||
            st.state == 'Z' || st.state == 'X')
            continue;
        if (nfound == room) {
            size_t nroom = room ? room * 2 : 16;
            kt_vcpu_thread *nf = realloc(found, nroom * sizeof(*nf));

            if (!nf) {
                free(found);
                closedir(dir);
                return kt_err_sys(err, ENOMEM, "vCPU discovery (pid %d)", pid);
            }
            found = nf;
            room = nroom;
        }
        found[nfound++] = t;
    }
    ret = errno;
    closedir(dir);
    if (ret) {
        free(found);
        return kt_err_sys(err, ret, "vCPU discovery (pid %d): readdir", pid);
    }
    if (nfound)
        qsort(found, nfound, sizeof(*found), by_index);
    for (size_t i = 1; i < nfound; i++)
        if (found[i].index == found[i - 1].index) {
            kt_err_set(err, EINVAL,
                       "vCPU discovery (pid %d): threads %d and %d both claim vCPU %d",
                       pid, found[i - 1].tid, found[i].tid, found[i].index);
            free(found);
            return -1;
        }
    for (size_t i = 0; i < nfound && i < (size_t)(cap > 0 ? cap : 0); i++)
        out[i] = found[i];
    free(found);
    return (int)nfound;
}
