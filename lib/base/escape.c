/* The table-driven escaper: see escape.h. */
#include "base/escape.h"

#include <stdbool.h>
#include <string.h>

#define U_FFFD "\xef\xbf\xbd"   /* the replacement character, in UTF-8 */

const kt__escape_rules kt__escape_json = {
    .as = { ['"'] = "\\\"", ['\\'] = "\\\\", ['\b'] = "\\b", ['\f'] = "\\f",
            ['\n'] = "\\n", ['\r'] = "\\r", ['\t'] = "\\t",
            [0x00] = "\\u0000", [0x01] = "\\u0001", [0x02] = "\\u0002",
            [0x03] = "\\u0003", [0x04] = "\\u0004", [0x05] = "\\u0005",
            [0x06] = "\\u0006", [0x07] = "\\u0007", [0x0b] = "\\u000b",
            [0x0e] = "\\u000e", [0x0f] = "\\u000f", [0x10] = "\\u0010",
            [0x11] = "\\u0011", [0x12] = "\\u0012", [0x13] = "\\u0013",
            [0x14] = "\\u0014", [0x15] = "\\u0015", [0x16] = "\\u0016",
            [0x17] = "\\u0017", [0x18] = "\\u0018", [0x19] = "\\u0019",
            [0x1a] = "\\u001a", [0x1b] = "\\u001b", [0x1c] = "\\u001c",
            [0x1d] = "\\u001d", [0x1e] = "\\u001e", [0x1f] = "\\u001f",
            [0x7f] = "\\u007f" },
    .bad_utf8 = "\\ufffd",
};

const kt__escape_rules kt__escape_xml = {
    .as = { ['&'] = "&amp;", ['<'] = "&lt;", ['>'] = "&gt;", ['"'] = "&quot;",
            ['\''] = "&#39;", ['\t'] = "\t", ['\n'] = "\n", ['\r'] = "\r" },
    .ctrl = U_FFFD,
    .bad_utf8 = U_FFFD,
};

const kt__escape_rules kt__escape_csv = {
    .as = { ['"'] = "\"\"" },
    .ctrl = " ",
    .bad_utf8 = U_FFFD,
};

/* The form of byte c under rules: a string, or tmp filled with \xNN, or
 * NULL for the byte itself. */
static const char *form(unsigned char c, const kt__escape_rules *rules, char tmp[5])
{
    static const char hex[] = "0123456789abcdef";

    if (c < 128 && rules->as[c])
        return rules->as[c];
    if (c >= 0x20 && c != 0x7f)
        return NULL;
    if (rules->ctrl)
        return rules->ctrl;
    tmp[0] = '\\';
    tmp[1] = 'x';
    tmp[2] = hex[c >> 4];
    tmp[3] = hex[c & 15];
    tmp[4] = '\0';
    return tmp;
}

static bool in(unsigned char c, unsigned char lo, unsigned char hi)
{
    return c >= lo && c <= hi;
}

/* The length of the well-formed UTF-8 sequence at s[0..left) (s[0] >=
 * 0x80), or 0 when it is ill-formed or cut short (a NUL ends it too). */
static size_t utf8_len(const unsigned char *s, size_t left)
{
    unsigned char c = s[0], lo = 0x80, hi = 0xbf;
    size_t n;

    if (in(c, 0xc2, 0xdf))
        n = 2;
    else if (in(c, 0xe0, 0xef))
        n = 3, lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
    else if (in(c, 0xf0, 0xf4))
        n = 4, lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
    else
        return 0;
    if (left < n || !in(s[1], lo, hi))
        return 0;
    for (size_t i = 2; i < n; i++)
        if (!in(s[i], 0x80, 0xbf))
            return 0;
    return n;
}

size_t kt__escape_n(char *out, size_t n, const char *s, size_t len,
                    const kt__escape_rules *rules)
{
    size_t need = 0, done = 0, i = 0, left;
    char tmp[5];

    for (; i < len && s[i]; i += left) {
        const unsigned char c = (unsigned char)s[i];
        const char *e = NULL, *src = &s[i];
        size_t elen = 1;

        left = 1;
        if (c >= 0x80 && rules->bad_utf8) {
            size_t avail = strnlen(s + i, len - i < 4 ? len - i : 4);

            elen = left = utf8_len((const unsigned char *)s + i, avail);
            if (!left) {
                e = rules->bad_utf8;
                left = 1;
            }
        } else {
            e = form(c, rules, tmp);
        }
        if (e) {
            src = e;
            elen = strlen(e);
        }
        /* once a form does not fit, none after it does: done stays
         * the end of the last whole form */
        if (need + elen < n) {
            memcpy(out + need, src, elen);
            done = need + elen;
        }
        need += elen;
    }
    if (n > 0)
        out[done] = '\0';
    return need;
}

size_t kt__escape(char *out, size_t n, const char *s, const kt__escape_rules *rules)
{
    return kt__escape_n(out, n, s, (size_t)-1, rules);
}

int kt__escape_append(kt__vec *out, const char *s, const kt__escape_rules *rules, kt_err *err,
                      const char *what)
{
    size_t need = kt__escape(NULL, 0, s ? s : "", rules);

    if (out->elem != 1 || kt__vec_reserve(out, need + 1, err, what) < 0)
        return kt__vec_append(out, "", 0, err, what);   /* its error */
    kt__escape((char *)out->v + out->n, need + 1, s ? s : "", rules);
    out->n += need;
    return 0;
}
