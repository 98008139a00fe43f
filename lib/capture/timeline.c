/* The timeline: ticks of per-target samples in one preallocated block, and
 * the queries scenarios make of it (totals, series, CPU share, stalls).
 *
 * Layout: tick-major rows; in a row each target has a timestamp word (0:
 * not read at this tick) followed by the values of its fields, in field
 * order. Only the writer touches a row until kt_timeline_commit publishes
 * it with a release store of the tick count. */
#include "ktstr/monitor.h"

#include <errno.h>
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *name;
    unsigned source;
    unsigned width;
} field_table[KT_F_COUNT] = {
    [KT_F_RUN_NS] = { "run_ns", KT_SRC_SCHEDSTAT, 64 },
    [KT_F_DELAY_NS] = { "delay_ns", KT_SRC_SCHEDSTAT, 64 },
    [KT_F_TIMESLICES] = { "timeslices", KT_SRC_SCHEDSTAT, 64 },
    [KT_F_TASK_CLOCK_NS] = { "task_clock_ns", KT_SRC_PERF_SW, 64 },
    [KT_F_CTX_SWITCHES] = { "context_switches", KT_SRC_PERF_SW, 64 },
    [KT_F_MIGRATIONS] = { "cpu_migrations", KT_SRC_PERF_SW, 64 },
    [KT_F_SW_ENABLED_NS] = { "sw_time_enabled_ns", KT_SRC_PERF_SW, 64 },
    [KT_F_SW_RUNNING_NS] = { "sw_time_running_ns", KT_SRC_PERF_SW, 64 },
    [KT_F_CYCLES] = { "cycles", KT_SRC_PERF_HW, 64 },
    [KT_F_INSTRUCTIONS] = { "instructions", KT_SRC_PERF_HW, 64 },
    [KT_F_CACHE_MISSES] = { "cache_misses", KT_SRC_PERF_HW, 64 },
    [KT_F_BRANCH_MISSES] = { "branch_misses", KT_SRC_PERF_HW, 64 },
    [KT_F_HW_ENABLED_NS] = { "hw_time_enabled_ns", KT_SRC_PERF_HW, 64 },
    [KT_F_HW_RUNNING_NS] = { "hw_time_running_ns", KT_SRC_PERF_HW, 64 },
    [KT_F_CPU_BUSY_NS] = { "cpu_busy_ns", KT_SRC_PROCSTAT, 64 },
    [KT_F_CPU_IDLE_NS] = { "cpu_idle_ns", KT_SRC_PROCSTAT, 64 },
    [KT_F_CPU_STEAL_NS] = { "cpu_steal_ns", KT_SRC_PROCSTAT, 64 },
    [KT_F_KVM_EXITS] = { "exits", KT_SRC_KVM, 64 },
    [KT_F_KVM_HALT_EXITS] = { "halt_exits", KT_SRC_KVM, 64 },
    [KT_F_KVM_HALT_WAIT_NS] = { "halt_wait_ns", KT_SRC_KVM, 64 },
    [KT_F_KVM_HALT_SUCCESSFUL_POLL] = { "halt_successful_poll", KT_SRC_KVM, 64 },
    [KT_F_KVM_HALT_ATTEMPTED_POLL] = { "halt_attempted_poll", KT_SRC_KVM, 64 },
    [KT_F_KVM_PREEMPTION_REPORTED] = { "preemption_reported", KT_SRC_KVM, 64 },
    [KT_F_KVM_PREEMPTION_OTHER] = { "preemption_other", KT_SRC_KVM, 64 },
};

const char *kt_field_name(kt_field f)
{
    if ((unsigned)f >= KT_F_COUNT)
        return "?";
    return field_table[f].name;
}

unsigned kt_field_width(kt_field f)
{
    if ((unsigned)f >= KT_F_COUNT)
        return 64;
    return field_table[f].width;
}

