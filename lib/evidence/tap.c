/* The TAP 13 writer: points and their YAML are built in memory, then
 * written with one call so the stream never holds half a block. */
#include "ktstr/tap.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/escape.h"
#include "base/vec.h"

#define YAML_INDENT 2   /* a YAML block sits two spaces under its point */

/* YAML double-quoted strings: \" \\ \n \t \r and \xNN, the only escapes
 * prove 3.44's reader takes. */
static const kt__escape_rules yaml_rules = {
    .as = { ['"'] = "\\\"", ['\\'] = "\\\\", ['\n'] = "\\n", ['\t'] = "\\t",
            ['\r'] = "\\r" },
};

/* Descriptions, directive reasons and comments: '#' would start a
 * directive, so it and a backslash are escaped; a control byte would
 * break the line, so it becomes a space. */
static const kt__escape_rules desc_rules = {
    .as = { ['#'] = "\\#", ['\\'] = "\\\\" },
    .ctrl = " ",
};

size_t kt_tap_escape_desc(char *out, size_t n, const char *s)
{
    return kt__escape(out, n, s ? s : "", &desc_rules);
}

size_t kt_tap_quote_yaml(char *out, size_t n, const char *s)
{
    size_t len = kt__escape(n > 1 ? out + 1 : out, n > 1 ? n - 1 : 0,
                            s ? s : "", &yaml_rules);

    if (len + 2 < n) {
        out[0] = '"';
        out[len + 1] = '"';
        out[len + 2] = '\0';
    } else if (n > 0) {
        out[0] = '\0';   /* never a string with an opening quote only */
    }
    return len + 2;
}

/* ---- the point buffer ------------------------------------------------- */

static void init(kt_tap *t, FILE *fp, int fd)
{
    memset(t, 0, sizeof(*t));
    t->fp = fp;
    t->fd = fd;
}

void kt_tap_init_file(kt_tap *t, FILE *fp)
{
    init(t, fp, -1);
}

void kt_tap_init_fd(kt_tap *t, int fd)
{
    init(t, NULL, fd);
}

void kt_tap_fini(kt_tap *t)
{
    free(t->buf);
    t->buf = NULL;
    t->len = t->cap = 0;
    t->in_point = false;
}

/* Makes room for n more bytes plus a NUL; false (and t->err) when not. */
static bool reserve(kt_tap *t, size_t n)
{
    kt__vec buf = KT__VEC_VIEW(t->buf, t->len, t->cap);

    if (t->err)
        return false;
    if (n > SIZE_MAX - 1 || kt__vec_reserve(&buf, n + 1, NULL, "TAP point") < 0) {
        t->err = ENOMEM;
        return false;
    }
    t->buf = buf.v;
    t->cap = buf.cap;
    return true;
}

static void put(kt_tap *t, const char *s, size_t n)
{
    if (!reserve(t, n))
        return;
    memcpy(t->buf + t->len, s, n);
    t->len += n;
    t->buf[t->len] = '\0';
}

static void puts_(kt_tap *t, const char *s)
{
    put(t, s, strlen(s));
}

static void put_escaped(kt_tap *t, const char *s, const kt__escape_rules *rules)
{
    size_t need = kt__escape(NULL, 0, s ? s : "", rules);

    if (!reserve(t, need))
        return;
    kt__escape(t->buf + t->len, need + 1, s ? s : "", rules);
    t->len += need;
}

static void put_spaces(kt_tap *t, int n)
{
    static const char sp[] = "                                        ";

    while (n > 0) {
        int k = n < (int)sizeof(sp) - 1 ? n : (int)sizeof(sp) - 1;
        put(t, sp, (size_t)k);
        n -= k;
    }
}

/* Writes all of buf, retrying short writes and EINTR. */
static int emit(kt_tap *t, const char *buf, size_t len)
{
    if (t->fp) {
        if (fwrite(buf, 1, len, t->fp) != len || fflush(t->fp) != 0)
            return -1;
        return 0;
    }
    while (len > 0) {
        ssize_t w = write(t->fd, buf, len);

        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        buf += w;
        len -= (size_t)w;
    }
    return 0;
}

/* Builds one standalone line in the buffer and writes it. */
static int line(kt_tap *t, const char *prefix, const char *text,
                const kt__escape_rules *rules)
{
    int rc;

    if (t->in_point) {
        errno = EINVAL;   /* a line inside a point would split its block */
        return -1;
    }
    t->len = 0;
    t->err = 0;
    puts_(t, prefix);
    if (text)
        put_escaped(t, text, rules);
    puts_(t, "\n");
    if (t->err) {
        errno = t->err;
        return -1;
    }
    rc = emit(t, t->buf, t->len);
    t->len = 0;
    return rc;
}

int kt_tap_version(kt_tap *t)
{
    return line(t, "TAP version 13", NULL, NULL);
}

int kt_tap_plan(kt_tap *t, unsigned n)
{
    char s[32];

    snprintf(s, sizeof(s), "1..%u", n);
    return line(t, s, NULL, NULL);
}

int kt_tap_plan_skip_all(kt_tap *t, const char *reason)
{
    return line(t, "1..0 # SKIP ", reason, &desc_rules);
}

