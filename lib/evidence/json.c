/* JSON: the writer of the artifacts' sidecar files and the bounded reader
 * the baseline and the report read them back with (see json.h). */
#include "evidence/json.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/escape.h"

/* ---- numbers ---------------------------------------------------------- */

static pthread_once_t c_once = PTHREAD_ONCE_INIT;
static locale_t c_loc;

static void make_c_locale(void)
{
    c_loc = newlocale(LC_ALL_MASK, "C", (locale_t)0);
}

locale_t kt__c_locale(void)
{
    pthread_once(&c_once, make_c_locale);
    return c_loc;
}

static bool digit(char c)
{
    return c >= '0' && c <= '9';
}

/* The length of the JSON number at the start of s[0..len), 0 when there
 * is none: -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)? */
static size_t number_span(const char *s, size_t len)
{
    size_t i = 0;

    if (i < len && s[i] == '-')
        i++;
    if (i < len && s[i] == '0')
        i++;
    else if (i < len && s[i] >= '1' && s[i] <= '9')
        while (i < len && digit(s[i]))
            i++;
    else
        return 0;
    if (i < len && s[i] == '.') {
        if (++i >= len || !digit(s[i]))
            return 0;
        while (i < len && digit(s[i]))
            i++;
    }
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        if (++i < len && (s[i] == '+' || s[i] == '-'))
            i++;
        if (i >= len || !digit(s[i]))
            return 0;
        while (i < len && digit(s[i]))
            i++;
    }
    return i;
}

/* Reads a checked number text (a copy: s is not NUL-terminated) in the C
 * locale; false only when out of memory or without a C locale. */
static bool read_number(const char *s, size_t len, double *out)
{
    locale_t loc = kt__c_locale();
    char small[64], *buf = len < sizeof(small) ? small : malloc(len + 1);

    if (!buf || loc == (locale_t)0) {
        if (buf != small)
            free(buf);
        return false;
    }
    memcpy(buf, s, len);
    buf[len] = '\0';
    *out = strtod_l(buf, NULL, loc);
    if (buf != small)
        free(buf);
    return true;
}

bool kt__json_number(const char *s, size_t len, double *out)
{
    double x;

    if (!s || len == 0 || number_span(s, len) != len)
        return false;
    if (!read_number(s, len, &x))
        return false;
    if (out)
        *out = x;
    return true;
}

/* ---- the writer ------------------------------------------------------- */

void kt__jw_init(kt__jw *w, kt__vec *out)
{
    memset(w, 0, sizeof(*w));
    w->out = out;
}

static void put(kt__jw *w, const char *s, size_t n)
{
    if (!w->err && kt__vec_append(w->out, s, n, NULL, "JSON") < 0)
        w->err = ENOMEM;
}

static void puts_(kt__jw *w, const char *s)
{
    put(w, s, strlen(s));
}

static void put_quoted(kt__jw *w, const char *s)
{
    puts_(w, "\"");
    if (w->err)
        return;
    if (kt__escape_append(w->out, s, &kt__escape_json, NULL, "JSON") < 0) {
        w->err = ENOMEM;
        return;
    }
    puts_(w, "\"");
}

static void indent(kt__jw *w, int depth)
{
    static const char sp[] = "                                ";

    put(w, sp, (size_t)(2 * depth) < sizeof(sp) - 1 ? (size_t)(2 * depth) : sizeof(sp) - 1);
}

/* Starts an element: the separator, the indentation and "key": . */
static bool elem(kt__jw *w, const char *key)
{
    int d = w->depth - 1;

    if (w->err)
        return false;
    if (w->depth == 0)
        return true;
    puts_(w, w->empty[d] ? "\n" : ",\n");
    w->empty[d] = false;
    indent(w, w->depth);
    if (w->in_obj[d]) {
        put_quoted(w, key ? key : "");
        puts_(w, ": ");
    }
    return !w->err;
}

static void open_(kt__jw *w, const char *key, bool obj)
{
    if (!elem(w, key))
        return;
    if (w->depth >= KT__JW_MAX_DEPTH) {
        w->err = EINVAL;
        return;
    }
    puts_(w, obj ? "{" : "[");
    w->in_obj[w->depth] = obj;
    w->empty[w->depth] = true;
    w->depth++;
}

