/* Scratch cgroups left by a dead creator: told apart by the pid and start
 * time in their names, removed when empty, left (with a note) when not.
 * See "Leftovers" in include/ktstr/cgroup.h. */
#include "ktstr/cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/vec.h"

#define STAT_MAX 4096            /* a /proc/<pid>/stat line is ~300 bytes */
#define SWEEP_TRIES 20           /* x 10 ms: tasks of a killed group may still be exiting */
#define SWEEP_DEPTH 32           /* nesting levels below a stale group looked into */

/* ---- pure functions ------------------------------------------------------ */

/* Reads the digits at *p as a number and moves past them and the '-' after
 * them; false when there are none, no '-' follows, or it overflows. */
static bool number_dash(const char **p, unsigned long long *out)
{
    const char *s = *p;
    unsigned long long v = 0;

    if (*s < '0' || *s > '9')
        return false;
    for (; *s >= '0' && *s <= '9'; s++) {
        if (v > (ULLONG_MAX - (unsigned)(*s - '0')) / 10)
            return false;
        v = v * 10 + (unsigned)(*s - '0');
    }
    if (*s != '-')
        return false;
    *p = s + 1;
    *out = v;
    return true;
}

int kt_cg_parse_name(const char *leaf, long *pid, unsigned long long *start)
{
    const char *p = leaf;
    unsigned long long id, st, n;

    if (!leaf || strncmp(leaf, "ktstr-", 6))
        return -1;
    p += 6;
    if (!number_dash(&p, &id) || !number_dash(&p, &st) || !number_dash(&p, &n) || !*p ||
        id == 0 || id > LONG_MAX)
        return -1;
    *pid = (long)id;
    *start = st;
    return 0;
}

int kt_cg_parse_stat_start(const char *text, unsigned long long *start)
{
    const char *p = text ? strrchr(text, ')') : NULL;
    char *end;

    if (!p)
        return -1;
    p++;
    /* Fields 3 (state) .. 21 come before the start time. */
    for (int field = 3; field <= 22; field++) {
        while (*p == ' ')
            p++;
        if (!*p)
            return -1;
        if (field == 22)
            break;
        p += strcspn(p, " ");
    }
    if (*p < '0' || *p > '9')
        return -1;
    errno = 0;
    *start = strtoull(p, &end, 10);
    if (errno || (*end != ' ' && *end != '\n' && *end != '\0'))
        return -1;
    return 0;
}

/* ---- on this machine ----------------------------------------------------- */

