/* A set of workers: add specs, start them behind a barrier, stop, join,
 * read results. All worker state lives in one MAP_SHARED mapping so that
 * thread and process workers are handled alike. */
#include "work/work_int.h"

#include "base/vec.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_WORKERS KT__MAX_WORKERS
#define READY_TIMEOUT_MS 10000

enum { SET_NEW, SET_RUNNING, SET_STOPPED };

typedef struct warg {
    kt_work *w;
    size_t i;
} warg;

struct kt_work {
    unsigned first_index;
    int state;
    kt__wspec *specs;
    size_t nspecs, specs_cap;
    kt__wcfg *cfg;
    size_t n, cfg_cap;
    kt__wshared *sh;
    size_t sh_len;
    warg *args;
    pthread_t *threads;
    pid_t *pids;             /* process workers: pid; 0 when not spawned */
    bool *spawned;           /* thread workers: created */
    int (*pipes)[2];
};

kt_work *kt_work_new(unsigned first_index, kt_err *err)
{
    kt_work *w = calloc(1, sizeof(*w));

    if (!w) {
        kt_err_sys(err, ENOMEM, "work set: calloc");
        return NULL;
    }
    w->first_index = first_index;
    return w;
}

static int check_spec(const kt_work_spec *s, kt_err *err)
{
    const kt__kind_info *k = kt__kind(s->kind);

    if (!k)
        return kt_err_set(err, EINVAL, "work spec: kind %d unknown", (int)s->kind);
    if (s->count < 1)
        return kt_err_set(err, EINVAL, "work spec (%s): count 0", k->name);
    if (k->plus_fanout && (s->fanout < 1 || s->fanout > MAX_WORKERS))
        return kt_err_set(err, EINVAL, "work spec (%s): fanout %u out of 1..%d",
                          k->name, s->fanout, MAX_WORKERS);
    if (s->count > MAX_WORKERS || kt__kind_workers(k, s) > MAX_WORKERS)
        return kt_err_set(err, EINVAL, "work spec (%s): more than %d workers", k->name,
                          MAX_WORKERS);
    if (s->pin_each && !s->cpus)
        return kt_err_set(err, EINVAL, "work spec (%s): pin_each without a cpus list", k->name);
    if ((unsigned)s->wake > KT_WAKE_PIPE)
        return kt_err_set(err, EINVAL, "work spec (%s): wake %d unknown", k->name,
                          (int)s->wake);
    if (s->cgroup && kt_cgroup_version(s->cgroup) == KT_CG_V2 && !s->process)
        return kt_err_set(err, EINVAL,
                          "work spec (%s): cgroup v2 moves whole processes: set .process = true",
                          k->name);
    if (kt__policy_check(s, err))
        return -1;
    return k->check ? k->check(s, err) : 0;
}

int kt_work_add(kt_work *w, const kt_work_spec *spec, kt_err *err)
{
    const kt__kind_info *k;
    kt__vec sv, cv;
    kt__wspec *specs, *ws;
    kt__wcfg *cfg;
    unsigned nt;

    if (!w || !spec)
        return kt_err_set(err, EINVAL, "kt_work_add: NULL %s", w ? "spec" : "set");
    if (w->state != SET_NEW)
        return kt_err_set(err, EINVAL, "kt_work_add: the set has already started");
    if (check_spec(spec, err))
        return -1;
    k = kt__kind(spec->kind);
    nt = kt__kind_workers(k, spec);
    if (w->n + nt > MAX_WORKERS)
        return kt_err_set(err, EINVAL, "work set: more than %d workers", MAX_WORKERS);

    sv = KT__VEC_VIEW(w->specs, w->nspecs, w->specs_cap);
    if (kt__vec_reserve(&sv, 1, err, "work set: specs") < 0)
        return -1;
    w->specs = specs = sv.v;
    w->specs_cap = sv.cap;
    ws = &specs[w->nspecs];
    memset(ws, 0, sizeof(*ws));
    ws->spec = *spec;
    if (spec->cpus && kt__cpulist_parse(spec->cpus, &ws->mask, ws->cpu_order, &ws->ncpus, err))
        return -1;
    cv = KT__VEC_VIEW(w->cfg, w->n, w->cfg_cap);
    if (kt__vec_reserve(&cv, nt, err, "work set: workers") < 0)
        return -1;
    w->cfg = cfg = cv.v;
    w->cfg_cap = cv.cap;
    for (unsigned j = 0; j < nt; j++) {
        kt__wcfg *c = &cfg[w->n + j];
        unsigned pos = j % kt__kind_group(k, spec);

        c->spec = w->nspecs;
        c->nth = j;
        c->role = pos < k->last_role ? pos : k->last_role;
        c->leader = w->n + j - pos;
    }
    w->nspecs++;
    w->n += nt;
    return 0;
}

