/* The growable array: one growth rule and one out-of-memory error. */
#include "base/vec.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int kt__vec_reserve(kt__vec *a, size_t more, kt_err *err, const char *what)
{
    size_t want = a->cap ? a->cap : 8;
    void *p;

    if (a->elem == 0)
        return kt_err_set(err, EINVAL, "%s: array of zero-sized elements", what);
    if (more > SIZE_MAX / a->elem - a->n)
        return kt_err_sys(err, ENOMEM, "%s: out of memory (%zu + %zu elements)",
                          what, a->n, more);
    while (want < a->n + more)
        want = want > SIZE_MAX / 2 ? a->n + more : want * 2;
    if (want <= a->cap)
        return 0;
    if (want > SIZE_MAX / a->elem)
        want = SIZE_MAX / a->elem;
    p = realloc(a->v, want * a->elem);
    if (!p)
        return kt_err_sys(err, ENOMEM, "%s: out of memory (%zu bytes)", what,
                          want * a->elem);
    a->v = p;
    a->cap = want;
    return 0;
}

int kt__vec_push(kt__vec *a, const void *elem, kt_err *err, const char *what)
{
    if (kt__vec_reserve(a, 1, err, what) < 0)
        return -1;
    memcpy(kt__vec_at(a, a->n), elem, a->elem);
    a->n++;
    return 0;
}

int kt__vec_append(kt__vec *a, const void *bytes, size_t n, kt_err *err,
                   const char *what)
{
    if (a->elem != 1)
        return kt_err_set(err, EINVAL, "%s: byte append to an array of %zu-byte elements",
                          what, a->elem);
    if (kt__vec_reserve(a, n + 1, err, what) < 0)
        return -1;
    if (n)
        memcpy((char *)a->v + a->n, bytes, n);
    a->n += n;
    ((char *)a->v)[a->n] = '\0';
    return 0;
}

int kt__vec_vappendf(kt__vec *a, kt_err *err, const char *what, const char *fmt, va_list ap)
{
    va_list again;
    int len;

    va_copy(again, ap);
    len = vsnprintf(NULL, 0, fmt, ap);
    if (len < 0) {
        va_end(again);
        return kt_err_set(err, EINVAL, "%s: bad format", what);
    }
    if (a->elem != 1 || kt__vec_reserve(a, (size_t)len + 1, err, what) < 0) {
        va_end(again);
        return kt__vec_append(a, "", 0, err, what);   /* its error */
    }
    vsnprintf((char *)a->v + a->n, (size_t)len + 1, fmt, again);
    va_end(again);
    a->n += (size_t)len;
    return 0;
}

int kt__vec_appendf(kt__vec *a, kt_err *err, const char *what, const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = kt__vec_vappendf(a, err, what, fmt, ap);
    va_end(ap);
    return rc;
}

void kt__vec_free(kt__vec *a)
{
    free(a->v);
    a->v = NULL;
    a->n = a->cap = 0;
}
