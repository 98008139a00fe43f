/* The JSON writer and reader (lib/evidence/json.h): RFC 8259's number
 * grammar, what the reader accepts and refuses with line and column, its
 * bounds (depth, truncation, NUL bytes), the writer's output read back
 * value for value, and a fuzz pass over truncated and mutated sidecars
 * (run under SAN=1 it proves the reader reads nothing it was not given). */
#include "harness/unit.h"

#include "base/escape.h"
#include "evidence/json.h"

#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static kt__json *parse(const char *s, kt_err *err)
{
    return kt__json_parse(s, strlen(s), err);
}

static void expect_error(const char *text, const char *want)
{
    kt_err err = { 0, "" };
    kt__json *j = parse(text, &err);

    if (!check(j == NULL))
        test_msg("'%s' parsed", text);
    kt__json_free(j);
    if (!check_contains(err.msg, want))
        test_msg("input: %s", text);
}

static void t_numbers(void)
{
    static const char *const good[] = { "0", "-0", "1", "-12", "0.5", "3.06", "1e+21",
                                        "1E5", "1e-05", "12.5e3", "18446744073709551615" };
    static const char *const bad[] = { "", "+1", ".5", "01", "1.", "1e", "1e+", "nan",
                                       "inf", "-inf", "0x10", "1 ", " 1", "--1", "1.5.2" };
    double x = 0;

    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        if (!check(kt__json_number(good[i], strlen(good[i]), NULL)))
            test_msg("'%s' should be a number", good[i]);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (!check(!kt__json_number(bad[i], strlen(bad[i]), NULL)))
            test_msg("'%s' should not be a number", bad[i]);
    check(kt__json_number("3.06", 4, &x));
    check_dbl(x, ==, 3.06);
    check(kt__json_number("1e999", 5, &x));
    check(isinf(x));
    check(kt__json_number("12345", 2, &x));   /* only len bytes: "12" */
    check_dbl(x, ==, 12);
}

/* Read in the C locale even when the process's decimal point is ','. */
static void t_numbers_any_locale(void)
{
    double x = 0;

    if (!setlocale(LC_NUMERIC, "de_DE.UTF-8") && !setlocale(LC_NUMERIC, "fr_FR.UTF-8")) {
        test_skip("no locale with a decimal comma installed");
        return;
    }
    check(kt__json_number("0.25", 4, &x));
    check_dbl(x, ==, 0.25);
    setlocale(LC_NUMERIC, "C");
}

static void t_values(void)
{
    kt_err err = { 0, "" };
    kt__json *j = parse(" {\"a\": [1, -2.5, true, false, null, \"x\\\"y\\u00e9\\ud83d\\ude00\"],"
                        " \"b\": {}, \"c\": [], \"a\": 7}\n", &err);
    const kt__json *a;

    if (!check(j != NULL)) {
        test_msg("%s", err.msg);
        return;
    }
    check_int(j->type, ==, KT__JSON_OBJ);
    check_uint(j->len, ==, 4);
    a = kt__json_get(j, "a");                 /* the first of two "a" */
    if (check(a && a->type == KT__JSON_ARR && a->len == 6)) {
        check_dbl(a->kids[0].num, ==, 1);
        check_str(a->kids[1].str, "-2.5");     /* a number keeps its text */
        check_int(a->kids[2].type, ==, KT__JSON_TRUE);
        check_int(a->kids[3].type, ==, KT__JSON_FALSE);
        check_int(a->kids[4].type, ==, KT__JSON_NULL);
        check_str(a->kids[5].str, "x\"y\xc3\xa9\xf0\x9f\x98\x80");
    }
    check(kt__json_get(j, "b") && kt__json_get(j, "b")->type == KT__JSON_OBJ);
    check(kt__json_get(j, "missing") == NULL);
    check(kt__json_get_str(j, "a") == NULL);  /* not a string */
    check(kt__json_get(a, "x") == NULL);      /* not an object */
    kt__json_free(j);
}

