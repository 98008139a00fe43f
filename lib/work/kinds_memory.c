/* Kinds that stress memory: PAGEFAULT (map, touch every page, unmap) and
 * CACHE (a pointer chase through a working set sized from the LLC). */
#include "work/work_int.h"

#include "base/file.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#define MAX_BYTES ((uint64_t)1 << 40)

/* ---- PAGEFAULT ----------------------------------------------------------- */

enum { FAULT_BYTES, FAULT_PAGES, FAULT_FAULTS };

static int check_pagefault(const kt_work_spec *s, kt_err *err)
{
    if (s->bytes == 0 || s->bytes > MAX_BYTES)
        return kt_err_set(err, EINVAL, "work spec (pagefault): bytes %" PRIu64
                          " out of 1..2^40", s->bytes);
    return 0;
}

static uint64_t minor_faults(void)
{
    struct rusage ru;

    if (getrusage(RUSAGE_THREAD, &ru))
        return 0;
    return (uint64_t)ru.ru_minflt;
}

static void run_pagefault(kt__wrun *r)
{
    size_t pg = (size_t)sysconf(_SC_PAGESIZE);
    size_t len = (size_t)((r->spec->bytes + pg - 1) / pg * pg), npages = len / pg, k;
    uint64_t pages = 0, f0 = minor_faults();
    volatile char *p;

    kt__ctr_set(r->self, FAULT_BYTES, len);
    while (!kt__stopped(r)) {
        p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) {
            kt_err_sys(&r->self->err, errno, "ktw%u (tid %d): mmap(%zu bytes)", r->index,
                       r->tid, len);
            kt__fail(r);
            break;
        }
        /* A huge page (or an mTHP folio) would take one fault for many
         * pages; EINVAL is a kernel without THP, where each page faults
         * alone anyway. */
        if (madvise((void *)p, len, MADV_NOHUGEPAGE) && errno != EINVAL) {
            kt_err_sys(&r->self->err, errno, "ktw%u (tid %d): madvise(MADV_NOHUGEPAGE)",
                       r->index, r->tid);
            kt__fail(r);
            munmap((void *)p, len);
            break;
        }
        for (k = 0; k < npages; k++) {
            p[k * pg] = 1;
            if ((k & 63) == 63 && kt__stopped(r))
                break;
        }
        if (munmap((void *)p, len)) {
            kt_err_sys(&r->self->err, errno, "ktw%u (tid %d): munmap", r->index, r->tid);
            kt__fail(r);
            break;
        }
        if (k < npages)        /* a cycle cut by the stop is not counted */
            break;
        pages += npages;
        kt__ctr_set(r->self, FAULT_PAGES, pages);
        kt__ctr_set(r->self, FAULT_FAULTS, minor_faults() - f0);
        kt__progress(r->self, kt_now_ns());
    }
    kt__ctr_set(r->self, FAULT_FAULTS, minor_faults() - f0);
}

static void result_pagefault(const kt__wslot *self, const kt__wslot *leader,
                             const kt_work_spec *s, kt_work_result *r)
{
    (void)leader;
    (void)s;
    r->fault.bytes = kt__ctr(self, FAULT_BYTES);
    r->fault.pages = kt__ctr(self, FAULT_PAGES);
    r->fault.faults = kt__ctr(self, FAULT_FAULTS);
}

const kt__kind_info kt__kind_pagefault = {
    .name = "pagefault", .run = run_pagefault, .group = 1, .check = check_pagefault,
    .result = result_pagefault,
};

/* ---- CACHE --------------------------------------------------------------- */

enum { CACHE_BYTES, CACHE_LLC, CACHE_LINES, CACHE_PASSES };
#define LINE 64u                 /* bytes per node: one cache line each */
#define LINE_WORDS (LINE / sizeof(uint64_t))
#define STEP_LINES 1024u         /* lines per iteration: ~0.1 ms when missing */
#define MIN_LINES 2u
#define DEFAULT_MULT 2.0
#define MAX_MULT 64.0
#define CACHE_DIR "/sys/devices/system/cpu/cpu0/cache"

static int check_cache(const kt_work_spec *s, kt_err *err)
{
    if (s->bytes && s->llc_mult != 0.0)
        return kt_err_set(err, EINVAL, "work spec (cache): bytes and llc_mult both set "
                          "(one sizes the working set)");
    if (s->bytes && (s->bytes < MIN_LINES * LINE || s->bytes > MAX_BYTES))
        return kt_err_set(err, EINVAL, "work spec (cache): bytes %" PRIu64
                          " out of %u..2^40", s->bytes, MIN_LINES * LINE);
    if (!(s->llc_mult >= 0.0 && s->llc_mult <= MAX_MULT))   /* NaN fails too */
        return kt_err_set(err, EINVAL, "work spec (cache): llc_mult %g out of (0, %g]",
                          s->llc_mult, MAX_MULT);
    return 0;
}

/* "491520K" (the kernel writes K; M and G accepted) as bytes; 0 if not a size. */
static uint64_t parse_size(const char *t)
{
    char *end;
    unsigned long long v;

    errno = 0;
    v = strtoull(t, &end, 10);
    if (errno || end == t)
        return 0;
    switch (*end) {
    case 'K': return (uint64_t)v << 10;
    case 'M': return (uint64_t)v << 20;
    case 'G': return (uint64_t)v << 30;
    case '\n': case '\0': return (uint64_t)v;
    default: return 0;
    }
}

