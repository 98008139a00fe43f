/* The monitor: one thread reading every target's sources at a fixed
 * cadence into a timeline. Sources are opened and the timeline allocated
 * before the thread starts; the loop itself neither allocates nor opens. */
#include "ktstr/monitor.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "ktstr/kvmstats.h"
#include "ktstr/perf.h"
#include "ktstr/procstat.h"
#include "ktstr/schedstat.h"

#include "base/clock.h"

/* Which target kinds may ask for which source. */
static const struct {
    unsigned source;
    const char *name;
    unsigned kinds; /* bit per kt_target_kind */
} source_table[] = {
    { KT_SRC_SCHEDSTAT, "schedstat", 1u << KT_TARGET_THREAD | 1u << KT_TARGET_VCPU },
    { KT_SRC_PERF_SW, "perf software group", 7u },
    { KT_SRC_PERF_HW, "perf hardware group", 7u },
    { KT_SRC_PROCSTAT, "/proc/stat", 1u << KT_TARGET_CPU },
    { KT_SRC_KVM, "kvm stats", 1u << KT_TARGET_VCPU },
};
#define NSOURCES (sizeof(source_table) / sizeof(source_table[0]))

/* KVM statistics by the field they fill, resolved once per vCPU. */
static const struct {
    kt_field field;
    const char *stat;
} kvm_fields[] = {
    { KT_F_KVM_EXITS, "exits" },
    { KT_F_KVM_HALT_EXITS, "halt_exits" },
    { KT_F_KVM_HALT_WAIT_NS, "halt_wait_ns" },
    { KT_F_KVM_HALT_SUCCESSFUL_POLL, "halt_successful_poll" },
    { KT_F_KVM_HALT_ATTEMPTED_POLL, "halt_attempted_poll" },
    { KT_F_KVM_PREEMPTION_REPORTED, "preemption_reported" },
    { KT_F_KVM_PREEMPTION_OTHER, "preemption_other" },
};
#define NKVM (sizeof(kvm_fields) / sizeof(kvm_fields[0]))

struct mtarget {
    kt_target t;
    uint32_t fields;
    kt_schedstat ss;
    kt_perf_group sw, hw;
    kt_kvmstats kvm;
    int kvm_idx[NKVM];
    int stopped;               /* gone or failed: no longer read */
    char error[KT_ERR_MSG_MAX];
};

struct kt_monitor {
    int n;
    struct mtarget *tg;
    kt_timeline *tl;
    uint64_t period_ns;
    kt_procstat ps;
    int use_procstat;
    kt_cpu_times *cpus;
    int ncpus;
    pthread_t thread;
    int running;               /* thread started and not yet joined */
    atomic_bool stop, full;
    atomic_uint_least64_t missed, cpu_ns;
};

static void close_target(struct mtarget *t)
{
    kt_schedstat_close(&t->ss);
    kt_perf_group_close(&t->sw);
    kt_perf_group_close(&t->hw);
    kt_kvmstats_close(&t->kvm);
}

