/* lib/scx/btf.c: the BTF reader on blobs built byte by byte here (every
 * kind, members, anonymous unions, bitfields, typedef chains, enums),
 * on truncated and corrupt versions of them (clear errors, never a read
 * outside the blob), and on real BTF: the 7.3 guest kernel's (from
 * build/kernel/vmlinux, `make kernel`) and this host's own. */
#include "harness/unit.h"

#include "scx/scx.h"
#include "scx/fixture.h"

#include <errno.h>
#include <linux/btf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static uint8_t blob[32768];
static size_t blob_len;

/* The ids of the fixture's types. */
enum {
    T_INT = 1, T_ULONG, T_INNER, T_ANON, T_OUTER, T_PTR, T_TYPEDEF, T_CONST, T_VOLATILE,
    T_ARRAY, T_BITS, T_ENUM, T_PROTO, T_FUNC, T_FWD, T_ENUM64, T_VAR, T_DATASEC, T_FLOAT,
    T_DECL_TAG, T_TYPE_TAG, T_OUTER_T, T_COUNT = T_OUTER_T,
};

/* Byte offsets of pieces the corruption tests poke at. */
static size_t off_volatile_ref, off_outer_member2_type, off_enum_info, off_last_type;

static void build(void)
{
    fx f;
    uint32_t id;

    fx_init(&f);
    id = fx_int(&f, "int", 4, 32, 1);                                   /* 1 */
    check_int(id, ==, T_INT);
    fx_int(&f, "long unsigned int", 8, 64, 0);                          /* 2 */
    fx_type(&f, "inner", BTF_KIND_STRUCT, 2, 0, 8);                     /* 3 */
    fx_member(&f, "x", T_INT, 0);
    fx_member(&f, "y", T_INT, 32);
    fx_type(&f, "", BTF_KIND_UNION, 2, 0, 8);                           /* 4 */
    fx_member(&f, "u", T_ULONG, 0);
    fx_member(&f, "v", T_INNER, 0);
    fx_type(&f, "outer", BTF_KIND_STRUCT, 4, 0, 40);                    /* 5 */
    fx_member(&f, "first", T_INT, 0);
    fx_member(&f, "second", T_PTR, 64);
    off_outer_member2_type = sizeof(struct btf_header) + f.tlen - 12 + 4;
    fx_member(&f, "", T_ANON, 128);
    fx_member(&f, "last", T_TYPEDEF, 192);
    fx_type(&f, "", BTF_KIND_PTR, 0, 0, T_OUTER);                       /* 6 */
    fx_type(&f, "u32_t", BTF_KIND_TYPEDEF, 0, 0, T_CONST);              /* 7 */
    fx_type(&f, "", BTF_KIND_CONST, 0, 0, T_VOLATILE);                  /* 8 */
    off_volatile_ref = sizeof(struct btf_header) + f.tlen + 8;
    fx_type(&f, "", BTF_KIND_VOLATILE, 0, 0, T_INT);                    /* 9 */
    fx_array(&f, T_INT, T_INT, 16);                                     /* 10 */
    fx_type(&f, "bits", BTF_KIND_STRUCT, 2, 1, 4);                      /* 11 */
    fx_member(&f, "lo", T_INT, 3u << 24 | 0);
    fx_member(&f, "hi", T_INT, 5u << 24 | 3);
    off_enum_info = sizeof(struct btf_header) + f.tlen + 4;
    fx_type(&f, "flags", BTF_KIND_ENUM, 2, 0, 4);                       /* 12 */
    fx_u32(&f, fx_str(&f, "FLAG_A"));
    fx_u32(&f, 1);
    fx_u32(&f, fx_str(&f, "FLAG_B"));
    fx_u32(&f, 8);
    fx_type(&f, "", BTF_KIND_FUNC_PROTO, 1, 0, T_INT);                  /* 13 */
    fx_u32(&f, fx_str(&f, "arg"));
    fx_u32(&f, T_INT);
    fx_type(&f, "fn", BTF_KIND_FUNC, 0, 0, T_PROTO);                    /* 14 */
    fx_type(&f, "later", BTF_KIND_FWD, 0, 0, 0);                        /* 15 */
    fx_type(&f, "big", BTF_KIND_ENUM64, 1, 0, 8);                       /* 16 */
    fx_u32(&f, fx_str(&f, "BIG"));
    fx_u32(&f, 0x5);
    fx_u32(&f, 0x1);                                                    /* 0x100000005 */
    fx_type(&f, "var", BTF_KIND_VAR, 0, 0, T_INT);                      /* 17 */
    fx_u32(&f, 1);
    fx_type(&f, ".data", BTF_KIND_DATASEC, 1, 0, 4);                    /* 18 */
    fx_u32(&f, T_VAR);
    fx_u32(&f, 0);
    fx_u32(&f, 4);
    fx_type(&f, "double", BTF_KIND_FLOAT, 0, 0, 8);                     /* 19 */
    fx_type(&f, "tag", BTF_KIND_DECL_TAG, 0, 0, T_OUTER);               /* 20 */
    fx_u32(&f, (uint32_t)-1);
    fx_type(&f, "user", BTF_KIND_TYPE_TAG, 0, 0, T_INT);                /* 21 */
    off_last_type = sizeof(struct btf_header) + f.tlen;
    id = fx_type(&f, "outer_t", BTF_KIND_TYPEDEF, 0, 0, T_OUTER);       /* 22 */
    check_int(id, ==, T_OUTER_T);
    blob_len = fx_blob(&f, blob, sizeof(blob));
    check_uint(blob_len, >, 0);
}

