/*
 * Kind "vm", VM mode's host side: in the scenario's child, instead of the
 * body, ask the run's guest (booted by the runner, vm_guests.c) to run the
 * point, relay its wire lines to the parent, watch its vCPU threads while
 * the body runs, and add the host's claims and the vm: map.
 *
 * The guest's lines arrive on QEMU's ttyS1 exactly as a child would send
 * them, so the parent's record and report need only the few lines added
 * here: VM (the vm: map), END (how the guest's body ended, or why the
 * guest did: panic, error), CONSOLE (the last console lines) and GUEST
 * (whether the guest can run the next point).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/file.h"
#include "base/vec.h"
#include "guest/guest.h"
#include "guest/qemu.h"
#include "runner/point.h"
#include "runner/vm.h"
#include "runner/wire.h"

/* Booting the kernel to /init under TCG takes 2-5 s here; beyond the body's
 * own timeout the host allows this much for boot and the point's end. */
#define BOOT_ALLOWANCE_S 60
/* Console lines kept for a panic or a silent guest. */
#define CONSOLE_LINES 20
#define CONSOLE_MAX (4u << 20)

typedef struct vm_run {
    kt_ctx *ctx;
    const kt_scenario *s;
    const kt__vm_point_cfg *pc;
    unsigned evidence;           /* KT__EVIDENCE_* the parent wants */
    int wire_up;                 /* to the parent */
    uint64_t t_begin_ns;         /* the body's start mark (BEGIN), kt__mono_ns */
    int64_t boot_ms;             /* -1 until BOOT */
    char release[128];
    bool asked;                  /* RUN sent */
    bool began, done, ended;
    bool over;                   /* READY or DIRTY: the guest is done with the point */
    char dirty[KT__WIRE_FIELD_MAX];   /* DIRTY's why, or "" */
    uint64_t guest_claims, guest_failed;
    char end_kind[16], end_arg[512];
    kt_vcpus *vc;
    kt_err vcpu_err;
    bool vcpu_failed;
    int64_t point_deadline_ms;   /* the last moment to report, before the parent kills */
    off_t console_from;          /* where this point's console begins */
} vm_run;

static int64_t now_ms(void)
{
    return (int64_t)(kt__mono_ns() / 1000000u);
}

static void send1(int fd, const char *type, const char *text)
{
    kt__wire_send(fd, type, &text, 1);
}

/* The host's claims: label and message prefixed "host.", sent up the wire
 * as the child's own sink sends them. */
static void host_sink(void *arg, kt_event ev, const kt_claim_record *c, const char *text)
{
    vm_run *r = arg;
    char note[1200];

    if (ev == KT_EVENT_PASS || ev == KT_EVENT_FAIL) {
        kt__wire_send_claim(r->wire_up, ev == KT_EVENT_PASS, c, "host.");
    } else if (ev == KT_EVENT_NOTE || ev == KT_EVENT_SKIP) {
        snprintf(note, sizeof(note), "(host) %s%s", ev == KT_EVENT_SKIP ? "skipped: " : "",
                 text);
        send1(r->wire_up, "NOTE", note);
    }
}

/* Asks the guest for this point: its name and the run's settings for it. */
static void ask(vm_run *r)
{
    const kt__vm_cfg *cfg = r->pc->cfg;
    char timeout[16], evidence[16], attach[16];
    const char *f[8] = { r->s->name, timeout, r->ctx->verbose ? "1" : "0", evidence,
                         r->pc->plan->gspec, attach, cfg->sched_fault ? cfg->sched_fault : "",
                         r->pc->plan->gfault };

    snprintf(timeout, sizeof(timeout), "%u", r->ctx->timeout_s);
    snprintf(evidence, sizeof(evidence), "%u", r->evidence);
    snprintf(attach, sizeof(attach), "%u", cfg->sched_attach_s);
    /* A guest gone meanwhile is seen as the end of its wire. */
    kt__wire_send(r->pc->guest->wire, "RUN", f, 8);
    r->asked = true;
}

