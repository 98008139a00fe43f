/* kt_read_file: the library's small-file read (lib/base/file.c) for
 * scenarios, which see only the public headers. */
#include "ktstr/file.h"

#include <limits.h>

#include "base/file.h"

int kt_read_file(const char *path, char *buf, size_t cap, kt_err *err)
{
    /* the length must fit the int returned */
    if (cap > (size_t)INT_MAX + 1)
        cap = (size_t)INT_MAX + 1;
    return (int)kt__read_file_buf(path, buf, cap, err);
}