static int open_target(kt_monitor *m, struct mtarget *mt, int i, kt_err *err)
{
    const kt_target *t = &mt->t;
    int tid = t->kind == KT_TARGET_CPU ? -1 : t->tid;
    int cpu = t->kind == KT_TARGET_CPU ? t->cpu : -1;

    mt->ss.fd = -1;
    mt->kvm.fd = -1;
    for (int k = 0; k < KT_PERF_MAX_EVENTS; k++)
        mt->sw.fd[k] = mt->hw.fd[k] = -1;
    if ((unsigned)t->kind > KT_TARGET_VCPU)
        return kt_err_set(err, EINVAL, "monitor target %d: unknown kind %d", i, (int)t->kind);
    if (!t->sources)
        return kt_err_set(err, EINVAL, "monitor target %d: no sources", i);
    for (size_t s = 0; s < NSOURCES; s++)
        if ((t->sources & source_table[s].source) &&
            !(source_table[s].kinds & (1u << t->kind)))
            return kt_err_set(err, EINVAL, "monitor target %d: %s does not apply to a %s",
                              i, source_table[s].name,
                              t->kind == KT_TARGET_CPU ? "CPU" : "thread");
    if (t->sources & ~(unsigned)(KT_SRC_SCHEDSTAT | KT_SRC_PERF_SW | KT_SRC_PERF_HW |
                                 KT_SRC_PROCSTAT | KT_SRC_KVM))
        return kt_err_set(err, EINVAL, "monitor target %d: unknown source bits 0x%x",
                          i, t->sources);
    if (t->kind == KT_TARGET_CPU ? t->cpu < 0 : t->tid <= 0)
        return kt_err_set(err, EINVAL, "monitor target %d: %s %d", i,
                          t->kind == KT_TARGET_CPU ? "cpu" : "tid",
                          t->kind == KT_TARGET_CPU ? t->cpu : t->tid);
    mt->fields = kt_sources_fields(t->sources);
    if ((t->sources & KT_SRC_SCHEDSTAT) && kt_schedstat_open(&mt->ss, t->pid, t->tid, err) < 0)
        return -1;
    if ((t->sources & KT_SRC_PERF_SW) &&
        kt_perf_group_open(&mt->sw, KT_PERF_SW, tid, cpu, 0, err) < 0)
        return -1;
    if ((t->sources & KT_SRC_PERF_HW) &&
        kt_perf_group_open(&mt->hw, KT_PERF_HW, tid, cpu,
                           t->kind == KT_TARGET_VCPU ? KT_PERF_EXCLUDE_HOST : 0, err) < 0)
        return -1;
    if (t->sources & KT_SRC_KVM) {
        int fd = t->kvm_stats_fd >= 0 ? dup(t->kvm_stats_fd) : -1;

        if (fd < 0 && t->kvm_stats_fd >= 0)
            return kt_err_sys(err, errno, "kvm stats (tid %d): dup", t->tid);
        errno = EBADF;
        if (kt_kvmstats_open(&mt->kvm, fd, err) < 0)
            return -1;
        for (size_t k = 0; k < NKVM; k++) {
            mt->kvm_idx[k] = kt_kvmstats_find(&mt->kvm, kvm_fields[k].stat);
            if (mt->kvm_idx[k] < 0)  /* this kernel lacks it: not captured */
                mt->fields &= ~(1u << kvm_fields[k].field);
        }
    }
    if (t->sources & KT_SRC_PROCSTAT) {
        m->use_procstat = 1;
        if (t->cpu >= m->ncpus)
            m->ncpus = t->cpu + 1;
    }
    return 0;
}

/* Stops reading target i at this tick, keeping why. */
static void stop_target(kt_monitor *m, int i, const kt_err *e)
{
    struct mtarget *mt = &m->tg[i];

    mt->stopped = 1;
    memcpy(mt->error, e->msg, sizeof(mt->error));
    kt_timeline_mark_gone(m->tl, i, e->code);
}

