/* The harness of tests/unit.h. Its counters are the only globals in the
 * test programs: a test binary is one process running one list of points. */
#include "unit.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int points, failed_points;
static bool in_point, point_failed, point_skipped;
static char point_name[256], skip_reason[256];

bool unit_begin(const char *fmt, ...)
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

void unit_end(void)
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

int unit_check(int ok, const char *expr, const char *file, int line)
{
    return ok ? 1 : fail_at(file, line, expr);
}

/* The comparison named by op, from -1/0/1; -2 for an unknown op. */
static int holds(const char *op, int c)
{
    static const struct { const char *op; int lt, eq, gt; } ops[] = {
        { "==", 0, 1, 0 }, { "!=", 1, 0, 1 }, { "<", 1, 0, 0 },
        { ">", 0, 0, 1 },  { "<=", 1, 1, 0 }, { ">=", 0, 1, 1 },
    };

    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
        if (strcmp(ops[i].op, op) == 0)
            return c < 0 ? ops[i].lt : c > 0 ? ops[i].gt : ops[i].eq;
    return -2;
}

static int judged(int ok, const char *op, const char *expr, const char *file, int line)
{
    if (ok == -2) {
        fprintf(stderr, "unit: unknown comparison '%s' at %s:%d\n", op, file, line);
        abort();
    }
    if (ok)
        return 1;
    fail_at(file, line, expr);
    return 0;
}

int unit_check_int(intmax_t a, const char *op, intmax_t b, const char *expr,
                   const char *file, int line)
{
    if (judged(holds(op, (a > b) - (a < b)), op, expr, file, line))
        return 1;
    fprintf(stderr, "#    left: %" PRIdMAX "\n#   right: %" PRIdMAX "\n", a, b);
    return 0;
}

int unit_check_uint(uintmax_t a, const char *op, uintmax_t b, const char *expr,
                    const char *file, int line)
{
    if (judged(holds(op, (a > b) - (a < b)), op, expr, file, line))
        return 1;
    fprintf(stderr, "#    left: %" PRIuMAX "\n#   right: %" PRIuMAX "\n", a, b);
    return 0;
}

/* NaN compares unordered: only != holds. */
int unit_check_dbl(double a, const char *op, double b, const char *expr,
                   const char *file, int line)
{
    int ok = (a != a || b != b) ? (strcmp(op, "!=") == 0) : holds(op, (a > b) - (a < b));

    if (judged(ok, op, expr, file, line))
        return 1;
    fprintf(stderr, "#    left: %.17g\n#   right: %.17g\n", a, b);
    return 0;
}

int unit_check_str(const char *a, const char *b, const char *ea,
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

int unit_check_contains(const char *hay, const char *needle, const char *ehay,
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
