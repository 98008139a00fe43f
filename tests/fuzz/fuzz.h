/*
 * A bounded fuzz engine for the parsers that read outside input (/proc
 * text, KVM stats images, the wire, mountinfo, cpu lists, ...). No
 * coverage feedback: each target's valid samples (fixtures, live /proc
 * files, generated ones) are mutated at random -- bit flips, byte
 * insert/delete, truncation, splices, huge numbers, NUL bytes, overlong
 * lines, binary field overwrites -- and every input is handed to the
 * parser in a buffer of exactly its size, so ASan sees any read past it.
 *
 * A target is one entry in a driver's table (tests/fuzz_*.c), and one TAP
 * point:
 *
 *   static void seed_schedstat(fuzz_seeds *s) { fuzz_seed_file(s, "tests/fixtures/schedstat.txt"); }
 *   static int parse_schedstat(const unsigned char *in, size_t n, kt_err *err)
 *   {
 *       kt_schedstat_sample o;
 *       return kt_schedstat_parse((const char *)in, n, &o, err);
 *   }
 *   static const fuzz_target targets[] = {
 *       { "schedstat", "schedstat", false, 0, seed_schedstat, parse_schedstat },
 *   };
 *   int main(void) { return fuzz_main(targets, FUZZ_COUNT(targets)); }
 *
 * Seeds are fixtures (tests/fixtures) and samples generated from the
 * target's random stream, never live /proc files: a seed must replay the
 * same inputs on another machine.
 *
 * Per input the engine checks: no crash and no hang (an alarm() watchdog),
 * the wrapper returns 0 (accepted) or -1 (rejected), and a rejection
 * fills err with a message that names the kind of input (`kind`). The
 * wrapper checks the properties of what it accepted and calls fuzz_bad()
 * when one breaks. A target whose inputs are never accepted fails too
 * (its wrapper or seeds are broken, so it tests nothing).
 *
 * Budget per target: KTSTR_FUZZ_SECONDS (default 0.4) and KTSTR_FUZZ_ITERS
 * (default 20000), whichever ends first. The run's seed is printed; a
 * failure names the target, the input's number and the seed, dumps the
 * input in hex and prints the line that replays it:
 *   KTSTR_FUZZ_SEED=<seed> KTSTR_FUZZ_TARGET=<name> KTSTR_FUZZ_ITERS=<i + 1> ...
 * (each target's stream is derived from the seed and its name alone;
 * KTSTR_FUZZ_TARGET runs that target only).
 */
#ifndef KT_TESTS_FUZZ_H
#define KT_TESTS_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ktstr/error.h"

/* The valid samples a target starts from. */
typedef struct fuzz_seeds fuzz_seeds;

typedef struct fuzz_target {
    const char *name;      /* the TAP point: "fuzz <name>" */
    const char *kind;      /* every error message contains it ("": any
                              message, the caller names the input);
                              NULL: the parser reports none (-1 only) */
    bool text;             /* hand the parser a NUL-terminated copy */
    size_t max_len;        /* longest input made; 0: 16 KiB */
    void (*seed)(fuzz_seeds *s);
    /* Parses in[0..n) (in[n] is '\0' when text); 0 or -1 with err. */
    int (*parse)(const unsigned char *in, size_t n, kt_err *err);
} fuzz_target;

#define FUZZ_COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* Adds a sample (copied). */
void fuzz_seed(fuzz_seeds *s, const void *p, size_t n);
/* Adds a string's bytes, without its NUL. */
void fuzz_seed_str(fuzz_seeds *s, const char *str);
/* Adds a printf-formatted sample. */
void fuzz_seed_fmt(fuzz_seeds *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Adds a fixture's contents; one that cannot be read fails the target. */
void fuzz_seed_file(fuzz_seeds *s, const char *path);

/* The target's random stream (xorshift64*): generators and wrappers may
 * draw from it; it is replayed exactly with the same seed. */
uint64_t fuzz_rand(void);
/* A number in [0, n) (0 when n is 0). */
uint64_t fuzz_below(uint64_t n);

/* In a wrapper: an accepted (or rejected) input broke a property. */
void fuzz_bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Runs every target as one TAP point; returns test_done()'s status. */
int fuzz_main(const fuzz_target *t, size_t n);

#endif
