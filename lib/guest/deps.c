/* Library resolution as glibc's ld.so does it (elf/dl-load.c,
 * _dl_map_object), run here so that the image holds every file at the
 * path the guest's loader will open. */
#include "guest/deps.h"

#include <ctype.h>
#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "guest/elf.h"

#define ET_EXEC_ 2
#define ET_DYN_ 3
#define CONF_DEPTH_MAX 8

/* glibc's x86_64 system directories (Debian's multiarch ones first, then
 * the lib64 ones other distributions use, then the plain ones). */
static const char *const default_sysdirs[] = {
    "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64",
    "/lib", "/usr/lib", NULL,
};

/* One object of one program's link map. */
typedef struct obj {
    char *host;             /* as opened here */
    char *horigin;          /* $ORIGIN here */
    char *gorigin;          /* $ORIGIN in the guest */
    char *rpath, *runpath;  /* copies, or NULL */
    bool nodeflib;
    kt__vec needed;         /* char * copies */
    int loader;             /* the object that loaded it; -1 for the program */
    dev_t dev;
    ino_t ino;              /* 0 for the program: never matched */
} obj;

typedef struct prog {
    kt__deps *d;
    kt__vec objs;           /* obj */
    kt__vec names;          /* char *: names loaded (DT_NEEDED, DT_SONAME) */
} prog;

/* What one name's search saw, for the not-found message. */
typedef struct search_log {
    kt__vec where;          /* char: ", dir, dir" */
    char skipped[KT_ERR_MSG_MAX];
} search_log;

static char *sdup(const char *s, kt_err *err)
{
    char *p = s ? strdup(s) : NULL;

    if (s && !p)
        kt_err_sys(err, ENOMEM, "library resolution: strdup");
    return p;
}

static obj *obj_at(prog *pg, size_t i)
{
    return kt__vec_at(&pg->objs, i);
}

static int prefix(kt_err *err, const char *fmt, const char *a, const char *b)
{
    char m[KT_ERR_MSG_MAX], pre[KT_ERR_MSG_MAX];

    if (!err)
        return -1;
    memcpy(m, err->msg, sizeof(m));
    snprintf(pre, sizeof(pre), fmt, a, b);
    return kt_err_set(err, err->code, "%s%s", pre, m);
}

int kt__guest_path(const char *in, char *out, size_t outsz, kt_err *err)
{
    size_t len = 0;
    const char *p = in;

    if (outsz < 2)
        return kt_err_set(err, ENAMETOOLONG, "guest path %s: no room", in);
    while (*p) {
        const char *c;
        size_t clen;

        while (*p == '/')
            p++;
        c = p;
        while (*p && *p != '/')
            p++;
        clen = (size_t)(p - c);
        if (clen == 0 || (clen == 1 && c[0] == '.'))
            continue;
        if (clen == 2 && c[0] == '.' && c[1] == '.') {
            while (len > 0 && out[len - 1] != '/')
                len--;
            if (len > 0)
                len--;
            continue;
        }
        if (len + 1 + clen + 1 > outsz)
            return kt_err_set(err, ENAMETOOLONG, "guest path %.60s...: longer than %zu bytes",
                              in, outsz - 1);
        out[len++] = '/';
        memcpy(out + len, c, clen);
        len += clen;
    }
    if (len == 0)
        out[len++] = '/';
    out[len] = '\0';
    return 0;
}

/* The directory of path ("/" for "/x", "." for "x"), made absolute when
 * abs is set (the loader prepends its cwd to a relative name). */
