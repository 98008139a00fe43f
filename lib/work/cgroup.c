/* Scratch cgroups on v1 or v2; see include/ktstr/cgroup.h for the
 * choices (where groups go, thread granularity, weights, cleanup).
 * cgroup_sweep.c removes the groups of creators that died. */
#include "ktstr/cgroup.h"

#include "base/file.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#define CG_ROOT "/sys/fs/cgroup"
#define MAX_NAME_TRIES 1000
#define RMDIR_TRIES 100          /* x 10 ms: exiting tasks may linger a moment */

struct kt_cgroup {
    kt_cg_layout lay;
    char cpu_dir[PATH_MAX];      /* v2: the one directory */
    char cpuset_dir[PATH_MAX];   /* v2: same as cpu_dir */
};

/* ---- pure functions ------------------------------------------------------ */

static const char *const knob_files[KT_CG_NKNOBS][2] = {
    /*               v1              v2 */
    [KT_CG_WEIGHT] = { "cpu.shares", "cpu.weight" },
    [KT_CG_CPUS] = { "cpuset.cpus", "cpuset.cpus" },
    [KT_CG_MEMS] = { "cpuset.mems", "cpuset.mems" },
    [KT_CG_PROCS] = { "tasks", "cgroup.procs" },
};

const char *kt_cg_file(kt_cg_version v, kt_cg_knob knob)
{
    if ((v != KT_CG_V1 && v != KT_CG_V2) || (unsigned)knob >= KT_CG_NKNOBS)
        return NULL;
    return knob_files[knob][v == KT_CG_V2];
}

uint64_t kt_cg_shares_to_weight(uint64_t shares)
{
    if (shares < 2)
        shares = 2;
    if (shares > 262144)
        shares = 262144;
    return 1 + ((shares - 2) * 9999) / 262142;
}

uint64_t kt_cg_weight_to_shares(uint64_t weight)
{
    if (weight < 1)
        weight = 1;
    if (weight > 10000)
        weight = 10000;
    /* Smallest s with (s - 2) * 9999 >= (weight - 1) * 262142. */
    return 2 + ((weight - 1) * 262142 + 9998) / 9999;
}

int kt_cg_name(char *buf, size_t len, long pid, unsigned long long start, unsigned n,
               const char *name, kt_err *err)
{
    int w;

    if (!name || !*name || strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, ".."))
        return kt_err_set(err, EINVAL, "cgroup name \"%s\": empty or not a plain name",
                          name ? name : "(null)");
    w = snprintf(buf, len, "ktstr-%ld-%llu-%u-%s", pid, start, n, name);
    if (w < 0 || (size_t)w >= len)
        return kt_err_set(err, ENAMETOOLONG, "cgroup name \"%s\": too long", name);
    return 0;
}

/* True when the comma list opts has the token tok exactly. */
static bool has_token(const char *opts, size_t len, const char *tok)
{
    size_t tl = strlen(tok);
    const char *p = opts, *end = opts + len;

    while (p < end) {
        const char *c = memchr(p, ',', (size_t)(end - p));
        size_t l = c ? (size_t)(c - p) : (size_t)(end - p);

        if (l == tl && !memcmp(p, tok, tl))
            return true;
        p += l + 1;
    }
    return false;
}

static void copy_field(char *dst, size_t cap, const char *src, size_t len)
{
    if (len >= cap)
        len = cap - 1;
    memcpy(dst, src, len);
    dst[len] = '\0';
}

