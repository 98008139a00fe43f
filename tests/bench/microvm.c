/*
 * Figures of the micro-VM, per program: vCPU exits per second, halt exits
 * per second, the vCPU thread's CPU share, guest progress per second, and
 * how long kt_microvm_stop takes. Each is the median of REPS runs of a
 * fresh one-vCPU VM. Baselines from the same run: the CPU share of a
 * plain host thread spinning, and the time to kick and join a plain
 * thread sleeping in sigwaitinfo (what a stop costs without KVM).
 */
#include <ktstr/microvm.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define REPS 5
#define WARMUP_MS 100
#define WINDOW_MS 300

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static double thread_cpu_s(pid_t tid)
{
    char path[64];
    unsigned long long ns;
    FILE *f;
    int n;

    snprintf(path, sizeof(path), "/proc/self/task/%d/schedstat", (int)tid);
    f = fopen(path, "r");
    if (!f)
        return -1;
    n = fscanf(f, "%llu", &ns);
    fclose(f);
    return n == 1 ? (double)ns / 1e9 : -1;
}

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_dbl);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

enum { F_EXITS, F_HALT_EXITS, F_SHARE, F_PROGRESS, F_STOP_US, F_NR };

static const struct {
    const char *name, *unit;
} fields[F_NR] = {
    [F_EXITS] = { "exits_per_s", "exits/s" },
    [F_HALT_EXITS] = { "halt_exits_per_s", "exits/s" },
    [F_SHARE] = { "cpu_share", "ratio" },
    [F_PROGRESS] = { "progress_per_s", "iterations/s" },
    [F_STOP_US] = { "stop_latency_us", "us" },
};

static const struct {
    const char *label;
    kt_microvm_config cfg;
} cases[] = {
    { "spin", { .nr_vcpus = 1, .prog = KT_MICROVM_PROG_SPIN } },
    { "compute", { .nr_vcpus = 1, .prog = KT_MICROVM_PROG_COMPUTE } },
    { "halt", { .nr_vcpus = 1, .prog = KT_MICROVM_PROG_HALT } },
    { "halt_wake50ms", { .nr_vcpus = 1, .prog = KT_MICROVM_PROG_HALT, .halt_wake_ms = 50 } },
    { "duty5ms_5ms", { .nr_vcpus = 1, .prog = KT_MICROVM_PROG_DUTY,
                       .duty_run_us = 5000, .duty_halt_us = 5000 } },
};

static uint64_t stat_or_0(kt_microvm *vm, const char *name)
{
    uint64_t v = 0;

    kt_microvm_vcpu_stat(vm, 0, name, &v, NULL);
    return v;
}

/* One run of one case; fills f[] or returns -1 with the reason printed. */
static int run_once(const kt_microvm_config *cfg, double f[F_NR])
{
    kt_err err = { 0 };
    kt_microvm *vm = kt_microvm_create(cfg, &err);
    uint64_t e0, h0, p0;
    double t0, c0, wall, t1;
    pid_t tid;

    if (!vm || kt_microvm_start(vm, &err) < 0) {
        printf("# skipped: %s\n", err.msg);
        kt_microvm_destroy(vm);
        return -1;
    }
    tid = kt_microvm_vcpu_tid(vm, 0);
    sleep_ms(WARMUP_MS);
    e0 = stat_or_0(vm, "exits");
    h0 = stat_or_0(vm, "halt_exits");
    p0 = kt_microvm_vcpu_progress(vm, 0);
    c0 = thread_cpu_s(tid);
    t0 = now_s();
    sleep_ms(WINDOW_MS);
    wall = now_s() - t0;
    f[F_SHARE] = (thread_cpu_s(tid) - c0) / wall;
    f[F_EXITS] = (double)(stat_or_0(vm, "exits") - e0) / wall;
    f[F_HALT_EXITS] = (double)(stat_or_0(vm, "halt_exits") - h0) / wall;
    f[F_PROGRESS] = (double)(kt_microvm_vcpu_progress(vm, 0) - p0) / wall;
    t1 = now_s();
    kt_microvm_stop(vm);
    f[F_STOP_US] = (now_s() - t1) * 1e6;
    kt_microvm_destroy(vm);
    return 0;
}

static atomic_bool spin_stop;
static atomic_int spin_tid;

static void *host_spin(void *arg)
{
    (void)arg;
    atomic_store(&spin_tid, (int)gettid());
    while (!atomic_load(&spin_stop))
        ;
    return NULL;
}

static void *host_sleep(void *arg)
{
    sigset_t *set = arg;
    int sig;

    sigwait(set, &sig);
    return NULL;
}

/* Share of a plain host thread spinning: what "busy" reads as here now. */
static double baseline_share(void)
{
    pthread_t t;
    double c0, t0, share;

    atomic_store(&spin_stop, false);
    atomic_store(&spin_tid, 0);
    if (pthread_create(&t, NULL, host_spin, NULL) != 0)
        return -1;
    while (atomic_load(&spin_tid) == 0)
        sched_yield();
    sleep_ms(WARMUP_MS);
    c0 = thread_cpu_s(atomic_load(&spin_tid));
    t0 = now_s();
    sleep_ms(WINDOW_MS);
    share = (thread_cpu_s(atomic_load(&spin_tid)) - c0) / (now_s() - t0);
    atomic_store(&spin_stop, true);
    pthread_join(t, NULL);
    return share;
}

/* Kick and join of a plain thread asleep in sigwait, in microseconds. */
static double baseline_stop_us(void)
{
    sigset_t set, old;
    pthread_t t;
    double t0;

    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &set, &old);
    if (pthread_create(&t, NULL, host_sleep, &set) != 0)
        return -1;
    sleep_ms(20);
    t0 = now_s();
    pthread_kill(t, SIGUSR1);
    pthread_join(t, NULL);
    t0 = (now_s() - t0) * 1e6;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return t0;
}

int main(void)
{
    double v[F_NR][REPS], base_share[REPS], base_stop[REPS];

    for (int r = 0; r < REPS; r++) {
        base_share[r] = baseline_share();
        base_stop[r] = baseline_stop_us();
    }
    printf("bench: vm.baseline.host_spin.cpu_share %.3f ratio\n",
           median(base_share, REPS));
    printf("bench: vm.baseline.thread_kick_join_us %.1f us\n",
           median(base_stop, REPS));
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        double f[F_NR];
        int r;

        for (r = 0; r < REPS; r++) {
            if (run_once(&cases[k].cfg, f) < 0)
                break;
            for (int j = 0; j < F_NR; j++)
                v[j][r] = f[j];
        }
        if (r < REPS)
            continue;
        for (int j = 0; j < F_NR; j++)
            printf("bench: vm.%s.%s %.*f %s\n", cases[k].label, fields[j].name,
                   j == F_SHARE ? 3 : 1, median(v[j], REPS), fields[j].unit);
    }
    return 0;
}
