/* Fuzzing the BTF reader (tests/fuzz/fuzz.h): blobs of every kind the reader
 * knows, built with tests/scx/fixture.h, then mutated. The parse promises
 * that once a blob is accepted no query reads outside it, so every query
 * is run on every type of an accepted blob: each answers, or fails with
 * a message naming the blob. */
#include "fuzz/fuzz.h"

#include "scx/scx.h"
#include "scx/fixture.h"

#include <stdio.h>
#include <string.h>

static void seed_btf(fuzz_seeds *s)
{
    static uint8_t buf[32768];
    fx f;
    size_t n;

    /* every kind, nested and referring to each other */
    fx_init(&f);
    fx_int(&f, "int", 4, 32, 1);                               /* 1 */
    fx_int(&f, "long unsigned int", 8, 64, 0);                 /* 2 */
    fx_type(&f, "inner", BTF_KIND_STRUCT, 2, 0, 8);            /* 3 */
    fx_member(&f, "x", 1, 0);
    fx_member(&f, "y", 1, 32);
    fx_type(&f, "", BTF_KIND_UNION, 2, 0, 8);                  /* 4 */
    fx_member(&f, "u", 2, 0);
    fx_member(&f, "v", 3, 0);
    fx_type(&f, "outer", BTF_KIND_STRUCT, 4, 0, 40);           /* 5 */
    fx_member(&f, "first", 1, 0);
    fx_member(&f, "second", 6, 64);
    fx_member(&f, "", 4, 128);
    fx_member(&f, "last", 7, 192);
    fx_type(&f, "", BTF_KIND_PTR, 0, 0, 5);                    /* 6 */
    fx_type(&f, "u32_t", BTF_KIND_TYPEDEF, 0, 0, 8);           /* 7 */
    fx_type(&f, "", BTF_KIND_CONST, 0, 0, 9);                  /* 8 */
    fx_type(&f, "", BTF_KIND_VOLATILE, 0, 0, 1);               /* 9 */
    fx_array(&f, 1, 1, 16);                                    /* 10 */
    fx_type(&f, "bits", BTF_KIND_STRUCT, 2, 1, 4);             /* 11 */
    fx_member(&f, "lo", 1, 3u << 24 | 0);
    fx_member(&f, "hi", 1, 5u << 24 | 3);
    fx_type(&f, "flags", BTF_KIND_ENUM, 2, 0, 4);              /* 12 */
    fx_u32(&f, fx_str(&f, "FLAG_A"));
    fx_u32(&f, 1);
    fx_u32(&f, fx_str(&f, "FLAG_B"));
    fx_u32(&f, 8);
    fx_type(&f, "", BTF_KIND_FUNC_PROTO, 1, 0, 1);             /* 13 */
    fx_u32(&f, fx_str(&f, "arg"));
    fx_u32(&f, 1);
    fx_type(&f, "fn", BTF_KIND_FUNC, 0, 0, 13);                /* 14 */
    fx_type(&f, "later", BTF_KIND_FWD, 0, 0, 0);               /* 15 */
    fx_type(&f, "big", BTF_KIND_ENUM64, 1, 0, 8);              /* 16 */
    fx_u32(&f, fx_str(&f, "BIG"));
    fx_u32(&f, 0x5);
    fx_u32(&f, 0x1);
    fx_type(&f, "var", BTF_KIND_VAR, 0, 0, 1);                 /* 17 */
    fx_u32(&f, 1);
    fx_type(&f, ".data", BTF_KIND_DATASEC, 1, 0, 4);           /* 18 */
    fx_u32(&f, 17);
    fx_u32(&f, 0);
    fx_u32(&f, 4);
    fx_array(&f, 10, 1, 4);                                    /* 19: int[4][16] */
    if ((n = fx_blob(&f, buf, sizeof(buf))) > 0)
        fuzz_seed(s, buf, n);
    /* random chains of modifiers and arrays over a few ints and structs */
    for (int round = 0; round < 8; round++) {
        uint32_t ids = 2;

        fx_init(&f);
        fx_int(&f, "int", 4, 32, 1);
        fx_int(&f, "long unsigned int", 8, 64, 0);
        for (int i = 0; i < 12; i++) {
            uint32_t ref = 1 + (uint32_t)fuzz_below(ids);

            switch (fuzz_below(5)) {
            case 0: fx_type(&f, "", BTF_KIND_CONST, 0, 0, ref); break;
            case 1: fx_type(&f, "t", BTF_KIND_TYPEDEF, 0, 0, ref); break;
            case 2: fx_array(&f, ref, 1, (uint32_t)fuzz_below(1000)); break;
            case 3: fx_type(&f, "", BTF_KIND_PTR, 0, 0, ref); break;
            default:
                fx_type(&f, "s", BTF_KIND_STRUCT, 2, 0, 16);
                fx_member(&f, "a", ref, 0);
                fx_member(&f, "b", 1, 64);
                break;
            }
            ids++;
        }
        if ((n = fx_blob(&f, buf, sizeof(buf))) > 0)
            fuzz_seed(s, buf, n);
    }
}

