/* Changes while tasks run (ktstr/changes.h): bad tables are refused
 * naming the row and field; each change is made at or after its time
 * and does what it says (the affinity, nice, policy, cgroup the kernel
 * then holds); a failed change is recorded with its call and errno, the
 * later ones still made, and claimed as ops[<i>]; a cgroup removed twice
 * says ENOENT; rows not yet due when freed are "not made". */
#include "work/fixture.h"

#include <ktstr/changes.h>

#include <sched.h>
#include <sys/resource.h>

static kt_work_spec spin1 = { .kind = KT_WORK_SPIN, .count = 1 };

static void refused(const kt_changes_env *env, const kt_change *plan, size_t n,
                           const char *words)
{
    kt_err err = { 0 };
    kt_changes *c = kt_changes_start(env, plan, n, &err);

    check(c == NULL);
    check_contains(err.msg, words);
    kt_changes_free(c);
}

static void t_bad_tables(void)
{
    kt_err err;
    kt_work *w = fx_start(&spin1, &err);
    kt_cgroup *slots[1] = { 0 };
    kt_changes_env env = { .work = w, .groups = slots, .ngroups = 1 };

    if (!w)
        return;
    refused(&env, &(kt_change){ .op = KT_CHANGE_NOPS }, 1, "ops[0]: op 11 unknown");
    refused(&env, (kt_change[]){ { .at_ms = 50, .op = KT_CHANGE_NICE },
                                        { .at_ms = 10, .op = KT_CHANGE_NICE } }, 2,
                   "ops[1] nice: at_ms 10 before the previous row's 50");
    refused(&env, &(kt_change){ .op = KT_CHANGE_NICE, .worker = 3 }, 1,
                   "ops[0] nice: worker 3 is not in the work set (1 workers)");
    refused(&env, &(kt_change){ .op = KT_CHANGE_CPUSET, .group = 1, .cpus = "0" }, 1,
                   "ops[0] cpuset: group slot 1 out of range (1 slots)");
    refused(&env, &(kt_change){ .op = KT_CHANGE_MOVE, .group = -2 }, 1,
                   "group slot -2 out of range (1 slots; -1 is the root)");
    refused(&env, &(kt_change){ .op = KT_CHANGE_AFFINITY, .cpus = "0-x" }, 1,
                   "ops[0] affinity: cpus \"0-x\"");
    refused(&env, &(kt_change){ .op = KT_CHANGE_CGROUP_CREATE }, 1,
                   "ops[0] cgroup_create: no name");
    refused(&env, &(kt_change){ .op = KT_CHANGE_NICE, .nice = 20 }, 1,
                   "ops[0] nice: 20 out of -20..19");
    refused(&env, &(kt_change){ .op = KT_CHANGE_WEIGHT }, 1,
                   "ops[0] weight: 0 out of 1..10000");
    refused(&env, &(kt_change){ .op = KT_CHANGE_POLICY, .policy = KT_POLICY_FIFO }, 1,
                   "ops[0] policy: work spec: rt_prio 0 out of 1..99");
    refused(&env, &(kt_change){ .op = KT_CHANGE_CPUSET_SWAP, .group = 0, .other = 0 }, 1,
                   "cpuset_swap: other slot 0 must be another");
    refused(&env, &(kt_change){ .op = KT_CHANGE_CPU_ONLINE, .cpu = -1 }, 1,
                   "ops[0] cpu_online: cpu -1");
    env.work = NULL;
    refused(&env, &(kt_change){ .op = KT_CHANGE_NICE }, 1,
                   "worker 0 is not in the work set (0 workers)");
    kt_work_free(w);
}

/* Two changes of ktw0: its affinity to the last allowed CPU at 50 ms, its
 * nice to 7 at 80 ms; the kernel holds both afterwards. */
