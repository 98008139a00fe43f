/*
 * Fixtures for the tests of the worker kinds (tests/work/kinds_*.c):
 * start a set, check what every kind must do while it runs (a comm of
 * ktw<N>, progress) and after the stop (no error, a run time), and read
 * a thread's counters from /proc. Nothing here is the code under test.
 *
 *   kt_err err;
 *   kt_work *w = fx_start(&spec, &err);        // NULL: a failed check
 *   fx_sleep_ms(300);
 *   expect_alive(w);
 *   kt_work_stop(w);
 *   expect_stopped(w);
 */
#ifndef KT_TESTS_WORK_FIXTURE_H
#define KT_TESTS_WORK_FIXTURE_H

#include "harness/unit.h"

#include <ktstr/work.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define FX_MS 1000000u

static inline void fx_sleep_ms(unsigned ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

    while (nanosleep(&ts, &ts))
        ;
}

/* A set of the given specs, started; NULL with err when adding or
 * starting failed (the caller decides whether that is a skip). */
static inline kt_work *fx_try(const kt_work_spec *specs, size_t n, kt_err *err)
{
    kt_work *w = kt_work_new(0, err);

    for (size_t i = 0; w && i < n; i++)
        if (kt_work_add(w, &specs[i], err)) {
            kt_work_free(w);
            return NULL;
        }
    if (w && kt_work_start(w, err)) {
        kt_work_free(w);
        return NULL;
    }
    return w;
}

/* The same, where failing to start fails the point. */
static inline kt_work *fx_start(const kt_work_spec *spec, kt_err *err)
{
    kt_work *w = fx_try(spec, 1, err);

    if (!check(w != NULL))
        test_msg("%s", err->msg);
    return w;
}

/* Whether a start refused for lack of RT privilege: then the point is a
 * skip with the library's own message as the reason. */
static inline bool fx_skip_eperm(const kt_err *err)
{
    if (err->code != EPERM)
        return false;
    test_skip("needs SCHED_FIFO: %s", err->msg);
    return true;
}

/* A numeric field of /proc/self/task/<tid>/status ("nonvoluntary_ctxt_switches"). */
static inline long long fx_status_field(int tid, const char *key)
{
    char path[64], line[256];
    size_t kl = strlen(key);
    long long v = -1;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/self/task/%d/status", tid);
    f = fopen(path, "r");
    if (!f)
        return -1;
    while (fgets(line, sizeof(line), f))
        if (strncmp(line, key, kl) == 0 && line[kl] == ':') {
            v = strtoll(line + kl + 1, NULL, 10);
            break;
        }
    fclose(f);
    return v;
}

/* Field 10 (minflt) of /proc/self/task/<tid>/stat; -1 if unreadable. */
static inline long long fx_minflt(int tid)
{
    char path[64], buf[1024], *p;
    long long v = -1;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
    f = fopen(path, "r");
    if (!f)
        return -1;
    if (fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')'))) {
        p++;                                   /* the space before field 3 */
        for (int field = 3; field < 10 && p; field++)
            p = strchr(p + 1, ' ');
        if (p)
            v = strtoll(p + 1, NULL, 10);
    }
    fclose(f);
    return v;
}

/* What every worker does while it runs: its comm is ktw<N>, it made
 * progress. Thread workers only (their comm is under /proc/self/task). */
static inline void expect_alive(const kt_work *w)
{
    char path[64], comm[32], want[32];
    FILE *f;

    for (size_t i = 0; i < kt_work_count(w); i++) {
        snprintf(path, sizeof(path), "/proc/self/task/%d/comm", kt_work_tid(w, i));
        comm[0] = '\0';
        f = fopen(path, "r");
        if (f) {
            if (fgets(comm, sizeof(comm), f))
                comm[strcspn(comm, "\n")] = '\0';
            fclose(f);
        }
        snprintf(want, sizeof(want), "ktw%zu", i);
        check_str(comm, want);
        check_uint(kt_work_iterations(w, i), >, 0);
    }
}

/* After the stop: no worker ended on an error, each ran. */
static inline void expect_stopped(const kt_work *w)
{
    kt_work_result r;

    for (size_t i = 0; i < kt_work_count(w); i++) {
        check_int(kt_work_get(w, i, &r, NULL), ==, 0);
        if (!check(r.error == NULL))
            test_msg("ktw%u: %s", r.index, r.error);
        check_uint(r.run_ns, >, 0);
        check_dbl(r.per_s, ==, r.iterations * 1e9 / r.run_ns);
    }
}

/* Runs fn in a forked child (which may drop privileges for good) and
 * checks that it exited 0; a skip without root, which dropping needs. */
static inline void fx_in_child_as_root(int (*fn)(void))
{
    pid_t pid;
    int status;

    if (geteuid() != 0) {
        test_skip("dropping privilege needs root to start with");
        return;
    }
    fflush(NULL);
    pid = fork();
    if (pid == 0)
        _exit(fn());
    check_int(pid, >, 0);
    check_int(waitpid(pid, &status, 0), ==, pid);
    check(WIFEXITED(status));
    check_int(WEXITSTATUS(status), ==, 0);
}

/* kt_work_add refuses s with EINVAL and a message containing `what`. */
static inline void expect_refused(const kt_work_spec *s, const char *what)
{
    kt_err err = { 0 };
    kt_work *w = kt_work_new(0, &err);

    check_int(kt_work_add(w, s, &err), ==, -1);
    check_int(err.code, ==, EINVAL);
    check_contains(err.msg, what);
    check_uint(kt_work_count(w), ==, 0);
    kt_work_free(w);
}

#endif
