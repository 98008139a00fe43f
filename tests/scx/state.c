/* lib/scx/state.c: the sched_ext state, ops and event counters read from
 * a fixture sysfs tree (and the clear error of each missing level), the
 * events parser on samples (any order, new names, bad lines), and the
 * kernel's `sched_ext:` log lines parsed into name, event and reason. */
#include "harness/unit.h"

#include "scx/scx.h"
#include "scx/fixture.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* root/events of a 7.x kernel, and a counter a later one might add. */
static const char events_7x[] =
    "SCX_EV_SELECT_CPU_FALLBACK 12\n"
    "SCX_EV_DISPATCH_LOCAL_DSQ_OFFLINE 0\n"
    "SCX_EV_DISPATCH_KEEP_LAST 3\n"
    "SCX_EV_ENQ_SKIP_EXITING 0\n"
    "SCX_EV_ENQ_SKIP_MIGRATION_DISABLED 1\n"
    "SCX_EV_REFILL_SLICE_DFL 18446744073709551615\n"
    "SCX_EV_BYPASS_DURATION 0\n"
    "SCX_EV_BYPASS_DISPATCH 0\n"
    "SCX_EV_BYPASS_ACTIVATE 0\n"
    "SCX_EV_INSERT_NOT_OWNED 0\n"
    "SCX_EV_SUB_BYPASS_DISPATCH 0\n"
    "SCX_EV_SOMETHING_NEW_IN_8_0 77\n";

static void t_events_parse(void)
{
    kt_scx_events ev = KT_SCX_EVENTS_INIT;
    kt_err err = { 0 };
    const kt_scx_counter *c;

    if (!check_int(kt__scx_events_parse(events_7x, strlen(events_7x), "events", &ev, &err),
                   ==, 0)) {
        test_msg("%s", err.msg);
        return;
    }
    check_uint(ev.n, ==, 12);
    check_str(ev.v[0].name, "SCX_EV_SELECT_CPU_FALLBACK");
    check_uint(ev.v[0].value, ==, 12);
    /* by name, with or without the prefix, wherever the line is */
    c = kt_scx_events_find(&ev, "DISPATCH_KEEP_LAST");
    check(c && c->value == 3);
    c = kt_scx_events_find(&ev, "SCX_EV_DISPATCH_KEEP_LAST");
    check(c && c->value == 3);
    c = kt_scx_events_find(&ev, "REFILL_SLICE_DFL");
    check(c && c->value == UINT64_MAX);
    c = kt_scx_events_find(&ev, "SOMETHING_NEW_IN_8_0");
    check(c && c->value == 77);
    check(kt_scx_events_find(&ev, "DISPATCH_KEEP") == NULL);     /* whole names only */
    check(kt_scx_events_find(&ev, "SCX_EV_") == NULL);
    check(kt_scx_events_find(&ev, NULL) == NULL);
    /* parsing again replaces; an empty file is no counters, not an error */
    check_int(kt__scx_events_parse("B 2\nA 1\n", 8, "events", &ev, &err), ==, 0);
    check_uint(ev.n, ==, 2);
    check_str(ev.v[0].name, "B");
    check_int(kt__scx_events_parse("", 0, "events", &ev, &err), ==, 0);
    check_uint(ev.n, ==, 0);
    check_int(kt__scx_events_parse("A 1\r\n\nB  2", 10, "events", &ev, &err), ==, 0);
    check_uint(ev.n, ==, 2);
    check_uint(ev.v[1].value, ==, 2);
    kt_scx_events_free(&ev);
    kt_scx_events_free(&ev);                       /* safe twice */
    check(ev.v == NULL && ev.n == 0);
}

static void expect_bad_events(const char *text, const char *want)
{
    kt_scx_events ev = KT_SCX_EVENTS_INIT;
    kt_err err = { 0 };

    check_int(kt__scx_events_parse(text, strlen(text), "root/events", &ev, &err), ==, -1);
    check_contains(err.msg, want);
    check_int(err.code, ==, EINVAL);
    check_uint(ev.n, ==, 0);                       /* never a partial snapshot */
    kt_scx_events_free(&ev);
}

