/* lib/base/file.h and the public kt_read_file and kt_read_long: whole
 * files (larger than one read), exact bounds, a file past its bound is an
 * error and never a cut text, the fd's offset untouched, numbers read or
 * refused, and errors that name the path. */
#include "harness/unit.h"

#include "base/file.h"
#include "ktstr/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BIG 10000          /* more than one 4 KiB chunk */

static char path[64];
static char content[BIG + 1];

/* A temporary file holding BIG bytes of a pattern. */
static int make_file(void)
{
    int fd;

    snprintf(path, sizeof(path), "/tmp/ktstr-base-file-XXXXXX");
    fd = mkstemp(path);
    if (fd < 0)
        return -1;
    for (int i = 0; i < BIG; i++)
        content[i] = (char)('a' + i % 26);
    content[BIG] = '\0';
    if (write(fd, content, BIG) != BIG) {
        close(fd);
        return -1;
    }
    return fd;
}

static void t_whole(void)
{
    kt__vec v = KT__VEC_INIT(char);
    kt_err err = { 0 };
    int fd = make_file();

    if (!check(fd >= 0))
        return;
    check_int(kt__read_file(path, BIG, &v, &err), ==, 0);          /* exactly max */
    check_uint(v.n, ==, BIG);
    check(v.v && memcmp(v.v, content, BIG) == 0 && ((char *)v.v)[BIG] == '\0');
    /* the fd variant reads from 0 and leaves the offset where it was */
    check_int(lseek(fd, 123, SEEK_SET), ==, 123);
    check_int(kt__read_fd(fd, "pattern", 1 << 20, &v, &err), ==, 0);
    check_uint(v.n, ==, BIG);
    check(memcmp(v.v, content, BIG) == 0);
    check_int(lseek(fd, 0, SEEK_CUR), ==, 123);
    /* reading again replaces what the vec held */
    check_int(kt__read_file("/proc/self/comm", 4096, &v, &err), ==, 0);
    check(v.n > 0 && v.n < 20);
    check_uint(strlen(v.v), ==, v.n);
    close(fd);
    unlink(path);
    kt__vec_free(&v);
}

static void t_bounds(void)
{
    kt__vec v = KT__VEC_INIT(char);
    kt__vec ints = KT__VEC_INIT(int);
    kt_err err = { 0 };
    int fd = make_file();

    if (!check(fd >= 0))
        return;
    check_int(kt__read_file(path, BIG - 1, &v, &err), ==, -1);
    check_int(err.code, ==, E2BIG);
    check_contains(err.msg, path);
    check_contains(err.msg, "larger than 9999 bytes");
    check_uint(v.n, ==, 0);                                       /* no cut text */
    check_int(kt__read_fd(fd, "kvm stats (fd 9)", 10, &v, &err), ==, -1);
    check_str(err.msg, "kvm stats (fd 9): larger than 10 bytes");
    check_int(kt__read_fd(fd, "ints", 100, &ints, &err), ==, -1);
    check_int(err.code, ==, EINVAL);
    check_contains(err.msg, "ints: read into an array of");
    /* an empty file reads as "" */
    check_int(ftruncate(fd, 0), ==, 0);
    check_int(kt__read_file(path, 0, &v, &err), ==, 0);
    check_uint(v.n, ==, 0);
    check_str(v.v, "");
    close(fd);
    unlink(path);
    kt__vec_free(&v);
}

static void t_errors(void)
{
    kt__vec v = KT__VEC_INIT(char);
    kt_err err = { 0 };
    char buf[8];
    int fd;

    check_int(kt__read_file("/nonexistent/ktstr", 100, &v, &err), ==, -1);
    check_int(err.code, ==, ENOENT);
    check_contains(err.msg, "/nonexistent/ktstr: open: ");
    check_int(kt__read_file("/", 100, &v, &err), ==, -1);         /* a directory */
    check_int(err.code, ==, EISDIR);
    check_contains(err.msg, "/: read: ");
    fd = open("/dev/null", O_WRONLY);
    if (check(fd >= 0)) {
        check_int(kt__read_fd(fd, "write-only fd", 100, &v, &err), ==, -1);
        check_int(err.code, ==, EBADF);
        close(fd);
    }
    check_int(kt__read_file_buf("/nonexistent/ktstr", buf, sizeof(buf), &err), ==, -1);
    check_str(buf, "");
    check_int(kt__read_file_buf("/proc/self/stat", buf, 0, &err), ==, -1);
    check_int(err.code, ==, EINVAL);
    kt__vec_free(&v);
}

