/* A stand-in for a user's sched_ext scheduler, for tests/runner/vm_mode.t: it
 * attaches for real (builtin:fifo over plain bpf()) or misbehaves.
 *
 *   fake_sched --exit-now            exits 3 at once
 *   fake_sched --never               never attaches, sleeps
 *   fake_sched [--ignore-int] [--spam N] [--die-ms N] ARGS...
 *       attaches, prints each ARG as "arg[<i>]=<ARG>", N more lines, and
 *       runs until SIGINT (ignored with --ignore-int) or, with --die-ms,
 *       exits 4 that long after attaching */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scx/scx.h"

static volatile sig_atomic_t stop;

static void on_int(int sig)
{
    (void)sig;
    stop = 1;
}

int main(int argc, char **argv)
{
    kt__scx_handle h;
    kt_err err = { 0 };
    long spam = 0, die_ms = -1;
    int i = 1;

    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc > 1 && strcmp(argv[1], "--exit-now") == 0)
        return 3;
    if (argc > 1 && strcmp(argv[1], "--never") == 0)
        for (;;)
            pause();
    signal(SIGINT, on_int);
    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        if (strcmp(argv[i], "--ignore-int") == 0)
            signal(SIGINT, SIG_IGN);
        else if (strcmp(argv[i], "--spam") == 0 && i + 1 < argc)
            spam = atol(argv[++i]);
        else if (strcmp(argv[i], "--die-ms") == 0 && i + 1 < argc)
            die_ms = atol(argv[++i]);
    }
    if (kt__scx_builtin_load("builtin:fifo", &h, &err) < 0) {
        fprintf(stderr, "fake_sched: %s\n", err.msg);
        return 1;
    }
    for (int k = i; k < argc; k++)
        printf("arg[%d]=%s\n", k - i, argv[k]);
    for (long k = 0; k < spam; k++)
        printf("spam line %ld of %ld\n", k + 1, spam);
    if (die_ms >= 0) {
        usleep((useconds_t)die_ms * 1000);
        return 4;
    }
    while (!stop)
        pause();
    kt__scx_builtin_unload(&h);
    printf("fake_sched: stopped\n");
    return 0;
}
