/* kt_vcpus: the host's monitor over a guest's vCPU threads during the body. */
#include "guest/guest.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ktstr/discover.h"
#include "ktstr/schedstat.h"
#include "ktstr/topology.h"

struct kt_vcpus {
    int n;
    int pid;
    int tid[KT_TOPOLOGY_MAX_VCPUS];
    const char *accel;
    kt_monitor *mon;
    double body_s;
    /* schedstat's run delay of each vCPU thread at the body's start mark
     * and at its end: the host steal, on the marks' own clock */
    uint64_t delay0[KT_TOPOLOGY_MAX_VCPUS], delay1[KT_TOPOLOGY_MAX_VCPUS];
    bool have_delay[KT_TOPOLOGY_MAX_VCPUS];
};

/* Run delay of vCPU thread i now; false when it cannot be read. */
static bool read_delay(const kt_vcpus *vc, int i, uint64_t *delay)
{
    kt_schedstat s;
    kt_schedstat_sample x;
    bool ok;

    if (kt_schedstat_open(&s, vc->pid, vc->tid[i], NULL) < 0)
        return false;
    ok = kt_schedstat_read(&s, &x, NULL) == 0;
    kt_schedstat_close(&s);
    *delay = x.delay_ns;
    return ok;
}

kt_vcpus *kt__vcpus_new(const char *accel)
{
    kt_vcpus *vc = calloc(1, sizeof(*vc));

    if (vc)
        vc->accel = accel;
    return vc;
}

int kt__vcpus_start(kt_vcpus *vc, int qemu_pid, unsigned body_max_s, kt_err *err)
{
    kt_vcpu_thread th[KT_TOPOLOGY_MAX_VCPUS];
    kt_target t[KT_TOPOLOGY_MAX_VCPUS];
    kt_monitor_config cfg = { .hz = 100, .capacity = 100 * ((size_t)body_max_s + 2) };
    int n = kt_discover_vcpus(qemu_pid, th, KT_TOPOLOGY_MAX_VCPUS, err);

    if (n < 0)
        return -1;
    if (n == 0)
        return kt_err_set(err, ESRCH, "vCPU threads of QEMU (pid %d): none found", qemu_pid);
    if (n > KT_TOPOLOGY_MAX_VCPUS)
        n = KT_TOPOLOGY_MAX_VCPUS;
    for (int i = 0; i < n; i++) {
        vc->tid[i] = th[i].tid;
        t[i] = (kt_target){ .kind = KT_TARGET_VCPU, .pid = qemu_pid, .tid = th[i].tid,
                            .sources = KT_SRC_SCHEDSTAT | KT_SRC_PERF_SW | KT_SRC_PERF_HW,
                            .kvm_stats_fd = -1 };
    }
    vc->n = n;
    vc->pid = qemu_pid;
    for (int i = 0; i < n; i++)
        vc->have_delay[i] = read_delay(vc, i, &vc->delay0[i]);
    vc->mon = kt_monitor_start(t, n, &cfg, NULL);
    if (vc->mon)
        return 0;
    /* No hardware PMU here (ENOENT): the software view is what there is. */
    for (int i = 0; i < n; i++)
        t[i].sources &= ~KT_SRC_PERF_HW;
    vc->mon = kt_monitor_start(t, n, &cfg, err);
    return vc->mon ? 0 : -1;
}

void kt__vcpus_stop(kt_vcpus *vc, double body_s)
{
    for (int i = 0; i < vc->n; i++)
        vc->have_delay[i] = vc->have_delay[i] && read_delay(vc, i, &vc->delay1[i]);
    if (vc->mon)
        kt_monitor_stop(vc->mon);
    vc->body_s = body_s;
}

void kt__vcpus_free(kt_vcpus *vc)
{
    if (!vc)
        return;
    kt_monitor_free(vc->mon);
    free(vc);
}

int kt_vcpus_count(const kt_vcpus *vc)
{
    return vc ? vc->n : 0;
}

double kt_vcpus_share(const kt_vcpus *vc, int i)
{
    if (!vc || !vc->mon || i < 0 || i >= vc->n)
        return NAN;
    return kt_timeline_cpu_share(kt_monitor_timeline(vc->mon), i, 0, KT_TICK_END);
}

double kt_vcpus_steal(const kt_vcpus *vc, int i)
{
    if (!vc || i < 0 || i >= vc->n || !vc->have_delay[i] || !(vc->body_s > 0))
        return NAN;
    double share = (double)(vc->delay1[i] - vc->delay0[i]) / (vc->body_s * 1e9);

    return share < 1.0 ? share : 1.0;   /* the reads straddle the marks by a hair */
}

const kt_timeline *kt_vcpus_timeline(const kt_vcpus *vc)
{
    return vc && vc->mon ? kt_monitor_timeline(vc->mon) : NULL;
}

const char *kt_vcpus_accel(const kt_vcpus *vc)
{
    return vc ? vc->accel : "";
}

int kt_vcpus_tid(const kt_vcpus *vc, int i)
{
    return vc && i >= 0 && i < vc->n ? vc->tid[i] : -1;
}

double kt_vcpus_body_s(const kt_vcpus *vc)
{
    return vc ? vc->body_s : NAN;
}