int kt_cg_parse_mountinfo(const char *text, kt_cg_layout *out, kt_err *err)
{
    char v2root[sizeof(out->cpu_root)] = "";
    const char *line = text;

    memset(out, 0, sizeof(*out));
    while (line && *line) {
        const char *eol = strchr(line, '\n'), *f[5], *p = line, *sep;
        size_t len = eol ? (size_t)(eol - line) : strlen(line);
        const char *end = line + len;
        int nf = 0;

        /* Fields: id parent major:minor root mountpoint ... " - " fstype source opts */
        while (nf < 5 && p < end) {
            f[nf++] = p;
            p = memchr(p, ' ', (size_t)(end - p));
            if (!p)
                break;
            p++;
        }
        /* within this line: a strstr would scan every later line for a
         * line without the separator, quadratic in a 16 MiB table */
        sep = nf == 5 ? memmem(f[4], (size_t)(end - f[4]), " - ", 3) : NULL;
        if (sep) {
            const char *mp = f[4], *mpe = memchr(mp, ' ', (size_t)(end - mp));
            const char *fs = sep + 3, *fse = memchr(fs, ' ', (size_t)(end - fs));
            const char *src = fse ? fse + 1 : end, *srce = memchr(src, ' ', (size_t)(end - src));
            const char *opts = srce ? srce + 1 : end;
            size_t mplen = mpe ? (size_t)(mpe - mp) : 0, fslen = fse ? (size_t)(fse - fs) : 0;

            if (fslen == 7 && !memcmp(fs, "cgroup2", 7) && !v2root[0]) {
                copy_field(v2root, sizeof(v2root), mp, mplen);
            } else if (fslen == 6 && !memcmp(fs, "cgroup", 6)) {
                if (has_token(opts, (size_t)(end - opts), "cpu") && !out->cpu_root[0])
                    copy_field(out->cpu_root, sizeof(out->cpu_root), mp, mplen);
                if (has_token(opts, (size_t)(end - opts), "cpuset") && !out->cpuset_root[0])
                    copy_field(out->cpuset_root, sizeof(out->cpuset_root), mp, mplen);
            }
        }
        line = eol ? eol + 1 : NULL;
    }
    if (out->cpu_root[0] && out->cpuset_root[0]) {
        out->version = KT_CG_V1;
        return 0;
    }
    if (v2root[0]) {
        out->version = KT_CG_V2;
        strcpy(out->cpu_root, v2root);
        strcpy(out->cpuset_root, v2root);
        return 0;
    }
    memset(out, 0, sizeof(*out));
    return kt_err_set(err, ENOENT,
                      "cgroup: no cgroup2 mount and no v1 cpu + cpuset hierarchies in /proc/self/mountinfo");
}

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

/* mountinfo grows with every mount; 16 MiB is far past any real one. */
#define MOUNTINFO_MAX (16u << 20)

int kt_cg_detect(kt_cg_layout *out, kt_err *err)
{
    kt__vec text = KT__VEC_INIT(char);
    struct statfs sf;
    kt_err e;
    int rc;

    if (statfs(CG_ROOT, &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC) {
        memset(out, 0, sizeof(*out));
        out->version = KT_CG_V2;
        strcpy(out->cpu_root, CG_ROOT);
        strcpy(out->cpuset_root, CG_ROOT);
        return 0;
    }
    /* all of it or an error: a cut table would be parsed as if complete */
    if (kt__read_file("/proc/self/mountinfo", MOUNTINFO_MAX, &text, &e) < 0) {
        kt__vec_free(&text);
        return kt_err_set(err, e.code, "cgroup: %s", e.msg);
    }
    rc = kt_cg_parse_mountinfo(text.v, out, err);
    kt__vec_free(&text);
    return rc;
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
 * give them the root's. */
static int v1_cpuset_init(kt_cgroup *g, kt_err *err)
{
    static const kt_cg_knob knobs[] = { KT_CG_CPUS, KT_CG_MEMS };
    char val[1024];

    for (size_t i = 0; i < sizeof(knobs) / sizeof(knobs[0]); i++) {
        const char *f = kt_cg_file(KT_CG_V1, knobs[i]);

        if (read_file(g->lay.cpuset_root, f, val, sizeof(val), err) ||
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
        (g->lay.version == KT_CG_V1 && v1_cpuset_init(g, err))) {
        kt_cgroup_destroy(g, NULL);
        return NULL;
    }
    return g;
fail:
    free(g);
    return NULL;
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

int kt_cgroup_add(kt_cgroup *g, long tid, kt_err *err)
{
    const char *f;
    char val[32];

    if (!g || tid <= 0)
        return kt_err_set(err, EINVAL, "kt_cgroup_add: %s", g ? "bad tid" : "NULL group");
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
    procs = kt_cg_file(g->lay.version, KT_CG_PROCS);
    if (g->cpu_dir[0] && remove_dir(g->cpu_dir, g->lay.cpu_root, procs, err))
        rc = -1;
    if (g->cpuset_dir[0] && strcmp(g->cpuset_dir, g->cpu_dir) &&
        remove_dir(g->cpuset_dir, g->lay.cpuset_root, procs, rc ? NULL : err))
        rc = -1;
    free(g);
    return rc;
}
