/* Scenario requirements, checked in the parent before forking: an unmet
 * one becomes "# SKIP <reason>" naming the requirement and the errno. */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <linux/perf_event.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/cpumask.h"
#include "runner/reqs.h"

int kt__affinity_cpus(void)
{
    kt__cpumask m;
    int count;

    if (kt__cpumask_get(0, &m, NULL) < 0)
        return 1;
    count = kt__cpumask_count(&m);
    kt__cpumask_free(&m);
    return count > 0 ? count : 1;
}

static int need_root(const kt_scenario_opts *o, int ncpus, kt_err *why)
{
    (void)ncpus;
    if (!o->needs_root || geteuid() == 0)
        return 0;
    return kt_err_set(why, EPERM, "needs root: effective uid is %u", (unsigned)geteuid());
}

static int need_kvm(const kt_scenario_opts *o, int ncpus, kt_err *why)
{
    int fd, version;

    (void)ncpus;
    if (!o->needs_kvm)
        return 0;
    /* kt_err_set, not kt_err_sys: its EACCES hint is about perf. */
    fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return kt_err_set(why, errno, "needs KVM: /dev/kvm: %s", strerror(errno));
    version = ioctl(fd, KVM_GET_API_VERSION, 0);
    if (version < 0) {
        int e = errno;

        close(fd);
        return kt_err_set(why, e, "needs KVM: /dev/kvm: KVM_GET_API_VERSION: %s",
                          strerror(e));
    }
    close(fd);
    if (version != KVM_API_VERSION)
        return kt_err_set(why, 0, "needs KVM: /dev/kvm: API version %d, want %d",
                          version, KVM_API_VERSION);
    return 0;
}

static int need_hw_pmu(const kt_scenario_opts *o, int ncpus, kt_err *why)
{
    struct perf_event_attr attr;
    int fd;

    (void)ncpus;
    if (!o->needs_hw_pmu)
        return 0;
    memset(&attr, 0, sizeof(attr));
    attr.size = sizeof(attr);
    attr.type = PERF_TYPE_HARDWARE;
    attr.config = PERF_COUNT_HW_CPU_CYCLES;
    attr.disabled = 1;
    attr.exclude_kernel = 1;   /* what perf_event_paranoid 2 still allows */
    attr.exclude_hv = 1;
    fd = (int)syscall(SYS_perf_event_open, &attr, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
    if (fd < 0)
        return kt_err_sys(why, errno, "needs a hardware PMU: perf_event_open(cycles)");
    close(fd);
    return 0;
}

static int need_cpus(const kt_scenario_opts *o, int ncpus, kt_err *why)
{
    if (o->min_cpus <= 0 || ncpus >= o->min_cpus)
        return 0;
    return kt_err_set(why, 0, "needs %d CPUs: this process may run on %d",
                      o->min_cpus, ncpus);
}

/* Checked in this order; the first unmet one is the reason. */
static int (*const checks[])(const kt_scenario_opts *, int, kt_err *) = {
    need_root, need_cpus, need_kvm, need_hw_pmu,
};

int kt__reqs_check(const kt_scenario_opts *o, int ncpus, kt_err *why)
{
    for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++)
        if (checks[i](o, ncpus, why) < 0)
            return -1;
    return 0;
}
