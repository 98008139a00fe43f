/*
 * A small TAP harness for ktstr's own tests, shaped like git's
 * t/unit-tests/test-lib.h.
 *
 * It deliberately shares no code with the verdict and runner it tests, so a
 * bug there cannot hide itself. Each TEST() is one TAP point; a failing
 * check prints what it compared to stderr (plain prove shows stderr) and
 * fails the point. test_done() prints the plan and returns the exit status.
 *
 *   static void t_eq_message(void) { check_str(msg, "x: expected 1, was 0"); }
 *   int main(void) { TEST(t_eq_message(), "eq failure message"); return test_done(); }
 *
 * Names: a test writes TEST() and check*() and calls test_skip(),
 * test_msg() and test_done(); everything named test__* is the harness's
 * own. Test functions are t_*; a test's helper that runs several checks
 * is expect_*, never check_*.
 */
#ifndef KT_TESTS_UNIT_H
#define KT_TESTS_UNIT_H

#include <stdbool.h>
#include <stdint.h>

/* Runs `call` as one TAP point described by the printf-style arguments. */
#define TEST(call, ...)                                    \
    do {                                                   \
        if (test__begin(__VA_ARGS__)) {                    \
            call;                                          \
            test__end();                                   \
        }                                                  \
    } while (0)

/* Each check returns 1 when it holds and 0 (failing the point) when not. */
#define check(x) test__check(!!(x), #x, __FILE__, __LINE__)

/* check_int(a, op, b), check_uint, check_dbl: the comparison (a) op (b)
 * on intmax_t, uintmax_t or double, evaluated here with each operand
 * evaluated once (operands must not run checks themselves). op is pasted
 * in as a token and must be one of == != < > <= >=: anything else does
 * not compile. Its text only goes into the message. NaN compares
 * unordered, as in C: only != holds. */
#define check_int(a, op, b)                                                  \
    (test__tmp[0].i = (intmax_t)(a), test__tmp[1].i = (intmax_t)(b),         \
     test__check_int(TEST__CMP(test__tmp[0].i, op, test__tmp[1].i),          \
                     test__tmp[0].i, test__tmp[1].i, #a " " #op " " #b,      \
                     __FILE__, __LINE__))
#define check_uint(a, op, b)                                                 \
    (test__tmp[0].u = (uintmax_t)(a), test__tmp[1].u = (uintmax_t)(b),       \
     test__check_uint(TEST__CMP(test__tmp[0].u, op, test__tmp[1].u),         \
                      test__tmp[0].u, test__tmp[1].u, #a " " #op " " #b,     \
                      __FILE__, __LINE__))
#define check_dbl(a, op, b)                                                  \
    (test__tmp[0].d = (double)(a), test__tmp[1].d = (double)(b),             \
     test__check_dbl(TEST__CMP(test__tmp[0].d, op, test__tmp[1].d),         \
                     test__tmp[0].d, test__tmp[1].d, #a " " #op " " #b,      \
                     __FILE__, __LINE__))
#define check_str(a, b) test__check_str((a), (b), #a, #b, __FILE__, __LINE__)
/* Substring check: `hay` contains `needle`. */
#define check_contains(hay, needle) \
    test__check_contains((hay), (needle), #hay, __FILE__, __LINE__)

/* Marks the current point as skipped with a reason (printf-style). */
void test_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints a "# ..." diagnostic line on stdout (seen under prove -v). */
void test_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints the plan; returns 0 when every point passed, 1 otherwise. */
int test_done(void);

/* ---- the harness's own ------------------------------------------------ */

/* x op y, which compiles only for a comparison: its value must be an int
 * (no arithmetic, bitwise or assignment operator) and it must tell 1 from
 * 2 (no && or ||). */
#define TEST__CMP(x, op, y)                                                  \
    ((void)sizeof(char[((1 op 2) != (2 op 1) || (1 op 1) != (1 op 2)) ? 1 : -1]), \
     _Generic((x) op (y), int: (x) op (y)))

/* Where check_int and friends keep their operands while they compare. */
union test__tmp {
    intmax_t i;
    uintmax_t u;
    double d;
};
extern _Thread_local union test__tmp test__tmp[2];

/* Starts a point; false when it should not run (never, today). */
bool test__begin(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Ends the point started by test__begin and prints its TAP line. */
void test__end(void);

int test__check(int ok, const char *expr, const char *file, int line);
int test__check_int(int ok, intmax_t a, intmax_t b, const char *expr,
                    const char *file, int line);
int test__check_uint(int ok, uintmax_t a, uintmax_t b, const char *expr,
                     const char *file, int line);
int test__check_dbl(int ok, double a, double b, const char *expr,
                    const char *file, int line);
int test__check_str(const char *a, const char *b, const char *ea,
                    const char *eb, const char *file, int line);
int test__check_contains(const char *hay, const char *needle, const char *ehay,
                         const char *file, int line);

#endif