static void sample_target(kt_monitor *m, int i)
{
    struct mtarget *mt = &m->tg[i];
    uint64_t v[KT_F_COUNT] = { 0 }, ts = kt__mono_ns();
    kt_perf_values pv;
    kt_err e = { 0 };

    if (mt->t.sources & KT_SRC_SCHEDSTAT) {
        kt_schedstat_sample s;

        if (kt_schedstat_read(&mt->ss, &s, &e) < 0)
            { stop_target(m, i, &e); return; }
        v[KT_F_RUN_NS] = s.run_ns;
        v[KT_F_DELAY_NS] = s.delay_ns;
        v[KT_F_TIMESLICES] = s.timeslices;
    }
    if (mt->t.sources & KT_SRC_PERF_SW) {
        if (kt_perf_group_read(&mt->sw, &pv, &e) < 0)
            { stop_target(m, i, &e); return; }
        v[KT_F_TASK_CLOCK_NS] = pv.v[0];
        v[KT_F_CTX_SWITCHES] = pv.v[1];
        v[KT_F_MIGRATIONS] = pv.v[2];
        v[KT_F_SW_ENABLED_NS] = pv.time_enabled_ns;
        v[KT_F_SW_RUNNING_NS] = pv.time_running_ns;
    }
    if (mt->t.sources & KT_SRC_PERF_HW) {
        if (kt_perf_group_read(&mt->hw, &pv, &e) < 0)
            { stop_target(m, i, &e); return; }
        for (int k = 0; k < 4; k++)
            v[KT_F_CYCLES + k] = pv.v[k];
        v[KT_F_HW_ENABLED_NS] = pv.time_enabled_ns;
        v[KT_F_HW_RUNNING_NS] = pv.time_running_ns;
    }
    if (mt->t.sources & KT_SRC_KVM) {
        if (kt_kvmstats_read(&mt->kvm, &e) < 0)
            { stop_target(m, i, &e); return; }
        for (size_t k = 0; k < NKVM; k++)
            v[kvm_fields[k].field] = kt_kvmstats_value(&mt->kvm, mt->kvm_idx[k]);
    }
    if (mt->t.sources & KT_SRC_PROCSTAT) {
        const kt_cpu_times *c = &m->cpus[mt->t.cpu];

        if (!c->present) {
            kt_err_sys(&e, ENOENT, "/proc/stat (cpu %d): no line: offline", mt->t.cpu);
            { stop_target(m, i, &e); return; }
        }
        v[KT_F_CPU_BUSY_NS] = kt_cpu_busy_ns(c);
        v[KT_F_CPU_IDLE_NS] = kt_cpu_idle_ns(c);
        v[KT_F_CPU_STEAL_NS] = c->steal;
    }
    kt_timeline_record(m->tl, i, ts, v);
}

/* One tick: returns -1 when the timeline is full. */
static int sample_all(kt_monitor *m)
{
    if (kt_timeline_ticks(m->tl) >= kt_timeline_capacity(m->tl))
        return -1;
    if (m->use_procstat) {
        kt_err e = { 0 };

        if (kt_procstat_read(&m->ps, m->cpus, m->ncpus, &e) < 0)
            for (int i = 0; i < m->n; i++)
                if (!m->tg[i].stopped && (m->tg[i].t.sources & KT_SRC_PROCSTAT))
                    stop_target(m, i, &e);
    }
    for (int i = 0; i < m->n; i++)
        if (!m->tg[i].stopped)
            sample_target(m, i);
    return kt_timeline_commit(m->tl);
}

static void *monitor_main(void *arg)
{
    kt_monitor *m = arg;
    uint64_t next = kt__mono_ns();

    /* wake at the deadline, not up to 50 us later */
    prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
    while (!atomic_load(&m->stop)) {
        uint64_t now;

        if (sample_all(m) < 0) {
            atomic_store(&m->full, true);
            break;
        }
        atomic_store(&m->cpu_ns, kt__thread_cpu_ns());
        next += m->period_ns;
        now = kt__mono_ns();
        if (now >= next) {  /* late: skip the deadlines already passed */
            uint64_t late = (now - next) / m->period_ns + 1;

            atomic_fetch_add(&m->missed, late);
            next += late * m->period_ns;
        }
        kt__sleep_until_ns(next);
    }
    atomic_store(&m->cpu_ns, kt__thread_cpu_ns());
    return NULL;
}

