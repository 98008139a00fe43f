/* kt__pidstat_parse: the one /proc/<pid>/stat parser (hostile comms,
 * buffers without a NUL, the fields by position, errors naming what is
 * missing) on fixtures and on this process. */
#include "unit.h"

#include "base/file.h"
#include "base/pidstat.h"

#include <errno.h>
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
    TEST(t_self(), "this process: pid, ppid, state, threads");
    return test_done();
}
