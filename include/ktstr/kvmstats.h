/*
 * ktstr/kvmstats.h - KVM binary statistics of a VM or vCPU fd.
 *
 * ioctl(vcpu_fd, KVM_GET_STATS_FD) returns a file laid out as a header, an
 * id string, one descriptor per statistic (name, type, unit, base,
 * exponent, size, offset) and a data block of u64 values. The header and
 * descriptors are parsed and validated once; after that each tick is one
 * pread of the data block, and values are looked up through indices
 * resolved once by name (kt_kvmstats_find).
 *
 *   kt_kvmstats ks;
 *   kt_kvmstats_open(&ks, ioctl(vcpu, KVM_GET_STATS_FD, 0), &err);
 *   int halts = kt_kvmstats_find(&ks, "halt_exits");
 *   kt_kvmstats_read(&ks, &err);
 *   uint64_t n = kt_kvmstats_value(&ks, halts);
 */
#ifndef KTSTR_KVMSTATS_H
#define KTSTR_KVMSTATS_H

#include <stddef.h>
#include <stdint.h>

#include "ktstr/api.h"
#include "ktstr/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Types, units and bases, numbered as the kernel's KVM_STATS_* >> shift. */
enum { KT_KVM_CUMULATIVE, KT_KVM_INSTANT, KT_KVM_PEAK, KT_KVM_LINEAR_HIST,
       KT_KVM_LOG_HIST };
enum { KT_KVM_UNIT_NONE, KT_KVM_UNIT_BYTES, KT_KVM_UNIT_SECONDS,
       KT_KVM_UNIT_CYCLES, KT_KVM_UNIT_BOOLEAN };

typedef struct kt_kvm_stat_desc {
    const char *name;      /* NUL-terminated, inside the kt_kvmstats image */
    int type;              /* KT_KVM_CUMULATIVE ... KT_KVM_LOG_HIST */
    int unit;              /* KT_KVM_UNIT_* */
    int base;              /* 10 or 2: value * base^exponent is in the unit */
    int exponent;
    unsigned size;         /* number of u64 values (buckets for histograms) */
    uint32_t offset;       /* byte offset in the data block */
    uint32_t bucket_size;  /* linear histograms only */
} kt_kvm_stat_desc;

typedef struct kt_kvmstats {
    int fd;                   /* -1 for a parsed fixture image */
    unsigned char *image;     /* header .. end of the data block, as read once */
    size_t image_len;
    uint32_t num_desc, data_offset, data_size;
    const char *id;           /* "kvm-1234/vcpu-0" */
    kt_kvm_stat_desc *desc;
    unsigned char *data;      /* the latest data block (first: the one read at open) */
} kt_kvmstats;

/* Parses a whole stats file image (copied; buf may be freed after).
 * Rejects, with err naming the problem, any offset or size past the end,
 * a zero or oversized name_size, a name not NUL-terminated, an unknown
 * type/unit/base, a zero size or a statistic overlapping the end. */
KT_API int kt_kvmstats_parse(kt_kvmstats *s, const void *buf, size_t len,
                             kt_err *err);

/* Reads the whole file behind stats_fd once and parses it; s owns the fd
 * from then on (closed by kt_kvmstats_close, also on failure). A negative
 * stats_fd, straight from a failed KVM_GET_STATS_FD, is reported with the
 * current errno. */
KT_API int kt_kvmstats_open(kt_kvmstats *s, int stats_fd, kt_err *err);

/* One pread of the data block into s->data. */
KT_API int kt_kvmstats_read(kt_kvmstats *s, kt_err *err);

/* Index of the statistic called name, or -1 when this kernel lacks it. */
KT_API int kt_kvmstats_find(const kt_kvmstats *s, const char *name);

/* The first value of statistic idx in the latest data block (0 for a bad
 * index); kt_kvmstats_values gives all `size` of them. */
KT_API uint64_t kt_kvmstats_value(const kt_kvmstats *s, int idx);
KT_API uint64_t kt_kvmstats_values(const kt_kvmstats *s, int idx, unsigned i);

/* "cumulative", "instant", "peak", "linear-hist", "log-hist". */
KT_API const char *kt_kvm_stat_type_name(int type);

/* Frees everything and closes the fd (safe twice). */
KT_API void kt_kvmstats_close(kt_kvmstats *s);

#ifdef __cplusplus
}
#endif
#endif
