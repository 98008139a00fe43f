/* The verdict: notes, skip, merge, bounds and the sink. */
#include "harness/unit.h"

#include <ktstr/cpuset.h>
#include <ktstr/series.h>
#include <ktstr/verdict.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void t_empty(void)
{
    kt_verdict v;

    kt_verdict_init(&v);
    check(kt_verdict_passed(&v));
    check_int(kt_verdict_outcome(&v), ==, KT_OUTCOME_PASS);
    check_uint(kt_verdict_claims(&v), ==, 0);
    check_uint(kt_verdict_failed(&v), ==, 0);
    check_uint(kt_verdict_failure_count(&v), ==, 0);
    check_uint(kt_verdict_note_count(&v), ==, 0);
    check(kt_verdict_failure(&v, 0) == NULL);
    check(kt_verdict_note_text(&v, 0) == NULL);
    check(kt_verdict_skip_reason(&v) == NULL);
    kt_verdict_fini(&v);
    kt_verdict_fini(&v); /* twice is harmless */
}

static void t_collects_every_failure(void)
{
    kt_verdict v;
    int a = 1, b = 2;

    kt_verdict_init(&v);
    CLAIM(&v, a, eq, 2);
    CLAIM(&v, a, lt, b);
    CLAIM(&v, b, at_most, 1);
    check_uint(kt_verdict_claims(&v), ==, 3);
    check_uint(kt_verdict_failed(&v), ==, 2);
    check_uint(kt_verdict_failure_count(&v), ==, 2);
    check_str(kt_verdict_failure(&v, 0)->message, "a: expected 2, was 1");
    check_str(kt_verdict_failure(&v, 1)->message, "b: expected at most 1, was 2");
    check(kt_verdict_failure(&v, 2) == NULL);
    kt_verdict_fini(&v);
}

static void t_notes(void)
{
    kt_verdict v;

    kt_verdict_init(&v);
    kt_verdict_note(&v, "p99 gap %.1f ms", 3.2);
    kt_verdict_note(&v, "second");
    check(kt_verdict_passed(&v));
    check_int(kt_verdict_outcome(&v), ==, KT_OUTCOME_PASS);
    check_uint(kt_verdict_note_count(&v), ==, 2);
    check_str(kt_verdict_note_text(&v, 0), "p99 gap 3.2 ms");
    check_str(kt_verdict_note_text(&v, 1), "second");
    check(kt_verdict_note_text(&v, 2) == NULL);
    kt_verdict_fini(&v);
}

static void t_skip(void)
{
    kt_verdict v;

    kt_verdict_init(&v);
    CLAIM(&v, 1, eq, 1);
    kt_verdict_skip(&v, "needs %s", "CAP_SYS_NICE");
    kt_verdict_skip(&v, "second reason");
    check(kt_verdict_passed(&v));
    check_int(kt_verdict_outcome(&v), ==, KT_OUTCOME_SKIP);
    check_str(kt_verdict_skip_reason(&v), "needs CAP_SYS_NICE");
    kt_verdict_fini(&v);
}

static void t_skip_never_hides_failure(void)
{
    kt_verdict v;

    /* failure before the skip */
    kt_verdict_init(&v);
    CLAIM(&v, 1, eq, 2);
    kt_verdict_skip(&v, "too late");
    check(!kt_verdict_passed(&v));
    check_int(kt_verdict_outcome(&v), ==, KT_OUTCOME_FAIL);
    kt_verdict_fini(&v);

    /* failure after the skip */
    kt_verdict_init(&v);
    kt_verdict_skip(&v, "early");
    check_int(kt_verdict_outcome(&v), ==, KT_OUTCOME_SKIP);
    CLAIM(&v, 1, eq, 2);
    check_int(kt_verdict_outcome(&v), ==, KT_OUTCOME_FAIL);
    check_str(kt_verdict_skip_reason(&v), "early");
    kt_verdict_fini(&v);
}