/* cpu0's level-3 cache, or its highest level when it has no third (a
 * data or unified one: an instruction cache holds no working set). */
static int llc_bytes(uint64_t *out, kt_err *err)
{
    char path[128], buf[64];
    long best_level = 0;
    uint64_t best = 0;

    for (int i = 0; i < 16; i++) {
        long level;
        uint64_t size;

        snprintf(path, sizeof(path), CACHE_DIR "/index%d/level", i);
        if (kt__read_file_buf(path, buf, sizeof(buf), NULL) < 0)
            continue;
        level = strtol(buf, NULL, 10);
        snprintf(path, sizeof(path), CACHE_DIR "/index%d/type", i);
        if (kt__read_file_buf(path, buf, sizeof(buf), NULL) >= 0 &&
            strncmp(buf, "Instruction", 11) == 0)
            continue;
        snprintf(path, sizeof(path), CACHE_DIR "/index%d/size", i);
        if (kt__read_file_buf(path, buf, sizeof(buf), NULL) < 0 || !(size = parse_size(buf)))
            continue;
        if (best_level != 3 && (level == 3 || level > best_level)) {
            best_level = level;
            best = size;
        }
    }
    if (!best)
        return kt_err_set(err, ENOENT, "no cache sizes in " CACHE_DIR "/index*/ "
                          "(set .bytes)");
    *out = best;
    return 0;
}

/* Sizes the set, maps it and links its lines into one random cycle
 * (Sattolo's shuffle: every line is visited once per pass, in an order
 * no prefetcher follows). Before the barrier: building a set larger than
 * the LLC takes a while and is no part of the run. */
static int cache_prepare(kt__wrun *r, kt_err *err)
{
    const kt_work_spec *s = r->spec;
    uint64_t llc = 0, bytes, n, seed = s->seed ^ ((uint64_t)r->nth << 32);
    uint64_t *a;
    double mult = s->llc_mult != 0.0 ? s->llc_mult : DEFAULT_MULT;

    if (llc_bytes(&llc, s->bytes ? NULL : err) && !s->bytes) {
        char msg[KT_ERR_MSG_MAX];

        snprintf(msg, sizeof(msg), "%s", err->msg);
        return kt_err_set(err, err->code, "ktw%u: cache: %s", r->index, msg);
    }
    bytes = s->bytes ? s->bytes : (uint64_t)floor((double)llc * mult / LINE) * LINE;
    n = bytes / LINE;
    if (n < MIN_LINES)
        return kt_err_set(err, EINVAL, "ktw%u: cache: %g x LLC %" PRIu64 " is under %u lines",
                          r->index, mult, llc, MIN_LINES);
    r->mem_len = (size_t)(n * LINE);
    r->mem = mmap(NULL, r->mem_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (r->mem == MAP_FAILED) {
        r->mem = NULL;
        return kt_err_sys(err, errno, "ktw%u: cache: mmap(%zu bytes)", r->index, r->mem_len);
    }
    a = r->mem;
    for (uint64_t i = 0; i < n; i++)
        a[i * LINE_WORDS] = i;
    for (uint64_t i = n - 1; i > 0; i--) {
        uint64_t j = kt__rand(&seed) % i, t = a[i * LINE_WORDS];

        a[i * LINE_WORDS] = a[j * LINE_WORDS];
        a[j * LINE_WORDS] = t;
    }
    kt__ctr_set(r->self, CACHE_BYTES, n * LINE);
    kt__ctr_set(r->self, CACHE_LLC, llc);
    return 0;
}

static void cache_release(kt__wrun *r)
{
    if (r->mem)
        munmap(r->mem, r->mem_len);
    r->mem = NULL;
}

static void run_cache(kt__wrun *r)
{
    const uint64_t *a = r->mem;
    uint64_t n = r->mem_len / LINE, p = 0, lines = 0;
    volatile uint64_t sink;

    while (!kt__stopped(r)) {
        /* Each load's address is the last load's value: no two misses
         * overlap. */
        for (unsigned k = 0; k < STEP_LINES; k++)
            p = a[p * LINE_WORDS];
        lines += STEP_LINES;
        kt__ctr_set(r->self, CACHE_LINES, lines);
        kt__ctr_set(r->self, CACHE_PASSES, lines / n);
        kt__progress(r->self, kt_now_ns());
    }
    sink = p;
    (void)sink;
}

static void result_cache(const kt__wslot *self, const kt__wslot *leader,
                         const kt_work_spec *s, kt_work_result *r)
{
    (void)leader;
    (void)s;
    r->cache.bytes = kt__ctr(self, CACHE_BYTES);
    r->cache.llc_bytes = kt__ctr(self, CACHE_LLC);
    r->cache.lines = kt__ctr(self, CACHE_LINES);
    r->cache.passes = kt__ctr(self, CACHE_PASSES);
}

const kt__kind_info kt__kind_cache = {
    .name = "cache", .run = run_cache, .group = 1, .check = check_cache,
    .prepare = cache_prepare, .release = cache_release, .result = result_cache,
};