static char *dir_of(const char *path, bool abs, kt_err *err)
{
    const char *slash = strrchr(path, '/');
    char cwd[PATH_MAX], *r;
    size_t n = slash ? (size_t)(slash - path) : 0;

    if (slash && n == 0)
        n = 1;
    if (!abs || path[0] == '/' ) {
        if (!slash)
            return sdup(".", err);
        if (!(r = malloc(n + 1)))
            return kt_err_sys(err, ENOMEM, "library resolution"), NULL;
        memcpy(r, path, n);
        r[n] = '\0';
        return r;
    }
    if (!getcwd(cwd, sizeof(cwd)))
        return kt_err_sys(err, errno, "library resolution: getcwd"), NULL;
    if (!(r = malloc(strlen(cwd) + 2 + n)))
        return kt_err_sys(err, ENOMEM, "library resolution"), NULL;
    sprintf(r, "%s%s%.*s", cwd, n ? "/" : "", (int)n, path);
    return r;
}

static bool has_name(const prog *pg, const char *name)
{
    for (size_t i = 0; i < pg->names.n; i++)
        if (strcmp(*(char **)kt__vec_at(&pg->names, i), name) == 0)
            return true;
    return false;
}

static int add_name(prog *pg, const char *name, kt_err *err)
{
    char *c;

    if (!name || has_name(pg, name))
        return 0;
    if (!(c = sdup(name, err)))
        return -1;
    if (kt__vec_push(&pg->names, &c, err, "library names") < 0) {
        free(c);
        return -1;
    }
    return 0;
}

/* Adds one file to the image's list, once per guest path; a file already
 * there under another path becomes a link to it. */
static int add_dep(kt__deps *d, const char *name, const char *host, const char *guest,
                   kt__dep_via via, const struct stat *st, kt_err *err)
{
    kt__dep dep = { .via = via, .st = *st };
    const char *link = NULL;

    for (size_t i = 0; i < d->list.n; i++) {
        const kt__dep *o = kt__vec_at(&d->list, i);
        bool same = o->st.st_dev == st->st_dev && o->st.st_ino == st->st_ino;

        if (strcmp(o->guest, guest) == 0) {
            if (same)
                return 0;
            return kt_err_set(err, EEXIST, "%s: two different files for it in the image: "
                              "%s and %s", guest, o->host, host);
        }
        if (same && !link && !o->link)
            link = o->guest;
    }
    if (!(dep.name = sdup(name, err)) || !(dep.host = sdup(host, err)) ||
        !(dep.guest = sdup(guest, err)) || (link && !(dep.link = sdup(link, err))) ||
        kt__vec_push(&d->list, &dep, err, "library list") < 0) {
        free(dep.name);
        free(dep.host);
        free(dep.guest);
        free(dep.link);
        return -1;
    }
    return 0;
}

static void obj_free(obj *o)
{
    free(o->host);
    free(o->horigin);
    free(o->gorigin);
    free(o->rpath);
    free(o->runpath);
    for (size_t i = 0; i < o->needed.n; i++)
        free(*(char **)kt__vec_at(&o->needed, i));
    kt__vec_free(&o->needed);
}

/* A new object from a parsed file; its strings are copied so the file's
 * bytes can go at once. */
static int obj_push(prog *pg, const char *host, const char *horigin_of, const char *guest,
                    const kt__elf_file *f, int loader, kt_err *err)
{
    obj o = { .needed = KT__VEC_INIT(char *), .loader = loader,
              .nodeflib = f->elf.nodeflib };

    if (loader >= 0) {
        o.dev = f->st.st_dev;
        o.ino = f->st.st_ino;
    }
    if (!(o.host = sdup(host, err)) || !(o.horigin = dir_of(horigin_of, true, err)) ||
        !(o.gorigin = dir_of(guest, false, err)) ||
        (f->elf.rpath && !(o.rpath = sdup(f->elf.rpath, err))) ||
        (f->elf.runpath && !(o.runpath = sdup(f->elf.runpath, err))))
        goto fail;
    for (size_t i = 0; i < f->elf.needed.n; i++) {
        char *c = sdup(*(const char **)kt__vec_at(&f->elf.needed, i), err);

        if (!c)
            goto fail;
        if (kt__vec_push(&o.needed, &c, err, "DT_NEEDED names") < 0) {
            free(c);
            goto fail;
        }
    }
    if (kt__vec_push(&pg->objs, &o, err, "link map") == 0)
        return 0;
fail:
    obj_free(&o);
    return -1;
}

