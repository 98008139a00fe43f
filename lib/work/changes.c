/* Changes made while the workload runs (ktstr/changes.h): one thread makes
 * each row of the table at its time and records when it really happened,
 * how long it took and, when it failed, the call and its errno. */
#include "work/work_int.h"

#include "base/file.h"
#include "ktstr/changes.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

/* Per op: its name and what a row of it names (checked before the start). */
static const struct {
    const char *name;
    bool worker, group, cpus;
} op_table[KT_CHANGE_NOPS] = {
    [KT_CHANGE_MOVE] = { "move", true, false, false },   /* group -1 allowed: checked apart */
    [KT_CHANGE_CPUSET] = { "cpuset", false, true, true },
    [KT_CHANGE_CPUSET_SWAP] = { "cpuset_swap", false, true, false },
    [KT_CHANGE_AFFINITY] = { "affinity", true, false, true },
    [KT_CHANGE_CGROUP_CREATE] = { "cgroup_create", false, true, true },
    [KT_CHANGE_CGROUP_REMOVE] = { "cgroup_remove", false, true, false },
    [KT_CHANGE_WEIGHT] = { "weight", false, true, false },
    [KT_CHANGE_NICE] = { "nice", true, false, false },
    [KT_CHANGE_POLICY] = { "policy", true, false, false },
    [KT_CHANGE_CPU_OFFLINE] = { "cpu_offline", false, false, false },
    [KT_CHANGE_CPU_ONLINE] = { "cpu_online", false, false, false },
};

struct kt_changes {
    kt_changes_env env;
    kt_change *plan;
    kt_change_record *rec;
    uint64_t *at_ns;          /* when each was made; 0: not (yet) */
    size_t n;
    char (*removed)[PATH_MAX];/* per slot: the directory CGROUP_REMOVE took last */
    kt_cg_layout lay;         /* valid when have_lay */
    bool have_lay;
    cpu_set_t allowed;        /* the process's CPUs at the start */
    uint64_t t0;
    pthread_t thread;
    bool joined;
    pthread_mutex_t lock;
    pthread_cond_t cond;      /* on CLOCK_MONOTONIC */
    bool stop;
};

const char *kt_change_op_name(kt_change_op op)
{
    return (unsigned)op < KT_CHANGE_NOPS ? op_table[op].name : "?";
}

/* ktw<N> of worker i of the set (the number its thread carries). */
static unsigned worker_number(const kt_work *w, int i)
{
    kt_work_result r;

    return w && kt_work_get(w, (size_t)i, &r, NULL) == 0 ? r.index : (unsigned)i;
}

/* The row as the YAML names it: "cpuset g0 0-1", "affinity ktw2 1". */
static void describe(const kt_changes *c, const kt_change *ch, char *buf, size_t n)
{
    const char *name = kt_change_op_name(ch->op);
    const char *cpus = ch->cpus && *ch->cpus ? ch->cpus : NULL;
    unsigned wk = worker_number(c->env.work, ch->worker);

    switch (ch->op) {
    case KT_CHANGE_MOVE:
        if (ch->group < 0)
            snprintf(buf, n, "%s ktw%u root", name, wk);
        else
            snprintf(buf, n, "%s ktw%u g%d", name, wk, ch->group);
        break;
    case KT_CHANGE_CPUSET:
        snprintf(buf, n, "%s g%d %s", name, ch->group, cpus ? cpus : "(cleared)");
        break;
    case KT_CHANGE_CPUSET_SWAP:
        snprintf(buf, n, "%s g%d g%d", name, ch->group, ch->other);
        break;
    case KT_CHANGE_AFFINITY:
        snprintf(buf, n, "%s ktw%u %s", name, wk, cpus ? cpus : "(all allowed)");
        break;
    case KT_CHANGE_CGROUP_CREATE:
        snprintf(buf, n, "%s g%d %s%s%s", name, ch->group, ch->name ? ch->name : "",
                 cpus ? " " : "", cpus ? cpus : "");
        break;
    case KT_CHANGE_CGROUP_REMOVE:
        snprintf(buf, n, "%s g%d", name, ch->group);
        break;
    case KT_CHANGE_WEIGHT:
        snprintf(buf, n, "%s g%d %llu", name, ch->group, (unsigned long long)ch->weight);
        break;
    case KT_CHANGE_NICE:
        snprintf(buf, n, "%s ktw%u %d", name, wk, ch->nice);
        break;
    case KT_CHANGE_POLICY:
        snprintf(buf, n, "%s ktw%u %s %d", name, wk, kt_policy_name(ch->policy), ch->rt_prio);
        break;
    default:
        snprintf(buf, n, "%s %d", name, ch->cpu);
        break;
    }
}