static void t_affinity_and_nice(void)
{
    int cpus[64], n;
    char last[16];
    kt_err err;
    kt_work *w;
    cpu_set_t set;
    kt_verdict v;

    n = kt_allowed_cpus(cpus, 64, &err);
    if (!check(n >= 1) || !(w = fx_start(&spin1, &err)))
        return;
    snprintf(last, sizeof(last), "%d", cpus[n - 1]);
    kt_change plan[] = {
        { .at_ms = 50, .op = KT_CHANGE_AFFINITY, .worker = 0, .cpus = last },
        { .at_ms = 80, .op = KT_CHANGE_NICE, .worker = 0, .nice = 7 },
    };
    kt_changes_env env = { .work = w };
    kt_changes *c = kt_changes_start(&env, plan, 2, &err);

    if (!check(c != NULL)) {
        test_msg("%s", err.msg);
        kt_work_free(w);
        return;
    }
    kt_changes_wait(c);
    check_uint(kt_changes_count(c), ==, 2);
    check_str(kt_changes_get(c, 0)->result, "ok");
    check_contains(kt_changes_get(c, 0)->what, "affinity ktw0 ");
    check_str(kt_changes_get(c, 1)->what, "nice ktw0 7");
    check_dbl(kt_changes_get(c, 0)->actual_ms, >=, 50);
    check_dbl(kt_changes_get(c, 1)->actual_ms, >=, 80);
    check_uint(kt_changes_at_ns(c, 0), >=, kt_changes_start_ns(c) + 50 * FX_MS);
    check_uint(kt_changes_at_ns(c, 1), >, kt_changes_at_ns(c, 0));
    check_int(sched_getaffinity(kt_work_tid(w, 0), sizeof(set), &set), ==, 0);
    check_int(CPU_COUNT(&set), ==, 1);
    check(CPU_ISSET(cpus[n - 1], &set));
    errno = 0;
    check_int(getpriority(PRIO_PROCESS, (id_t)kt_work_tid(w, 0)), ==, 7);
    kt_verdict_init(&v);
    check(kt_changes_claim(c, &v));
    check_uint(kt_verdict_claims(&v), ==, 2);
    kt_verdict_fini(&v);
    kt_changes_free(c);
    kt_work_free(w);
}

/* An affinity to a CPU the machine does not have: EINVAL recorded with
 * the call, the next change still made, the claim names both. */
static void t_failed_change(void)
{
    kt_err err;
    kt_work *w = fx_start(&spin1, &err);
    kt_verdict v;
    const kt_change_record *r;

    if (!w)
        return;
    kt_change plan[] = {
        { .at_ms = 10, .op = KT_CHANGE_AFFINITY, .worker = 0, .cpus = "1000" },
        { .at_ms = 20, .op = KT_CHANGE_NICE, .worker = 0, .nice = 3 },
    };
    kt_changes_env env = { .work = w };
    kt_changes *c = kt_changes_start(&env, plan, 2, &err);

    if (!check(c != NULL)) {
        kt_work_free(w);
        return;
    }
    kt_changes_wait(c);
    r = kt_changes_get(c, 0);
    check_int(r->error, ==, EINVAL);
    check_contains(r->result, "sched_setaffinity(ktw0, tid ");
    check_contains(r->result, "(EINVAL)");
    check_uint(kt_changes_at_ns(c, 0), ==, 0);
    check_str(kt_changes_get(c, 1)->result, "ok");
    kt_verdict_init(&v);
    check(!kt_changes_claim(c, &v));
    check_uint(kt_verdict_failed(&v), ==, 1);
    check_str(kt_verdict_failure(&v, 0)->label, "ops[0]");
    check_contains(kt_verdict_failure(&v, 0)->message, "ops[0]: affinity ktw0 1000 at ");
    check_contains(kt_verdict_failure(&v, 0)->message, "(planned 10): sched_setaffinity");
    kt_verdict_fini(&v);
    kt_changes_free(c);
    kt_work_free(w);
}

