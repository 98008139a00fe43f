/* CPU sets and claims on them: every operation passing and failing with
 * its exact record, empty sets, large CPU numbers, caller errors, and the
 * CPU-list formatting they print with. */
#include "harness/unit.h"

#include <ktstr/cpuset.h>
#include <ktstr/work.h>

#include <sched.h>
#include <stdio.h>
#include <string.h>

/* The last failure recorded, or a record of empty strings. */
static const kt_claim_record *last(const kt_verdict *v)
{
    static const kt_claim_record none = { "", "", "", "", "(none)", "", 0, true };
    size_t n = kt_verdict_failure_count(v);

    return n ? kt_verdict_failure(v, n - 1) : &none;
}

/* A set of the CPUs lo..hi. */
static kt_cpuset range(int lo, int hi)
{
    kt_cpuset s = { 0 };

    for (int c = lo; c <= hi; c++)
        kt_cpuset_add(&s, c);
    return s;
}

static const char *fmt(const kt_cpuset *s)
{
    static char buf[64];

    if (kt_cpuset_format(s, buf, sizeof(buf)) < 0)
        return "(format failed)";
    return buf;
}

static void t_cpulist_ranges(void)
{
    static const int runs[] = { 0, 1, 2, 3, 6 }, apart[] = { 0, 2, 5 };
    static const int order[] = { 3, 4, 1, 2, 9 }, two[] = { 7, 8 };
    char buf[32];

    check_int(kt_cpulist_format(buf, sizeof(buf), runs, 5), ==, 0);
    check_str(buf, "0-3,6");
    check_int(kt_cpulist_format(buf, sizeof(buf), apart, 3), ==, 0);
    check_str(buf, "0,2,5");
    check_int(kt_cpulist_format(buf, sizeof(buf), order, 5), ==, 0);
    check_str(buf, "3-4,1-2,9");   /* the order is kept: pin_each follows it */
    check_int(kt_cpulist_format(buf, sizeof(buf), two, 2), ==, 0);
    check_str(buf, "7-8");
    check_int(kt_cpulist_format(buf, 5, runs, 5), ==, -1);   /* "0-3,6" needs 6 */
    check_int(kt_cpulist_format(buf, 6, runs, 5), ==, 0);
}

static void t_set_basics(void)
{
    kt_cpuset s = { 0 }, t = { 0 };
    static const int list[] = { 5, 1, 3 };

    check_int(kt_cpuset_count(&s), ==, 0);
    check_str(fmt(&s), "");
    check_int(kt_cpuset_add(&s, 0), ==, 0);
    check_int(kt_cpuset_add(&s, 63), ==, 0);
    check_int(kt_cpuset_add(&s, 64), ==, 0);
    check_int(kt_cpuset_add(&s, 64), ==, 0);   /* twice is once */
    check_int(kt_cpuset_count(&s), ==, 3);
    check(kt_cpuset_has(&s, 63));
    check(!kt_cpuset_has(&s, 62));
    check(!kt_cpuset_has(&s, -1));
    check(!kt_cpuset_has(&s, KT_CPUSET_MAX));
    check_str(fmt(&s), "0,63-64");
    check_int(kt_cpuset_add_list(&t, list, 3), ==, 0);
    check_str(fmt(&t), "1,3,5");
    kt_cpuset_add_set(&t, &s);
    check_str(fmt(&t), "0-1,3,5,63-64");
    kt_cpuset_clear(&t);
    check_int(kt_cpuset_count(&t), ==, 0);

    /* a buffer too small for the list */
    char small[4];
    check_int(kt_cpuset_format(&s, small, sizeof(small)), ==, -1);
}

static void t_set_masks(void)
{
    cpu_set_t m;
    cpu_set_t *big;
    size_t bytes;
    kt_cpuset s = { 0 };

    CPU_ZERO(&m);
    CPU_SET(2, &m);
    CPU_SET(3, &m);
    CPU_SET(CPU_SETSIZE - 1, &m);
    check_int(kt_cpuset_add_mask(&s, &m, sizeof(m)), ==, 0);
    check_int(kt_cpuset_count(&s), ==, 3);
    check_str(fmt(&s), "2-3,1023");

    /* CPU_ALLOC masks beyond 1024 CPUs, up to the last one we hold */
    big = CPU_ALLOC(KT_CPUSET_MAX);
    bytes = CPU_ALLOC_SIZE(KT_CPUSET_MAX);
    if (!check(big != NULL))
        return;
    CPU_ZERO_S(bytes, big);
    CPU_SET_S(4096, bytes, big);
    CPU_SET_S(KT_CPUSET_MAX - 1, bytes, big);
    kt_cpuset_clear(&s);
    check_int(kt_cpuset_add_mask(&s, big, bytes), ==, 0);
    check_str(fmt(&s), "4096,8191");
    CPU_FREE(big);

    /* one past it is refused, and remembered */
    big = CPU_ALLOC(KT_CPUSET_MAX + 64);
    bytes = CPU_ALLOC_SIZE(KT_CPUSET_MAX + 64);
    if (!check(big != NULL))
        return;
    CPU_ZERO_S(bytes, big);
    CPU_SET_S(1, bytes, big);
    CPU_SET_S(KT_CPUSET_MAX, bytes, big);
    kt_cpuset_clear(&s);
    check_int(kt_cpuset_add_mask(&s, big, bytes), ==, -1);
    check_str(fmt(&s), "1");
    check(s.bad_);
    check_int(s.bad_cpu_, ==, KT_CPUSET_MAX);
    CPU_FREE(big);
}

