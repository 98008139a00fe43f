/*
 * A BTF reader: enough of the format (<linux/btf.h>) to find a type by
 * name, a member's offset and index, and a type's size, in the running
 * kernel's /sys/kernel/btf/vmlinux. See scx.h.
 *
 * The file is untrusted input: parse() checks every section, type,
 * member, string offset and type reference once, so that the queries can
 * index freely afterwards. All reads go through rd32() (memcpy): the
 * blob need not be aligned.
 */
#include "scx/scx.h"

#include <errno.h>
#include <linux/btf.h>
#include <stdio.h>
#include <string.h>

#include "base/file.h"

#define HDR_MIN 24u            /* magic .. str_len: the fields we read */
#define TYPE_HDR 12u           /* struct btf_type */
#define MAX_FILE (256u << 20)  /* vmlinux BTF is about 6 MiB */
#define MAX_HOPS 64            /* modifier, typedef and array chain bound */
#define MAX_NEST 8             /* anonymous struct members looked into */
#define MAX_VISITS (1u << 20)  /* members one search may look at: a crafted
                                  file could nest wide anonymous members */

static const char *const kind_names[] = {
    "void", "int", "ptr", "array", "struct", "union", "enum", "fwd", "typedef",
    "volatile", "const", "restrict", "func", "func_proto", "var", "datasec",
    "float", "decl_tag", "type_tag", "enum64",
};
#define NKINDS (sizeof(kind_names) / sizeof(kind_names[0]))

const char *kt__btf_kind_name(unsigned kind)
{
    return kind < NKINDS ? kind_names[kind] : "unknown kind";
}

static uint32_t rd32(const uint8_t *p)
{
    uint32_t v;

    memcpy(&v, p, sizeof(v));
    return v;
}

static uint16_t rd16(const uint8_t *p)
{
    uint16_t v;

    memcpy(&v, p, sizeof(v));
    return v;
}

/* Bytes that follow the 12-byte header of a type of this kind and vlen,
 * or -1 for a kind this reader does not know (it cannot be skipped). */
static int64_t extra_bytes(unsigned kind, uint32_t vlen)
{
    switch (kind) {
    case BTF_KIND_INT:
    case BTF_KIND_VAR:
    case BTF_KIND_DECL_TAG:
        return 4;
    case BTF_KIND_PTR:
    case BTF_KIND_FWD:
    case BTF_KIND_TYPEDEF:
    case BTF_KIND_VOLATILE:
    case BTF_KIND_CONST:
    case BTF_KIND_RESTRICT:
    case BTF_KIND_FUNC:
    case BTF_KIND_FLOAT:
    case BTF_KIND_TYPE_TAG:
        return 0;
    case BTF_KIND_ARRAY:
        return 12;
    case BTF_KIND_STRUCT:
    case BTF_KIND_UNION:
    case BTF_KIND_DATASEC:
    case BTF_KIND_ENUM64:
        return (int64_t)vlen * 12;
    case BTF_KIND_ENUM:
    case BTF_KIND_FUNC_PROTO:
        return (int64_t)vlen * 8;
    default:
        return -1;
    }
}

static uint32_t type_off(const kt__btf *b, uint32_t id)
{
    return ((const uint32_t *)b->offs.v)[id - 1];
}

static const uint8_t *type_at(const kt__btf *b, uint32_t id)
{
    return b->types + type_off(b, id);
}

static const char *str_at(const kt__btf *b, uint32_t off)
{
    return off < b->strs_len ? b->strs + off : "";
}

uint32_t kt__btf_count(const kt__btf *b)
{
    return (uint32_t)b->offs.n;
}

static void fill_type(const kt__btf *b, uint32_t id, kt__btf_type *t)
{
    const uint8_t *p = type_at(b, id);
    uint32_t info = rd32(p + 4);

    t->id = id;
    t->kind = BTF_INFO_KIND(info);
    t->vlen = BTF_INFO_VLEN(info);
    t->kflag = BTF_INFO_KFLAG(info) != 0;
    t->name = str_at(b, rd32(p));
    t->size_or_type = rd32(p + 8);
    t->int_bits = 0;
    t->int_signed = false;
    if (t->kind == BTF_KIND_INT) {
        uint32_t enc = rd32(p + TYPE_HDR);

        t->int_bits = BTF_INT_BITS(enc);
        t->int_signed = (BTF_INT_ENCODING(enc) & BTF_INT_SIGNED) != 0;
    }
}

