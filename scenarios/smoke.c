/* Smoke: the runner works on this machine and the simplest facts a
 * scheduler test relies on hold. */
#include <ktstr.h>

#include <pthread.h>
#include <time.h>
#include <unistd.h>

static double cpu_seconds(clockid_t clock)
{
    struct timespec ts;

    if (clock_gettime(clock, &ts) != 0)
        return -1.0;
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The affinity mask the runner measured agrees with the CPUs online
 * (they differ only under taskset or a cpuset, which a note reveals). */
KT_SCENARIO(affinity_matches_online_cpus, .timeout_s = 10,
            .purpose = "the affinity mask the runner sees matches the CPUs online")
{
    long online = sysconf(_SC_NPROCESSORS_ONLN);

    kt_verdict_note(v, "%d CPUs in the affinity mask, %ld online", ctx->ncpus, online);
    CLAIM(v, ctx->ncpus, at_least, 1);
    CLAIM(v, ctx->ncpus, at_most, online);
    CLAIM(v, ctx->ncpus, eq, online);
}

static void *sleeper(void *arg)
{
    double *used = arg;
    struct timespec nap = { 0, 200 * 1000 * 1000 };

    nanosleep(&nap, NULL);
    *used = cpu_seconds(CLOCK_THREAD_CPUTIME_ID);
    return NULL;
}

/* A thread that sleeps 200 ms uses almost no CPU: generous bound (20 ms)
 * so a loaded machine cannot make it flaky. */
KT_SCENARIO(sleeping_thread_uses_no_cpu, .timeout_s = 10,
            .purpose = "a sleeping thread uses almost no CPU")
{
    pthread_t t;
    double used = -1.0;

    if (pthread_create(&t, NULL, sleeper, &used) != 0) {
        kt_verdict_skip(v, "pthread_create failed");
        return;
    }
    pthread_join(t, NULL);
    kt_verdict_note(v, "sleeping thread used %.3f ms of CPU", used * 1e3);
    CLAIM(v, used, between, 0.0, 0.020);
}

KT_MAIN()
