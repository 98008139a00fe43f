/* The table-driven escaper: see escape.h. */
#include "base/escape.h"

#include <string.h>

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

size_t kt__escape_n(char *out, size_t n, const char *s, size_t len,
                    const kt__escape_rules *rules)
{
    size_t need = 0, done = 0;
    char tmp[5];

    for (size_t i = 0; i < len && s[i]; i++) {
        const char *e = form((unsigned char)s[i], rules, tmp);
        size_t elen = e ? strlen(e) : 1;

        /* once a form does not fit, none after it does: done stays
         * the end of the last whole form */
        if (need + elen < n) {
            memcpy(out + need, e ? e : &s[i], elen);
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
