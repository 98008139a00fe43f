/* Fuzzing the KVM binary stats parser (tests/fuzz/fuzz.h): images laid out as
 * the kernel lays them out, with random names, types, sizes, offsets and
 * gaps, then mutated. An accepted image must keep every descriptor, name
 * and value inside it, read back every value as the image holds it, and
 * a rejected one must leave nothing allocated. */
#include "fuzz/fuzz.h"

#include "ktstr/kvmstats.h"

#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One image as the kernel would write it: header, id, descriptors, data,
 * with gaps of 0 or 8 bytes between the parts. */
static void seed_image(fuzz_seeds *s, unsigned ndesc, uint32_t name_size)
{
    unsigned char buf[16384];
    struct kvm_stats_header h = { 0 };
    size_t stride = sizeof(struct kvm_stats_desc) + name_size, data = 0;

    memset(buf, 0, sizeof(buf));
    h.name_size = name_size;
    h.num_desc = ndesc;
    h.id_offset = sizeof(h) + 8 * (uint32_t)fuzz_below(2);
    h.desc_offset = h.id_offset + name_size + 8 * (uint32_t)fuzz_below(2);
    h.data_offset = h.desc_offset + (uint32_t)(ndesc * stride) + 8 * (uint32_t)fuzz_below(2);
    if (h.data_offset + ndesc * 4 * 8 > sizeof(buf))
        return;
    memcpy(buf, &h, sizeof(h));
    snprintf((char *)buf + h.id_offset, name_size, "kvm-%u/vcpu-%u",
             (unsigned)fuzz_below(100000), (unsigned)fuzz_below(64));
    for (unsigned i = 0; i < ndesc; i++) {
        struct kvm_stats_desc d = { 0 };
        unsigned char *p = buf + h.desc_offset + i * stride;

        d.flags = (uint32_t)fuzz_below(KVM_STATS_TYPE_MAX + 1) << KVM_STATS_TYPE_SHIFT |
                  (uint32_t)fuzz_below(5) << KVM_STATS_UNIT_SHIFT |
                  (uint32_t)fuzz_below(2) << KVM_STATS_BASE_SHIFT;
        d.exponent = (int16_t)(fuzz_below(2) ? -9 : 0);
        d.size = (uint16_t)(1 + fuzz_below(4));
        /* mostly packed, sometimes overlapping an earlier one */
        d.offset = fuzz_below(4) ? (uint32_t)data : 8 * (uint32_t)fuzz_below(data / 8 + 1);
        d.bucket_size = (uint32_t)fuzz_below(3);
        memcpy(p, &d, sizeof(d));
        snprintf((char *)p + sizeof(d), name_size, "%s%u",
                 i % 3 == 0 ? "halt_exits" : i % 3 == 1 ? "exits" : "x", i % 5);
        if (d.offset + d.size * 8u > data)
            data = d.offset + d.size * 8u;
    }
    for (size_t k = 0; k < data; k++)
        buf[h.data_offset + k] = (unsigned char)fuzz_rand();
    fuzz_seed(s, buf, h.data_offset + data);
}

static void seed_kvmstats(fuzz_seeds *s)
{
    static const uint32_t name_sizes[] = { 48, 48, 8, 16, 64, 200 };

    for (unsigned i = 0; i < 24; i++)
        seed_image(s, i < 2 ? i : (unsigned)fuzz_below(16),
                   name_sizes[fuzz_below(sizeof(name_sizes) / sizeof(name_sizes[0]))]);
}

static bool inside(const kt_kvmstats *s, const void *p, size_t len)
{
    const unsigned char *q = p;

    return q >= s->image && q <= s->image + s->image_len && len <= (size_t)(s->image + s->image_len - q);
}

static void check_accepted(const kt_kvmstats *s, const unsigned char *in, size_t n)
{
    struct kvm_stats_header h;
    kt_err e;

    memcpy(&h, in, sizeof(h));
    if (s->image_len != n || s->num_desc != h.num_desc || s->fd != -1 ||
        s->data_offset != h.data_offset || s->data_size != n - h.data_offset) {
        fuzz_bad("the image's header is not what was kept");
        return;
    }
    if (!s->id || !inside(s, s->id, 1) || strnlen(s->id, h.name_size) >= h.name_size) {
        fuzz_bad("the id is not a string of at most name_size inside the image");
        return;
    }
    for (uint32_t i = 0; i < s->num_desc; i++) {
        const kt_kvm_stat_desc *d = &s->desc[i];
        int j;

        if (!inside(s, d->name, 1) || strnlen(d->name, h.name_size) >= h.name_size ||
            !d->name[0]) {
            fuzz_bad("descriptor %u: the name is not a string inside the image", i);
            return;
        }
        if (d->type < KT_KVM_CUMULATIVE || d->type > KT_KVM_LOG_HIST || d->unit < 0 ||
            d->unit > KT_KVM_UNIT_BOOLEAN || (d->base != 2 && d->base != 10) || d->size == 0 ||
            d->offset % 8 || (uint64_t)d->offset + d->size * 8ull > s->data_size) {
            fuzz_bad("descriptor %u (%s): kept with type %d unit %d base %d size %u offset %u",
                     i, d->name, d->type, d->unit, d->base, d->size, d->offset);
            return;
        }
        for (unsigned k = 0; k < d->size; k++) {
            uint64_t want;

            memcpy(&want, in + h.data_offset + d->offset + k * 8, sizeof(want));
            if (kt_kvmstats_values(s, (int)i, k) != want) {
                fuzz_bad("descriptor %u (%s): value %u is not the image's", i, d->name, k);
                return;
            }
        }
        if (kt_kvmstats_values(s, (int)i, d->size) != 0) {
            fuzz_bad("descriptor %u: a value past its size reads as non-zero", i);
            return;
        }
        j = kt_kvmstats_find(s, d->name);

        if (j < 0 || (uint32_t)j > i || strcmp(s->desc[j].name, d->name) != 0) {
            fuzz_bad("descriptor %u (%s): found at %d", i, d->name, j);
            return;
        }
    }
    if (kt_kvmstats_values(s, -1, 0) != 0 || kt_kvmstats_values(s, (int)s->num_desc, 0) != 0)
        fuzz_bad("an index outside the descriptors reads as non-zero");
    else if (kt_kvmstats_read((kt_kvmstats *)s, &e) != -1 || !strstr(e.msg, "kvm stats"))
        fuzz_bad("a tick read of a parsed image (no fd): \"%s\"", e.msg);
}

static int parse_kvmstats(const unsigned char *in, size_t n, kt_err *err)
{
    kt_kvmstats s;
    int rc = kt_kvmstats_parse(&s, in, n, err);

    if (rc < 0) {
        if (s.image || s.desc || s.data || s.fd != -1 || s.num_desc)
            fuzz_bad("a rejected image left its memory or descriptors behind");
        return -1;
    }
    check_accepted(&s, in, n);
    kt_kvmstats_close(&s);
    kt_kvmstats_close(&s);   /* safe twice */
    return 0;
}

static const fuzz_target targets[] = {
    { "kvmstats", "kvm stats", false, 16384, seed_kvmstats, parse_kvmstats },
};

int main(void)
{
    return fuzz_main(targets, FUZZ_COUNT(targets));
}