static void t_parse(void)
{
    kt__btf b;
    kt_err err = { 0 };
    kt__btf_type t;

    if (!check_int(kt__btf_parse(blob, blob_len, &b, &err), ==, 0)) {
        test_msg("%s", err.msg);
        return;
    }
    check_uint(kt__btf_count(&b), ==, T_COUNT);
    check_uint(b.ptr_size, ==, 8);                /* its long unsigned int's */
    check_int(kt__btf_type_at(&b, T_INT, &t, &err), ==, 0);
    check_str(t.name, "int");
    check_uint(t.kind, ==, BTF_KIND_INT);
    check_uint(t.size_or_type, ==, 4);
    check_uint(t.int_bits, ==, 32);
    check(t.int_signed);
    check_int(kt__btf_type_at(&b, T_ULONG, &t, &err), ==, 0);
    check(!t.int_signed);
    check_int(kt__btf_type_at(&b, T_ANON, &t, &err), ==, 0);
    check_str(t.name, "");
    check_uint(t.kind, ==, BTF_KIND_UNION);
    check_uint(t.vlen, ==, 2);
    check_int(kt__btf_type_at(&b, 0, &t, &err), ==, -1);
    check_contains(err.msg, "no type [0]");
    check_int(kt__btf_type_at(&b, T_COUNT + 1, &t, &err), ==, -1);
    check_contains(err.msg, "BTF buffer: no type [23] (it has 22)");
    kt__btf_free(&b);
    kt__btf_free(&b);                             /* safe twice */
}

static void t_find(void)
{
    kt__btf b;
    kt_err err = { 0 };

    if (!check_int(kt__btf_parse(blob, blob_len, &b, &err), ==, 0))
        return;
    check_uint(kt__btf_find(&b, "outer", BTF_KIND_STRUCT, &err), ==, T_OUTER);
    check_uint(kt__btf_find(&b, "outer_t", BTF_KIND_TYPEDEF, &err), ==, T_OUTER_T);
    check_uint(kt__btf_find(&b, "later", BTF_KIND_FWD, &err), ==, T_FWD);
    check_uint(kt__btf_find(&b, "int", BTF_KIND_INT, &err), ==, T_INT);
    /* the name with another kind is not it */
    check_uint(kt__btf_find(&b, "outer", BTF_KIND_TYPEDEF, &err), ==, 0);
    check_int(err.code, ==, ENOENT);
    check_str(err.msg, "BTF buffer: no typedef outer");
    check_uint(kt__btf_find(&b, "sched_ext_ops", BTF_KIND_STRUCT, &err), ==, 0);
    check_str(err.msg, "BTF buffer: no struct sched_ext_ops");
    kt__btf_free(&b);
}

static void t_members(void)
{
    kt__btf b;
    kt_err err = { 0 };
    kt__btf_member m;

    if (!check_int(kt__btf_parse(blob, blob_len, &b, &err), ==, 0))
        return;
    check_int(kt__btf_member_find(&b, T_OUTER, "second", &m, &err), ==, 0);
    check_str(m.name, "second");
    check_uint(m.type, ==, T_PTR);
    check_uint(m.bit_offset, ==, 64);
    check_uint(m.index, ==, 1);
    check_uint(m.bitfield_size, ==, 0);
    check_int(kt__btf_member_find(&b, T_OUTER, "last", &m, &err), ==, 0);
    check_uint(m.bit_offset, ==, 192);
    check_uint(m.index, ==, 3);
    /* inside the anonymous union: its index, the offset from outer */
    check_int(kt__btf_member_find(&b, T_OUTER, "u", &m, &err), ==, 0);
    check_uint(m.bit_offset, ==, 128);
    check_uint(m.index, ==, 2);
    check_uint(m.type, ==, T_ULONG);
    /* a named member's members are not the outer struct's */
    check_int(kt__btf_member_find(&b, T_OUTER, "x", &m, &err), ==, -1);
    check_int(err.code, ==, ENOENT);
    check_str(err.msg, "BTF buffer: struct outer has no member x");
    /* through a typedef */
    check_int(kt__btf_member_find(&b, T_OUTER_T, "first", &m, &err), ==, 0);
    check_uint(m.index, ==, 0);
    /* bitfields (kind_flag): offset and size split */
    check_int(kt__btf_member_find(&b, T_BITS, "hi", &m, &err), ==, 0);
    check_uint(m.bit_offset, ==, 3);
    check_uint(m.bitfield_size, ==, 5);
    /* not a struct */
    check_int(kt__btf_member_find(&b, T_INT, "x", &m, &err), ==, -1);
    check_contains(err.msg, "(int int) is not a struct or union");
    kt__btf_free(&b);
}

