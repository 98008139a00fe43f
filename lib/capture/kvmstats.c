/* KVM binary statistics: descriptors validated once, then one pread of the
 * data block per tick. */
#include "ktstr/kvmstats.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/file.h"

/* Limits far above any kernel's (names are 48 bytes, a few hundred stats),
 * so that a corrupt header cannot make us allocate or loop without bound. */
#define MAX_NAME_SIZE 4096u
#define MAX_DESC 65536u
#define MAX_IMAGE (64u << 20)

static const char *const type_names[] = {
    "cumulative", "instant", "peak", "linear-hist", "log-hist",
};

const char *kt_kvm_stat_type_name(int type)
{
    if (type < 0 || (size_t)type >= sizeof(type_names) / sizeof(type_names[0]))
        return "?";
    return type_names[type];
}

void kt_kvmstats_close(kt_kvmstats *s)
{
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
    free(s->image);
    free(s->desc);
    free(s->data);
    s->image = NULL;
    s->desc = NULL;
    s->data = NULL;
    s->num_desc = 0;
}

/* Records why the image was rejected, then frees it (the message may quote
 * a name inside the image, so it is formatted first). */
static int bad(kt_kvmstats *s, kt_err *err, const char *what, unsigned i,
               const char *detail)
{
    if (i == (unsigned)-1)
        kt_err_set(err, EINVAL, "kvm stats: %s: %s", what, detail);
    else
        kt_err_set(err, EINVAL, "kvm stats: descriptor %u (%s): %s", i, what, detail);
    kt_kvmstats_close(s);
    return -1;
}

static int parse_desc(kt_kvmstats *s, kt_err *err, uint32_t name_size,
                      uint32_t desc_offset)
{
    size_t stride = sizeof(struct kvm_stats_desc) + name_size;

    for (uint32_t i = 0; i < s->num_desc; i++) {
        const unsigned char *p = s->image + desc_offset + (size_t)i * stride;
        struct kvm_stats_desc d;
        kt_kvm_stat_desc *o = &s->desc[i];
        const char *name = (const char *)p + sizeof(d);
        uint32_t unit, base;

        memcpy(&d, p, sizeof(d));
        if (!memchr(name, '\0', name_size))
            return bad(s, err, "name", i, "not NUL-terminated");
        if (name[0] == '\0')
            return bad(s, err, "name", i, "empty");
        o->name = name;
        o->type = (int)((d.flags & KVM_STATS_TYPE_MASK) >> KVM_STATS_TYPE_SHIFT);
        unit = (d.flags & KVM_STATS_UNIT_MASK) >> KVM_STATS_UNIT_SHIFT;
        base = (d.flags & KVM_STATS_BASE_MASK) >> KVM_STATS_BASE_SHIFT;
        if (o->type > KT_KVM_LOG_HIST)
            return bad(s, err, name, i, "unknown type");
        if (unit > KT_KVM_UNIT_BOOLEAN)
            return bad(s, err, name, i, "unknown unit");
        if (base > 1)
            return bad(s, err, name, i, "unknown base");
        o->unit = (int)unit;
        o->base = base ? 2 : 10;
        o->exponent = d.exponent;
        o->size = d.size;
        o->offset = d.offset;
        o->bucket_size = d.bucket_size;
        if (d.size == 0)
            return bad(s, err, name, i, "size 0");
        if (d.offset % 8)
            return bad(s, err, name, i, "offset not a multiple of 8");
        if ((uint64_t)d.offset + (uint64_t)d.size * 8 > s->data_size)
            return bad(s, err, name, i, "offset + size past the end of the data block");
    }
    return 0;
}

