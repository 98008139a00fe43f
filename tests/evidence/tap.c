/* The TAP writer: escaping, YAML layout, directives, fd output. */
#include "harness/unit.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ktstr/tap.h"

/* Captures what a writer prints through a memory stream. */
typedef struct capture {
    FILE *fp;
    char *data;
    size_t size;
    kt_tap t;
} capture;

static void cap_open(capture *c)
{
    c->data = NULL;
    c->size = 0;
    c->fp = open_memstream(&c->data, &c->size);
    if (!c->fp)
        abort();
    kt_tap_init_file(&c->t, c->fp);
}

/* Returns what was written so far (valid until cap_close). */
static const char *cap_text(capture *c)
{
    fflush(c->fp);
    return c->data ? c->data : "";
}

static void cap_close(capture *c)
{
    kt_tap_fini(&c->t);
    fclose(c->fp);
    free(c->data);
}

static void t_escape_desc(void)
{
    long rc;
    char buf[64];

    rc = kt_tap_escape_desc(buf, sizeof(buf), "a#b\\c");
    check_uint(rc, ==, 7);
    check_str(buf, "a\\#b\\\\c");
    kt_tap_escape_desc(buf, sizeof(buf), "two\nlines\tand\x01");
    check_str(buf, "two lines and ");
    /* Truncation still reports the full length and terminates. */
    rc = kt_tap_escape_desc(buf, 4, "abcdef");
    check_uint(rc, ==, 6);
    check_str(buf, "abc");
}

static void t_quote_yaml(void)
{
    long rc;
    char buf[128];

    kt_tap_quote_yaml(buf, sizeof(buf), "say \"hi\" \\ now");
    check_str(buf, "\"say \\\"hi\\\" \\\\ now\"");
    kt_tap_quote_yaml(buf, sizeof(buf), "a\nb\tc\rd\x01" "e\x7f" "f\x1b");
    check_str(buf, "\"a\\nb\\tc\\rd\\x01e\\x7ff\\x1b\"");
    kt_tap_quote_yaml(buf, sizeof(buf), "# not a comment: [x] {y}");
    check_str(buf, "\"# not a comment: [x] {y}\"");
    kt_tap_quote_yaml(buf, sizeof(buf), NULL);
    check_str(buf, "\"\"");
    /* Too small: an empty string, never an unbalanced quote. */
    rc = kt_tap_quote_yaml(buf, 3, "abc");
    check_uint(rc, ==, 5);
    check_str(buf, "");
}

static void t_header_and_points(void)
{
    long rc;
    capture c;

    cap_open(&c);
    rc = kt_tap_version(&c.t);
    check_int(rc, ==, 0);
    rc = kt_tap_plan(&c.t, 4);
    check_int(rc, ==, 0);
    rc = kt_tap_point(&c.t, true, 1, "plain", KT_TAP_NONE, NULL);
    check_int(rc, ==, 0);
    rc = kt_tap_end(&c.t);
    check_int(rc, ==, 0);
    kt_tap_point(&c.t, true, 2, "needs # hash", KT_TAP_SKIP, "no KVM # really");
    kt_tap_end(&c.t);
    kt_tap_point(&c.t, false, 3, "later", KT_TAP_TODO, "not yet");
    kt_tap_end(&c.t);
    kt_tap_point(&c.t, false, 4, "back\\slash", KT_TAP_NONE, NULL);
    kt_tap_end(&c.t);
    check_str(cap_text(&c), "TAP version 13\n1..4\n"
                            "ok 1 - plain\n"
                            "ok 2 - needs \\# hash # SKIP no KVM \\# really\n"
                            "not ok 3 - later # TODO not yet\n"
                            "not ok 4 - back\\\\slash\n");
    cap_close(&c);
}

static void t_other_lines(void)
{
    capture c;

    cap_open(&c);
    kt_tap_plan_skip_all(&c.t, "nothing # here");
    kt_tap_comment(&c.t, "a note");
    kt_tap_bail_out(&c.t, "interrupted");
    check_str(cap_text(&c), "1..0 # SKIP nothing \\# here\n# a note\n"
                            "Bail out! interrupted\n");
    cap_close(&c);
}

