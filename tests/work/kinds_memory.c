/* PAGEFAULT and CACHE: the pages really fault, the working set is the
 * size the LLC says times the multiplier, and a set past the caches
 * costs more per step than one inside L1. */
#include "work/fixture.h"

#include <math.h>
#include <unistd.h>

#define PAGES 256u               /* 1 MiB of 4 KiB pages per cycle */

static void t_pagefault(void)
{
    long pg = sysconf(_SC_PAGESIZE);
    kt_work_spec s = { .kind = KT_WORK_PAGEFAULT, .count = 1, .bytes = PAGES * (uint64_t)pg - 100 };
    kt_err err;
    kt_work *w = fx_start(&s, &err);
    kt_work_result r;
    long long f0, f1;
    uint64_t i0, i1;

    if (!w)
        return;
    fx_sleep_ms(50);
    /* The kernel's count of the thread's faults, beside its cycles. */
    f0 = fx_minflt(kt_work_tid(w, 0));
    i0 = kt_work_iterations(w, 0);
    fx_sleep_ms(300);
    f1 = fx_minflt(kt_work_tid(w, 0));
    i1 = kt_work_iterations(w, 0);
    expect_alive(w);
    kt_work_stop(w);
    expect_stopped(w);
    kt_work_get(w, 0, &r, NULL);
    check_uint(r.fault.bytes, ==, PAGES * (uint64_t)pg);     /* rounded up to pages */
    check_uint(r.fault.pages, ==, r.iterations * PAGES);
    check_uint(r.iterations, >=, 10);
    /* One fault per page touched, no huge pages folding them. */
    check_int(f0, >=, 0);
    check_int(f1 - f0, >=, (long long)((i1 - i0) * PAGES * 9 / 10));
    check_uint(r.fault.faults, >=, r.fault.pages * 9 / 10);
    test_msg("pagefault: %llu cycles, %llu pages, %llu faults (kernel: %lld in %llu cycles)",
             (unsigned long long)r.iterations, (unsigned long long)r.fault.pages,
             (unsigned long long)r.fault.faults, f1 - f0, (unsigned long long)(i1 - i0));
    kt_work_free(w);
}

/* The LLC as sysfs tells it, read here on our own: level 3 of cpu0, or
 * its largest level. 0 when none. */
static uint64_t sysfs_llc(void)
{
    uint64_t best = 0;
    long best_level = 0;

    for (int i = 0; i < 16; i++) {
        char path[96], buf[64], unit = 0;
        unsigned long long v;
        long level;
        FILE *f;

        snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu0/cache/index%d/type", i);
        if (!(f = fopen(path, "r")))
            continue;
        buf[0] = '\0';
        if (!fgets(buf, sizeof(buf), f))
            buf[0] = '\0';
        fclose(f);
        if (strncmp(buf, "Instruction", 11) == 0)
            continue;
        snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu0/cache/index%d/level", i);
        if (!(f = fopen(path, "r")))
            continue;
        if (fscanf(f, "%ld", &level) != 1)
            level = 0;
        fclose(f);
        snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu0/cache/index%d/size", i);
        if (!(f = fopen(path, "r")))
            continue;
        if (fscanf(f, "%llu%c", &v, &unit) < 1)
            v = 0;
        fclose(f);
        v <<= unit == 'K' ? 10 : unit == 'M' ? 20 : unit == 'G' ? 30 : 0;
        if (v && best_level != 3 && (level == 3 || level > best_level)) {
            best_level = level;
            best = v;
        }
    }
    return best;
}

static void t_cache_size(void)
{
    const double mult = 0.01;
    uint64_t llc = sysfs_llc(), want;
    kt_work_spec s = { .kind = KT_WORK_CACHE, .count = 1, .llc_mult = mult };
    kt_err err;
    kt_work *w;
    kt_work_result r;

    if (!llc) {
        test_skip("no cache sizes in /sys/devices/system/cpu/cpu0/cache");
        return;
    }
    want = (uint64_t)floor(llc * mult / 64) * 64;
    if (want < 128)
        want = 0;              /* too small: the start must refuse it */
    w = fx_try(&s, 1, &err);
    if (!want) {
        check(w == NULL);
        check_contains(err.msg, "lines");
        kt_work_free(w);
        return;
    }
    if (!check(w != NULL)) {
        test_msg("%s", err.msg);
        return;
    }
    fx_sleep_ms(200);
    expect_alive(w);
    kt_work_stop(w);
    expect_stopped(w);
    kt_work_get(w, 0, &r, NULL);
    check_uint(r.cache.llc_bytes, ==, llc);
    check_uint(r.cache.bytes, ==, want);
    check_uint(r.cache.lines, ==, r.iterations * 1024);
    check_uint(r.cache.passes, ==, r.cache.lines / (want / 64));
    test_msg("cache: LLC %llu KiB x %g = %llu bytes, %llu passes",
             (unsigned long long)(llc >> 10), mult, (unsigned long long)r.cache.bytes,
             (unsigned long long)r.cache.passes);
    kt_work_free(w);
}

/* ns per line visited with a working set of `bytes`, over the walk
 * (run_ns: cpu_ns would include building the set before the barrier). */
static double ns_per_line(uint64_t bytes)
{
    kt_work_spec s = { .kind = KT_WORK_CACHE, .count = 1, .bytes = bytes };
    kt_err err;
    kt_work *w = fx_start(&s, &err);
    kt_work_result r;
    double v;

    if (!w)
        return NAN;
    fx_sleep_ms(250);
    kt_work_stop(w);
    expect_stopped(w);
    kt_work_get(w, 0, &r, NULL);
    check_uint(r.cache.bytes, ==, bytes);
    check_uint(r.cache.llc_bytes, ==, sysfs_llc());
    v = r.cache.lines ? (double)r.run_ns / (double)r.cache.lines : NAN;
    kt_work_free(w);
    return v;
}

static void t_cache_misses(void)
{
    double small = ns_per_line(16 << 10), big = ns_per_line(256u << 20);

    /* A dependent load from L1 is a few cycles; from DRAM (or a far LLC)
     * behind a TLB miss, tens of ns. */
    check_dbl(big, >=, 3 * small);
    test_msg("cache: %.2f ns a line in 16 KiB, %.2f ns in 256 MiB (x%.1f)", small, big,
             big / small);
}

static void t_bad_specs(void)
{
    expect_refused(&(kt_work_spec){ .kind = KT_WORK_PAGEFAULT, .count = 1 }, "(pagefault): bytes 0");
    expect_refused(&(kt_work_spec){ .kind = KT_WORK_CACHE, .count = 1, .bytes = 1 << 20, .llc_mult = 1 }, "bytes and llc_mult");
    expect_refused(&(kt_work_spec){ .kind = KT_WORK_CACHE, .count = 1, .bytes = 64 }, "bytes 64");
    expect_refused(&(kt_work_spec){ .kind = KT_WORK_CACHE, .count = 1, .llc_mult = 100 }, "llc_mult 100");
    expect_refused(&(kt_work_spec){ .kind = KT_WORK_CACHE, .count = 1, .llc_mult = NAN }, "llc_mult nan");
}

int main(void)
{
    TEST(t_pagefault(), "pagefault: pages = cycles x pages, each one a fault");
    TEST(t_cache_size(), "cache: working set = LLC x llc_mult, from sysfs");
    TEST(t_cache_misses(), "cache: a set past the caches costs more per line");
    TEST(t_bad_specs(), "pagefault and cache sizes are checked");
    return test_done();
}
