/* kt__escape: the rules of a table, snprintf-style measuring and cutting,
 * and every byte of the library's own contexts (TAP descriptions, YAML
 * strings, wire fields) written exactly as the hand-written escapers they
 * replaced wrote it (kept below as the reference). */
#include "harness/unit.h"

#include "base/escape.h"
#include "runner/wire.h"
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

/* ---- the shared tables: JSON, XML, CSV --------------------------------- */

static void t_json_table(void)
{
    char buf[256];

    kt__escape(buf, sizeof(buf), "a\"b\\c/\b\f\n\r\t\x01\x1f\x7f", &kt__escape_json);
    check_str(buf, "a\\\"b\\\\c/\\b\\f\\n\\r\\t\\u0001\\u001f\\u007f");
    kt__escape(buf, sizeof(buf), "\xc3\xa9\xe2\x9c\x93\xf0\x9f\x98\x80", &kt__escape_json);
    check_str(buf, "\xc3\xa9\xe2\x9c\x93\xf0\x9f\x98\x80");   /* well-formed: as is */
    for (int c = 1; c < 0x20; c++) {
        char s[2] = { (char)c, '\0' };

        /* every control byte has a JSON form within the width bound */
        check_uint(kt__escape(NULL, 0, s, &kt__escape_json), <=, KT__ESCAPE_MAX_WIDTH);
        check(kt__escape(NULL, 0, s, &kt__escape_json) > 1);
    }
}

/* Ill-formed UTF-8 (Unicode's table 3-7) byte by byte as the table's
 * bad_utf8 form; well-formed sequences whole; a sequence cut by the end
 * of len or by a NUL is ill-formed. */
static void t_utf8_check(void)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        { "\xc3\xa9", "\xc3\xa9" },
        { "\xc0\xaf", "??" },                 /* overlong '/' */
        { "\xe0\x80\xaf", "???" },            /* overlong, 3 bytes */
        { "\xed\xa0\x80", "???" },            /* a surrogate */
        { "\xf4\x90\x80\x80", "????" },       /* above U+10FFFF */
        { "\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80" },
        { "\xff\xfe", "??" },
        { "\xe2\x9c", "??" },                  /* cut short by the end */
        { "a\x80" "b", "a?b" },                /* a lone continuation byte */
        { "\xc3" "A", "?A" },
    };
    static const kt__escape_rules q = { .bad_utf8 = "?" };
    char buf[64];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        kt__escape(buf, sizeof(buf), cases[i].in, &q);
        if (!check_str(buf, cases[i].out))
            test_msg("case %zu", i);
    }
    check_uint(kt__escape_n(buf, sizeof(buf), "\xe2\x9c\x93", 2, &q), ==, 2);
    check_str(buf, "??");                       /* len cuts the sequence */
    kt__escape(buf, 4, "\xe2\x9c\x93z", &q);
    check_str(buf, "\xe2\x9c\x93");             /* a sequence fits whole or not at all */
    kt__escape(buf, 3, "\xe2\x9c\x93z", &q);
    check_str(buf, "");
}

static void t_xml_csv_tables(void)
{
    char buf[256];

    kt__escape(buf, sizeof(buf), "<a href=\"x\">&'</a>\t\n", &kt__escape_xml);
    check_str(buf, "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;\t\n");
    kt__escape(buf, sizeof(buf), "a\x01\x7f\xff", &kt__escape_xml);
    check_str(buf, "a\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");   /* XML 1.0 has no form for these */
    kt__escape(buf, sizeof(buf), "say \"hi\", a,b\nc", &kt__escape_csv);
    check_str(buf, "say \"\"hi\"\", a,b c");
}

static void t_escape_append(void)
{
    kt__vec v = KT__VEC_INIT(char);

    check_int(kt__escape_append(&v, "a<b", &kt__escape_xml, NULL, "x"), ==, 0);
    check_int(kt__escape_append(&v, NULL, &kt__escape_xml, NULL, "x"), ==, 0);
    check_int(kt__escape_append(&v, "\"&", &kt__escape_json, NULL, "x"), ==, 0);
    check_str((char *)v.v, "a&lt;b\\\"&");
    check_uint(v.n, ==, strlen("a&lt;b\\\"&"));
    kt__vec_free(&v);
}

int main(void)
{
    TEST(t_escape_append(), "kt__escape_append: escaped onto a growing text, NULL as empty");
    TEST(t_rules(), "a table: its forms, \\xNN for other control bytes, a ctrl literal, UTF-8 as is");
    TEST(t_measure_and_cut(), "measures like snprintf; cuts only between whole forms; len bounds s");
    TEST(t_tap_contexts(), "TAP descriptions and YAML strings: every byte as the old escapers wrote it");
    TEST(t_wire_context(), "wire fields: every byte as the old escaper wrote it");
    TEST(t_json_table(), "kt__escape_json: JSON's escapes, \\u00NN for the other control bytes");
    TEST(t_utf8_check(), "bad_utf8: ill-formed UTF-8 byte by byte, well-formed sequences whole");
    TEST(t_xml_csv_tables(), "kt__escape_xml and kt__escape_csv");
    return test_done();
}
