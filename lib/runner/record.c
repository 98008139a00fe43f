/* The parent's record of a point: each wire line its child (or, in VM
 * mode, its guest through the host child) sends, applied to the point's
 * kt__result as it arrives. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runner/point.h"
#include "runner/series_wire.h"
#include "runner/wire.h"
#include "verdict/verdict_item.h"

/* A passing claim, kept (for --verbose) as the verdict keeps a failure. */
static void add_pass(kt__result *r, const kt_claim_record *c)
{
    struct kt__verdict_item *it = NULL;

    if (r->passes.n < KT_VERDICT_MAX_FAILURES)
        it = kt__verdict_item_new(c, NULL);
    if (!it || kt__vec_push(&r->passes, &it, NULL, "runner: passes") < 0) {
        free(it);
        r->passes_dropped++;
    }
}

static bool parse_u64(const char *s, uint64_t *out)
{
    char *end;

    if (*s < '0' || *s > '9')
        return false;
    errno = 0;
    *out = strtoull(s, &end, 10);
    return !*end && errno == 0;
}

/* Copies a line (not yet split) to the forward fd, but RMDIR: paths of
 * this machine mean nothing to the one the lines go to. */
static void forward(int fd, const char *line)
{
    if (fd >= 0 && strncmp(line, "RMDIR\t", 6) != 0)
        kt__wire_write_line(fd, line);   /* the host listens until the guest is gone */
}

/* The lines a kind adds to the body's: VM mode's and the scheduler's. */
static bool on_vm_line(kt__result *r, const kt__wire_msg *m)
{
    const char *t = m->type;

    if (!strcmp(t, "VM") && m->n == 5) {
        r->vm = true;
        snprintf(r->vm_accel, sizeof(r->vm_accel), "%s", m->field[0]);
        snprintf(r->vm_kernel, sizeof(r->vm_kernel), "%s", m->field[1]);
        snprintf(r->vm_topology, sizeof(r->vm_topology), "%s", m->field[2]);
        r->boot_ms = strtoll(m->field[3], NULL, 10);
        r->vm_boot = (unsigned)strtoul(m->field[4], NULL, 10);
    } else if (!strcmp(t, "END") && m->n == 2) {
        r->guest_end = true;
        snprintf(r->guest_end_kind, sizeof(r->guest_end_kind), "%s", m->field[0]);
        snprintf(r->guest_end_arg, sizeof(r->guest_end_arg), "%s", m->field[1]);
    } else if (!strcmp(t, "STEAL") && m->n == 3) {
        kt__steal st = { .vcpu = atoi(m->field[0]), .ms = strtod(m->field[1], NULL),
                         .share = strtod(m->field[2], NULL) };

        if (r->host_steal.n < 256)
            kt__vec_push(&r->host_steal, &st, NULL, "runner: host steal");
    } else if (!strcmp(t, "BOOTSTEAL") && m->n == 1) {
        r->boot_steal = strtod(m->field[0], NULL);
    } else if (!strcmp(t, "CONSOLE") && m->n == 1) {
        if (r->console.n < 64)
            kt__result_keep_str(&r->console, m->field[0]);
    } else if (!strcmp(t, "SCHED") && (m->n == 1 || m->n == 2)) {
        free(r->sched_name);
        r->sched_name = strdup(m->field[0]);
        r->sched_attach_ms = m->n == 2 && *m->field[1] ? strtoll(m->field[1], NULL, 10) : -1;
    } else if (!strcmp(t, "SCHEDFAIL") && (m->n == 2 || m->n == 3)) {
        r->sched_failed = true;
        snprintf(r->sched_why, sizeof(r->sched_why), "%s", m->field[0]);
        snprintf(r->sched_exit, sizeof(r->sched_exit), "%s", m->field[1]);
        r->sched_has_detect = m->n == 3 && *m->field[2];
        r->sched_detect_ms = r->sched_has_detect ? strtoll(m->field[2], NULL, 10) : 0;
    } else if (!strcmp(t, "SCHEDEV") && m->n == 2) {
        kt_scx_counter ev = { .value = 0 };

        if (!parse_u64(m->field[1], &ev.value))
            return false;
        snprintf(ev.name, sizeof(ev.name), "%s", m->field[0]);
        kt_verdict_note(&r->v, "sched_ext %s +%s", m->field[0], m->field[1]);
        if (r->sched_events.n < 256)
            kt__vec_push(&r->sched_events, &ev, NULL, "runner: scheduler events");
    } else if (!strncmp(t, "SCHED", 5) && m->n == 1) {
        kt__vec *l = !strcmp(t, "SCHEDLOG") ? &r->sched_log : !strcmp(t, "SCHEDOUT") ? &r->sched_out
                   : !strcmp(t, "SCHEDDUMP") ? &r->sched_dump : NULL;

        if (!l)
            return false;
        if (l->n < 64)
            kt__result_keep_str(l, m->field[0]);
    } else if (!strcmp(t, "GUEST") && (m->n == 1 || m->n == 2)) {
        snprintf(r->guest_next, sizeof(r->guest_next), "%s", m->field[0]);
        snprintf(r->guest_again, sizeof(r->guest_again), "%s", m->n == 2 ? m->field[1] : "");
    } else if (!strcmp(t, "OP") && m->n == 5) {
        kt__opres op = { .planned_ms = strtoull(m->field[1], NULL, 10),
                         .actual_ms = strtod(m->field[2], NULL),
                         .took_ms = strtod(m->field[3], NULL) };

        snprintf(op.what, sizeof(op.what), "%s", m->field[0]);
        snprintf(op.result, sizeof(op.result), "%s", m->field[4]);
        if (r->ops.n < KT__RESULT_MAX_OPS)
            kt__vec_push(&r->ops, &op, NULL, "runner: ops");
    } else if (!strcmp(t, "BEGIN") && m->n == 0) {
        /* the body started: only a host watching a guest needs to know */
    } else {
        return false;
    }
    return true;
}

