/*
 * Shared by the guest-image tests (tests/guest_*.c): scratch directories,
 * whole files, and shell commands whose output a test compares (GNU cpio,
 * ldd and cc are the independent readers and builders here).
 */
#ifndef KT_TESTS_GUEST_HELPERS_H
#define KT_TESTS_GUEST_HELPERS_H

#include "harness/unit.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* A fresh directory under $TMPDIR (or /tmp); aborts when none can be made. */
static inline void scratch_dir(char *out, size_t n, const char *tag)
{
    const char *t = getenv("TMPDIR");

    snprintf(out, n, "%s/kt-%s-XXXXXX", t && *t ? t : "/tmp", tag);
    if (!mkdtemp(out)) {
        perror("mkdtemp");
        abort();
    }
}

static inline int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
    (void)st;
    (void)flag;
    (void)f;
    return remove(p) < 0 && errno != ENOENT ? -1 : 0;
}

static inline void rm_tree(const char *dir)
{
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* The bytes of path (NUL-terminated, length in *len); NULL if unreadable. */
static inline char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t cap = 0, n = 0;

    if (!f)
        return NULL;
    for (;;) {
        if (n + 4096 + 1 > cap) {
            char *nb = realloc(buf, cap = (n + 4096 + 1) * 2);

            if (!nb) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = nb;
        }
        size_t r = fread(buf + n, 1, cap - n - 1, f);

        n += r;
        if (r == 0)
            break;
    }
    fclose(f);
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

static inline int spew(const char *path, const void *data, size_t len, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    ssize_t w;

    if (fd < 0)
        return -1;
    w = write(fd, data, len);
    close(fd);
    if (w != (ssize_t)len)
        return -1;
    return chmod(path, mode);
}

/* Runs a shell command (printf-style) and returns its stdout (stderr is
 * kept apart, in *errout when asked for) and exit status in *status;
 * NULL when it could not be run. */
static inline char *run_cmd(int *status, char **errout, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static inline char *run_cmd(int *status, char **errout, const char *fmt, ...)
{
    char cmd[4096], errf[] = "/tmp/kt-cmd-err-XXXXXX", full[4200];
    va_list ap;
    FILE *p;
    char *out = NULL;
    size_t cap = 0, n = 0, r;
    int fd, st;

    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    if ((fd = mkstemp(errf)) < 0)
        return NULL;
    close(fd);
    snprintf(full, sizeof(full), "( %s ) 2>%s", cmd, errf);
    fflush(stdout);
    if (!(p = popen(full, "r"))) {
        unlink(errf);
        return NULL;
    }
    do {
        if (n + 4096 + 1 > cap) {
            char *nb = realloc(out, cap = (n + 4096 + 1) * 2);

            if (!nb)
                abort();
            out = nb;
        }
        r = fread(out + n, 1, cap - n - 1, p);
        n += r;
    } while (r > 0);
    out[n] = '\0';
    st = pclose(p);
    if (status)
        *status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
    if (errout)
        *errout = slurp(errf, NULL);
    unlink(errf);
    return out;
}

/* True when the shell finds command name on PATH. */
static inline bool have_cmd(const char *name)
{
    int st = 1;
    char *o = run_cmd(&st, NULL, "command -v %s", name);

    free(o);
    return st == 0;
}

/* Runs cc with args (a shell fragment) in dir; true when it built. */
static inline bool cc_in(const char *dir, const char *args)
{
    int st = -1;
    char *err = NULL, *out = run_cmd(&st, &err, "cd %s && cc %s", dir, args);

    if (st != 0)
        fprintf(stderr, "# cc %s: %s\n", args, err ? err : "?");
    free(out);
    free(err);
    return st == 0;
}

static inline int put_src(const char *dir, const char *name, const char *text)
{
    char p[600];

    snprintf(p, sizeof(p), "%s/%s", dir, name);
    return spew(p, text, strlen(text), 0644);
}

/* Test programs in dir, each exiting 0 when its libraries load and work:
 *   lib/libkt_b.so; lib/libkt_a.so (RUNPATH $ORIGIN) needs libkt_b.so;
 *   bin/prog (RUNPATH $ORIGIN/../lib) needs libkt_a.so;
 *   rp/libkt_c.so; rp2/libkt_d.so (no paths) needs libkt_c.so;
 *   bin/prog2 (DT_RPATH $ORIGIN/../rp2:$ORIGIN/../rp) needs libkt_d.so,
 *   whose libkt_c.so is found through prog2's RPATH, which the loader
 *   inherits; bin/prog3 is prog2 with a RUNPATH, which it does not. */
static inline bool build_lib_progs(const char *dir)
{
    if (put_src(dir, "b.c", "int kt_b(void) { return 2; }\n") < 0 ||
        put_src(dir, "a.c", "int kt_b(void);\nint kt_a(void) { return kt_b() + 1; }\n") < 0 ||
        put_src(dir, "c.c", "int kt_c(void) { return 5; }\n") < 0 ||
        put_src(dir, "d.c", "int kt_c(void);\nint kt_d(void) { return kt_c() + 1; }\n") < 0 ||
        put_src(dir, "main.c", "int kt_a(void);\nint main(void) { return kt_a() == 3 ? 0 : 1; }\n") < 0 ||
        put_src(dir, "main2.c", "int kt_d(void);\nint main(void) { return kt_d() == 6 ? 0 : 1; }\n") < 0)
        return false;
    return cc_in(dir, "-E - </dev/null >/dev/null && mkdir -p lib bin rp rp2 && "
                 "cc -shared -fPIC -Wl,-soname,libkt_b.so -o lib/libkt_b.so b.c && "
                 "cc -shared -fPIC -Wl,-soname,libkt_a.so -Wl,--enable-new-dtags "
                 "-Wl,-rpath,'$ORIGIN' -o lib/libkt_a.so a.c -Llib -lkt_b && "
                 "cc -o bin/prog main.c -Llib -lkt_a -Wl,--enable-new-dtags "
                 "-Wl,-rpath,'$ORIGIN/../lib' -Wl,-rpath-link,lib && "
                 "cc -shared -fPIC -Wl,-soname,libkt_c.so -o rp/libkt_c.so c.c && "
                 "cc -shared -fPIC -Wl,-soname,libkt_d.so -o rp2/libkt_d.so d.c -Lrp -lkt_c && "
                 "cc -o bin/prog2 main2.c -Lrp2 -lkt_d -Wl,-rpath-link,rp -Wl,--disable-new-dtags "
                 "-Wl,-rpath,'$ORIGIN/../rp2:$ORIGIN/../rp' && "
                 "cc -o bin/prog3 main2.c -Lrp2 -lkt_d -Wl,-rpath-link,rp -Wl,--enable-new-dtags "
                 "-Wl,-rpath,'$ORIGIN/../rp2:$ORIGIN/../rp'");
}

#endif
