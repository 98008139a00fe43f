/* Guest topologies: defaults, checks and the "2n2l2c1t" names. */
#include "ktstr/topology.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool kt_topology_is_set(const kt_topology *t)
{
    return t->numa_nodes || t->llcs || t->cores || t->threads || t->memory_mb;
}

void kt_topology_resolve(kt_topology *t)
{
    static const kt_topology def = { 1, 1, 2, 1, 512 };

    if (!t->numa_nodes)
        t->numa_nodes = def.numa_nodes;
    if (!t->llcs)
        t->llcs = def.llcs;
    if (!t->cores)
        t->cores = def.cores;
    if (!t->threads)
        t->threads = def.threads;
    if (!t->memory_mb)
        t->memory_mb = def.memory_mb;
}

unsigned kt_topology_vcpus(const kt_topology *t)
{
    return t->llcs * t->cores * t->threads;
}

int kt_topology_name(const kt_topology *t, char *buf, size_t n)
{
    return snprintf(buf, n, "%un%ul%uc%ut", t->numa_nodes, t->llcs, t->cores,
                    t->threads);
}

int kt_topology_check(const kt_topology *t, kt_err *err)
{
    char name[64];
    unsigned long long vcpus = (unsigned long long)t->llcs * t->cores * t->threads;

    kt_topology_name(t, name, sizeof(name));
    if (!t->numa_nodes || !t->llcs || !t->cores || !t->threads)
        return kt_err_set(err, EINVAL, "topology %s: a count is 0 (resolve it first)", name);
    if (t->llcs % t->numa_nodes)
        return kt_err_set(err, EINVAL, "topology %s: %u NUMA nodes do not divide %u LLCs",
                          name, t->numa_nodes, t->llcs);
    if (vcpus > KT_TOPOLOGY_MAX_VCPUS)
        return kt_err_set(err, EINVAL, "topology %s: %llu vCPUs, at most %d", name, vcpus,
                          KT_TOPOLOGY_MAX_VCPUS);
    if (t->memory_mb < 64u * t->numa_nodes || t->memory_mb > KT_TOPOLOGY_MAX_MEMORY_MB)
        return kt_err_set(err, EINVAL, "topology %s: %u MiB of memory, need 64 per node and at most %u",
                          name, t->memory_mb, KT_TOPOLOGY_MAX_MEMORY_MB);
    if (t->memory_mb % (2 * t->numa_nodes))
        return kt_err_set(err, EINVAL, "topology %s: %u MiB do not split into %u nodes of whole 2 MiB",
                          name, t->memory_mb, t->numa_nodes);
    return 0;
}

/* One "<digits><letter>" step; false when the text does not match. */
static bool field(const char **p, char letter, unsigned *out)
{
    char *end;
    unsigned long v;

    if (**p < '1' || **p > '9')
        return false;
    errno = 0;
    v = strtoul(*p, &end, 10);
    if (errno || *end != letter || v > 1000000)
        return false;
    *out = (unsigned)v;
    *p = end + 1;
    return true;
}

int kt_topology_parse(const char *s, kt_topology *t, kt_err *err)
{
    const char *p = s;
    kt_topology r = { 0 };

    if (field(&p, 'n', &r.numa_nodes) && field(&p, 'l', &r.llcs) &&
        field(&p, 'c', &r.cores) && field(&p, 't', &r.threads) &&
        (!*p || (field(&p, 'm', &r.memory_mb) && !*p))) {
        *t = r;
        return 0;
    }
    return kt_err_set(err, EINVAL,
                      "topology \"%s\": expected <nodes>n<llcs>l<cores>c<threads>t, e.g. 2n2l2c1t "
                      "(each at least 1, optional <mib>m)", s);
}