uint32_t kt_sources_fields(unsigned sources)
{
    uint32_t mask = 0;

    for (unsigned f = 0; f < KT_F_COUNT; f++)
        if (sources & field_table[f].source)
            mask |= 1u << f;
    return mask;
}

uint64_t kt_counter_delta(uint64_t old_value, uint64_t new_value,
                          unsigned width)
{
    if (width > 0 && width < 64)
        return (new_value - old_value) & ((UINT64_C(1) << width) - 1);
    return new_value >= old_value ? new_value - old_value : new_value;
}

struct tl_target {
    size_t offset;                 /* of its timestamp word in a row */
    signed char slot[KT_F_COUNT];  /* value index after the timestamp, -1 absent */
    _Atomic size_t gone_tick;      /* SIZE_MAX while present */
    int gone_code;
};

struct kt_timeline {
    int n;
    size_t capacity, row_words;
    _Atomic size_t ticks;          /* completed ticks */
    uint64_t *rows;
    struct tl_target tg[];
};

kt_timeline *kt_timeline_new(int n, const uint32_t *fields, size_t capacity,
                             kt_err *err)
{
    kt_timeline *tl;
    size_t words = 0;

    if (n < 1 || n > 100000)
        return kt_err_set(err, EINVAL, "timeline: %d targets (1..100000)", n), NULL;
    if (capacity < 2 || capacity > ((size_t)1 << 32))
        return kt_err_set(err, EINVAL, "timeline: capacity %zu ticks (2..2^32)",
                          capacity), NULL;
    tl = calloc(1, sizeof(*tl) + (size_t)n * sizeof(tl->tg[0]));
    if (!tl)
        return kt_err_sys(err, ENOMEM, "timeline: %d targets", n), NULL;
    tl->n = n;
    tl->capacity = capacity;
    for (int i = 0; i < n; i++) {
        int slots = 0;

        tl->tg[i].offset = words;
        atomic_init(&tl->tg[i].gone_tick, SIZE_MAX);
        for (unsigned f = 0; f < KT_F_COUNT; f++)
            tl->tg[i].slot[f] = (fields[i] & (1u << f)) ? (signed char)slots++ : -1;
        words += 1 + (size_t)slots;
    }
    tl->row_words = words;
    if (capacity > SIZE_MAX / 8 / words) {
        free(tl);
        return kt_err_set(err, EINVAL, "timeline: %zu ticks of %zu words overflow",
                          capacity, words), NULL;
    }
    /* calloc: pages are committed as ticks are written, not up front */
    tl->rows = calloc(capacity * words, sizeof(uint64_t));
    if (!tl->rows) {
        free(tl);
        return kt_err_sys(err, ENOMEM, "timeline: %zu ticks of %zu bytes",
                          capacity, words * 8), NULL;
    }
    atomic_init(&tl->ticks, 0);
    return tl;
}

void kt_timeline_free(kt_timeline *tl)
{
    if (!tl)
        return;
    free(tl->rows);
    free(tl);
}

int kt_timeline_record(kt_timeline *tl, int target, uint64_t ts_ns,
                       const uint64_t *values)
{
    size_t tick = atomic_load_explicit(&tl->ticks, memory_order_relaxed);
    const struct tl_target *t;
    uint64_t *row;

    if (tick >= tl->capacity || target < 0 || target >= tl->n)
        return -1;
    t = &tl->tg[target];
    row = tl->rows + tick * tl->row_words + t->offset;
    row[0] = ts_ns ? ts_ns : 1;  /* 0 means "not read" */
    for (unsigned f = 0; f < KT_F_COUNT; f++)
        if (t->slot[f] >= 0)
            row[1 + t->slot[f]] = values[f];
    return 0;
}