int kt_cg_proc_start(long pid, unsigned long long *start, kt_err *err)
{
    char path[64], buf[STAT_MAX];
    size_t len = 0;
    ssize_t n;
    int fd, e = 0;

    snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return kt_err_sys(err, errno, "cgroup sweep: open %s", path);
    while (len < sizeof(buf) - 1) {
        n = read(fd, buf + len, sizeof(buf) - 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            e = errno;
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    if (e)
        return kt_err_sys(err, e, "cgroup sweep: read %s", path);
    buf[len] = '\0';
    if (kt_cg_parse_stat_start(buf, start))
        return kt_err_set(err, EINVAL, "cgroup sweep: %s: no start time (field 22) in \"%.60s\"",
                          path, buf);
    return 0;
}

/* Why the creator of a group named (pid, start) counts as gone: NULL while
 * it lives, and also when that cannot be told (never touch what may be
 * someone's). */
static const char *owner_gone(long pid, unsigned long long start)
{
    unsigned long long now;
    kt_err e;

    if (kt_cg_proc_start(pid, &now, &e) == 0)
        return now == start ? NULL : "gone, its pid reused";
    return e.code == ENOENT || e.code == ESRCH ? "gone" : NULL;
}

static void note(const kt_cg_hooks *hooks, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void note(const kt_cg_hooks *hooks, const char *fmt, ...)
{
    char msg[PATH_MAX + 160];
    va_list ap;

    if (!hooks || !hooks->note)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    hooks->note(hooks->note_arg, msg);
}

/* Tasks listed in dir/procs: a count, or -1 with errno (ENOENT: gone). */
static int count_tasks(const char *dir, const char *procs)
{
    char path[PATH_MAX], line[32];
    FILE *f;
    int n = 0;

    if (snprintf(path, sizeof(path), "%s/%s", dir, procs) >= (int)sizeof(path)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    f = fopen(path, "re");
    if (!f)
        return -1;
    while (fgets(line, sizeof(line), f))
        if (line[0] != '\n')
            n++;
    fclose(f);
    return n;
}

/* The names of the directories in dir (its child groups), each followed
 * by a NUL, into names; -1 with errno when dir cannot be read (ENOENT:
 * gone meanwhile) or memory runs out. */
static int child_names(const char *dir, kt__vec *names)
{
    struct dirent *d;
    DIR *dp = opendir(dir);
    int rc = 0, e = 0;

    if (!dp)
        return -1;
    errno = 0;
    while ((d = readdir(dp))) {
        struct stat st;

        if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, ".."))
            continue;
        if (d->d_type == DT_DIR ||
            (d->d_type == DT_UNKNOWN && fstatat(dirfd(dp), d->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
             S_ISDIR(st.st_mode))) {
            if (kt__vec_append(names, d->d_name, strlen(d->d_name) + 1, NULL, "cgroup sweep") < 0) {
                rc = -1;
                e = ENOMEM;
                break;
            }
        }
        errno = 0;
    }
    if (rc == 0 && errno) {
        rc = -1;
        e = errno;
    }
    closedir(dp);
    errno = e;
    return rc;
}

static int sweep_one(const char *dir, const char *procs, long pid, const char *why,
                     const kt_cg_hooks *hooks, int depth, bool *left);

/* Sweeps the child groups of the stale group dir, deepest first (down
 * to SWEEP_DEPTH levels): how many directories went; *left is set when
 * one stayed (noted). */
static int sweep_children(const char *dir, const char *procs, long pid, const char *why,
                          const kt_cg_hooks *hooks, int depth, bool *left)
{
    kt__vec names = KT__VEC_INIT(char);
    int removed = 0;

    *left = false;
    if (depth >= SWEEP_DEPTH)
        return 0;              /* not looked into: its rmdir says EBUSY if it has any */
    if (child_names(dir, &names)) {
        int e = errno;

        kt__vec_free(&names);
        if (e == ENOENT)
            return 0;          /* gone meanwhile: nothing to do */
        note(hooks, "stale cgroup %s (creator pid %ld %s) left: reading it: %s", dir, pid, why,
             strerror(e));
        *left = true;
        return 0;
    }
    for (size_t off = 0; off < names.n;) {
        const char *leaf = (const char *)names.v + off;
        char child[PATH_MAX];
        bool stayed = false;

        off += strlen(leaf) + 1;
        if (snprintf(child, sizeof(child), "%s/%s", dir, leaf) >= (int)sizeof(child)) {
            *left = true;
            continue;
        }
        removed += sweep_one(child, procs, pid, why, hooks, depth + 1, &stayed);
        if (stayed)
            *left = true;
    }
    kt__vec_free(&names);
    return removed;
}

/* Removes one stale group, its children first, unless one of them or it
 * keeps tasks after SWEEP_TRIES looks (tasks of a killed scenario may
 * take a moment to exit). Returns how many directories went, the
 * children's and its own; *left is set when it stayed (noted; a group
 * gone meanwhile needs no note). */
static int sweep_one(const char *dir, const char *procs, long pid, const char *why,
                     const kt_cg_hooks *hooks, int depth, bool *left)
{
    struct timespec ten_ms = { 0, 10 * 1000 * 1000 };
    int tasks = 0, e = 0, removed;
    bool child_left;

    *left = false;
    removed = sweep_children(dir, procs, pid, why, hooks, depth, &child_left);
    if (child_left) {
        note(hooks, "stale cgroup %s (creator pid %ld %s) left: a child group stayed", dir, pid,
             why);
        *left = true;
        return removed;
    }
    for (int i = 0; i < SWEEP_TRIES; i++) {
        if (i)
            nanosleep(&ten_ms, NULL);
        tasks = count_tasks(dir, procs);
        if (tasks < 0) {
            e = errno;
            break;
        }
        if (tasks > 0)
            continue;
        if (rmdir(dir) == 0) {
            note(hooks, "removed stale cgroup %s (creator pid %ld %s)", dir, pid, why);
            return removed + 1;
        }
        e = errno;
        if (e != EBUSY)
            break;
    }
    if (e == ENOENT)
        return removed;        /* another sweep or the creator's runner was first */
    if (tasks > 0)
        note(hooks, "stale cgroup %s (creator pid %ld %s) left: %d task%s still in it", dir,
             pid, why, tasks, tasks == 1 ? "" : "s");
    else
        note(hooks, "stale cgroup %s (creator pid %ld %s) left: %s: %s", dir, pid, why,
             tasks < 0 ? procs : "rmdir", strerror(e));
    *left = true;
    return removed;
}

/* The stale groups under root: their names are collected first, so that no
 * directory is removed while the root is being read. */
static int sweep_root(const char *root, const char *procs, const kt_cg_hooks *hooks,
                      kt_err *err)
{
    kt__vec names = KT__VEC_INIT(char);
    struct dirent *d;
    DIR *dp = opendir(root);
    int removed = 0, rc = 0;

    if (!dp)
        return kt_err_sys(err, errno, "cgroup sweep: opendir %s", root);
    errno = 0;
    while ((d = readdir(dp))) {
        unsigned long long start;
        long pid;

        if ((d->d_type == DT_DIR || d->d_type == DT_UNKNOWN) &&
            kt_cg_parse_name(d->d_name, &pid, &start) == 0 && owner_gone(pid, start) &&
            kt__vec_append(&names, d->d_name, strlen(d->d_name) + 1, err, "cgroup sweep") < 0) {
            rc = -1;
            break;
        }
        errno = 0;
    }
    if (rc == 0 && errno)
        rc = kt_err_sys(err, errno, "cgroup sweep: readdir %s", root);
    closedir(dp);
    for (size_t off = 0; rc == 0 && off < names.n;) {
        const char *leaf = (const char *)names.v + off;
        char dir[PATH_MAX];
        unsigned long long start;
        long pid;
        const char *why;

        off += strlen(leaf) + 1;
        kt_cg_parse_name(leaf, &pid, &start);
        why = owner_gone(pid, start);  /* asked again: it was read a while ago */
        if (!why || snprintf(dir, sizeof(dir), "%s/%s", root, leaf) >= (int)sizeof(dir))
            continue;
        {
            bool left;

            removed += sweep_one(dir, procs, pid, why, hooks, 0, &left);
        }
    }
    kt__vec_free(&names);
    return rc ? -1 : removed;
}

int kt_cg_sweep(const kt_cg_layout *lay, const kt_cg_hooks *hooks, kt_err *err)
{
    const char *procs;
    int n, removed;

    if (!lay || (lay->version != KT_CG_V1 && lay->version != KT_CG_V2))
        return kt_err_set(err, EINVAL, "kt_cg_sweep: no cgroup layout");
    procs = kt_cg_file(lay->version, KT_CG_PROCS);
    removed = sweep_root(lay->cpu_root, procs, hooks, err);
    if (removed < 0 || !strcmp(lay->cpuset_root, lay->cpu_root))
        return removed;
    n = sweep_root(lay->cpuset_root, procs, hooks, err);
    return n < 0 ? -1 : removed + n;
}
