/*
 * The seed's three verdict tests, ported: a captured vCPU perf sample
 * judged with claims. The sample struct is a local copy of the contract's
 * fields (the real kt_vcpu_perf_sample comes with the capture module).
 */
#include "harness/unit.h"

#include <ktstr/verdict.h>

#include <stdint.h>

struct seed_sample {
    uint64_t cycles, instructions, cache_misses, branch_misses;
    uint64_t time_enabled_ns, time_running_ns;
};

/* Instructions per cycle; 0 when cycles is 0 (never ran, or halted). */
static double seed_ipc(const struct seed_sample *s)
{
    return s->cycles ? (double)s->instructions / (double)s->cycles : 0.0;
}

static void t_idle_ipc_fails(void)
{
    struct seed_sample s = { 0 };
    double ipc = seed_ipc(&s);
    kt_verdict v;

    kt_verdict_init(&v);
    check(!CLAIM(&v, ipc, at_least, 1.0));
    check(!kt_verdict_passed(&v));
    if (check_uint(kt_verdict_failure_count(&v), ==, 1)) {
        check_contains(kt_verdict_failure(&v, 0)->message, "at least 1");
        check_contains(kt_verdict_failure(&v, 0)->message, "ipc");
        check_str(kt_verdict_failure(&v, 0)->message, "ipc: expected at least 1, was 0");
    }
    kt_verdict_fini(&v);
}

static void t_productive_ipc_passes(void)
{
    struct seed_sample s = { .cycles = 1000, .instructions = 1500 };
    double ipc = seed_ipc(&s);
    kt_verdict v;

    kt_verdict_init(&v);
    check(CLAIM(&v, ipc, at_least, 1.0));
    check(CLAIM(&v, ipc, is_finite));
    check(kt_verdict_passed(&v));
    check_uint(kt_verdict_claims(&v), ==, 2);
    check_uint(kt_verdict_failure_count(&v), ==, 0);
    kt_verdict_fini(&v);
}

static void t_multiplexed_fails_eq(void)
{
    struct seed_sample s = {
        .cycles = 500, .instructions = 800, .cache_misses = 10,
        .branch_misses = 2, .time_enabled_ns = 1000000,
        .time_running_ns = 600000,
    };
    kt_verdict v;

    kt_verdict_init(&v);
    check(!CLAIM(&v, s.time_running_ns, eq, s.time_enabled_ns));
    check(!kt_verdict_passed(&v));
    if (check_uint(kt_verdict_failure_count(&v), ==, 1)) {
        check_contains(kt_verdict_failure(&v, 0)->message, "expected 1000000");
        check_contains(kt_verdict_failure(&v, 0)->message, "was 600000");
        check_str(kt_verdict_failure(&v, 0)->label, "s.time_running_ns");
    }
    kt_verdict_fini(&v);
}

int main(void)
{
    TEST(t_idle_ipc_fails(), "seed: idle vCPU (cycles 0, ipc 0) fails ipc at_least 1");
    TEST(t_productive_ipc_passes(), "seed: productive vCPU (ipc 1.5) passes at_least 1 and is_finite");
    TEST(t_multiplexed_fails_eq(), "seed: multiplexed sample fails time_running eq time_enabled");
    return test_done();
}
