/*
 * The vCPU threads: the kick signal they block and drain, start, the run
 * loop, the pacing of HALT and DUTY, and stop. microvm.c builds the VM and
 * calls in here (install the kick handler, stop before destroy); nothing
 * here calls back into it.
 *
 * A vCPU thread keeps the kick signal blocked and hands KVM a signal mask
 * without it (KVM_SET_SIGNAL_MASK), so the signal is only ever "pending"
 * from the thread's point of view: inside KVM_RUN it ends the run with
 * EINTR, outside it waits until the next KVM_RUN ends at once, and the
 * thread eats it with sigtimedwait. No kick is lost whatever its timing,
 * and no handler runs on the vCPU thread.
 *
 * Pacing uses a per-thread POSIX timer aimed at the thread itself
 * (SIGEV_THREAD_ID); its kicks are told from kt_microvm_stop's by si_code.
 *   HALT: a periodic timer every halt_wake_ms; each expiry makes the
 *         halted vCPU runnable, the guest counts one and halts again.
 *   DUTY: a one-shot timer per phase. When the run phase ends the host
 *         sets the guest's halt request; the guest sees it after its
 *         current 256-step block and executes HLT, which sleeps in the
 *         kernel. When the halt phase ends the host clears the request
 *         and makes the vCPU runnable. Phases are timed from the host's
 *         decision, so the halt phase includes the (short) wait for the
 *         guest to reach HLT; when the thread is held off a CPU for longer
 *         than a phase, a phase may slip by one, never hang.
 * Without an in-kernel irqchip, HLT comes back as KVM_EXIT_HLT and the
 * thread waits for the next kick in sigwaitinfo, then re-enters the guest
 * past the HLT.
 */
#include "microvm/microvm_int.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#ifndef sigev_notify_thread_id
#define sigev_notify_thread_id _sigev_un._tid /* older glibc lacks the name */
#endif

typedef struct pacer {
    timer_t timer;
    bool has_timer;
    bool halting; /* DUTY: in the halt phase */
} pacer;

/* ---- the kick signal ---------------------------------------------------- */

/* The kick signal's handler: never expected to run, since vCPU threads
 * keep the signal blocked outside KVM_RUN; it is there so that a stray
 * kick can neither kill the process (the default action) nor be dropped
 * (SIG_IGN discards a signal before KVM can see it). */
static void kick_handler(int sig)
{
    (void)sig;
}

int kt_microvm_kick_signal(void)
{
    return SIGRTMIN + 6;
}

int kt__microvm_install_kick(kt_err *err)
{
    struct sigaction old, sa;
    int sig = kt_microvm_kick_signal();

    if (sigaction(sig, NULL, &old) < 0)
        return kt_err_sys(err, errno, "kt_microvm (signal %d): sigaction", sig);
    if (!(old.sa_flags & SA_SIGINFO) && (old.sa_handler == SIG_DFL ||
                                         old.sa_handler == SIG_IGN)) {
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = kick_handler;
        sigemptyset(&sa.sa_mask);
        sa.sa_flags = SA_RESTART;
        if (sigaction(sig, &sa, NULL) < 0)
            return kt_err_sys(err, errno, "kt_microvm (signal %d): sigaction", sig);
    }
    return 0;
}

static void kick_set(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, kt_microvm_kick_signal());
}

/* Records the run loop's error; the thread ends after it. */
static void run_failed(struct kt__microvm_vcpu *c, int code, const char *what)
{
    if (code)
        kt_err_sys(&c->run_err, code, "kt_microvm (vCPU %d): %s", c->index, what);
    else
        kt_err_set(&c->run_err, 0, "kt_microvm (vCPU %d): %s", c->index, what);
    atomic_store(&c->failed, true);
}

/* KVM_RUN gets this thread's mask minus the kick signal. The kernel's
 * sigset is 8 bytes on every 64-bit arch, the first 8 of glibc's. */
static int set_kvm_sigmask(struct kt__microvm_vcpu *c, kt_err *err)
{
    union {
        struct kvm_signal_mask head;
        uint8_t bytes[sizeof(struct kvm_signal_mask) + 8];
    } km;
    sigset_t cur;

    if (pthread_sigmask(SIG_BLOCK, NULL, &cur) != 0)
        return kt_err_set(err, EINVAL, "kt_microvm (vCPU %d): pthread_sigmask",
                          c->index);
    sigdelset(&cur, kt_microvm_kick_signal());
    km.head.len = 8;
    memcpy(km.head.sigset, &cur, 8);
    if (ioctl(c->fd, KVM_SET_SIGNAL_MASK, &km) < 0)
        return kt_err_sys(err, errno, "kt_microvm (vCPU %d): KVM_SET_SIGNAL_MASK",
                          c->index);
    return 0;
}

static int arm(pacer *p, unsigned long long first_us, unsigned long long every_us)
{
    struct itimerspec its = {
        .it_value = { (time_t)(first_us / 1000000), (long)(first_us % 1000000) * 1000 },
        .it_interval = { (time_t)(every_us / 1000000), (long)(every_us % 1000000) * 1000 },
    };

    return timer_settime(p->timer, 0, &its, NULL);
}