static void t_events_bad(void)
{
    expect_bad_events("SCX_EV_A 1\nSCX_EV_B\n", "root/events: line 2: expected `SCX_EV_<NAME> "
                                                "<count>`, got \"SCX_EV_B\"");
    expect_bad_events("SCX_EV_A x\n", "line 1:");
    expect_bad_events("SCX_EV_A 1 2\n", "line 1:");
    expect_bad_events("SCX_EV_A -1\n", "line 1:");
    expect_bad_events("SCX_EV_A 18446744073709551616\n", "line 1:");   /* 2^64 */
    expect_bad_events(" SCX_EV_A 1\n", "line 1:");
    expect_bad_events("SCX-EV 1\n", "line 1:");
    expect_bad_events("A 1\n\nSCX_EV_LONG_LONG_LONG_LONG_LONG_LONG_LONG_LONG_LONG_LONG_LONG_"
                      "NAME 1\n", "line 3:");
}

static char root[64];

static void put(const char *rel, const char *text)
{
    char path[256];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", root, rel);
    f = fopen(path, "w");
    if (!check(f != NULL))
        return;
    fputs(text, f);
    fclose(f);
}

/* A fixture /sys/kernel/sched_ext grown level by level: each missing
 * level has its own error. */
static void t_sysfs(void)
{
    char dir[128], buf[64], want[256];
    kt_scx_events ev = KT_SCX_EVENTS_INIT;
    kt_err err = { 0 };
    uint64_t v = 0;

    snprintf(dir, sizeof(dir), "%s/sched_ext", root);
    check_int(kt__scx_state_in(dir, buf, sizeof(buf), &err), ==, -1);
    snprintf(want, sizeof(want), "this kernel has no sched_ext: no %s/state", dir);
    check_str(err.msg, want);
    check_int(err.code, ==, ENOENT);
    check_int(kt__scx_event_in(dir, "SELECT_CPU_FALLBACK", &v, &err), ==, -1);
    check_str(err.msg, want);
    check_int(mkdir(dir, 0755), ==, 0);
    put("sched_ext/state", "disabled\n");
    check_int(kt__scx_state_in(dir, buf, sizeof(buf), &err), ==, 8);
    check_str(buf, "disabled");
    check_int(kt__scx_ops_in(dir, buf, sizeof(buf), &err), ==, -1);
    snprintf(want, sizeof(want), "no sched_ext scheduler is loaded: no %s/root", dir);
    check_str(err.msg, want);
    check_int(kt__scx_events_read_in(dir, &ev, &err), ==, -1);
    check_str(err.msg, want);
    /* loaded, on a kernel before event counters */
    put("sched_ext/state", "enabled\n");
    snprintf(want, sizeof(want), "%s/root", dir);
    check_int(mkdir(want, 0755), ==, 0);
    put("sched_ext/root/ops", "ktstr_fifo\n");
    check_int(kt__scx_state_in(dir, buf, sizeof(buf), &err), ==, 7);
    check_str(buf, "enabled");
    check_int(kt__scx_ops_in(dir, buf, sizeof(buf), &err), ==, 10);
    check_str(buf, "ktstr_fifo");
    check_int(kt__scx_event_in(dir, "SELECT_CPU_FALLBACK", &v, &err), ==, -1);
    snprintf(want, sizeof(want), "this kernel's sched_ext has no root/events: no %s/root/events",
             dir);
    check_str(err.msg, want);
    /* and with them */
    put("sched_ext/root/events", events_7x);
    check_int(kt__scx_event_in(dir, "SELECT_CPU_FALLBACK", &v, &err), ==, 0);
    check_uint(v, ==, 12);
    check_int(kt__scx_event_in(dir, "SCX_EV_ENQ_SKIP_MIGRATION_DISABLED", &v, &err), ==, 0);
    check_uint(v, ==, 1);
    check_int(kt__scx_event_in(dir, "NO_SUCH_EVENT", &v, &err), ==, -1);
    check_int(err.code, ==, ENOENT);
    check_contains(err.msg, "sched_ext event NO_SUCH_EVENT: not a counter of");
    check_contains(err.msg, "(it has SELECT_CPU_FALLBACK, DISPATCH_LOCAL_DSQ_OFFLINE,");
    check_int(kt__scx_events_read_in(dir, &ev, &err), ==, 0);
    check_uint(ev.n, ==, 12);
    /* a snapshot later: the per-point delta is by name */
    put("sched_ext/root/events", "SCX_EV_SOMETHING_NEW_IN_8_0 80\nSCX_EV_SELECT_CPU_FALLBACK 20\n");
    {
        kt_scx_events after = KT_SCX_EVENTS_INIT;
        const kt_scx_counter *a, *b;

        check_int(kt__scx_events_read_in(dir, &after, &err), ==, 0);
        a = kt_scx_events_find(&ev, "SELECT_CPU_FALLBACK");
        b = kt_scx_events_find(&after, "SELECT_CPU_FALLBACK");
        if (check(a && b))
            check_uint(b->value - a->value, ==, 8);
        kt_scx_events_free(&after);
    }
    put("sched_ext/root/events", "SCX_EV_A 1\ngarbage\n");
    check_int(kt__scx_events_read_in(dir, &ev, &err), ==, -1);
    check_contains(err.msg, "/root/events: line 2:");
    check_uint(ev.n, ==, 0);
    kt_scx_events_free(&ev);
}