/* Tries one candidate file: 1 taken, 0 not there or not for this machine
 * (search on), -1 fatal. */
static int try_file(prog *pg, int req, const char *name, const char *host,
                    const char *guest, kt__dep_via via, search_log *log, kt_err *err)
{
    kt__elf_file f;
    kt_err e = { 0 };
    int rc = -1;

    if (kt__elf_load(host, &f, &e) < 0) {
        kt__elf_file_free(&f);
        if (e.code == ENOENT || e.code == ENOTDIR || e.code == EACCES ||
            e.code == ELOOP || e.code == ENAMETOOLONG)
            return 0;
        if (e.code == ENOEXEC) {
            snprintf(log->skipped, sizeof(log->skipped), "%s", e.msg);
            return 0;
        }
        if (err)
            *err = e;
        return prefix(err, "%s, needed by %s: ", name, obj_at(pg, (size_t)req)->host);
    }
    if (f.elf.type != ET_DYN_) {
        kt_err_set(err, EINVAL, "%s, needed by %s: %s is not a shared object (ELF type %u)",
                   name, obj_at(pg, (size_t)req)->host, host, f.elf.type);
        goto out;
    }
    if (add_dep(pg->d, name, host, guest, via, &f.st, err) < 0 || add_name(pg, name, err) < 0)
        goto out;
    rc = 1;
    for (size_t i = 1; i < pg->objs.n; i++) {
        const obj *o = obj_at(pg, i);

        if (o->dev == f.st.st_dev && o->ino == f.st.st_ino)
            goto out;       /* loaded already under another name */
    }
    if (add_name(pg, f.elf.soname, err) < 0 ||
        obj_push(pg, host, host, guest, &f, req, err) < 0)
        rc = -1;
out:
    kt__elf_file_free(&f);
    return rc;
}

static int log_where(search_log *log, const char *what, kt_err *err)
{
    return kt__vec_append(&log->where, ", ", 2, err, "library search") < 0 ||
           kt__vec_append(&log->where, what, strlen(what), err, "library search") < 0 ? -1 : 0;
}

/* One candidate directory (here and in the guest). */
static int try_dir(prog *pg, int req, const char *name, const char *hdir, const char *gdir,
                   kt__dep_via via, search_log *log, kt_err *err)
{
    char host[PATH_MAX], gjoin[PATH_MAX], guest[PATH_MAX];

    if (log_where(log, hdir, err) < 0)
        return -1;
    if ((size_t)snprintf(host, sizeof(host), "%s/%s", hdir, name) >= sizeof(host) ||
        (size_t)snprintf(gjoin, sizeof(gjoin), "/%s/%s", gdir, name) >= sizeof(gjoin) ||
        kt__guest_path(gjoin, guest, sizeof(guest), NULL) < 0)
        return 0;   /* a name that long cannot be opened either */
    return try_file(pg, req, name, host, guest, via, log, err);
}

/* Length of a dynamic string token's name at p (after '$'), or 0. */
static size_t dst(const char *p, size_t left, const char *tok)
{
    size_t n = strlen(tok);

    if (left >= n + 2 && p[0] == '{' && memcmp(p + 1, tok, n) == 0 && p[n + 1] == '}')
        return n + 2;
    if (left >= n && memcmp(p, tok, n) == 0 &&
        (left == n || !(isalnum((unsigned char)p[n]) || p[n] == '_')))
        return n;
    return 0;
}

/* Expands one RPATH/RUNPATH element for object o into the directory here
 * and in the guest; 0 when the element is skipped. */