/* One line from the guest: most go straight up; a few are ours. */
static void on_guest_line(void *arg, char *line)
{
    vm_run *r = arg;
    char raw[KT__WIRE_LINE_MAX + 1];
    size_t len = strlen(line);
    kt__wire_msg m;

    if (len + 1 > sizeof(raw) || r->over)
        return;
    memcpy(raw, line, len + 1);   /* the split below cuts line up */
    if (kt__wire_split(line, &m) < 0) {
        kt__wire_write_line(r->wire_up, raw);   /* the parent counts it as bad */
        return;
    }
    if (!strcmp(m.type, "BOOT") && m.n == 2) {
        r->boot_ms = now_ms() - r->pc->guest->spawn_ms;
        snprintf(r->release, sizeof(r->release), "%s", m.field[1]);
        if (!r->asked)
            ask(r);
        return;
    }
    if (!strcmp(m.type, "READY") || !strcmp(m.type, "DIRTY")) {
        r->over = true;
        if (m.n == 1)
            snprintf(r->dirty, sizeof(r->dirty), "%s", m.field[0]);
        return;
    }
    if (!strcmp(m.type, "BEGIN")) {
        r->began = true;
        r->t_begin_ns = kt__mono_ns();
        if (kt__vcpus_start(r->vc, r->pc->guest->qemu, r->ctx->timeout_s, &r->vcpu_err) < 0)
            r->vcpu_failed = true;
        return;
    }
    if (!strcmp(m.type, "DONE") && m.n == 2) {
        r->done = true;
        r->guest_claims = strtoull(m.field[0], NULL, 10);
        r->guest_failed = strtoull(m.field[1], NULL, 10);
        kt__vcpus_stop(r->vc, (double)(kt__mono_ns() - r->t_begin_ns) / 1e9);
        return;
    }
    if (!strcmp(m.type, "END") && m.n == 2) {
        r->ended = true;
        snprintf(r->end_kind, sizeof(r->end_kind), "%s", m.field[0]);
        snprintf(r->end_arg, sizeof(r->end_arg), "%s", m.field[1]);
        return;
    }
    if (!strcmp(m.type, "RMDIR"))
        return;   /* a guest path: the guest removed it */
    kt__wire_write_line(r->wire_up, raw);
}

/* How relay ended. */
typedef enum relay_end { RELAY_OVER, RELAY_EXITED, RELAY_TIMEOUT, RELAY_NO_INIT } relay_end;

/* Reads the guest's wire until it is done with the point, QEMU exits,
 * the deadline, or no BOOT line once the boot clock is over. */
static relay_end relay(vm_run *r, int fd, kt__boot_clock *boot, int64_t deadline)
{
    kt__wire_reader rd;
    relay_end end = RELAY_TIMEOUT;

    if (kt__wire_reader_init(&rd) < 0)
        return RELAY_TIMEOUT;
    fcntl(fd, F_SETFL, O_NONBLOCK);
    while (!r->over) {
        struct pollfd p = { fd, POLLIN, 0 };
        int64_t now = now_ms(), left = deadline - now;
        int n;

        if (r->boot_ms < 0 && kt__boot_clock_over(boot, now)) {
            end = RELAY_NO_INIT;
            break;
        }
        if (left <= 0)
            break;
        n = poll(&p, 1, left > 1000 ? 1000 : (int)left);
        if (n < 0 && errno != EINTR)
            break;
        if (n > 0 && kt__wire_read(&rd, fd, on_guest_line, r) != 0) {
            end = RELAY_EXITED;
            break;
        }
    }
    if (r->over)
        end = RELAY_OVER;
    kt__wire_reader_fini(&rd);
    return end;
}

