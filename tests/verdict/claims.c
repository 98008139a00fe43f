/* Claims: every operation passing and failing, with its exact record. */
#include "harness/unit.h"

#include <ktstr/verdict.h>

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

/* The last failure recorded, or a record of empty strings. */
static const kt_claim_record *last(const kt_verdict *v)
{
    static const kt_claim_record none = { "", "", "", "", "(none)", "", 0, true };
    size_t n = kt_verdict_failure_count(v);

    return n ? kt_verdict_failure(v, n - 1) : &none;
}

static void t_eq(void)
{
    kt_verdict v;
    int x = 3;
    int line;

    kt_verdict_init(&v);
    check(CLAIM(&v, x, eq, 3));
    check_uint(kt_verdict_failure_count(&v), ==, 0);
    line = __LINE__ + 1;
    check(!CLAIM(&v, x, eq, 4));
    check_str(last(&v)->message, "x: expected 4, was 3");
    check_str(last(&v)->label, "x");
    check_str(last(&v)->op, "eq");
    check_str(last(&v)->expected, "4");
    check_str(last(&v)->actual, "3");
    check_str(last(&v)->file, __FILE__);
    check_int(last(&v)->line, ==, line);
    check(!last(&v)->passed);
    check_uint(kt_verdict_claims(&v), ==, 2);
    check_uint(kt_verdict_failed(&v), ==, 1);
    check(!kt_verdict_passed(&v));
    check_int(kt_verdict_outcome(&v), ==, KT_OUTCOME_FAIL);
    kt_verdict_fini(&v);
}

static const struct {
    kt_op op;
    double value, bound;
    bool holds;
    const char *message, *expected;
} cmp_table[] = {
    { KT_OP_EQ, 1.5, 1.5, true, NULL, NULL },
    { KT_OP_EQ, 1.5, 2, false, "v: expected 2, was 1.5", "2" },
    { KT_OP_NE, 1.5, 2, true, NULL, NULL },
    { KT_OP_NE, 2, 2, false, "v: expected != 2, was 2", "2" },
    { KT_OP_LT, 1, 2, true, NULL, NULL },
    { KT_OP_LT, 2, 2, false, "v: expected less than 2, was 2", "2" },
    { KT_OP_GT, 3, 2, true, NULL, NULL },
    { KT_OP_GT, 2, 2, false, "v: expected greater than 2, was 2", "2" },
    { KT_OP_AT_LEAST, 2, 2, true, NULL, NULL },
    { KT_OP_AT_LEAST, 0, 1, false, "v: expected at least 1, was 0", "1" },
    { KT_OP_AT_MOST, 2, 2, true, NULL, NULL },
    { KT_OP_AT_MOST, 1012, 500, false, "v: expected at most 500, was 1012", "500" },
    { KT_OP_EQ, NAN, NAN, false, "v: expected nan, was nan", "nan" },
    { KT_OP_NE, NAN, 1, false, "v: expected != 1, was nan", "1" },
    { KT_OP_NE, 1, NAN, false, "v: expected != nan, was 1", "nan" },
    { KT_OP_LT, NAN, INFINITY, false, "v: expected less than inf, was nan", "inf" },
    { KT_OP_GT, NAN, -INFINITY, false, "v: expected greater than -inf, was nan", "-inf" },
    { KT_OP_AT_LEAST, NAN, 0, false, "v: expected at least 0, was nan", "0" },
    { KT_OP_AT_MOST, NAN, 0, false, "v: expected at most 0, was nan", "0" },
    { KT_OP_AT_MOST, INFINITY, 1e300, false, "v: expected at most 1e+300, was inf", "1e+300" },
    { KT_OP_AT_LEAST, INFINITY, 1e300, true, NULL, NULL },
    { KT_OP_EQ, -0.0, 0.0, true, NULL, NULL },
    { KT_OP_LT, -0.0, 0.0, false, "v: expected less than 0, was -0", "0" },
    { KT_OP_GT, 1e-05, 1e21, false, "v: expected greater than 1e+21, was 1e-05", "1e+21" },
    { KT_OP_EQ, 0.30000000000000004, 0.3, false,
      "v: expected 0.3, was 0.30000000000000004", "0.3" },
};

/* Each row through both paths: the inline one CLAIM uses and the
 * out-of-line function (which a sink that wants passes forces). */