static void t_merge(void)
{
    kt_verdict dst, src;
    double ipc = 0.2;

    kt_verdict_init(&dst);
    kt_verdict_init(&src);
    CLAIM(&dst, 1, eq, 1);
    CLAIM(&src, ipc, at_least, 1.0);
    CLAIM(&src, ipc, is_finite);
    kt_verdict_note(&src, "halted 80%%");
    kt_verdict_skip(&src, "no PMU");

    kt_verdict_merge(&dst, &src, "vcpu3");
    check_uint(kt_verdict_claims(&dst), ==, 3);
    check_uint(kt_verdict_failed(&dst), ==, 1);
    check_uint(kt_verdict_failure_count(&dst), ==, 1);
    check_str(kt_verdict_failure(&dst, 0)->label, "vcpu3: ipc");
    check_str(kt_verdict_failure(&dst, 0)->message,
              "vcpu3: ipc: expected at least 1, was 0.2");
    check_str(kt_verdict_failure(&dst, 0)->op, "at_least");
    check_str(kt_verdict_failure(&dst, 0)->expected, "1");
    check_str(kt_verdict_failure(&dst, 0)->actual, "0.2");
    check_str(kt_verdict_failure(&dst, 0)->file, __FILE__);
    check_uint(kt_verdict_note_count(&dst), ==, 2);
    check_str(kt_verdict_note_text(&dst, 0), "vcpu3: halted 80%");
    check_str(kt_verdict_note_text(&dst, 1), "vcpu3: skipped: no PMU");
    check(kt_verdict_skip_reason(&dst) == NULL); /* the skip became a note */
    check_int(kt_verdict_outcome(&dst), ==, KT_OUTCOME_FAIL);

    /* src is untouched and may be freed on its own */
    check_str(kt_verdict_failure(&src, 0)->label, "ipc");
    kt_verdict_fini(&src);
    check_str(kt_verdict_failure(&dst, 0)->label, "vcpu3: ipc");

    /* no prefix: copied as is; a verdict merged into itself terminates */
    kt_verdict_init(&src);
    CLAIM(&src, 2, lt, 1);
    kt_verdict_merge(&dst, &src, NULL);
    check_str(kt_verdict_failure(&dst, 1)->message, "2: expected less than 1, was 2");
    kt_verdict_merge(&dst, &dst, "self");
    check_uint(kt_verdict_failure_count(&dst), ==, 4);
    check_str(kt_verdict_failure(&dst, 3)->message, "self: 2: expected less than 1, was 2");
    kt_verdict_fini(&src);
    kt_verdict_fini(&dst);
}

static void t_failure_cap(void)
{
    kt_verdict v, dst;
    int i;

    kt_verdict_init(&v);
    for (i = 0; i < KT_VERDICT_MAX_FAILURES + 1; i++)
        CLAIM(&v, i, lt, 0);
    check_uint(kt_verdict_failed(&v), ==, KT_VERDICT_MAX_FAILURES + 1);
    check_uint(kt_verdict_claims(&v), ==, KT_VERDICT_MAX_FAILURES + 1);
    check_uint(kt_verdict_failure_count(&v), ==, KT_VERDICT_MAX_FAILURES + 1);
    check_str(kt_verdict_failure(&v, KT_VERDICT_MAX_FAILURES - 1)->message,
              "i: expected less than 0, was 9999");
    check_str(kt_verdict_failure(&v, KT_VERDICT_MAX_FAILURES)->message,
              "1 more failures not kept");
    check_str(kt_verdict_failure(&v, KT_VERDICT_MAX_FAILURES)->op, "dropped");
    check(kt_verdict_failure(&v, KT_VERDICT_MAX_FAILURES + 1) == NULL);
    for (i = 0; i < 41; i++)
        CLAIM(&v, i, lt, 0);
    check_str(kt_verdict_failure(&v, KT_VERDICT_MAX_FAILURES)->message,
              "42 more failures not kept");
    check_uint(kt_verdict_failure_count(&v), ==, KT_VERDICT_MAX_FAILURES + 1);

    /* merged into an empty verdict, the count of dropped ones carries over */
    kt_verdict_init(&dst);
    kt_verdict_merge(&dst, &v, "x");
    check_uint(kt_verdict_failed(&dst), ==, KT_VERDICT_MAX_FAILURES + 42);
    check_str(kt_verdict_failure(&dst, KT_VERDICT_MAX_FAILURES)->message,
              "42 more failures not kept");
    kt_verdict_fini(&dst);
    kt_verdict_fini(&v);
}

static void t_note_cap(void)
{
    kt_verdict v;
    int i;

    kt_verdict_init(&v);
    for (i = 0; i < KT_VERDICT_MAX_NOTES + 3; i++)
        kt_verdict_note(&v, "note %d", i);
    check_uint(kt_verdict_note_count(&v), ==, KT_VERDICT_MAX_NOTES + 1);
    check_str(kt_verdict_note_text(&v, KT_VERDICT_MAX_NOTES - 1), "note 999");
    check_str(kt_verdict_note_text(&v, KT_VERDICT_MAX_NOTES), "3 more notes not kept");
    check(kt_verdict_passed(&v));
    kt_verdict_fini(&v);
}

