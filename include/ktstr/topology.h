/*
 * ktstr/topology.h - the shape of a guest: NUMA nodes, LLCs, cores, SMT.
 *
 *   kt_topology t = { .numa_nodes = 2, .llcs = 2, .cores = 2 };
 *   kt_topology_resolve(&t);              // 0 fields take the defaults
 *   kt_topology_name(&t, buf, sizeof buf) // "2n2l2c1t"
 *
 * vCPUs = llcs x cores x threads (cores are per LLC, threads per core);
 * LLCs are spread evenly over the NUMA nodes, memory too. The defaults
 * are 1 node, 1 LLC, 2 cores, 1 thread, 512 MiB.
 */
#ifndef KTSTR_TOPOLOGY_H
#define KTSTR_TOPOLOGY_H

#include <stdbool.h>
#include <stddef.h>

#include "ktstr/api.h"
#include "ktstr/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct kt_topology {
    unsigned numa_nodes;  /* 0: 1 */
    unsigned llcs;        /* 0: 1; QEMU sockets */
    unsigned cores;       /* per LLC; 0: 2 */
    unsigned threads;     /* per core; 0: 1 */
    unsigned memory_mb;   /* 0: 512 */
} kt_topology;

/* Largest guest the runner builds: vCPUs and MiB. */
#define KT_TOPOLOGY_MAX_VCPUS 64
#define KT_TOPOLOGY_MAX_MEMORY_MB (64u * 1024)

/* True when any field is set: a scenario with such a .vm runs in a VM. */
KT_API bool kt_topology_is_set(const kt_topology *t);

/* Replaces each 0 field with its default. */
KT_API void kt_topology_resolve(kt_topology *t);

/* 0 when the resolved t can be built, else -1 with the reason ("topology
 * 3n2l2c1t: 3 NUMA nodes do not divide 2 LLCs"). */
KT_API int kt_topology_check(const kt_topology *t, kt_err *err);

/* vCPUs of the resolved t. */
KT_API unsigned kt_topology_vcpus(const kt_topology *t);

/* Writes "<n>n<l>l<c>c<t>t" (the YAML's topology); returns its length. */
KT_API int kt_topology_name(const kt_topology *t, char *buf, size_t n);

/* Parses "<n>n<l>l<c>c<t>t", optionally followed by "<m>m" for memory
 * MiB ("2n2l2c1t", "1n1l4c1t512m"); -1 with a message naming the text
 * on anything else. Unnamed memory stays 0 (the default). */
KT_API int kt_topology_parse(const char *s, kt_topology *t, kt_err *err);

#ifdef __cplusplus
}
#endif
#endif
