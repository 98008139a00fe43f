/* Kinds that contend for a lock: MUTEX (threads on one pthread mutex)
 * and PI (a priority inversion, with or without a PI futex). */
#include "work/work_int.h"

#include "base/cpumask.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAX_HOLD_US 1000000u     /* a stop waits for every holder: keep it short */

/* ---- MUTEX --------------------------------------------------------------- */

enum { MUTEX_MAX_WAIT, MUTEX_HELD };

static int check_mutex(const kt_work_spec *s, kt_err *err)
{
    if (s->hold_us > MAX_HOLD_US)
        return kt_err_set(err, EINVAL, "work spec (mutex): hold_us %" PRIu64
                          " over 1 s (a stop waits for every holder)", s->hold_us);
    return 0;
}

static int mutex_init(kt__wslot *l, const kt_work_spec *s, kt_err *err)
{
    pthread_mutexattr_t a;
    int rc;

    (void)s;
    rc = pthread_mutexattr_init(&a);
    if (rc)
        return kt_err_sys(err, rc, "work set (mutex): pthread_mutexattr_init");
    /* Shared, so that process workers contend for it as threads do. */
    rc = pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
    if (rc == 0)
        rc = pthread_mutex_init(&l->grp.mutex.m, &a);
    pthread_mutexattr_destroy(&a);
    if (rc)
        return kt_err_sys(err, rc, "work set (mutex): pthread_mutex_init(PROCESS_SHARED)");
    l->grp.mutex.total = 0;
    return 0;
}

static void mutex_fini(kt__wslot *l)
{
    pthread_mutex_destroy(&l->grp.mutex.m);
}

static void run_mutex(kt__wrun *r)
{
    pthread_mutex_t *m = &r->leader->grp.mutex.m;
    uint64_t *total = &r->leader->grp.mutex.total;
    uint64_t hold = r->spec->hold_us * 1000u, pause = r->spec->sleep_us * 1000u;
    uint64_t x = r->i, t0, t1, t2, wait, max_wait = 0, held = 0;
    volatile uint64_t sink;
    int rc;

    while (!kt__stopped(r)) {
        t0 = kt_now_ns();
        rc = pthread_mutex_lock(m);
        if (rc) {
            kt_err_sys(&r->self->err, rc, "ktw%u (tid %d): pthread_mutex_lock", r->index, r->tid);
            kt__fail(r);
            break;
        }
        t1 = kt_now_ns();
        /* A plain read-modify-write: only the lock keeps it exact. */
        *total += 1;
        if (hold)
            x = kt__spin_until(r, x, t1 + hold);
        t2 = kt_now_ns();
        rc = pthread_mutex_unlock(m);
        if (rc) {
            kt_err_sys(&r->self->err, rc, "ktw%u (tid %d): pthread_mutex_unlock", r->index, r->tid);
            kt__fail(r);
            break;
        }
        wait = t1 - t0;
        held += t2 - t1;
        if (wait > max_wait)
            max_wait = wait;
        kt_hist_record(&r->self->lat, wait);
        kt__ctr_set(r->self, MUTEX_MAX_WAIT, max_wait);
        kt__ctr_set(r->self, MUTEX_HELD, held);
        /* Counted even when a stop cut the hold short: the total above
         * counted it too. */
        kt__progress(r->self, t2);
        if (pause && !kt__nap_until(r, kt_now_ns() + pause))
            break;
    }
    sink = x;
    (void)sink;
}

static void result_mutex(const kt__wslot *self, const kt__wslot *leader,
                         const kt_work_spec *s, kt_work_result *r)
{
    (void)s;
    r->mutex.max_wait_ns = kt__ctr(self, MUTEX_MAX_WAIT);
    r->mutex.held_ns = kt__ctr(self, MUTEX_HELD);
    r->mutex.total = leader->grp.mutex.total;   /* exact once stopped */
}

/* .count threads, one group, one lock. */
const kt__kind_info kt__kind_mutex = {
    .name = "mutex", .run = run_mutex, .group = 1, .one_group = true, .lat_roles = 1,
    .check = check_mutex, .group_init = mutex_init, .group_fini = mutex_fini,
    .result = result_mutex,
};

/* ---- PI ------------------------------------------------------------------ */

/* A round, driven by the waiter, all of the group on one CPU:
 *   waiter:  phase = TAKE, sleeps until HELD
 *   holder:  locks, phase = HELD, wakes the waiter, which preempts it
 *   waiter:  releases the spinners (gen++; they queue behind it), stamps,
 *            asks for the lock and blocks
 *   then:    with a PI futex the holder inherits the waiter's priority,
 *            runs its hold_us of CPU time past the spinners and hands the
 *            lock over; with a plain one the spinners run first (run_us
 *            each), then the holder
 *   waiter:  records its wait, unlocks, waits for the spinners to finish,
 *            phase = IDLE, pauses sleep_us. */
enum { PH_IDLE, PH_TAKE, PH_HELD, PH_STOP };
enum { ROLE_HOLDER, ROLE_WAITER, ROLE_SPINNER };
#define PI_BASE_PRIO 10