kt_monitor *kt_monitor_start(const kt_target *targets, int n,
                             const kt_monitor_config *cfg, kt_err *err)
{
    kt_monitor_config c = cfg ? *cfg : (kt_monitor_config){ 0 };
    uint32_t *fields;
    kt_monitor *m;
    int rc;

    if (!targets || n < 1)
        return kt_err_set(err, EINVAL, "monitor: no targets"), NULL;
    if (c.hz == 0)
        c.hz = 100;
    if (c.hz > 1000)
        return kt_err_set(err, EINVAL, "monitor: %u Hz (1..1000)", c.hz), NULL;
    if (c.capacity == 0)
        c.capacity = (size_t)c.hz * 10;
    m = calloc(1, sizeof(*m));
    fields = calloc((size_t)n, sizeof(*fields));
    if (m)
        m->tg = calloc((size_t)n, sizeof(*m->tg));
    if (!m || !fields || !m->tg) {
        free(fields);
        if (m)
            free(m->tg);
        free(m);
        return kt_err_sys(err, ENOMEM, "monitor: %d targets", n), NULL;
    }
    m->n = n;
    m->ps.fd = -1;
    m->period_ns = 1000000000u / c.hz;
    atomic_init(&m->stop, false);
    atomic_init(&m->full, false);
    atomic_init(&m->missed, 0);
    atomic_init(&m->cpu_ns, 0);
    for (int i = 0; i < n; i++) {
        m->tg[i].t = targets[i];
        if (open_target(m, &m->tg[i], i, err) < 0) {
            m->n = i + 1;
            goto fail;
        }
        fields[i] = m->tg[i].fields;
    }
    if (m->use_procstat) {
        kt_err e = { 0 };

        m->cpus = calloc((size_t)m->ncpus, sizeof(*m->cpus));
        if (!m->cpus) {
            kt_err_sys(err, ENOMEM, "monitor: %d CPUs", m->ncpus);
            goto fail;
        }
        if (kt_procstat_open(&m->ps, err) < 0 ||
            kt_procstat_read(&m->ps, m->cpus, m->ncpus, err) < 0)
            goto fail;
        for (int i = 0; i < n; i++)
            if ((targets[i].sources & KT_SRC_PROCSTAT) && !m->cpus[targets[i].cpu].present) {
                kt_err_sys(&e, ENOENT, "/proc/stat (cpu %d): no line: offline or absent",
                           targets[i].cpu);
                *err = e;
                goto fail;
            }
    }
    m->tl = kt_timeline_new(n, fields, c.capacity, err);
    if (!m->tl)
        goto fail;
    rc = pthread_create(&m->thread, NULL, monitor_main, m);
    if (rc) {
        kt_err_sys(err, rc, "monitor: pthread_create");
        goto fail;
    }
    m->running = 1;
    free(fields);
    return m;
fail:
    free(fields);
    kt_monitor_free(m);
    return NULL;
}

void kt_monitor_stop(kt_monitor *m)
{
    if (!m || !m->running)
        return;
    atomic_store(&m->stop, true);
    pthread_join(m->thread, NULL);
    m->running = 0;
}

void kt_monitor_free(kt_monitor *m)
{
    if (!m)
        return;
    kt_monitor_stop(m);
    for (int i = 0; i < m->n; i++)
        close_target(&m->tg[i]);
    if (m->ps.fd >= 0)
        kt_procstat_close(&m->ps);
    free(m->cpus);
    free(m->tg);
    kt_timeline_free(m->tl);
    free(m);
}

const kt_timeline *kt_monitor_timeline(const kt_monitor *m)
{
    return m->tl;
}

uint64_t kt_monitor_missed(const kt_monitor *m)
{
    return atomic_load(&((kt_monitor *)m)->missed);
}

bool kt_monitor_full(const kt_monitor *m)
{
    return atomic_load(&((kt_monitor *)m)->full);
}

const char *kt_monitor_target_error(const kt_monitor *m, int target)
{
    if (target < 0 || target >= m->n || !kt_timeline_gone(m->tl, target, NULL, NULL))
        return "";
    return m->tg[target].error;
}

uint64_t kt_monitor_cpu_ns(const kt_monitor *m)
{
    return atomic_load(&((kt_monitor *)m)->cpu_ns);
}