static void t_long_strings_cut(void)
{
    kt_verdict v;
    char *big = malloc(1 << 20);
    size_t len;

    if (!check(big != NULL))
        return;
    memset(big, 'n', (1 << 20) - 1);
    big[(1 << 20) - 1] = '\0';
    /* a UTF-8 "é" (2 bytes) straddling the cut must not be split */
    memcpy(big + KT_VERDICT_STR_MAX - 9, "\xc3\xa9\xc3\xa9\xc3\xa9", 6);
    kt_verdict_init(&v);
    kt_verdict_note(&v, "%s", big);
    len = strlen(kt_verdict_note_text(&v, 0));
    check_uint(len, <=, KT_VERDICT_STR_MAX);
    check_uint(len, >=, KT_VERDICT_STR_MAX - 10);
    check_contains(kt_verdict_note_text(&v, 0), "...[cut]");
    check((unsigned char)kt_verdict_note_text(&v, 0)[len - 9] != 0xc3);
    kt_verdict_skip(&v, "%s", big);
    check_uint(strlen(kt_verdict_skip_reason(&v)), <=, KT_VERDICT_STR_MAX);
    CLAIM_AS(&v, big, 1, eq, 0);
    check_uint(strlen(kt_verdict_failure(&v, 0)->label), <=, KT_VERDICT_STR_MAX);
    check_uint(strlen(kt_verdict_failure(&v, 0)->message), <=, 2 * KT_VERDICT_STR_MAX);
    kt_verdict_merge(&v, &v, big); /* a huge prefix too */
    check_uint(strlen(kt_verdict_failure(&v, 1)->label), <=, KT_VERDICT_STR_MAX);
    check_uint(strlen(kt_verdict_note_text(&v, 1)), <=, KT_VERDICT_STR_MAX);
    kt_verdict_fini(&v);
    free(big);
}

/* A sink that writes each event as one line. */
struct log {
    char text[4096];
};

static void log_sink(void *arg, kt_event ev, const kt_claim_record *c, const char *text)
{
    static const char *names[] = { "PASS", "FAIL", "NOTE", "SKIP", "DROPPED" };
    struct log *log = arg;
    size_t n = strlen(log->text);

    if (c)
        snprintf(log->text + n, sizeof(log->text) - n, "%s %s|%s|%s|%s|%d\n",
                 names[ev], c->message, c->expected, c->actual,
                 c->passed ? "passed" : "failed", c->line > 0);
    else
        snprintf(log->text + n, sizeof(log->text) - n, "%s %s\n", names[ev], text);
}

static void t_sink_events_in_order(void)
{
    kt_verdict v, src;
    struct log log = { "" };
    int x = 5;

    kt_verdict_init(&v);
    CLAIM(&v, x, eq, 6); /* before the sink: not streamed */
    kt_verdict_set_sink(&v, log_sink, &log, false);
    CLAIM(&v, x, eq, 5); /* a pass: not streamed */
    CLAIM(&v, x, lt, 1);
    kt_verdict_note(&v, "n%d", 1);
    kt_verdict_skip(&v, "why");
    CLAIM(&v, x, between, 6, 7);
    kt_verdict_init(&src);
    CLAIM(&src, x, gt, 9);
    kt_verdict_note(&src, "inner");
    kt_verdict_merge(&v, &src, "m");
    kt_verdict_fini(&src);
    check_str(log.text,
              "FAIL x: expected less than 1, was 5|1|5|failed|1\n"
              "NOTE n1\n"
              "SKIP why\n"
              "FAIL x: expected in [6, 7], was 5|[6, 7]|5|failed|1\n"
              "FAIL m: x: expected greater than 9, was 5|9|5|failed|1\n"
              "NOTE m: inner\n");

    log.text[0] = '\0';
    kt_verdict_set_sink(&v, log_sink, &log, true);
    CLAIM(&v, x, eq, 5);
    CLAIM(&v, x, between, 1, 9);
    CLAIM(&v, x, near, 5.5, 1);
    CLAIM(&v, x, is_finite);
    CLAIM(&v, x, ne, 5);
    check_str(log.text,
              "PASS x: expected 5, was 5|5|5|passed|1\n"
              "PASS x: expected in [1, 9], was 5|[1, 9]|5|passed|1\n"
              "PASS x: expected near 5.5 (+/-1), was 5|5.5 (+/-1)|5|passed|1\n"
              "PASS x: expected finite, was 5|finite|5|passed|1\n"
              "FAIL x: expected != 5, was 5|5|5|failed|1\n");

    log.text[0] = '\0';
    kt_verdict_set_sink(&v, NULL, &log, true);
    CLAIM(&v, x, eq, 4);
    check_str(log.text, "");
    check_uint(kt_verdict_claims(&v), ==, 11);
    kt_verdict_fini(&v);
}