static int check_pi(const kt_work_spec *s, kt_err *err)
{
    if (s->policy != KT_POLICY_INHERIT && s->policy != KT_POLICY_FIFO)
        return kt_err_set(err, EINVAL, "work spec (pi): policy %s: PI runs SCHED_FIFO "
                          "(INHERIT, or FIFO with rt_prio as the holder's priority)",
                          kt_policy_name(s->policy));
    if (s->policy == KT_POLICY_FIFO && s->rt_prio > 97)
        return kt_err_set(err, EINVAL, "work spec (pi): rt_prio %d over 97 (the waiter "
                          "runs 2 above it)", s->rt_prio);
    if (s->pin_each)
        return kt_err_set(err, EINVAL, "work spec (pi): pin_each: a PI group shares one CPU");
    if (s->hold_us == 0 || s->hold_us > MAX_HOLD_US)
        return kt_err_set(err, EINVAL, "work spec (pi): hold_us %" PRIu64 " out of 1..%u",
                          s->hold_us, MAX_HOLD_US);
    if (s->run_us == 0 || s->run_us > MAX_HOLD_US)
        return kt_err_set(err, EINVAL, "work spec (pi): run_us %" PRIu64 " out of 1..%u "
                          "(each spinner's spin per round)", s->run_us, MAX_HOLD_US);
    return 0;
}

static const char *pi_role(unsigned role)
{
    return role == ROLE_HOLDER ? "holder" : role == ROLE_WAITER ? "waiter" : "spinner";
}

/* The g-th CPU of the spec's list, or of the CPUs the worker may use. */
static int pi_cpu(const kt__wrun *r, unsigned g, kt_err *err)
{
    kt__cpumask m;
    int n, seen = 0, cpu = -1;

    if (r->ws->ncpus)
        return r->ws->cpu_order[g % (unsigned)r->ws->ncpus];
    if (kt__cpumask_get(0, &m, err))
        return -1;
    n = kt__cpumask_count(&m);
    for (int c = 0; c < m.bits && n > 0; c++)
        if (kt__cpumask_has(&m, c) && seen++ == (int)(g % (unsigned)n)) {
            cpu = c;
            break;
        }
    kt__cpumask_free(&m);
    if (cpu < 0)
        return kt_err_set(err, EINVAL, "ktw%u: PI group %u: no CPU to run on", r->index, g);
    return cpu;
}

/* One CPU and a SCHED_FIFO priority by role: without them there is no
 * inversion to see, so failing here fails the start. */
static int pi_prepare(kt__wrun *r, kt_err *err)
{
    static const int step[] = { [ROLE_HOLDER] = 0, [ROLE_WAITER] = 2, [ROLE_SPINNER] = 1 };
    const kt_work_spec *s = r->spec;
    int base = s->policy == KT_POLICY_FIFO ? s->rt_prio : PI_BASE_PRIO;
    struct sched_param sp = { .sched_priority = base + step[r->role] };
    unsigned g = r->nth / (2 + s->fanout);
    int cpu = pi_cpu(r, g, err);
    cpu_set_t one;

    if (cpu < 0)
        return -1;
    if (cpu >= CPU_SETSIZE)
        return kt_err_set(err, EINVAL, "ktw%u: PI group %u: CPU %d past CPU_SETSIZE",
                          r->index, g, cpu);
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    if (sched_setaffinity(0, sizeof(one), &one))
        return kt_err_sys(err, errno, "ktw%u (tid %d): PI %s: sched_setaffinity(CPU %d)",
                          r->index, r->tid, pi_role(r->role), cpu);
    if (sched_setscheduler(0, SCHED_FIFO, &sp))
        return kt_err_sys(err, errno, "ktw%u (tid %d): PI %s needs SCHED_FIFO: "
                          "sched_setscheduler(SCHED_FIFO, %d)", r->index, r->tid,
                          pi_role(r->role), sp.sched_priority);
    return 0;
}

static bool pi_lock(kt__wrun *r, _Atomic uint32_t *l)
{
    uint32_t c = 0;

    if (r->spec->pi) {
        /* Uncontended: the owner's tid in the word, no system call; else
         * the kernel queues us and boosts the owner. */
        if (atomic_compare_exchange_strong(l, &c, (uint32_t)r->tid))
            return true;
        while (syscall(SYS_futex, (uint32_t *)l, FUTEX_LOCK_PI, 0, NULL, NULL, 0)) {
            if (errno == EINTR || errno == EAGAIN)   /* EAGAIN: owner exiting */
                continue;
            kt_err_sys(&r->self->err, errno, "ktw%u (tid %d): FUTEX_LOCK_PI", r->index, r->tid);
            kt__fail(r);
            return false;
        }
        return true;
    }
    /* A plain futex lock (0 free, 1 held, 2 held with waiters): the
     * kernel knows nothing of the owner, so nobody is boosted. */
    if (atomic_compare_exchange_strong(l, &c, 1))
        return true;
    if (c != 2)
        c = atomic_exchange(l, 2);
    while (c != 0) {
        kt__futex_wait(l, 2, KT__WAIT_SLICE_MS);
        c = atomic_exchange(l, 2);
    }
    return true;
}

