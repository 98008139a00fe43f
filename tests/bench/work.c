/* What the workload library costs: the clock read behind every progress
 * stamp, a spin iteration (the gap resolution), each knob's syscall, the
 * start of a set with and without knobs, and the latencies the kinds see
 * on this machine. Each figure is the median of REPS runs; ratios are
 * against a baseline measured in the same run. */
#include <ktstr/cgroup.h>
#include <ktstr/work.h>

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define REPS 5

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_dbl);
    return v[n / 2];
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

    while (nanosleep(&ts, &ts))
        ;
}

static double clock_cost_ns(void)
{
    double v[REPS];
    volatile uint64_t sink = 0;

    for (int r = 0; r < REPS; r++) {
        uint64_t t0 = kt_now_ns();

        for (int i = 0; i < 1000000; i++)
            sink += kt_now_ns();
        v[r] = (double)(kt_now_ns() - t0) / 1e6;
    }
    (void)sink;
    return median(v, REPS);
}

/* One spin worker for 200 ms: ns per iteration, and the longest gap. */
static double spin_iteration_ns(double *gap_ms)
{
    double v[REPS], g[REPS];

    for (int r = 0; r < REPS; r++) {
        kt_work *w = kt_work_new(0, NULL);
        kt_work_spec s = { .kind = KT_WORK_SPIN, .count = 1 };
        kt_work_result res;

        if (!w || kt_work_add(w, &s, NULL) || kt_work_start(w, NULL))
            exit(1);
        sleep_ms(200);
        kt_work_stop(w);
        kt_work_get(w, 0, &res, NULL);
        v[r] = (double)res.cpu_ns / (double)res.iterations;
        g[r] = (double)res.max_gap_ns / 1e6;
        kt_work_free(w);
    }
    *gap_ms = median(g, REPS);
    return median(v, REPS);
}

typedef int (*knob_fn)(int tid);

static int k_nice(int tid) { return setpriority(PRIO_PROCESS, (id_t)tid, 0); }
static int k_affinity(int tid)
{
    cpu_set_t m;

    if (sched_getaffinity(tid, sizeof(m), &m))
        return -1;
    return sched_setaffinity(tid, sizeof(m), &m);
}
static int k_policy(int tid)
{
    struct sched_param sp = { 0 };

    if (sched_setscheduler(tid, SCHED_BATCH, &sp))
        return -1;
    return sched_setscheduler(tid, SCHED_OTHER, &sp);
}

/* ns per call of a knob applied to the calling thread. */
static double knob_cost_ns(knob_fn fn, int calls)
{
    double v[REPS];
    int tid = (int)syscall(SYS_gettid);

    for (int r = 0; r < REPS; r++) {
        uint64_t t0 = kt_now_ns();

        for (int i = 0; i < calls; i++)
            if (fn(tid))
                return -1;
        v[r] = (double)(kt_now_ns() - t0) / calls;
    }
    return median(v, REPS);
}

static double cgroup_move_ns(void)
{
    kt_cgroup *g = kt_cgroup_create(NULL, "bench", NULL);
    double v[REPS];
    int tid = (int)syscall(SYS_gettid);
    kt_cg_layout lay;

    if (!g || kt_cg_detect(&lay, NULL) || lay.version != KT_CG_V1) {
        kt_cgroup_destroy(g, NULL);
        return -1;
    }
    for (int r = 0; r < REPS; r++) {
        uint64_t t0 = kt_now_ns();

        for (int i = 0; i < 200; i++)
            kt_cgroup_add(g, tid, NULL);
        v[r] = (double)(kt_now_ns() - t0) / 200;
    }
    kt_cgroup_destroy(g, NULL);   /* moves this thread back to the root */
    return median(v, REPS);
}

/* kt_work_start of 4 timer workers (they sleep: harmless even as FIFO). */
static double start_us(const kt_work_spec *proto)
{
    double v[REPS];

    for (int r = 0; r < REPS; r++) {
        kt_work *w = kt_work_new(0, NULL);
        kt_work_spec s = *proto;
        uint64_t t0;

        s.kind = KT_WORK_TIMER;
        s.count = 4;
        s.period_us = 1000;
        if (!w || kt_work_add(w, &s, NULL))
            exit(1);
        t0 = kt_now_ns();
        if (kt_work_start(w, NULL))
            return -1;
        v[r] = (double)(kt_now_ns() - t0) / 1e3;
        kt_work_free(w);
    }
    return median(v, REPS);
}

static void latency(const char *name, kt_work_spec s)
{
    kt_work *w = kt_work_new(0, NULL);
    kt_hist all;
    kt_hist_summary sm;

    if (!w || kt_work_add(w, &s, NULL) || kt_work_start(w, NULL))
        exit(1);
    sleep_ms(500);
    kt_work_stop(w);
    kt_work_latency(w, s.kind, &all);
    kt_hist_summarize(&all, &sm);
    printf("bench: work.%s.p50 %.1f us\n", name, (double)sm.p50 / 1e3);
    printf("bench: work.%s.p99 %.1f us\n", name, (double)sm.p99 / 1e3);
    printf("bench: work.%s.count %llu samples\n", name, (unsigned long long)sm.count);
    kt_work_free(w);
}

int main(void)
{
    double clk = clock_cost_ns(), gap_ms, iter = spin_iteration_ns(&gap_ms), base, cg;
    kt_work_spec none = { 0 }, all = { .cpus = "0-1", .set_nice = true, .nice = 3,
                                        .policy = KT_POLICY_BATCH };
    kt_work_spec fifo = { .policy = KT_POLICY_FIFO, .rt_prio = 1 };

    printf("bench: work.clock_read %.1f ns\n", clk);
    printf("bench: work.spin_iteration %.1f ns\n", iter);
    printf("bench: work.stamp_overhead %.1f %%\n", 100.0 * clk / iter);
    printf("bench: work.spin_max_gap %.3f ms\n", gap_ms);
    printf("bench: work.knob.nice %.0f ns\n", knob_cost_ns(k_nice, 20000));
    printf("bench: work.knob.affinity %.0f ns\n", knob_cost_ns(k_affinity, 20000) / 2);
    printf("bench: work.knob.policy %.0f ns\n", knob_cost_ns(k_policy, 20000) / 2);
    cg = cgroup_move_ns();
    if (cg >= 0)
        printf("bench: work.knob.cgroup_move %.0f ns\n", cg);
    base = start_us(&none);
    printf("bench: work.start4.baseline %.0f us\n", base);
    printf("bench: work.start4.nice_affinity_batch %.2f x\n", start_us(&all) / base);
    printf("bench: work.start4.fifo %.2f x\n", start_us(&fifo) / base);
    latency("pingpong_futex", (kt_work_spec){ .kind = KT_WORK_PINGPONG, .count = 1 });
    latency("pingpong_pipe", (kt_work_spec){ .kind = KT_WORK_PINGPONG, .count = 1, .wake = KT_WAKE_PIPE });
    latency("fanout4_futex", (kt_work_spec){ .kind = KT_WORK_FANOUT, .count = 1, .fanout = 4 });
    latency("timer_1ms_lateness", (kt_work_spec){ .kind = KT_WORK_TIMER, .count = 1, .period_us = 1000 });
    return 0;
}