int kt__btf_type_at(const kt__btf *b, uint32_t id, kt__btf_type *t, kt_err *err)
{
    if (id == 0 || id > kt__btf_count(b))
        return kt_err_set(err, ENOENT, "%s: no type [%u] (it has %u)", b->src, id,
                          kt__btf_count(b));
    fill_type(b, id, t);
    return 0;
}

/* ---- parse: every bound checked once ---------------------------------- */

/* Checks that string offset off lies in the string section; what says
 * whose it is. */
static int check_str(const kt__btf *b, uint32_t off, uint32_t id, const char *what,
                     kt_err *err)
{
    if (off < b->strs_len)
        return 0;
    return kt_err_set(err, EINVAL,
                      "%s: corrupt: type [%u]: %s offset %u is past the string "
                      "section (%u bytes)", b->src, id, what, off, b->strs_len);
}

static int check_ref(const kt__btf *b, uint32_t ref, uint32_t id, const char *what,
                     kt_err *err)
{
    if (ref <= kt__btf_count(b))
        return 0;
    return kt_err_set(err, EINVAL,
                      "%s: corrupt: type [%u] %s refers to type [%u], past the last (%u)",
                      b->src, id, what, ref, kt__btf_count(b));
}

/* Pass 1: walks the type section, recording where each type starts and
 * checking that it and its trailing records fit, and that every name is
 * a string of the string section. */
static int index_types(kt__btf *b, kt_err *err)
{
    uint32_t pos = 0;

    while (pos < b->types_len) {
        uint32_t id = kt__btf_count(b) + 1, info, vlen, name;
        unsigned kind;
        int64_t extra;
        const uint8_t *p;

        if (b->types_len - pos < TYPE_HDR)
            return kt_err_set(err, EINVAL,
                              "%s: truncated: type [%u] at byte %u of the type section "
                              "needs %u bytes, %u left", b->src, id, pos, TYPE_HDR,
                              b->types_len - pos);
        p = b->types + pos;
        name = rd32(p);
        info = rd32(p + 4);
        kind = BTF_INFO_KIND(info);
        vlen = BTF_INFO_VLEN(info);
        extra = extra_bytes(kind, vlen);
        if (kind == BTF_KIND_UNKN || extra < 0)
            return kt_err_set(err, EINVAL,
                              "%s: corrupt: type [%u] at byte %u of the type section has "
                              "unknown kind %u", b->src, id, pos, kind);
        if ((uint64_t)extra > b->types_len - pos - TYPE_HDR)
            return kt_err_set(err, EINVAL,
                              "%s: truncated: type [%u] (%s, vlen %u) at byte %u needs %u "
                              "bytes, the type section has %u left", b->src, id,
                              kt__btf_kind_name(kind), vlen, pos,
                              TYPE_HDR + (unsigned)extra, b->types_len - pos);
        if (check_str(b, name, id, "name", err) < 0)
            return -1;
        if (kind == BTF_KIND_STRUCT || kind == BTF_KIND_UNION || kind == BTF_KIND_ENUM ||
            kind == BTF_KIND_ENUM64 || kind == BTF_KIND_FUNC_PROTO) {
            uint32_t rec = kind == BTF_KIND_ENUM || kind == BTF_KIND_FUNC_PROTO ? 8 : 12;

            for (uint32_t i = 0; i < vlen; i++)
                if (check_str(b, rd32(p + TYPE_HDR + i * rec), id, "member name", err) < 0)
                    return -1;
        }
        if (kt__vec_push(&b->offs, &pos, err, b->src) < 0)
            return -1;
        pos += TYPE_HDR + (uint32_t)extra;
    }
    return 0;
}

