/*
 * lib/base/vec.h - the library's one growable array (private).
 *
 *   kt__vec names = KT__VEC_INIT(char *);
 *   if (kt__vec_push(&names, &s, err, "vCPU discovery (pid 812)") < 0)
 *       return -1;             // err: "vCPU discovery (pid 812): out of memory ..."
 *   char **v = names.v;        // names.n elements
 *   kt__vec_free(&names);
 *
 * Capacity doubles from 8 elements. Out of memory is an error naming what
 * was being built, and the array keeps what it held: the caller decides
 * whether a partial result is any use (a parser never is).
 */
#ifndef KTSTR_LIB_BASE_VEC_H
#define KTSTR_LIB_BASE_VEC_H

#include <stdarg.h>
#include <stddef.h>

#include "ktstr/error.h"

typedef struct kt__vec {
    void *v;        /* the elements, or NULL while empty */
    size_t n;       /* elements in use */
    size_t cap;     /* elements allocated */
    size_t elem;    /* bytes per element, fixed at init */
} kt__vec;

#define KT__VEC_INIT(type) { NULL, 0, 0, sizeof(type) }

/* A kt__vec over an array whose pointer, count and capacity live in
 * fields of a struct that cannot hold a kt__vec (a public struct, whose
 * header cannot name this private type): grow it here, then store v, n
 * and cap back:
 *
 *   kt__vec a = KT__VEC_VIEW(t->buf, t->len, t->cap);
 *   if (kt__vec_reserve(&a, more, err, "TAP point") == 0)
 *       t->buf = a.v, t->cap = a.cap;
 */
#define KT__VEC_VIEW(ptr, n, cap) ((kt__vec){ (ptr), (n), (cap), sizeof(*(ptr)) })

/* Makes room for `more` elements past n; 0, or -1 with ENOMEM in err
 * ("<what>: out of memory (<bytes> bytes)") and the array unchanged. */
int kt__vec_reserve(kt__vec *a, size_t more, kt_err *err, const char *what);

/* Appends one element copied from elem; 0, or -1 as kt__vec_reserve. */
int kt__vec_push(kt__vec *a, const void *elem, kt_err *err, const char *what);

/* Appends n bytes to a vec of elem 1 and keeps a NUL after them (not
 * counted in a->n), so the bytes read as a string; 0 or -1 as above. */
int kt__vec_append(kt__vec *a, const void *bytes, size_t n, kt_err *err,
                   const char *what);

/* Appends printf-style text to a vec of elem 1 (NUL kept after it, as
 * kt__vec_append), whatever its length; 0 or -1 as above. */
int kt__vec_appendf(kt__vec *a, kt_err *err, const char *what, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The same with a va_list, for a writer's own printf-style helper. */
int kt__vec_vappendf(kt__vec *a, kt_err *err, const char *what, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));

/* Pointer to element i (no bounds check: i < a->n is the caller's). */
static inline void *kt__vec_at(const kt__vec *a, size_t i)
{
    return (char *)a->v + i * a->elem;
}

/* Frees the elements (not what they point to) and empties the array;
 * elem is kept, so the array can be reused. */
void kt__vec_free(kt__vec *a);

#endif
