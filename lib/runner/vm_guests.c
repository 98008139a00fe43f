/* The run's guest: booted once by the runner and kept for the next VM
 * points that ask for the same guest (README: VM mode, one boot for many
 * points). QEMU is the runner's own child, so the end of a point's child
 * does not take it along; the point's child talks to the guest over the
 * socket it inherits. A guest is ended when a point left it unfit (a
 * timeout, a panic, a scheduler or cgroup it could not clean up), when the
 * next point needs another one, or at the end of the run. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/clock.h"
#include "guest/guest.h"
#include "runner/point.h"
#include "runner/vm.h"

/* Boots of one point when the guest never reached /init with an empty
 * console, or TCG left a stale int3 (about 1 in 4 sched_ext enables
 * here): 3 boots fail 1 point in 60. */
#define BOOTS_MAX 3

void kt__vm_guest_init(kt__vm_guest *g)
{
    memset(g, 0, sizeof(*g));
    g->wire = -1;
    g->logfd = -1;
}

void kt__vm_guest_end(kt__vm_guest *g)
{
    unsigned boot = g->boot;

    if (g->qemu > 0) {
        kill(g->qemu, SIGKILL);
        while (waitpid(g->qemu, NULL, 0) < 0 && errno == EINTR)
            ;
    }
    if (g->wire >= 0)
        close(g->wire);
    if (g->logfd >= 0)
        close(g->logfd);
    if (g->dir[0]) {
        unlink(g->console);
        unlink(g->qlog);
        rmdir(g->dir);
    }
    kt__vm_guest_init(g);
    g->boot = boot;   /* boots are counted over the run */
}

static int64_t now_ms(void)
{
    return (int64_t)(kt__mono_ns() / 1000000u);
}

/* Starts QEMU for plan p: 0, or -1 with err (g is then empty). */
static int guest_boot(kt__vm_guest *g, const kt__vm_plan *p, kt_err *err)
{
    kt__qemu_cfg qc = p->qc;
    kt__qemu_argv *argv = malloc(sizeof(*argv));
    int sv[2] = { -1, -1 };

    snprintf(g->dir, sizeof(g->dir), "/tmp/ktstr-vm-XXXXXX");
    if (!argv)
        return kt_err_sys(err, ENOMEM, "VM mode: QEMU's argv");
    if (!mkdtemp(g->dir)) {
        g->dir[0] = '\0';
        free(argv);
        return kt_err_sys(err, errno, "VM mode: mkdtemp in /tmp");
    }
    snprintf(g->console, sizeof(g->console), "%s/console.log", g->dir);
    snprintf(g->qlog, sizeof(g->qlog), "%s/qemu.log", g->dir);
    g->logfd = open(g->qlog, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    /* A socket, not a pipe: the host asks for each point on it too. */
    if (g->logfd < 0 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
        kt_err_sys(err, errno, "VM mode: %s", g->logfd < 0 ? g->qlog : "socketpair");
        goto fail;
    }
    qc.console_path = g->console;
    qc.wire_fd = sv[1];
    if (kt__qemu_argv_build(&qc, argv, err) < 0)
        goto fail;
    g->spawn_ms = now_ms();
    g->qemu = kt__qemu_spawn(argv, sv[1], g->logfd, err);
    if (g->qemu < 0) {   /* its exited child is reaped with the point's */
        g->qemu = 0;
        goto fail;
    }
    close(sv[1]);   /* QEMU's alone: its exit is our end of file */
    g->wire = sv[0];
    g->boot++;
    g->booted = false;
    snprintf(g->key, sizeof(g->key), "%s", p->key);
    free(argv);
    return 0;
fail:
    if (sv[1] >= 0)
        close(sv[1]);
    if (sv[0] >= 0)
        close(sv[0]);
    free(argv);
    kt__vm_guest_end(g);
    return -1;
}

/* After a point: keep the guest when its child said it is ready for
 * another point and the run reuses guests; else end it. */
static void after_point(kt__vm_guest *g, const kt__result *r, bool reuse)
{
    if (g->qemu <= 0)
        return;
    if (!reuse || strcmp(r->guest_next, "ready") != 0) {
        kt__vm_guest_end(g);
        return;
    }
    g->booted = true;
    g->boot_ms = r->boot_ms;
    snprintf(g->release, sizeof(g->release), "%s", r->vm_kernel);
}

void kt__vm_point_run(kt__vm_guest *g, const kt_scenario *s, kt_ctx *ctx, int sigfd,
                      const sigset_t *child_mask, const kt__vm_cfg *cfg, unsigned evidence,
                      kt__result *r)
{
    kt__vm_plan *plan = malloc(sizeof(*plan));
    char again[KT_ERR_MSG_MAX] = "";

    if (!plan) {
        kt__result_init(r);
        r->end = KT__END_START_FAILED;
        kt_err_sys(&r->start_error, ENOMEM, "VM mode: the point's plan");
        return;
    }
    kt__vm_plan_make(plan, s, ctx, cfg);
    for (int attempt = 0; attempt < BOOTS_MAX; attempt++) {
        kt__vm_point_cfg pc = { cfg, plan, g, again[0] ? again : NULL,
                                attempt == BOOTS_MAX - 1 };
        kt_err err = { 0 };

        if (!plan->skip[0] && !plan->error[0]) {
            /* a guest that died while it waited is reaped here */
            if (g->qemu > 0 && waitpid(g->qemu, NULL, WNOHANG) == g->qemu)
                g->qemu = 0;
            if (g->qemu <= 0 || strcmp(g->key, plan->key) != 0)
                kt__vm_guest_end(g);
            if (g->qemu <= 0 && guest_boot(g, plan, &err) < 0)
                snprintf(plan->error, sizeof(plan->error), "%s", err.msg);
        }
        kt__child_supervise(s, ctx, sigfd, child_mask, &kt__point_vm, &pc, -1, evidence,
                            g->qemu, r);
        r->vm_boot = g->qemu > 0 ? g->boot : 0;
        after_point(g, r, cfg->reuse);
        if (strcmp(r->guest_next, "again") != 0 || pc.last)
            break;
        /* The first boot's report goes; the note of why stays. */
        snprintf(again, sizeof(again), "%s", r->guest_again);
        kt__result_fini(r);
    }
    free(plan);
}
