/* Fuzzing the escaper (lib/base/escape.c) and the TAP writer's two uses
 * of it (tests/fuzz/fuzz.h): every byte string, into every size of buffer --
 * exactly that size, so ASan sees a write past it -- gives the length the
 * whole needs, a NUL-terminated prefix cut only between two bytes' forms,
 * and a whole that decodes back to the input. tests/fuzz/tap.t
 * checks the same through prove's own parser. */
#include "fuzz/fuzz.h"

#include "base/escape.h"
#include "ktstr/tap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void seed_bytes(fuzz_seeds *s)
{
    static const char *const texts[] = {
        "", "plain", "# SKIP not really", "a\\#b\\\\c", "key: value", "- item", "\"quoted\"",
        "tab\there\nnew\rline", "\x01\x1f\x7f", "\xc3\xa9\xff\xc3", "\xc2\xa0: nbsp",
        "...", "---", "x\\", "\\x41",
    };
    unsigned char buf[300];

    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
        fuzz_seed_str(s, texts[i]);
    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = (unsigned char)(1 + i % 255);   /* every byte but NUL */
    fuzz_seed(s, buf, sizeof(buf));
}

/* A size to write into: none, too small by a little or a lot, exact,
 * more than enough. */
static size_t cap_near(size_t need)
{
    switch (fuzz_below(6)) {
    case 0: return 0;
    case 1: return need;
    case 2: return need + 1;
    case 3: return need + 2 + fuzz_below(8);
    default: return fuzz_below(need + 2);
    }
}

/* ---- kt__escape_n with a table of every kind of form ---------------------- */

/* Forms of several widths, an empty one, and \xNN for the other control
 * bytes: prefix-free, so the output decodes one way. */
static const kt__escape_rules rules = {
    .as = { ['\\'] = "\\\\", ['\n'] = "\\n", ['"'] = "\\q", ['a'] = "", ['b'] = "\\BBB", ['#'] = "\\#" },
};

/* The form of byte c under the table above, independently. */
static const char *ref_form(unsigned char c, char tmp[5])
{
    switch (c) {
    case '\\': return "\\\\";
    case '\n': return "\\n";
    case '"': return "\\q";
    case 'a': return "";
    case 'b': return "\\BBB";
    case '#': return "\\#";
    default: break;
    }
    if (c < 0x20 || c == 0x7f) {
        snprintf(tmp, 5, "\\x%02x", c);
        return tmp;
    }
    tmp[0] = (char)c;
    tmp[1] = '\0';
    return tmp;
}

static int parse_escape_n(const unsigned char *in, size_t n, kt_err *err)
{
    char *full = malloc(5 * n + 1), *out, tmp[5];
    size_t len = 0, need, cap, fit = 0;

    (void)err;
    if (!full) {
        fuzz_bad("out of memory");
        return 0;
    }
    /* the reference: forms up to the first NUL, and the longest whole-form
     * prefix that fits each size */
    need = kt__escape_n(NULL, 0, (const char *)in, n, &rules);
    cap = cap_near(need);
    for (size_t i = 0; i < n && in[i]; i++) {
        const char *f = ref_form(in[i], tmp);
        size_t fl = strlen(f);

        memcpy(full + len, f, fl);
        len += fl;
        if (len < cap)
            fit = len;
    }
    full[len] = '\0';
    if (need != len) {
        fuzz_bad("measured %zu bytes, the forms take %zu", need, len);
        free(full);
        return 0;
    }
    out = cap ? malloc(cap) : NULL;
    if (cap && !out) {
        free(full);
        return 0;
    }
    if (kt__escape_n(out, cap, (const char *)in, n, &rules) != need)
        fuzz_bad("returned another length with room for %zu", cap);
    else if (cap && (strlen(out) != fit || memcmp(out, full, fit) != 0))
        fuzz_bad("with room for %zu wrote \"%.60s\", not the %zu bytes of whole forms", cap, out,
                 fit);
    free(out);
    free(full);
    return 0;
}

/* ---- the TAP writer's description and YAML string escapers ---------------- */

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* A quoted YAML string decoded as prove's reader decodes it; NULL when
 * it holds a raw quote, control byte or unknown escape. */