static void t_sizes(void)
{
    kt__btf b;
    kt_err err = { 0 };
    uint64_t size = 0;
    uint32_t id = 0;

    if (!check_int(kt__btf_parse(blob, blob_len, &b, &err), ==, 0))
        return;
    check_int(kt__btf_resolve(&b, T_TYPEDEF, &id, &err), ==, 0);
    check_uint(id, ==, T_INT);                    /* typedef -> const -> volatile -> int */
    check_int(kt__btf_resolve(&b, T_TYPE_TAG, &id, &err), ==, 0);
    check_uint(id, ==, T_INT);
    check_int(kt__btf_resolve(&b, T_PTR, &id, &err), ==, 0);
    check_uint(id, ==, T_PTR);                    /* a pointer is not a modifier */
    check_int(kt__btf_size(&b, T_TYPEDEF, &size, &err), ==, 0);
    check_uint(size, ==, 4);
    check_int(kt__btf_size(&b, T_ULONG, &size, &err), ==, 0);
    check_uint(size, ==, 8);
    check_int(kt__btf_size(&b, T_ARRAY, &size, &err), ==, 0);
    check_uint(size, ==, 64);
    check_int(kt__btf_size(&b, T_PTR, &size, &err), ==, 0);
    check_uint(size, ==, 8);
    check_int(kt__btf_size(&b, T_OUTER_T, &size, &err), ==, 0);
    check_uint(size, ==, 40);
    check_int(kt__btf_size(&b, T_ENUM64, &size, &err), ==, 0);
    check_uint(size, ==, 8);
    check_int(kt__btf_size(&b, T_FLOAT, &size, &err), ==, 0);
    check_uint(size, ==, 8);
    check_int(kt__btf_size(&b, T_FUNC, &size, &err), ==, -1);
    check_str(err.msg, "BTF buffer: type [14] (func fn) has no size");
    check_int(kt__btf_size(&b, T_FWD, &size, &err), ==, -1);
    check_contains(err.msg, "(fwd later) has no size");
    check_int(kt__btf_size(&b, 0, &size, &err), ==, -1);
    check_contains(err.msg, "is void");
    kt__btf_free(&b);
}

static void t_enums(void)
{
    kt__btf b;
    kt_err err = { 0 };
    int64_t v = 0;

    if (!check_int(kt__btf_parse(blob, blob_len, &b, &err), ==, 0))
        return;
    check_int(kt__btf_enum_value(&b, "FLAG_B", &v, &err), ==, 0);
    check_int(v, ==, 8);
    check_int(kt__btf_enum_value(&b, "BIG", &v, &err), ==, 0);
    check_int(v, ==, 0x100000005LL);
    check_int(kt__btf_enum_value(&b, "SCX_OPS_SWITCH_PARTIAL", &v, &err), ==, -1);
    check_int(err.code, ==, ENOENT);
    check_str(err.msg, "BTF buffer: no enumerator SCX_OPS_SWITCH_PARTIAL");
    kt__btf_free(&b);
}

/* Parses a modified copy of the fixture; expects failure with `want`. */
static void expect_corrupt(const uint8_t *buf, size_t len, const char *want)
{
    kt__btf b;
    kt_err err = { 0 };

    if (check_int(kt__btf_parse(buf, len, &b, &err), ==, -1)) {
        check_contains(err.msg, want);
        check_int(err.code, !=, 0);
        check_uint(kt__btf_count(&b), ==, 0);     /* nothing half-parsed kept */
    } else {
        kt__btf_free(&b);
    }
}

static void put32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, 4);
}