int kt_tap_comment(kt_tap *t, const char *text)
{
    return line(t, "# ", text, &desc_rules);
}

int kt_tap_bail_out(kt_tap *t, const char *reason)
{
    return line(t, "Bail out! ", reason, &desc_rules);
}

int kt_tap_point(kt_tap *t, bool ok, unsigned n, const char *name,
                 kt_tap_directive dir, const char *reason)
{
    char num[32];

    if (t->in_point) {
        errno = EINVAL;
        return -1;
    }
    t->len = 0;
    t->err = 0;
    t->in_point = true;
    t->in_yaml = false;
    t->pending_dash = false;
    t->depth = 0;
    snprintf(num, sizeof(num), "%s %u - ", ok ? "ok" : "not ok", n);
    puts_(t, num);
    put_escaped(t, name, &desc_rules);
    if (dir != KT_TAP_NONE) {
        puts_(t, dir == KT_TAP_SKIP ? " # SKIP " : " # TODO ");
        put_escaped(t, reason, &desc_rules);
    }
    puts_(t, "\n");
    t->line_len = t->err ? 0 : t->len;
    if (t->err) {
        errno = t->err;
        return -1;
    }
    return 0;
}

/* ---- YAML ------------------------------------------------------------- */

static bool valid_key(const char *k)
{
    if (!k || !*k)
        return false;
    for (; *k; k++)
        if (!(*k == '_' || (*k >= '0' && *k <= '9') || (*k >= 'a' && *k <= 'z') ||
              (*k >= 'A' && *k <= 'Z')))
            return false;
    return true;
}

/* Opens the block on first use and checks the container expects a key
 * (want_list false) or an item (true); ends the parent's "key:" line. */
static bool yaml_enter(kt_tap *t, bool want_list, const char *key)
{
    struct kt_tap_frame *f;

    if (!t->in_point || (!want_list && !valid_key(key))) {
        if (!t->err)
            t->err = EINVAL;
        return false;
    }
    if (!t->in_yaml) {
        puts_(t, "  ---\n");
        t->in_yaml = true;
        t->depth = 1;
        t->stack[0] = (struct kt_tap_frame){ false, false, YAML_INDENT };
    }
    f = &t->stack[t->depth - 1];
    if (f->is_list != want_list) {
        if (!t->err)
            t->err = EINVAL;
        return false;
    }
    if (f->empty) {
        puts_(t, "\n");   /* the "key:" line of this container ends here */
        f->empty = false;
    }
    return true;
}

/* Writes the start of a key line: indentation or the pending "- ". */
static void key_prefix(kt_tap *t, const char *key)
{
    struct kt_tap_frame *f = &t->stack[t->depth - 1];

    if (t->pending_dash) {
        put_spaces(t, f->indent - 2);
        puts_(t, "- ");
        t->pending_dash = false;
    } else {
        put_spaces(t, f->indent);
    }
    puts_(t, key);
    puts_(t, ":");
}

static int done(kt_tap *t)
{
    if (t->err) {
        errno = t->err;
        return -1;
    }
    return 0;
}

int kt_tap_yaml_str(kt_tap *t, const char *key, const char *value)
{
    if (!yaml_enter(t, false, key))
        return done(t);
    key_prefix(t, key);
    puts_(t, " \"");
    put_escaped(t, value, &yaml_rules);
    puts_(t, "\"\n");
    return done(t);
}

int kt_tap_yaml_int(kt_tap *t, const char *key, int64_t value)
{
    char s[32];

    if (!yaml_enter(t, false, key))
        return done(t);
    key_prefix(t, key);
    snprintf(s, sizeof(s), " %" PRId64 "\n", value);
    puts_(t, s);
    return done(t);
}

