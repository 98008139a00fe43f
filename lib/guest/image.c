/* The initramfs: a plan of entries (what goes where), its cache key, and
 * the cpio written from the plan to a temporary file renamed into place. */
#include "guest/image.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/vec.h"
#include "guest/cpio.h"
#include "guest/deps.h"
#include "guest/ldcache.h"

#define KEY_VERSION "ktstr-initramfs-1"

typedef enum kind { E_DIR, E_HOST, E_MEM, E_LINK, E_NODE } kind;

typedef struct entry {
    kind k;
    char *guest;            /* absolute, normalised */
    const char *host;       /* E_HOST */
    const void *data;       /* E_MEM */
    size_t len;
    const char *target;     /* E_LINK */
    unsigned mode;          /* permission bits, or S_IFCHR|bits for E_NODE */
    unsigned major, minor;
    struct stat st;         /* E_HOST, taken when planned */
} entry;

typedef struct plan {
    kt__vec entries;        /* entry */
    kt__deps deps;
    kt__vec ldcache;        /* char: the image's /etc/ld.so.cache */
    uint32_t mtime;
} plan;

static const struct {
    const char *path;
    unsigned mode;
} base_dirs[] = {
    { "/dev", 0755 }, { "/proc", 0555 }, { "/sys", 0555 }, { "/sys/fs", 0755 },
    { "/sys/fs/cgroup", 0755 }, { "/tmp", 01777 }, { "/run", 0755 }, { "/etc", 0755 },
};

static const entry *find(const plan *p, const char *guest)
{
    for (size_t i = 0; i < p->entries.n; i++) {
        const entry *e = kt__vec_at(&p->entries, i);

        if (strcmp(e->guest, guest) == 0)
            return e;
    }
    return NULL;
}

static int push(plan *p, entry *e, const char *guest, kt_err *err)
{
    if (!(e->guest = strdup(guest)))
        return kt_err_sys(err, ENOMEM, "image %s", guest);
    if (kt__vec_push(&p->entries, e, err, "image entries") < 0) {
        free(e->guest);
        return -1;
    }
    return 0;
}

/* The directory guest and its parents, each once. */
static int add_dir(plan *p, const char *guest, unsigned mode, kt_err *err)
{
    char parent[PATH_MAX];
    const char *slash = strrchr(guest, '/');
    const entry *have;
    entry e = { .k = E_DIR, .mode = mode };

    if (strcmp(guest, "/") == 0)
        return 0;
    if ((have = find(p, guest)))
        return have->k == E_DIR ? 0 : kt_err_set(err, EEXIST, "image %s: needed as a directory "
                                                 "but already a file", guest);
    if (slash && slash != guest) {
        snprintf(parent, sizeof(parent), "%.*s", (int)(slash - guest), guest);
        if (add_dir(p, parent, 0755, err) < 0)
            return -1;
    }
    return push(p, &e, guest, err);
}

/* A non-directory entry at guest (normalised here), after its parents. */
static int add_entry(plan *p, entry *e, const char *guest_in, const char *what, kt_err *err)
{
    char guest[PATH_MAX];
    const char *slash;
    const entry *have;

    if (guest_in[0] != '/')
        return kt_err_set(err, EINVAL, "%s: guest path %s is not absolute", what, guest_in);
    if (kt__guest_path(guest_in, guest, sizeof(guest), err) < 0)
        return -1;
    if (strcmp(guest, "/") == 0)
        return kt_err_set(err, EINVAL, "%s: guest path %s is the root", what, guest_in);
    if ((have = find(p, guest)))
        return kt_err_set(err, EEXIST, "%s: %s is already in the image%s%s", what, guest,
                          have->host ? " from " : "", have->host ? have->host : "");
    slash = strrchr(guest, '/');
    if (slash != guest) {
        char parent[PATH_MAX];

        snprintf(parent, sizeof(parent), "%.*s", (int)(slash - guest), guest);
        if (add_dir(p, parent, 0755, err) < 0)
            return -1;
    }
    return push(p, e, guest, err);
}

