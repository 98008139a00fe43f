/* Fuzzing what the guest image builder reads from the host's files
 * (tests/fuzz/fuzz.h): ELF files and ld.so.cache. Seeds are images built
 * here: x86_64 ELF files with an interpreter, DT_NEEDED names, a soname
 * and a run path in a random layout, and caches from kt__ldcache_build.
 * Whatever an accepted file gives back must lie inside it. */
#include "fuzz/fuzz.h"

#include "guest/elf.h"
#include "guest/ldcache.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- ELF ------------------------------------------------------------------ */

static void wr16(unsigned char *p, uint64_t v) { p[0] = (unsigned char)v; p[1] = (unsigned char)(v >> 8); }
static void wr32(unsigned char *p, uint64_t v) { wr16(p, v); wr16(p + 2, v >> 16); }
static void wr64(unsigned char *p, uint64_t v) { wr32(p, v); wr32(p + 4, v >> 32); }

#define VADDR 0x400000u

/* An ELF64 x86_64 file: header, program headers (interpreter, one load
 * segment over the whole file, dynamic), the interpreter path, the string
 * table and the dynamic section, in that order, with random choices. */
static void seed_one_elf(fuzz_seeds *s)
{
    static const char *const libs[] = { "libc.so.6", "libm.so.6", "libpthread.so.0",
                                        "libktstr.so.0", "libx-1.2.so" };
    unsigned char buf[4096];
    char strs[512];
    size_t slen = 1, off, nph = 0, interp_at = 0, str_at, dyn_at, nd = 0;
    bool interp = fuzz_below(4) != 0, dyn = fuzz_below(6) != 0;
    unsigned nneeded = (unsigned)fuzz_below(5);
    uint64_t dyns[16][2];
    const char *ip = "/lib64/ld-linux-x86-64.so.2";

    memset(buf, 0, sizeof(buf));
    strs[0] = '\0';
    /* strings first, so the dynamic entries know their offsets */
    for (unsigned i = 0; i < nneeded; i++) {
        const char *l = libs[fuzz_below(sizeof(libs) / sizeof(libs[0]))];

        dyns[nd][0] = 1;   /* DT_NEEDED */
        dyns[nd++][1] = slen;
        memcpy(strs + slen, l, strlen(l) + 1);
        slen += strlen(l) + 1;
    }
    if (fuzz_below(2)) {
        dyns[nd][0] = 14;  /* DT_SONAME */
        dyns[nd++][1] = slen;
        memcpy(strs + slen, "libfuzz.so.1", 13);
        slen += 13;
    }
    if (fuzz_below(2)) {
        dyns[nd][0] = fuzz_below(2) ? 29 : 15;   /* DT_RUNPATH or DT_RPATH */
        dyns[nd++][1] = slen;
        memcpy(strs + slen, "$ORIGIN/../lib:/opt/x", 22);
        slen += 22;
    }
    if (fuzz_below(3) == 0) {
        dyns[nd][0] = 0x6ffffffb;   /* DT_FLAGS_1 */
        dyns[nd++][1] = fuzz_below(2) ? 0x800 : 0x8000001;
    }
    nph = 1 + interp + dyn;
    off = 64 + nph * 56;
    if (interp) {
        interp_at = off;
        memcpy(buf + off, ip, strlen(ip) + 1);
        off += strlen(ip) + 1;
    }
    str_at = off;
    memcpy(buf + off, strs, slen);
    off = (off + slen + 7) & ~(size_t)7;
    dyn_at = off;
    dyns[nd][0] = 5;   /* DT_STRTAB */
    dyns[nd++][1] = VADDR + str_at;
    dyns[nd][0] = 10;  /* DT_STRSZ */
    dyns[nd++][1] = slen;
    dyns[nd][0] = 0;   /* DT_NULL */
    dyns[nd++][1] = 0;
    for (size_t i = 0; i < nd; i++) {
        wr64(buf + off, dyns[i][0]);
        wr64(buf + off + 8, dyns[i][1]);
        off += 16;
    }
    memcpy(buf, "\177ELF\2\1\1", 7);
    wr16(buf + 16, fuzz_below(2) ? 3 : 2);   /* ET_DYN or ET_EXEC */
    wr16(buf + 18, 62);                        /* EM_X86_64 */
    wr32(buf + 20, 1);
    wr64(buf + 32, 64);                        /* e_phoff */
    wr16(buf + 52, 64);
    wr16(buf + 54, 56);
    wr16(buf + 56, nph);
    {
        unsigned char *ph = buf + 64;

        if (interp) {
            wr32(ph, 3);                       /* PT_INTERP */
            wr64(ph + 8, interp_at);
            wr64(ph + 16, VADDR + interp_at);
            wr64(ph + 32, strlen(ip) + 1);
            ph += 56;
        }
        wr32(ph, 1);                           /* PT_LOAD over the whole file */
        wr64(ph + 8, 0);
        wr64(ph + 16, VADDR);
        wr64(ph + 32, off);
        wr64(ph + 40, off);
        ph += 56;
        if (dyn) {
            wr32(ph, 2);                       /* PT_DYNAMIC */
            wr64(ph + 8, dyn_at);
            wr64(ph + 16, VADDR + dyn_at);
            wr64(ph + 32, nd * 16);
        }
    }
    fuzz_seed(s, buf, off);
}