static void t_yaml_block(void)
{
    long rc;
    capture c;

    cap_open(&c);
    kt_tap_point(&c.t, false, 2, "starve_none", KT_TAP_NONE, NULL);
    kt_tap_yaml_str(&c.t, "message", "1 of 4 claims failed");
    kt_tap_yaml_int(&c.t, "claims", 4);
    kt_tap_yaml_list(&c.t, "failures");
    kt_tap_yaml_item_map(&c.t);
    kt_tap_yaml_str(&c.t, "label", "max_gap_ms");
    kt_tap_yaml_str(&c.t, "at", "scenarios/starvation.c:61");
    kt_tap_yaml_close(&c.t);
    kt_tap_yaml_close(&c.t);
    kt_tap_yaml_list(&c.t, "notes");
    kt_tap_yaml_item_str(&c.t, "p99 \"gap\"\n3.2 ms");
    kt_tap_yaml_close(&c.t);
    kt_tap_yaml_map(&c.t, "extra");
    kt_tap_yaml_strf(&c.t, "n", "%d-%s", 7, "x");
    /* left open: kt_tap_end closes it */
    rc = kt_tap_end(&c.t);
    check_int(rc, ==, 0);
    check_str(cap_text(&c), "not ok 2 - starve_none\n"
                            "  ---\n"
                            "  message: \"1 of 4 claims failed\"\n"
                            "  claims: 4\n"
                            "  failures:\n"
                            "    - label: \"max_gap_ms\"\n"
                            "      at: \"scenarios/starvation.c:61\"\n"
                            "  notes:\n"
                            "    - \"p99 \\\"gap\\\"\\n3.2 ms\"\n"
                            "  extra:\n"
                            "    n: \"7-x\"\n"
                            "  ...\n");
    cap_close(&c);
}

/* A list item whose text up to a colon and white space is one word and
 * white space would read as a map: that colon is written \x3a. White
 * space includes what prove sees after decoding UTF-8 (U+2009, U+00A0);
 * past invalid UTF-8 (which may swallow a space) or a non-ASCII byte,
 * only ASCII counts as telling words apart. */
static void t_item_colons(void)
{
    static const char *const items[][2] = {
        { "worst: 42 ms", "worst\\x3a 42 ms" },
        { "a : b, c: d", "a \\x3a b, c: d" },
        { "p99 gap: 3 ms", "p99 gap: 3 ms" },
        { "ends with a colon:", "ends with a colon:" },
        { "a:\xe2\x80\x89\x62", "a\\x3a\xe2\x80\x89\x62" },
        { "x \xc2\xa0: y", "x \xc2\xa0\\x3a y" },
        { "g\x91\xe2\x80\xa8\x61: b", "g\x91\xe2\x80\xa8\x61\\x3a b" },
        { "\xc3\xa9t\xc3\xa9 x: y", "\xc3\xa9t\xc3\xa9 x: y" },
    };
    char want[256];
    capture c;

    for (size_t i = 0; i < sizeof(items) / sizeof(items[0]); i++) {
        cap_open(&c);
        kt_tap_point(&c.t, true, 1, "p", KT_TAP_NONE, NULL);
        kt_tap_yaml_list(&c.t, "notes");
        kt_tap_yaml_item_str(&c.t, items[i][0]);
        check_int(kt_tap_end(&c.t), ==, 0);
        snprintf(want, sizeof(want), "ok 1 - p\n  ---\n  notes:\n    - \"%s\"\n  ...\n",
                 items[i][1]);
        check_str(cap_text(&c), want);
        cap_close(&c);
    }
}

static void t_yaml_empty_containers(void)
{
    capture c;

    cap_open(&c);
    kt_tap_point(&c.t, true, 1, "e", KT_TAP_NONE, NULL);
    kt_tap_yaml_list(&c.t, "none");
    kt_tap_yaml_close(&c.t);
    kt_tap_yaml_map(&c.t, "nomap");
    kt_tap_yaml_close(&c.t);
    kt_tap_yaml_list(&c.t, "items");
    kt_tap_yaml_item_map(&c.t);
    kt_tap_yaml_close(&c.t);
    kt_tap_yaml_close(&c.t);
    kt_tap_end(&c.t);
    check_str(cap_text(&c), "ok 1 - e\n  ---\n  none: []\n  nomap: {}\n"
                            "  items:\n    - {}\n  ...\n");
    cap_close(&c);
}