void kt__record_line(void *arg, char *line)
{
    kt__result *r = arg;
    kt__wire_msg m;
    bool ok;
    const char *t;

    forward(r->forward_fd, line);
    ok = kt__wire_split(line, &m) == 0;
    t = m.type;
    if (!ok) {
        r->bad_lines++;
    } else if ((!strcmp(t, "PASS") || !strcmp(t, "FAIL")) && m.n == 8) {
        kt_claim_record c = { m.field[0], m.field[1], m.field[2], m.field[3],
                              m.field[4], m.field[5], atoi(m.field[6]), t[0] == 'P',
                              !strcmp(m.field[7], "timed") };

        if (c.passed)
            add_pass(r, &c);
        else
            kt__verdict_add_failure(&r->v, &c);
        r->claims++;
        r->failed += !c.passed;
    } else if (!strcmp(t, "NOTE") && m.n == 1) {
        kt_verdict_note(&r->v, "%s", m.field[0]);
    } else if (!strcmp(t, "DROP") && m.n == 1) {
        /* One per dropped item, each with the running count: keep the last. */
        char *copy = strdup(m.field[0]);

        if (copy) {
            free(r->dropped);
            r->dropped = copy;
        }
    } else if (!strcmp(t, "SKIP") && m.n == 1) {
        kt_verdict_skip(&r->v, "%s", m.field[0]);
    } else if (!strcmp(t, "RMDIR") && m.n == 1 && m.field[0][0] == '/') {
        if (r->rmdirs.n < KT__RESULT_MAX_RMDIRS)
            kt__result_keep_str(&r->rmdirs, m.field[0]);
    } else if (!strcmp(t, "DONE") && m.n == 2 && parse_u64(m.field[0], &r->claims) &&
               parse_u64(m.field[1], &r->failed)) {
        r->done = true;
    } else if (kt__series_line(r, &m)) {
        /* kt_ctx_series: kept for the artifacts */
    } else if (!on_vm_line(r, &m)) {
        r->bad_lines++;
    }
}
