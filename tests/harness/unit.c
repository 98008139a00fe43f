/* The harness of tests/harness/unit.h. Its counters (and the operands check_int
 * and friends hold while comparing) are the only globals in the test
 * programs: a test binary is one process running one list of points. */
#include "harness/unit.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

_Thread_local union test__tmp test__tmp[2];

static int points, failed_points;
static bool in_point, point_failed, point_skipped;
static char point_name[256], skip_reason[256];

bool test__begin(const char *fmt, ...)
{
    va_list ap;

    if (in_point) {
        fprintf(stderr, "unit: TEST() nested inside \"%s\"\n", point_name);
        abort();
    }
    va_start(ap, fmt);
    vsnprintf(point_name, sizeof(point_name), fmt, ap);
    va_end(ap);
    in_point = true;
    point_failed = point_skipped = false;
    fflush(stdout);
    return true;
}

void test__end(void)
{
    points++;
    in_point = false;
    if (point_skipped && !point_failed) {
        printf("ok %d - %s # SKIP %s\n", points, point_name, skip_reason);
    } else if (point_failed) {
        failed_points++;
        printf("not ok %d - %s\n", points, point_name);
    } else {
        printf("ok %d - %s\n", points, point_name);
    }
    fflush(stdout);
}

void test_skip(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(skip_reason, sizeof(skip_reason), fmt, ap);
    va_end(ap);
    point_skipped = true;
}

void test_msg(const char *fmt, ...)
{
    va_list ap;

    fputs("# ", stdout);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    fputc('\n', stdout);
}

int test_done(void)
{
    if (in_point) {
        fprintf(stderr, "unit: test_done() inside \"%s\"\n", point_name);
        return 1;
    }
    printf("1..%d\n", points);
    fflush(stdout);
    return failed_points ? 1 : 0;
}

static int fail_at(const char *file, int line, const char *expr)
{
    if (!in_point) {
        fprintf(stderr, "unit: check outside TEST() at %s:%d\n", file, line);
        abort();
    }
    point_failed = true;
    fprintf(stderr, "# %s: check \"%s\" failed at %s:%d\n", point_name, expr,
            file, line);
    return 0;
}

int test__check(int ok, const char *expr, const char *file, int line)
{
    return ok ? 1 : fail_at(file, line, expr);
}

int test__check_int(int ok, intmax_t a, intmax_t b, const char *expr,
                    const char *file, int line)
{
    if (ok)
        return 1;
    fail_at(file, line, expr);
    fprintf(stderr, "#    left: %" PRIdMAX "\n#   right: %" PRIdMAX "\n", a, b);
    return 0;
}

int test__check_uint(int ok, uintmax_t a, uintmax_t b, const char *expr,
                     const char *file, int line)
{
    if (ok)
        return 1;
    fail_at(file, line, expr);
    fprintf(stderr, "#    left: %" PRIuMAX "\n#   right: %" PRIuMAX "\n", a, b);
    return 0;
}

int test__check_dbl(int ok, double a, double b, const char *expr,
                    const char *file, int line)
{
    if (ok)
        return 1;
    fail_at(file, line, expr);
    fprintf(stderr, "#    left: %.17g\n#   right: %.17g\n", a, b);
    return 0;
}

int test__check_str(const char *a, const char *b, const char *ea,
                    const char *eb, const char *file, int line)
{
    char expr[512];

    if (a && b && strcmp(a, b) == 0)
        return 1;
    snprintf(expr, sizeof(expr), "%s == %s", ea, eb);
    fail_at(file, line, expr);
    fprintf(stderr, "#    left: \"%s\"\n#   right: \"%s\"\n", a ? a : "(null)",
            b ? b : "(null)");
    return 0;
}

int test__check_contains(const char *hay, const char *needle, const char *ehay,
                         const char *file, int line)
{
    char expr[512];

    if (hay && needle && strstr(hay, needle))
        return 1;
    snprintf(expr, sizeof(expr), "%s contains \"%s\"", ehay,
             needle ? needle : "(null)");
    fail_at(file, line, expr);
    fprintf(stderr, "#    text: \"%s\"\n", hay ? hay : "(null)");
    return 0;
}