static void seed_elf(fuzz_seeds *s)
{
    for (int i = 0; i < 16; i++)
        seed_one_elf(s);
    fuzz_seed_str(s, "\177ELF\1\1\1");         /* 32-bit: refused */
    fuzz_seed_str(s, "#!/bin/sh\n");
}

/* s is a string that starts and ends inside in[0..n). */
static bool str_inside(const char *s, const unsigned char *in, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;

    return p >= in && p < in + n && memchr(p, '\0', n - (size_t)(p - in));
}

static int parse_elf(const unsigned char *in, size_t n, kt_err *err)
{
    kt__elf e;
    int rc = kt__elf_parse(in, n, &e, err);

    if (rc == 0) {
        const char *const *need = e.needed.v;

        if (e.interp && (!str_inside(e.interp, in, n) || !e.interp[0]))
            fuzz_bad("the interpreter is not a path inside the file");
        else if ((e.soname && !str_inside(e.soname, in, n)) ||
                 (e.rpath && !str_inside(e.rpath, in, n)) ||
                 (e.runpath && !str_inside(e.runpath, in, n)))
            fuzz_bad("the soname or a run path is not a string inside the file");
        else if (e.rpath && e.runpath)
            fuzz_bad("DT_RPATH kept beside DT_RUNPATH (the loader ignores it)");
        else if (e.needed.n && !e.dynamic)
            fuzz_bad("DT_NEEDED names without a dynamic section");
        for (size_t i = 0; i < e.needed.n; i++)
            if (!str_inside(need[i], in, n) || !need[i][0]) {
                fuzz_bad("DT_NEEDED %zu is not a name inside the file", i);
                break;
            }
    } else if (err->code != ENOEXEC && err->code != EINVAL && err->code != ENOMEM) {
        fuzz_bad("rejected with errno %d (%s), not ENOEXEC or EINVAL", err->code, err->msg);
    }
    kt__elf_free(&e);
    return rc;
}

/* ---- ld.so.cache ------------------------------------------------------------- */

static const char *const cache_names[] = {
    "libc.so.6", "libm.so.6", "libktstr.so.0", "libfoo.so.10", "libfoo.so.9", "libz.so.1",
};

