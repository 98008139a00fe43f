/*
 * A small TAP harness for ktstr's own tests.
 *
 * It deliberately shares no code with the verdict and runner it tests, so a
 * bug there cannot hide itself. Each TEST() is one TAP point; a failing
 * check prints what it compared to stderr (plain prove shows stderr) and
 * fails the point. test_done() prints the plan and returns the exit status.
 *
 *   static void t_eq_message(void) { check_str(msg, "x: expected 1, was 0"); }
 *   int main(void) { TEST(t_eq_message(), "eq failure message"); return test_done(); }
 */
#ifndef KT_TESTS_UNIT_H
#define KT_TESTS_UNIT_H

#include <stdbool.h>
#include <stdint.h>

/* Runs `call` as one TAP point described by the printf-style arguments. */
#define TEST(call, ...)                                    \
    do {                                                   \
        if (unit_begin(__VA_ARGS__)) {                     \
            call;                                          \
            unit_end();                                    \
        }                                                  \
    } while (0)

#define check(x) unit_check(!!(x), #x, __FILE__, __LINE__)
/* Each operand is evaluated once; op is one of == != < > <= >=. */
#define check_int(a, op, b) \
    unit_check_int((intmax_t)(a), #op, (intmax_t)(b), #a " " #op " " #b, __FILE__, __LINE__)
#define check_uint(a, op, b) \
    unit_check_uint((uintmax_t)(a), #op, (uintmax_t)(b), #a " " #op " " #b, __FILE__, __LINE__)
#define check_dbl(a, op, b) \
    unit_check_dbl((double)(a), #op, (double)(b), #a " " #op " " #b, __FILE__, __LINE__)
#define check_str(a, b) unit_check_str((a), (b), #a, #b, __FILE__, __LINE__)
/* Substring check: `hay` contains `needle`. */
#define check_contains(hay, needle) \
    unit_check_contains((hay), (needle), #hay, __FILE__, __LINE__)

/* Starts a point; false when it should not run (never, today). */
bool unit_begin(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Ends the point started by unit_begin and prints its TAP line. */
void unit_end(void);
/* Marks the current point as skipped with a reason (printf-style). */
void test_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints a "# ..." diagnostic line on stdout (seen under prove -v). */
void test_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints the plan; returns 0 when every point passed, 1 otherwise. */
int test_done(void);

int unit_check(int ok, const char *expr, const char *file, int line);
int unit_check_int(intmax_t a, const char *op, intmax_t b, const char *expr,
                   const char *file, int line);
int unit_check_uint(uintmax_t a, const char *op, uintmax_t b, const char *expr,
                    const char *file, int line);
int unit_check_dbl(double a, const char *op, double b, const char *expr,
                   const char *file, int line);
int unit_check_str(const char *a, const char *b, const char *ea,
                   const char *eb, const char *file, int line);
int unit_check_contains(const char *hay, const char *needle, const char *ehay,
                        const char *file, int line);

#endif
