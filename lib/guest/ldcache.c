/* /etc/ld.so.cache in glibc's new format (elf/dl-cache.h):
 *   header (48 bytes): "glibc-ld.so.cache" "1.1", nlibs, len_strings,
 *     flags (2: little-endian), 3 pad, extension_offset, 3 unused words;
 *   nlibs entries (24 bytes): flags, key, value, osversion, hwcap (u64);
 *   strings; key and value are offsets from the header's start.
 * Entries are sorted by _dl_cache_libcmp, descending: the loader's binary
 * search goes right when the name is smaller. */
#include "guest/ldcache.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define NEW_MAGIC "glibc-ld.so.cache1.1"
#define NEW_MAGIC_LEN 20
#define OLD_MAGIC "ld.so-1.7.0"
#define OLD_MAGIC_LEN 11
#define OLD_HDR_LEN 16
#define OLD_ENTRY_LEN 12
#define NEW_HDR_LEN 48
#define NEW_ENTRY_LEN 24
#define FLAGS_X8664_LIBC6 0x0303u   /* FLAG_X8664_LIB64 | FLAG_ELF_LIBC6 */
#define ENDIAN_LITTLE 2u
#define MAX_CACHE_BYTES (256u << 20)

static uint32_t rd32(const unsigned char *p)
{
    return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd64(const unsigned char *p)
{
    return rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

static void wr32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

int kt__ldcache_libcmp(const char *a, const char *b)
{
    while (*a != '\0') {
        if (*a >= '0' && *a <= '9') {
            unsigned long long va = 0, vb = 0;

            if (!(*b >= '0' && *b <= '9'))
                return 1;
            /* Compared as numbers, saturating rather than overflowing (the
             * loader's int arithmetic would wrap; no real name gets here). */
            while (*a >= '0' && *a <= '9') {
                va = va < 1000000000000ULL ? va * 10 + (unsigned)(*a - '0') : va;
                a++;
            }
            while (*b >= '0' && *b <= '9') {
                vb = vb < 1000000000000ULL ? vb * 10 + (unsigned)(*b - '0') : vb;
                b++;
            }
            if (va != vb)
                return va < vb ? -1 : 1;
        } else if (*b >= '0' && *b <= '9') {
            return -1;
        } else if (*a != *b) {
            return (unsigned char)*a - (unsigned char)*b;
        } else {
            a++;
            b++;
        }
    }
    return -(unsigned char)*b;
}

int kt__ldcache_parse(kt__ldcache *c, const void *buf, size_t len, kt_err *err)
{
    const unsigned char *b = buf;
    size_t hdr = 0;

    *c = (kt__ldcache){ .buf = buf, .len = len };
    if (len >= OLD_HDR_LEN && memcmp(b, OLD_MAGIC, OLD_MAGIC_LEN) == 0) {
        uint64_t old = OLD_HDR_LEN + (uint64_t)rd32(b + 12) * OLD_ENTRY_LEN;

        hdr = (size_t)((old + 7) & ~(uint64_t)7);   /* aligned as struct cache_file_new */
        if (old > len || hdr > len)
            return kt_err_set(err, EINVAL, "old-format table runs past the end (%zu bytes)", len);
    }
    if (len - hdr < NEW_HDR_LEN || memcmp(b + hdr, NEW_MAGIC, NEW_MAGIC_LEN) != 0)
        return kt_err_set(err, EINVAL, "no \"%s\" header", NEW_MAGIC);
    if ((b[hdr + 28] & 3u) != ENDIAN_LITTLE && (b[hdr + 28] & 3u) != 0)
        return kt_err_set(err, EINVAL, "not a little-endian cache (flags 0x%x)", b[hdr + 28]);
    c->nlibs = rd32(b + hdr + 20);
    if ((uint64_t)c->nlibs * NEW_ENTRY_LEN > len - hdr - NEW_HDR_LEN)
        return kt_err_set(err, EINVAL, "%u entries run past the end (%zu bytes)", c->nlibs, len);
    c->hdr = hdr;
    return 0;
}

int kt__ldcache_load(kt__ldcache *c, const char *path, kt_err *err)
{
    struct stat st;
    char *buf;
    size_t got = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    *c = (kt__ldcache){ 0 };
    if (fd < 0)
        return kt_err_sys(err, errno, "%s: open", path);
    if (fstat(fd, &st) < 0) {
        int e = errno;

        close(fd);
        return kt_err_sys(err, e, "%s: fstat", path);
    }
    if (!S_ISREG(st.st_mode) || st.st_size > MAX_CACHE_BYTES) {
        close(fd);
        return kt_err_set(err, EINVAL, "%s: not a regular file under %u MiB", path,
                          MAX_CACHE_BYTES >> 20);
    }
    if (!(buf = malloc((size_t)st.st_size + 1))) {
        close(fd);
        return kt_err_sys(err, ENOMEM, "%s: %lld bytes", path, (long long)st.st_size);
    }
    while (got < (size_t)st.st_size) {
        ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);

        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;

            close(fd);
            free(buf);
            return kt_err_sys(err, e, "%s: read", path);
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    if (kt__ldcache_parse(c, buf, got, err) < 0) {
        char m[KT_ERR_MSG_MAX];

        free(buf);
        *c = (kt__ldcache){ 0 };
        if (err) {
            memcpy(m, err->msg, sizeof(m));
            kt_err_set(err, err->code, "%s: %s", path, m);
        }
        return -1;
    }
    c->owned = buf;
    return 0;
}

void kt__ldcache_free(kt__ldcache *c)
{
    free(c->owned);
    *c = (kt__ldcache){ 0 };
}

/* The NUL-terminated string at off from the header, or NULL. */
static const char *str_at(const kt__ldcache *c, uint32_t off)
{
    size_t room = c->len - c->hdr;
    const char *s = c->buf + c->hdr + off;

    if (off >= room || !memchr(s, '\0', room - off))
        return NULL;
    return s;
}

const char *kt__ldcache_lookup(const kt__ldcache *c, const char *name)
{
    const unsigned char *e = (const unsigned char *)c->buf + c->hdr + NEW_HDR_LEN;

    if (!c->buf)
        return NULL;
    for (unsigned i = 0; i < c->nlibs; i++, e += NEW_ENTRY_LEN) {
        const char *key, *value;

        if (rd32(e) != FLAGS_X8664_LIBC6 || rd64(e + 16) != 0)
            continue;
        if (!(key = str_at(c, rd32(e + 4))) || strcmp(key, name) != 0)
            continue;
        if ((value = str_at(c, rd32(e + 8))) && value[0] == '/')
            return value;
    }
    return NULL;
}

typedef struct pair {
    const char *name, *path;
} pair;

static int by_libcmp_desc(const void *a, const void *b)
{
    return kt__ldcache_libcmp(((const pair *)b)->name, ((const pair *)a)->name);
}

int kt__ldcache_build(kt__vec *out, const char *const *names,
                      const char *const *paths, size_t n, kt_err *err)
{
    kt__vec order = KT__VEC_INIT(pair);
    unsigned char hdr[NEW_HDR_LEN] = { 0 };
    uint64_t strings = 0, at;
    size_t base = out->n;
    const pair *p;
    int rc = -1;

    for (size_t i = 0; i < n; i++) {
        pair one = { names[i], paths[i] };

        strings += strlen(names[i]) + 1 + strlen(paths[i]) + 1;
        if (kt__vec_push(&order, &one, err, "ld.so.cache entries") < 0)
            goto out;
    }
    at = NEW_HDR_LEN + (uint64_t)n * NEW_ENTRY_LEN;
    if (n > UINT32_MAX / NEW_ENTRY_LEN || at + strings > UINT32_MAX) {
        kt_err_set(err, E2BIG, "ld.so.cache of %zu entries: too big", n);
        goto out;
    }
    if (n > 1)
        qsort(order.v, n, sizeof(pair), by_libcmp_desc);
    p = order.v;
    memcpy(hdr, NEW_MAGIC, NEW_MAGIC_LEN);
    wr32(hdr + 20, (uint32_t)n);
    wr32(hdr + 24, (uint32_t)strings);
    hdr[28] = ENDIAN_LITTLE;
    if (kt__vec_append(out, hdr, sizeof(hdr), err, "ld.so.cache") < 0)
        goto out;
    for (size_t k = 0; k < n; k++) {
        unsigned char e[NEW_ENTRY_LEN] = { 0 };
        uint32_t key = (uint32_t)at;

        at += strlen(p[k].name) + 1;
        wr32(e, FLAGS_X8664_LIBC6);
        wr32(e + 4, key);
        wr32(e + 8, (uint32_t)at);
        at += strlen(p[k].path) + 1;
        if (kt__vec_append(out, e, sizeof(e), err, "ld.so.cache") < 0)
            goto out;
    }
    for (size_t k = 0; k < n; k++)
        if (kt__vec_append(out, p[k].name, strlen(p[k].name) + 1, err, "ld.so.cache") < 0 ||
            kt__vec_append(out, p[k].path, strlen(p[k].path) + 1, err, "ld.so.cache") < 0)
            goto out;
    rc = 0;
out:
    if (rc < 0)
        out->n = base;
    kt__vec_free(&order);
    return rc;
}