/* On this host: the public calls read the real /sys/kernel/sched_ext. */
static void t_host(void)
{
    char buf[64];
    kt_err err = { 0 };
    uint64_t v;
    kt_scx_events ev = KT_SCX_EVENTS_INIT;

    if (access("/sys/kernel/sched_ext/state", F_OK) == 0) {
        int n = kt_scx_state(buf, sizeof(buf), &err);

        check_int(n, >, 0);
        test_msg("this kernel has sched_ext, state %s", n > 0 ? buf : err.msg);
        test_skip("this kernel has sched_ext: the no-sched_ext errors cannot be shown here");
        return;
    }
    check_int(kt_scx_state(buf, sizeof(buf), &err), ==, -1);
    check_str(err.msg, "this kernel has no sched_ext: no /sys/kernel/sched_ext/state");
    check_int(kt_scx_ops(buf, sizeof(buf), &err), ==, -1);
    check_str(err.msg, "this kernel has no sched_ext: no /sys/kernel/sched_ext/state");
    check_int(kt_scx_event("SELECT_CPU_FALLBACK", &v, &err), ==, -1);
    check_str(err.msg, "this kernel has no sched_ext: no /sys/kernel/sched_ext/state");
    check_int(kt_scx_events_read(&ev, &err), ==, -1);
    check_int(err.code, ==, ENOENT);
    kt_scx_events_free(&ev);
}

/* Parses line (its whole length) and checks kind, name and reason. */
static bool expect_msg(const char *line, kt__scx_msg_kind kind, const char *name,
                       const char *reason, kt__scx_msg *m)
{
    if (!check(kt__scx_msg_parse(line, strlen(line), m))) {
        test_msg("not parsed: %s", line);
        return false;
    }
    check_str(kt__scx_msg_kind_name(m->kind), kt__scx_msg_kind_name(kind));
    check_str(m->name, name);
    check_str(m->reason, reason);
    return true;
}

