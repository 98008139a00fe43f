/* The report's building blocks: every outcome's one name, the one
 * "N more ... not kept" wording, and the copy of a claim record the
 * verdict and the runner both keep. */
#include "harness/unit.h"

#include "verdict/verdict_item.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void t_outcome_names(void)
{
    /* DESIGN.md section 10's outcome names, in the enum's order. */
    static const char *const want[] = { "pass", "fail", "skip", "crash", "timeout",
                                        "panic", "scheduler", "error", "inconclusive" };

    check_int(KT_OUTCOME_N, ==, sizeof(want) / sizeof(want[0]));
    for (int o = 0; o < KT_OUTCOME_N; o++)
        check_str(kt_outcome_name((kt_outcome)o), want[o]);
    check_str(kt_outcome_name(KT_OUTCOME_N), "?");
}

static void t_verdict_outcomes_named(void)
{
    kt_verdict v;

    kt_verdict_init(&v);
    check_str(kt_outcome_name(kt_verdict_outcome(&v)), "pass");
    kt_verdict_skip(&v, "later");
    check_str(kt_outcome_name(kt_verdict_outcome(&v)), "skip");
    CLAIM(&v, 1, eq, 2);
    check_str(kt_outcome_name(kt_verdict_outcome(&v)), "fail");
    kt_verdict_fini(&v);
}

static void t_more_wording(void)
{
    char buf[KT__MORE_MAX];

    check_str(kt__more_not_kept(buf, 50, "failures"), "50 more failures not kept");
    check_str(kt__more_not_kept(buf, 1, "notes"), "1 more notes not kept");
    /* the largest count fits the buffer whole */
    check_str(kt__more_not_kept(buf, UINT64_MAX, "failures"),
              "18446744073709551615 more failures not kept");
}

/* The verdict's own summary entry uses the same wording. */
static void t_more_in_verdict(void)
{
    kt_verdict v;
    const kt_claim_record *last;

    kt_verdict_init(&v);
    for (int i = 0; i < KT_VERDICT_MAX_FAILURES + 3; i++)
        CLAIM(&v, i, lt, 0);
    last = kt_verdict_failure(&v, kt_verdict_failure_count(&v) - 1);
    if (check(last != NULL)) {
        check_str(last->op, "dropped");
        check_str(last->message, "3 more failures not kept");
    }
    kt_verdict_fini(&v);
}

static void t_item_copy(void)
{
    kt_claim_record rec = { "ipc", "at_least", "1", "0", "ipc: expected at least 1, was 0",
                            "s.c", 12, true };
    char *long_label = malloc(KT_VERDICT_STR_MAX + 100);
    struct kt__verdict_item *it = kt__verdict_item_new(&rec, "vcpu0");

    if (check(it != NULL)) {
        check_str(it->rec.label, "vcpu0: ipc");
        check_str(it->rec.op, "at_least");
        check_str(it->rec.expected, "1");
        check_str(it->rec.actual, "0");
        check_str(it->rec.message, "vcpu0: ipc: expected at least 1, was 0");
        check_str(it->rec.file, "s.c");
        check_int(it->rec.line, ==, 12);
        check(it->rec.passed);
    }
    free(it);
    if (!check(long_label != NULL))
        return;
    memset(long_label, 'x', KT_VERDICT_STR_MAX + 99);
    long_label[KT_VERDICT_STR_MAX + 99] = '\0';
    rec.label = long_label;
    rec.op = rec.file = NULL;   /* NULL reads as "" */
    it = kt__verdict_item_new(&rec, NULL);
    if (check(it != NULL)) {
        check_uint(strlen(it->rec.label), ==, KT_VERDICT_STR_MAX);
        check_contains(it->rec.label, "...[cut]");
        check_str(it->rec.op, "");
        check_str(it->rec.file, "");
    }
    free(it);
    free(long_label);
}

int main(void)
{
    TEST(t_outcome_names(), "every outcome has one name, as DESIGN.md section 10 spells it");
    TEST(t_verdict_outcomes_named(), "a verdict's pass, skip and fail read as their names");
    TEST(t_more_wording(), "one wording for what a bound dropped, whatever the count");
    TEST(t_more_in_verdict(), "the verdict's summary entry has that wording");
    TEST(t_item_copy(), "a kept claim record is a prefixed, cut copy in one block");
    return test_done();
}