static void seed_ldcache(fuzz_seeds *s)
{
    static const char *const paths[] = {
        "/lib/x86_64-linux-gnu/libc.so.6", "/lib/x86_64-linux-gnu/libm.so.6",
        "/usr/local/lib/libktstr.so.0", "/opt/a/libfoo.so.10", "/opt/b/libfoo.so.9", "rel/libz",
    };
    kt__vec out = KT__VEC_INIT(char);

    for (size_t n = 0; n <= sizeof(paths) / sizeof(paths[0]); n++) {
        out.n = 0;
        if (kt__ldcache_build(&out, cache_names, paths, n, NULL) == 0)
            fuzz_seed(s, out.v, out.n);
    }
    /* an old-format table in front, as older glibc wrote it */
    out.n = 0;
    if (kt__vec_append(&out, "ld.so-1.7.0\0\0\0\0\0", 16, NULL, "fuzz") == 0 &&
        kt__ldcache_build(&out, cache_names, paths, 3, NULL) == 0)
        fuzz_seed(s, out.v, out.n);
    kt__vec_free(&out);
}

static int parse_ldcache(const unsigned char *in, size_t n, kt_err *err)
{
    kt__ldcache c;

    if (kt__ldcache_parse(&c, in, n, err) < 0)
        return -1;
    for (size_t i = 0; i < sizeof(cache_names) / sizeof(cache_names[0]); i++) {
        const char *p = kt__ldcache_lookup(&c, cache_names[i]);

        if (p && (!str_inside(p, in, n) || p[0] != '/')) {
            fuzz_bad("%s looks up to something not an absolute path inside the file",
                     cache_names[i]);
            break;
        }
    }
    kt__ldcache_free(&c);   /* owns nothing here: a no-op that must not free in */
    return 0;
}

/* in holds names and paths, NUL-separated in pairs: a cache built from
 * them parses, and every name looks up to an absolute path it was given. */
static int parse_ldcache_build(const unsigned char *in, size_t n, kt_err *err)
{
    const char *names[64], *paths[64];
    char *text = malloc(n + 1);
    kt__vec out = KT__VEC_INIT(char);
    kt__ldcache c;
    size_t k = 0;

    if (!text)
        return 0;
    memcpy(text, in, n);
    text[n] = '\0';
    for (size_t at = 0; at < n && k < 64;) {
        names[k] = text + at;
        at += strlen(text + at) + 1;
        paths[k] = at < n ? text + at : "";
        at += at < n ? strlen(text + at) + 1 : 0;
        k++;
    }
    if (kt__ldcache_build(&out, names, paths, k, err) < 0) {
        free(text);
        kt__vec_free(&out);
        return -1;
    }
    if (kt__ldcache_parse(&c, out.v, out.n, err) < 0) {
        fuzz_bad("a built cache does not parse: %s", err->msg);
    } else {
        for (size_t i = 0; i < k; i++) {
            const char *p = kt__ldcache_lookup(&c, names[i]);
            bool given = false;

            for (size_t j = 0; p && j < k; j++)
                given |= strcmp(names[j], names[i]) == 0 && strcmp(paths[j], p) == 0;
            if (paths[i][0] == '/' ? !p || !given : p && !given) {
                fuzz_bad("%s looks up to %s, given %s", names[i], p ? p : "(none)", paths[i]);
                break;
            }
        }
    }
    free(text);
    kt__vec_free(&out);
    return 0;
}

static void seed_ldcache_build(fuzz_seeds *s)
{
    static const char pairs[] = "libc.so.6\0/lib/libc.so.6\0libfoo.so.10\0/a/10\0"
                                "libfoo.so.9\0/a/9\0libfoo.so.9\0/b/9\0libq\0relative";

    fuzz_seed(s, pairs, sizeof(pairs) - 1);
    fuzz_seed(s, "", 0);
}

static const fuzz_target targets[] = {
    { "elf", "", false, 8192, seed_elf, parse_elf },
    { "ldcache", "", false, 8192, seed_ldcache, parse_ldcache },
    { "ldcache_build", "", false, 2048, seed_ldcache_build, parse_ldcache_build },
};

int main(void)
{
    return fuzz_main(targets, FUZZ_COUNT(targets));
}