static int add_host(plan *p, const char *guest, const char *host, unsigned mode,
                    const char *what, kt_err *err)
{
    entry e = { .k = E_HOST, .host = host, .mode = mode };

    if (stat(host, &e.st) < 0)
        return kt_err_sys(err, errno, "%s: %s", what, host);
    if (!S_ISREG(e.st.st_mode))
        return kt_err_set(err, EINVAL, "%s: %s is not a regular file", what, host);
    if (e.mode == 0)
        e.mode = e.st.st_mode & 0777;
    return add_entry(p, &e, guest, what, err);
}

/* Every library by name, for the image's own ld.so.cache. The guest's
 * loader reads it before its built-in directories, which may not hold a
 * library the host found through ld.so.conf; and at boot there is no
 * /proc, so the loader cannot find /init's $ORIGIN (it reads
 * /proc/self/exe) and drops the RUNPATH elements that use it: the cache
 * still finds those libraries at the same guest paths. A name two
 * programs resolve differently keeps the first (the binary's). */
static int add_ldcache(plan *p, kt_err *err)
{
    kt__vec names = KT__VEC_INIT(const char *), paths = KT__VEC_INIT(const char *);
    int rc = -1;

    for (size_t i = 0; i < p->deps.list.n; i++) {
        const kt__dep *d = kt__vec_at(&p->deps.list, i);
        bool dup = false;

        if (d->via == KT__VIA_INTERP || d->via == KT__VIA_PATH)
            continue;   /* not looked up by name */
        for (size_t k = 0; k < names.n && !dup; k++)
            dup = strcmp(*(const char **)kt__vec_at(&names, k), d->name) == 0;
        if (dup)
            continue;
        if (kt__vec_push(&names, &d->name, err, "image ld.so.cache") < 0 ||
            kt__vec_push(&paths, &d->guest, err, "image ld.so.cache") < 0)
            goto out;
    }
    rc = 0;
    if (names.n > 0) {
        entry e = { .k = E_MEM, .mode = 0644 };

        if ((rc = kt__ldcache_build(&p->ldcache, names.v, paths.v, names.n, err)) == 0) {
            e.data = p->ldcache.v;
            e.len = p->ldcache.n;
            rc = add_entry(p, &e, "/etc/ld.so.cache", "image ld.so.cache", err);
        }
    }
out:
    kt__vec_free(&names);
    kt__vec_free(&paths);
    return rc;
}

static void plan_free(plan *p)
{
    for (size_t i = 0; i < p->entries.n; i++)
        free(((entry *)kt__vec_at(&p->entries, i))->guest);
    kt__vec_free(&p->entries);
    kt__deps_free(&p->deps);
    kt__vec_free(&p->ldcache);
}

static int make_plan(plan *p, const char *binary, const kt__image_file *extra, size_t nextra,
                     kt_err *err)
{
    char what[PATH_MAX + 32];
    size_t ndeps = 0;

    *p = (plan){ .entries = KT__VEC_INIT(entry), .ldcache = KT__VEC_INIT(char) };
    p->deps = (kt__deps){ .list = KT__VEC_INIT(kt__dep), .confdirs = KT__VEC_INIT(char *) };
    if (kt__deps_init(&p->deps, NULL, err) < 0)
        return -1;
    for (size_t i = 0; i < sizeof(base_dirs) / sizeof(base_dirs[0]); i++)
        if (add_dir(p, base_dirs[i].path, base_dirs[i].mode, err) < 0)
            return -1;
    {
        entry con = { .k = E_NODE, .mode = S_IFCHR | 0600, .major = 5, .minor = 1 };
        entry null = { .k = E_NODE, .mode = S_IFCHR | 0666, .major = 1, .minor = 3 };

        if (add_entry(p, &con, "/dev/console", "image", err) < 0 ||
            add_entry(p, &null, "/dev/null", "image", err) < 0)
            return -1;
    }
    snprintf(what, sizeof(what), "image /init (%s)", binary);
    if (add_host(p, "/init", binary, 0755, what, err) < 0)
        return -1;
    p->mtime = (uint32_t)find(p, "/init")->st.st_mtime;
    if (kt__deps_add(&p->deps, binary, "/init", err) < 0)
        return -1;
    for (size_t i = 0; i < nextra; i++) {
        if (!extra[i].guest)
            return kt_err_set(err, EINVAL, "image extra file %zu: no guest path", i);
        if (extra[i].libs && !extra[i].host)
            return kt_err_set(err, EINVAL, "image extra file %s: libs needs a host file",
                              extra[i].guest);
        if (extra[i].libs && kt__deps_add(&p->deps, extra[i].host, extra[i].guest, err) < 0)
            return -1;
    }
    for (; ndeps < p->deps.list.n; ndeps++) {
        const kt__dep *d = kt__vec_at(&p->deps.list, ndeps);
        entry e = { .k = E_LINK, .target = d->link };

        snprintf(what, sizeof(what), "image library %s", d->name);
        if ((d->link ? add_entry(p, &e, d->guest, what, err)
                     : add_host(p, d->guest, d->host, 0, what, err)) < 0)
            return -1;
    }
    if (add_ldcache(p, err) < 0)
        return -1;
    for (size_t i = 0; i < nextra; i++) {
        snprintf(what, sizeof(what), "image extra file %s", extra[i].guest);
        if (extra[i].host) {
            if (add_host(p, extra[i].guest, extra[i].host, extra[i].mode, what, err) < 0)
                return -1;
        } else {
            entry e = { .k = E_MEM, .data = extra[i].data, .len = extra[i].len,
                        .mode = extra[i].mode ? extra[i].mode : 0644 };

            if (extra[i].len > 0 && !extra[i].data)
                return kt_err_set(err, EINVAL, "%s: neither a host file nor data", what);
            if (add_entry(p, &e, extra[i].guest, what, err) < 0)
                return -1;
        }
    }
    return 0;
}

