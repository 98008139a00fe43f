/* Scenarios that exercise every outcome the runner reports; the Perl tests
 * pick them with --filter and check the TAP, stderr and what is left.
 * KT_TEST_DIR names a scratch directory for files the tests inspect. */
#include <ktstr.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

/* Under SAN=1, ASan would turn SIGSEGV into exit(1): these scenarios
 * test how the runner reports a real death by signal. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "handle_segv=0";
}

/* A path under $KT_TEST_DIR (or /tmp when unset). */
static void test_path(char *out, size_t n, const char *name)
{
    const char *dir = getenv("KT_TEST_DIR");

    snprintf(out, n, "%s/%s", dir && *dir ? dir : "/tmp", name);
}

/* Appends "pid\n" to $KT_TEST_DIR/pids so a test can check it is gone. */
static void record_pid(void)
{
    char path[512];
    FILE *f;

    test_path(path, sizeof(path), "pids");
    f = fopen(path, "a");
    if (!f)
        return;
    fprintf(f, "%d\n", (int)getpid());
    fclose(f);
}

static void sleep_forever(void)
{
    for (;;)
        pause();
}

/* Starts a workload in the scenario's process group and one that escapes
 * it with setsid(), both sleeping until killed. */
static void start_sleepers(void)
{
    pid_t a = fork();

    if (a == 0) {
        record_pid();
        sleep_forever();
    }
    pid_t b = fork();
    if (b == 0) {
        setsid();
        record_pid();
        sleep_forever();
    }
    /* Let both write their pid before the scenario goes on. */
    for (int i = 0; i < 200; i++) {
        char path[512];
        FILE *f;
        int lines = 0, c;

        test_path(path, sizeof(path), "pids");
        f = fopen(path, "r");
        if (f) {
            while ((c = fgetc(f)) != EOF)
                lines += c == '\n';
            fclose(f);
        }
        if (lines >= 2)
            break;
        usleep(10000);
    }
}

KT_SCENARIO(pass_with_note)
{
    int answer = 42;

    CLAIM(v, answer, eq, 42);
    CLAIM(v, answer, between, 40, 50);
    kt_verdict_note(v, "answer is %d", answer);
    /* prove 3.44 reads "- word: ..." list items as maps; these must survive */
    kt_verdict_note(v, "worst: %d ms", answer);
    kt_verdict_note(v, "a : b, c: d");
    kt_verdict_note(v, "ends with a colon:");
}

KT_SCENARIO(pass_quiet)
{
    CLAIM(v, 1.5, near, 1.0, 0.5);
}

KT_SCENARIO(fail_two)
{
    int ipc = 0;
    double share = 0.7;

    CLAIM(v, ipc, at_least, 1);
    CLAIM(v, 2 + 2, eq, 4);
    CLAIM(v, share, between, 0.45, 0.55);
    kt_verdict_note(v, "a note with \"quotes\", a \\ and a\nnewline");
}

/* A timing claim that fails on purpose after 400 ms of body: inconclusive
 * when the host's other tasks took the CPU meanwhile
 * (tests/runner/inconclusive.t), not ok otherwise. */
KT_SCENARIO(timing_fails)
{
    double wake_p99_us = 63.2;

    kt_sleep_ms(400);
    CLAIM(v, ctx->ncpus, at_least, 1);
    kt_verdict_timing(v, true);
    CLAIM(v, wake_p99_us, at_most, 50);
    kt_verdict_timing(v, false);
}

/* The same, with a claim that is not a timing claim failing as well: not
 * ok whatever the host did. */
KT_SCENARIO(timing_and_count_fail)
{
    double wake_p99_us = 63.2;
    int wakeups = 3;

    kt_sleep_ms(400);
    kt_verdict_timing(v, true);
    CLAIM(v, wake_p99_us, at_most, 50);
    kt_verdict_timing(v, false);
    CLAIM(v, wakeups, at_least, 100);
}

KT_SCENARIO(skip_reason)
{
    kt_verdict_note(v, "checked the widget");
    kt_verdict_skip(v, "no widget # here");
}

