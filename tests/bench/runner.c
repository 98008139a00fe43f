/* The runner's cost per scenario (fork, pipe, poll, wait, reap, TAP)
 * against a bare fork + _exit + waitpid loop measured in the same run.
 * Medians of REPS repetitions; the TAP goes to /dev/null. */
#include <ktstr.h>

#include "bench.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define N 200
#define REPS 7

static void empty_body(kt_ctx *ctx, kt_verdict *v)
{
    (void)ctx;
    (void)v;
}

static double now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}


/* One pass of the baseline: N bare children. */
static double fork_wait_us(void)
{
    double t0 = now_us();

    for (int i = 0; i < N; i++) {
        pid_t pid = fork();

        if (pid < 0) {
            perror("fork");
            exit(1);
        }
        if (pid == 0)
            _exit(0);
        waitpid(pid, NULL, 0);
    }
    return (now_us() - t0) / N;
}

/* One pass of the runner over the N empty scenarios, stdout to /dev/null. */
static double runner_us(char *prog)
{
    char *argv[] = { prog, NULL };
    int saved = dup(STDOUT_FILENO), null = open("/dev/null", O_WRONLY | O_CLOEXEC);
    double t0, t;
    int rc;

    if (saved < 0 || null < 0) {
        perror("dup or open /dev/null");
        exit(1);
    }
    fflush(stdout);
    dup2(null, STDOUT_FILENO);
    t0 = now_us();
    rc = kt_main(1, argv);
    fflush(stdout);
    t = (now_us() - t0) / N;
    dup2(saved, STDOUT_FILENO);
    close(saved);
    close(null);
    if (rc != 0) {
        fprintf(stderr, "runner bench: kt_main returned %d\n", rc);
        exit(1);
    }
    return t;
}

int main(int argc, char **argv)
{
    char names[N][16];
    double base[REPS], run[REPS], b, r;

    (void)argc;
    for (int i = 0; i < N; i++) {
        kt_scenario s = { names[i], empty_body, { .opts_version_ = 1 }, "bench", i + 1 };

        snprintf(names[i], sizeof(names[i]), "empty_%03d", i);
        kt_register(&s);
    }
    /* Interleaved so that load from elsewhere hits both alike. */
    for (int k = 0; k < REPS; k++) {
        base[k] = fork_wait_us();
        run[k] = runner_us(argv[0]);
    }
    b = bench_median(base, REPS);
    r = bench_median(run, REPS);
    printf("bench: runner.fork_wait_us %.1f us\n", b);
    printf("bench: runner.per_scenario_us %.1f us\n", r);
    printf("bench: runner.overhead_ratio %.2f x\n", r / b);
    return 0;
}
