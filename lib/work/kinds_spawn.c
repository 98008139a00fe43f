/* Kinds that churn tasks: FORK (a child that exits at once, reaped) and
 * THREAD (a thread that exits at once, joined). Each measures the spawn
 * latency: from the call to the new task's first instruction of its own. */
#include "work/work_int.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_RATE 1000000u
/* A stall longer than this many periods is not made up with a burst. */
#define CATCH_UP_PERIODS 10

static int check_rate(const kt_work_spec *s, kt_err *err)
{
    if (s->rate > MAX_RATE)
        return kt_err_set(err, EINVAL, "work spec (%s): rate %" PRIu64 " over %u per second",
                          kt_work_kind_name(s->kind), s->rate, MAX_RATE);
    return 0;
}

/* The pace of `rate` spawns per second on an absolute schedule, so the
 * average holds however long each spawn takes; false on stop. */
static bool pace(const kt__wrun *r, uint64_t *next)
{
    uint64_t period, now;

    if (!r->spec->rate)
        return !kt__stopped(r);
    period = 1000000000u / r->spec->rate;
    if (!kt__nap_until(r, *next))
        return false;
    now = kt_now_ns();
    *next += period;
    if (now > *next + CATCH_UP_PERIODS * period)
        *next = now;
    return true;
}

/* The child's first stamp lands in the slot (MAP_SHARED survives fork),
 * then it leaves; clock_gettime and _exit are async-signal-safe, which is
 * all a child of a threaded process may call. */
static void run_fork(kt__wrun *r)
{
    _Atomic uint64_t *seen = &r->self->stamp;
    uint64_t next = kt_now_ns(), t0, stamp;
    pid_t pid, got;
    int status;

    while (pace(r, &next)) {
        atomic_store(seen, 0);
        t0 = kt_now_ns();
        pid = fork();
        if (pid < 0) {
            kt_err_sys(&r->self->err, errno, "ktw%u (tid %d): fork", r->index, r->tid);
            kt__fail(r);
            return;
        }
        if (pid == 0) {
            atomic_store(seen, kt_now_ns());
            _exit(0);
        }
        do {
            got = waitpid(pid, &status, 0);
        } while (got < 0 && errno == EINTR);
        if (got != pid) {
            kt_err_sys(&r->self->err, errno, "ktw%u (tid %d): waitpid(%d)", r->index, r->tid,
                       (int)pid);
            kt__fail(r);
            return;
        }
        stamp = atomic_load(seen);
        if (stamp >= t0)       /* a child killed before its stamp has none */
            kt_hist_record(&r->self->lat, stamp - t0);
        kt__progress(r->self, kt_now_ns());
    }
}

static void *thread_stamp(void *arg)
{
    atomic_store((_Atomic uint64_t *)arg, kt_now_ns());
    return NULL;
}

static void run_thread(kt__wrun *r)
{
    _Atomic uint64_t *seen = &r->self->stamp;
    uint64_t next = kt_now_ns(), t0;
    pthread_t t;
    int rc;

    while (pace(r, &next)) {
        atomic_store(seen, 0);
        t0 = kt_now_ns();
        rc = pthread_create(&t, NULL, thread_stamp, (void *)seen);
        if (rc) {
            kt_err_sys(&r->self->err, rc, "ktw%u (tid %d): pthread_create", r->index, r->tid);
            kt__fail(r);
            return;
        }
        rc = pthread_join(t, NULL);
        if (rc) {
            kt_err_sys(&r->self->err, rc, "ktw%u (tid %d): pthread_join", r->index, r->tid);
            kt__fail(r);
            return;
        }
        kt_hist_record(&r->self->lat, atomic_load(seen) - t0);
        kt__progress(r->self, kt_now_ns());
    }
}

const kt__kind_info kt__kind_fork = {
    .name = "fork", .run = run_fork, .group = 1, .lat_roles = 1, .check = check_rate,
};

const kt__kind_info kt__kind_thread = {
    .name = "thread", .run = run_thread, .group = 1, .lat_roles = 1, .check = check_rate,
};