static int expand(const char *e, size_t len, const obj *o, char *hdir, char *gdir, size_t sz)
{
    size_t h = 0, g = 0;

    if (len == 0) {
        e = ".";    /* an empty element is the current directory */
        len = 1;
    }
    for (size_t i = 0; i < len;) {
        const char *hs = e + i, *gs = e + i;
        size_t hn = 1, gn = 1, t;

        if (e[i] == '$' && (t = dst(e + i + 1, len - i - 1, "ORIGIN")) > 0) {
            hs = o->horigin;
            gs = o->gorigin;
            hn = strlen(hs);
            gn = strlen(gs);
            i += 1 + t;
        } else if (e[i] == '$' && (dst(e + i + 1, len - i - 1, "LIB") ||
                                   dst(e + i + 1, len - i - 1, "PLATFORM"))) {
            return 0;
        } else {
            i++;
        }
        if (h + hn + 1 > sz || g + gn + 1 > sz)
            return 0;
        memcpy(hdir + h, hs, hn);
        memcpy(gdir + g, gs, gn);
        h += hn;
        g += gn;
    }
    hdir[h] = gdir[g] = '\0';
    return 1;
}

/* Every element of a colon-separated path list of object owner. */
static int try_list(prog *pg, int req, int owner, const char *list, const char *name,
                    kt__dep_via via, search_log *log, kt_err *err)
{
    const char *p = list;

    for (;;) {
        const char *end = strchr(p, ':');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char hdir[PATH_MAX], gdir[PATH_MAX];
        int rc;

        if (expand(p, len, obj_at(pg, (size_t)owner), hdir, gdir, sizeof(hdir))) {
            rc = try_dir(pg, req, name, hdir, gdir, via, log, err);
            if (rc != 0)
                return rc;
        }
        if (!end)
            return 0;
        p = end + 1;
    }
}

static int search_dirs(prog *pg, int req, const char *name, search_log *log, kt_err *err)
{
    const obj *r = obj_at(pg, (size_t)req);
    kt__deps *d = pg->d;
    int rc;

    if (strchr(name, '/')) {
        char guest[PATH_MAX];

        if (log_where(log, "the path itself", err) < 0)
            return -1;
        if (kt__guest_path(name, guest, sizeof(guest), err) < 0)
            return -1;
        return try_file(pg, req, name, name, guest, KT__VIA_PATH, log, err);
    }
    if (!r->runpath)
        for (int l = req; l >= 0; l = obj_at(pg, (size_t)l)->loader)
            if (obj_at(pg, (size_t)l)->rpath &&
                (rc = try_list(pg, req, l, obj_at(pg, (size_t)l)->rpath, name,
                               KT__VIA_RPATH, log, err)) != 0)
                return rc;
    if (r->runpath &&
        (rc = try_list(pg, req, req, r->runpath, name, KT__VIA_RUNPATH, log, err)) != 0)
        return rc;
    if (r->nodeflib)
        return 0;
    if (d->cache_ok) {
        const char *p = kt__ldcache_lookup(&d->cache, name);
        char guest[PATH_MAX];

        if (log_where(log, d->cache_path, err) < 0)
            return -1;
        if (p && kt__guest_path(p, guest, sizeof(guest), NULL) == 0 &&
            (rc = try_file(pg, req, name, p, guest, KT__VIA_CACHE, log, err)) != 0)
            return rc;
    } else {
        for (size_t i = 0; i < d->confdirs.n; i++) {
            const char *dir = *(char **)kt__vec_at(&d->confdirs, i);

            if ((rc = try_dir(pg, req, name, dir, dir, KT__VIA_CONFDIR, log, err)) != 0)
                return rc;
        }
    }
    for (size_t i = 0; d->sysdirs[i]; i++)
        if ((rc = try_dir(pg, req, name, d->sysdirs[i], d->sysdirs[i], KT__VIA_SYSDIR, log,
                          err)) != 0)
            return rc;
    return 0;
}

static int search(prog *pg, int req, const char *name, kt_err *err)
{
    search_log log = { .where = KT__VEC_INIT(char) };
    int rc = search_dirs(pg, req, name, &log, err);

    if (rc == 0)
        rc = kt_err_set(err, ENOENT, "%s, needed by %s: not found (searched %s)%s%s", name,
                        obj_at(pg, (size_t)req)->host,
                        log.where.n > 2 ? (char *)log.where.v + 2 : "nothing",
                        log.skipped[0] ? "; skipped " : "", log.skipped);
    kt__vec_free(&log.where);
    return rc < 0 ? -1 : 0;
}