/* Pass 2: every type a type refers to exists. */
static int check_refs(const kt__btf *b, kt_err *err)
{
    for (uint32_t id = 1; id <= kt__btf_count(b); id++) {
        const uint8_t *p = type_at(b, id);
        kt__btf_type t;

        fill_type(b, id, &t);
        switch (t.kind) {
        case BTF_KIND_PTR:
        case BTF_KIND_TYPEDEF:
        case BTF_KIND_VOLATILE:
        case BTF_KIND_CONST:
        case BTF_KIND_RESTRICT:
        case BTF_KIND_FUNC:
        case BTF_KIND_FUNC_PROTO:
        case BTF_KIND_VAR:
        case BTF_KIND_DECL_TAG:
        case BTF_KIND_TYPE_TAG:
            if (check_ref(b, t.size_or_type, id, kt__btf_kind_name(t.kind), err) < 0)
                return -1;
            break;
        default:
            break;
        }
        if (t.kind == BTF_KIND_ARRAY &&
            (check_ref(b, rd32(p + TYPE_HDR), id, "array element", err) < 0 ||
             check_ref(b, rd32(p + TYPE_HDR + 4), id, "array index", err) < 0))
            return -1;
        for (uint32_t i = 0; i < t.vlen; i++) {
            const uint8_t *r;

            switch (t.kind) {
            case BTF_KIND_STRUCT:
            case BTF_KIND_UNION:
                r = p + TYPE_HDR + i * 12 + 4;
                break;
            case BTF_KIND_FUNC_PROTO:
                r = p + TYPE_HDR + i * 8 + 4;
                break;
            case BTF_KIND_DATASEC:
                r = p + TYPE_HDR + i * 12;
                break;
            default:
                r = NULL;
                break;
            }
            if (r && check_ref(b, rd32(r), id, "member", err) < 0)
                return -1;
        }
    }
    return 0;
}

/* The size of the kernel's pointers: BTF has no pointer type size, so it
 * is that of its `long unsigned int` (as libbpf does), else ours. */
static uint32_t find_ptr_size(const kt__btf *b)
{
    for (uint32_t id = 1; id <= kt__btf_count(b); id++) {
        kt__btf_type t;

        fill_type(b, id, &t);
        if (t.kind == BTF_KIND_INT && (t.size_or_type == 4 || t.size_or_type == 8) &&
            (!strcmp(t.name, "long unsigned int") || !strcmp(t.name, "long int")))
            return t.size_or_type;
    }
    return (uint32_t)sizeof(void *);
}

static int parse(const void *buf, size_t len, const char *what, kt__btf *out, kt_err *err)
{
    const uint8_t *p = buf;
    uint32_t hdr_len, toff, tlen, soff, slen;
    size_t tstart, sstart;
    uint16_t magic;

    memset(out, 0, sizeof(*out));
    out->offs = (kt__vec)KT__VEC_INIT(uint32_t);
    out->file = (kt__vec)KT__VEC_INIT(char);
    snprintf(out->src, sizeof(out->src), "%s", what);
    if (!p || len < HDR_MIN)
        return kt_err_set(err, EINVAL, "%s: truncated: %zu bytes, a BTF header needs %u",
                          what, len, HDR_MIN);
    magic = rd16(p);
    if (magic == 0x9feb)
        return kt_err_set(err, EINVAL, "%s: BTF of the other byte order (magic 0x%04x)",
                          what, magic);
    if (magic != BTF_MAGIC)
        return kt_err_set(err, EINVAL, "%s: not BTF: magic 0x%04x, expected 0x%04x", what,
                          magic, BTF_MAGIC);
    if (p[2] != BTF_VERSION)
        return kt_err_set(err, EINVAL, "%s: BTF version %u, this reader knows %u", what,
                          p[2], BTF_VERSION);
    hdr_len = rd32(p + 4);
    toff = rd32(p + 8);
    tlen = rd32(p + 12);
    soff = rd32(p + 16);
    slen = rd32(p + 20);
    /* a longer header is a newer format's (extra sections we skip) */
    if (hdr_len < HDR_MIN || hdr_len > len)
        return kt_err_set(err, EINVAL, "%s: corrupt: header length %u, file %zu bytes", what,
                          hdr_len, len);
    if ((uint64_t)hdr_len + toff + tlen > len)
        return kt_err_set(err, EINVAL,
                          "%s: truncated: type section [%llu, %llu) ends past the end "
                          "(%zu bytes)", what, (unsigned long long)hdr_len + toff,
                          (unsigned long long)hdr_len + toff + tlen, len);
    if ((uint64_t)hdr_len + soff + slen > len)
        return kt_err_set(err, EINVAL,
                          "%s: truncated: string section [%llu, %llu) ends past the end "
                          "(%zu bytes)", what, (unsigned long long)hdr_len + soff,
                          (unsigned long long)hdr_len + soff + slen, len);
    if (toff % 4 || tlen % 4)
        return kt_err_set(err, EINVAL,
                          "%s: corrupt: type section at %u, %u bytes: not 4-byte aligned",
                          what, toff, tlen);
    tstart = (size_t)hdr_len + toff;
    sstart = (size_t)hdr_len + soff;
    if (slen == 0 || p[sstart] != '\0' || p[sstart + slen - 1] != '\0')
        return kt_err_set(err, EINVAL,
                          "%s: corrupt: the string section (%u bytes) must start and end "
                          "with NUL", what, slen);
    out->types = p + tstart;
    out->types_len = tlen;
    out->strs = (const char *)p + sstart;
    out->strs_len = slen;
    if (index_types(out, err) < 0 || check_refs(out, err) < 0) {
        kt__btf_free(out);
        return -1;
    }
    out->ptr_size = find_ptr_size(out);
    return 0;
}