/* The guest's console from where this point's began. */
static char *read_console(const char *path, off_t from)
{
    kt__vec text = KT__VEC_INIT(char);
    char *s;

    if (kt__read_file(path, CONSOLE_MAX, &text, NULL) < 0 || !text.v) {
        kt__vec_free(&text);
        return NULL;
    }
    s = text.v;
    if (from > 0 && (size_t)from <= text.n)
        memmove(s, s + from, text.n - (size_t)from + 1);
    return s;
}

/* The last lines of the console; for a panic, from just before the first
 * fatal line on, where the kernel says what happened. */
static void send_console(vm_run *r, const char *text)
{
    const char *starts[CONSOLE_LINES];
    size_t lens[CONSOLE_LINES];
    const char *from = text ? kt__console_fatal(text, 2) : NULL;
    size_t n = text ? kt__console_tail(from ? from : text, CONSOLE_LINES, starts, lens) : 0;
    char line[600];

    if (from)
        n = kt__console_head(from, CONSOLE_LINES, starts, lens);

    for (size_t i = 0; i < n; i++) {
        snprintf(line, sizeof(line), "%.*s", (int)(lens[i] > 500 ? 500 : lens[i]), starts[i]);
        send1(r->wire_up, "CONSOLE", line);
    }
}

static void run_host_check(vm_run *r)
{
    kt_verdict hv;
    char claims[24], failed[24];
    const char *done[2] = { claims, failed };

    kt_verdict_init(&hv);
    kt_verdict_set_sink(&hv, host_sink, r, r->ctx->verbose);
    if (r->vcpu_failed && r->s->opts.host_check)
        kt_verdict_note(&hv, "vCPU threads not watched: %s", r->vcpu_err.msg);
    else if (r->s->opts.host_check && r->began)
        r->s->opts.host_check(r->vc, &hv);
    snprintf(claims, sizeof(claims), "%llu",
             (unsigned long long)(r->guest_claims + kt_verdict_claims(&hv)));
    snprintf(failed, sizeof(failed), "%llu",
             (unsigned long long)(r->guest_failed + kt_verdict_failed(&hv)));
    if (r->done)
        kt__wire_send(r->wire_up, "DONE", done, 2);
    kt_verdict_fini(&hv);
}

/* After the point: how the guest ended it, in the parent's terms. */
static void report_end(vm_run *r, relay_end how, const char *console, unsigned boot_s,
                       const kt__boot_clock *boot)
{
    char arg[240];

    if (console && kt__console_panicked(console)) {
        kt__wire_send_end(r->wire_up, "panic", "the guest kernel panicked");
        send_console(r, console);
    } else if (how == RELAY_NO_INIT) {
        int64_t now = now_ms();

        if (kt__boot_clock_at_ceiling(boot, now))
            snprintf(arg, sizeof(arg), "the guest did not reach /init within %lld s of wall "
                     "time, the ceiling for KTSTR_VM_BOOT_S=%u: the host kept QEMU off a CPU "
                     "for %.0f%% of it (no BOOT line, %zu bytes of console)",
                     (long long)(boot->ceiling_ms / 1000), boot_s,
                     100.0 * kt__boot_clock_steal(boot, now), console ? strlen(console) : (size_t)0);
        else
            snprintf(arg, sizeof(arg), "the guest did not reach /init within %u s of CPU time "
                     "(KTSTR_VM_BOOT_S; no BOOT line, %zu bytes of console)", boot_s,
                     console ? strlen(console) : (size_t)0);
        kt__wire_send_end(r->wire_up, "error", arg);
        send_console(r, console);
    } else if (how == RELAY_TIMEOUT && !r->ended) {
        snprintf(arg, sizeof(arg), "%u", r->ctx->timeout_s);
        kt__wire_send_end(r->wire_up, "timeout", arg);
        send_console(r, console);
    } else if (!r->ended) {
        kt__wire_send_end(r->wire_up, "error",
                 r->boot_ms < 0 ? "the guest never reported (no BOOT line from /init)"
                                : "the guest stopped reporting before its body ended");
        send_console(r, console);
    } else {
        kt__wire_send_end(r->wire_up, r->end_kind, r->end_arg);
    }
}

