/* KVM binary stats: the parser on fixture images built here (valid and
 * malformed), then a real vCPU's stats fd when /dev/kvm lets us make one. */
#include "harness/unit.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "ktstr/kvmstats.h"

#define NAME_SIZE 48

typedef struct fx_stat {
    const char *name;
    uint32_t flags;
    int16_t exponent;
    uint16_t size;
    uint32_t offset;
    uint64_t value;
} fx_stat;

/* Lays out header, id, descriptors and data as the kernel does. */
static size_t build(unsigned char *buf, size_t cap, const fx_stat *st, int n)
{
    struct kvm_stats_header h = { 0 };
    size_t stride = sizeof(struct kvm_stats_desc) + NAME_SIZE, data_size = 0;

    memset(buf, 0, cap);
    h.name_size = NAME_SIZE;
    h.num_desc = (uint32_t)n;
    h.id_offset = sizeof(h);
    h.desc_offset = h.id_offset + NAME_SIZE;
    h.data_offset = h.desc_offset + (uint32_t)(n * stride);
    for (int i = 0; i < n; i++)
        if (st[i].offset + st[i].size * 8u > data_size)
            data_size = st[i].offset + st[i].size * 8u;
    memcpy(buf, &h, sizeof(h));
    strcpy((char *)buf + h.id_offset, "kvm-42/vcpu-0");
    for (int i = 0; i < n; i++) {
        struct kvm_stats_desc d = { 0 };
        unsigned char *p = buf + h.desc_offset + i * stride;

        d.flags = st[i].flags;
        d.exponent = st[i].exponent;
        d.size = st[i].size;
        d.offset = st[i].offset;
        memcpy(p, &d, sizeof(d));
        strncpy((char *)p + sizeof(d), st[i].name, NAME_SIZE);
        for (unsigned k = 0; k < st[i].size; k++) {
            uint64_t v = st[i].value + k;

            memcpy(buf + h.data_offset + st[i].offset + k * 8, &v, 8);
        }
    }
    return h.data_offset + data_size;
}

static const fx_stat good[] = {
    { "halt_exits", KVM_STATS_TYPE_CUMULATIVE, 0, 1, 0, 1234 },
    { "halt_wait_ns", KVM_STATS_TYPE_CUMULATIVE | KVM_STATS_UNIT_SECONDS, -9, 1, 8, 5000000 },
    { "halt_poll_hist_ns", KVM_STATS_TYPE_LOG_HIST | KVM_STATS_UNIT_SECONDS, -9, 4, 16, 10 },
    { "exits", KVM_STATS_TYPE_CUMULATIVE, 0, 1, 48, 99 },
    { "guest_mode", KVM_STATS_TYPE_INSTANT | KVM_STATS_UNIT_BOOLEAN | KVM_STATS_BASE_POW2, 0, 1, 56, 1 },
    { "halt_poll_fail_peak", KVM_STATS_TYPE_PEAK, 0, 1, 64, 7 },
    { "lin", KVM_STATS_TYPE_LINEAR_HIST, 0, 2, 72, 3 },
};
#define NGOOD ((int)(sizeof(good) / sizeof(good[0])))

