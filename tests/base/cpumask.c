/* kt__cpumask: the whole affinity mask, the same count every layer reports
 * (kt_allowed_cpus, the runner's ncpus), other threads' masks, and errors
 * that name the thread. */
#include "harness/unit.h"

#include "base/cpumask.h"
#include "runner/reqs.h"
#include "ktstr/work.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static void t_self(void)
{
    kt__cpumask m;
    kt_err err = { 0 };
    cpu_set_t fixed;
    int fixed_ok, agree = 1;

    if (!check_int(kt__cpumask_get(0, &m, &err), ==, 0)) {
        test_msg("%s", err.msg);
        return;
    }
    check(m.set != NULL);
    check_int(m.bits, >=, CPU_SETSIZE);
    check_uint(m.size * 8, ==, (size_t)m.bits);
    check_int(kt__cpumask_count(&m), >=, 1);
    check(!kt__cpumask_has(&m, -1));
    check(!kt__cpumask_has(&m, m.bits));
    /* below 1024 possible CPUs a fixed cpu_set_t reads the same mask */
    fixed_ok = sched_getaffinity(0, sizeof(fixed), &fixed) == 0;
    if (fixed_ok) {
        check_int(kt__cpumask_count(&m), ==, CPU_COUNT(&fixed));
        for (int c = 0; c < CPU_SETSIZE; c++)
            if (kt__cpumask_has(&m, c) != !!CPU_ISSET(c, &fixed))
                agree = 0;
        check(agree);
    } else {
        test_msg("more than %d possible CPUs: fixed mask says %s", CPU_SETSIZE, strerror(errno));
    }
    kt__cpumask_free(&m);
    check(m.set == NULL);
    check_int(kt__cpumask_count(&m), ==, 0);
    kt__cpumask_free(&m);                 /* safe twice */
}

static void t_layers_agree(void)
{
    kt__cpumask m;
    kt_err err = { 0 };
    int *cpus, n, bad = 0, one;

    if (!check_int(kt__cpumask_get(0, &m, &err), ==, 0))
        return;
    cpus = calloc((size_t)m.bits, sizeof(*cpus));
    if (!check(cpus != NULL))
        goto out;
    n = kt_allowed_cpus(cpus, m.bits, &err);
    check_int(n, ==, kt__cpumask_count(&m));
    check_int(kt__affinity_cpus(), ==, kt__cpumask_count(&m));
    for (int i = 0; i < n; i++)
        if (!kt__cpumask_has(&m, cpus[i]) || (i > 0 && cpus[i] <= cpus[i - 1]))
            bad++;
    check_int(bad, ==, 0);                /* ascending, each in the mask */
    check_int(kt_allowed_cpus(&one, 1, &err), ==, 1);
    check_int(one, ==, cpus[0]);          /* at most cap, lowest first */
    free(cpus);
out:
    kt__cpumask_free(&m);
}

/* Records its own tid, then ends: a tid that is gone once joined. */
static void *record_tid(void *arg)
{
    *(int *)arg = (int)syscall(SYS_gettid);
    return NULL;
}

static void t_gone_thread(void)
{
    int tid = 0;
    kt__cpumask m;
    kt_err err = { 0 };
    pthread_t th;

    if (!check_int(pthread_create(&th, NULL, record_tid, &tid), ==, 0))
        return;
    pthread_join(th, NULL);
    if (!check_int(tid, >, 0))
        return;
    check_int(kt__cpumask_get(tid, &m, &err), ==, -1);
    check_int(err.code, ==, ESRCH);
    check_contains(err.msg, "affinity (tid ");
    check_contains(err.msg, "sched_getaffinity");
    check(m.set == NULL);
}

typedef struct pinned {
    int cpu, tid;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int ready, done;
} pinned;

static void *pin_and_wait(void *arg)
{
    pinned *p = arg;
    cpu_set_t one;

    CPU_ZERO(&one);
    CPU_SET(p->cpu, &one);
    pthread_mutex_lock(&p->mu);
    p->tid = sched_setaffinity(0, sizeof(one), &one) == 0 ? (int)syscall(SYS_gettid) : -1;
    p->ready = 1;
    pthread_cond_broadcast(&p->cv);
    while (!p->done)
        pthread_cond_wait(&p->cv, &p->mu);
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

static void t_by_tid(void)
{
    pinned p = { .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER };
    int cpus[2], n;
    kt__cpumask m;
    kt_err err = { 0 };
    pthread_t th;

    n = kt_allowed_cpus(cpus, 2, &err);
    if (!check_int(n, >=, 1))
        return;
    p.cpu = cpus[n - 1];
    if (!check_int(pthread_create(&th, NULL, pin_and_wait, &p), ==, 0))
        return;
    pthread_mutex_lock(&p.mu);
    while (!p.ready)
        pthread_cond_wait(&p.cv, &p.mu);
    pthread_mutex_unlock(&p.mu);
    if (check_int(p.tid, >, 0) && check_int(kt__cpumask_get(p.tid, &m, &err), ==, 0)) {
        check_int(kt__cpumask_count(&m), ==, 1);
        check(kt__cpumask_has(&m, p.cpu));
        kt__cpumask_free(&m);
    }
    pthread_mutex_lock(&p.mu);
    p.done = 1;
    pthread_cond_broadcast(&p.cv);
    pthread_mutex_unlock(&p.mu);
    pthread_join(th, NULL);
}

int main(void)
{
    TEST(t_self(), "self: the whole mask, as a fixed cpu_set_t reads it here");
    TEST(t_layers_agree(), "kt_allowed_cpus and the runner's CPU count are the mask's");
    TEST(t_by_tid(), "by tid: a thread pinned to one CPU has a one-CPU mask");
    TEST(t_gone_thread(), "a gone thread: ESRCH, the error names the tid");
    return test_done();
}
