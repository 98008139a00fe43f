/* Where the ktstr command finds what it runs, and how it runs it. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cmd/cmd.h"

extern char **environ;

int kt__cmd_libexec(char *buf, size_t n, kt_err *err)
{
    const char *env = getenv("KTSTR_LIBEXEC");
    char exe[PATH_MAX];
    ssize_t len;
    char *slash;
    struct stat st;

    if (env && *env) {
        snprintf(buf, n, "%s", env);
    } else {
        len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
        if (len < 0)
            return kt_err_sys(err, errno, "ktstr: readlink /proc/self/exe");
        exe[len] = '\0';
        slash = strrchr(exe, '/');
        if (slash)
            *slash = '\0';      /* <prefix>/bin */
        snprintf(buf, n, "%s/../libexec/ktstr", exe);
    }
    if (stat(buf, &st) < 0 || !S_ISDIR(st.st_mode))
        return kt_err_set(err, ENOENT, "ktstr: no %s (install with `make install`, or set "
                          "KTSTR_LIBEXEC)", buf);
    /* without "..": prove saves a file's TAP under the path it was given */
    if (realpath(buf, exe) && strlen(exe) < n)
        strcpy(buf, exe);
    return 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int kt__cmd_catalog(kt__vec *files, kt_err *err)
{
    char dir[PATH_MAX], path[PATH_MAX + 300];
    struct dirent *e;
    DIR *d;

    *files = (kt__vec)KT__VEC_INIT(char *);
    if (kt__cmd_libexec(dir, sizeof(dir) - 16, err) < 0)
        return -1;
    strcat(dir, "/scenarios");
    d = opendir(dir);
    if (!d)
        return kt_err_sys(err, errno, "ktstr: the catalog %s", dir);
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        char *copy;

        if (len < 3 || strcmp(e->d_name + len - 2, ".t") != 0 || e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        if (access(path, X_OK) < 0)
            continue;
        copy = strdup(path);
        if (!copy || kt__vec_push(files, &copy, err, "ktstr: the catalog") < 0) {
            free(copy);
            closedir(d);
            kt__cmd_free_strs(files);
            return -1;
        }
    }
    closedir(d);
    if (files->n == 0)
        return kt_err_set(err, ENOENT, "ktstr: the catalog %s holds no scenario file", dir);
    qsort(files->v, files->n, sizeof(char *), by_name);
    return 0;
}

int kt__cmd_kernel_dir(char *buf, size_t n, kt_err *err)
{
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");

    if (xdg && *xdg == '/')
        snprintf(buf, n, "%s/ktstr/kernel", xdg);
    else if (home && *home)
        snprintf(buf, n, "%s/.cache/ktstr/kernel", home);
    else
        return kt_err_set(err, ENOENT, "ktstr: neither XDG_CACHE_HOME nor HOME is set: "
                          "name the kernel directory");
    return 0;
}

/* Waits for pid; its exit status, 128 + signal when killed. */
static int wait_for(pid_t pid)
{
    int st;

    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int kt__cmd_capture(char *const argv[], kt__vec *out, kt_err *err)
{
    posix_spawn_file_actions_t fa;
    int p[2], rc;
    pid_t pid;
    char buf[4096];
    ssize_t got;

    *out = (kt__vec)KT__VEC_INIT(char);
    if (pipe2(p, O_CLOEXEC) < 0)
        return kt_err_sys(err, errno, "ktstr: pipe");
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, p[1], STDOUT_FILENO);
    rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(p[1]);
    if (rc != 0) {
        close(p[0]);
        return kt_err_sys(err, rc, "ktstr: run %s", argv[0]);
    }
    while ((got = read(p[0], buf, sizeof(buf))) != 0) {
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0 || kt__vec_append(out, buf, (size_t)got, err, "ktstr: output") < 0)
            break;
    }
    close(p[0]);
    rc = wait_for(pid);
    if (rc < 0)
        return kt_err_sys(err, errno, "ktstr: wait for %s", argv[0]);
    if (kt__vec_append(out, "", 0, err, "ktstr: output") < 0)
        return -1;
    return rc;
}

int kt__cmd_spawn(char *const argv[], kt_err *err)
{
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], NULL, NULL, argv, environ);

    if (rc != 0)
        return kt_err_sys(err, rc, "ktstr: run %s", argv[0]);
    rc = wait_for(pid);
    if (rc < 0)
        return kt_err_sys(err, errno, "ktstr: wait for %s", argv[0]);
    return rc;
}

int kt__cmd_scenarios(const char *file, bool describe, kt__vec *lines, kt_err *err)
{
    char *argv[] = { (char *)file, describe ? "--describe" : "--list", "--filter", "*",
                     "--shard", "1/1", NULL };
    kt__vec out;
    int rc = kt__cmd_capture(argv, &out, err);

    *lines = (kt__vec)KT__VEC_INIT(char *);
    if (rc != 0) {
        kt__vec_free(&out);
        if (rc > 0)
            kt_err_set(err, EINVAL, "%s: %s failed (not a ktstr scenario file?)", file, argv[1]);
        return -1;
    }
    for (char *line = out.v, *nl; line && (nl = strchr(line, '\n')) != NULL; line = nl + 1) {
        char *copy = strndup(line, (size_t)(nl - line));

        if (!copy || kt__vec_push(lines, &copy, err, "ktstr: scenario names") < 0) {
            free(copy);
            kt__vec_free(&out);
            kt__cmd_free_strs(lines);
            return -1;
        }
    }
    kt__vec_free(&out);
    if (lines->n == 0)
        return kt_err_set(err, ENOENT, "%s: %s printed no scenario (not a ktstr scenario "
                          "file?)", file, argv[1]);
    return 0;
}

void kt__cmd_free_strs(kt__vec *v)
{
    for (size_t i = 0; i < v->n; i++)
        free(((char **)v->v)[i]);
    kt__vec_free(v);
}