static void t_buffer(void)
{
    char small[BIG], exact[BIG + 1], big[BIG + 100];
    kt_err err = { 0 };
    int fd = make_file();

    if (!check(fd >= 0))
        return;
    close(fd);
    memset(small, 'X', sizeof(small));
    check_int(kt__read_file_buf(path, small, sizeof(small), &err), ==, -1);
    check_int(err.code, ==, E2BIG);
    check_contains(err.msg, "larger than 9999 bytes");
    check_str(small, "");
    check_int(kt__read_file_buf(path, exact, sizeof(exact), &err), ==, BIG);
    check_str(exact, content);
    check_int(kt_read_file(path, big, sizeof(big), &err), ==, BIG);
    check_str(big, content);
    check_int(kt_read_file(path, small, sizeof(small), &err), ==, -1);
    check_contains(err.msg, path);
    check_int(kt_read_file("/nonexistent/ktstr", big, sizeof(big), &err), ==, -1);
    check_contains(err.msg, "/nonexistent/ktstr: open: No such file or directory");
    unlink(path);
}

static void t_proc(void)
{
    char buf[4096];
    kt_err err = { 0 };
    int n = kt_read_file("/proc/self/stat", buf, sizeof(buf), &err);

    if (!check_int(n, >, 0))
        return;
    check_uint(strlen(buf), ==, (size_t)n);
    check(buf[n - 1] == '\n');       /* the whole line */
    check_int(atoi(buf), ==, (int)getpid());
}

/* Writes text to the temporary file at path; 0 or -1. */
static int put(const char *text)
{
    FILE *f = fopen(path, "w");
    int ok = f && fputs(text, f) >= 0;

    return (f && fclose(f) == 0 && ok) ? 0 : -1;
}

static void t_long(void)
{
    kt_err err = { 0 };
    long x = 7;
    int fd = make_file();

    if (!check(fd >= 0))
        return;
    close(fd);
    if (check_int(put("950000\n"), ==, 0)) {
        check_int(kt_read_long(path, &x, &err), ==, 0);
        check_int(x, ==, 950000);
    }
    if (check_int(put("  -1 trailing\n"), ==, 0)) {
        check_int(kt_read_long(path, &x, &err), ==, 0);
        check_int(x, ==, -1);
    }
    x = 7;
    if (check_int(put("enabled\n"), ==, 0)) {
        check_int(kt_read_long(path, &x, &err), ==, -1);
        check_int(err.code, ==, EINVAL);
        check_contains(err.msg, ": not a number: \"enabled\"");
        check_contains(err.msg, path);
        check_int(x, ==, 7);                 /* untouched on failure */
    }
    if (check_int(put("99999999999999999999999\n"), ==, 0)) {
        check_int(kt_read_long(path, &x, &err), ==, -1);
        check_int(err.code, ==, ERANGE);
    }
    if (check_int(put(""), ==, 0))
        check_int(kt_read_long(path, &x, &err), ==, -1);
    check_int(kt_read_long("/nonexistent/ktstr", &x, &err), ==, -1);
    check_contains(err.msg, "/nonexistent/ktstr: open: No such file or directory");
    check_int(kt_read_long("/proc/sys/kernel/pid_max", &x, &err), ==, 0);
    check_int(x, >, 0);
    unlink(path);
}

int main(void)
{
    TEST(t_whole(), "whole files past one chunk, at exactly the bound; fd offset kept; reuse replaces");
    TEST(t_bounds(), "one byte past the bound is E2BIG, nothing kept; wrong element size; empty file");
    TEST(t_errors(), "open and read errors name the path");
    TEST(t_buffer(), "into a caller's buffer and the public kt_read_file: fits exactly or fails whole");
    TEST(t_proc(), "a /proc file reads whole");
    TEST(t_long(), "kt_read_long: a number, or a clear error (not a number, out of range, absent)");
    return test_done();
}
