/*
 * Kind "vm", VM mode's host side: in the scenario's child, instead of the body,
 * boot the guest, relay its wire lines to the parent, watch its vCPU
 * threads while the body runs, and add the host's claims and the vm: map.
 *
 * The guest's lines arrive on QEMU's ttyS1 exactly as a child would send
 * them, so the parent's record and report need only the few lines added
 * here: VM (the vm: map), END (how the guest's body ended, or why the
 * guest did: panic, error) and CONSOLE (the last console lines).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/file.h"
#include "base/vec.h"
#include "guest/guest.h"
#include "guest/image.h"
#include "guest/qemu.h"
#include "runner/point.h"
#include "runner/sched.h"
#include "runner/vm.h"
#include "runner/wire.h"

/* Booting the kernel to /init under TCG takes 2-5 s here; beyond the body's
 * own timeout the host allows this much for boot and power-off. */
#define BOOT_ALLOWANCE_S 60
/* Console lines kept for a panic or a silent guest. */
#define CONSOLE_LINES 20
/* Boots of one point when QEMU TCG leaves a stale int3 (tcg_int3): seen
 * in about 1 of 4 sched_ext enables here, so 3 boots fail 1 point in 60. */
#define BOOTS_MAX 3
#define CONSOLE_MAX (4u << 20)

typedef struct vm_run {
    kt_ctx *ctx;
    const kt_scenario *s;
    int wire_up;                 /* to the parent */
    pid_t qemu;
    int64_t t_spawn_ms;
    uint64_t t_begin_ns;         /* the body's start mark (BEGIN), kt__mono_ns */
    int64_t boot_ms;             /* -1 until BOOT */
    char release[128];
    bool began, done, ended;
    uint64_t guest_claims, guest_failed;
    char end_kind[16], end_arg[512];
    kt_vcpus *vc;
    kt_err vcpu_err;
    bool vcpu_failed;
    int64_t point_deadline_ms;   /* the last moment to report, before the parent kills */
} vm_run;

static int64_t now_ms(void)
{
    return (int64_t)(kt__mono_ns() / 1000000u);
}

static void send1(int fd, const char *type, const char *text)
{
    kt__wire_send(fd, type, &text, 1);
}

/* Where a scenario's guest kernel comes from, or why there is none. */
static const char *find_kernel(const char *given, char *buf, size_t n, kt_err *why)
{
    struct utsname u;

    if (given)
        return given;
    if (uname(&u) < 0)
        return kt_err_sys(why, errno, "uname"), NULL;
    snprintf(buf, n, "/boot/vmlinuz-%s", u.release);
    if (access(buf, R_OK) == 0)
        return buf;
    kt_err_set(why, ENOENT,
               "VM mode needs a guest kernel: %s is not readable; run `make kernel` "
               "and set KTSTR_KERNEL=build/kernel/bzImage (or --kernel)", buf);
    return NULL;
}

