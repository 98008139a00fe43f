/* Small files read whole, bounded and EINTR-safe: see file.h. */
#include "base/file.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

/* Bytes asked for per pread when growing a kt__vec: most /proc files fit
 * in one. */
#define CHUNK 4096

/* Reads up to room bytes at offset off into dst, retrying EINTR: the
 * count (0 at end of file), or -1 with err. */
static ssize_t read_at(int fd, const char *what, char *dst, size_t room, size_t off,
                       kt_err *err)
{
    for (;;) {
        ssize_t got = pread(fd, dst, room, (off_t)off);

        if (got >= 0)
            return got;
        if (errno != EINTR)
            return kt_err_sys(err, errno, "%s: read", what);
    }
}

/* Reads fd into dst[0..room) and one byte more to tell "fits" from "larger":
 * the length, or -1 with err (E2BIG when larger than room). */
static ssize_t read_bounded(int fd, const char *what, char *dst, size_t room,
                            kt_err *err)
{
    size_t len = 0;
    char extra;

    for (;;) {
        ssize_t got = room > len ? read_at(fd, what, dst + len, room - len, len, err)
                                 : read_at(fd, what, &extra, 1, len, err);

        if (got < 0)
            return -1;
        if (got == 0)
            return (ssize_t)len;
        if (len == room)
            return kt_err_set(err, E2BIG, "%s: larger than %zu bytes", what, room);
        len += (size_t)got;
    }
}

int kt__read_fd(int fd, const char *what, size_t max, kt__vec *out, kt_err *err)
{
    if (out->elem != 1)
        return kt_err_set(err, EINVAL, "%s: read into an array of %zu-byte elements",
                          what, out->elem);
    out->n = 0;
    if (max > SSIZE_MAX - 1)
        max = SSIZE_MAX - 1;
    for (;;) {
        size_t want = max - out->n < CHUNK ? max - out->n : CHUNK, room;
        ssize_t got;

        /* room for want bytes, the probe byte past max, and the NUL */
        if (kt__vec_reserve(out, want + 2, err, what) < 0)
            break;
        room = out->cap - out->n - 1;
        if (room > max + 1 - out->n)
            room = max + 1 - out->n;
        got = read_at(fd, what, (char *)out->v + out->n, room, out->n, err);
        if (got < 0)
            break;
        if (got == 0) {
            ((char *)out->v)[out->n] = '\0';
            return 0;
        }
        out->n += (size_t)got;
        if (out->n > max) {
            kt_err_set(err, E2BIG, "%s: larger than %zu bytes", what, max);
            break;
        }
    }
    out->n = 0;
    if (out->v)
        ((char *)out->v)[0] = '\0';
    return -1;
}

int kt__read_file(const char *path, size_t max, kt__vec *out, kt_err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC), rc;

    if (fd < 0) {
        out->n = 0;
        if (out->v && out->elem == 1)
            ((char *)out->v)[0] = '\0';
        return kt_err_sys(err, errno, "%s: open", path);
    }
    rc = kt__read_fd(fd, path, max, out, err);
    close(fd);
    return rc;
}

ssize_t kt__read_file_buf(const char *path, char *buf, size_t cap, kt_err *err)
{
    ssize_t n;
    int fd;

    if (cap == 0)
        return kt_err_set(err, EINVAL, "%s: read into a buffer of 0 bytes", path);
    buf[0] = '\0';
    if (cap - 1 > SSIZE_MAX)
        cap = (size_t)SSIZE_MAX + 1;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return kt_err_sys(err, errno, "%s: open", path);
    n = read_bounded(fd, path, buf, cap - 1, err);
    close(fd);
    if (n < 0) {
        buf[0] = '\0';
        return -1;
    }
    buf[n] = '\0';
    return n;
}

int kt__write_file(const char *path, const char *val, kt_err *err)
{
    size_t len = strlen(val);
    ssize_t n;
    int fd, e;

    fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return kt_err_sys(err, errno, "open %s", path);
    n = write(fd, val, len);
    e = errno;
    if (close(fd) < 0 && n == (ssize_t)len)
        return kt_err_sys(err, errno, "close %s after writing \"%s\"", path, val);
    if (n != (ssize_t)len)
        return kt_err_sys(err, n < 0 ? e : EIO, "write \"%s\" to %s", val, path);
    return 0;
}