void kt_timeline_mark_gone(kt_timeline *tl, int target, int code)
{
    size_t tick = atomic_load_explicit(&tl->ticks, memory_order_relaxed);

    if (target < 0 || target >= tl->n ||
        atomic_load_explicit(&tl->tg[target].gone_tick, memory_order_relaxed) != SIZE_MAX)
        return;
    tl->tg[target].gone_code = code;
    atomic_store_explicit(&tl->tg[target].gone_tick, tick, memory_order_release);
}

int kt_timeline_commit(kt_timeline *tl)
{
    size_t tick = atomic_load_explicit(&tl->ticks, memory_order_relaxed);

    if (tick >= tl->capacity)
        return -1;
    atomic_store_explicit(&tl->ticks, tick + 1, memory_order_release);
    return 0;
}

size_t kt_timeline_ticks(const kt_timeline *tl)
{
    return atomic_load_explicit(&((kt_timeline *)tl)->ticks, memory_order_acquire);
}

int kt_timeline_targets(const kt_timeline *tl)
{
    return tl->n;
}

size_t kt_timeline_capacity(const kt_timeline *tl)
{
    return tl->capacity;
}

bool kt_timeline_gone(const kt_timeline *tl, int target, size_t *tick,
                      int *code)
{
    size_t g;

    if (target < 0 || target >= tl->n)
        return false;
    g = atomic_load_explicit(&((kt_timeline *)tl)->tg[target].gone_tick,
                             memory_order_acquire);
    if (g == SIZE_MAX)
        return false;
    if (tick)
        *tick = g;
    if (code)
        *code = tl->tg[target].gone_code;
    return true;
}

/* The row slice of a target at a completed tick, or NULL if not read. */
static const uint64_t *cell(const kt_timeline *tl, int target, size_t tick)
{
    const uint64_t *row;

    if (target < 0 || target >= tl->n || tick >= kt_timeline_ticks(tl))
        return NULL;
    row = tl->rows + tick * tl->row_words + tl->tg[target].offset;
    return row[0] ? row : NULL;
}

int kt_timeline_value(const kt_timeline *tl, int target, size_t tick,
                      kt_field f, uint64_t *value)
{
    const uint64_t *c = cell(tl, target, tick);

    if (!c || (unsigned)f >= KT_F_COUNT || tl->tg[target].slot[f] < 0)
        return -1;
    *value = c[1 + tl->tg[target].slot[f]];
    return 0;
}

int kt_timeline_time(const kt_timeline *tl, int target, size_t tick,
                     uint64_t *ts_ns)
{
    const uint64_t *c = cell(tl, target, tick);

    if (!c)
        return -1;
    *ts_ns = c[0];
    return 0;
}

/* Walks the samples of (target, f) in ticks t0..t1, calling visit for each
 * interval between consecutive samples. Returns the number of samples. */
typedef struct walk {
    uint64_t first_ts, last_ts;
    size_t first_tick;
} walk;

typedef void (*visit_fn)(void *arg, size_t tick, uint64_t prev_ts,
                         uint64_t ts, uint64_t delta);

static size_t walk_samples(const kt_timeline *tl, int target, kt_field f,
                           size_t t0, size_t t1, visit_fn visit, void *arg,
                           walk *w)
{
    size_t ticks = kt_timeline_ticks(tl), n = 0;
    uint64_t prev_v = 0, prev_ts = 0;
    unsigned width = kt_field_width(f);

    if (target < 0 || target >= tl->n || (unsigned)f >= KT_F_COUNT ||
        tl->tg[target].slot[f] < 0)
        return 0;
    if (t1 >= ticks)
        t1 = ticks ? ticks - 1 : 0;
    for (size_t t = t0; t <= t1 && t < ticks; t++) {
        const uint64_t *c = cell(tl, target, t);
        uint64_t v;

        if (!c)
            continue;
        v = c[1 + tl->tg[target].slot[f]];
        if (n == 0) {
            w->first_ts = c[0];
            w->first_tick = t;
        } else if (visit) {
            visit(arg, t, prev_ts, c[0], kt_counter_delta(prev_v, v, width));
        }
        w->last_ts = c[0];
        prev_v = v;
        prev_ts = c[0];
        n++;
    }
    return n;
}