/* Row i before anything runs: -1 with err naming the row and field. */
static int check_row(const kt_changes_env *env, const kt_change *plan, size_t i, kt_err *err)
{
    const kt_change *ch = &plan[i];
    size_t nw = env->work ? kt_work_count(env->work) : 0;
    cpu_set_t mask;
    int order[CPU_SETSIZE], n;
    kt_err why = { 0 };

    if ((unsigned)ch->op >= KT_CHANGE_NOPS)
        return kt_err_set(err, EINVAL, "ops[%zu]: op %d unknown", i, (int)ch->op);
    if (i && ch->at_ms < plan[i - 1].at_ms)
        return kt_err_set(err, EINVAL, "ops[%zu] %s: at_ms %llu before the previous row's %llu "
                          "(the table is a timeline: keep it in time order)", i,
                          op_table[ch->op].name, (unsigned long long)ch->at_ms,
                          (unsigned long long)plan[i - 1].at_ms);
    if (op_table[ch->op].worker && (ch->worker < 0 || (size_t)ch->worker >= nw))
        return kt_err_set(err, EINVAL, "ops[%zu] %s: worker %d is not in the work set (%zu workers)",
                          i, op_table[ch->op].name, ch->worker, nw);
    if ((op_table[ch->op].group || (ch->op == KT_CHANGE_MOVE && ch->group != -1)) &&
        (ch->group < 0 || (size_t)ch->group >= env->ngroups || !env->groups))
        return kt_err_set(err, EINVAL, "ops[%zu] %s: group slot %d out of range (%zu slots%s)", i,
                          op_table[ch->op].name, ch->group, env->ngroups,
                          ch->op == KT_CHANGE_MOVE ? "; -1 is the root" : "");
    if (ch->op == KT_CHANGE_CPUSET_SWAP &&
        (ch->other < 0 || (size_t)ch->other >= env->ngroups || ch->other == ch->group))
        return kt_err_set(err, EINVAL, "ops[%zu] cpuset_swap: other slot %d must be another of "
                          "the %zu slots", i, ch->other, env->ngroups);
    if (op_table[ch->op].cpus && ch->cpus && *ch->cpus &&
        kt__cpulist_parse(ch->cpus, &mask, order, &n, &why) < 0)
        return kt_err_set(err, EINVAL, "ops[%zu] %s: cpus \"%s\": %s", i, op_table[ch->op].name,
                          ch->cpus, why.msg);
    if (ch->op == KT_CHANGE_CGROUP_CREATE && (!ch->name || !*ch->name))
        return kt_err_set(err, EINVAL, "ops[%zu] cgroup_create: no name", i);
    if (ch->op == KT_CHANGE_NICE && (ch->nice < -20 || ch->nice > 19))
        return kt_err_set(err, EINVAL, "ops[%zu] nice: %d out of -20..19", i, ch->nice);
    if (ch->op == KT_CHANGE_WEIGHT && (ch->weight < 1 || ch->weight > 10000))
        return kt_err_set(err, EINVAL, "ops[%zu] weight: %llu out of 1..10000", i,
                          (unsigned long long)ch->weight);
    if (ch->op == KT_CHANGE_POLICY) {
        kt_work_spec s = { .policy = ch->policy, .rt_prio = ch->rt_prio };

        if (ch->policy == KT_POLICY_INHERIT)
            return kt_err_set(err, EINVAL, "ops[%zu] policy: name a policy (not INHERIT)", i);
        if (kt__policy_check(&s, &why) < 0)
            return kt_err_set(err, EINVAL, "ops[%zu] policy: %s", i, why.msg);
    }
    if ((ch->op == KT_CHANGE_CPU_OFFLINE || ch->op == KT_CHANGE_CPU_ONLINE) && ch->cpu < 0)
        return kt_err_set(err, EINVAL, "ops[%zu] %s: cpu %d", i, op_table[ch->op].name, ch->cpu);
    return 0;
}

