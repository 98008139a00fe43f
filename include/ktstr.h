/* ktstr.h - everything a scenario file needs. */
#ifndef KTSTR_H
#define KTSTR_H

#include "ktstr/error.h"
#include "ktstr/verdict.h"
#include "ktstr/series.h"
#include "ktstr/cpuset.h"
#include "ktstr/stats.h"
#include "ktstr/scenario.h"
#include "ktstr/perf.h"
#include "ktstr/schedstat.h"
#include "ktstr/procstat.h"
#include "ktstr/kvmstats.h"
#include "ktstr/discover.h"
#include "ktstr/file.h"
#include "ktstr/monitor.h"
#include "ktstr/hist.h"
#include "ktstr/work.h"
#include "ktstr/cgroup.h"
#include "ktstr/changes.h"
#include "ktstr/microvm.h"
#include "ktstr/topology.h"
#include "ktstr/vcpus.h"
#include "ktstr/scx.h"

#endif