/* A failed query must say so, naming the blob. */
static bool query_ok(int rc, const kt_err *e, const char *what, uint32_t id)
{
    if (rc == 0)
        return true;
    if (!e->msg[0] || !strstr(e->msg, "BTF buffer")) {
        fuzz_bad("%s of type [%u] failed with \"%s\"", what, id, e->msg);
        return false;
    }
    return true;
}

static int parse_btf(const unsigned char *in, size_t n, kt_err *err)
{
    static const char *const names[] = { "x", "first", "last", "u", "a", "lo", "nothere" };
    kt__btf b;
    uint32_t count;

    if (kt__btf_parse(in, n, &b, err) < 0) {
        if (b.offs.v || b.types)
            fuzz_bad("a rejected blob left an index behind");
        kt__btf_free(&b);
        return -1;
    }
    count = kt__btf_count(&b);
    for (uint32_t id = 0; id <= count + 1; id++) {
        kt__btf_type t;
        kt__btf_member m;
        uint32_t r;
        uint64_t size;
        kt_err e = { 0 };
        int rc = kt__btf_type_at(&b, id, &t, &e);

        if ((id >= 1 && id <= count) != (rc == 0)) {
            fuzz_bad("type [%u] of %u: kt__btf_type_at returned %d", id, count, rc);
            break;
        }
        if (rc == 0 && (!t.name || (const unsigned char *)t.name < in ||
                        (const unsigned char *)t.name >= in + n)) {
            fuzz_bad("type [%u]: its name is not in the blob", id);
            break;
        }
        if (!query_ok(kt__btf_resolve(&b, id, &r, &e), &e, "resolve", id) ||
            !query_ok(kt__btf_size(&b, id, &size, &e), &e, "size", id))
            break;
        for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++)
            if (!query_ok(kt__btf_member_find(&b, id, names[k], &m, &e), &e, names[k], id))
                break;
        if (rc == 0 && t.name[0]) {
            uint32_t found = kt__btf_find(&b, t.name, t.kind, &e);

            if (found == 0 || found > id) {
                fuzz_bad("type [%u] %s: found at [%u]", id, t.name, found);
                break;
            }
        }
    }
    {
        int64_t v;
        kt_err e = { 0 };

        query_ok(kt__btf_enum_value(&b, "FLAG_B", &v, &e), &e, "enum FLAG_B", 0);
        query_ok(kt__btf_enum_value(&b, "BIG", &v, &e), &e, "enum BIG", 0);
    }
    kt__btf_free(&b);
    return 0;
}

static const fuzz_target targets[] = {
    { "btf", "BTF buffer", false, 32768, seed_btf, parse_btf },
};

int main(void)
{
    return fuzz_main(targets, FUZZ_COUNT(targets));
}