/* v2 moves whole processes: a thread worker would take the scenario along. */
static int check_movable(int tid, unsigned wk, kt_cg_version v, kt_err *err)
{
    char path[64], buf[4096];
    const char *p;

    if (v != KT_CG_V2)
        return 0;
    snprintf(path, sizeof(path), "/proc/%d/status", tid);
    if (kt__read_file_buf(path, buf, sizeof(buf), err) < 0)
        return -1;
    p = strstr(buf, "\nTgid:");
    if (p && atoi(p + 6) == tid)
        return 0;
    return kt_err_set(err, EINVAL, "ktw%u (tid %d) is a thread: on cgroup v2 a move takes its "
                      "whole process (use .process = true workers)", wk, tid);
}

static int layout(kt_changes *c, kt_err *err)
{
    if (!c->have_lay && kt_cg_detect(&c->lay, err) < 0)
        return -1;
    c->have_lay = true;
    return 0;
}

static int do_move(kt_changes *c, const kt_change *ch, kt_err *err)
{
    int tid = kt_work_tid(c->env.work, (size_t)ch->worker);
    unsigned wk = worker_number(c->env.work, ch->worker);
    char path[PATH_MAX], val[32];
    kt_cgroup *g;

    if (tid <= 0)
        return kt_err_set(err, ESRCH, "ktw%u has no thread (the set is not running)", wk);
    if (ch->group >= 0) {
        g = c->env.groups[ch->group];
        if (!g)
            return kt_err_set(err, ENOENT, "slot g%d holds no group", ch->group);
        if (check_movable(tid, wk, kt_cgroup_version(g), err) < 0)
            return -1;
        return kt_cgroup_add(g, tid, err);
    }
    if (layout(c, err) < 0 || check_movable(tid, wk, c->lay.version, err) < 0)
        return -1;
    snprintf(val, sizeof(val), "%d", tid);
    snprintf(path, sizeof(path), "%s/%s", c->lay.cpu_root, kt_cg_file(c->lay.version, KT_CG_PROCS));
    if (kt__write_file(path, val, err) < 0)
        return -1;
    if (c->lay.version == KT_CG_V2 || !strcmp(c->lay.cpu_root, c->lay.cpuset_root))
        return 0;
    snprintf(path, sizeof(path), "%s/%s", c->lay.cpuset_root, kt_cg_file(c->lay.version, KT_CG_PROCS));
    return kt__write_file(path, val, err);
}

/* The root's CPUs: what a cleared cpuset gets back. */
static int root_cpus(kt_changes *c, char *buf, size_t n, kt_err *err)
{
    char path[PATH_MAX];
    char *nl;

    if (layout(c, err) < 0)
        return -1;
    snprintf(path, sizeof(path), "%s/%s", c->lay.cpuset_root,
             c->lay.version == KT_CG_V2 ? "cpuset.cpus.effective" : "cpuset.cpus");
    if (kt__read_file_buf(path, buf, n, err) < 0)
        return -1;
    nl = strchr(buf, '\n');
    if (nl)
        *nl = '\0';
    return 0;
}