void kt__jw_obj(kt__jw *w, const char *key)
{
    open_(w, key, true);
}

void kt__jw_arr(kt__jw *w, const char *key)
{
    open_(w, key, false);
}

void kt__jw_end(kt__jw *w)
{
    bool obj;

    if (w->err)
        return;
    if (w->depth == 0) {
        w->err = EINVAL;
        return;
    }
    obj = w->in_obj[--w->depth];
    if (!w->empty[w->depth]) {
        puts_(w, "\n");
        indent(w, w->depth);
    }
    puts_(w, obj ? "}" : "]");
    if (w->depth == 0)
        puts_(w, "\n");
}

void kt__jw_str(kt__jw *w, const char *key, const char *s)
{
    if (!elem(w, key))
        return;
    if (s)
        put_quoted(w, s);
    else
        puts_(w, "null");
}

void kt__jw_int(kt__jw *w, const char *key, int64_t x)
{
    char buf[32];

    if (!elem(w, key))
        return;
    snprintf(buf, sizeof(buf), "%lld", (long long)x);
    puts_(w, buf);
}

void kt__jw_bool(kt__jw *w, const char *key, bool b)
{
    if (elem(w, key))
        puts_(w, b ? "true" : "false");
}

void kt__jw_num(kt__jw *w, const char *key, const char *num)
{
    if (!num || !kt__json_number(num, strlen(num), NULL)) {
        kt__jw_str(w, key, num);
        return;
    }
    if (elem(w, key))
        puts_(w, num);
}

int kt__jw_done(const kt__jw *w)
{
    if (w->err) {
        errno = w->err;
        return -1;
    }
    if (w->depth != 0) {
        errno = EINVAL;
        return -1;
    }
    return 0;
}

/* ---- the reader ------------------------------------------------------- */

typedef struct parser {
    const char *s;
    size_t len, pos;
    int depth;
    kt_err *err;
    bool failed;
} parser;

/* Records the first error at the current position; returns -1. */
static int fail(parser *p, int code, const char *what)
{
    size_t line = 1, col = 1;

    if (p->failed)
        return -1;
    p->failed = true;
    for (size_t i = 0; i < p->pos && i < p->len; i++) {
        if (p->s[i] == '\n')
            line++, col = 1;
        else
            col++;
    }
    kt_err_set(p->err, code, "line %zu, column %zu: %s", line, col, what);
    return -1;
}

static void skip_ws(parser *p)
{
    while (p->pos < p->len && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' ||
                               p->s[p->pos] == '\n' || p->s[p->pos] == '\r'))
        p->pos++;
}

static bool at(parser *p, char c)
{
    return p->pos < p->len && p->s[p->pos] == c;
}

static void free_value(kt__json *j)
{
    if (!j)
        return;
    for (size_t i = 0; j->kids && i < j->len; i++)
        free_value(&j->kids[i]);
    free(j->kids);
    free(j->str);
    free(j->key);
    memset(j, 0, sizeof(*j));
}

static int hex4(parser *p, unsigned *out)
{
    unsigned v = 0;

    if (p->len - p->pos < 4)
        return fail(p, EINVAL, "\\u needs four hex digits");
    for (int i = 0; i < 4; i++) {
        char c = p->s[p->pos++];

        v <<= 4;
        if (digit(c))
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return fail(p, EINVAL, "\\u needs four hex digits");
    }
    *out = v;
    return 0;
}

static int push_utf8(parser *p, kt__vec *b, unsigned cp)
{
    char u[4];
    size_t n;

    if (cp < 0x80) {
        u[0] = (char)cp, n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xc0 | (cp >> 6)), u[1] = (char)(0x80 | (cp & 0x3f)), n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xe0 | (cp >> 12)), u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        u[2] = (char)(0x80 | (cp & 0x3f)), n = 3;
    } else {
        u[0] = (char)(0xf0 | (cp >> 18)), u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3f)), u[3] = (char)(0x80 | (cp & 0x3f)), n = 4;
    }
    if (kt__vec_append(b, u, n, NULL, "JSON string") < 0)
        return fail(p, ENOMEM, "out of memory");
    return 0;
}

