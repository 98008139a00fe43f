/*
 * ktstr/cpuset.h - sets of CPUs, and claims on them: the CPUs a thread
 * ran on, a cpuset, an affinity mask.
 *
 *   kt_cpuset cpus_used = { 0 }, allowed = { 0 };   // { 0 }: the empty set
 *   kt_cpuset_add_list(&allowed, cpus, n);          // from kt_allowed_cpus
 *   kt_cpuset_add(&cpus_used, cpu_seen);            // per sample
 *   kt_cpuset_add_mask(&mask_seen, &set, sizeof(set));   // a cpu_set_t
 *   CLAIM_CPUS(v, cpus_used, subset_of, allowed);   // label "cpus_used"
 *   CLAIM_CPUS(v, cpus_used, count_at_least, 2);
 *   CLAIM_CPUS_AS(v, "ktw0.cpus_used", w.used, subset_of, allowed);
 *
 * The macros take the sets themselves (lvalues of type kt_cpuset), not
 * pointers. Sets print as the kernel's CPU lists (kt_cpulist_format:
 * "0-3,6"), the empty set as "none". {S} is the set claimed, {B} the
 * other set, {k} the set's count. Operations and their messages:
 *
 *   subset_of, B       every CPU of S is in B
 *     {l}: expected subset of {B}, but {S - B} are not in it
 *   disjoint_from, B   no CPU of S is in B
 *     {l}: expected disjoint from {B}, but {S & B} are in it
 *   contains, B        every CPU of B is in S
 *     {l}: expected to contain {B}, but {B - S} are missing
 *   count_at_most, n   S has at most n CPUs
 *     {l}: expected at most {n} CPUs, was {k} ({S})
 *   count_at_least, n  S has at least n CPUs
 *     {l}: expected at least {n} CPUs, was {k} ({S})
 *
 * One CPU reads in the singular: "but 2 is not in it", "but 2 is in it",
 * "but 2 is missing", "expected at most 1 CPU". Caller errors fail the
 * claim:
 *     {l}: caller error: CPU {c} out of range (0-8191) in the set
 *     {l}: caller error: CPU {c} out of range (0-8191) in the bound
 *     {l}: caller error: set is NULL        (or: bound is NULL)
 *
 * In the record: op as written ("subset_of"), expected {B} (or n),
 * actual {S} (or k). A pass streamed to a sink reads "{l}: expected
 * subset of {B}, was {S}" (disjoint from, to contain), and the count
 * operations read as their failure would.
 */
#ifndef KTSTR_CPUSET_H
#define KTSTR_CPUSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ktstr/api.h"
#include "ktstr/verdict.h"