/* A STEAL line per vCPU thread the host watched: its run delay over the
 * body (%.17g: the parent reads the same double back). */
static void send_steal(vm_run *r)
{
    for (int i = 0; r->began && i < kt_vcpus_count(r->vc); i++) {
        double share = kt_vcpus_steal(r->vc, i);
        char vcpu[16], ms[40], sh[40];
        const char *f[3] = { vcpu, ms, sh };

        if (share != share)
            continue;   /* NaN: not sampled */
        snprintf(vcpu, sizeof(vcpu), "%d", i);
        snprintf(ms, sizeof(ms), "%.17g", share * kt_vcpus_body_s(r->vc) * 1000.0);
        snprintf(sh, sizeof(sh), "%.17g", share);
        kt__wire_send(r->wire_up, "STEAL", f, 3);
    }
}

/* The vm: map's line: accel, kernel release, topology, boot_ms, boot. */
static void send_vm(vm_run *r, const char *accel, const kt_topology *t)
{
    char topo[64], boot_ms[24], boot[16];
    const char *f[5] = { accel, r->release, topo, boot_ms, boot };

    kt_topology_name(t, topo, sizeof(topo));
    snprintf(boot_ms, sizeof(boot_ms), "%lld", (long long)(r->boot_ms < 0 ? -1 : r->boot_ms));
    snprintf(boot, sizeof(boot), "%u", r->pc->guest->boot);
    kt__wire_send(r->wire_up, "VM", f, 5);
}

/* Under TCG, QEMU's cross-modifying code can leave a vCPU running a
 * stale int3 that the kernel put there while patching a static key
 * (enabling sched_ext flips several): "Oops: int3" in kernel mode. That
 * is the emulator's fault, not the scheduler's or the kernel's. */
static bool tcg_int3(const char *accel, const char *console)
{
    return strcmp(accel, "tcg") == 0 && console && strstr(console, "Oops: int3");
}

/* Why a point boots again: nothing of the boot's end was sent then. */
static const char again_int3[] =
    "the guest kernel hit \"Oops: int3\" under TCG (QEMU's cross-modifying code, not "
    "the kernel's fault): run again";
static const char again_no_init[] =
    "the guest did not reach /init within KTSTR_VM_BOOT_S with an empty console (an "
    "emulator stall under TCG): booted again";

/* The last line: whether the guest can run the next point. */
static void send_guest(vm_run *r, const char *next, const char *why)
{
    const char *f[2] = { next, why };

    kt__wire_send(r->wire_up, "GUEST", f, why ? 2 : 1);
}