static int do_cpuset(kt_changes *c, const kt_change *ch, kt_err *err)
{
    kt_cgroup *g = c->env.groups[ch->group];
    char all[4096];

    if (!g)
        return kt_err_set(err, ENOENT, "slot g%d holds no group", ch->group);
    if (ch->cpus && *ch->cpus)
        return kt_cgroup_set_cpus(g, ch->cpus, err);
    if (root_cpus(c, all, sizeof(all), err) < 0)
        return -1;
    return kt_cgroup_set_cpus(g, all, err);
}

static int do_swap(kt_changes *c, const kt_change *ch, kt_err *err)
{
    kt_cgroup *a = c->env.groups[ch->group], *b = c->env.groups[ch->other];
    char ca[4096], cb[4096];

    if (!a || !b)
        return kt_err_set(err, ENOENT, "slot g%d holds no group", a ? ch->other : ch->group);
    if (kt_cgroup_read(a, KT_CG_CPUS, ca, sizeof(ca), err) < 0 ||
        kt_cgroup_read(b, KT_CG_CPUS, cb, sizeof(cb), err) < 0)
        return -1;
    if (kt_cgroup_set_cpus(a, cb, err) < 0)
        return -1;
    return kt_cgroup_set_cpus(b, ca, err);
}

static int do_affinity(kt_changes *c, const kt_change *ch, kt_err *err)
{
    int tid = kt_work_tid(c->env.work, (size_t)ch->worker);
    unsigned wk = worker_number(c->env.work, ch->worker);
    int order[CPU_SETSIZE], n;
    cpu_set_t mask = c->allowed;

    if (tid <= 0)
        return kt_err_set(err, ESRCH, "ktw%u has no thread (the set is not running)", wk);
    if (ch->cpus && *ch->cpus && kt__cpulist_parse(ch->cpus, &mask, order, &n, err) < 0)
        return -1;
    if (sched_setaffinity(tid, sizeof(mask), &mask) < 0)
        return kt_err_sys(err, errno, "sched_setaffinity(ktw%u, tid %d, %s)", wk, tid,
                          ch->cpus && *ch->cpus ? ch->cpus : "all allowed");
    return 0;
}

static int do_create(kt_changes *c, const kt_change *ch, kt_err *err)
{
    kt_cgroup *g;

    if (c->env.groups[ch->group])
        return kt_err_set(err, EEXIST, "slot g%d already holds a group (%s)", ch->group,
                          kt_cgroup_path(c->env.groups[ch->group], KT_CG_WEIGHT));
    g = kt_cgroup_create(c->env.hooks, ch->name, err);
    if (!g)
        return -1;
    c->env.groups[ch->group] = g;
    return ch->cpus && *ch->cpus ? kt_cgroup_set_cpus(g, ch->cpus, err) : 0;
}

/* A slot emptied before: rmdir the directory again, so the kernel says why
 * (ENOENT), rather than a message of ours. */
static int do_remove(kt_changes *c, const kt_change *ch, kt_err *err)
{
    kt_cgroup *g = c->env.groups[ch->group];
    char *gone = c->removed[ch->group];

    if (!g) {
        if (!*gone)
            return kt_err_set(err, ENOENT, "slot g%d holds no group (never created)", ch->group);
        if (rmdir(gone) < 0)
            return kt_err_sys(err, errno, "rmdir %s (removed before)", gone);
        return 0;
    }
    snprintf(gone, PATH_MAX, "%s", kt_cgroup_path(g, KT_CG_WEIGHT));
    c->env.groups[ch->group] = NULL;    /* destroy frees g whatever happens */
    return kt_cgroup_destroy(g, err);
}

static int do_cpu(const kt_change *ch, kt_err *err)
{
    char path[96];

    snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%d/online", ch->cpu);
    return kt__write_file(path, ch->op == KT_CHANGE_CPU_ONLINE ? "1" : "0", err);
}