#ifdef __cplusplus
extern "C" {
#endif

/* CPUs 0 .. KT_CPUSET_MAX-1: Linux's largest NR_CPUS. */
#define KT_CPUSET_MAX 8192

/* A set of CPUs by value (1 KiB); zero-initialised it is empty. A CPU
 * outside the range is not added but remembered, and every claim on the
 * set then fails as a caller error, so a lost CPU never passes a claim. */
typedef struct kt_cpuset {
    uint64_t bits_[KT_CPUSET_MAX / 64];
    int bad_cpu_;        /* the first CPU refused, when bad_ */
    bool bad_;
} kt_cpuset;

/* Empties s (and forgets a refused CPU). */
KT_API void kt_cpuset_clear(kt_cpuset *s);
/* Adds cpu; 0, or -1 when it is outside [0, KT_CPUSET_MAX). */
KT_API int kt_cpuset_add(kt_cpuset *s, int cpu);
/* Adds cpus[0..n); 0, or -1 when any is out of range (the others are
 * added). */
KT_API int kt_cpuset_add_list(kt_cpuset *s, const int *cpus, int n);
/* Adds the CPUs of a cpu_set_t of `bytes` bytes (sizeof a cpu_set_t, or
 * CPU_ALLOC_SIZE of one from CPU_ALLOC), as sched_getaffinity fills it;
 * 0, or -1 when it holds a CPU out of range. */
KT_API int kt_cpuset_add_mask(kt_cpuset *s, const void *mask, size_t bytes);
/* Adds every CPU of src to dst (a CPU src refused is refused by dst). */
KT_API void kt_cpuset_add_set(kt_cpuset *dst, const kt_cpuset *src);
/* Whether cpu is in s (false when out of range). */
KT_API bool kt_cpuset_has(const kt_cpuset *s, int cpu);
/* The number of CPUs in s. */
KT_API int kt_cpuset_count(const kt_cpuset *s);
/* Writes s as a CPU list ("0-3,6"; "" for the empty set) into buf of n
 * bytes; 0, or -1 when it does not fit (or out of memory). At most
 * 5 * count + 1 bytes are needed. */
KT_API int kt_cpuset_format(const kt_cpuset *s, char *buf, size_t n);

/* ---- claims ----------------------------------------------------------- */

typedef enum kt_cpus_op {
    KT_CPUS_SUBSET_OF, KT_CPUS_DISJOINT_FROM, KT_CPUS_CONTAINS,
    KT_CPUS_COUNT_AT_MOST, KT_CPUS_COUNT_AT_LEAST
} kt_cpus_op;

/* "subset_of", ...; "?" when out of range. */
KT_API const char *kt_cpus_op_name(kt_cpus_op op);

/* The function the macros call: bound for the set operations, n for the
 * count ones (the other unused). True when the claim holds. */
KT_API bool kt_claim_cpus(kt_verdict *v, kt_cpus_op op, const char *label,
                          const kt_cpuset *set, const kt_cpuset *bound, long long n,
                          const char *file, int line);

/* CLAIM_CPUS(v, set, op, arg): set (a kt_cpuset, labelled with its source
 * text) against arg (a kt_cpuset, or a count). True when it holds.
 * CLAIM_CPUS_AS(v, label, set, op, arg): the same with a runtime label. */
#define CLAIM_CPUS(v, set, ...) \
    KT__CPUS_CLAIM((v), #set, (set), __VA_ARGS__, kt__claim_no_argument)
#define CLAIM_CPUS_AS(v, label, set, ...) \
    KT__CPUS_CLAIM((v), (label), (set), __VA_ARGS__, kt__claim_no_argument)

/* Internal: dispatch on the operation's name, as CLAIM does. */
#define KT__CPUS_CLAIM(v, l, s, op, ...) KT__CPUS_OP_##op(v, l, s, __VA_ARGS__)
#define KT__CPUS_SET(v, l, s, o, b) \
    kt_claim_cpus(v, o, l, &(s), &(b), 0, __FILE__, __LINE__)
#define KT__CPUS_COUNT(v, l, s, o, n) \
    kt_claim_cpus(v, o, l, &(s), NULL, (long long)(n), __FILE__, __LINE__)
#define KT__CPUS_OP_subset_of(v, l, s, b, ...) KT__CPUS_SET(v, l, s, KT_CPUS_SUBSET_OF, b)
#define KT__CPUS_OP_disjoint_from(v, l, s, b, ...) \
    KT__CPUS_SET(v, l, s, KT_CPUS_DISJOINT_FROM, b)
#define KT__CPUS_OP_contains(v, l, s, b, ...) KT__CPUS_SET(v, l, s, KT_CPUS_CONTAINS, b)
#define KT__CPUS_OP_count_at_most(v, l, s, n, ...) \
    KT__CPUS_COUNT(v, l, s, KT_CPUS_COUNT_AT_MOST, n)
#define KT__CPUS_OP_count_at_least(v, l, s, n, ...) \
    KT__CPUS_COUNT(v, l, s, KT_CPUS_COUNT_AT_LEAST, n)

#ifdef __cplusplus
}
#endif
#endif
