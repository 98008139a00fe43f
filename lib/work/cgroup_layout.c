/* Where the cgroup hierarchies are and what their files are called:
 * the per-version file names, weight and share conversions, group
 * names, and the mount table read for v1 or v2. Pure but for
 * kt_cg_detect; cgroup_sweep.c and cgroup.c both build on it. */
#include "ktstr/cgroup.h"

#include "base/file.h"

#include <errno.h>
#include <linux/magic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/statfs.h>

#define CG_ROOT "/sys/fs/cgroup"

/* ---- pure functions ------------------------------------------------------ */

static const char *const knob_files[KT_CG_NKNOBS][2] = {
    /*               v1              v2 */
    [KT_CG_WEIGHT] = { "cpu.shares", "cpu.weight" },
    [KT_CG_CPUS] = { "cpuset.cpus", "cpuset.cpus" },
    [KT_CG_MEMS] = { "cpuset.mems", "cpuset.mems" },
    [KT_CG_PROCS] = { "tasks", "cgroup.procs" },
    [KT_CG_QUOTA] = { "cpu.cfs_quota_us", "cpu.max" },
    [KT_CG_PERIOD] = { "cpu.cfs_period_us", "cpu.max" },
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