static void t_subset_of(void)
{
    kt_cpuset cpus_used = range(0, 3), allowed = range(0, 1), three = range(0, 2);
    kt_verdict v;
    int line;

    kt_verdict_init(&v);
    check(CLAIM_CPUS(&v, allowed, subset_of, cpus_used));
    check(CLAIM_CPUS(&v, allowed, subset_of, allowed));
    check(kt_verdict_passed(&v));
    line = __LINE__ + 1;
    check(!CLAIM_CPUS(&v, cpus_used, subset_of, allowed));
    check_uint(kt_verdict_claims(&v), ==, 3);
    check_uint(kt_verdict_failed(&v), ==, 1);
    check_str(last(&v)->message, "cpus_used: expected subset of 0-1, but 2-3 are not in it");
    check_str(last(&v)->label, "cpus_used");
    check_str(last(&v)->op, "subset_of");
    check_str(last(&v)->expected, "0-1");
    check_str(last(&v)->actual, "0-3");
    check_str(last(&v)->file, __FILE__);
    check_int(last(&v)->line, ==, line);
    check(!last(&v)->passed);
    check(!CLAIM_CPUS_AS(&v, "ktw0.cpus_used", three, subset_of, allowed));
    check_str(last(&v)->message, "ktw0.cpus_used: expected subset of 0-1, but 2 is not in it");
    check_str(last(&v)->label, "ktw0.cpus_used");
    kt_verdict_fini(&v);
}

static void t_disjoint_from(void)
{
    kt_cpuset a = range(1, 2), b = range(2, 3), c = range(1, 3), d = range(0, 0);
    kt_verdict v;

    kt_verdict_init(&v);
    check(CLAIM_CPUS(&v, d, disjoint_from, b));
    check(kt_verdict_passed(&v));
    check(!CLAIM_CPUS(&v, a, disjoint_from, b));
    check_str(last(&v)->message, "a: expected disjoint from 2-3, but 2 is in it");
    check_str(last(&v)->op, "disjoint_from");
    check_str(last(&v)->expected, "2-3");
    check_str(last(&v)->actual, "1-2");
    check(!CLAIM_CPUS(&v, c, disjoint_from, b));
    check_str(last(&v)->message, "c: expected disjoint from 2-3, but 2-3 are in it");
    check_uint(kt_verdict_claims(&v), ==, 3);
    check_uint(kt_verdict_failed(&v), ==, 2);
    kt_verdict_fini(&v);
}

static void t_contains(void)
{
    kt_cpuset used = range(0, 1), want = range(0, 3), most = range(0, 2);
    kt_verdict v;

    kt_verdict_init(&v);
    check(CLAIM_CPUS(&v, want, contains, used));
    check(kt_verdict_passed(&v));
    check(!CLAIM_CPUS(&v, used, contains, want));
    check_str(last(&v)->message, "used: expected to contain 0-3, but 2-3 are missing");
    check_str(last(&v)->op, "contains");
    check_str(last(&v)->expected, "0-3");
    check_str(last(&v)->actual, "0-1");
    check(!CLAIM_CPUS(&v, most, contains, want));
    check_str(last(&v)->message, "most: expected to contain 0-3, but 3 is missing");
    kt_verdict_fini(&v);
}