KT_SCENARIO(needs_many_cpus, .min_cpus = 4096)
{
    CLAIM(v, 0, eq, 1);   /* never runs: the requirement is unmet */
}

KT_SCENARIO(needs_pmu, .needs_hw_pmu = true)
{
    CLAIM(v, 1, eq, 1);
}

KT_SCENARIO(needs_kvm, .needs_kvm = true)
{
    CLAIM(v, 1, eq, 1);
}

KT_SCENARIO(needs_root, .needs_root = true)
{
    CLAIM(v, geteuid(), eq, 0);
}

KT_SCENARIO(stray_stdout)
{
    printf("not ok 77 - stray line from the body\n1..99\n");
    CLAIM(v, 1, eq, 1);
}

KT_SCENARIO(crash_segv)
{
    int before = 3;

    CLAIM(v, before, lt, 2);
    raise(SIGSEGV);
}

KT_SCENARIO(crash_null)
{
    volatile int *p = NULL;

    CLAIM(v, 1, eq, 0);
    *p = 1;
}

KT_SCENARIO(crash_abort)
{
    kt_verdict_note(v, "about to abort");
    abort();
}

KT_SCENARIO(exit_midway)
{
    CLAIM(v, 5, at_most, 4);
    exit(3);
}

KT_SCENARIO(rmdir_after_crash)
{
    char top[512], sub[600];

    test_path(top, sizeof(top), "rmdir_top");
    snprintf(sub, sizeof(sub), "%s/sub", top);
    if (mkdir(top, 0700) != 0 || mkdir(sub, 0700) != 0) {
        kt_verdict_skip(v, "mkdir %s: failed", top);
        return;
    }
    /* Parent first: the runner must still remove the deeper one first. */
    kt_ctx_rmdir_at_exit(ctx, top);
    kt_ctx_rmdir_at_exit(ctx, sub);
    raise(SIGSEGV);
}

KT_SCENARIO(timeout_group, .timeout_s = 1)
{
    start_sleepers();
    kt_verdict_note(v, "sleepers started");
    CLAIM(v, 1, eq, 2);
    sleep_forever();
}

/* A hang that burns a CPU: its own tree, not other tasks, takes it. */
KT_SCENARIO(timeout_spin, .timeout_s = 1)
{
    volatile unsigned long n = 0;

    kt_verdict_note(v, "spinning");
    for (;;)
        n++;
}

KT_SCENARIO(hang, .timeout_s = 60)
{
    char path[512];
    FILE *f;

    start_sleepers();
    test_path(path, sizeof(path), "hang_started");
    f = fopen(path, "w");
    if (f)
        fclose(f);
    sleep_forever();
}

KT_SCENARIO(flood)
{
    for (int i = 0; i < KT_VERDICT_MAX_FAILURES + 50; i++)
        CLAIM(v, i, lt, 0);
}

KT_SCENARIO(ctx_fields, .timeout_s = 7)
{
    CLAIM(v, ctx->ncpus, at_least, 1);
    CLAIM(v, ctx->timeout_s, eq, 7);
    CLAIM(v, strcmp(ctx->name, "ctx_fields"), eq, 0);
    CLAIM(v, kt_ctx_rmdir_at_exit(ctx, "relative/path"), eq, -1);
    CLAIM(v, ctx->in_vm, eq, false);
    /* Only the context the runner handed the body has a wire; a copy is
     * one its caller made. */
    kt_ctx copy = *ctx;
    errno = 0;
    CLAIM(v, kt_ctx_rmdir_at_exit(&copy, "/nonexistent/ktstr-copy"), eq, -1);
    CLAIM(v, errno, eq, EBADF);
}

/* Labels and notes with every byte the wire and YAML must escape. */
KT_SCENARIO(odd_strings)
{
    CLAIM_AS(v, "tab\there back\\slash \"q\"\nnl\x01" "ctl\x7f #x", 1, eq, 2);
    kt_verdict_note(v, "cr\rlf\n\ttab \x1b esc \xc3\xa9 utf8");
}

/* Loses a block on purpose: proves the valgrind test can see a leak in
 * a scenario's child. */