static int write_plan(const plan *p, int fd, kt_err *err)
{
    kt__cpio c;

    kt__cpio_init(&c, fd, p->mtime);
    for (size_t i = 0; i < p->entries.n; i++) {
        const entry *e = kt__vec_at(&p->entries, i);
        int rc = 0;

        switch (e->k) {
        case E_DIR: rc = kt__cpio_dir(&c, e->guest, e->mode, err); break;
        case E_HOST: rc = kt__cpio_file_path(&c, e->guest, e->mode, e->host, err); break;
        case E_MEM: rc = kt__cpio_file_mem(&c, e->guest, e->mode, e->data, e->len, err); break;
        case E_LINK: rc = kt__cpio_symlink(&c, e->guest, e->target, err); break;
        case E_NODE: rc = kt__cpio_node(&c, e->guest, e->mode, e->major, e->minor, err); break;
        }
        if (rc < 0)
            return -1;
    }
    return kt__cpio_trailer(&c, err);
}

/* The plan written to out through out.XXXXXX and rename(). */
static int write_image(const plan *p, const char *out, kt_err *err)
{
    char tmp[PATH_MAX];
    int fd;

    if ((size_t)snprintf(tmp, sizeof(tmp), "%s.XXXXXX", out) >= sizeof(tmp))
        return kt_err_set(err, ENAMETOOLONG, "image %s: path too long", out);
    if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0)
        return kt_err_sys(err, errno, "image %s: mkostemp(%s)", out, tmp);
    if (fchmod(fd, 0644) < 0) {
        kt_err_sys(err, errno, "image %s: fchmod", tmp);
        goto fail;
    }
    if (write_plan(p, fd, err) < 0) {
        char m[KT_ERR_MSG_MAX];

        if (err) {
            memcpy(m, err->msg, sizeof(m));
            kt_err_set(err, err->code, "image %s: %s", out, m);
        }
        goto fail;
    }
    if (close(fd) < 0) {
        fd = -1;
        kt_err_sys(err, errno, "image %s: close", tmp);
        goto fail;
    }
    fd = -1;
    if (rename(tmp, out) < 0) {
        kt_err_sys(err, errno, "image %s: rename from %s", out, tmp);
        goto fail;
    }
    return 0;
fail:
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    return -1;
}

int kt__image_build(const char *binary, const kt__image_file *extra, size_t nextra,
                    const char *out, kt_err *err)
{
    plan p;
    int rc = make_plan(&p, binary, extra, nextra, err);

    if (rc == 0)
        rc = write_image(&p, out, err);
    plan_free(&p);
    return rc;
}

/* ---- the cache -------------------------------------------------------- */

static void fnv(uint64_t *h, const void *data, size_t n)
{
    const unsigned char *b = data;

    for (size_t i = 0; i < n; i++) {
        *h ^= b[i];
        *h *= 0x100000001b3ULL;
    }
}