static void t_truncated(void)
{
    int failed = 0;

    /* every cut of the blob fails: the string section comes last */
    for (size_t n = 0; n < blob_len; n++) {
        kt__btf b;
        kt_err err = { 0 };
        uint8_t *copy = malloc(n ? n : 1);     /* exact size: ASan sees any overread */

        memcpy(copy, blob, n);
        if (kt__btf_parse(copy, n, &b, &err) == 0)
            kt__btf_free(&b);
        else if (err.msg[0] && strstr(err.msg, "BTF buffer: "))
            failed++;
        free(copy);
    }
    check_int(failed, ==, (int)blob_len);
    expect_corrupt(blob, 10, "BTF buffer: truncated: 10 bytes, a BTF header needs 24");
    expect_corrupt(blob, blob_len - 1, "truncated: string section");
    expect_corrupt(blob, 24 + 20, "truncated: type section [24, ");
}

static void t_corrupt(void)
{
    uint8_t *c = malloc(blob_len);
    struct btf_header h;

    memcpy(&h, blob, sizeof(h));
#define RESET() memcpy(c, blob, blob_len)
    RESET();
    c[0] = 'x';
    expect_corrupt(c, blob_len, "not BTF: magic");
    RESET();
    c[0] = 0xeb, c[1] = 0x9f;
    expect_corrupt(c, blob_len, "BTF of the other byte order");
    RESET();
    c[2] = 2;
    expect_corrupt(c, blob_len, "BTF version 2, this reader knows 1");
    RESET();
    put32(c + 4, (uint32_t)blob_len + 1);                  /* hdr_len */
    expect_corrupt(c, blob_len, "corrupt: header length");
    RESET();
    put32(c + 4, 8);
    expect_corrupt(c, blob_len, "corrupt: header length 8");
    RESET();
    put32(c + 12, h.type_len - 4);                          /* the last type cut */
    expect_corrupt(c, blob_len, "truncated: type [22] at byte");
    RESET();
    put32(c + 12, h.type_len - 2);
    expect_corrupt(c, blob_len, "not 4-byte aligned");
    RESET();
    put32(c + 12, 0xfffffff0u);                             /* huge: no wrap */
    expect_corrupt(c, blob_len, "truncated: type section");
    RESET();
    put32(c + 16, 0xffffffffu);                             /* str_off */
    expect_corrupt(c, blob_len, "truncated: string section");
    RESET();
    c[blob_len - 1] = 'x';                                  /* strings unterminated */
    expect_corrupt(c, blob_len, "must start and end with NUL");
    RESET();
    put32(c + 20, 0);
    expect_corrupt(c, blob_len, "must start and end with NUL");
    RESET();
    put32(c + off_enum_info, 31u << 24 | 2);                /* kind 31 */
    expect_corrupt(c, blob_len, "type [12] at byte");
    expect_corrupt(c, blob_len, "unknown kind 31");
    RESET();
    put32(c + off_enum_info, BTF_KIND_ENUM << 24 | 0xffff); /* vlen past the end */
    expect_corrupt(c, blob_len, "truncated: type [12] (enum, vlen 65535)");
    RESET();
    put32(c + off_last_type, h.str_len + 5);                /* a name past the strings */
    expect_corrupt(c, blob_len, "type [22]: name offset");
    expect_corrupt(c, blob_len, "is past the string section");
    RESET();
    put32(c + off_outer_member2_type, 99);                  /* a member's type */
    expect_corrupt(c, blob_len, "type [5] member refers to type [99], past the last (22)");
    RESET();
    put32(c + off_volatile_ref, 999);                       /* a modifier's */
    expect_corrupt(c, blob_len, "type [9] volatile refers to type [999]");
    free(c);
#undef RESET
}

/* A chain that loops parses (references are in range) but resolving it
 * stops with an error instead of spinning. */
static void t_loop(void)
{
    uint8_t *c = malloc(blob_len);
    kt__btf b;
    kt_err err = { 0 };
    uint64_t size;
    uint32_t id;

    memcpy(c, blob, blob_len);
    put32(c + off_volatile_ref, T_TYPEDEF);        /* volatile -> typedef -> const -> volatile */
    if (check_int(kt__btf_parse(c, blob_len, &b, &err), ==, 0)) {
        check_int(kt__btf_resolve(&b, T_TYPEDEF, &id, &err), ==, -1);
        check_int(err.code, ==, ELOOP);
        check_contains(err.msg, "type [7]: a chain of more than 64 typedefs");
        check_int(kt__btf_size(&b, T_OUTER, &size, &err), ==, 0);   /* the rest still works */
        check_int(kt__btf_size(&b, T_CONST, &size, &err), ==, -1);
        kt__btf_free(&b);
    }
    free(c);
}

/* Every byte of the blob set to 0xff and to 0x00 in turn: each parse
 * either fails with a message or yields a BTF every query runs on. */