int kt_tap_yaml_strf(kt_tap *t, const char *key, const char *fmt, ...)
{
    char small[256], *p = small;
    va_list ap;
    int n;
    int rc;

    va_start(ap, fmt);
    n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0) {
        t->err = t->err ? t->err : EINVAL;
        return done(t);
    }
    if ((size_t)n >= sizeof(small)) {
        p = malloc((size_t)n + 1);
        if (!p) {
            t->err = t->err ? t->err : ENOMEM;
            return done(t);
        }
        va_start(ap, fmt);
        vsnprintf(p, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    rc = kt_tap_yaml_str(t, key, p);
    if (p != small)
        free(p);
    return rc;
}

static int push(kt_tap *t, bool is_list, int indent)
{
    if (t->depth >= KT_TAP_MAX_DEPTH) {
        t->err = t->err ? t->err : E2BIG;
        return done(t);
    }
    t->stack[t->depth++] = (struct kt_tap_frame){ is_list, true, indent };
    return done(t);
}

static int open_container(kt_tap *t, const char *key, bool is_list)
{
    int indent;

    if (!yaml_enter(t, false, key))
        return done(t);
    indent = t->stack[t->depth - 1].indent;
    key_prefix(t, key);
    /* The line ends when the first child arrives, or as " []" / " {}". */
    return push(t, is_list, indent + 2);
}

int kt_tap_yaml_map(kt_tap *t, const char *key)
{
    return open_container(t, key, false);
}

int kt_tap_yaml_list(kt_tap *t, const char *key)
{
    return open_container(t, key, true);
}

/* The length of the white space character at s[0..n), or 0: a space, or
 * U+0085, U+00A0, U+1680, U+2000..U+200A, U+2028, U+2029, U+202F, U+205F
 * or U+3000 in UTF-8, which are white space to prove (it decodes a TAP 13
 * stream from UTF-8, so its \s is Unicode's). Other ASCII white space is
 * always escaped. */
static size_t space_len(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;

    if (n >= 1 && u[0] == ' ')
        return 1;
    if (n >= 2 && u[0] == 0xc2 && (u[1] == 0x85 || u[1] == 0xa0))
        return 2;
    if (n >= 3 && ((u[0] == 0xe1 && u[1] == 0x9a && u[2] == 0x80) ||
                   (u[0] == 0xe2 && u[1] == 0x80 &&
                    ((u[2] >= 0x80 && u[2] <= 0x8a) || u[2] == 0xa8 || u[2] == 0xa9 ||
                     u[2] == 0xaf)) ||
                   (u[0] == 0xe2 && u[1] == 0x81 && u[2] == 0x9f) ||
                   (u[0] == 0xe3 && u[1] == 0x80 && u[2] == 0x80)))
        return 3;
    return 0;
}

/* prove 3.44 reads a list item `- X: Y` as a map whenever the text up to
 * a colon followed by white space is one word and white space (`\S+\s*`),
 * so `- "worst: 12 ms"` became a broken key and the whole block was lost
 * (and with it every later point of the stream). Such a colon is written
 * as \x3a, which the reader turns back into ':'. Whether a byte >= 0x80
 * is white space depends on the reader (raw bytes, or prove's decoding,
 * whose invalid UTF-8 can swallow a space after it), so only ASCII is
 * trusted: a colon is safe past a space followed by a later ASCII byte
 * that is not one. `item` starts at the opening quote and ends before the
 * closing one. */
static void guard_item_colons(kt_tap *t, size_t item)
{
    size_t safe = t->len;   /* colons past here cannot start a map */
    bool space = false;

    for (size_t i = item + 1; i < t->len; i++) {
        unsigned char c = (unsigned char)t->buf[i];

        if (c == ' ') {
            space = true;
        } else if (space && c < 0x80) {
            safe = i;
            break;
        }
    }
    /* from the end, so the escapes made do not move what is still to see */
    for (size_t p = safe < t->len ? safe + 1 : t->len; p-- > item + 1;) {
        if (t->buf[p] != ':' || !space_len(t->buf + p + 1, t->len - p - 1))
            continue;
        if (!reserve(t, 3))
            return;
        memmove(t->buf + p + 4, t->buf + p + 1, t->len - p - 1);
        memcpy(t->buf + p, "\\x3a", 4);
        t->len += 3;
    }
}

int kt_tap_yaml_item_str(kt_tap *t, const char *value)
{
    size_t item;

    if (!yaml_enter(t, true, NULL))
        return done(t);
    put_spaces(t, t->stack[t->depth - 1].indent);
    puts_(t, "- ");
    item = t->len;
    puts_(t, "\"");
    put_escaped(t, value, &yaml_rules);
    if (!t->err)
        guard_item_colons(t, item);
    puts_(t, "\"\n");
    return done(t);
}

int kt_tap_yaml_item_map(kt_tap *t)
{
    int indent;

    if (!yaml_enter(t, true, NULL))
        return done(t);
    indent = t->stack[t->depth - 1].indent;
    if (push(t, false, indent + 2) < 0)
        return -1;
    /* An item map's first key shares the "- " line. */
    t->stack[t->depth - 1].empty = false;
    t->pending_dash = true;
    return 0;
}

int kt_tap_yaml_close(kt_tap *t)
{
    struct kt_tap_frame *f;

    if (!t->in_yaml || t->depth <= 1) {
        t->err = t->err ? t->err : EINVAL;
        return done(t);
    }
    f = &t->stack[--t->depth];
    if (t->pending_dash) {
        /* An item map with no keys at all. */
        put_spaces(t, f->indent - 2);
        puts_(t, "- {}\n");
        t->pending_dash = false;
    } else if (f->empty) {
        puts_(t, f->is_list ? " []\n" : " {}\n");
    }
    return done(t);
}

int kt_tap_end(kt_tap *t)
{
    int rc, saved;

    if (!t->in_point) {
        errno = EINVAL;
        return -1;
    }
    while (!t->err && t->in_yaml && t->depth > 1)
        kt_tap_yaml_close(t);
    if (!t->err && t->in_yaml)
        puts_(t, "  ...\n");
    saved = t->err;
    if (saved)
        t->len = t->line_len;   /* the point without a broken block */
    t->in_point = false;
    t->in_yaml = false;
    t->depth = 0;
    rc = t->len ? emit(t, t->buf, t->len) : -1;
    t->len = 0;
    t->err = 0;
    if (saved) {
        errno = saved;
        return -1;
    }
    return rc;
}