int kt__btf_parse(const void *buf, size_t len, kt__btf *out, kt_err *err)
{
    return parse(buf, len, "BTF buffer", out, err);
}

int kt__btf_load(const char *path, kt__btf *out, kt_err *err)
{
    kt__vec file = KT__VEC_INIT(char);

    memset(out, 0, sizeof(*out));
    if (kt__read_file(path, MAX_FILE, &file, err) < 0) {
        kt__vec_free(&file);
        return -1;
    }
    if (parse(file.v, file.n, path, out, err) < 0) {
        kt__vec_free(&file);
        return -1;
    }
    out->file = file;
    return 0;
}

void kt__btf_free(kt__btf *b)
{
    kt__vec_free(&b->offs);
    kt__vec_free(&b->file);
    b->types = NULL;
    b->types_len = 0;
    b->strs = NULL;
    b->strs_len = 0;
}

/* ---- queries ----------------------------------------------------------- */

uint32_t kt__btf_find(const kt__btf *b, const char *name, unsigned kind, kt_err *err)
{
    for (uint32_t id = 1; id <= kt__btf_count(b); id++) {
        const uint8_t *p = type_at(b, id);

        if (BTF_INFO_KIND(rd32(p + 4)) == kind && !strcmp(str_at(b, rd32(p)), name))
            return id;
    }
    kt_err_set(err, ENOENT, "%s: no %s %s", b->src, kt__btf_kind_name(kind), name);
    return 0;
}

static bool is_modifier(unsigned kind)
{
    return kind == BTF_KIND_TYPEDEF || kind == BTF_KIND_CONST ||
           kind == BTF_KIND_VOLATILE || kind == BTF_KIND_RESTRICT ||
           kind == BTF_KIND_TYPE_TAG;
}

int kt__btf_resolve(const kt__btf *b, uint32_t id, uint32_t *out, kt_err *err)
{
    uint32_t start = id;

    for (int hops = 0; hops <= MAX_HOPS; hops++) {
        kt__btf_type t;

        if (id == 0) {
            *out = 0;
            return 0;
        }
        if (kt__btf_type_at(b, id, &t, err) < 0)
            return -1;
        if (!is_modifier(t.kind)) {
            *out = id;
            return 0;
        }
        id = t.size_or_type;
    }
    return kt_err_set(err, ELOOP, "%s: corrupt: type [%u]: a chain of more than %d "
                      "typedefs and modifiers (a loop?)", b->src, start, MAX_HOPS);
}

int kt__btf_size(const kt__btf *b, uint32_t id, uint64_t *size, kt_err *err)
{
    uint64_t mult = 1;
    uint32_t start = id;

    for (int hops = 0; hops <= MAX_HOPS; hops++) {
        kt__btf_type t;
        uint32_t nelems;

        if (kt__btf_resolve(b, id, &id, err) < 0)
            return -1;
        if (id == 0)
            return kt_err_set(err, EINVAL, "%s: type [%u] is void: it has no size", b->src,
                              start);
        fill_type(b, id, &t);
        switch (t.kind) {
        case BTF_KIND_INT:
        case BTF_KIND_STRUCT:
        case BTF_KIND_UNION:
        case BTF_KIND_ENUM:
        case BTF_KIND_ENUM64:
        case BTF_KIND_FLOAT:
        case BTF_KIND_DATASEC:
            *size = mult * t.size_or_type;    /* both below 2^32: no overflow */
            return 0;
        case BTF_KIND_PTR:
            *size = mult * b->ptr_size;
            return 0;
        case BTF_KIND_ARRAY:
            nelems = rd32(type_at(b, id) + TYPE_HDR + 8);
            if (nelems && mult > UINT32_MAX / nelems)
                return kt_err_set(err, EOVERFLOW, "%s: type [%u]: size overflows", b->src,
                                  start);
            mult *= nelems;
            id = rd32(type_at(b, id) + TYPE_HDR);
            break;
        default:
            return kt_err_set(err, EINVAL, "%s: type [%u] (%s %s) has no size", b->src,
                              start, kt__btf_kind_name(t.kind), t.name);
        }
    }
    return kt_err_set(err, ELOOP, "%s: corrupt: type [%u]: arrays nested more than %d deep",
                      b->src, start, MAX_HOPS);
}