static int add_interp(prog *pg, const char *program, const char *interp, kt_err *err)
{
    kt__elf_file f;
    char guest[PATH_MAX];
    int rc = -1;

    if (kt__guest_path(interp, guest, sizeof(guest), err) < 0)
        return prefix(err, "%s: loader: %s", program, "");
    if (kt__elf_load(interp, &f, err) < 0) {
        prefix(err, "%s: loader (PT_INTERP): %s", program, "");
        goto out;
    }
    if (add_dep(pg->d, interp, interp, guest, KT__VIA_INTERP, &f.st, err) < 0 ||
        add_name(pg, interp, err) < 0 || add_name(pg, f.elf.soname, err) < 0)
        goto out;
    rc = 0;
out:
    kt__elf_file_free(&f);
    return rc;
}

int kt__deps_add(kt__deps *d, const char *program, const char *guest, kt_err *err)
{
    prog pg = { .d = d, .objs = KT__VEC_INIT(obj), .names = KT__VEC_INIT(char *) };
    kt__elf_file f;
    char real[PATH_MAX];
    int rc = -1;

    if (kt__elf_load(program, &f, err) < 0)
        goto out;
    if (f.elf.type != ET_EXEC_ && f.elf.type != ET_DYN_) {
        kt_err_set(err, ENOEXEC, "%s: ELF type %u is not a program", program, f.elf.type);
        goto out;
    }
    if (!f.elf.interp) {
        rc = 0;
        if (f.elf.needed.n > 0)
            rc = kt_err_set(err, ENOEXEC, "%s: has DT_NEEDED entries but no PT_INTERP "
                            "(a shared library, not a program?)", program);
        goto out;
    }
    /* The program's $ORIGIN is its real directory: the loader reads it from
     * /proc/self/exe. */
    if (!realpath(program, real)) {
        kt_err_sys(err, errno, "%s: realpath", program);
        goto out;
    }
    if (add_interp(&pg, program, f.elf.interp, err) < 0 ||
        obj_push(&pg, program, real, guest, &f, -1, err) < 0)
        goto out;
    kt__elf_file_free(&f);
    for (size_t i = 0; i < pg.objs.n; i++)
        for (size_t k = 0; k < obj_at(&pg, i)->needed.n; k++) {
            const char *name = *(char **)kt__vec_at(&obj_at(&pg, i)->needed, k);

            if (!has_name(&pg, name) && search(&pg, (int)i, name, err) < 0)
                goto out;
        }
    rc = 0;
out:
    kt__elf_file_free(&f);
    for (size_t i = 0; i < pg.objs.n; i++)
        obj_free(obj_at(&pg, i));
    kt__vec_free(&pg.objs);
    for (size_t i = 0; i < pg.names.n; i++)
        free(*(char **)kt__vec_at(&pg.names, i));
    kt__vec_free(&pg.names);
    return rc;
}

/* ---- configuration ---------------------------------------------------- */

static int add_confdir(kt__deps *d, const char *dir, size_t len, kt_err *err)
{
    char *c;

    while (len > 1 && dir[len - 1] == '/')
        len--;
    if (len == 0 || dir[0] != '/')
        return 0;   /* ldconfig ignores relative directories too */
    for (size_t i = 0; i < d->confdirs.n; i++) {
        const char *o = *(char **)kt__vec_at(&d->confdirs, i);

        if (strlen(o) == len && memcmp(o, dir, len) == 0)
            return 0;
    }
    if (!(c = strndup(dir, len)))
        return kt_err_sys(err, ENOMEM, "ld.so.conf directories");
    if (kt__vec_push(&d->confdirs, &c, err, "ld.so.conf directories") < 0) {
        free(c);
        return -1;
    }
    return 0;
}