static void t_sink_dropped(void)
{
    kt_verdict v;
    struct log log = { "" };
    int i;

    kt_verdict_init(&v);
    for (i = 0; i < KT_VERDICT_MAX_FAILURES; i++)
        CLAIM(&v, i, lt, 0);
    for (i = 0; i < KT_VERDICT_MAX_NOTES; i++)
        kt_verdict_note(&v, "n");
    kt_verdict_set_sink(&v, log_sink, &log, false);
    CLAIM(&v, i, lt, 0);
    CLAIM(&v, i, lt, 0);
    kt_verdict_note(&v, "n");
    check_str(log.text,
              "DROPPED 1 more failures not kept\n"
              "DROPPED 2 more failures not kept\n"
              "DROPPED 1 more notes not kept\n");
    kt_verdict_fini(&v);
}

static void t_reinit_after_fini(void)
{
    kt_verdict v;

    kt_verdict_init(&v);
    CLAIM(&v, 1, eq, 2);
    kt_verdict_note(&v, "x");
    kt_verdict_skip(&v, "y");
    kt_verdict_fini(&v);
    kt_verdict_init(&v);
    check(kt_verdict_passed(&v));
    check_uint(kt_verdict_failure_count(&v), ==, 0);
    check_uint(kt_verdict_note_count(&v), ==, 0);
    kt_verdict_fini(&v);
}

/* Counts the timed passes a sink sees. */
static void count_timed(void *arg, kt_event ev, const kt_claim_record *c, const char *text)
{
    (void)text;
    if (ev == KT_EVENT_PASS && c->timed)
        ++*(int *)arg;
}

static void t_timing(void)
{
    kt_verdict v, dst;
    kt_series *s = kt_series_new("gap_ms");
    kt_cpuset set, bound;
    int timed_passes = 0, x = 1;

    kt_verdict_init(&v);
    check(!kt_verdict_timing(&v, true));
    CLAIM(&v, x, eq, 2);                      /* timed */
    CLAIM(&v, x, eq, 1);                      /* timed pass, counted only */
    kt_series_add(s, 0, 5.0);
    kt_series_add(s, 1000000, 5.0);
    CLAIM_SERIES(&v, s, each_at_most, 1.0);   /* timed series */
    check(kt_verdict_timing(&v, false));
    CLAIM(&v, x, eq, 3);                      /* not timed */
    kt_cpuset_clear(&set);
    kt_cpuset_clear(&bound);
    kt_cpuset_add(&set, 1);
    CLAIM_CPUS(&v, set, subset_of, bound);    /* not timed */
    check_uint(kt_verdict_failure_count(&v), ==, 4);
    check(kt_verdict_failure(&v, 0)->timed);
    check(kt_verdict_failure(&v, 1)->timed);
    check(!kt_verdict_failure(&v, 2)->timed);
    check(!kt_verdict_failure(&v, 3)->timed);

    /* a merge keeps the flag, and marks what it copies while dst's is on */
    kt_verdict_init(&dst);
    kt_verdict_merge(&dst, &v, "vcpu1");
    check(kt_verdict_failure(&dst, 0)->timed);
    check(!kt_verdict_failure(&dst, 2)->timed);
    kt_verdict_timing(&dst, true);
    kt_verdict_merge(&dst, &v, "vcpu2");
    check(kt_verdict_failure(&dst, 6)->timed);
    kt_verdict_fini(&dst);

    /* a sink that wants passes sees them marked */
    kt_verdict_set_sink(&v, count_timed, &timed_passes, true);
    kt_verdict_timing(&v, true);
    CLAIM(&v, x, eq, 1);
    CLAIM_SERIES(&v, s, each_at_most, 10.0);
    kt_verdict_timing(&v, false);
    CLAIM(&v, x, eq, 1);
    check_int(timed_passes, ==, 2);
    kt_series_free(s);
    kt_verdict_fini(&v);
}

int main(void)
{
    TEST(t_empty(), "an empty verdict passes");
    TEST(t_collects_every_failure(), "checking goes on after a failure");
    TEST(t_notes(), "notes never change the outcome");
    TEST(t_skip(), "skip keeps the first reason");
    TEST(t_skip_never_hides_failure(), "a skip never hides a failure, before or after");
    TEST(t_merge(), "merge prefixes labels and messages, adds claims, skip becomes a note");
    TEST(t_failure_cap(), "failures are capped with one 'N more failures not kept' entry");
    TEST(t_note_cap(), "notes are capped the same way");
    TEST(t_long_strings_cut(), "long notes, reasons, labels and prefixes are cut");
    TEST(t_sink_events_in_order(), "the sink sees every event in order");
    TEST(t_sink_dropped(), "the sink is told about dropped failures and notes");
    TEST(t_reinit_after_fini(), "a verdict can be initialised again after fini");
    TEST(t_timing(), "claims checked while timing is on are marked timed, through merge and sink");
    return test_done();
}