static void t_counts(void)
{
    kt_cpuset s = range(0, 3), none = { 0 };
    kt_verdict v;

    kt_verdict_init(&v);
    check(CLAIM_CPUS(&v, s, count_at_most, 4));
    check(CLAIM_CPUS(&v, s, count_at_least, 4));
    check(CLAIM_CPUS(&v, none, count_at_most, 0));
    check(kt_verdict_passed(&v));
    check(!CLAIM_CPUS(&v, s, count_at_most, 2));
    check_str(last(&v)->message, "s: expected at most 2 CPUs, was 4 (0-3)");
    check_str(last(&v)->op, "count_at_most");
    check_str(last(&v)->expected, "2");
    check_str(last(&v)->actual, "4");
    check(!CLAIM_CPUS(&v, s, count_at_most, 1));
    check_str(last(&v)->message, "s: expected at most 1 CPU, was 4 (0-3)");
    check(!CLAIM_CPUS(&v, s, count_at_least, 5));
    check_str(last(&v)->message, "s: expected at least 5 CPUs, was 4 (0-3)");
    check_str(last(&v)->op, "count_at_least");
    check(!CLAIM_CPUS(&v, none, count_at_least, 1));
    check_str(last(&v)->message, "none: expected at least 1 CPU, was 0 (none)");
    check_str(last(&v)->actual, "0");
    check_uint(kt_verdict_claims(&v), ==, 7);
    check_uint(kt_verdict_failed(&v), ==, 4);
    kt_verdict_fini(&v);
}

static void t_empty(void)
{
    kt_cpuset empty = { 0 }, one = range(0, 0);
    kt_verdict v;

    kt_verdict_init(&v);
    check(CLAIM_CPUS(&v, empty, subset_of, one));
    check(CLAIM_CPUS(&v, empty, subset_of, empty));
    check(CLAIM_CPUS(&v, empty, disjoint_from, one));
    check(CLAIM_CPUS(&v, one, disjoint_from, empty));
    check(CLAIM_CPUS(&v, one, contains, empty));
    check(CLAIM_CPUS(&v, empty, contains, empty));
    check(kt_verdict_passed(&v));
    check(!CLAIM_CPUS(&v, one, subset_of, empty));
    check_str(last(&v)->message, "one: expected subset of none, but 0 is not in it");
    check_str(last(&v)->expected, "none");
    check(!CLAIM_CPUS(&v, empty, contains, one));
    check_str(last(&v)->message, "empty: expected to contain 0, but 0 is missing");
    check_str(last(&v)->actual, "none");
    kt_verdict_fini(&v);
}

static void t_large_cpus(void)
{
    kt_cpuset used = { 0 }, low = range(0, 4095), top = range(8190, 8191);
    kt_verdict v;

    kt_cpuset_add(&used, 4095);
    kt_cpuset_add(&used, KT_CPUSET_MAX - 1);
    kt_verdict_init(&v);
    check(CLAIM_CPUS(&v, top, count_at_least, 2));
    check(!CLAIM_CPUS(&v, used, subset_of, low));
    check_str(last(&v)->message, "used: expected subset of 0-4095, but 8191 is not in it");
    check_str(last(&v)->actual, "4095,8191");
    check(!CLAIM_CPUS(&v, used, disjoint_from, top));
    check_str(last(&v)->message, "used: expected disjoint from 8190-8191, but 8191 is in it");
    kt_verdict_fini(&v);

    /* every other CPU: a list longer than the verdict keeps, cut */
    kt_cpuset every_other = { 0 }, none = { 0 };
    for (int c = 0; c < KT_CPUSET_MAX; c += 2)
        kt_cpuset_add(&every_other, c);
    kt_verdict_init(&v);
    check(!CLAIM_CPUS(&v, every_other, subset_of, none));
    check_uint(strlen(last(&v)->actual), <=, KT_VERDICT_STR_MAX);
    check_uint(strlen(last(&v)->message), <=, 2 * KT_VERDICT_STR_MAX);
    check_contains(last(&v)->message, "every_other: expected subset of none, but 0,2,4,6,");
    check_contains(last(&v)->message, "...[cut]");
    kt_verdict_fini(&v);
}

