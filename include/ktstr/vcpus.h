/*
 * ktstr/vcpus.h - what the host saw of a guest's vCPU threads during the
 * body, handed to a VM scenario's .host_check:
 *
 *   static void host(const kt_vcpus *vc, kt_verdict *v)
 *   {
 *       for (int i = 0; i < kt_vcpus_count(vc); i++)
 *           CLAIM_AS(v, "vcpu_share", kt_vcpus_share(vc, i), at_least, 0.5);
 *   }
 *
 * Its claims are reported with the label prefix "host.".
 */
#ifndef KTSTR_VCPUS_H
#define KTSTR_VCPUS_H

#include "ktstr/api.h"
#include "ktstr/monitor.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct kt_vcpus kt_vcpus;

/* vCPU threads found (QEMU's "CPU <n>/TCG" or "CPU <n>/KVM"). */
KT_API int kt_vcpus_count(const kt_vcpus *vc);

/* Host CPU time of vCPU thread i over the body's wall time (1.0: one host
 * CPU all the time); NaN when i is out of range or nothing was sampled. */
KT_API double kt_vcpus_share(const kt_vcpus *vc, int i);

/* Host steal of vCPU thread i: how long it was runnable on the host but
 * not running (schedstat's run delay) over the body, as a share of the
 * body's wall time (0.38: kept off a CPU 38% of the body); NaN when i is
 * out of range or nothing was sampled. The point's vm: map lists it per
 * vCPU as host_steal, in ms and as this share. */
KT_API double kt_vcpus_steal(const kt_vcpus *vc, int i);

/* The monitor's timeline over the body: target i is vCPU thread i, with
 * schedstat and the software perf group (the hardware group with
 * exclude_host where it opens). NULL when nothing was sampled. */
KT_API const kt_timeline *kt_vcpus_timeline(const kt_vcpus *vc);

/* "kvm" or "tcg". */
KT_API const char *kt_vcpus_accel(const kt_vcpus *vc);

/* Host thread id of vCPU thread i, or -1 when i is out of range. */
KT_API int kt_vcpus_tid(const kt_vcpus *vc, int i);

/* The body's wall time as the host saw it (its start and end marks). */
KT_API double kt_vcpus_body_s(const kt_vcpus *vc);

#ifdef __cplusplus
}
#endif
#endif