static void t_cmp_table(void)
{
    size_t i;

    for (i = 0; i < sizeof(cmp_table) / sizeof(cmp_table[0]); i++) {
        kt_verdict v;
        double value = cmp_table[i].value;
        bool a, b;

        kt_verdict_init(&v);
        switch (cmp_table[i].op) {
        case KT_OP_EQ: a = CLAIM_AS(&v, "v", value, eq, cmp_table[i].bound); break;
        case KT_OP_NE: a = CLAIM_AS(&v, "v", value, ne, cmp_table[i].bound); break;
        case KT_OP_LT: a = CLAIM_AS(&v, "v", value, lt, cmp_table[i].bound); break;
        case KT_OP_GT: a = CLAIM_AS(&v, "v", value, gt, cmp_table[i].bound); break;
        case KT_OP_AT_LEAST: a = CLAIM_AS(&v, "v", value, at_least, cmp_table[i].bound); break;
        case KT_OP_AT_MOST: a = CLAIM_AS(&v, "v", value, at_most, cmp_table[i].bound); break;
        default: a = !cmp_table[i].holds; break;
        }
        b = kt_claim_cmp(&v, cmp_table[i].op, "v", kt_num_f64(value),
                         kt_num_f64(cmp_table[i].bound), "f.c", 7);
        if (!check(a == cmp_table[i].holds) || !check(b == cmp_table[i].holds))
            test_msg("row %zu", i);
        check_uint(kt_verdict_claims(&v), ==, 2);
        if (cmp_table[i].holds) {
            check_uint(kt_verdict_failure_count(&v), ==, 0);
        } else {
            check_uint(kt_verdict_failure_count(&v), ==, 2);
            check_str(kt_verdict_failure(&v, 0)->message, cmp_table[i].message);
            check_str(last(&v)->message, cmp_table[i].message);
            check_str(last(&v)->expected, cmp_table[i].expected);
            check_str(last(&v)->op, kt_op_name(cmp_table[i].op));
            check_str(last(&v)->file, "f.c");
            check_int(last(&v)->line, ==, 7);
        }
        kt_verdict_fini(&v);
    }
}

static void t_op_names(void)
{
    check_str(kt_op_name(KT_OP_EQ), "eq");
    check_str(kt_op_name(KT_OP_NE), "ne");
    check_str(kt_op_name(KT_OP_LT), "lt");
    check_str(kt_op_name(KT_OP_GT), "gt");
    check_str(kt_op_name(KT_OP_AT_LEAST), "at_least");
    check_str(kt_op_name(KT_OP_AT_MOST), "at_most");
    check_str(kt_op_name(KT_OP_BETWEEN), "between");
    check_str(kt_op_name(KT_OP_NEAR), "near");
    check_str(kt_op_name(KT_OP_IS_FINITE), "is_finite");
    check_str(kt_op_name((kt_op)99), "?");
}

static void t_integer_limits(void)
{
    kt_verdict v;
    uint64_t umax = UINT64_MAX;
    int64_t imin = INT64_MIN, imax = INT64_MAX;
    uint32_t u32 = 0xffffffffu;

    kt_verdict_init(&v);
    check(CLAIM(&v, umax, eq, UINT64_MAX));
    check(CLAIM(&v, umax, gt, UINT64_MAX - 1));
    check(CLAIM(&v, imin, lt, imax));
    check(CLAIM(&v, imin, lt, 0u));
    check(CLAIM(&v, umax, gt, -1));
    check(CLAIM(&v, u32, ne, -1));
    check_uint(kt_verdict_failed(&v), ==, 0);

    check(!CLAIM(&v, u32, eq, -1));
    check_str(last(&v)->message, "u32: expected -1, was 4294967295");
    check(!CLAIM(&v, umax, lt, UINT64_MAX));
    check_str(last(&v)->message,
              "umax: expected less than 18446744073709551615, was 18446744073709551615");
    check(!CLAIM(&v, imin, gt, umax));
    check_str(last(&v)->message,
              "imin: expected greater than 18446744073709551615, was -9223372036854775808");
    check(!CLAIM(&v, umax, at_most, imax));
    check_str(last(&v)->message,
              "umax: expected at most 9223372036854775807, was 18446744073709551615");
    check_uint(kt_verdict_failed(&v), ==, 4);
    check_uint(kt_verdict_claims(&v), ==, 10);
    kt_verdict_fini(&v);
}

static void t_mixed(void)
{
    kt_verdict v;
    uint64_t umax = UINT64_MAX, big = 9007199254740993ull;
    int64_t neg = -9007199254740993ll;
    int three = 3;

    kt_verdict_init(&v);
    check(CLAIM(&v, umax, lt, 18446744073709551615.0)); /* that double is 2^64 */
    check(!CLAIM(&v, umax, eq, 18446744073709551615.0));
    check_str(last(&v)->message,
              "umax: expected 1.8446744073709552e+19, was 18446744073709551615");
    check(CLAIM(&v, big, gt, 9007199254740992.0));
    check(!CLAIM(&v, big, eq, 9007199254740992.0));
    check_str(last(&v)->message, "big: expected 9007199254740992, was 9007199254740993");
    check(CLAIM(&v, neg, lt, -9007199254740992.0));
    check(CLAIM(&v, three, at_least, 2.5));
    check(!CLAIM(&v, three, at_least, 3.0000000000000004));
    check_str(last(&v)->message, "three: expected at least 3.0000000000000004, was 3");
    check(CLAIM(&v, 0.5, lt, 1));
    check(!CLAIM(&v, 0.5, gt, 1u));
    check_str(last(&v)->message, "0.5: expected greater than 1, was 0.5");
    check(CLAIM(&v, three, between, 2.5, 3.5));
    check(!CLAIM(&v, big, between, 0.0, 9007199254740992.0));
    check_str(last(&v)->message,
              "big: expected in [0, 9007199254740992], was 9007199254740993");
    check_uint(kt_verdict_failed(&v), ==, 5);
    kt_verdict_fini(&v);
}