static void t_flips(void)
{
    int parsed = 0, refused = 0, silent = 0;
    uint8_t *c = malloc(blob_len);

    for (size_t i = 0; i < blob_len; i++) {
        for (int k = 0; k < 2; k++) {
            kt__btf b;
            kt_err err = { 0 };

            memcpy(c, blob, blob_len);
            c[i] = k ? 0xff : 0x00;
            if (kt__btf_parse(c, blob_len, &b, &err) < 0) {
                refused++;
                silent += err.msg[0] == '\0';
                continue;
            }
            parsed++;
            for (uint32_t id = 0; id <= kt__btf_count(&b) + 1; id++) {
                kt__btf_member m;
                uint64_t size;
                uint32_t r;

                (void)kt__btf_size(&b, id, &size, &err);
                (void)kt__btf_resolve(&b, id, &r, &err);
                (void)kt__btf_member_find(&b, id, "u", &m, &err);
            }
            (void)kt__btf_find(&b, "outer", BTF_KIND_STRUCT, &err);
            kt__btf_free(&b);
        }
    }
    free(c);
    test_msg("%d flips parsed, %d refused", parsed, refused);
    check_int(refused, >, 0);
    check_int(parsed, >, 0);
    check_int(silent, ==, 0);
}

static char tmpdir[64];

static void t_load_file(void)
{
    char path[128];
    kt__btf b;
    kt_err err = { 0 };
    FILE *f;

    snprintf(path, sizeof(path), "%s/missing.btf", tmpdir);
    check_int(kt__btf_load(path, &b, &err), ==, -1);
    check_int(err.code, ==, ENOENT);
    check_contains(err.msg, path);
    snprintf(path, sizeof(path), "%s/cut.btf", tmpdir);
    f = fopen(path, "wb");
    if (!check(f != NULL))
        return;
    fwrite(blob, 1, blob_len - 3, f);
    fclose(f);
    check_int(kt__btf_load(path, &b, &err), ==, -1);
    check_contains(err.msg, path);                 /* the file named, and what is wrong */
    check_contains(err.msg, ": truncated: string section");
    snprintf(path, sizeof(path), "%s/ok.btf", tmpdir);
    f = fopen(path, "wb");
    if (!check(f != NULL))
        return;
    fwrite(blob, 1, blob_len, f);
    fclose(f);
    if (check_int(kt__btf_load(path, &b, &err), ==, 0)) {
        check_uint(kt__btf_find(&b, "inner", BTF_KIND_STRUCT, &err), ==, T_INNER);
        check_uint(kt__btf_find(&b, "nope", BTF_KIND_STRUCT, &err), ==, 0);
        check_contains(err.msg, "ok.btf: no struct nope");
        kt__btf_free(&b);
    }
}

/* The object the built-ins hand to BPF_BTF_LOAD is valid BTF. */
static void t_small_btf(void)
{
    size_t len = 0;
    const void *p = kt__scx_small_btf(&len);
    kt__btf b;
    kt_err err = { 0 };

    if (!check_int(kt__btf_parse(p, len, &b, &err), ==, 0)) {
        test_msg("%s", err.msg);
        return;
    }
    check_uint(kt__btf_count(&b), ==, 1);
    check_uint(kt__btf_find(&b, "int", BTF_KIND_INT, &err), ==, 1);
    kt__btf_free(&b);
}

/* Member `name` of sched_ext_ops in a real BTF: checks and returns it. */
static kt__btf_member expect_ops_member(const kt__btf *b, uint32_t ops, const char *name,
                                        uint64_t want_size)
{
    kt__btf_member m = { 0 };
    kt_err err = { 0 };
    uint64_t size = 0;

    if (!check_int(kt__btf_member_find(b, ops, name, &m, &err), ==, 0)) {
        test_msg("%s", err.msg);
        return m;
    }
    check_int(kt__btf_size(b, m.type, &size, &err), ==, 0);
    check_uint(size, ==, want_size);
    check_uint(m.bit_offset % 8, ==, 0);
    check_uint(m.bitfield_size, ==, 0);
    return m;
}

/* The built-ins' layout of the guest kernel's value agrees with the
 * members found one by one, and builtin:stall's value lands there. */