static void t_misuse(void)
{
    long rc;
    capture c;

    cap_open(&c);
    /* YAML outside a point, a bad key, an item in a map: errors. */
    rc = kt_tap_yaml_str(&c.t, "k", "v");
    check_int(rc, ==, -1);
    kt_tap_point(&c.t, false, 1, "m", KT_TAP_NONE, NULL);
    rc = kt_tap_yaml_str(&c.t, "bad key", "v");
    check_int(rc, ==, -1);
    check_int(errno, ==, EINVAL);
    /* The point is still written, without its broken block. */
    rc = kt_tap_end(&c.t);
    check_int(rc, ==, -1);
    rc = kt_tap_point(&c.t, true, 2, "n", KT_TAP_NONE, NULL);
    check_int(rc, ==, 0);
    rc = kt_tap_yaml_item_str(&c.t, "x");
    check_int(rc, ==, -1);
    kt_tap_end(&c.t);
    /* A line inside an open point is refused. */
    kt_tap_point(&c.t, true, 3, "o", KT_TAP_NONE, NULL);
    rc = kt_tap_plan(&c.t, 1);
    check_int(rc, ==, -1);
    rc = kt_tap_yaml_close(&c.t);
    check_int(rc, ==, -1);
    kt_tap_end(&c.t);
    rc = kt_tap_end(&c.t);
    check_int(rc, ==, -1);
    check_str(cap_text(&c), "not ok 1 - m\nok 2 - n\nok 3 - o\n");
    cap_close(&c);
}

static void t_depth_limit(void)
{
    capture c;
    int rc = 0;

    cap_open(&c);
    kt_tap_point(&c.t, true, 1, "deep", KT_TAP_NONE, NULL);
    for (int i = 0; i < KT_TAP_MAX_DEPTH + 2 && rc == 0; i++)
        rc = kt_tap_yaml_map(&c.t, "m");
    check_int(rc, ==, -1);
    check_int(errno, ==, E2BIG);
    kt_tap_end(&c.t);
    check_str(cap_text(&c), "ok 1 - deep\n");
    cap_close(&c);
}

static void t_fd_output(void)
{
    long rc;
    int p[2];
    kt_tap t;
    char buf[512];
    ssize_t n;

    if (pipe(p) != 0) {
        test_skip("pipe: %s", strerror(errno));
        return;
    }
    kt_tap_init_fd(&t, p[1]);
    kt_tap_version(&t);
    kt_tap_point(&t, true, 1, "x", KT_TAP_NONE, NULL);
    kt_tap_yaml_int(&t, "duration_ms", -3);
    rc = kt_tap_end(&t);
    check_int(rc, ==, 0);
    kt_tap_fini(&t);
    close(p[1]);
    n = read(p[0], buf, sizeof(buf) - 1);
    close(p[0]);
    check_int(n, >, 0);
    buf[n > 0 ? n : 0] = '\0';
    check_str(buf, "TAP version 13\nok 1 - x\n  ---\n  duration_ms: -3\n  ...\n");
}

static void t_write_error(void)
{
    long rc;
    int p[2];
    kt_tap t;

    if (pipe(p) != 0) {
        test_skip("pipe: %s", strerror(errno));
        return;
    }
    close(p[1]);
    kt_tap_init_fd(&t, p[1]);   /* closed: every write fails */
    rc = kt_tap_version(&t);
    check_int(rc, ==, -1);
    check_int(errno, ==, EBADF);
    kt_tap_fini(&t);
    close(p[0]);
}

static void t_long_strings(void)
{
    long rc;
    capture c;
    char *big = malloc(100001);

    if (!big)
        abort();
    memset(big, '"', 100000);
    big[100000] = '\0';
    cap_open(&c);
    kt_tap_point(&c.t, true, 1, "big", KT_TAP_NONE, NULL);
    rc = kt_tap_yaml_str(&c.t, "v", big);
    check_int(rc, ==, 0);
    kt_tap_end(&c.t);
    /* "ok 1 - big\n  ---\n  v: \"" + 2 per quote + "\"\n  ...\n" */
    check_uint(strlen(cap_text(&c)), ==, 11 + 6 + 6 + 200000 + 2 + 6);
    cap_close(&c);
    free(big);
}

int main(void)
{
    TEST(t_escape_desc(), "description escaping: #, \\, control characters");
    TEST(t_quote_yaml(), "YAML strings: quotes, backslashes, newlines, control characters");
    TEST(t_header_and_points(), "version, plan, points, SKIP and TODO directives");
    TEST(t_other_lines(), "skip-all plan, comment, Bail out!");
    TEST(t_yaml_block(), "YAML block: maps, lists, item maps, closed with ...");
    TEST(t_item_colons(), "YAML list items: a colon that would start a map is \\x3a, Unicode spaces too");
    TEST(t_yaml_empty_containers(), "YAML: empty list and map as [] and {}");
    TEST(t_misuse(), "misuse is an error and never a broken block");
    TEST(t_depth_limit(), "nesting deeper than KT_TAP_MAX_DEPTH is refused");
    TEST(t_fd_output(), "writing to a file descriptor");
    TEST(t_write_error(), "a failing write is reported");
    TEST(t_long_strings(), "a 100000-character value");
    return test_done();
}
