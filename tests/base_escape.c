/* kt__escape: the rules of a table, snprintf-style measuring and cutting,
 * and every byte of the library's own contexts (TAP descriptions, YAML
 * strings, wire fields) written exactly as the hand-written escapers they
 * replaced wrote it (kept below as the reference). */
#include "unit.h"

#include "base/escape.h"
#include "core/runner.h"
#include "ktstr/tap.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* ---- the replaced escapers, verbatim in effect ------------------------ */

static const char *ref_yaml(unsigned char c, char tmp[5])
{
    switch (c) {
    case '"': return "\\\"";
    case '\\': return "\\\\";
    case '\n': return "\\n";
    case '\t': return "\\t";
    case '\r': return "\\r";
    default: break;
    }
    if (c < 0x20 || c == 0x7f) {
        snprintf(tmp, 5, "\\x%02x", c);
        return tmp;
    }
    return NULL;
}

static const char *ref_desc(unsigned char c, char tmp[5])
{
    (void)tmp;
    if (c == '#')
        return "\\#";
    if (c == '\\')
        return "\\\\";
    if (c < 0x20 || c == 0x7f)
        return " ";
    return NULL;
}

static const char *ref_wire(unsigned char c, char tmp[5])
{
    switch (c) {
    case '\\': return "\\\\";
    case '\t': return "\\t";
    case '\n': return "\\n";
    case '\r': return "\\r";
    default: break;
    }
    if (c < 0x20 || c == 0x7f) {
        snprintf(tmp, 5, "\\x%02x", c);
        return tmp;
    }
    return NULL;
}

static void ref(char *out, const char *s, const char *(*esc)(unsigned char, char[5]))
{
    char tmp[5];

    *out = '\0';
    for (; *s; s++) {
        const char *e = esc((unsigned char)*s, tmp);
        size_t len = strlen(out);

        if (e)
            strcpy(out + len, e);
        else
            out[len] = *s, out[len + 1] = '\0';
    }
}

/* "a" <byte> "z" for every byte 1..255, and all of them in one string. */
static void every_byte(char all[256])
{
    for (int c = 1; c < 256; c++)
        all[c - 1] = (char)c;
    all[255] = '\0';
}

/* ---- the escaper itself ----------------------------------------------- */

static const kt__escape_rules hexy = {
    .as = { ['\n'] = "\\n", ['%'] = "%%" },
};
static const kt__escape_rules spaced = {
    .as = { ['#'] = "\\#" },
    .ctrl = " ",
};

static void t_rules(void)
{
    char buf[64];

    check_uint(kt__escape(buf, sizeof(buf), "a\nb%c", &hexy), ==, 7);
    check_str(buf, "a\\nb%%c");
    kt__escape(buf, sizeof(buf), "\x01\x1f\x7f\t", &hexy);
    check_str(buf, "\\x01\\x1f\\x7f\\x09");            /* \xNN, lowercase */
    kt__escape(buf, sizeof(buf), "\xc3\xa9 ok", &hexy);
    check_str(buf, "\xc3\xa9 ok");                      /* UTF-8 as is */
    kt__escape(buf, sizeof(buf), "#a\x01\n\x7f", &spaced);
    check_str(buf, "\\#a   ");                          /* ctrl literal */
    check_uint(kt__escape(buf, sizeof(buf), "", &spaced), ==, 0);
    check_str(buf, "");
}

static void t_measure_and_cut(void)
{
    char buf[8];

    check_uint(kt__escape(NULL, 0, "ab\ncd", &hexy), ==, 6);
    memset(buf, 'X', sizeof(buf));
    check_uint(kt__escape(buf, 4, "ab\ncd", &hexy), ==, 6);
    check_str(buf, "ab");             /* "\n" does not fit whole: not half of it */
    memset(buf, 'X', sizeof(buf));
    check_uint(kt__escape(buf, 1, "abc", &hexy), ==, 3);
    check_str(buf, "");
    check_uint(kt__escape(buf, 5, "abcd", &hexy), ==, 4);
    check_str(buf, "abcd");           /* exactly fits with its NUL */
    check_uint(kt__escape_n(buf, sizeof(buf), "ab\ncd", 3, &hexy), ==, 4);
    check_str(buf, "ab\\n");          /* only len bytes of s */
    check_uint(kt__escape_n(buf, sizeof(buf), "ab", 10, &hexy), ==, 2);
    check_str(buf, "ab");             /* and never past its NUL */
}

/* ---- the library's contexts, byte for byte ---------------------------- */

static void t_tap_contexts(void)
{
    char all[256], want[2048], got[2048], q[2048];
    int bad = 0;

    every_byte(all);
    for (int c = 1; c < 256; c++) {
        char s[4] = { 'a', (char)c, 'z', '\0' };

        ref(want, s, ref_desc);
        kt_tap_escape_desc(got, sizeof(got), s);
        if (strcmp(want, got) && ++bad < 4)
            test_msg("desc byte 0x%02x: want \"%s\", got \"%s\"", c, want, got);
        ref(want, s, ref_yaml);
        snprintf(q, sizeof(q), "\"%s\"", want);
        kt_tap_quote_yaml(got, sizeof(got), s);
        if (strcmp(q, got) && ++bad < 4)
            test_msg("yaml byte 0x%02x: want %s, got %s", c, q, got);
    }
    check_int(bad, ==, 0);
    ref(want, all, ref_desc);
    check_uint(kt_tap_escape_desc(got, sizeof(got), all), ==, strlen(want));
    check_str(got, want);
    ref(want, all, ref_yaml);
    snprintf(q, sizeof(q), "\"%s\"", want);
    check_uint(kt_tap_quote_yaml(got, sizeof(got), all), ==, strlen(q));
    check_str(got, q);
}

static void t_wire_context(void)
{
    char all[256], want[2048], line[4096];
    const char *f[2] = { all, "x\\y\tz" };
    int p[2];
    ssize_t n;

    every_byte(all);
    if (!check_int(pipe(p), ==, 0))
        return;
    check_int(kt__wire_send(p[1], "NOTE", f, 2), ==, 0);
    close(p[1]);
    n = read(p[0], line, sizeof(line) - 1);
    close(p[0]);
    if (!check(n > 0))
        return;
    line[n] = '\0';
    ref(want, all, ref_wire);
    check_uint(strlen(line), ==, strlen("NOTE\t") + strlen(want) + strlen("\tx\\\\y\\tz\n"));
    check(strncmp(line, "NOTE\t", 5) == 0);
    check(strncmp(line + 5, want, strlen(want)) == 0);
    check_str(line + 5 + strlen(want), "\tx\\\\y\\tz\n");
}

int main(void)
{
    TEST(t_rules(), "a table: its forms, \\xNN for other control bytes, a ctrl literal, UTF-8 as is");
    TEST(t_measure_and_cut(), "measures like snprintf; cuts only between whole forms; len bounds s");
    TEST(t_tap_contexts(), "TAP descriptions and YAML strings: every byte as the old escapers wrote it");
    TEST(t_wire_context(), "wire fields: every byte as the old escaper wrote it");
    return test_done();
}