static void expect_guest_layout(const kt__btf *b, const kt__btf_member *data,
                                const kt__btf_member *sel, const kt__btf_member *enq, const kt__btf_member *name,
                                const kt__btf_member *timeout, const kt__btf_member *flags,
                                uint64_t vsize)
{
    kt__scx_layout l;
    kt_err err = { 0 };
    uint32_t d = (uint32_t)(data->bit_offset / 8), t32 = 0;
    uint64_t f64 = 0, e64 = 0, s64 = 0;
    uint8_t *v;

    if (!check_int(kt__scx_layout_of(b, &l, &err), ==, 0)) {
        test_msg("%s", err.msg);
        return;
    }
    check_uint(l.value_size, ==, vsize);
    check_uint(l.data_off, ==, d);
    check_uint(l.select_cpu_off, ==, d + sel->bit_offset / 8);
    check_uint(l.select_cpu_index, ==, sel->index);
    check_uint(l.enqueue_off, ==, d + enq->bit_offset / 8);
    check_uint(l.enqueue_index, ==, enq->index);
    check_uint(l.name_off, ==, d + name->bit_offset / 8);
    check_uint(l.timeout_off, ==, d + timeout->bit_offset / 8);
    check_uint(l.flags_off, ==, d + flags->bit_offset / 8);
    check_uint(l.switch_partial, ==, 8);
    v = malloc(l.value_size);
    if (check_int(kt__scx_builtin_value("builtin:stall", &l, 6, 7, -1, -1, v, &err), ==, 0)) {
        memcpy(&t32, v + l.timeout_off, 4);
        memcpy(&f64, v + l.flags_off, 8);
        memcpy(&e64, v + l.enqueue_off, 8);
        memcpy(&s64, v + l.select_cpu_off, 8);
        check_str((char *)v + l.name_off, "ktstr_stall");
        check_uint(t32, ==, 3000);
        check_uint(f64, ==, 8);
        check_uint(e64, ==, 7);
        check_uint(s64, ==, 6);
        for (uint32_t i = 0; i < l.data_off; i++)      /* the common header stays 0 */
            if (!check_uint(v[i], ==, 0))
                break;
    }
    free(v);
}

/* builtin:lazy's programs against the guest kernel's BTF: each call of
 * a kfunc names a FUNC of that name, every jump lands inside its
 * program, each ends in exit, and the size and the flags read from the
 * BTF are in the instructions. (The kernel's verifier passing them is
 * tests/sensitivity/scx.t's to see, in a guest.) */
static void expect_lazy_progs(const kt__btf *b)
{
    static const char *const members[] = { "init", "select_cpu", "enqueue", "dispatch" };
    kt__scx_prog *p = calloc(KT__SCX_LAZY_PROGS, sizeof(*p));
    kt__scx_layout l;
    kt_err err = { 0 };
    int64_t enq_last = 0;
    unsigned kfuncs = 0, found_last = 0, found_pct = 0;
    uint8_t *v;

    if (!check(p != NULL) || !check_int(kt__scx_lazy_progs(b, 37, p, &err), ==, 0)) {
        test_msg("%s", err.msg);
        free(p);
        return;
    }
    check_int(kt__btf_enum_value(b, "SCX_ENQ_LAST", &enq_last, &err), ==, 0);
    for (int i = 0; i < KT__SCX_LAZY_PROGS; i++) {
        const struct bpf_insn *in = p[i].insns;

        check_str(p[i].member, members[i]);
        check(p[i].sleepable == (i == 0));         /* init allocates its queue */
        if (!check_uint(p[i].n, >, 1) || !check_uint(p[i].n, <=, KT__SCX_PROG_MAX))
            continue;
        check_uint(in[p[i].n - 1].code, ==, BPF_JMP | BPF_EXIT);
        for (uint32_t j = 0; j < p[i].n; j++) {
            uint8_t cls = in[j].code & 0x07, op = in[j].code & 0xf0;

            if (in[j].code == (BPF_LD | BPF_DW | BPF_IMM)) {
                uint64_t imm = (uint32_t)in[j].imm | (uint64_t)(uint32_t)in[j + 1].imm << 32;

                found_last += imm == (uint64_t)enq_last;
                j++;
                continue;
            }
            if (in[j].code == (BPF_JMP | BPF_CALL) && in[j].src_reg == BPF_PSEUDO_KFUNC_CALL) {
                kt__btf_type t;

                kfuncs++;
                if (check_int(kt__btf_type_at(b, (uint32_t)in[j].imm, &t, &err), ==, 0)) {
                    check_uint(t.kind, ==, BTF_KIND_FUNC);
                    check(!strncmp(t.name, "scx_bpf_", 8));
                }
                continue;
            }
            if ((cls == BPF_JMP || cls == BPF_JMP32) && op != BPF_CALL && op != BPF_EXIT) {
                int64_t to = (int64_t)j + 1 + in[j].off;

                check_int(to, >=, 0);
                check_int(to, <, (int64_t)p[i].n);
                found_pct += op == BPF_JLT && in[j].imm == 37;
            }
        }
    }
    check_uint(kfuncs, ==, 5);        /* create, select_cpu_dfl, insert, kick, move_to_local */
    check_uint(found_last, ==, 1);    /* enqueue tests SCX_ENQ_LAST */
    check_uint(found_pct, ==, 3);     /* enqueue once, dispatch twice */
    check_int(kt__scx_lazy_progs(b, 101, p, &err), ==, -1);
    check_str(err.msg, "builtin:lazy: 101 ms idle of every 100 ms is more than all");
    /* its value: four programs and SCX_OPS_ENQ_LAST */
    if (check_int(kt__scx_layout_of(b, &l, &err), ==, 0) && check_uint(l.dispatch_size, ==, 8) &&
        check_uint(l.init_size, ==, 8) && check_uint(l.enq_last, ==, 2)) {
        uint64_t fd[4] = { 0 }, flags = 0;

        v = malloc(l.value_size);
        if (check_int(kt__scx_builtin_value("builtin:lazy:37", &l, 3, 4, 5, 6, v, &err), ==, 0)) {
            memcpy(&fd[0], v + l.select_cpu_off, 8);
            memcpy(&fd[1], v + l.enqueue_off, 8);
            memcpy(&fd[2], v + l.dispatch_off, 8);
            memcpy(&fd[3], v + l.init_off, 8);
            memcpy(&flags, v + l.flags_off, 8);
            check_uint(fd[0], ==, 3);
            check_uint(fd[1], ==, 4);
            check_uint(fd[2], ==, 5);
            check_uint(fd[3], ==, 6);
            check_uint(flags, ==, 2);
            check_str((char *)v + l.name_off, "ktstr_lazy");
        }
        check_int(kt__scx_builtin_value("builtin:lazy:37", &l, 3, 4, -1, 6, v, &err), ==, -1);
        check_str(err.msg, "builtin:lazy:37: no dispatch program to put in the ops");
        free(v);
    }
    free(p);
}

