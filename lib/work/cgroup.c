/* Scratch cgroups on v1 or v2; see include/ktstr/cgroup.h for the
 * choices (where groups go, nested groups, bandwidth, thread
 * granularity, weights, cleanup).
 * cgroup_layout.c finds the hierarchies and names their files;
 * cgroup_sweep.c removes the groups of creators that died. */
#include "ktstr/cgroup.h"

#include "base/file.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_NAME_TRIES 1000
#define RMDIR_TRIES 100          /* x 10 ms: exiting tasks may linger a moment */

struct kt_cgroup {
    kt_cg_layout lay;
    char cpu_dir[PATH_MAX];      /* v2: the one directory */
    char cpuset_dir[PATH_MAX];   /* v2: same as cpu_dir */
    kt_cgroup *parent;           /* NULL: directly under the hierarchy roots */
    kt_cgroup *children;         /* the newest child first */
    kt_cgroup *sibling;          /* the next older child of parent */
    bool distributes;            /* v2: cgroup.subtree_control not empty: no tasks */
};

/* ---- files --------------------------------------------------------------- */

static int write_file(const char *dir, const char *file, const char *val, kt_err *err)
{
    char path[PATH_MAX];
    size_t len = strlen(val);
    ssize_t n;
    int fd, e;

    snprintf(path, sizeof(path), "%s/%s", dir, file);
    fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return kt_err_sys(err, errno, "cgroup: open %s", path);
    n = write(fd, val, len);
    e = errno;
    close(fd);
    if (n != (ssize_t)len)
        return kt_err_sys(err, n < 0 ? e : EIO, "cgroup: write \"%s\" to %s", val, path);
    return 0;
}

static int read_file(const char *dir, const char *file, char *buf, size_t cap, kt_err *err)
{
    char path[PATH_MAX];
    kt_err e;
    ssize_t n;

    if (cap == 0)
        return kt_err_set(err, EINVAL, "cgroup: read %s: no room", file);
    snprintf(path, sizeof(path), "%s/%s", dir, file);
    n = kt__read_file_buf(path, buf, cap, &e);
    if (n < 0)
        return kt_err_set(err, e.code, "cgroup: %s", e.msg);
    while (n > 0 && buf[n - 1] == '\n')
        buf[--n] = '\0';
    return 0;
}


/* ---- groups -------------------------------------------------------------- */

kt_cg_version kt_cgroup_version(const kt_cgroup *g)
{
    return g ? g->lay.version : KT_CG_NONE;
}

const char *kt_cgroup_path(const kt_cgroup *g, kt_cg_knob knob)
{
    if (!g)
        return NULL;
    return knob == KT_CG_CPUS || knob == KT_CG_MEMS ? g->cpuset_dir : g->cpu_dir;
}

static bool has_word(const char *list, const char *word)
{
    size_t wl = strlen(word);

    for (const char *p = list; (p = strstr(p, word)); p += wl)
        if ((p == list || p[-1] == ' ') && (p[wl] == ' ' || p[wl] == '\0' || p[wl] == '\n'))
            return true;
    return false;
}

/* v2: the root must offer cpu and cpuset and hand them to its children. */
static int v2_enable(const char *root, kt_err *err)
{
    static const char *const ctrl[] = { "cpu", "cpuset" };
    char have[512], on[512], plus[16];

    if (read_file(root, "cgroup.controllers", have, sizeof(have), err) ||
        read_file(root, "cgroup.subtree_control", on, sizeof(on), err))
        return -1;
    for (size_t i = 0; i < sizeof(ctrl) / sizeof(ctrl[0]); i++) {
        if (!has_word(have, ctrl[i]))
            return kt_err_set(err, ENOENT, "cgroup v2: controller %s not in %s/cgroup.controllers (\"%s\")",
                              ctrl[i], root, have);
        snprintf(plus, sizeof(plus), "+%s", ctrl[i]);
        if (!has_word(on, ctrl[i]) && write_file(root, "cgroup.subtree_control", plus, err))
            return -1;
    }
    return 0;
}