static int make(kt_changes *c, const kt_change *ch, kt_err *err)
{
    int tid = op_table[ch->op].worker ? kt_work_tid(c->env.work, (size_t)ch->worker) : 0;
    unsigned wk = worker_number(c->env.work, ch->worker);
    struct sched_param sp = { .sched_priority = ch->rt_prio };

    switch (ch->op) {
    case KT_CHANGE_MOVE:
        return do_move(c, ch, err);
    case KT_CHANGE_CPUSET:
        return do_cpuset(c, ch, err);
    case KT_CHANGE_CPUSET_SWAP:
        return do_swap(c, ch, err);
    case KT_CHANGE_AFFINITY:
        return do_affinity(c, ch, err);
    case KT_CHANGE_CGROUP_CREATE:
        return do_create(c, ch, err);
    case KT_CHANGE_CGROUP_REMOVE:
        return do_remove(c, ch, err);
    case KT_CHANGE_WEIGHT:
        if (!c->env.groups[ch->group])
            return kt_err_set(err, ENOENT, "slot g%d holds no group", ch->group);
        return kt_cgroup_set_weight(c->env.groups[ch->group], ch->weight, err);
    case KT_CHANGE_NICE:
        if (tid <= 0 || setpriority(PRIO_PROCESS, (id_t)tid, ch->nice) < 0)
            return kt_err_sys(err, tid <= 0 ? ESRCH : errno, "setpriority(ktw%u, tid %d, %d)",
                              wk, tid, ch->nice);
        return 0;
    case KT_CHANGE_POLICY:
        if (tid <= 0 || sched_setscheduler(tid, kt__policy_sched(ch->policy), &sp) < 0)
            return kt_err_sys(err, tid <= 0 ? ESRCH : errno, "sched_setscheduler(ktw%u, tid %d, %s, %d)",
                              wk, tid, kt_policy_name(ch->policy), ch->rt_prio);
        return 0;
    default:
        return do_cpu(ch, err);
    }
}

static void record(kt_changes *c, size_t i, uint64_t t, uint64_t t_end, int rc, const kt_err *err)
{
    kt_change_record *r = &c->rec[i];

    r->actual_ms = (double)(t - c->t0) / 1e6;
    r->took_ms = (double)(t_end - t) / 1e6;
    c->at_ns[i] = rc == 0 ? t : 0;
    r->error = rc == 0 ? 0 : err->code ? err->code : EINVAL;
    if (rc == 0)
        snprintf(r->result, sizeof(r->result), "ok");
    else if (err->code && !strstr(err->msg, kt_errno_name(err->code)))
        snprintf(r->result, sizeof(r->result), "%s (%s)", err->msg, kt_errno_name(err->code));
    else
        snprintf(r->result, sizeof(r->result), "%s", err->msg);
}

static void *changes_thread(void *arg)
{
    kt_changes *c = arg;
    size_t i;

    for (i = 0; i < c->n; i++) {
        uint64_t due = c->t0 + c->plan[i].at_ms * 1000000u, t;
        struct timespec ts = kt__ns_ts(due);
        kt_err err = { 0 };
        int rc;

        pthread_mutex_lock(&c->lock);
        while (!c->stop && kt__mono_ns() < due)
            pthread_cond_timedwait(&c->cond, &c->lock, &ts);
        if (c->stop) {
            pthread_mutex_unlock(&c->lock);
            break;
        }
        pthread_mutex_unlock(&c->lock);
        t = kt__mono_ns();
        rc = make(c, &c->plan[i], &err);
        record(c, i, t, kt__mono_ns(), rc, &err);
    }
    for (; i < c->n; i++)
        snprintf(c->rec[i].result, sizeof(c->rec[i].result), "not made: stopped before its time");
    return NULL;
}

static void changes_release(kt_changes *c)
{
    free(c->plan);
    free(c->rec);
    free(c->at_ns);
    free(c->removed);
    free(c);
}