static void t_between(void)
{
    kt_verdict v;
    double share = 0.5, low = 0.2;

    kt_verdict_init(&v);
    check(CLAIM(&v, share, between, 0.45, 0.55));
    check(CLAIM(&v, share, between, 0.5, 0.5)); /* inclusive */
    check(!CLAIM(&v, low, between, 0.45, 0.55));
    check_str(last(&v)->message, "low: expected in [0.45, 0.55], was 0.2");
    check_str(last(&v)->op, "between");
    check_str(last(&v)->expected, "[0.45, 0.55]");
    check_str(last(&v)->actual, "0.2");
    check(!CLAIM(&v, 0.6, between, 0.45, 0.55));
    check(!CLAIM(&v, NAN, between, -INFINITY, INFINITY));
    check_str(last(&v)->message, "NAN: expected in [-inf, inf], was nan");
    check(!CLAIM(&v, share, between, NAN, 1));
    check(!CLAIM(&v, 5, between, 1u, 4));
    check_str(last(&v)->message, "5: expected in [1, 4], was 5");
    check_uint(kt_verdict_failed(&v), ==, 5);
    kt_verdict_fini(&v);
}

static void t_near(void)
{
    kt_verdict v;
    double ratio = 3.2;
    uint64_t n = 100;

    kt_verdict_init(&v);
    check(CLAIM(&v, ratio, near, 3.06, 0.3));
    check(CLAIM(&v, n, near, 101, 1));
    check(CLAIM(&v, ratio, near, 3.2, 0));
    check(CLAIM(&v, ratio, near, 3, INFINITY));
    check(!CLAIM(&v, ratio, near, 2, 1));
    check_str(last(&v)->message, "ratio: expected near 2 (+/-1), was 3.2");
    check_str(last(&v)->op, "near");
    check_str(last(&v)->expected, "2 (+/-1)");
    check(!CLAIM(&v, n, near, 3.06, 0.3));
    check_str(last(&v)->message, "n: expected near 3.06 (+/-0.3), was 100");
    check(!CLAIM(&v, NAN, near, 0, 1e300));
    check(!CLAIM(&v, INFINITY, near, INFINITY, 1));
    check_uint(kt_verdict_failed(&v), ==, 4);
    kt_verdict_fini(&v);
}

static void t_is_finite(void)
{
    kt_verdict v;
    double ipc = 1.5, bad = NAN;
    int i = 7;

    kt_verdict_init(&v);
    check(CLAIM(&v, ipc, is_finite));
    check(CLAIM(&v, i, is_finite));
    check(CLAIM(&v, DBL_MAX, is_finite));
    check(!CLAIM(&v, bad, is_finite));
    check_str(last(&v)->message, "bad: expected finite, was nan");
    check_str(last(&v)->op, "is_finite");
    check_str(last(&v)->expected, "finite");
    check_str(last(&v)->actual, "nan");
    check(!CLAIM(&v, INFINITY, is_finite));
    check_str(last(&v)->message, "INFINITY: expected finite, was inf");
    check(!CLAIM(&v, -INFINITY, is_finite));
    check_str(last(&v)->message, "-INFINITY: expected finite, was -inf");
    check_uint(kt_verdict_failed(&v), ==, 3);
    kt_verdict_fini(&v);
}

static void t_caller_errors(void)
{
    kt_verdict v;
    double x = 0.5;

    kt_verdict_init(&v);
    check(!CLAIM(&v, x, between, 0.55, 0.45));
    check_str(last(&v)->message, "x: caller error: interval inverted (lo=0.55 > hi=0.45)");
    check_str(last(&v)->op, "between");
    check_str(last(&v)->expected, "[0.55, 0.45]");
    check(!CLAIM(&v, x, between, 2u, 1));
    check_str(last(&v)->message, "x: caller error: interval inverted (lo=2 > hi=1)");
    check(!CLAIM(&v, x, near, 0.5, -0.1));
    check_str(last(&v)->message, "x: caller error: tolerance negative (=-0.1)");
    check_str(last(&v)->expected, "0.5 (+/--0.1)");
    check(!CLAIM(&v, x, near, 0.5, NAN));
    check_str(last(&v)->message, "x: caller error: tolerance negative (=nan)");
    check_uint(kt_verdict_failed(&v), ==, 4);
    check(!kt_verdict_passed(&v));
    kt_verdict_fini(&v);
}

