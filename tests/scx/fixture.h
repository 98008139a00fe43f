/*
 * Fixtures for the tests of lib/scx: a scratch directory, and raw BTF
 * blobs built byte by byte (a type section of u32 words and a string
 * section, behind the 24-byte header of <linux/btf.h>). Nothing here
 * uses the code under test.
 *
 *   fx f;
 *   fx_init(&f);
 *   uint32_t i = fx_type(&f, "int", BTF_KIND_INT, 0, 0, 4);
 *   fx_u32(&f, BTF_INT_SIGNED << 24 | 32);
 *   size_t n = fx_blob(&f, buf, sizeof(buf));
 */
#ifndef KT_TESTS_SCX_FIXTURE_H
#define KT_TESTS_SCX_FIXTURE_H

#include <ftw.h>
#include <linux/btf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* A fresh /tmp/ktstr-<tag>-XXXXXX into dir[0..64): 0, or -1 (errno). */
static inline int fx_tmpdir(char *dir, const char *tag)
{
    snprintf(dir, 64, "/tmp/ktstr-%s-XXXXXX", tag);
    return mkdtemp(dir) ? 0 : -1;
}

static inline int fx_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

/* Removes dir and everything under it; 0, or -1. */
static inline int fx_tmpdir_remove(const char *dir)
{
    return nftw(dir, fx_rm, 8, FTW_DEPTH | FTW_PHYS);
}

typedef struct fx {
    uint8_t types[16384];
    uint32_t tlen;
    char strs[8192];
    uint32_t slen;
    uint32_t ntypes;
} fx;

static inline void fx_init(fx *f)
{
    memset(f, 0, sizeof(*f));
    f->slen = 1;             /* offset 0 is "" */
}

/* The offset of s in the string section, added when new ("" is 0). */
static inline uint32_t fx_str(fx *f, const char *s)
{
    size_t n = strlen(s);

    if (!n)
        return 0;
    for (uint32_t off = 1; off + n < f->slen; off++)
        if (!memcmp(f->strs + off, s, n + 1))
            return off;
    memcpy(f->strs + f->slen, s, n + 1);
    f->slen += (uint32_t)n + 1;
    return f->slen - (uint32_t)n - 1;
}

static inline void fx_u32(fx *f, uint32_t v)
{
    memcpy(f->types + f->tlen, &v, 4);
    f->tlen += 4;
}

/* Starts a type (its 12-byte header); its records follow with fx_u32 or
 * fx_member. Returns its id. */
static inline uint32_t fx_type(fx *f, const char *name, unsigned kind, unsigned vlen,
                               int kflag, uint32_t size_or_type)
{
    fx_u32(f, fx_str(f, name));
    fx_u32(f, (uint32_t)kflag << 31 | kind << 24 | vlen);
    fx_u32(f, size_or_type);
    return ++f->ntypes;
}

static inline void fx_member(fx *f, const char *name, uint32_t type, uint32_t off)
{
    fx_u32(f, fx_str(f, name));
    fx_u32(f, type);
    fx_u32(f, off);
}

/* An INT of size bytes and bits bits. */
static inline uint32_t fx_int(fx *f, const char *name, uint32_t size, uint32_t bits, int sign)
{
    uint32_t id = fx_type(f, name, BTF_KIND_INT, 0, 0, size);

    fx_u32(f, (sign ? BTF_INT_SIGNED << 24 : 0) | bits);
    return id;
}

/* An ARRAY of n elements of elem (indexed by idx). */
static inline uint32_t fx_array(fx *f, uint32_t elem, uint32_t idx, uint32_t n)
{
    uint32_t id = fx_type(f, "", BTF_KIND_ARRAY, 0, 0, 0);

    fx_u32(f, elem);
    fx_u32(f, idx);
    fx_u32(f, n);
    return id;
}

/* The whole blob into out[0..cap): header, types, strings. Its length. */
static inline size_t fx_blob(const fx *f, uint8_t *out, size_t cap)
{
    struct btf_header h = { BTF_MAGIC, BTF_VERSION, 0, sizeof(h), 0, f->tlen, f->tlen,
                            f->slen };
    size_t n = sizeof(h) + f->tlen + f->slen;

    if (n > cap)
        return 0;
    memcpy(out, &h, sizeof(h));
    memcpy(out + sizeof(h), f->types, f->tlen);
    memcpy(out + sizeof(h) + f->tlen, f->strs, f->slen);
    return n;
}

#endif