static int mkdir_named(char *dir, size_t cap, const char *root, const char *name, kt_err *err)
{
    int w = snprintf(dir, cap, "%s/%s", root, name);

    if (w < 0 || (size_t)w >= cap)
        return kt_err_set(err, ENAMETOOLONG, "cgroup: path %s/%s too long", root, name);
    if (mkdir(dir, 0755))
        return -1;             /* errno kept for the caller: EEXIST means try the next n */
    return 0;
}

/* v1 cpuset groups start with empty cpus and mems, which refuse tasks:
 * give them those of from (the root, or the parent's directory). */
static int v1_cpuset_init(kt_cgroup *g, const char *from, kt_err *err)
{
    static const kt_cg_knob knobs[] = { KT_CG_CPUS, KT_CG_MEMS };
    char val[1024];

    for (size_t i = 0; i < sizeof(knobs) / sizeof(knobs[0]); i++) {
        const char *f = kt_cg_file(KT_CG_V1, knobs[i]);

        if (read_file(from, f, val, sizeof(val), err) ||
            write_file(g->cpuset_dir, f, val, err))
            return -1;
    }
    return 0;
}

/* Creates the directories under the first free n. */
static int make_dirs(kt_cgroup *g, const char *name, kt_err *err)
{
    char leaf[NAME_MAX + 1];
    bool two = g->lay.version == KT_CG_V1;
    long pid = (long)getpid();
    unsigned long long start;

    if (kt_cg_proc_start(pid, &start, err))
        return -1;
    for (unsigned n = 0; n < MAX_NAME_TRIES; n++) {
        if (kt_cg_name(leaf, sizeof(leaf), pid, start, n, name, err))
            return -1;
        if (mkdir_named(g->cpu_dir, sizeof(g->cpu_dir), g->lay.cpu_root, leaf, err)) {
            if (errno == EEXIST)
                continue;
            return kt_err_sys(err, errno, "cgroup: mkdir %s", g->cpu_dir);
        }
        if (!two) {
            strcpy(g->cpuset_dir, g->cpu_dir);
            return 0;
        }
        if (mkdir_named(g->cpuset_dir, sizeof(g->cpuset_dir), g->lay.cpuset_root, leaf, err) == 0)
            return 0;
        {
            int e = errno;

            rmdir(g->cpu_dir);
            if (e == EEXIST)
                continue;
            g->cpu_dir[0] = '\0';
            return kt_err_sys(err, e, "cgroup: mkdir %s", g->cpuset_dir);
        }
    }
    g->cpu_dir[0] = '\0';
    return kt_err_set(err, EEXIST, "cgroup: no free name for \"%s\" after %d tries", name,
                      MAX_NAME_TRIES);
}

/* Hands a new directory to the caller's rmdir_at_exit hook. */
static int arrange_rmdir(const kt_cg_hooks *hooks, const char *dir, kt_err *err)
{
    if (!hooks || !hooks->rmdir_at_exit)
        return 0;
    errno = 0;
    if (hooks->rmdir_at_exit(hooks->rmdir_arg, dir) == 0)
        return 0;
    return kt_err_sys(err, errno ? errno : EIO,
                      "cgroup: removal of %s at exit could not be arranged", dir);
}

/* The first group of each process sweeps the leftovers of dead creators;
 * a forked child is another process, with its own first group. */
static void sweep_once(const kt_cgroup *g, const kt_cg_hooks *hooks)
{
    static _Atomic long swept_by;
    long me = (long)getpid();
    kt_err e;

    if (atomic_exchange(&swept_by, me) == me)
        return;
    if (kt_cg_sweep(&g->lay, hooks, &e) < 0 && hooks && hooks->note)
        hooks->note(hooks->note_arg, e.msg);
}