static void add_delta(void *arg, size_t tick, uint64_t prev_ts, uint64_t ts,
                      uint64_t delta)
{
    (void)tick;
    (void)prev_ts;
    (void)ts;
    *(uint64_t *)arg += delta;
}

int kt_timeline_total(const kt_timeline *tl, int target, kt_field f,
                      size_t t0, size_t t1, uint64_t *total,
                      uint64_t *wall_ns)
{
    uint64_t sum = 0;
    walk w;

    if (walk_samples(tl, target, f, t0, t1, add_delta, &sum, &w) < 2)
        return -1;
    *total = sum;
    if (wall_ns)
        *wall_ns = w.last_ts - w.first_ts;
    return 0;
}

typedef struct series {
    uint64_t *deltas, *interval_ns;
    size_t cap, n;
} series;

static void put_interval(void *arg, size_t tick, uint64_t prev_ts, uint64_t ts,
                         uint64_t delta)
{
    series *s = arg;

    (void)tick;
    if (s->n < s->cap) {
        s->deltas[s->n] = delta;
        if (s->interval_ns)
            s->interval_ns[s->n] = ts - prev_ts;
    }
    s->n++;
}

long kt_timeline_series(const kt_timeline *tl, int target, kt_field f,
                        size_t t0, size_t t1, uint64_t *deltas,
                        uint64_t *interval_ns, size_t cap)
{
    series s = { deltas, interval_ns, cap, 0 };
    walk w;

    if (walk_samples(tl, target, f, t0, t1, put_interval, &s, &w) < 2)
        return -1;
    return (long)s.n;
}

double kt_timeline_cpu_share(const kt_timeline *tl, int target, size_t t0,
                             size_t t1)
{
    static const kt_field prefer[] = { KT_F_RUN_NS, KT_F_TASK_CLOCK_NS, KT_F_CPU_BUSY_NS };

    if (target < 0 || target >= tl->n)
        return NAN;
    for (size_t i = 0; i < sizeof(prefer) / sizeof(prefer[0]); i++) {
        uint64_t run, wall;

        if (tl->tg[target].slot[prefer[i]] < 0)
            continue;
        if (kt_timeline_total(tl, target, prefer[i], t0, t1, &run, &wall) < 0 ||
            wall == 0)
            return NAN;
        return (double)run / (double)wall;
    }
    return NAN;
}

typedef struct stall {
    uint64_t growth_ts, best;
    size_t growth_tick, best_tick;
    uint64_t last_ts;
} stall;

static void track_stall(void *arg, size_t tick, uint64_t prev_ts, uint64_t ts,
                        uint64_t delta)
{
    stall *s = arg;

    if (delta > 0) {
        if (prev_ts - s->growth_ts > s->best) {
            s->best = prev_ts - s->growth_ts;
            s->best_tick = s->growth_tick;
        }
        s->growth_ts = ts;
        s->growth_tick = tick;
    }
    s->last_ts = ts;
}

int kt_timeline_longest_stall(const kt_timeline *tl, int target, kt_field f,
                              size_t t0, size_t t1, uint64_t *ns,
                              size_t *at)
{
    stall s = { 0 };
    walk w;

    /* first pass finds the first sample, which starts the first stretch */
    if (walk_samples(tl, target, f, t0, t1, NULL, NULL, &w) < 2)
        return -1;
    s.growth_ts = w.first_ts;
    s.growth_tick = w.first_tick;
    s.best_tick = w.first_tick;
    walk_samples(tl, target, f, t0, t1, track_stall, &s, &w);
    if (s.last_ts - s.growth_ts > s.best) {
        s.best = s.last_ts - s.growth_ts;
        s.best_tick = s.growth_tick;
    }
    *ns = s.best;
    if (at)
        *at = s.best_tick;
    return 0;
}