static void t_evaluate_once(void)
{
    kt_verdict v;
    int i = 0, j = 10;
    kt_verdict *pv = &v;
    int vcount = 0;

    kt_verdict_init(&v);
    check(CLAIM(&v, i++, eq, 0));
    check_int(i, ==, 1);
    check(!CLAIM(&v, i++, eq, 0));
    check_int(i, ==, 2);
    check_str(last(&v)->label, "i++");
    check(CLAIM(&v, i++, between, 0, j++));
    check_int(i, ==, 3);
    check_int(j, ==, 11);
    check(CLAIM(&v, i++, near, j++, 100));
    check(CLAIM(&v, i++, is_finite));
    check_int(i, ==, 5);
    check_int(j, ==, 12);
    check(CLAIM((vcount++, pv), i, eq, 5));
    check(!CLAIM((vcount++, pv), i, eq, 6));
    check_int(vcount, ==, 2);
    kt_verdict_fini(&v);
}

struct sample {
    uint64_t time_running_ns;
};

static void t_label_is_source_text(void)
{
    kt_verdict v;
    struct sample s = { 5 };
    double arr[2] = { 1, 2 };

    kt_verdict_init(&v);
    CLAIM(&v, s.time_running_ns, eq, 6);
    check_str(last(&v)->label, "s.time_running_ns");
    CLAIM(&v, arr[0] + arr[1], lt, 1);
    check_str(last(&v)->label, "arr[0] + arr[1]");
    check_str(last(&v)->message, "arr[0] + arr[1]: expected less than 1, was 3");
    CLAIM_AS(&v, "vcpu3.ipc", arr[0], at_least, 2);
    check_str(last(&v)->label, "vcpu3.ipc");
    check_str(last(&v)->message, "vcpu3.ipc: expected at least 2, was 1");
    kt_verdict_fini(&v);
}

static void t_long_label_cut(void)
{
    kt_verdict v;
    static char label[100000];
    size_t len;

    memset(label, 'a', sizeof(label) - 1);
    kt_verdict_init(&v);
    check(!CLAIM_AS(&v, label, 1, eq, 2));
    len = strlen(last(&v)->label);
    check_uint(len, <=, KT_VERDICT_STR_MAX);
    check_uint(len, >, KT_VERDICT_STR_MAX - 20);
    check_contains(last(&v)->label, "...[cut]");
    check_contains(last(&v)->message, "...[cut]: expected 2, was 1");
    kt_verdict_fini(&v);
}

static void t_claim_ok(void)
{
    kt_verdict v;
    const kt_claim_record *r;

    kt_verdict_init(&v);
    check(CLAIM_OK(&v, "ops[0]", NULL));
    check_uint(kt_verdict_claims(&v), ==, 1);
    check_uint(kt_verdict_failed(&v), ==, 0);
    check(!CLAIM_OK(&v, "ops[1]", "cgroup_remove g1: rmdir /x: No such file or directory (ENOENT)"));
    check_uint(kt_verdict_failed(&v), ==, 1);
    r = kt_verdict_failure(&v, 0);
    check_str(r->label, "ops[1]");
    check_str(r->op, "ok");
    check_str(r->expected, "ok");
    check_str(r->actual, "cgroup_remove g1: rmdir /x: No such file or directory (ENOENT)");
    check_str(r->message, "ops[1]: cgroup_remove g1: rmdir /x: No such file or directory (ENOENT)");
    kt_verdict_fini(&v);
}

int main(void)
{
    TEST(t_eq(), "eq passes and fails with the full record");
    TEST(t_cmp_table(), "comparison operations, messages, NaN and inf");
    TEST(t_op_names(), "operation names");
    TEST(t_claim_ok(), "CLAIM_OK: passes on NULL, fails with the error as actual and message");
    TEST(t_integer_limits(), "integers at the u64/i64 limits");
    TEST(t_mixed(), "integers against doubles, exactly");
    TEST(t_between(), "between is inclusive");
    TEST(t_near(), "near is |v - t| <= tol");
    TEST(t_is_finite(), "is_finite fails on NaN and +/-inf");
    TEST(t_caller_errors(), "inverted interval and bad tolerance fail the claim");
    TEST(t_evaluate_once(), "the value and the verdict are evaluated once");
    TEST(t_label_is_source_text(), "the label is the expression's source text");
    TEST(t_long_label_cut(), "a huge label is cut and marked");
    return test_done();
}