kt_cgroup *kt_cgroup_create(const kt_cg_hooks *hooks, const char *name, kt_err *err)
{
    kt_cgroup *g;
    char probe[PATH_MAX];

    if (kt_cg_name(probe, sizeof(probe), 0, 0, 0, name, err))
        return NULL;
    if (geteuid() != 0) {
        kt_err_set(err, EPERM, "cgroup \"%s\": needs root (euid %ld)", name, (long)geteuid());
        return NULL;
    }
    g = calloc(1, sizeof(*g));
    if (!g) {
        kt_err_sys(err, ENOMEM, "cgroup: calloc");
        return NULL;
    }
    if (kt_cg_detect(&g->lay, err))
        goto fail;
    if (g->lay.version == KT_CG_V2 && v2_enable(g->lay.cpu_root, err))
        goto fail;
    if (g->lay.version == KT_CG_V1) {
        struct stat st;

        snprintf(probe, sizeof(probe), "%s/cpu.shares", g->lay.cpu_root);
        if (stat(probe, &st)) {
            kt_err_sys(err, errno, "cgroup v1: cpu controller: stat %s", probe);
            goto fail;
        }
    }
    sweep_once(g, hooks);
    if (make_dirs(g, name, err))
        goto fail;
    if (arrange_rmdir(hooks, g->cpu_dir, err) ||
        (strcmp(g->cpuset_dir, g->cpu_dir) && arrange_rmdir(hooks, g->cpuset_dir, err)) ||
        (g->lay.version == KT_CG_V1 && v1_cpuset_init(g, g->lay.cpuset_root, err))) {
        kt_cgroup_destroy(g, NULL);
        return NULL;
    }
    return g;
fail:
    free(g);
    return NULL;
}

/* Whether dir lists a task in procs; -1 when it cannot be read. */
static int has_tasks(const char *dir, const char *procs, kt_err *err)
{
    char buf[64];
    kt_err e;

    /* one task is enough to say so: a longer list does not fit, and says so too */
    if (read_file(dir, procs, buf, sizeof(buf), &e) == 0)
        return buf[0] != '\0';
    if (e.code == E2BIG)
        return 1;
    return kt_err_set(err, e.code, "%s", e.msg);
}

/* v2: the parent hands cpu and cpuset to its children and from then on
 * takes no tasks (checked here: with only threaded controllers enabled,
 * the kernel itself lets a parent with tasks enable them). */
static int v2_open_subtree(kt_cgroup *parent, kt_err *err)
{
    char on[512];
    int busy, rc;

    if (parent->distributes)
        return 0;
    busy = has_tasks(parent->cpu_dir, kt_cg_file(KT_CG_V2, KT_CG_PROCS), err);
    if (busy < 0)
        return -1;
    if (busy)
        return kt_err_set(err, EBUSY, "cgroup v2: %s holds tasks: a group with children "
                          "takes none (v2's no-internal-process rule); move them to a child",
                          parent->cpu_dir);
    rc = v2_enable(parent->cpu_dir, err);
    /* a half-done enable still bars tasks: believe the file */
    if (rc == 0 || read_file(parent->cpu_dir, "cgroup.subtree_control", on, sizeof(on), NULL) ||
        on[0])
        parent->distributes = true;
    return rc;
}