/* A \u escape (after the "\u"), a surrogate pair taken whole. */
static int unicode_escape(parser *p, kt__vec *b)
{
    unsigned cp, lo;

    if (hex4(p, &cp) < 0)
        return -1;
    if (cp == 0)
        return fail(p, EINVAL, "\\u0000 in a string");
    if (cp >= 0xdc00 && cp <= 0xdfff)
        return fail(p, EINVAL, "lone low surrogate in a string");
    if (cp >= 0xd800 && cp <= 0xdbff) {
        if (p->len - p->pos < 2 || p->s[p->pos] != '\\' || p->s[p->pos + 1] != 'u')
            return fail(p, EINVAL, "lone high surrogate in a string");
        p->pos += 2;
        if (hex4(p, &lo) < 0)
            return -1;
        if (lo < 0xdc00 || lo > 0xdfff)
            return fail(p, EINVAL, "high surrogate not followed by a low one");
        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
    }
    return push_utf8(p, b, cp);
}

/* A string at p->pos (its opening quote); *out is malloc'd. */
static int parse_string(parser *p, char **out, size_t *outlen)
{
    kt__vec b = KT__VEC_INIT(char);
    size_t run;

    p->pos++;   /* the opening quote */
    for (;;) {
        char c;

        /* a run of plain bytes at once */
        for (run = p->pos; run < p->len && p->s[run] != '"' && p->s[run] != '\\' &&
                           (unsigned char)p->s[run] >= 0x20;
             run++)
            ;
        if (run > p->pos && kt__vec_append(&b, p->s + p->pos, run - p->pos, NULL,
                                           "JSON string") < 0) {
            kt__vec_free(&b);
            return fail(p, ENOMEM, "out of memory");
        }
        p->pos = run;
        if (p->pos >= p->len) {
            kt__vec_free(&b);
            return fail(p, EINVAL, "unterminated string");
        }
        c = p->s[p->pos++];
        if (c == '"')
            break;
        if (c != '\\') {
            p->pos--;
            kt__vec_free(&b);
            return fail(p, EINVAL, "control character in a string");
        }
        if (p->pos >= p->len) {
            kt__vec_free(&b);
            return fail(p, EINVAL, "unterminated string");
        }
        c = p->s[p->pos++];
        const char *plain = c == '"' ? "\"" : c == '\\' ? "\\" : c == '/' ? "/"
                          : c == 'b' ? "\b" : c == 'f' ? "\f" : c == 'n' ? "\n"
                          : c == 'r' ? "\r" : c == 't' ? "\t" : NULL;
        int rc = 0;

        if (plain) {
            if (kt__vec_append(&b, plain, 1, NULL, "JSON string") < 0)
                rc = fail(p, ENOMEM, "out of memory");
        } else if (c == 'u') {
            rc = unicode_escape(p, &b);
        } else {
            p->pos--;
            rc = fail(p, EINVAL, "bad escape in a string");
        }
        if (rc < 0) {
            kt__vec_free(&b);
            return -1;
        }
    }
    *outlen = b.n;
    if (!b.v && kt__vec_append(&b, "", 0, NULL, "JSON string") < 0)
        return fail(p, ENOMEM, "out of memory");
    *out = b.v;
    return 0;
}

static int parse_value(parser *p, kt__json *out);