/* The point in the guest, relayed up. */
static void run_in_guest(vm_run *r)
{
    const kt__vm_guest *g = r->pc->guest;
    const kt__vm_plan *plan = r->pc->plan;
    kt__boot_clock boot;
    int64_t deadline;
    relay_end how;
    char *console;
    bool reusable;

    if (g->booted) {
        r->boot_ms = g->boot_ms;
        snprintf(r->release, sizeof(r->release), "%s", g->release);
        ask(r);
    }
    deadline = now_ms() + ((int64_t)r->ctx->timeout_s + BOOT_ALLOWANCE_S) * 1000;
    if (deadline > r->point_deadline_ms)
        deadline = r->point_deadline_ms;
    kt__boot_clock_start(&boot, g->qemu, g->spawn_ms, r->pc->cfg->boot_s);
    how = relay(r, g->wire, &boot, deadline);
    /* A guest that did not finish the point cleanly runs no other: stop it
     * now, so that its console is final (the runner reaps it). */
    reusable = how == RELAY_OVER && !r->dirty[0] && r->ended &&
               (!strcmp(r->end_kind, "exited") || !strcmp(r->end_kind, "signaled"));
    if (!reusable)
        kill(g->qemu, SIGKILL);
    if (r->began && !r->done)   /* the body never finished: watch what it did */
        kt__vcpus_stop(r->vc, (double)(kt__mono_ns() - r->t_begin_ns) / 1e9);
    console = read_console(g->console, r->console_from);
    if (!r->pc->last && !reusable && tcg_int3(plan->accel, console)) {
        send_guest(r, "again", again_int3);
        free(console);
        return;
    }
    /* a stall with output is the kernel's to explain: reported, not retried */
    if (!r->pc->last && how == RELAY_NO_INIT && (!console || !*console) &&
        now_ms() + ((int64_t)r->pc->cfg->boot_s + 5) * 1000 < r->point_deadline_ms) {
        send_guest(r, "again", again_no_init);
        free(console);
        return;
    }
    send_vm(r, plan->accel, &plan->t);
    send_steal(r);
    if (how == RELAY_NO_INIT) {
        char share[40];

        snprintf(share, sizeof(share), "%.17g", kt__boot_clock_steal(&boot, now_ms()));
        send1(r->wire_up, "BOOTSTEAL", share);
    }
    run_host_check(r);
    report_end(r, how, console, r->pc->cfg->boot_s, &boot);
    free(console);
    if (!r->ended && r->boot_ms < 0) {
        char *ql = read_console(g->qlog, 0);

        if (ql && *ql)
            send1(r->wire_up, "NOTE", ql);
        free(ql);
    }
    if (r->dirty[0]) {
        char note[KT__WIRE_FIELD_MAX + 64];

        snprintf(note, sizeof(note), "the guest was not kept for the next point: %s", r->dirty);
        send1(r->wire_up, "NOTE", note);
    }
    send_guest(r, reusable ? "ready" : "gone", NULL);
}

/* In the scenario's child, instead of the body: runs the point in the
 * run's guest, relaying its wire lines to the parent, watching its vCPUs
 * during the body, adding the host check's claims ("host.") and the VM,
 * END, CONSOLE and GUEST lines. */
static void vm_run_point(const kt_scenario *s, kt__run_ctx *rc, const void *vcfg)
{
    const kt__vm_point_cfg *pc = vcfg;
    const kt__vm_plan *plan = pc->plan;
    kt_ctx *ctx = &rc->pub;
    int up = rc->wire_fd;
    struct stat st;
    vm_run r = { .ctx = ctx, .s = s, .pc = pc, .evidence = rc->evidence, .wire_up = up,
                 .boot_ms = -1,
                 /* before the parent's own deadline, so that this child still reports */
                 .point_deadline_ms = now_ms() +
                                      ((int64_t)ctx->timeout_s + KT__VM_EXTRA_S - 5) * 1000 };

    /* A guest gone is the end of its socket, not a signal. */
    signal(SIGPIPE, SIG_IGN);
    ctx->topology = plan->t;
    if (pc->again)
        send1(up, "NOTE", pc->again);
    if (plan->skip[0]) {
        const char *none[2] = { "0", "0" };

        send1(up, "SKIP", plan->skip);
        kt__wire_send(up, "DONE", none, 2);
        return;
    }
    if (plan->error[0] || pc->guest->qemu <= 0) {
        kt__wire_send_end(up, "error", plan->error[0] ? plan->error : "VM mode: no guest");
        return;
    }
    if (plan->note[0])
        send1(up, "NOTE", plan->note);
    if (stat(pc->guest->console, &st) == 0)
        r.console_from = st.st_size;
    r.vc = kt__vcpus_new(plan->accel);
    if (!r.vc) {
        kt__wire_send_end(up, "error", "VM mode: out of memory");
        return;
    }
    run_in_guest(&r);
    kt__vcpus_free(r.vc);
}

static unsigned vm_extra_s(const void *cfg)
{
    (void)cfg;
    return KT__VM_EXTRA_S;
}

const kt__point_kind kt__point_vm = { "vm", vm_extra_s, vm_run_point };