/* The guest kernel's BTF out of build/kernel/vmlinux into path; 0, or -1
 * with the reason for a skip in why. */
static int extract_btf(const char *path, char *why, size_t cap)
{
    const char *vmlinux = "build/kernel/vmlinux";
    char cmd[512], junk[160];
    struct stat st;
    int rc;

    if (stat(vmlinux, &st) != 0)
        return snprintf(why, cap, "no %s (make kernel fetches it)", vmlinux), -1;
    if (system("command -v objcopy >/dev/null 2>&1") != 0)
        return snprintf(why, cap, "no objcopy to extract .BTF from %s", vmlinux), -1;
    snprintf(junk, sizeof(junk), "%s/vmlinux.copy", tmpdir);
    snprintf(cmd, sizeof(cmd), "objcopy --dump-section .BTF=%s %s %s 2>&1", path, vmlinux,
             junk);
    rc = system(cmd);
    unlink(junk);
    if (rc != 0 || stat(path, &st) != 0)
        return snprintf(why, cap, "objcopy found no .BTF in %s (exit %d)", vmlinux,
                        WIFEXITED(rc) ? WEXITSTATUS(rc) : -1), -1;
    return 0;
}

static void t_guest_kernel(void)
{
    char path[128], why[256];
    kt__btf b;
    kt_err err = { 0 };
    kt__btf_member data, enq, name, timeout, flags, sel;
    uint32_t value, ops;
    uint64_t vsize = 0, osize = 0;
    int64_t partial = 0;

    snprintf(path, sizeof(path), "%s/vmlinux.btf", tmpdir);
    if (extract_btf(path, why, sizeof(why)) < 0) {
        test_skip("%s", why);
        return;
    }
    if (!check_int(kt__btf_load(path, &b, &err), ==, 0)) {
        test_msg("%s", err.msg);
        return;
    }
    test_msg("%u types in the guest kernel's BTF", kt__btf_count(&b));
    check_uint(kt__btf_count(&b), >, 10000);
    check_uint(b.ptr_size, ==, 8);
    value = kt__btf_find(&b, "bpf_struct_ops_sched_ext_ops", BTF_KIND_STRUCT, &err);
    ops = kt__btf_find(&b, "sched_ext_ops", BTF_KIND_STRUCT, &err);
    if (!check_uint(value, >, 0) || !check_uint(ops, >, 0)) {
        kt__btf_free(&b);
        return;
    }
    check_int(kt__btf_size(&b, value, &vsize, &err), ==, 0);
    check_int(kt__btf_size(&b, ops, &osize, &err), ==, 0);
    /* the value: a small common header, then the ops */
    if (check_int(kt__btf_member_find(&b, value, "data", &data, &err), ==, 0)) {
        uint32_t dtype = 0;

        check_int(kt__btf_resolve(&b, data.type, &dtype, &err), ==, 0);
        check_uint(dtype, ==, ops);
        check_uint(data.bit_offset % 8, ==, 0);
        check_uint(data.bit_offset / 8, >, 0);
        check_uint(data.bit_offset / 8 + osize, <=, vsize);
        check_uint(data.index, ==, 1);
    }
    sel = expect_ops_member(&b, ops, "select_cpu", b.ptr_size);
    enq = expect_ops_member(&b, ops, "enqueue", b.ptr_size);
    name = expect_ops_member(&b, ops, "name", 128);             /* SCX_OPS_NAME_LEN */
    timeout = expect_ops_member(&b, ops, "timeout_ms", 4);
    flags = expect_ops_member(&b, ops, "flags", 8);
    check_uint(sel.index, ==, 0);
    check_uint(enq.index, ==, 1);            /* the callbacks come first */
    check_uint(enq.bit_offset, ==, 64);
    check_uint(flags.bit_offset, >, enq.bit_offset);
    check_uint(timeout.bit_offset, >, enq.bit_offset);
    check_uint(name.bit_offset / 8 + 128, <=, osize);
    test_msg("value %llu bytes, ops at %llu; enqueue #%u, flags @%llu, timeout_ms @%llu, "
             "name @%llu", (unsigned long long)vsize, (unsigned long long)data.bit_offset / 8,
             enq.index, (unsigned long long)flags.bit_offset / 8,
             (unsigned long long)timeout.bit_offset / 8,
             (unsigned long long)name.bit_offset / 8);
    check_int(kt__btf_enum_value(&b, "SCX_OPS_SWITCH_PARTIAL", &partial, &err), ==, 0);
    check_int(partial, ==, 8);
    expect_guest_layout(&b, &data, &sel, &enq, &name, &timeout, &flags, vsize);
    expect_lazy_progs(&b);
    kt__btf_free(&b);
}