static void t_caller_errors(void)
{
    kt_cpuset bad = { 0 }, ok = range(0, 1), bad_bound = range(0, 1);
    kt_verdict v;

    check_int(kt_cpuset_add(&bad, -1), ==, -1);
    check_int(kt_cpuset_add(&bad, 0), ==, 0);
    check_int(kt_cpuset_add(&bad_bound, KT_CPUSET_MAX), ==, -1);
    kt_verdict_init(&v);
    check(!CLAIM_CPUS(&v, bad, subset_of, ok));   /* {0} would be a subset */
    check_str(last(&v)->message, "bad: caller error: CPU -1 out of range (0-8191) in the set");
    check_str(last(&v)->expected, "0-1");
    check_str(last(&v)->actual, "0");
    check(!CLAIM_CPUS(&v, bad, count_at_most, 10));
    check_str(last(&v)->message, "bad: caller error: CPU -1 out of range (0-8191) in the set");
    check(!CLAIM_CPUS(&v, ok, contains, bad_bound));
    check_str(last(&v)->message,
              "ok: caller error: CPU 8192 out of range (0-8191) in the bound");
    check(!kt_claim_cpus(&v, KT_CPUS_SUBSET_OF, "x", NULL, &ok, 0, "f.c", 3));
    check_str(last(&v)->message, "x: caller error: set is NULL");
    check(!kt_claim_cpus(&v, KT_CPUS_DISJOINT_FROM, "x", &ok, NULL, 0, "f.c", 3));
    check_str(last(&v)->message, "x: caller error: bound is NULL");
    check(kt_claim_cpus(&v, KT_CPUS_COUNT_AT_LEAST, "x", &ok, NULL, 2, "f.c", 3));
    check_uint(kt_verdict_claims(&v), ==, 6);
    check_uint(kt_verdict_failed(&v), ==, 5);

    /* the union of a refused CPU's set refuses it too */
    kt_cpuset u = { 0 };
    kt_cpuset_add_set(&u, &bad);
    check(!CLAIM_CPUS(&v, u, count_at_least, 0));
    check_str(last(&v)->message, "u: caller error: CPU -1 out of range (0-8191) in the set");
    kt_verdict_fini(&v);
}

static void t_op_names(void)
{
    check_str(kt_cpus_op_name(KT_CPUS_SUBSET_OF), "subset_of");
    check_str(kt_cpus_op_name(KT_CPUS_DISJOINT_FROM), "disjoint_from");
    check_str(kt_cpus_op_name(KT_CPUS_CONTAINS), "contains");
    check_str(kt_cpus_op_name(KT_CPUS_COUNT_AT_MOST), "count_at_most");
    check_str(kt_cpus_op_name(KT_CPUS_COUNT_AT_LEAST), "count_at_least");
    check_str(kt_cpus_op_name((kt_cpus_op)99), "?");
}

typedef struct seen {
    int passes;
    char message[128], expected[32], actual[32];
} seen;

static void sink(void *arg, kt_event ev, const kt_claim_record *rec, const char *text)
{
    seen *s = arg;

    (void)text;
    if (ev != KT_EVENT_PASS)
        return;
    s->passes++;
    snprintf(s->message, sizeof(s->message), "%s", rec->message);
    snprintf(s->expected, sizeof(s->expected), "%s", rec->expected);
    snprintf(s->actual, sizeof(s->actual), "%s", rec->actual);
}

static void t_sink_passes(void)
{
    kt_cpuset used = range(0, 1), allowed = range(0, 3);
    seen got = { 0 };
    kt_verdict v;

    kt_verdict_init(&v);
    kt_verdict_set_sink(&v, sink, &got, true);
    check(CLAIM_CPUS(&v, used, subset_of, allowed));
    check_str(got.message, "used: expected subset of 0-3, was 0-1");
    check_str(got.expected, "0-3");
    check_str(got.actual, "0-1");
    check(CLAIM_CPUS(&v, used, disjoint_from, used) == false);
    check(CLAIM_CPUS(&v, allowed, contains, used));
    check_str(got.message, "allowed: expected to contain 0-1, was 0-3");
    check(CLAIM_CPUS(&v, used, count_at_most, 2));
    check_str(got.message, "used: expected at most 2 CPUs, was 2 (0-1)");
    check_str(got.actual, "2");
    check_int(got.passes, ==, 3);
    check_uint(kt_verdict_claims(&v), ==, 4);
    kt_verdict_fini(&v);
}

int main(void)
{
    TEST(t_cpulist_ranges(), "kt_cpulist_format prints runs as ranges, in order");
    TEST(t_set_basics(), "kt_cpuset: add, has, count, union, format");
    TEST(t_set_masks(), "kt_cpuset_add_mask: cpu_set_t and CPU_ALLOC masks");
    TEST(t_subset_of(), "subset_of: passes, fails naming the CPUs outside");
    TEST(t_disjoint_from(), "disjoint_from: passes, fails naming the shared CPUs");
    TEST(t_contains(), "contains: passes, fails naming the missing CPUs");
    TEST(t_counts(), "count_at_most, count_at_least with their messages");
    TEST(t_empty(), "empty sets print as none and behave as the empty set");
    TEST(t_large_cpus(), "CPUs up to 8191, and lists too long to keep");
    TEST(t_caller_errors(), "refused CPUs and NULL sets are caller errors");
    TEST(t_op_names(), "operation names");
    TEST(t_sink_passes(), "a sink that wants passes sees them described");
    return test_done();
}