kt_cgroup *kt_cgroup_create_in(kt_cgroup *parent, const kt_cg_hooks *hooks, const char *name,
                               kt_err *err)
{
    char probe[PATH_MAX];
    bool two;
    kt_cgroup *g;
    int w;

    if (!parent) {
        kt_err_set(err, EINVAL, "kt_cgroup_create_in: NULL parent");
        return NULL;
    }
    if (kt_cg_name(probe, sizeof(probe), 0, 0, 0, name, err))
        return NULL;
    if (parent->lay.version == KT_CG_V2 && v2_open_subtree(parent, err))
        return NULL;
    g = calloc(1, sizeof(*g));
    if (!g) {
        kt_err_sys(err, ENOMEM, "cgroup: calloc");
        return NULL;
    }
    g->lay = parent->lay;
    two = g->lay.version == KT_CG_V1;
    w = snprintf(g->cpu_dir, sizeof(g->cpu_dir), "%s/%s", parent->cpu_dir, name);
    if (two && w >= 0 && (size_t)w < sizeof(g->cpu_dir))
        w = snprintf(g->cpuset_dir, sizeof(g->cpuset_dir), "%s/%s", parent->cpuset_dir, name);
    if (w < 0 || (size_t)w >= sizeof(g->cpu_dir)) {
        kt_err_set(err, ENAMETOOLONG, "cgroup: path of \"%s\" in %s too long", name,
                   parent->cpu_dir);
        free(g);
        return NULL;
    }
    if (mkdir(g->cpu_dir, 0755)) {
        kt_err_sys(err, errno, "cgroup: mkdir %s", g->cpu_dir);
        free(g);
        return NULL;
    }
    if (!two) {
        strcpy(g->cpuset_dir, g->cpu_dir);
    } else if (mkdir(g->cpuset_dir, 0755)) {
        kt_err_sys(err, errno, "cgroup: mkdir %s", g->cpuset_dir);
        rmdir(g->cpu_dir);
        free(g);
        return NULL;
    }
    /* linked first, so that a failure below is undone by destroy */
    g->parent = parent;
    g->sibling = parent->children;
    parent->children = g;
    if (arrange_rmdir(hooks, g->cpu_dir, err) ||
        (two && arrange_rmdir(hooks, g->cpuset_dir, err)) ||
        (two && v1_cpuset_init(g, parent->cpuset_dir, err))) {
        kt_cgroup_destroy(g, NULL);
        return NULL;
    }
    return g;
}

int kt_cgroup_set_weight(kt_cgroup *g, uint64_t weight, kt_err *err)
{
    char val[32];
    uint64_t w = weight;

    if (!g)
        return kt_err_set(err, EINVAL, "kt_cgroup_set_weight: NULL group");
    if (weight < 1 || weight > 10000)
        return kt_err_set(err, EINVAL, "cgroup: weight %llu out of 1..10000",
                          (unsigned long long)weight);
    if (g->lay.version == KT_CG_V1)
        w = kt_cg_weight_to_shares(weight);
    snprintf(val, sizeof(val), "%llu", (unsigned long long)w);
    return write_file(g->cpu_dir, kt_cg_file(g->lay.version, KT_CG_WEIGHT), val, err);
}

int kt_cgroup_set_cpus(kt_cgroup *g, const char *cpus, kt_err *err)
{
    if (!g || !cpus || !*cpus)
        return kt_err_set(err, EINVAL, "kt_cgroup_set_cpus: %s", g ? "empty cpu list" : "NULL group");
    return write_file(g->cpuset_dir, kt_cg_file(g->lay.version, KT_CG_CPUS), cpus, err);
}

/* 1 ms .. 1 s: the kernel's bounds of a CFS bandwidth period, and the
 * least quota it takes. */
#define PERIOD_MIN_US 1000u
#define PERIOD_MAX_US 1000000u
#define QUOTA_MIN_US 1000u

int kt_cgroup_set_max(kt_cgroup *g, uint64_t quota_us, uint64_t period_us, kt_err *err)
{
    char val[64];

    if (!g)
        return kt_err_set(err, EINVAL, "kt_cgroup_set_max: NULL group");
    if (period_us < PERIOD_MIN_US || period_us > PERIOD_MAX_US)
        return kt_err_set(err, EINVAL, "cgroup: period %llu us out of %u..%u",
                          (unsigned long long)period_us, PERIOD_MIN_US, PERIOD_MAX_US);
    if (quota_us != 0 && quota_us < QUOTA_MIN_US)
        return kt_err_set(err, EINVAL, "cgroup: quota %llu us below the kernel's %u (0: no cap)",
                          (unsigned long long)quota_us, QUOTA_MIN_US);
    if (g->lay.version == KT_CG_V2) {
        if (quota_us)
            snprintf(val, sizeof(val), "%llu %llu", (unsigned long long)quota_us,
                     (unsigned long long)period_us);
        else
            snprintf(val, sizeof(val), "max %llu", (unsigned long long)period_us);
        return write_file(g->cpu_dir, kt_cg_file(KT_CG_V2, KT_CG_QUOTA), val, err);
    }
    if (write_file(g->cpu_dir, kt_cg_file(KT_CG_V1, KT_CG_QUOTA), "-1", err))
        return -1;
    snprintf(val, sizeof(val), "%llu", (unsigned long long)period_us);
    if (write_file(g->cpu_dir, kt_cg_file(KT_CG_V1, KT_CG_PERIOD), val, err))
        return -1;
    if (!quota_us)
        return 0;
    snprintf(val, sizeof(val), "%llu", (unsigned long long)quota_us);
    return write_file(g->cpu_dir, kt_cg_file(KT_CG_V1, KT_CG_QUOTA), val, err);
}