static int make_pacer(struct kt__microvm_vcpu *c, pacer *p, kt_err *err)
{
    const kt_microvm_config *cfg = &c->vm->cfg;
    struct sigevent sev;

    memset(p, 0, sizeof(*p));
    if (!(cfg->prog == KT_MICROVM_PROG_DUTY ||
          (cfg->prog == KT_MICROVM_PROG_HALT && cfg->halt_wake_ms)))
        return 0;
    memset(&sev, 0, sizeof(sev));
    sev.sigev_notify = SIGEV_THREAD_ID;
    sev.sigev_signo = kt_microvm_kick_signal();
    sev.sigev_notify_thread_id = gettid();
    if (timer_create(CLOCK_MONOTONIC, &sev, &p->timer) < 0)
        return kt_err_sys(err, errno, "kt_microvm (vCPU %d): timer_create", c->index);
    p->has_timer = true;
    if (cfg->prog == KT_MICROVM_PROG_HALT) {
        unsigned long long us = cfg->halt_wake_ms * 1000ull;
        if (arm(p, us, us) < 0)
            return kt_err_sys(err, errno, "kt_microvm (vCPU %d): timer_settime",
                              c->index);
    } else if (arm(p, cfg->duty_run_us, 0) < 0) {
        return kt_err_sys(err, errno, "kt_microvm (vCPU %d): timer_settime", c->index);
    }
    return 0;
}

/* Eats every pending kick; returns how many came from the timer. With
 * wait set, first sleeps until one arrives (HLT handled in userspace). */
static int eat_kicks(bool wait)
{
    static const struct timespec zero = { 0, 0 };
    sigset_t set;
    siginfo_t si;
    int timer_kicks = 0, sig;

    kick_set(&set);
    if (wait) {
        do
            sig = sigwaitinfo(&set, &si);
        while (sig < 0 && errno == EINTR);
        if (sig > 0 && si.si_code == SI_TIMER)
            timer_kicks++;
    }
    while (sigtimedwait(&set, &si, &zero) > 0)
        if (si.si_code == SI_TIMER)
            timer_kicks++;
    return timer_kicks;
}

/* Ends a halt: with an in-kernel irqchip the vCPU stays HALTED through a
 * kick, so it is made runnable by hand (there is no interrupt to wake it). */
static int wake(struct kt__microvm_vcpu *c)
{
    struct kvm_mp_state mp = { .mp_state = KVM_MP_STATE_RUNNABLE };

    if (!c->vm->kernel_halt)
        return 0;
    if (ioctl(c->fd, KVM_SET_MP_STATE, &mp) < 0) {
        run_failed(c, errno, "KVM_SET_MP_STATE(RUNNABLE)");
        return -1;
    }
    return 0;
}

/* One timer expiry: the next step of the program's pacing. */
static int on_timer(struct kt__microvm_vcpu *c, pacer *p)
{
    const kt_microvm_config *cfg = &c->vm->cfg;
    volatile uint8_t *halt_req = c->data + VM_DATA_HALTREQ;

    if (cfg->prog == KT_MICROVM_PROG_HALT)
        return wake(c);
    if (cfg->prog != KT_MICROVM_PROG_DUTY)
        return 0;
    if (!p->halting) {
        *halt_req = 1;
        p->halting = true;
        if (arm(p, cfg->duty_halt_us, 0) == 0)
            return 0;
    } else {
        *halt_req = 0;
        p->halting = false;
        if (wake(c) < 0)
            return -1;
        if (arm(p, cfg->duty_run_us, 0) == 0)
            return 0;
    }
    run_failed(c, errno, "timer_settime");
    return -1;
}

/* The exits a guest of ours can end in when something is wrong, named so
 * the error says more than a number. */
static const struct {
    unsigned reason;
    const char *name;
} exit_names[] = {
    { KVM_EXIT_UNKNOWN, "KVM_EXIT_UNKNOWN" },
    { KVM_EXIT_EXCEPTION, "KVM_EXIT_EXCEPTION" },
    { KVM_EXIT_IO, "KVM_EXIT_IO" },
    { KVM_EXIT_MMIO, "KVM_EXIT_MMIO" },
    { KVM_EXIT_SHUTDOWN, "KVM_EXIT_SHUTDOWN (triple fault)" },
    { KVM_EXIT_FAIL_ENTRY, "KVM_EXIT_FAIL_ENTRY" },
    { KVM_EXIT_INTERNAL_ERROR, "KVM_EXIT_INTERNAL_ERROR" },
};

static const char *exit_name(unsigned reason)
{
    for (size_t i = 0; i < sizeof(exit_names) / sizeof(exit_names[0]); i++)
        if (exit_names[i].reason == reason)
            return exit_names[i].name;
    return "unlisted";
}

