/*
 * lib/evidence/json.h - JSON out and in (private): the artifacts' sidecar
 * files are written with the writer, read back by the baseline and the
 * HTML report with the reader.
 *
 *   kt__vec out = KT__VEC_INIT(char);
 *   kt__jw w;
 *   kt__jw_init(&w, &out);
 *   kt__jw_obj(&w, NULL);
 *   kt__jw_str(&w, "scenario", "fair_equal_hogs");
 *   kt__jw_num(&w, "actual", "0.0046");     // a JSON number, else a string
 *   kt__jw_end(&w);
 *   if (kt__jw_done(&w) < 0) ...           // ENOMEM
 *
 *   kt__json *doc = kt__json_parse(text, len, &err);  // NULL: err says where
 *   const kt__json *claims = kt__json_get(doc, "claims");
 *   kt__json_free(doc);
 *
 * The reader is meant for untrusted input: it never reads outside the
 * len bytes it is given, nests at most KT__JSON_MAX_DEPTH deep (its
 * recursion is bounded by that), rejects what RFC 8259 rejects
 * (including \u0000 and lone surrogates, which a NUL-terminated string
 * cannot or should not hold), and reports the first error as "line L,
 * column C: what". Numbers are read in the C locale whatever the
 * process's locale is.
 */
#ifndef KTSTR_LIB_CORE_JSON_H
#define KTSTR_LIB_CORE_JSON_H

#include <locale.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/vec.h"
#include "ktstr/error.h"

/* ---- numbers ---------------------------------------------------------- */

/* True when s[0..len) is exactly one JSON number ("-0", "1e+21", "0.5";
 * not "nan", "inf", "+1", ".5", "01"); *out (may be NULL) gets its value,
 * read in the C locale (an overflow reads as +/-inf, an underflow as 0). */
bool kt__json_number(const char *s, size_t len, double *out);

/* The C locale, for uselocale() around printf-family calls whose output
 * must not depend on the user's locale; (locale_t)0 when it cannot be
 * made (then the caller's locale stays). */
locale_t kt__c_locale(void);

/* ---- the writer ------------------------------------------------------- */

#define KT__JW_MAX_DEPTH 16

/* Writes pretty-printed JSON (two spaces per level) into a kt__vec of
 * char. Keys are ignored inside arrays and at the top level; everything
 * else is the caller's order. The first error (ENOMEM, nesting too deep,
 * an end without a start) is kept and every later call does nothing. */
typedef struct kt__jw {
    kt__vec *out;
    int depth;
    bool in_obj[KT__JW_MAX_DEPTH];   /* the container at each depth is an object */
    bool empty[KT__JW_MAX_DEPTH];    /* no element in it yet */
    int err;
} kt__jw;

void kt__jw_init(kt__jw *w, kt__vec *out);
/* Opens an object or an array (as the value of key in an object). */
void kt__jw_obj(kt__jw *w, const char *key);
void kt__jw_arr(kt__jw *w, const char *key);
/* Closes the innermost one. */
void kt__jw_end(kt__jw *w);
/* "key": "s" (escaped by kt__escape_json; NULL writes null). */
void kt__jw_str(kt__jw *w, const char *key, const char *s);
void kt__jw_int(kt__jw *w, const char *key, int64_t x);
void kt__jw_bool(kt__jw *w, const char *key, bool b);
/* num as is when kt__json_number says it is one, else as a string
 * ("nan", "inf", "{0, 1}"). */
void kt__jw_num(kt__jw *w, const char *key, const char *num);
/* 0, or -1 with the first error's errno (ENOMEM, EINVAL). */
int kt__jw_done(const kt__jw *w);

/* ---- the reader ------------------------------------------------------- */

#define KT__JSON_MAX_DEPTH 64

typedef enum kt__json_type {
    KT__JSON_NULL, KT__JSON_FALSE, KT__JSON_TRUE, KT__JSON_NUM, KT__JSON_STR,
    KT__JSON_ARR, KT__JSON_OBJ
} kt__json_type;

/* One value. Strings are unescaped UTF-8, NUL-terminated (none holds a
 * NUL: \u0000 is refused); a number keeps its source text too. */
typedef struct kt__json {
    kt__json_type type;
    double num;               /* NUM */
    char *str;                /* STR: the string; NUM: its text */
    size_t len;               /* STR: bytes of str; ARR, OBJ: elements */
    char *key;                /* a member of an object: its name */
    struct kt__json *kids;    /* ARR, OBJ: len elements, in source order */
} kt__json;

/* Parses text[0..len) (NUL bytes in it are an error, not an end) as one
 * JSON value with nothing but whitespace after it. NULL with err
 * ("line 3, column 7: expected ',' or '}'", EINVAL; or ENOMEM). */
kt__json *kt__json_parse(const char *text, size_t len, kt_err *err);
/* Frees what kt__json_parse returned (NULL is fine). */
void kt__json_free(kt__json *doc);

/* The first member named key of object o, or NULL (o NULL or not an
 * object, or no such member). */
const kt__json *kt__json_get(const kt__json *o, const char *key);
/* The string of a string member, or NULL. */
const char *kt__json_get_str(const kt__json *o, const char *key);

#endif