size_t kt_work_count(const kt_work *w)
{
    return w ? w->n : 0;
}

static int gettid_(void)
{
    return (int)syscall(SYS_gettid);
}

/* Everything a worker does, thread or process. */
static void worker_main(kt_work *w, size_t i)
{
    kt__wslot *s = &w->sh->slots[i];
    const kt__wcfg *c = &w->cfg[i];
    const kt__wspec *ws = &w->specs[c->spec];
    const kt__kind_info *k = kt__kind(ws->spec.kind);
    unsigned index = w->first_index + (unsigned)i;
    int tid = gettid_(), st;
    kt__wrun r = {
        .self = s, .leader = &w->sh->slots[c->leader], .spec = &ws->spec, .ws = ws,
        .stop = &w->sh->stop, .role = c->role, .nth = c->nth, .index = index, .tid = tid,
        .i = i, .leader_i = c->leader, .pipes = w->pipes,
    };
    char name[16];
    uint32_t g;
    uint64_t t0, end;
    bool prepared = false;

    snprintf(name, sizeof(name), "ktw%u", index);
    atomic_store(&s->tid, tid);
    if (prctl(PR_SET_NAME, name, 0, 0, 0))
        st = kt_err_sys(&s->err, errno, "ktw%u (tid %d): prctl(PR_SET_NAME)", index, tid)
             ? SLOT_FAILED : SLOT_READY;
    else
        st = kt__apply_knobs(ws, c, index, tid, &s->err) ? SLOT_FAILED : SLOT_READY;
    if (st == SLOT_READY && k->prepare) {
        if (k->prepare(&r, &s->err))
            st = SLOT_FAILED;
        else
            prepared = true;
    }
    atomic_store(&s->state, st);
    atomic_fetch_add(&w->sh->ready, 1);
    kt__futex_wake(&w->sh->ready, INT_MAX);
    while ((g = atomic_load(&w->sh->go)) == GO_WAIT)
        kt__futex_wait(&w->sh->go, GO_WAIT, KT__WAIT_SLICE_MS);
    if (g != GO_RUN) {
        if (prepared && k->release)
            k->release(&r);
        return;
    }

    t0 = kt_now_ns();
    atomic_store_explicit(&s->last_ns, t0, memory_order_relaxed);
    k->run(&r);
    /* The stretch since the last progress is a gap too: a worker starved
     * until the stop would otherwise report none. */
    end = kt_now_ns();
    kt__note_gap(s, end);
    s->run_ns = end - t0;
    s->cpu_ns = kt__thread_cpu_ns();
    if (k->release)
        k->release(&r);
    atomic_store(&s->state, SLOT_DONE);
}

static void *thread_main(void *arg)
{
    warg *a = arg;

    worker_main(a->w, a->i);
    return NULL;
}

static void process_main(kt_work *w, size_t i, pid_t creator)
{
    /* Never outlive the creator, even if it dies without stopping us;
     * it may have died before the request (a subreaper adopts us then,
     * so compare with the creator rather than with 1). */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) || getppid() != creator)
        _exit(1);
    worker_main(w, i);
    _exit(0);
}