int kt_cgroup_add(kt_cgroup *g, long tid, kt_err *err)
{
    const char *f;
    char val[32];

    if (!g || tid <= 0)
        return kt_err_set(err, EINVAL, "kt_cgroup_add: %s", g ? "bad tid" : "NULL group");
    if (g->distributes)
        return kt_err_set(err, EBUSY, "cgroup v2: %s hands cpu and cpuset to child groups "
                          "and takes no tasks (v2's no-internal-process rule): add %ld to a "
                          "child", g->cpu_dir, tid);
    f = kt_cg_file(g->lay.version, KT_CG_PROCS);
    snprintf(val, sizeof(val), "%ld", tid);
    if (write_file(g->cpu_dir, f, val, err))
        return -1;
    if (strcmp(g->cpuset_dir, g->cpu_dir) && write_file(g->cpuset_dir, f, val, err))
        return -1;
    return 0;
}

int kt_cgroup_read(const kt_cgroup *g, kt_cg_knob knob, char *buf, size_t len, kt_err *err)
{
    const char *f;

    if (!g || !buf)
        return kt_err_set(err, EINVAL, "kt_cgroup_read: NULL %s", g ? "buffer" : "group");
    f = kt_cg_file(g->lay.version, knob);
    if (!f)
        return kt_err_set(err, EINVAL, "kt_cgroup_read: knob %d unknown", (int)knob);
    return read_file(kt_cgroup_path(g, knob), f, buf, len, err);
}

/* Moves every task of dir back to root; ESRCH (gone meanwhile) is fine. */
static void evacuate(const char *dir, const char *root, const char *procs)
{
    char path[PATH_MAX], line[32];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, procs);
    f = fopen(path, "re");
    if (!f)
        return;
    while (fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\n")] = '\0';
        if (line[0])
            write_file(root, procs, line, NULL);
    }
    fclose(f);
}

static int remove_dir(const char *dir, const char *root, const char *procs, kt_err *err)
{
    struct timespec ten_ms = { 0, 10 * 1000 * 1000 };

    for (int i = 0; i < RMDIR_TRIES; i++) {
        evacuate(dir, root, procs);
        if (rmdir(dir) == 0 || errno == ENOENT)
            return 0;
        if (errno != EBUSY)
            break;
        nanosleep(&ten_ms, NULL);
    }
    return kt_err_sys(err, errno, "cgroup: rmdir %s", dir);
}

int kt_cgroup_destroy(kt_cgroup *g, kt_err *err)
{
    const char *procs;
    int rc = 0;

    if (!g)
        return 0;
    /* children first: a directory with children refuses rmdir */
    while (g->children)
        if (kt_cgroup_destroy(g->children, rc ? NULL : err))
            rc = -1;
    if (g->parent) {
        kt_cgroup **p = &g->parent->children;

        while (*p != g)
            p = &(*p)->sibling;
        *p = g->sibling;
    }
    procs = kt_cg_file(g->lay.version, KT_CG_PROCS);
    if (g->cpu_dir[0] && remove_dir(g->cpu_dir, g->lay.cpu_root, procs, rc ? NULL : err))
        rc = -1;
    if (g->cpuset_dir[0] && strcmp(g->cpuset_dir, g->cpu_dir) &&
        remove_dir(g->cpuset_dir, g->lay.cpuset_root, procs, rc ? NULL : err))
        rc = -1;
    free(g);
    return rc;
}