static void fnv_u64(uint64_t *h, uint64_t v)
{
    fnv(h, &v, sizeof(v));
}

static void fnv_str(uint64_t *h, const char *s)
{
    fnv(h, s, strlen(s) + 1);
}

static uint64_t plan_key(const plan *p)
{
    uint64_t h = 0xcbf29ce484222325ULL;

    fnv_str(&h, KEY_VERSION);
    fnv_u64(&h, p->mtime);
    for (size_t i = 0; i < p->entries.n; i++) {
        const entry *e = kt__vec_at(&p->entries, i);

        fnv_u64(&h, e->k);
        fnv_str(&h, e->guest);
        fnv_u64(&h, e->mode);
        fnv_u64(&h, (uint64_t)e->major << 32 | e->minor);
        if (e->k == E_HOST) {
            /* The file, not the name it was given by: /proc/self/exe and
             * the binary's own path share one image. */
            fnv_u64(&h, (uint64_t)e->st.st_dev);
            fnv_u64(&h, (uint64_t)e->st.st_ino);
            fnv_u64(&h, (uint64_t)e->st.st_size);
            fnv_u64(&h, (uint64_t)e->st.st_mtim.tv_sec);
            fnv_u64(&h, (uint64_t)e->st.st_mtim.tv_nsec);
            fnv_u64(&h, (uint64_t)e->st.st_ctim.tv_sec);
            fnv_u64(&h, (uint64_t)e->st.st_ctim.tv_nsec);
        } else if (e->k == E_MEM) {
            fnv_u64(&h, e->len);
            fnv(&h, e->data, e->len);
        } else if (e->k == E_LINK) {
            fnv_str(&h, e->target);
        }
    }
    return h;
}

static int mkdir_p(const char *dir, kt_err *err)
{
    char buf[PATH_MAX];
    struct stat st;
    size_t n = strlen(dir);

    if (n == 0 || n >= sizeof(buf))
        return kt_err_set(err, EINVAL, "image cache directory \"%.60s\": bad path", dir);
    memcpy(buf, dir, n + 1);
    for (char *s = buf + 1;; s++) {
        if (*s == '/' || *s == '\0') {
            char c = *s;

            *s = '\0';
            if (mkdir(buf, 0755) < 0 && errno != EEXIST)
                return kt_err_sys(err, errno, "image cache directory %s: mkdir %s", dir, buf);
            *s = c;
            if (c == '\0')
                break;
        }
    }
    if (stat(dir, &st) < 0)
        return kt_err_sys(err, errno, "image cache directory %s", dir);
    if (!S_ISDIR(st.st_mode))
        return kt_err_set(err, ENOTDIR, "image cache directory %s: not a directory", dir);
    return 0;
}

int kt__image_cached(const char *binary, const kt__image_file *extra, size_t nextra,
                     const char *cache_dir, char *path, size_t pathsz, kt_err *err)
{
    char real[PATH_MAX], name[80];
    const char *base;
    size_t n = 0;
    struct stat st;
    plan p;
    int rc;

    if (mkdir_p(cache_dir, err) < 0)
        return -1;
    if ((rc = make_plan(&p, binary, extra, nextra, err)) < 0)
        goto out;
    /* The binary's name, tamed, tells a person whose image it is. */
    base = realpath(binary, real) ? real : binary;
    base = strrchr(base, '/') ? strrchr(base, '/') + 1 : base;
    for (; base[n] && n < 48; n++)
        name[n] = (base[n] >= 'a' && base[n] <= 'z') || (base[n] >= 'A' && base[n] <= 'Z') ||
                  (base[n] >= '0' && base[n] <= '9') || base[n] == '.' || base[n] == '-' ||
                  base[n] == '_' ? base[n] : '_';
    snprintf(name + n, sizeof(name) - n, "-%016llx.cpio", (unsigned long long)plan_key(&p));
    if ((size_t)snprintf(path, pathsz, "%s/%s", cache_dir, name) >= pathsz) {
        rc = kt_err_set(err, ENAMETOOLONG, "image cache %s/%s: path too long", cache_dir, name);
        goto out;
    }
    if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
        rc = 1;
        goto out;
    }
    rc = write_image(&p, path, err);
out:
    plan_free(&p);
    return rc;
}