static void t_kmsg(void)
{
    kt__scx_msg m;

    if (expect_msg("sched_ext: BPF scheduler \"ktstr_fifo\" enabled", KT__SCX_MSG_ENABLED,
                   "ktstr_fifo", "", &m))
        check(!m.partial);
    if (expect_msg("[    2.345678] sched_ext: BPF scheduler \"ktstr_fifo_partial\" enabled "
                   "(partial)\n", KT__SCX_MSG_ENABLED, "ktstr_fifo_partial", "partial", &m))
        check(m.partial);
    /* /dev/kmsg records carry "prio,seq,usec,flags;" */
    expect_msg("3,1234,5678901,-;sched_ext: BPF scheduler \"ktstr_stall\" disabled (runnable "
               "task stall)", KT__SCX_MSG_DISABLED, "ktstr_stall", "runnable task stall", &m);
    expect_msg("sched_ext: BPF scheduler \"simple\" disabled (unregistered from user space)\r\n",
               KT__SCX_MSG_DISABLED, "simple", "unregistered from user space", &m);
    expect_msg("sched_ext: BPF scheduler \"old\" errored, disabling", KT__SCX_MSG_DISABLED,
               "old", "errored", &m);
    if (expect_msg("sched_ext: ktstr_stall: ktw0[312] failed to run for 3.200s",
                   KT__SCX_MSG_STALL, "ktstr_stall", "ktw0[312] failed to run for 3.200s", &m)) {
        check_str(m.comm, "ktw0");
        check_int(m.pid, ==, 312);
    }
    /* a comm may hold brackets and spaces: the pid is the last [digits] */
    if (expect_msg("sched_ext: ktstr_stall: my [odd] task[77] failed to run for 30.004s",
                   KT__SCX_MSG_STALL, "ktstr_stall", "my [odd] task[77] failed to run for 30.004s",
                   &m)) {
        check_str(m.comm, "my [odd] task");
        check_int(m.pid, ==, 77);
    }
    expect_msg("sched_ext: scx_simple.v2: ops.init() failed (-22)", KT__SCX_MSG_EXIT,
               "scx_simple.v2", "ops.init() failed (-22)", &m);
    expect_msg("sched_ext: ktstr_stall: ktw0[x1] failed to run for 3.2s", KT__SCX_MSG_EXIT,
               "ktstr_stall", "ktw0[x1] failed to run for 3.2s", &m);
    expect_msg("sched_ext: ops error detected without ops (oops)", KT__SCX_MSG_OTHER, "",
               "ops error detected without ops (oops)", &m);
    expect_msg("sched_ext: BPF scheduler \"unterminated", KT__SCX_MSG_OTHER, "",
               "BPF scheduler \"unterminated", &m);
    expect_msg("sched_ext: BPF scheduler \"x\" did something new", KT__SCX_MSG_OTHER, "",
               "BPF scheduler \"x\" did something new", &m);
    /* not sched_ext lines */
    check(!kt__scx_msg_parse("EXT4-fs (vda): mounted filesystem", 33, &m));
    check(!kt__scx_msg_parse("", 0, &m));
    check(!kt__scx_msg_parse(NULL, 0, &m));
    check(!kt__scx_msg_parse("sched_ext: BPF scheduler \"x\" enabled", 10, &m)); /* past len */
    {
        /* a name longer than any ops name is cut, never overflows */
        char line[600];

        snprintf(line, sizeof(line), "sched_ext: BPF scheduler \"%0300d\" enabled", 0);
        if (check(kt__scx_msg_parse(line, strlen(line), &m))) {
            check_uint(strlen(m.name), ==, sizeof(m.name) - 1);
            check_uint(m.kind, ==, KT__SCX_MSG_ENABLED);
        }
    }
}

int main(void)
{
    if (fx_tmpdir(root, "scx-state") < 0)
        return perror("mkdtemp"), 1;
    TEST(t_events_parse(), "root/events: counters by name, with or without SCX_EV_");
    TEST(t_events_bad(), "root/events: a bad line is an error naming it");
    TEST(t_sysfs(), "state, ops and events from a sysfs tree; each missing level says which");
    TEST(t_host(), "this host: no sched_ext, said plainly");
    TEST(t_kmsg(), "sched_ext: kernel log lines into name, event and reason");
    if (fx_tmpdir_remove(root) != 0)
        test_msg("could not remove %s", root);
    return test_done();
}