static void t_errors(void)
{
    char deep[200];

    expect_error("", "line 1, column 1: expected a value, found the end");
    expect_error("{\"a\": 1,}", "line 1, column 9: expected a string key");
    expect_error("{\"a\" 1}", "expected ':'");
    expect_error("[1 2]", "line 1, column 4: expected ',' or ']'");
    expect_error("{\n  \"a\": tru\n}", "line 2, column 8: expected a value");
    expect_error("\"abc", "unterminated string");
    expect_error("\"a\tb\"", "control character in a string");
    expect_error("\"\\q\"", "bad escape");
    expect_error("\"\\u12\"", "four hex digits");
    expect_error("\"\\u0000\"", "\\u0000");
    expect_error("\"\\ud800\"", "lone high surrogate");
    expect_error("\"\\udc00\"", "lone low surrogate");
    expect_error("\"\\ud800\\u0041\"", "not followed by a low one");
    expect_error("1 2", "line 1, column 3: text after the value");
    expect_error("nan", "expected a value");
    expect_error("-", "expected a value");
    memset(deep, '[', sizeof(deep));
    deep[sizeof(deep) - 1] = '\0';
    expect_error(deep, "nested deeper than 64 levels");
}

/* A NUL inside the given length is an error, never an early end. */
static void t_nul_inside(void)
{
    kt_err err = { 0, "" };
    kt__json *j = kt__json_parse("[1]\0 junk", 9, &err);

    check(j == NULL);
    check_contains(err.msg, "text after the value");
    j = kt__json_parse("\"a\0b\"", 5, &err);
    check(j == NULL);
    check_contains(err.msg, "control character");
    j = kt__json_parse("[1, 2]", 3, &err);     /* "[1," */
    check(j == NULL);
    kt__json_free(j);
}

/* What the writer writes reads back to the same values; JSON::PP and the
 * reader agree on the escapes, checked byte by byte here. */
static void t_writer(void)
{
    kt__vec out = KT__VEC_INIT(char);
    kt__jw w;
    kt_err err = { 0, "" };
    char all[256];
    kt__json *j;
    const kt__json *arr;

    for (int c = 1; c < 256; c++)
        all[c - 1] = (char)c;
    all[255] = '\0';
    kt__jw_init(&w, &out);
    kt__jw_obj(&w, NULL);
    kt__jw_str(&w, "plain", "ok");
    kt__jw_str(&w, "ascii", "\"\\/\b\f\n\r\t\x01\x1f\x7f");
    kt__jw_str(&w, "utf8", "\xc3\xa9\xe2\x9c\x93");
    kt__jw_str(&w, "bad_utf8", "a\xff" "b\xc3");
    kt__jw_str(&w, "every_byte", all);
    kt__jw_str(&w, "null", NULL);
    kt__jw_int(&w, "int", -42);
    kt__jw_bool(&w, "yes", true);
    kt__jw_num(&w, "num", "0.5");
    kt__jw_num(&w, "nan", "nan");
    kt__jw_arr(&w, "list");
    kt__jw_num(&w, NULL, "1e+21");
    kt__jw_obj(&w, NULL);
    kt__jw_end(&w);
    kt__jw_arr(&w, NULL);
    kt__jw_end(&w);
    kt__jw_end(&w);
    kt__jw_end(&w);
    if (!check_int(kt__jw_done(&w), ==, 0))
        return;
    check_contains(out.v, "\"ascii\": \"\\\"\\\\/\\b\\f\\n\\r\\t\\u0001\\u001f\\u007f\"");
    check_contains(out.v, "\"num\": 0.5,");
    check_contains(out.v, "\"nan\": \"nan\",");
    check_contains(out.v, "{},\n    []\n");
    j = kt__json_parse(out.v, out.n, &err);
    if (!check(j != NULL)) {
        test_msg("%s\n%s", err.msg, (char *)out.v);
        kt__vec_free(&out);
        return;
    }
    check_str(kt__json_get_str(j, "plain"), "ok");
    check_str(kt__json_get_str(j, "ascii"), "\"\\/\b\f\n\r\t\x01\x1f\x7f");
    check_str(kt__json_get_str(j, "utf8"), "\xc3\xa9\xe2\x9c\x93");
    check_str(kt__json_get_str(j, "bad_utf8"), "a\xef\xbf\xbd" "b\xef\xbf\xbd");
    check_int(kt__json_get(j, "null")->type, ==, KT__JSON_NULL);
    check_dbl(kt__json_get(j, "int")->num, ==, -42);
    check_int(kt__json_get(j, "yes")->type, ==, KT__JSON_TRUE);
    check_dbl(kt__json_get(j, "num")->num, ==, 0.5);
    check_str(kt__json_get_str(j, "nan"), "nan");
    arr = kt__json_get(j, "list");
    check(arr && arr->len == 3 && arr->kids[0].num == 1e21);
    /* every byte: the ASCII ones as they were, each byte >= 0x80 (none
     * of them a whole UTF-8 sequence here) as U+FFFD */
    {
        const char *e = kt__json_get_str(j, "every_byte");

        check_uint(strlen(e), ==, 127 + 3 * 128);
        check(strncmp(e, all, 127) == 0);
    }
    kt__json_free(j);
    kt__vec_free(&out);
}