static bool pi_unlock(kt__wrun *r, _Atomic uint32_t *l)
{
    uint32_t me = (uint32_t)r->tid;

    if (r->spec->pi) {
        if (atomic_compare_exchange_strong(l, &me, 0))
            return true;
        if (syscall(SYS_futex, (uint32_t *)l, FUTEX_UNLOCK_PI, 0, NULL, NULL, 0) == 0)
            return true;
        kt_err_sys(&r->self->err, errno, "ktw%u (tid %d): FUTEX_UNLOCK_PI", r->index, r->tid);
        kt__fail(r);
        return false;
    }
    if (atomic_fetch_sub(l, 1) != 1) {
        atomic_store(l, 0);
        kt__futex_wake(l, 1);
    }
    return true;
}

/* Waits until *word == want; false on stop. */
static bool wait_for(const kt__wrun *r, _Atomic uint32_t *word, uint32_t want)
{
    uint32_t v;

    while ((v = atomic_load(word)) != want) {
        if (kt__stopped(r))
            return false;
        kt__futex_wait(word, v, KT__WAIT_SLICE_MS);
    }
    return !kt__stopped(r);
}

static void pi_holder(kt__wrun *r)
{
    struct kt__wgroup_pi *g = &r->leader->grp.pi;
    uint64_t x = r->i;
    volatile uint64_t sink;

    while (wait_for(r, &g->phase, PH_TAKE)) {
        if (!pi_lock(r, &g->lock))
            break;
        atomic_store(&g->phase, PH_HELD);
        kt__futex_wake(&g->phase, INT_MAX);
        /* CPU time, so that a preempted holder still owes its work. A
         * stop cuts it short, but the lock is always released. */
        x = kt__spin_cpu(r, x, r->spec->hold_us * 1000u);
        if (!pi_unlock(r, &g->lock))
            break;
        kt__progress(r->self, kt_now_ns());
    }
    sink = x;
    (void)sink;
}

static void pi_waiter(kt__wrun *r)
{
    struct kt__wgroup_pi *g = &r->leader->grp.pi;
    uint64_t t0, t1;
    uint32_t d;

    while (!kt__stopped(r)) {
        atomic_store(&g->done, 0);
        atomic_store(&g->phase, PH_TAKE);
        kt__futex_wake(&g->phase, INT_MAX);
        if (!wait_for(r, &g->phase, PH_HELD))
            return;
        atomic_fetch_add(&g->gen, 1);
        kt__futex_wake(&g->gen, INT_MAX);
        t0 = kt_now_ns();
        if (!pi_lock(r, &g->lock))
            return;
        t1 = kt_now_ns();
        if (!pi_unlock(r, &g->lock))
            return;
        kt_hist_record(&r->self->lat, t1 - t0);
        kt__progress(r->self, t1);
        /* The next round starts with the spinners asleep again. */
        while ((d = atomic_load(&g->done)) < r->spec->fanout) {
            if (kt__stopped(r))
                return;
            kt__futex_wait(&g->done, d, KT__WAIT_SLICE_MS);
        }
        atomic_store(&g->phase, PH_IDLE);
        if (r->spec->sleep_us && !kt__nap_until(r, kt_now_ns() + r->spec->sleep_us * 1000u))
            return;
    }
}

static void pi_spinner(kt__wrun *r)
{
    struct kt__wgroup_pi *g = &r->leader->grp.pi;
    uint32_t seen = 0;
    uint64_t x = r->i;
    volatile uint64_t sink;

    while (kt__wait_change(r, &g->gen, seen)) {
        seen = atomic_load(&g->gen);
        x = kt__spin_until(r, x, kt_now_ns() + r->spec->run_us * 1000u);
        if (kt__stopped(r))
            break;
        kt__progress(r->self, kt_now_ns());
        if (atomic_fetch_add(&g->done, 1) + 1 >= r->spec->fanout)
            kt__futex_wake(&g->done, 1);
    }
    sink = x;
    (void)sink;
}

static void run_pi(kt__wrun *r)
{
    if (r->role == ROLE_HOLDER)
        pi_holder(r);
    else if (r->role == ROLE_WAITER)
        pi_waiter(r);
    else
        pi_spinner(r);
}

/* Every wait of a round moves on: a changed word, then the stop flag. */
static void pi_wake(kt__wslot *l)
{
    atomic_store(&l->grp.pi.phase, PH_STOP);
    kt__futex_wake(&l->grp.pi.phase, INT_MAX);
    atomic_fetch_add(&l->grp.pi.gen, 1);
    kt__futex_wake(&l->grp.pi.gen, INT_MAX);
    atomic_fetch_add(&l->grp.pi.done, KT__MAX_WORKERS);
    kt__futex_wake(&l->grp.pi.done, INT_MAX);
}

/* A holder, a waiter and .fanout spinners per group. */
const kt__kind_info kt__kind_pi = {
    .name = "pi", .run = run_pi, .group = 2, .plus_fanout = true, .last_role = ROLE_SPINNER,
    .lat_roles = 1u << ROLE_WAITER, .check = check_pi, .prepare = pi_prepare,
    .wake = pi_wake,
};
