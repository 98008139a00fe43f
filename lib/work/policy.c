/* The knobs a worker applies to itself before the start barrier:
 * cgroup, affinity, policy with RT priority, nice (in that order). */
#include "work/work_int.h"

#include <errno.h>
#include <sys/resource.h>

static const struct {
    int sched;          /* SCHED_* value */
    const char *name;
    bool rt;            /* takes an RT priority */
} policy_table[KT_POLICY_N] = {
    [KT_POLICY_INHERIT] = { -1, "inherited", false },
    [KT_POLICY_OTHER] = { SCHED_OTHER, "SCHED_OTHER", false },
    [KT_POLICY_BATCH] = { SCHED_BATCH, "SCHED_BATCH", false },
    [KT_POLICY_IDLE] = { SCHED_IDLE, "SCHED_IDLE", false },
    [KT_POLICY_FIFO] = { SCHED_FIFO, "SCHED_FIFO", true },
    [KT_POLICY_RR] = { SCHED_RR, "SCHED_RR", true },
    [KT_POLICY_EXT] = { KT__SCHED_EXT, "SCHED_EXT", false },
};

const char *kt_policy_name(kt_policy p)
{
    if ((unsigned)p >= KT_POLICY_N)
        return "?";
    return policy_table[p].name;
}

int kt__policy_sched(kt_policy p)
{
    return (unsigned)p < KT_POLICY_N ? policy_table[p].sched : -1;
}

int kt__policy_check(const kt_work_spec *s, kt_err *err)
{
    if ((unsigned)s->policy >= KT_POLICY_N)
        return kt_err_set(err, EINVAL, "work spec: policy %d unknown", (int)s->policy);
    if (policy_table[s->policy].rt && (s->rt_prio < 1 || s->rt_prio > 99))
        return kt_err_set(err, EINVAL, "work spec: rt_prio %d out of 1..99 for %s",
                          s->rt_prio, policy_table[s->policy].name);
    if (!policy_table[s->policy].rt && s->rt_prio != 0)
        return kt_err_set(err, EINVAL, "work spec: rt_prio %d given for %s (only FIFO and RR take one)",
                          s->rt_prio, policy_table[s->policy].name);
    if (s->set_nice && (s->nice < -20 || s->nice > 19))
        return kt_err_set(err, EINVAL, "work spec: nice %d out of -20..19", s->nice);
    return 0;
}

static int apply_policy(const kt_work_spec *s, unsigned index, int tid, kt_err *err)
{
    struct sched_param sp = { .sched_priority = s->rt_prio };
    int e;

    if (s->policy == KT_POLICY_INHERIT)
        return 0;
    if (sched_setscheduler(0, policy_table[s->policy].sched, &sp) == 0)
        return 0;
    e = errno;
    if (s->cgroup && policy_table[s->policy].rt && e == EPERM)
        return kt_err_sys(err, e, "ktw%u (tid %d): sched_setscheduler(%s, %d) in cgroup %s: "
                          "the group has no RT runtime (cpu.rt_runtime_us 0)", index, tid,
                          policy_table[s->policy].name, s->rt_prio,
                          kt_cgroup_path(s->cgroup, KT_CG_WEIGHT));
    if (s->policy == KT_POLICY_EXT && e == EINVAL)
        return kt_err_sys(err, e, "ktw%u (tid %d): sched_setscheduler(SCHED_EXT): kernel without sched_ext",
                          index, tid);
    return kt_err_sys(err, e, "ktw%u (tid %d): sched_setscheduler(%s, %d)", index, tid,
                      policy_table[s->policy].name, s->rt_prio);
}

int kt__apply_knobs(const kt__wspec *ws, const kt__wcfg *c, unsigned index,
                    int tid, kt_err *err)
{
    const kt_work_spec *s = &ws->spec;

    /* The cgroup first: a v1 cpuset move resets the affinity (kernels
     * before 6.2 do not keep the user-requested mask), and a v1
     * cpu group refuses an RT task without RT runtime while an RT task
     * already inside keeps running. */
    if (s->cgroup) {
        kt_err e = { 0 };

        if (kt_cgroup_add(s->cgroup, tid, &e))
            return kt_err_set(err, e.code, "ktw%u (tid %d): %s", index, tid, e.msg);
    }
    if (ws->ncpus) {
        cpu_set_t one, *mask = (cpu_set_t *)&ws->mask;

        if (s->pin_each) {
            CPU_ZERO(&one);
            CPU_SET(ws->cpu_order[c->nth % (unsigned)ws->ncpus], &one);
            mask = &one;
        }
        if (sched_setaffinity(0, sizeof(*mask), mask))
            return kt_err_sys(err, errno, "ktw%u (tid %d): sched_setaffinity(%s%s)", index,
                              tid, s->cpus, s->pin_each ? ", pinned" : "");
    }
    if (apply_policy(s, index, tid, err))
        return -1;
    if (s->set_nice && setpriority(PRIO_PROCESS, (id_t)tid, s->nice))
        return kt_err_sys(err, errno, "ktw%u (tid %d): setpriority(nice %d)", index, tid,
                          s->nice);
    return 0;
}