static void t_parse_valid(void)
{
    _Alignas(8) unsigned char buf[4096];
    size_t len = build(buf, sizeof(buf), good, NGOOD);
    kt_kvmstats s;
    kt_err err = { 0 };
    int i;
    int rc;

    rc = kt_kvmstats_parse(&s, buf, len, &err);
    if (!check_int(rc, ==, 0)) {
        test_msg("%s", err.msg);
        return;
    }
    memset(buf, 0xff, sizeof(buf));  /* the parser kept its own copy */
    check_str(s.id, "kvm-42/vcpu-0");
    check_uint(s.num_desc, ==, NGOOD);
    check_uint(s.data_size, ==, 88);
    i = kt_kvmstats_find(&s, "halt_exits");
    check_int(i, ==, 0);
    check_uint(kt_kvmstats_value(&s, i), ==, 1234);
    i = kt_kvmstats_find(&s, "halt_wait_ns");
    check_int(s.desc[i].unit, ==, KT_KVM_UNIT_SECONDS);
    check_int(s.desc[i].exponent, ==, -9);
    check_int(s.desc[i].base, ==, 10);
    check_uint(kt_kvmstats_value(&s, i), ==, 5000000);
    i = kt_kvmstats_find(&s, "halt_poll_hist_ns");
    check_str(kt_kvm_stat_type_name(s.desc[i].type), "log-hist");
    check_uint(s.desc[i].size, ==, 4);
    check_uint(kt_kvmstats_values(&s, i, 3), ==, 13);
    check_uint(kt_kvmstats_values(&s, i, 4), ==, 0);     /* past its size */
    i = kt_kvmstats_find(&s, "guest_mode");
    check_str(kt_kvm_stat_type_name(s.desc[i].type), "instant");
    check_int(s.desc[i].unit, ==, KT_KVM_UNIT_BOOLEAN);
    check_int(s.desc[i].base, ==, 2);
    check_str(kt_kvm_stat_type_name(s.desc[kt_kvmstats_find(&s, "halt_poll_fail_peak")].type), "peak");
    check_str(kt_kvm_stat_type_name(s.desc[kt_kvmstats_find(&s, "lin")].type), "linear-hist");
    check_uint(kt_kvmstats_value(&s, kt_kvmstats_find(&s, "exits")), ==, 99);
    check_int(kt_kvmstats_find(&s, "preemption_other"), ==, -1);
    check_uint(kt_kvmstats_value(&s, -1), ==, 0);
    check_int(kt_kvmstats_read(&s, &err), ==, -1);       /* no fd behind it */
    kt_kvmstats_close(&s);
    kt_kvmstats_close(&s);
}

/* Builds the valid image, lets mutate() corrupt it, expects a rejection
 * whose message contains want. */
static void expect_reject(const char *want, void (*mutate)(unsigned char *, size_t *))
{
    _Alignas(8) unsigned char buf[4096];
    size_t len = build(buf, sizeof(buf), good, NGOOD);
    kt_kvmstats s;
    kt_err err = { 0 };
    int rc;

    mutate(buf, &len);
    rc = kt_kvmstats_parse(&s, buf, len, &err);
    check_int(rc, ==, -1);
    check_int(err.code, ==, EINVAL);
    check_contains(err.msg, want);
    check(s.image == NULL && s.desc == NULL);
}

static struct kvm_stats_header *hdr(unsigned char *b) { return (struct kvm_stats_header *)b; }
static struct kvm_stats_desc *desc(unsigned char *b, int i)
{
    return (struct kvm_stats_desc *)(b + hdr(b)->desc_offset +
                                     i * (sizeof(struct kvm_stats_desc) + NAME_SIZE));
}

static void m_short(unsigned char *b, size_t *len) { (void)b; *len = 20; }
static void m_name_size0(unsigned char *b, size_t *len) { (void)len; hdr(b)->name_size = 0; }
static void m_desc_past(unsigned char *b, size_t *len) { (void)len; hdr(b)->num_desc = 1000; }
static void m_data_past(unsigned char *b, size_t *len) { hdr(b)->data_offset = (uint32_t)*len + 1; }
static void m_id_past(unsigned char *b, size_t *len) { hdr(b)->id_offset = (uint32_t)*len - 8; }
static void m_offset_past(unsigned char *b, size_t *len) { (void)len; desc(b, 3)->offset = 4096; }
static void m_size_past(unsigned char *b, size_t *len) { (void)len; desc(b, 2)->size = 60000; }
static void m_size0(unsigned char *b, size_t *len) { (void)len; desc(b, 1)->size = 0; }
static void m_misaligned(unsigned char *b, size_t *len) { (void)len; desc(b, 1)->offset = 4; }
static void m_bad_type(unsigned char *b, size_t *len) { (void)len; desc(b, 0)->flags = 0x7; }
static void m_bad_unit(unsigned char *b, size_t *len) { (void)len; desc(b, 0)->flags = 0x70; }
static void m_bad_base(unsigned char *b, size_t *len) { (void)len; desc(b, 0)->flags = 0x500; }
static void m_name_unterminated(unsigned char *b, size_t *len)
{
    (void)len;
    memset(desc(b, 4)->name, 'x', NAME_SIZE);
}
static void m_name_empty(unsigned char *b, size_t *len) { (void)len; desc(b, 5)->name[0] = 0; }
static void m_data_truncated(unsigned char *b, size_t *len) { (void)b; *len -= 8; }

