/* vCPU thread discovery by thread name, and the public face of the
 * /proc/<pid>/stat parser (lib/base/pidstat.c). */
#include "ktstr/discover.h"

#include "base/file.h"
#include "base/pidstat.h"
#include "base/vec.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

int kt_thread_last_cpu(int tid)
{
    char path[64], buf[4096];
    kt_proc_stat st;
    ssize_t n;

    snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", tid, tid);
    n = kt__read_file_buf(path, buf, sizeof(buf), NULL);
    if (n <= 0 || kt_proc_stat_parse(buf, (size_t)n, &st, NULL) < 0)
        return -1;
    return st.processor;
}

int kt_proc_stat_parse(const char *buf, size_t n, kt_proc_stat *out,
                       kt_err *err)
{
    kt__pidstat st;

    if (kt__pidstat_parse(buf, n, &st, err) < 0)
        return -1;
    memset(out, 0, sizeof(*out));
    out->pid = st.pid;
    memcpy(out->comm, st.comm, sizeof(out->comm));
    out->state = st.state;
    out->utime_ticks = st.utime_ticks;
    out->stime_ticks = st.stime_ticks;
    out->num_threads = st.num_threads;
    out->processor = st.processor;
    return 0;
}

static int by_index(const void *a, const void *b)
{
    const kt_vcpu_thread *x = a, *y = b;

    return (x->index > y->index) - (x->index < y->index);
}

/* A comm or stat file of a thread is far below this; more is not one. */
#define TASK_FILE_MAX 4096

int kt_discover_vcpus(int pid, kt_vcpu_thread *out, int cap, kt_err *err)
{
    char path[64], what[48];
    kt__vec found = KT__VEC_INIT(kt_vcpu_thread), text = KT__VEC_INIT(char);
    kt_vcpu_thread *v;
    struct dirent *de;
    DIR *dir;
    int ret = -1;

    snprintf(path, sizeof(path), "/proc/%d/task", pid);
    snprintf(what, sizeof(what), "vCPU discovery (pid %d)", pid);
    dir = opendir(path);
    if (!dir)
        return kt_err_sys(err, errno, "vCPU discovery (pid %d): opendir %s", pid, path);
    while ((errno = 0, de = readdir(dir)) != NULL) {
        kt_vcpu_thread t;
        kt__pidstat st;
        char *buf;

        if (de->d_name[0] < '0' || de->d_name[0] > '9')
            continue;
        memset(&t, 0, sizeof(t));
        t.tid = atoi(de->d_name);
        /* a file that cannot be read: the thread exited while we listed,
         * so it is not a vCPU now */
        snprintf(path, sizeof(path), "/proc/%d/task/%d/comm", pid, t.tid);
        if (kt__read_file(path, TASK_FILE_MAX, &text, NULL) < 0 || text.n == 0)
            continue;
        buf = text.v;
        if (buf[text.n - 1] == '\n')
            buf[text.n - 1] = '\0';
        if (!kt_vcpu_comm_match(buf, &t.index, &t.flavour))
            continue;
        memcpy(t.comm, buf, strnlen(buf, sizeof(t.comm) - 1));
        snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", pid, t.tid);
        if (kt__read_file(path, TASK_FILE_MAX, &text, NULL) < 0 ||
            kt__pidstat_parse(text.v, text.n, &st, NULL) < 0 || st.state == 'Z' ||
            st.state == 'X')
            continue;
        if (kt__vec_push(&found, &t, err, what) < 0) {
            errno = 0;   /* err says it: not a readdir failure */
            goto out;
        }
    }
    if (errno) {
        kt_err_sys(err, errno, "vCPU discovery (pid %d): readdir", pid);
        goto out;
    }
    v = found.v;
    if (found.n)
        qsort(v, found.n, sizeof(*v), by_index);
    for (size_t i = 1; i < found.n; i++)
        if (v[i].index == v[i - 1].index) {
            kt_err_set(err, EINVAL,
                       "vCPU discovery (pid %d): threads %d and %d both claim vCPU %d",
                       pid, v[i - 1].tid, v[i].tid, v[i].index);
            goto out;
        }
    for (size_t i = 0; i < found.n && i < (size_t)(cap > 0 ? cap : 0); i++)
        out[i] = v[i];
    ret = (int)found.n;
out:
    closedir(dir);
    kt__vec_free(&found);
    kt__vec_free(&text);
    return ret;
}