/* The QEMU program: given, or qemu-system-x86_64 found on PATH. */
static const char *find_qemu(const char *given, char *buf, size_t n, kt_err *why)
{
    const char *path = getenv("PATH");
    const char *name = given ? given : "qemu-system-x86_64";

    if (strchr(name, '/'))
        return name;
    for (const char *p = path ? path : "/usr/bin:/bin"; *p;) {
        size_t len = strcspn(p, ":");

        snprintf(buf, n, "%.*s/%s", (int)len, p, name);
        if (len && access(buf, X_OK) == 0)
            return buf;
        p += len + (p[len] == ':');
    }
    kt_err_set(why, ENOENT,
               "VM mode needs QEMU: %s is not on PATH (apt-get install qemu-system-x86, "
               "or set KTSTR_QEMU)", name);
    return NULL;
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

/* One line from the guest: most go straight up; a few are ours. */
static void on_guest_line(void *arg, char *line)
{
    vm_run *r = arg;
    char raw[KT__WIRE_LINE_MAX + 1];
    size_t len = strlen(line);
    kt__wire_msg m;

    if (len + 1 > sizeof(raw))
        return;
    memcpy(raw, line, len + 1);   /* the split below cuts line up */
    if (kt__wire_split(line, &m) < 0) {
        kt__wire_write_line(r->wire_up, raw);   /* the parent counts it as bad */
        return;
    }
    if (!strcmp(m.type, "BOOT") && m.n == 2) {
        r->boot_ms = now_ms() - r->t_spawn_ms;
        snprintf(r->release, sizeof(r->release), "%s", m.field[1]);
        return;
    }
    if (!strcmp(m.type, "BEGIN")) {
        r->began = true;
        r->t_begin_ns = kt__mono_ns();
        if (kt__vcpus_start(r->vc, r->qemu, r->ctx->timeout_s, &r->vcpu_err) < 0)
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
typedef enum relay_end { RELAY_EXITED, RELAY_TIMEOUT, RELAY_NO_INIT } relay_end;

/* Reads the guest's wire until QEMU exits, the deadline, or no BOOT line
 * once the boot clock is over. */
static relay_end relay(vm_run *r, int fd, kt__boot_clock *boot, int64_t deadline)
{
    kt__wire_reader rd;
    relay_end end = RELAY_TIMEOUT;

    if (kt__wire_reader_init(&rd) < 0)
        return RELAY_TIMEOUT;
    for (;;) {
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
    kt__wire_reader_fini(&rd);
    return end;
}

static char *read_console(const char *path)
{
    kt__vec text = KT__VEC_INIT(char);

    if (kt__read_file(path, CONSOLE_MAX, &text, NULL) < 0) {
        kt__vec_free(&text);
        return NULL;
    }
    return text.v;
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

/* After QEMU: how the guest ended, in the parent's terms. */
static void report_end(vm_run *r, relay_end how, const char *console_path, unsigned boot_s,
                       const kt__boot_clock *boot)
{
    char *console = read_console(console_path);
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
    free(console);
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

/* The vm: map's line: accel, kernel release, topology, boot_ms. */
static void send_vm(vm_run *r, const char *accel, const kt_topology *t)
{
    char topo[64], boot[24];
    const char *f[4] = { accel, r->release, topo, boot };

    kt_topology_name(t, topo, sizeof(topo));
    snprintf(boot, sizeof(boot), "%lld", (long long)(r->boot_ms < 0 ? -1 : r->boot_ms));
    kt__wire_send(r->wire_up, "VM", f, 4);
}

/* The scheduler's spec as one kernel command-line word: bytes outside a
 * safe set as %xx (the guest's PID 1 decodes them). */
static void percent(char *out, size_t n, const char *s)
{
    size_t o = 0;

    for (; *s && o + 4 < n; s++) {
        unsigned char c = (unsigned char)*s;

        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            strchr("/._:,+-", c))
            out[o++] = (char)c;
        else
            o += (size_t)snprintf(out + o, n - o, "%%%02x", c);
    }
    out[o] = '\0';
}

/* Where the first word of a spec (a program path, maybe quoted) ends. */
static const char *first_word_end(const char *p)
{
    char q = 0;

    while (*p == ' ' || *p == '\t')
        p++;
    for (; *p && (q || (*p != ' ' && *p != '\t')); p++) {
        if (!q && (*p == '\'' || *p == '"'))
            q = *p;
        else if (q && *p == q)
            q = 0;
        else if (*p == '\\' && p[1])
            p++;
    }
    return p;
}

/* A program scheduler goes into the image as /scx/<name> with its
 * libraries; the guest's spec names it there, its arguments unchanged. */
static int sched_for_guest(const char *spec, char *prog, size_t np, char *guest, size_t ng,
                           char *gspec, size_t ngs, kt_err *err)
{
    char buf[1024], *argv[64];
    const char *base;

    if (strncmp(spec, "builtin:", 8) == 0) {
        snprintf(gspec, ngs, "%s", spec);
        prog[0] = '\0';
        return 0;
    }
    if (kt__sched_argv(spec, buf, sizeof(buf), argv, 64, err) < 0)
        return -1;
    if (access(argv[0], X_OK) < 0)
        return kt_err_sys(err, errno, "scheduler '%s'", argv[0]);
    base = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
    snprintf(prog, np, "%s", argv[0]);
    snprintf(guest, ng, "/scx/%s", base);
    snprintf(gspec, ngs, "%.400s%.1000s", guest, first_word_end(spec));
    return 0;
}

static int make_append(char *buf, size_t n, const kt__run_ctx *rc, const kt_topology *t,
                       const char *gspec, unsigned attach_s, const char *fault)
{
    const kt_ctx *ctx = &rc->pub;
    char topo[64], sched[2048] = "";
    int len;

    kt_topology_name(t, topo, sizeof(topo));
    if (gspec && *gspec) {
        char enc[1800];

        percent(enc, sizeof(enc), gspec);
        /* the fault was checked (cli.c): stop:MS, one word */
        snprintf(sched, sizeof(sched), " KTSTR_GUEST_SCHED=%s KTSTR_GUEST_SCHED_ATTACH_S=%u%s%s",
                 enc, attach_s, fault ? " KTSTR_GUEST_SCHED_FAULT=" : "", fault ? fault : "");
    }
    len = snprintf(buf, n,
                   "console=ttyS0 quiet loglevel=4 panic=-1 oops=panic mitigations=off "
                   "rdinit=/init KTSTR_GUEST=%s KTSTR_GUEST_TIMEOUT=%u KTSTR_VERBOSE=%d "
                   "KTSTR_GUEST_TOPOLOGY=%s%um KTSTR_GUEST_EVIDENCE=%u%s",
                   ctx->name, ctx->timeout_s, ctx->verbose ? 1 : 0, topo, t->memory_mb,
                   rc->evidence, sched);

    return len > 0 && (size_t)len < n ? 0 : -1;
}

/* Per field: the scenario's .vm, else the run's --topology, else the
 * default; so .vm = { .memory_mb = 512 } keeps the run's shape. */
static kt_topology point_topology(const kt_topology *own, const kt_topology *run)
{
    kt_topology t = *own;

    if (!t.numa_nodes)
        t.numa_nodes = run->numa_nodes;
    if (!t.llcs)
        t.llcs = run->llcs;
    if (!t.cores)
        t.cores = run->cores;
    if (!t.threads)
        t.threads = run->threads;
    if (!t.memory_mb)
        t.memory_mb = run->memory_mb;
    kt_topology_resolve(&t);
    return t;
}

bool kt__vm_wanted(const kt_scenario *s, const kt__vm_cfg *cfg)
{
    return cfg->all || kt_topology_is_set(&s->opts.vm);
}

/* What one VM point boots, resolved once for all its attempts. */
typedef struct vm_point {
    char kbuf[PATH_MAX], qbuf[PATH_MAX], image[PATH_MAX], dir[32];
    char console[PATH_MAX + 16], qlog[PATH_MAX + 16], append[4096], why_tcg[256];
    char sprog[PATH_MAX], sguest[PATH_MAX], gspec[1500];
    kt_topology t;
    const char *accel;
    kt__qemu_cfg qc;              /* all but the wire's fd, set per boot */
    kt__qemu_argv argv;
    unsigned boot_s;              /* KTSTR_VM_BOOT_S */
} vm_point;

/* The kernel, QEMU, the scheduler's files, the image and the command
 * line. 1 when the point can boot; 0 after sending why it cannot. */
static int prepare(vm_point *pt, const kt_scenario *s, kt__run_ctx *rc, const kt__vm_cfg *cfg)
{
    kt_ctx *ctx = &rc->pub;
    int up = rc->wire_fd;
    const char *spec = cfg->scheduler ? cfg->scheduler : s->opts.scheduler;
    const char *kernel, *qemu;
    kt__image_file extra = { 0 };
    kt_err err = { 0 };

    pt->t = point_topology(&s->opts.vm, &cfg->topology);
    ctx->topology = pt->t;
    if (kt_topology_check(&pt->t, &err) < 0)
        return kt__wire_send_end(up, "error", err.msg), 0;
    kernel = find_kernel(cfg->kernel, pt->kbuf, sizeof(pt->kbuf), &err);
    qemu = kernel ? find_qemu(cfg->qemu, pt->qbuf, sizeof(pt->qbuf), &err) : NULL;
    if (!kernel || !qemu) {
        const char *none[2] = { "0", "0" };

        send1(up, "SKIP", err.msg);
        kt__wire_send(up, "DONE", none, 2);
        return 0;
    }
    if (spec && sched_for_guest(spec, pt->sprog, sizeof(pt->sprog), pt->sguest, sizeof(pt->sguest),
                                pt->gspec, sizeof(pt->gspec), &err) < 0)
        return kt__wire_send_end(up, "error", err.msg), 0;
    if (spec && pt->sprog[0])
        extra = (kt__image_file){ .guest = pt->sguest, .host = pt->sprog, .libs = true };
    pt->accel = kt__qemu_accel(cfg->accel, pt->why_tcg, sizeof(pt->why_tcg), &err);
    snprintf(pt->dir, sizeof(pt->dir), "/tmp/ktstr-vm-XXXXXX");
    if (!pt->accel || kt__image_cached("/proc/self/exe", &extra, extra.host ? 1 : 0,
                                       cfg->cache_dir, pt->image, sizeof(pt->image), &err) < 0)
        return kt__wire_send_end(up, "error", err.msg), 0;
    if (!mkdtemp(pt->dir))
        return kt__wire_send_end(up, "error", "VM mode: mkdtemp in /tmp failed"), 0;
    if (pt->why_tcg[0])
        send1(up, "NOTE", pt->why_tcg);
    snprintf(pt->console, sizeof(pt->console), "%s/console.log", pt->dir);
    snprintf(pt->qlog, sizeof(pt->qlog), "%s/qemu.log", pt->dir);
    if (make_append(pt->append, sizeof(pt->append), rc, &pt->t, pt->gspec,
                    cfg->sched_attach_s, cfg->sched_fault) < 0)
        return kt__wire_send_end(up, "error", "VM mode: the kernel command line is too long"), 0;
    pt->qc = (kt__qemu_cfg){ .qemu = qemu, .kernel = kernel, .initrd = pt->image,
                             .accel = pt->accel, .append = pt->append,
                             .console_path = pt->console, .wire_fd = -1, .name = ctx->name,
                             .topo = pt->t,
                             .bios = access("/usr/share/qemu/qboot.rom", R_OK) == 0
                                     ? "/usr/share/qemu/qboot.rom" : NULL };
    return 1;
}

/* Under TCG, QEMU's cross-modifying code can leave a vCPU running a
 * stale int3 that the kernel put there while patching a static key
 * (enabling sched_ext flips several): "Oops: int3" in kernel mode. That
 * is the emulator's fault, not the scheduler's or the kernel's. */
static bool tcg_int3(const vm_point *pt)
{
    char *console = strcmp(pt->accel, "tcg") == 0 ? read_console(pt->console) : NULL;
    bool hit = console && strstr(console, "Oops: int3");

    free(console);
    return hit;
}

/* True when the guest printed nothing at all on its console (QEMU makes
 * the file; one that never got that far made none). */
static bool console_empty(const char *path)
{
    struct stat st;

    if (stat(path, &st) < 0)
        return errno == ENOENT;
    return st.st_size == 0;
}

/* Why a point boots again: nothing of the boot's end was sent then. */
static const char again_int3[] =
    "the guest kernel hit \"Oops: int3\" under TCG (QEMU's cross-modifying code, not "
    "the kernel's fault): run again";
static const char again_no_init[] =
    "the guest did not reach /init within KTSTR_VM_BOOT_S with an empty console (an "
    "emulator stall under TCG): booted again";

/* One boot of the guest, relayed up: NULL, or why the caller may run the
 * point again (again_int3, again_no_init). */
static const char *boot_once(vm_point *pt, vm_run *r, int logfd, bool last)
{
    kt_err err = { 0 };
    int64_t deadline;
    kt__boot_clock boot;
    relay_end how;
    int st, p[2];

    /* A pipe per boot: its end of file is QEMU's exit. */
    if (pipe2(p, O_CLOEXEC) < 0) {
        kt__wire_send_end(r->wire_up, "error", "VM mode: pipe failed");
        return NULL;
    }
    pt->qc.wire_fd = p[1];
    if (kt__qemu_argv_build(&pt->qc, &pt->argv, &err) < 0) {
        close(p[0]);
        close(p[1]);
        kt__wire_send_end(r->wire_up, "error", err.msg);
        return NULL;
    }
    r->t_spawn_ms = now_ms();
    r->qemu = kt__qemu_spawn(&pt->argv, p[1], logfd, &err);
    close(p[1]);
    if (r->qemu < 0) {
        close(p[0]);
        kt__wire_send_end(r->wire_up, "error", err.msg);
        return NULL;
    }
    deadline = r->t_spawn_ms + ((int64_t)r->ctx->timeout_s + BOOT_ALLOWANCE_S) * 1000;
    if (deadline > r->point_deadline_ms)
        deadline = r->point_deadline_ms;
    kt__boot_clock_start(&boot, r->qemu, r->t_spawn_ms, pt->boot_s);
    how = relay(r, p[0], &boot, deadline);
    close(p[0]);
    kill(r->qemu, SIGKILL);
    while (waitpid(r->qemu, &st, 0) < 0 && errno == EINTR)
        ;
    if (r->began && !r->done)   /* the body never finished: watch what it did */
        kt__vcpus_stop(r->vc, (double)(kt__mono_ns() - r->t_begin_ns) / 1e9);
    if (!last && tcg_int3(pt))
        return again_int3;
    /* a stall with output is the kernel's to explain: reported, not retried */
    if (!last && how == RELAY_NO_INIT && console_empty(pt->console) &&
        now_ms() + ((int64_t)pt->boot_s + 5) * 1000 < r->point_deadline_ms)
        return again_no_init;
    send_vm(r, pt->accel, &pt->t);
    send_steal(r);
    if (how == RELAY_NO_INIT) {
        char share[40];

        snprintf(share, sizeof(share), "%.17g", kt__boot_clock_steal(&boot, now_ms()));
        send1(r->wire_up, "BOOTSTEAL", share);
    }
    run_host_check(r);
    report_end(r, how, pt->console, pt->boot_s, &boot);
    if (!r->ended && r->boot_ms < 0) {
        char *ql = read_console(pt->qlog);

        if (ql && *ql)
            send1(r->wire_up, "NOTE", ql);
        free(ql);
    }
    return NULL;
}

/* In the scenario's child, instead of the body: boots the guest, relays
 * its wire lines to the parent, watches its vCPUs during the body, adds
 * the host check's claims ("host.") and the VM, END and CONSOLE lines. */
static void vm_run_point(const kt_scenario *s, kt__run_ctx *rc, const void *vcfg)
{
    const kt__vm_cfg *cfg = vcfg;
    kt_ctx *ctx = &rc->pub;
    int wire_fd = rc->wire_fd;
    vm_point *pt = calloc(1, sizeof(*pt));
    /* before the parent's own deadline, so that this child still reports */
    int64_t deadline = now_ms() + ((int64_t)ctx->timeout_s + KT__VM_EXTRA_S - 5) * 1000;
    int logfd = -1;

    if (!pt) {
        kt__wire_send_end(wire_fd, "error", "VM mode: out of memory");
        return;
    }
    pt->boot_s = cfg->boot_s;
    if (prepare(pt, s, rc, cfg))
        logfd = open(pt->qlog, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    for (int attempt = 0; logfd >= 0 && attempt < BOOTS_MAX; attempt++) {
        vm_run r = { .ctx = ctx, .s = s, .wire_up = wire_fd, .boot_ms = -1,
                     .point_deadline_ms = deadline };
        const char *again;

        r.vc = kt__vcpus_new(pt->accel);
        again = r.vc ? boot_once(pt, &r, logfd, attempt == BOOTS_MAX - 1) : NULL;
        kt__vcpus_free(r.vc);
        if (!again)
            break;
        /* The parent forgets the first boot's lines, and says why. */
        kt__wire_send(wire_fd, "RESET", NULL, 0);
        send1(wire_fd, "NOTE", again);
    }
    if (logfd >= 0)
        close(logfd);
    unlink(pt->console);
    unlink(pt->qlog);
    rmdir(pt->dir);
    free(pt);
}

static unsigned vm_extra_s(const void *cfg)
{
    (void)cfg;
    return KT__VM_EXTRA_S;
}

const kt__point_kind kt__point_vm = { "vm", vm_extra_s, vm_run_point };