int kt_kvmstats_parse(kt_kvmstats *s, const void *buf, size_t len,
                      kt_err *err)
{
    struct kvm_stats_header h;
    uint64_t desc_end;

    memset(s, 0, sizeof(*s));
    s->fd = -1;
    if (len < sizeof(h))
        return bad(s, err, "header", (unsigned)-1, "shorter than 24 bytes");
    if (len > MAX_IMAGE)
        return bad(s, err, "file", (unsigned)-1, "larger than 64 MiB");
    memcpy(&h, buf, sizeof(h));
    if (h.name_size == 0 || h.name_size > MAX_NAME_SIZE)
        return bad(s, err, "header", (unsigned)-1, "name_size 0 or above 4096");
    if (h.num_desc > MAX_DESC)
        return bad(s, err, "header", (unsigned)-1, "num_desc above 65536");
    if ((uint64_t)h.id_offset + h.name_size > len)
        return bad(s, err, "header", (unsigned)-1, "id_offset past the end");
    desc_end = h.desc_offset +
               (uint64_t)h.num_desc * (sizeof(struct kvm_stats_desc) + h.name_size);
    if (desc_end > len)
        return bad(s, err, "header", (unsigned)-1, "descriptors past the end");
    if (h.data_offset > len)
        return bad(s, err, "header", (unsigned)-1, "data_offset past the end");
    s->image = malloc(len + 1);
    s->desc = calloc(h.num_desc ? h.num_desc : 1, sizeof(*s->desc));
    s->data = malloc(len - h.data_offset + 1);
    if (!s->image || !s->desc || !s->data) {
        kt_kvmstats_close(s);
        return kt_err_sys(err, ENOMEM, "kvm stats: parse");
    }
    memcpy(s->image, buf, len);
    s->image_len = len;
    s->num_desc = h.num_desc;
    s->data_offset = h.data_offset;
    s->data_size = (uint32_t)(len - h.data_offset);
    memcpy(s->data, s->image + h.data_offset, s->data_size);
    if (!memchr(s->image + h.id_offset, '\0', h.name_size))
        return bad(s, err, "id", (unsigned)-1, "not NUL-terminated");
    s->id = (const char *)s->image + h.id_offset;
    return parse_desc(s, err, h.name_size, h.desc_offset);
}

int kt_kvmstats_open(kt_kvmstats *s, int stats_fd, kt_err *err)
{
    kt__vec image = KT__VEC_INIT(unsigned char);
    char what[40];
    int rc;

    memset(s, 0, sizeof(*s));
    s->fd = -1;
    if (stats_fd < 0)
        return kt_err_sys(err, errno ? errno : EBADF, "kvm stats (fd %d): KVM_GET_STATS_FD",
                          stats_fd);
    snprintf(what, sizeof(what), "kvm stats (fd %d)", stats_fd);
    rc = kt__read_fd(stats_fd, what, MAX_IMAGE, &image, err);
    if (rc == 0)
        rc = kt_kvmstats_parse(s, image.v, image.n, err);
    kt__vec_free(&image);
    if (rc < 0) {
        close(stats_fd);
        return -1;
    }
    s->fd = stats_fd;
    return 0;
}

int kt_kvmstats_read(kt_kvmstats *s, kt_err *err)
{
    ssize_t n;

    if (s->fd < 0)
        return kt_err_set(err, EBADF, "kvm stats: read of a parsed image, no fd");
    n = pread(s->fd, s->data, s->data_size, s->data_offset);
    if (n < 0)
        return kt_err_sys(err, errno, "kvm stats (%s): pread of the data block", s->id);
    if ((size_t)n != s->data_size)
        return kt_err_set(err, EIO, "kvm stats (%s): data block read %zd of %u bytes",
                          s->id, n, s->data_size);
    return 0;
}

int kt_kvmstats_find(const kt_kvmstats *s, const char *name)
{
    for (uint32_t i = 0; i < s->num_desc; i++)
        if (strcmp(s->desc[i].name, name) == 0)
            return (int)i;
    return -1;
}

uint64_t kt_kvmstats_values(const kt_kvmstats *s, int idx, unsigned i)
{
    uint64_t v;

    if (idx < 0 || (uint32_t)idx >= s->num_desc || i >= s->desc[idx].size)
        return 0;
    memcpy(&v, s->data + s->desc[idx].offset + (size_t)i * 8, sizeof(v));
    return v;
}

uint64_t kt_kvmstats_value(const kt_kvmstats *s, int idx)
{
    return kt_kvmstats_values(s, idx, 0);
}
