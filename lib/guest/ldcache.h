/*
 * lib/guest/ldcache.h - glibc's /etc/ld.so.cache, read and written
 * (private).
 *
 * Only the "glibc-ld.so.cache1.1" format is read (alone, as glibc 2.32
 * and later write it, or after an old "ld.so-1.7.0" table); anything else
 * is "unusable" and the resolver falls back to the directories of
 * ld.so.conf. A lookup takes the first entry for the name with the x86-64
 * libc6 flags and no hwcap, as the loader does for a CPU without
 * glibc-hwcaps subdirectories: the guest's CPU may differ from the
 * host's, and the baseline library runs on every x86_64.
 *
 * The writer makes the image's own cache: the guest's loader reads it
 * before the system directories, so a library the host found through
 * ld.so.conf (/usr/local/lib, ...) is found in the guest at the same path.
 */
#ifndef KTSTR_LIB_GUEST_LDCACHE_H
#define KTSTR_LIB_GUEST_LDCACHE_H

#include <stddef.h>

#include "base/vec.h"
#include "ktstr/error.h"

typedef struct kt__ldcache {
    const char *buf;        /* the file's bytes (owned when loaded) */
    size_t len;
    size_t hdr;             /* offset of the new-format header */
    unsigned nlibs;
    void *owned;            /* what kt__ldcache_load allocated, or NULL */
} kt__ldcache;

/* Checks len bytes at buf as a cache (they must outlive c); 0, or -1 with
 * EINVAL and why it is unusable. Entries are checked when looked up. */
int kt__ldcache_parse(kt__ldcache *c, const void *buf, size_t len, kt_err *err);

/* Reads and checks the cache file at path; 0, or -1 (file unreadable or
 * unusable; the message names path). */
int kt__ldcache_load(kt__ldcache *c, const char *path, kt_err *err);
void kt__ldcache_free(kt__ldcache *c);

/* The path the loader would take for name, or NULL (none, or the entry's
 * strings lie outside the file). Points into the cache. */
const char *kt__ldcache_lookup(const kt__ldcache *c, const char *name);

/* Appends to out (a vec of char) a new-format cache mapping names[i] to
 * paths[i], sorted as the loader's binary search wants. 0 or -1. */
int kt__ldcache_build(kt__vec *out, const char *const *names,
                      const char *const *paths, size_t n, kt_err *err);

/* glibc's _dl_cache_libcmp: strcmp, with runs of digits compared as
 * numbers ("libfoo.so.10" > "libfoo.so.9"). */
int kt__ldcache_libcmp(const char *a, const char *b);

#endif