static void run_loop(struct kt__microvm_vcpu *c, pacer *p)
{
    char what[96];

    while (!atomic_load(&c->stop)) {
        bool halted_here = false;

        if (ioctl(c->fd, KVM_RUN, 0) < 0) {
            if (errno != EINTR && errno != EAGAIN) {
                run_failed(c, errno, "KVM_RUN");
                return;
            }
        } else if (c->run->exit_reason == KVM_EXIT_HLT) {
            /* No in-kernel irqchip: sleep here until a kick. */
            halted_here = true;
        } else if (c->run->exit_reason != KVM_EXIT_INTR) {
            snprintf(what, sizeof(what), "unexpected exit reason %u (%s)",
                     c->run->exit_reason, exit_name(c->run->exit_reason));
            run_failed(c, 0, what);
            return;
        }
        for (int n = eat_kicks(halted_here); n > 0; n--)
            if (!atomic_load(&c->stop) && on_timer(c, p) < 0)
                return;
    }
}

/* Tells kt_microvm_start that this thread is ready (or why it is not). */
static void report_ready(struct kt__microvm_vcpu *c, bool ok)
{
    kt_microvm *vm = c->vm;

    pthread_mutex_lock(&vm->lock);
    if (!ok)
        atomic_store(&c->failed, true);
    vm->nr_ready++;
    pthread_cond_broadcast(&vm->cond);
    pthread_mutex_unlock(&vm->lock);
}

static void *vcpu_main(void *arg)
{
    struct kt__microvm_vcpu *c = arg;
    char name[16];
    pacer p = { .has_timer = false };
    bool ok;
    int rc;

    snprintf(name, sizeof(name), "CPU %d/KVM", c->index);
    rc = pthread_setname_np(pthread_self(), name);
    if (rc != 0)
        kt_err_sys(&c->run_err, rc, "kt_microvm (vCPU %d): pthread_setname_np",
                   c->index);
    ok = rc == 0 && set_kvm_sigmask(c, &c->run_err) == 0 &&
         make_pacer(c, &p, &c->run_err) == 0;
    if (ok)
        atomic_store(&c->tid, (int)gettid());
    report_ready(c, ok);
    if (ok)
        run_loop(c, &p);
    if (p.has_timer)
        timer_delete(p.timer);
    atomic_store(&c->tid, -1);
    return NULL;
}

int kt_microvm_start(kt_microvm *vm, kt_err *err)
{
    sigset_t kick, old;
    int started = 0, rc = 0;

    if (!vm)
        return kt_err_set(err, EINVAL, "kt_microvm_start: no VM");
    if (vm->started)
        return kt_err_set(err, EBUSY, "kt_microvm_start: VM already started "
                                      "(a VM starts once)");
    vm->started = true;
    /* Threads inherit the mask: the kick is blocked from their first
     * instruction on, so an early kt_microvm_stop cannot kill the process. */
    kick_set(&kick);
    rc = pthread_sigmask(SIG_BLOCK, &kick, &old);
    if (rc != 0)
        return kt_err_sys(err, rc, "kt_microvm_start: pthread_sigmask");
    for (int i = 0; i < vm->nr_vcpus; i++) {
        struct kt__microvm_vcpu *c = &vm->vcpu[i];
        rc = pthread_create(&c->thread, NULL, vcpu_main, c);
        if (rc != 0) {
            kt_err_sys(err, rc, "kt_microvm_start (vCPU %d): pthread_create", i);
            break;
        }
        c->thread_started = true;
        started++;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL); /* restoring cannot fail */

    pthread_mutex_lock(&vm->lock);
    while (vm->nr_ready < started)
        pthread_cond_wait(&vm->cond, &vm->lock);
    pthread_mutex_unlock(&vm->lock);
    for (int i = 0; rc == 0 && i < started; i++) {
        if (atomic_load(&vm->vcpu[i].failed)) {
            kt_err_set(err, vm->vcpu[i].run_err.code, "%s",
                       vm->vcpu[i].run_err.msg);
            rc = -1;
        }
    }
    if (rc != 0) {
        kt_microvm_stop(vm);
        return -1;
    }
    return 0;
}

void kt_microvm_stop(kt_microvm *vm)
{
    if (!vm)
        return;
    for (int i = 0; i < vm->nr_vcpus; i++) {
        struct kt__microvm_vcpu *c = &vm->vcpu[i];
        if (!c->thread_started)
            continue;
        atomic_store(&c->stop, true);
        /* A thread that already ended keeps its handle until joined, so
         * this cannot hit a stranger; its answer changes nothing. */
        (void)pthread_kill(c->thread, kt_microvm_kick_signal());
    }
    for (int i = 0; i < vm->nr_vcpus; i++) {
        struct kt__microvm_vcpu *c = &vm->vcpu[i];
        if (!c->thread_started)
            continue;
        /* Joinable and not yet joined: pthread_join has nothing to fail on. */
        (void)pthread_join(c->thread, NULL);
        c->thread_started = false;
    }
}