/* This host's own BTF parses, whatever kernel it runs; where it has no
 * sched_ext, builtin:lazy's programs name the first kfunc missing. */
static void t_host_btf(void)
{
    kt__scx_prog *p = calloc(KT__SCX_LAZY_PROGS, sizeof(*p));
    kt__btf b;
    kt_err err = { 0 };

    if (access(KT__SCX_VMLINUX_BTF, R_OK) != 0) {
        test_skip("no readable %s (CONFIG_DEBUG_INFO_BTF off)", KT__SCX_VMLINUX_BTF);
        return;
    }
    if (!check_int(kt__btf_load(KT__SCX_VMLINUX_BTF, &b, &err), ==, 0)) {
        test_msg("%s", err.msg);
        return;
    }
    check_uint(kt__btf_count(&b), >, 10000);
    check_uint(kt__btf_find(&b, "task_struct", BTF_KIND_STRUCT, &err), >, 0);
    if (p && !kt__btf_find(&b, "scx_bpf_create_dsq", BTF_KIND_FUNC, NULL)) {
        check_int(kt__scx_lazy_progs(&b, 10, p, &err), ==, -1);
        check_str(err.msg, "builtin:lazy: " KT__SCX_VMLINUX_BTF " has no kfunc scx_bpf_create_dsq");
    }
    free(p);
    kt__btf_free(&b);
}

int main(void)
{
    if (fx_tmpdir(tmpdir, "scx-btf") < 0)
        return perror("mkdtemp"), 1;
    TEST(build(), "a fixture of every BTF kind builds");
    TEST(t_parse(), "parse: types, INT sizes and signs, bounds of ids");
    TEST(t_find(), "find a type by name and kind; the error names what is missing");
    TEST(t_members(), "members: offset, index, anonymous unions, typedefs, bitfields");
    TEST(t_sizes(), "sizes through typedef chains, arrays, pointers; none for func/fwd");
    TEST(t_enums(), "enumerator values, 32 and 64 bits");
    TEST(t_truncated(), "every truncation is a clear error");
    TEST(t_corrupt(), "corrupt headers, kinds, lengths, names and references");
    TEST(t_loop(), "a typedef loop is an error, not a hang");
    TEST(t_flips(), "every byte flipped: an error or a BTF safe to query");
    TEST(t_load_file(), "a BTF file: errors name the file");
    TEST(t_small_btf(), "the built-ins' BPF_BTF_LOAD object is valid BTF");
    TEST(t_guest_kernel(), "the 7.3 guest kernel's BTF: sched_ext_ops and its value");
    TEST(t_host_btf(), "this host's /sys/kernel/btf/vmlinux parses");
    if (fx_tmpdir_remove(tmpdir) != 0)
        test_msg("could not remove %s", tmpdir);
    return test_done();
}
