/*
 * Shared by the guest-image tests (tests/guest_*.c): scratch directories,
 * whole files, and shell commands whose output a test compares (GNU cpio,
 * ldd and cc are the independent readers and builders here).
 */
#ifndef KT_TESTS_GUEST_HELPERS_H
#define KT_TESTS_GUEST_HELPERS_H

#include "unit.h"

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

#endif
