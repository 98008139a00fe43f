/* kt__pidstat_parse: the one /proc/<pid>/stat parser (hostile comms,
 * buffers without a NUL, the fields by position, errors naming what is
 * missing) on fixtures and on this process. */
#include "harness/unit.h"

#include "base/file.h"
#include "base/pidstat.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void t_fixture(void)
{
    char buf[1024];
    kt__pidstat st;
    kt_err err = { 0 };
    ssize_t n = kt__read_file_buf("tests/fixtures/stat_paren.txt", buf, sizeof(buf), &err);

    if (!check_int(n, >, 0)) {
        test_msg("%s", err.msg);
        return;
    }
    /* comm "a) b (c) S" holds ") " and "(": it ends at the LAST ')' */
    check_int(kt__pidstat_parse(buf, (size_t)n, &st, &err), ==, 0);
    check_int(st.pid, ==, 4242);
    check_str(st.comm, "a) b (c) S");
    check_int(st.state, ==, 'S');
    check_int(st.ppid, ==, 1);
    check_uint(st.utime_ticks, ==, 150);
    check_uint(st.stime_ticks, ==, 30);
    check_int(st.num_threads, ==, 3);
    check_int(st.processor, ==, 1);
}

static void t_errors(void)
{
    static const char line[] = "7 (x) R 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 "
                               "21 22 23 24 25 26 27 28 29 30 31 32 33 34 35 36\n";
    kt__pidstat st;
    kt_err err = { 0 };

    check_int(kt__pidstat_parse(line, sizeof(line) - 1, &st, &err), ==, 0);
    check_int(st.ppid, ==, 1);
    check_int(st.processor, ==, 36);
    /* n bounds the parse: the same line cut before field 39 (no NUL needed) */
    check_int(kt__pidstat_parse(line, sizeof(line) - 5, &st, &err), ==, -1);
    check_contains(err.msg, "stat (pid 7): field 39 missing");
    check_int(kt__pidstat_parse("12 (x R 1 2", 11, &st, &err), ==, -1);
    check_int(err.code, ==, EINVAL);
    check_contains(err.msg, "no \"(comm)\"");
    check_int(kt__pidstat_parse("12 (x) R 1 2 3\n", 15, &st, &err), ==, -1);
    check_contains(err.msg, "field 7 missing");
    check_int(kt__pidstat_parse("12 (x)", 6, &st, &err), ==, -1);
    check_contains(err.msg, "no state");
    check_int(kt__pidstat_parse(" (x) R 1", 8, &st, &err), ==, -1);
    check_contains(err.msg, "no pid");
    check_int(kt__pidstat_parse("12 (x) R 1 two 3", 16, &st, &err), ==, -1);
    check_contains(err.msg, "field 5 missing or not a number");
}

/* Numbers past an int are errors, never wrapped into another pid, ppid
 * or CPU; text between the pid and the comm is not a pid. */
static void t_ranges(void)
{
    static const char tail[] = " 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 "
                               "21 22 23 24 25 26 27 28 29 30 31 32 33 34 35 36\n";
    char line[256];
    kt__pidstat st;
    kt_err err = { 0 };

    snprintf(line, sizeof(line), "2147483647 (x) R 1%s", tail);
    check_int(kt__pidstat_parse(line, strlen(line), &st, &err), ==, 0);
    check_int(st.pid, ==, 2147483647);
    snprintf(line, sizeof(line), "2147483648 (x) R 1%s", tail);
    check_int(kt__pidstat_parse(line, strlen(line), &st, &err), ==, -1);
    check_contains(err.msg, "stat: pid above 2147483647");
    snprintf(line, sizeof(line), "214748364800000 (x) R 1%s", tail);
    check_int(kt__pidstat_parse(line, strlen(line), &st, &err), ==, -1);
    check_contains(err.msg, "pid above");
    snprintf(line, sizeof(line), "12abc (x) R 1%s", tail);
    check_int(kt__pidstat_parse(line, strlen(line), &st, &err), ==, -1);
    check_contains(err.msg, "stat: no pid before the comm");
    snprintf(line, sizeof(line), "12 (x) R 4294967297%s", tail);
    check_int(kt__pidstat_parse(line, strlen(line), &st, &err), ==, -1);
    check_contains(err.msg, "stat (pid 12): field 4 out of range (4294967297)");
    snprintf(line, sizeof(line), "12 (x) R -2147483648%s", tail);
    check_int(kt__pidstat_parse(line, strlen(line), &st, &err), ==, 0);
    check_int(st.ppid, ==, INT_MIN);
    snprintf(line, sizeof(line), "12 (x) R 1%.*s 2147483648\n", (int)strlen(tail) - 4, tail);
    check_int(kt__pidstat_parse(line, strlen(line), &st, &err), ==, -1);
    check_contains(err.msg, "field 39 out of range");
}

static void t_self(void)
{
    char buf[4096];
    kt__pidstat st;
    kt_err err = { 0 };
    ssize_t n = kt__read_file_buf("/proc/self/stat", buf, sizeof(buf), &err);

    if (!check_int(n, >, 0))
        return;
    check_int(kt__pidstat_parse(buf, (size_t)n, &st, &err), ==, 0);
    check_int(st.pid, ==, (int)getpid());
    check_int(st.ppid, ==, (int)getppid());
    check_int(st.state, ==, 'R');
    check_int(st.num_threads, ==, 1);
    check_int(st.processor, >=, 0);
}

int main(void)
{
    TEST(t_fixture(), "fixture: comm with spaces and parentheses, every field kept");
    TEST(t_errors(), "errors name what is missing; n bounds the parse");
    TEST(t_ranges(), "a pid or an int field past int's range is an error, not wrapped");
    TEST(t_self(), "this process: pid, ppid, state, threads");
    return test_done();
}