KT_SCENARIO(leaks_on_purpose)
{
    char *volatile p = malloc(64);

    CLAIM(v, p != NULL, eq, 1);
    p = NULL;
}

/* Changes mid-run that go wrong, as a user would write them: a cpuset
 * naming a CPU the machine does not have (after a good one), and a group
 * removed twice. tests/runner/changes.t reads their YAML. */
static void run_changes(kt_ctx *ctx, kt_verdict *v, const kt_change *plan, size_t n,
                        kt_cgroup **slots, size_t nslots)
{
    kt_cg_hooks h = { kt_ctx_rmdir_hook, ctx, kt_verdict_note_hook, v };
    kt_work_spec spin = { .kind = KT_WORK_SPIN, .count = 1, .process = true };
    kt_changes_env env = { .groups = slots, .ngroups = nslots, .hooks = &h };
    kt_err err = { 0 };
    kt_work *w = kt_work_run(&spin, 1, &err);
    kt_changes *c;

    if (!w) {
        kt_verdict_skip(v, "%s", err.msg);
        return;
    }
    env.work = w;
    c = kt_changes_start(&env, plan, n, &err);
    if (!CLAIM_OK(v, "ops", c ? NULL : err.msg)) {
        /* a bad table is the scenario's bug: a failure, never a skip */
    } else {
        kt_changes_wait(c);
        kt_changes_claim(c, v);
        kt_ctx_changes(ctx, c);
    }
    kt_changes_free(c);
    kt_work_free(w);
    for (size_t i = 0; i < nslots; i++)
        kt_cgroup_destroy(slots[i], NULL);
}

KT_SCENARIO(changes_bad_cpuset, .needs_root = true)
{
    kt_cgroup *g[1] = { 0 };
    kt_change plan[] = {
        { .at_ms = 0, .op = KT_CHANGE_CGROUP_CREATE, .group = 0, .name = "bad" },
        { .at_ms = 50, .op = KT_CHANGE_MOVE, .worker = 0, .group = 0 },
        { .at_ms = 100, .op = KT_CHANGE_CPUSET, .group = 0, .cpus = "0" },
        { .at_ms = 150, .op = KT_CHANGE_CPUSET, .group = 0, .cpus = "1000" },
    };

    run_changes(ctx, v, plan, 4, g, 1);
}

KT_SCENARIO(changes_removed_twice, .needs_root = true)
{
    kt_cgroup *g[1] = { 0 };
    kt_change plan[] = {
        { .at_ms = 0, .op = KT_CHANGE_CGROUP_CREATE, .group = 0, .name = "twice" },
        { .at_ms = 50, .op = KT_CHANGE_CGROUP_REMOVE, .group = 0 },
        { .at_ms = 100, .op = KT_CHANGE_CGROUP_REMOVE, .group = 0 },
    };

    run_changes(ctx, v, plan, 3, g, 1);
}

KT_SCENARIO(changes_bad_table)
{
    kt_change plan[] = { { .at_ms = 100, .op = KT_CHANGE_NICE, .worker = 5, .nice = 3 } };

    run_changes(ctx, v, plan, 1, NULL, 0);
}

KT_MAIN()

/* A scenario with a known detection threshold, for tests/power/power.t:
 * one spinner (ktw0) for 400 ms, and a claim that its nice is at most 2,
 * read at the end: a renice by 3 or more is caught every time, by 2 or
 * less never. */
KT_SCENARIO(power_stub, .timeout_s = 10)
{
    kt_work_spec spin = { .kind = KT_WORK_SPIN, .count = 1 };
    kt_err err;
    kt_work *w = kt_work_new(0, &err);
    int nice;

    if (!w || kt_work_add(w, &spin, &err) < 0 || kt_work_start(w, &err) < 0) {
        kt_verdict_skip(v, "%s", err.msg);
        kt_work_free(w);
        return;
    }
    kt_sleep_ms(400);
    errno = 0;
    nice = getpriority(PRIO_PROCESS, (id_t)kt_work_tid(w, 0));
    CLAIM_AS(v, "errno", errno, eq, 0);
    CLAIM_AS(v, "stub_nice", nice, at_most, 2);
    kt_work_stop(w);
    kt_work_free(w);
}
