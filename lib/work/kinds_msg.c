/* Kinds that pass messages: PIPE (a producer and a consumer on a pipe)
 * and MESSENGER (schbench's shape: a messenger posts requests to workers
 * that compute and reply). */
#include "work/work_int.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>

#define MAX_COMPUTE_US 1000000u  /* a stop waits for a compute chunk */

static int check_compute(const kt_work_spec *s, kt_err *err)
{
    if (s->compute_us > MAX_COMPUTE_US)
        return kt_err_set(err, EINVAL, "work spec (%s): compute_us %" PRIu64 " over 1 s",
                          kt_work_kind_name(s->kind), s->compute_us);
    return 0;
}

/* ---- PIPE ---------------------------------------------------------------- */

static void run_pipe(kt__wrun *r)
{
    uint64_t compute = r->spec->compute_us * 1000u, x = r->i, stamp, now;
    volatile uint64_t sink;

    if (r->role == 0) {
        int out = r->pipes[r->leader_i + 1][1];

        while (!kt__stopped(r)) {
            x = kt__spin_until(r, x, kt_now_ns() + compute);
            if (!kt__pipe_send(r, out, kt_now_ns()))
                break;
            kt__progress(r->self, kt_now_ns());
        }
    } else {
        int in = r->pipes[r->i][0];

        while (kt__pipe_recv(r, in, &stamp)) {
            now = kt_now_ns();
            kt_hist_record(&r->self->lat, now - stamp);
            kt__progress(r->self, now);
            x = kt__spin_until(r, x, now + compute);
        }
    }
    sink = x;
    (void)sink;
}

/* A producer (role 0) and its consumer (role 1), which alone records. */
const kt__kind_info kt__kind_pipe = {
    .name = "pipe", .run = run_pipe, .group = 2, .last_role = 1, .lat_roles = 2,
    .always_pipes = true, .check = check_compute,
};

/* ---- MESSENGER ----------------------------------------------------------- */

/* The leader's word counts posted requests, stamp is the post time, acks
 * the replies to the current one (as FANOUT, whose stop handling this
 * shares: kt_work_stop moves word and lifts acks). */
enum { MSG_MAX_WAKE };

static void messenger(kt__wrun *r)
{
    kt__wslot *s = r->self;
    unsigned n = r->spec->fanout;
    uint64_t post, now;
    uint32_t a;

    while (!kt__stopped(r)) {
        atomic_store(&s->acks, 0);
        post = kt_now_ns();
        atomic_store_explicit(&s->stamp, post, memory_order_relaxed);
        atomic_fetch_add_explicit(&s->word, 1, memory_order_release);
        kt__futex_wake(&s->word, INT_MAX);
        while ((a = atomic_load_explicit(&s->acks, memory_order_acquire)) < n) {
            if (kt__stopped(r))
                return;
            kt__futex_wait(&s->acks, a, KT__WAIT_SLICE_MS);
        }
        if (kt__stopped(r))    /* lifted by the stop: not a round */
            return;
        now = kt_now_ns();
        kt_hist_record(&s->lat, now - post);
        kt__progress(s, now);
        if (r->spec->sleep_us && !kt__nap_until(r, now + r->spec->sleep_us * 1000u))
            return;
    }
}

static void msg_worker(kt__wrun *r)
{
    kt__wslot *m = r->leader;
    uint32_t seen = 0;
    uint64_t post, woke, now, max_wake = 0, x = r->i;
    volatile uint64_t sink;

    while (kt__wait_change(r, &m->word, seen)) {
        woke = kt_now_ns();
        seen = atomic_load_explicit(&m->word, memory_order_acquire);
        post = atomic_load_explicit(&m->stamp, memory_order_relaxed);
        if (woke - post > max_wake) {
            max_wake = woke - post;
            kt__ctr_set(r->self, MSG_MAX_WAKE, max_wake);
        }
        x = kt__spin_until(r, x, woke + r->spec->compute_us * 1000u);
        if (kt__stopped(r))
            break;
        now = kt_now_ns();
        kt_hist_record(&r->self->lat, now - post);
        kt__progress(r->self, now);
        if (atomic_fetch_add_explicit(&m->acks, 1, memory_order_acq_rel) + 1 >= r->spec->fanout)
            kt__futex_wake(&m->acks, 1);
    }
    sink = x;
    (void)sink;
}

static void run_messenger(kt__wrun *r)
{
    if (r->role == 0)
        messenger(r);
    else
        msg_worker(r);
}

static void result_messenger(const kt__wslot *self, const kt__wslot *leader,
                             const kt_work_spec *s, kt_work_result *r)
{
    (void)leader;
    (void)s;
    r->msg.max_wake_ns = kt__ctr(self, MSG_MAX_WAKE);
}

/* A messenger (role 0) and .fanout workers (role 1); both record. */
const kt__kind_info kt__kind_messenger = {
    .name = "messenger", .run = run_messenger, .group = 1, .plus_fanout = true,
    .last_role = 1, .lat_roles = 3, .check = check_compute, .result = result_messenger,
};