static void t_parse_malformed(void)
{
    expect_reject("header: shorter than 24 bytes", m_short);
    expect_reject("name_size 0", m_name_size0);
    expect_reject("descriptors past the end", m_desc_past);
    expect_reject("data_offset past the end", m_data_past);
    expect_reject("id", m_id_past);
    expect_reject("descriptor 3 (exits): offset + size past the end", m_offset_past);
    expect_reject("descriptor 2 (halt_poll_hist_ns): offset + size past", m_size_past);
    expect_reject("descriptor 1 (halt_wait_ns): size 0", m_size0);
    expect_reject("offset not a multiple of 8", m_misaligned);
    expect_reject("descriptor 0 (halt_exits): unknown type", m_bad_type);
    expect_reject("unknown unit", m_bad_unit);
    expect_reject("unknown base", m_bad_base);
    expect_reject("descriptor 4 (name): not NUL-terminated", m_name_unterminated);
    expect_reject("descriptor 5 (name): empty", m_name_empty);
    /* the data block lost its last 8 bytes: the last statistic overlaps the end */
    expect_reject("past the end of the data block", m_data_truncated);
}

static void t_real_vcpu(void)
{
    kt_kvmstats s;
    kt_err err = { 0 };
    int kvm, vm = -1, vcpu = -1, sfd, exits;
    int rc;

    kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (kvm < 0) {
        kt_err_sys(&err, errno, "open /dev/kvm");
        test_skip("%s", err.msg);
        return;
    }
    vm = ioctl(kvm, KVM_CREATE_VM, 0);
    if (vm >= 0)
        vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
    if (vm < 0 || vcpu < 0) {
        kt_err_sys(&err, errno, "/dev/kvm: %s", vm < 0 ? "KVM_CREATE_VM" : "KVM_CREATE_VCPU");
        test_skip("%s", err.msg);
        goto out;
    }
    sfd = ioctl(vcpu, KVM_GET_STATS_FD, 0);
    if (sfd < 0 && (errno == ENOTTY || errno == EINVAL)) {
        kt_err_sys(&err, errno, "vCPU fd: KVM_GET_STATS_FD");
        test_skip("%s", err.msg);
        goto out;
    }
    rc = kt_kvmstats_open(&s, sfd, &err);
    if (!check_int(rc, ==, 0)) {
        test_msg("%s", err.msg);
        goto out;
    }
    test_msg("vCPU stats %s: %u statistics, data block %u bytes", s.id, s.num_desc, s.data_size);
    check_contains(s.id, "vcpu-0");
    exits = kt_kvmstats_find(&s, "exits");
    check_int(exits, >=, 0);
    check_int(kt_kvmstats_find(&s, "halt_exits"), >=, 0);
    check_int(kt_kvmstats_find(&s, "halt_wait_ns"), >=, 0);
    if (exits >= 0)
        check_str(kt_kvm_stat_type_name(s.desc[exits].type), "cumulative");
    check_int(kt_kvmstats_read(&s, &err), ==, 0);
    check_uint(kt_kvmstats_value(&s, exits), ==, 0);  /* never run */
    kt_kvmstats_close(&s);
out:
    if (vcpu >= 0)
        close(vcpu);
    if (vm >= 0)
        close(vm);
    close(kvm);
}

static void t_bad_fd(void)
{
    kt_kvmstats s;
    kt_err err = { 0 };

    errno = ENOTTY;
    check_int(kt_kvmstats_open(&s, -1, &err), ==, -1);
    check_contains(err.msg, "KVM_GET_STATS_FD");
}

int main(void)
{
    TEST(t_parse_valid(), "kvm stats parser: valid fixture, every type, lookup by name");
    TEST(t_parse_malformed(), "kvm stats parser: malformed fixtures rejected with the reason");
    TEST(t_real_vcpu(), "kvm stats of a real vCPU (created, never run)");
    TEST(t_bad_fd(), "kvm stats: a failed KVM_GET_STATS_FD is named");
    return test_done();
}
