/* kt_read_file and kt_read_long: the library's small-file read
 * (lib/base/file.c) for scenarios, which see only the public headers. */
#include "ktstr/file.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "base/file.h"

int kt_read_file(const char *path, char *buf, size_t cap, kt_err *err)
{
    /* the length must fit the int returned */
    if (cap > (size_t)INT_MAX + 1)
        cap = (size_t)INT_MAX + 1;
    return (int)kt__read_file_buf(path, buf, cap, err);
}

int kt_read_long(const char *path, long *out, kt_err *err)
{
    char buf[64], *end;
    long x;

    if (kt__read_file_buf(path, buf, sizeof(buf), err) < 0)
        return -1;
    errno = 0;
    x = strtol(buf, &end, 10);
    if (end == buf || errno) {
        buf[strcspn(buf, "\n")] = '\0';
        return kt_err_set(err, errno ? errno : EINVAL, "%s: not a number: \"%.20s\"", path, buf);
    }
    *out = x;
    return 0;
}