kt_changes *kt_changes_start(const kt_changes_env *env, const kt_change *plan, size_t n,
                             kt_err *err)
{
    pthread_condattr_t ca;
    kt_changes *c;
    size_t i;
    int e;

    if (!env || (n && !plan))
        return kt_err_set(err, EINVAL, "changes: no environment or no table"), NULL;
    for (i = 0; i < n; i++)
        if (check_row(env, plan, i, err) < 0)
            return NULL;
    c = calloc(1, sizeof(*c));
    if (!c || !(c->plan = calloc(n + 1, sizeof(*c->plan))) ||
        !(c->rec = calloc(n + 1, sizeof(*c->rec))) || !(c->at_ns = calloc(n + 1, sizeof(*c->at_ns))) ||
        !(c->removed = calloc(env->ngroups + 1, sizeof(*c->removed)))) {
        if (c)
            changes_release(c);
        return kt_err_set(err, ENOMEM, "changes: out of memory"), NULL;
    }
    c->env = *env;
    c->n = n;
    if (n)
        memcpy(c->plan, plan, n * sizeof(*plan));
    if (sched_getaffinity(0, sizeof(c->allowed), &c->allowed) < 0) {
        kt_err_sys(err, errno, "changes: sched_getaffinity");
        changes_release(c);
        return NULL;
    }
    for (i = 0; i < n; i++) {
        describe(c, &c->plan[i], c->rec[i].what, sizeof(c->rec[i].what));
        c->rec[i].planned_ms = c->plan[i].at_ms;
        c->rec[i].actual_ms = -1;
        snprintf(c->rec[i].result, sizeof(c->rec[i].result), "not made yet");
    }
    pthread_mutex_init(&c->lock, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&c->cond, &ca);
    pthread_condattr_destroy(&ca);
    c->t0 = kt__mono_ns();
    e = pthread_create(&c->thread, NULL, changes_thread, c);
    if (e) {
        kt_err_sys(err, e, "changes: pthread_create");
        pthread_cond_destroy(&c->cond);
        pthread_mutex_destroy(&c->lock);
        changes_release(c);
        return NULL;
    }
    return c;
}

void kt_changes_wait(kt_changes *c)
{
    if (!c || c->joined)
        return;
    pthread_join(c->thread, NULL);
    c->joined = true;
}

void kt_changes_free(kt_changes *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->lock);
    c->stop = true;
    pthread_cond_broadcast(&c->cond);
    pthread_mutex_unlock(&c->lock);
    kt_changes_wait(c);
    pthread_cond_destroy(&c->cond);
    pthread_mutex_destroy(&c->lock);
    changes_release(c);
}

size_t kt_changes_count(const kt_changes *c)
{
    return c ? c->n : 0;
}

const kt_change_record *kt_changes_get(const kt_changes *c, size_t i)
{
    return c && i < c->n ? &c->rec[i] : NULL;
}

uint64_t kt_changes_at_ns(const kt_changes *c, size_t i)
{
    return c && i < c->n ? c->at_ns[i] : 0;
}

uint64_t kt_changes_start_ns(const kt_changes *c)
{
    return c ? c->t0 : 0;
}

bool kt_changes_claim_at(const kt_changes *c, kt_verdict *v, const char *file, int line)
{
    bool all = true;

    for (size_t i = 0; c && i < c->n; i++) {
        const kt_change_record *r = &c->rec[i];
        char label[32], why[KT_ERR_MSG_MAX + 256];
        bool made = c->at_ns[i] != 0;

        snprintf(label, sizeof(label), "ops[%zu]", i);
        if (r->actual_ms >= 0)
            snprintf(why, sizeof(why), "%s at %.0f ms (planned %llu): %s", r->what, r->actual_ms,
                     (unsigned long long)r->planned_ms, r->result);
        else
            snprintf(why, sizeof(why), "%s (planned at %llu ms): %s", r->what,
                     (unsigned long long)r->planned_ms, r->result);
        all &= kt_claim_ok(v, label, made ? NULL : why, file, line);
    }
    return all;
}