static int read_conf(kt__deps *d, const char *path, int depth, kt_err *err);

static int include_glob(kt__deps *d, const char *conf, const char *pat, int depth,
                        kt_err *err)
{
    char full[PATH_MAX];
    glob_t g;
    int rc = 0;

    if (pat[0] == '/') {
        snprintf(full, sizeof(full), "%s", pat);
    } else {
        const char *slash = strrchr(conf, '/');

        snprintf(full, sizeof(full), "%.*s/%s", slash ? (int)(slash - conf) : 1,
                 slash ? conf : ".", pat);
    }
    if (glob(full, 0, NULL, &g) != 0)
        return 0;
    for (size_t i = 0; i < g.gl_pathc && rc == 0; i++)
        rc = read_conf(d, g.gl_pathv[i], depth + 1, err);
    globfree(&g);
    return rc;
}

/* ldconfig's syntax: one directory a line ("=type" suffixes dropped),
 * "include GLOB...", "hwcap ..." (ignored), '#' comments. */
static int read_conf(kt__deps *d, const char *path, int depth, kt_err *err)
{
    FILE *f;
    char *line = NULL;
    size_t cap = 0;
    int rc = 0;

    if (depth > CONF_DEPTH_MAX || !(f = fopen(path, "re")))
        return 0;
    while (rc == 0 && getline(&line, &cap, f) >= 0) {
        char *p = line, *hash = strchr(line, '#'), *end;

        if (hash)
            *hash = '\0';
        while (isspace((unsigned char)*p))
            p++;
        end = p + strlen(p);
        while (end > p && isspace((unsigned char)end[-1]))
            *--end = '\0';
        if (strncmp(p, "include", 7) == 0 && isblank((unsigned char)p[7])) {
            char *save = NULL;

            for (char *pat = strtok_r(p + 8, " \t", &save); pat && rc == 0;
                 pat = strtok_r(NULL, " \t", &save))
                rc = include_glob(d, path, pat, depth, err);
        } else if (strncasecmp(p, "hwcap", 5) == 0 && isblank((unsigned char)p[5])) {
            continue;
        } else if (*p) {
            char *eq = strchr(p, '=');

            rc = add_confdir(d, p, eq ? (size_t)(eq - p) : strlen(p), err);
        }
    }
    free(line);
    fclose(f);
    return rc;
}

int kt__deps_init(kt__deps *d, const kt__ldconf *conf, kt_err *err)
{
    const char *cache = conf && conf->cache ? conf->cache : "/etc/ld.so.cache";
    const char *cf = conf && conf->conf ? conf->conf : "/etc/ld.so.conf";

    *d = (kt__deps){ .list = KT__VEC_INIT(kt__dep), .confdirs = KT__VEC_INIT(char *) };
    d->sysdirs = conf && conf->sysdirs ? conf->sysdirs : default_sysdirs;
    snprintf(d->cache_path, sizeof(d->cache_path), "%s", cache);
    if (cache[0] && kt__ldcache_load(&d->cache, cache, NULL) == 0) {
        d->cache_ok = true;
        return 0;
    }
    if (!cf[0])
        return 0;
    if (access(cf, F_OK) == 0)
        return read_conf(d, cf, 0, err);
    if (!(conf && conf->conf))
        return include_glob(d, "/etc/x", "ld.so.conf.d/*.conf", 0, err);
    return 0;
}

void kt__deps_free(kt__deps *d)
{
    for (size_t i = 0; i < d->list.n; i++) {
        kt__dep *p = kt__vec_at(&d->list, i);

        free(p->name);
        free(p->host);
        free(p->guest);
        free(p->link);
    }
    kt__vec_free(&d->list);
    for (size_t i = 0; i < d->confdirs.n; i++)
        free(*(char **)kt__vec_at(&d->confdirs, i));
    kt__vec_free(&d->confdirs);
    kt__ldcache_free(&d->cache);
}