/* Looks for `name` among the members of composite id (already resolved),
 * descending into anonymous struct and union members. 1 when found, 0
 * when not, -1 on a corrupt chain. */
static int find_member(const kt__btf *b, uint32_t id, const char *name, uint64_t base,
                       int depth, uint32_t *visits, kt__btf_member *m, kt_err *err)
{
    const uint8_t *p = type_at(b, id);
    kt__btf_type t;

    fill_type(b, id, &t);
    for (uint32_t i = 0; i < t.vlen; i++) {
        const uint8_t *r = p + TYPE_HDR + i * 12;
        const char *mname = str_at(b, rd32(r));
        uint32_t mtype = rd32(r + 4), off = rd32(r + 8), bits = 0;

        if (++*visits > MAX_VISITS)
            return kt_err_set(err, ELOOP,
                              "%s: corrupt: more than %u members searched for %s "
                              "(anonymous members nested in a loop?)", b->src, MAX_VISITS,
                              name);
        if (t.kflag) {
            bits = BTF_MEMBER_BITFIELD_SIZE(off);
            off = BTF_MEMBER_BIT_OFFSET(off);
        }
        if (!strcmp(mname, name)) {
            m->name = mname;
            m->type = mtype;
            m->bit_offset = base + off;
            m->bitfield_size = bits;
            m->index = i;
            return 1;
        }
        if (!mname[0] && depth < MAX_NEST) {
            uint32_t inner;
            kt__btf_type it;
            int rc;

            if (kt__btf_resolve(b, mtype, &inner, err) < 0)
                return -1;
            if (inner == 0)
                continue;
            fill_type(b, inner, &it);
            if (it.kind != BTF_KIND_STRUCT && it.kind != BTF_KIND_UNION)
                continue;
            rc = find_member(b, inner, name, base + off, depth + 1, visits, m, err);
            if (rc != 0) {
                if (rc > 0)
                    m->index = i;
                return rc;
            }
        }
    }
    return 0;
}

int kt__btf_member_find(const kt__btf *b, uint32_t id, const char *name, kt__btf_member *m,
                   kt_err *err)
{
    uint32_t rid, visits = 0;
    kt__btf_type t;
    int rc;

    if (kt__btf_resolve(b, id, &rid, err) < 0)
        return -1;
    if (rid == 0)
        return kt_err_set(err, EINVAL, "%s: type [%u] is void, not a struct", b->src, id);
    fill_type(b, rid, &t);
    if (t.kind != BTF_KIND_STRUCT && t.kind != BTF_KIND_UNION)
        return kt_err_set(err, EINVAL, "%s: type [%u] (%s %s) is not a struct or union",
                          b->src, id, kt__btf_kind_name(t.kind), t.name);
    rc = find_member(b, rid, name, 0, 0, &visits, m, err);
    if (rc < 0)
        return -1;
    if (rc == 0)
        return kt_err_set(err, ENOENT, "%s: %s %s has no member %s", b->src,
                          kt__btf_kind_name(t.kind), t.name[0] ? t.name : "(anonymous)",
                          name);
    return 0;
}

int kt__btf_enum_value(const kt__btf *b, const char *name, int64_t *value, kt_err *err)
{
    for (uint32_t id = 1; id <= kt__btf_count(b); id++) {
        const uint8_t *p = type_at(b, id);
        kt__btf_type t;

        fill_type(b, id, &t);
        if (t.kind != BTF_KIND_ENUM && t.kind != BTF_KIND_ENUM64)
            continue;
        for (uint32_t i = 0; i < t.vlen; i++) {
            const uint8_t *r = p + TYPE_HDR + i * (t.kind == BTF_KIND_ENUM ? 8 : 12);

            if (strcmp(str_at(b, rd32(r)), name))
                continue;
            if (t.kind == BTF_KIND_ENUM)   /* kflag: signed; else unsigned */
                *value = t.kflag ? (int64_t)(int32_t)rd32(r + 4) : (int64_t)rd32(r + 4);
            else
                *value = (int64_t)((uint64_t)rd32(r + 8) << 32 | rd32(r + 4));
            return 0;
        }
    }
    return kt_err_set(err, ENOENT, "%s: no enumerator %s", b->src, name);
}
