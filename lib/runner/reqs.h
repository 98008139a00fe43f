/*
 * lib/runner/reqs.h - scenario requirements (private): judged by the
 * runner on the host, and by the guest's PID 1 where the body runs.
 */
#ifndef KTSTR_LIB_RUNNER_REQS_H
#define KTSTR_LIB_RUNNER_REQS_H

#include "ktstr/error.h"
#include "ktstr/scenario.h"

/* CPUs in this process's affinity mask (at least 1). */
int kt__affinity_cpus(void);
/* 0 when every requirement in o holds, else -1 with the reason
 * ("needs KVM: /dev/kvm: No such file or directory ..."). */
int kt__reqs_check(const kt_scenario_opts *o, int ncpus, kt_err *why);

#endif