static int alloc_run_state(kt_work *w, kt_err *err)
{
    bool need_pipes = false;

    w->sh_len = sizeof(kt__wshared) + w->n * sizeof(kt__wslot);
    w->sh = mmap(NULL, w->sh_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (w->sh == MAP_FAILED) {
        w->sh = NULL;
        return kt_err_sys(err, errno, "work set: mmap(%zu bytes)", w->sh_len);
    }
    w->args = calloc(w->n, sizeof(*w->args));
    w->threads = calloc(w->n, sizeof(*w->threads));
    w->pids = calloc(w->n, sizeof(*w->pids));
    w->spawned = calloc(w->n, sizeof(*w->spawned));
    if (!w->args || !w->threads || !w->pids || !w->spawned)
        return kt_err_sys(err, ENOMEM, "work set: calloc");
    for (size_t i = 0; i < w->n; i++) {
        kt__wslot *s = &w->sh->slots[i];
        const kt__wspec *ws = &w->specs[w->cfg[i].spec];
        const kt__kind_info *k = kt__kind(ws->spec.kind);

        kt_hist_init(&s->lat);
        s->stall_ns = ws->spec.stall_once_us * 1000u;
        w->args[i] = (warg){ w, i };
        if (k->always_pipes || (k->uses_pipes && ws->spec.wake == KT_WAKE_PIPE))
            need_pipes = true;
        if (k->group_init && w->cfg[i].leader == i) {
            if (k->group_init(s, &ws->spec, err))
                return -1;
            s->grp_ready = true;
        }
    }
    if (!need_pipes)
        return 0;
    w->pipes = malloc(w->n * sizeof(*w->pipes));
    if (!w->pipes)
        return kt_err_sys(err, ENOMEM, "work set: malloc");
    for (size_t i = 0; i < w->n; i++)
        w->pipes[i][0] = w->pipes[i][1] = -1;
    for (size_t i = 0; i < w->n; i++) {
        if (pipe2(w->pipes[i], O_CLOEXEC))
            return kt_err_sys(err, errno, "work set: pipe2 for ktw%u",
                              w->first_index + (unsigned)i);
        /* Writers never block: a producer ahead of its consumer would
         * otherwise sit in write() past the stop, and so would the stop's
         * own wake below. The read end stays blocking. */
        if (fcntl(w->pipes[i][1], F_SETFL, O_NONBLOCK))
            return kt_err_sys(err, errno, "work set: fcntl(O_NONBLOCK) for ktw%u",
                              w->first_index + (unsigned)i);
    }
    return 0;
}

/* Wakes whatever a worker may be blocked on, so it sees stop or abort. */
static void wake_all(kt_work *w)
{
    uint64_t zero = 0;

    kt__futex_wake(&w->sh->go, INT_MAX);
    kt__futex_wake(&w->sh->stop, INT_MAX);       /* kt__nap_until sleepers */
    for (size_t i = 0; i < w->n; i++) {
        kt__wslot *s = &w->sh->slots[i];
        const kt__kind_info *k = kt__kind(w->specs[w->cfg[i].spec].spec.kind);

        if (w->cfg[i].leader == i) {
            atomic_store(&s->word, 2);   /* PINGPONG: nobody's turn */
            kt__futex_wake(&s->word, INT_MAX);
            atomic_fetch_add(&s->acks, MAX_WORKERS);
            kt__futex_wake(&s->acks, INT_MAX);
            if (k->wake)
                k->wake(s);
        }
        if (w->pipes && w->pipes[i][1] >= 0 && write(w->pipes[i][1], &zero, sizeof(zero)) < 0) {
            /* A full pipe already holds a message the reader will see. */
        }
    }
}

static void join_all(kt_work *w)
{
    int status;

    for (size_t i = 0; i < w->n; i++) {
        if (w->spawned[i]) {
            pthread_join(w->threads[i], NULL);
            w->spawned[i] = false;
        }
        if (w->pids[i] > 0) {
            while (waitpid(w->pids[i], &status, 0) < 0 && errno == EINTR)
                ;
            w->pids[i] = 0;
        }
    }
}

static void abort_start(kt_work *w)
{
    atomic_store(&w->sh->go, GO_ABORT);
    atomic_store(&w->sh->stop, 1);
    wake_all(w);
    join_all(w);
    w->state = SET_STOPPED;
}

static int spawn(kt_work *w, size_t i, kt_err *err)
{
    const kt_work_spec *s = &w->specs[w->cfg[i].spec].spec;
    unsigned index = w->first_index + (unsigned)i;
    pid_t pid, creator;
    int rc;

    if (!s->process) {
        rc = pthread_create(&w->threads[i], NULL, thread_main, &w->args[i]);
        if (rc)
            return kt_err_sys(err, rc, "ktw%u: pthread_create", index);
        w->spawned[i] = true;
        return 0;
    }
    fflush(NULL);              /* a child's buffers must not be flushed twice */
    creator = getpid();
    pid = fork();
    if (pid < 0)
        return kt_err_sys(err, errno, "ktw%u: fork", index);
    if (pid == 0)
        process_main(w, i, creator);
    w->pids[i] = pid;
    return 0;
}

/* Waits for every spawned worker to report; false on timeout. */
static bool wait_ready(kt_work *w, size_t n)
{
    uint64_t deadline = kt_now_ns() + (uint64_t)READY_TIMEOUT_MS * 1000000u;
    uint32_t r;

    while ((r = atomic_load(&w->sh->ready)) < n) {
        if (kt_now_ns() > deadline)
            return false;
        kt__futex_wait(&w->sh->ready, r, KT__WAIT_SLICE_MS);
    }
    return true;
}

int kt_work_start(kt_work *w, kt_err *err)
{
    if (!w)
        return kt_err_set(err, EINVAL, "kt_work_start: NULL set");
    if (w->state != SET_NEW)
        return kt_err_set(err, EINVAL, "kt_work_start: the set has already started");
    if (w->n == 0)
        return kt_err_set(err, EINVAL, "kt_work_start: no workers added");
    if (alloc_run_state(w, err)) {
        w->state = SET_STOPPED;
        return -1;
    }
    w->state = SET_RUNNING;
    for (size_t i = 0; i < w->n; i++) {
        if (spawn(w, i, err)) {
            wait_ready(w, i);
            abort_start(w);
            return -1;
        }
    }
    if (!wait_ready(w, w->n)) {
        kt_err_set(err, ETIMEDOUT, "work set: workers not ready after %d ms",
                   READY_TIMEOUT_MS);
        abort_start(w);
        return -1;
    }
    for (size_t i = 0; i < w->n; i++) {
        kt__wslot *s = &w->sh->slots[i];

        if (atomic_load(&s->state) == SLOT_FAILED) {
            if (err)
                *err = s->err;
            abort_start(w);
            return -1;
        }
    }
    atomic_store(&w->sh->go, GO_RUN);
    kt__futex_wake(&w->sh->go, INT_MAX);
    return 0;
}

void kt_work_stop(kt_work *w)
{
    if (!w || w->state != SET_RUNNING)
        return;
    atomic_store(&w->sh->stop, 1);
    wake_all(w);
    join_all(w);
    w->state = SET_STOPPED;
}

kt_work *kt_work_run(const kt_work_spec *specs, size_t n, kt_err *err)
{
    kt_work *w = kt_work_new(0, err);

    for (size_t i = 0; w && i < n; i++)
        if (kt_work_add(w, &specs[i], err) < 0)
            goto fail;
    if (w && kt_work_start(w, err) == 0)
        return w;
fail:
    kt_work_free(w);
    return NULL;
}

void kt_work_free(kt_work *w)
{
    if (!w)
        return;
    kt_work_stop(w);
    for (size_t i = 0; w->sh && i < w->n; i++) {
        const kt__kind_info *k = kt__kind(w->specs[w->cfg[i].spec].spec.kind);

        if (w->sh->slots[i].grp_ready && k->group_fini)
            k->group_fini(&w->sh->slots[i]);
    }
    if (w->pipes)
        for (size_t i = 0; i < w->n; i++)
            for (int e = 0; e < 2; e++)
                if (w->pipes[i][e] >= 0)
                    close(w->pipes[i][e]);
    if (w->sh)
        munmap(w->sh, w->sh_len);
    free(w->pipes);
    free(w->args);
    free(w->threads);
    free(w->pids);
    free(w->spawned);
    free(w->cfg);
    free(w->specs);
    free(w);
}

static kt__wslot *slot(const kt_work *w, size_t i)
{
    if (!w || !w->sh || i >= w->n)
        return NULL;
    return &w->sh->slots[i];
}

uint64_t kt_work_iterations(const kt_work *w, size_t i)
{
    kt__wslot *s = slot(w, i);

    return s ? atomic_load_explicit(&s->iterations, memory_order_relaxed) : 0;
}

int kt_work_tid(const kt_work *w, size_t i)
{
    kt__wslot *s = slot(w, i);

    return s ? atomic_load(&s->tid) : -1;
}

uint64_t kt_work_last_progress_ns(const kt_work *w, size_t i)
{
    kt__wslot *s = slot(w, i);

    return s ? atomic_load_explicit(&s->last_ns, memory_order_relaxed) : 0;
}

uint64_t kt_work_max_gap_ns(const kt_work *w, size_t i)
{
    kt__wslot *s = slot(w, i);

    return s ? atomic_load_explicit(&s->max_gap_ns, memory_order_relaxed) : 0;
}

uint64_t kt_work_cpu_ns(const kt_work *w, size_t i)
{
    kt__wslot *s = slot(w, i);
    clockid_t clk;
    struct timespec ts;

    if (!s)
        return 0;
    if (w->state != SET_RUNNING || atomic_load(&s->state) == SLOT_DONE)
        return s->cpu_ns;
    if (w->spawned[i] ? pthread_getcpuclockid(w->threads[i], &clk)
                      : w->pids[i] > 0 ? clock_getcpuclockid(w->pids[i], &clk) : -1)
        return 0;
    if (clock_gettime(clk, &ts))
        return 0;
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int kt_work_get(const kt_work *w, size_t i, kt_work_result *r, kt_err *err)
{
    kt__wslot *s = slot(w, i);
    const kt_work_spec *sp;
    const kt__kind_info *k;

    if (!s || !r)
        return kt_err_set(err, EINVAL, "kt_work_get: worker %zu of %zu%s", i, kt_work_count(w),
                          w && !w->sh ? " (set not started)" : "");
    sp = &w->specs[w->cfg[i].spec].spec;
    memset(r, 0, sizeof(*r));
    r->index = w->first_index + (unsigned)i;
    r->kind = sp->kind;
    r->role = w->cfg[i].role;
    r->tid = atomic_load(&s->tid);
    r->iterations = kt_work_iterations(w, i);
    r->max_gap_ns = kt_work_max_gap_ns(w, i);
    r->cpu_ns = kt_work_cpu_ns(w, i);
    r->run_ns = s->run_ns;
    if (r->run_ns)
        r->per_s = (double)r->iterations * 1e9 / (double)r->run_ns;
    if (atomic_load(&s->failed))
        r->error = s->err.msg;
    k = kt__kind(sp->kind);
    if (k->lat_roles & (1u << r->role))
        r->lat = &s->lat;
    if (k->result)
        k->result(s, &w->sh->slots[w->cfg[i].leader], sp, r);
    return 0;
}

size_t kt_work_latency(const kt_work *w, kt_work_kind kind, kt_hist *out)
{
    kt_work_result r;
    size_t merged = 0;

    kt_hist_init(out);
    for (size_t i = 0; i < kt_work_count(w); i++) {
        if (kt_work_get(w, i, &r, NULL) == 0 && r.kind == kind && r.lat) {
            kt_hist_merge(out, r.lat);
            merged++;
        }
    }
    return merged;
}