static void t_writer_errors(void)
{
    kt__vec out = KT__VEC_INIT(char);
    kt__jw w;

    kt__jw_init(&w, &out);
    kt__jw_end(&w);                     /* an end without a start */
    check_int(kt__jw_done(&w), ==, -1);
    kt__vec_free(&out);
    kt__jw_init(&w, &out);
    kt__jw_obj(&w, NULL);                /* never closed */
    check_int(kt__jw_done(&w), ==, -1);
    kt__vec_free(&out);
    kt__jw_init(&w, &out);
    for (int i = 0; i < KT__JW_MAX_DEPTH + 1; i++)
        kt__jw_arr(&w, NULL);
    check_int(kt__jw_done(&w), ==, -1);
    kt__vec_free(&out);
}

static const char sidecar[] =
    "{\n  \"scenario\": \"fair\",\n  \"outcome\": \"fail\",\n  \"claims\": [\n"
    "    {\"label\": \"x \\\"q\\\"\", \"op\": \"at_most\", \"expected\": \"0.5\", "
    "\"actual\": 0.61, \"passed\": false, \"at\": \"f.c:3\"},\n"
    "    {\"label\": \"\\u00e9\", \"op\": \"near\", \"expected\": \"3 (+/-0.1)\", "
    "\"actual\": \"nan\", \"passed\": true, \"at\": \"\"}\n  ],\n"
    "  \"notes\": [\"a\", \"b\\n\"],\n  \"duration_ms\": 12,\n"
    "  \"host\": {\"kernel\": \"6.1\", \"cpus\": 2, \"cpu_model\": \"\"}\n}\n";

/* Every prefix of a sidecar, and a few thousand mutations of it: each
 * parses or fails with a message, and nothing else happens. */
static void t_fuzz(void)
{
    size_t n = sizeof(sidecar) - 1, parsed = 0, failed = 0;
    uint64_t seed = 0x9e3779b97f4a7c15u;
    char *buf;
    static const char bytes[] = "{}[],:\"\\0123456789.eE+-tfnu \n\t\x01\xc3\xff";

    for (size_t k = 0; k <= n; k++) {
        kt_err err = { 0, "" };
        /* a copy of exactly k bytes, so ASan sees any read past them */
        char *p = malloc(k ? k : 1);
        kt__json *j;

        memcpy(p, sidecar, k);
        j = kt__json_parse(p, k, &err);
        if (j)
            parsed++;
        else
            failed += err.msg[0] != '\0';
        kt__json_free(j);
        free(p);
    }
    check_uint(parsed, ==, 2);          /* the whole, and the whole less its newline */
    check_uint(failed, ==, n - 1);
    buf = malloc(n);
    for (int round = 0; round < 4000; round++) {
        kt_err err = { 0, "" };
        kt__json *j;
        int edits = 1 + round % 4;

        memcpy(buf, sidecar, n);
        for (int e = 0; e < edits; e++) {
            seed = seed * 6364136223846793005u + 1442695040888963407u;
            buf[(seed >> 33) % n] = bytes[(seed >> 17) % (sizeof(bytes) - 1)];
        }
        j = kt__json_parse(buf, n, &err);
        if (!j && !err.msg[0]) {
            check(!"a failed parse without a message");
            break;
        }
        kt__json_free(j);
    }
    free(buf);
}

int main(void)
{
    TEST(t_numbers(), "numbers: RFC 8259's grammar exactly, len bounds the text");
    TEST(t_numbers_any_locale(), "numbers are read in the C locale whatever the process's");
    TEST(t_values(), "every kind of value, escapes and surrogate pairs, the first of two keys");
    TEST(t_errors(), "errors say what was expected, at line and column; nesting is bounded");
    TEST(t_nul_inside(), "a NUL or the end inside the given length is an error");
    TEST(t_writer(), "the writer's JSON reads back value for value; ill-formed UTF-8 as U+FFFD");
    TEST(t_writer_errors(), "the writer refuses an unbalanced or too deep document");
    TEST(t_fuzz(), "every prefix and 4000 mutations of a sidecar: a parse or a message");
    return test_done();
}