/* Freed before its rows are due: they are "not made", the claim fails. */
static void t_stopped_early(void)
{
    kt_err err;
    kt_changes_env env = { 0 };
    kt_change plan[] = { { .at_ms = 60000, .op = KT_CHANGE_CPU_ONLINE, .cpu = 0 } };
    kt_changes *c = kt_changes_start(&env, plan, 1, &err);
    uint64_t t0 = kt_now_ns();

    if (!check(c != NULL))
        return;
    check_dbl(kt_changes_get(c, 0)->actual_ms, ==, -1);
    check_str(kt_changes_get(c, 0)->result, "not made yet");
    kt_changes_free(c);   /* must not wait a minute */
    check_uint(kt_now_ns() - t0, <, 30000 * FX_MS);
}

/* Root: a group created mid-run, a worker moved in, its cpuset set,
 * the group removed with the worker inside (back to the root), removed
 * again: ENOENT from rmdir. */
static void t_cgroup_changes(void)
{
    kt_work_spec proc1 = { .kind = KT_WORK_SPIN, .count = 1, .process = true };
    kt_cgroup *slots[1] = { 0 };
    kt_cg_hooks hooks = { 0 };
    int cpus[64], n;
    char first[16];
    kt_err err;
    kt_work *w;

    if (geteuid() != 0) {
        test_skip("cgroup changes need root");
        return;
    }
    n = kt_allowed_cpus(cpus, 64, &err);
    if (!check(n >= 1) || !(w = fx_start(&proc1, &err)))
        return;
    snprintf(first, sizeof(first), "%d", cpus[0]);
    kt_change plan[] = {
        { .at_ms = 10, .op = KT_CHANGE_CGROUP_CREATE, .group = 0, .name = "chg", .cpus = first },
        { .at_ms = 20, .op = KT_CHANGE_MOVE, .worker = 0, .group = 0 },
        { .at_ms = 30, .op = KT_CHANGE_WEIGHT, .group = 0, .weight = 300 },
        { .at_ms = 40, .op = KT_CHANGE_CGROUP_REMOVE, .group = 0 },
        { .at_ms = 50, .op = KT_CHANGE_CGROUP_REMOVE, .group = 0 },
    };
    kt_changes_env env = { .work = w, .groups = slots, .ngroups = 1, .hooks = &hooks };
    kt_changes *c = kt_changes_start(&env, plan, 5, &err);

    if (!check(c != NULL)) {
        kt_work_free(w);
        return;
    }
    kt_changes_wait(c);
    for (int i = 0; i < 4; i++) {
        check_str(kt_changes_get(c, (size_t)i)->result, "ok");
        if (strcmp(kt_changes_get(c, (size_t)i)->result, "ok"))
            test_msg("ops[%d] %s: %s", i, kt_changes_get(c, (size_t)i)->what,
                     kt_changes_get(c, (size_t)i)->result);
    }
    check_str(kt_changes_get(c, 0)->what, "cgroup_create g0 chg 0");
    check(slots[0] == NULL);                     /* removed: the slot is empty */
    check_int(kt_changes_get(c, 4)->error, ==, ENOENT);
    check_contains(kt_changes_get(c, 4)->result, "rmdir ");
    check_contains(kt_changes_get(c, 4)->result, "(removed before)");
    check_contains(kt_changes_get(c, 4)->result, "ENOENT");
    {   /* the worker survived its group: it still makes progress */
        uint64_t it = kt_work_iterations(w, 0);

        fx_sleep_ms(50);
        check_uint(kt_work_iterations(w, 0), >, it);
    }
    kt_changes_free(c);
    kt_work_free(w);
}

int main(void)
{
    TEST(t_bad_tables(), "bad tables are refused, naming the row and the field");
    TEST(t_affinity_and_nice(), "affinity and nice changed at their times; the kernel holds them");
    TEST(t_failed_change(), "a failed change: its call and errno, the next still made, ops[0] fails");
    TEST(t_stopped_early(), "rows not yet due when freed are not made, and freeing does not wait");
    TEST(t_cgroup_changes(), "a group created, entered, weighted, removed, removed again (ENOENT)");
    return test_done();
}