static char *yaml_decode(const char *q, size_t len)
{
    char *out = malloc(len + 1), *w = out;

    if (!out || len < 2 || q[0] != '"' || q[len - 1] != '"') {
        free(out);
        return NULL;
    }
    for (size_t i = 1; i + 1 < len; i++) {
        unsigned char c = (unsigned char)q[i];

        if (c == '"' || c < 0x20 || c == 0x7f)
            goto bad;
        if (c != '\\') {
            *w++ = (char)c;
            continue;
        }
        c = (unsigned char)q[++i];
        if (i + 1 >= len)
            goto bad;
        if (c == '"' || c == '\\')
            *w++ = (char)c;
        else if (c == 'n')
            *w++ = '\n';
        else if (c == 't')
            *w++ = '\t';
        else if (c == 'r')
            *w++ = '\r';
        else if (c == 'x' && i + 3 < len && hexval(q[i + 1]) >= 0 && hexval(q[i + 2]) >= 0) {
            *w++ = (char)(hexval(q[i + 1]) * 16 + hexval(q[i + 2]));
            i += 2;
        } else
            goto bad;
    }
    *w = '\0';
    return out;
bad:
    free(out);
    return NULL;
}

static int parse_quote_yaml(const unsigned char *in, size_t n, kt_err *err)
{
    const char *s = (const char *)in;
    size_t need = kt_tap_quote_yaml(NULL, 0, s), cap = cap_near(need);
    char *out = cap ? malloc(cap) : NULL, *back;

    (void)n;
    (void)err;
    if (cap && !out)
        return 0;
    if (kt_tap_quote_yaml(out, cap, s) != need)
        fuzz_bad("returned another length with room for %zu", cap);
    else if (cap > need) {
        if (strlen(out) != need || !(back = yaml_decode(out, need))) {
            fuzz_bad("\"%.60s\" is not one well-formed quoted string", out);
        } else {
            if (strcmp(back, s) != 0)
                fuzz_bad("\"%.60s\" decodes to another string", out);
            free(back);
        }
    } else if (cap && out[0] != '\0') {
        fuzz_bad("with room for %zu of %zu wrote \"%.60s\", not \"\"", cap, need + 1, out);
    }
    free(out);
    return 0;
}

static int parse_escape_desc(const unsigned char *in, size_t n, kt_err *err)
{
    const char *s = (const char *)in;
    size_t need = kt_tap_escape_desc(NULL, 0, s), cap = cap_near(need), fit = 0;
    char *full = malloc(need + 1), *out = cap ? malloc(cap) : NULL, *w;
    char *back = malloc(n + 1);

    (void)err;
    if (!full || !back || (cap && !out))
        goto out;
    kt_tap_escape_desc(full, need + 1, s);
    /* decoded: \# and \\ back, and every control byte became a space */
    w = back;
    for (size_t i = 0; full[i]; i++) {
        unsigned char c = (unsigned char)full[i];

        if (c < 0x20 || c == 0x7f || (c == '#' && (i == 0 || full[i - 1] != '\\'))) {
            fuzz_bad("\"%.60s\" holds a raw control byte or '#'", full);
            goto out;
        }
        if (c == '\\') {
            c = (unsigned char)full[++i];
            if (c != '#' && c != '\\') {
                fuzz_bad("\"%.60s\": unknown escape", full);
                goto out;
            }
        }
        *w++ = (char)c;
    }
    *w = '\0';
    for (size_t i = 0; s[i]; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f ? back[i] != ' ' : back[i] != s[i]) {
            fuzz_bad("\"%.60s\" decodes to another string at byte %zu", full, i);
            goto out;
        }
    if (strlen(back) != strlen(s)) {
        fuzz_bad("\"%.60s\" decodes to another length", full);
        goto out;
    }
    /* the whole forms (1 byte, or 2 from a backslash) that fit with a NUL */
    for (size_t i = 0, f; i < need; i += f) {
        f = full[i] == '\\' ? 2 : 1;
        if (i + f < cap)
            fit = i + f;
    }
    if (kt_tap_escape_desc(out, cap, s) != need)
        fuzz_bad("returned another length with room for %zu", cap);
    else if (cap && (strlen(out) != fit || memcmp(out, full, fit) != 0))
        fuzz_bad("with room for %zu wrote \"%.60s\": not the %zu bytes of whole forms", cap,
                 out, fit);
out:
    free(full);
    free(out);
    free(back);
    return 0;
}

static const fuzz_target targets[] = {
    { "escape_n", NULL, false, 4096, seed_bytes, parse_escape_n },
    { "tap_quote_yaml", NULL, true, 4096, seed_bytes, parse_quote_yaml },
    { "tap_escape_desc", NULL, true, 4096, seed_bytes, parse_escape_desc },
};

int main(void)
{
    return fuzz_main(targets, FUZZ_COUNT(targets));
}