/* The elements of an array or the members of an object, up to close. */
static int parse_container(parser *p, kt__json *out, bool obj)
{
    kt__vec kids = KT__VEC_INIT(kt__json);
    const char close = obj ? '}' : ']';

    if (++p->depth > KT__JSON_MAX_DEPTH)
        return fail(p, EINVAL, "nested deeper than 64 levels");
    p->pos++;   /* the opening bracket */
    out->type = obj ? KT__JSON_OBJ : KT__JSON_ARR;
    skip_ws(p);
    if (at(p, close)) {
        p->pos++;
        p->depth--;
        return 0;
    }
    for (;;) {
        kt__json kid;
        size_t klen;

        memset(&kid, 0, sizeof(kid));
        skip_ws(p);
        if (obj) {
            if (!at(p, '"')) {
                fail(p, EINVAL, "expected a string key");
                goto bad;
            }
            if (parse_string(p, &kid.key, &klen) < 0)
                goto bad;
            skip_ws(p);
            if (!at(p, ':')) {
                free(kid.key);
                fail(p, EINVAL, "expected ':'");
                goto bad;
            }
            p->pos++;
        }
        if (parse_value(p, &kid) < 0 ||
            kt__vec_push(&kids, &kid, NULL, "JSON") < 0) {
            free_value(&kid);
            fail(p, ENOMEM, "out of memory");
            goto bad;
        }
        skip_ws(p);
        if (at(p, ',')) {
            p->pos++;
            continue;
        }
        if (at(p, close)) {
            p->pos++;
            break;
        }
        fail(p, EINVAL, obj ? "expected ',' or '}'" : "expected ',' or ']'");
        goto bad;
    }
    out->kids = kids.v;
    out->len = kids.n;
    p->depth--;
    return 0;
bad:
    for (size_t i = 0; i < kids.n; i++)
        free_value(kt__vec_at(&kids, i));
    kt__vec_free(&kids);
    return -1;
}

/* A literal word (true, false, null). */
static bool word(parser *p, const char *w)
{
    size_t n = strlen(w);

    if (p->len - p->pos < n || memcmp(p->s + p->pos, w, n) != 0)
        return false;
    p->pos += n;
    return true;
}

static int parse_number(parser *p, kt__json *out)
{
    size_t n = number_span(p->s + p->pos, p->len - p->pos);

    if (n == 0)
        return fail(p, EINVAL, "expected a value");
    out->type = KT__JSON_NUM;
    out->str = malloc(n + 1);
    if (!out->str || !read_number(p->s + p->pos, n, &out->num))
        return fail(p, ENOMEM, "out of memory (or no C locale) reading a number");
    memcpy(out->str, p->s + p->pos, n);
    out->str[n] = '\0';
    p->pos += n;
    return 0;
}

static int parse_value(parser *p, kt__json *out)
{
    skip_ws(p);
    if (p->pos >= p->len)
        return fail(p, EINVAL, "expected a value, found the end");
    switch (p->s[p->pos]) {
    case '{':
        return parse_container(p, out, true);
    case '[':
        return parse_container(p, out, false);
    case '"':
        out->type = KT__JSON_STR;
        return parse_string(p, &out->str, &out->len);
    case 't':
        out->type = KT__JSON_TRUE;
        return word(p, "true") ? 0 : fail(p, EINVAL, "expected a value");
    case 'f':
        out->type = KT__JSON_FALSE;
        return word(p, "false") ? 0 : fail(p, EINVAL, "expected a value");
    case 'n':
        out->type = KT__JSON_NULL;
        return word(p, "null") ? 0 : fail(p, EINVAL, "expected a value");
    default:
        return parse_number(p, out);
    }
}

kt__json *kt__json_parse(const char *text, size_t len, kt_err *err)
{
    parser p = { text, len, 0, 0, err, false };
    kt__json *doc = calloc(1, sizeof(*doc));

    if (!doc) {
        kt_err_set(err, ENOMEM, "out of memory");
        return NULL;
    }
    if (!text)
        p.len = 0;
    if (parse_value(&p, doc) < 0) {
        free_value(doc);
        free(doc);
        return NULL;
    }
    skip_ws(&p);
    if (p.pos < p.len) {
        fail(&p, EINVAL, "text after the value");
        free_value(doc);
        free(doc);
        return NULL;
    }
    return doc;
}

void kt__json_free(kt__json *doc)
{
    free_value(doc);
    free(doc);
}

const kt__json *kt__json_get(const kt__json *o, const char *key)
{
    if (!o || o->type != KT__JSON_OBJ)
        return NULL;
    for (size_t i = 0; i < o->len; i++)
        if (o->kids[i].key && strcmp(o->kids[i].key, key) == 0)
            return &o->kids[i];
    return NULL;
}

const char *kt__json_get_str(const kt__json *o, const char *key)
{
    const kt__json *j = kt__json_get(o, key);

    return j && j->type == KT__JSON_STR ? j->str : NULL;
}
