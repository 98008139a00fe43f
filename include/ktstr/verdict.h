/*
 * ktstr/verdict.h - claims and the verdict that collects them.
 *
 *   kt_verdict v;
 *   kt_verdict_init(&v);
 *   CLAIM(&v, ipc, at_least, 1.0);          // label "ipc"
 *   CLAIM(&v, s.time_running_ns, eq, s.time_enabled_ns);
 *   CLAIM_AS(&v, "vcpu3.ipc", ipc, between, 0.45, 0.55);
 *   if (!kt_verdict_passed(&v)) ...
 *   kt_verdict_fini(&v);
 *
 * A claim that fails is recorded with its label, operation, expected bound,
 * actual value, message and source position; checking goes on, so one
 * verdict collects every failure. Operations and their messages:
 *
 *   eq        {l}: expected {x}, was {v}
 *   ne        {l}: expected != {x}, was {v}
 *   lt        {l}: expected less than {x}, was {v}
 *   gt        {l}: expected greater than {x}, was {v}
 *   at_least  {l}: expected at least {x}, was {v}
 *   at_most   {l}: expected at most {x}, was {v}
 *   between   {l}: expected in [{lo}, {hi}], was {v}        (inclusive)
 *   near      {l}: expected near {t} (+/-{tol}), was {v}    (|v-t| <= tol, in double)
 *   is_finite {l}: expected finite, was {v}
 *
 * Values are signed, unsigned (exact to UINT64_MAX) or floating point,
 * chosen by _Generic; an integer compared with a double is compared
 * exactly, never rounded through double. NaN satisfies no comparison.
 * Numbers print as kt_format_num() describes.
 */
#ifndef KTSTR_VERDICT_H
#define KTSTR_VERDICT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ktstr/api.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- numbers ---------------------------------------------------------- */

typedef enum kt_num_kind { KT_NUM_I64, KT_NUM_U64, KT_NUM_F64 } kt_num_kind;

/* A claim operand: the value keeps the kind it had in the source. */
typedef struct kt_num {
    kt_num_kind kind;
    union {
        int64_t i;
        uint64_t u;
        double f;
    } v;
} kt_num;

/* Constructors (usable directly; KT_NUM uses their inline twins below so
 * a passing claim makes no call). */
KT_API kt_num kt_num_i64(int64_t x);
KT_API kt_num kt_num_u64(uint64_t x);
KT_API kt_num kt_num_f64(double x);

/* Internal: the inline twins of the constructors. */
static inline kt_num kt__num_of_i64(int64_t x)
{
    kt_num n;
    n.kind = KT_NUM_I64;
    n.v.i = x;
    return n;
}
static inline kt_num kt__num_of_u64(uint64_t x)
{
    kt_num n;
    n.kind = KT_NUM_U64;
    n.v.u = x;
    return n;
}
static inline kt_num kt__num_of_f64(double x)
{
    kt_num n;
    n.kind = KT_NUM_F64;
    n.v.f = x;
    return n;
}

/* Wraps any arithmetic expression in a kt_num, evaluating it once.
 * long double is narrowed to double. */
#define KT_NUM(x) _Generic((x),                                             \
    _Bool: kt__num_of_u64, char: kt__num_of_i64, signed char: kt__num_of_i64, \
    short: kt__num_of_i64, int: kt__num_of_i64, long: kt__num_of_i64,       \
    long long: kt__num_of_i64, unsigned char: kt__num_of_u64,               \
    unsigned short: kt__num_of_u64, unsigned int: kt__num_of_u64,           \
    unsigned long: kt__num_of_u64, unsigned long long: kt__num_of_u64,      \
    float: kt__num_of_f64, double: kt__num_of_f64,                          \
    long double: kt__num_of_f64)(x)

/* Buffer size that holds any kt_format_num/kt_format_double result. */
#define KT_NUM_STR_MAX 40

/* Formats x: integers in exact decimal; doubles with the fewest significant
 * digits that read back to the same double, positional for magnitudes in
 * [1e-4, 1e17) and with an exponent outside it ("1e+21", "1e-05"); "nan",
 * "inf", "-inf", "-0". Always the C locale. Returns buf. */
KT_API char *kt_format_num(char buf[KT_NUM_STR_MAX], kt_num x);
/* kt_format_num for a double. */
KT_API char *kt_format_double(char buf[KT_NUM_STR_MAX], double x);

/* Exact three-way comparison across kinds: -1, 0 or 1 in *out; returns
 * false (and leaves *out) when either side is NaN. */
KT_API bool kt_num_cmp(kt_num a, kt_num b, int *out);
/* x as a double (a u64 or i64 beyond 2^53 rounds to nearest). */
KT_API double kt_num_to_double(kt_num x);

/* ---- the verdict ------------------------------------------------------ */

/* How a scenario ended: a verdict itself is PASS, FAIL or SKIP; the runner
 * adds the ways a run can end without its body finishing (CRASH: a signal;
 * TIMEOUT: killed at the deadline; PANIC: the guest kernel panicked, in VM
 * mode; SCHEDULER: the sched_ext scheduler under test failed or was
 * ejected; ERROR: anything else, e.g. exit() midway or a failed start;
 * INCONCLUSIVE: a failure the host's starvation excuses, README: On a busy
 * machine). */
typedef enum kt_outcome {
    KT_OUTCOME_PASS,
    KT_OUTCOME_FAIL,
    KT_OUTCOME_SKIP,
    KT_OUTCOME_CRASH,
    KT_OUTCOME_TIMEOUT,
    KT_OUTCOME_PANIC,
    KT_OUTCOME_SCHEDULER,
    KT_OUTCOME_ERROR,
    KT_OUTCOME_INCONCLUSIVE,
    KT_OUTCOME_N
} kt_outcome;

/* The outcome as the report writes it: "pass", "fail", "skip", "crash",
 * "timeout", "panic", "scheduler", "error", "inconclusive" (TAP severity, artifacts'
 * outcome); "?" when out of range. */
KT_API const char *kt_outcome_name(kt_outcome o);

typedef enum kt_op {
    KT_OP_EQ, KT_OP_NE, KT_OP_LT, KT_OP_GT, KT_OP_AT_LEAST, KT_OP_AT_MOST,
    KT_OP_BETWEEN, KT_OP_NEAR, KT_OP_IS_FINITE
} kt_op;

/* The name of an operation as a user writes it ("at_least"). */
KT_API const char *kt_op_name(kt_op op);

/* One checked claim, as recorded for a failure or streamed to a sink.
 * Strings are NUL-terminated and owned by the verdict. */
typedef struct kt_claim_record {
    const char *label;     /* "ipc", "vcpu3: ipc" after a merge */
    const char *op;        /* "at_least" */
    const char *expected;  /* "1", "[0.45, 0.55]", "3.06 (+/-0.3)", "finite" */
    const char *actual;    /* "0" */
    const char *message;   /* "ipc: expected at least 1, was 0" */
    const char *file;      /* "scenarios/fair.c"; "" when unknown */
    int line;              /* 0 when unknown */
    bool passed;
    bool timed;            /* a timing claim (kt_verdict_timing) */
} kt_claim_record;

/* What a sink is told, in order, as it happens. */
typedef enum kt_event {
    KT_EVENT_PASS,  /* a claim held (only when the sink asked for passes) */
    KT_EVENT_FAIL,  /* a claim failed; `claim` is the record */
    KT_EVENT_NOTE,  /* kt_verdict_note; `text` is the note */
    KT_EVENT_SKIP,  /* kt_verdict_skip; `text` is the reason */
    KT_EVENT_DROPPED /* a failure or note was not kept (cap reached, or no
                        memory); `text` is the updated summary entry, e.g.
                        "3 more failures not kept": a receiver keeps the last */
} kt_event;

/* Receives events; `claim` is set for PASS/FAIL, `text` for the others.
 * It is called synchronously, before the claim or note call returns, so
 * what a crashing process recorded has already been streamed. The pointers
 * are valid only during the call. A passing claim's record carries the
 * same message a failure would ("x: expected 5, was 5"). */
typedef void (*kt_verdict_sink)(void *arg, kt_event ev,
                                const kt_claim_record *claim, const char *text);

/* Failures and notes a verdict keeps; later ones are counted, not kept. */
#define KT_VERDICT_MAX_FAILURES 10000
#define KT_VERDICT_MAX_NOTES 1000

struct kt__verdict_item;

/* Labels, notes and reasons longer than this many bytes are cut, ending in
 * "...[cut]", so memory stays bounded whatever a scenario passes. */
#define KT_VERDICT_STR_MAX 1024

/* The accumulator. Treat the fields as private: use the functions below.
 * A verdict has no lock: claim into it from one thread at a time. */
typedef struct kt_verdict {
    uint64_t claims;               /* claims checked */
    uint64_t failed;               /* claims failed, kept or not */
    uint64_t failures_dropped;     /* failed but not kept (cap or memory) */
    uint64_t notes_dropped;
    struct kt__verdict_item **failures; /* grows by doubling */
    size_t failures_kept, failures_cap;
    struct kt__verdict_item *failures_more; /* "N more failures not kept" */
    struct kt__verdict_item **notes;
    size_t notes_kept, notes_cap;
    struct kt__verdict_item *notes_more;
    char *skip_reason;             /* NULL unless skipped */
    kt_verdict_sink sink;
    void *sink_arg;
    bool sink_passes;              /* sink set and asked for passes */
    bool timing;                   /* claims now are timing claims */
} kt_verdict;

/* Prepares an empty verdict (passes, no claims). */
KT_API void kt_verdict_init(kt_verdict *v);
/* Frees what the verdict holds; it may be initialised again. */
KT_API void kt_verdict_fini(kt_verdict *v);

/* Streams every event from now on to sink (NULL removes it); passes are
 * streamed only when want_passes is true, so a passing claim costs no
 * formatting otherwise. */
KT_API void kt_verdict_set_sink(kt_verdict *v, kt_verdict_sink sink, void *arg,
                                bool want_passes);

/* Records a note: shown in the report, never changes the outcome. */
KT_API void kt_verdict_note(kt_verdict *v, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* kt_verdict_note(v, "%s", msg) with v as a void *: the note hook a
 * scenario lends code below the verdict (kt_cg_hooks). */
KT_API void kt_verdict_note_hook(void *v, const char *msg);
/* Marks the verdict skipped with a reason. A skip never hides a failure:
 * with failures recorded (before or after) the outcome stays FAIL. The
 * first reason is kept; every call is streamed to the sink. */
KT_API void kt_verdict_skip(kt_verdict *v, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Claims checked while timing is on are timing claims: bounds on
 * latencies, shares, gaps and rates that hold only when the machine gives
 * the scenario's tasks the CPU time they ask for. When a point fails only
 * timing claims while the host starved it (README: On a busy machine) it
 * is inconclusive, not a failure; every other claim (affinity, cpusets,
 * counts, ext.enabled) fails it whatever the host did. Returns the
 * previous setting, so a helper can restore it.
 *
 *   kt_verdict_timing(v, true);
 *   CLAIM_AS(v, "wake_p99_us", p99, at_most, 50);
 *   kt_verdict_timing(v, false); */
KT_API bool kt_verdict_timing(kt_verdict *v, bool on);

/* Copies src's failures, notes and claim count into dst, each label and
 * message prefixed with "<prefix>: ", streaming them to dst's sink. A skip
 * of src becomes a note "<prefix>: skipped: <reason>" in dst. Failures
 * and notes src did not keep are added to dst's "N more" counts. A
 * timing claim stays one (and every failure copied while dst's timing is
 * on becomes one). prefix
 * NULL or "" copies without one; dst may be src. */
KT_API void kt_verdict_merge(kt_verdict *dst, const kt_verdict *src, const char *prefix);

/* True when no failure was recorded (a skip is not a failure). */
KT_API bool kt_verdict_passed(const kt_verdict *v);
/* FAIL when any failure was recorded, else SKIP when skipped, else PASS. */
KT_API kt_outcome kt_verdict_outcome(const kt_verdict *v);
/* The skip reason, or NULL. */
KT_API const char *kt_verdict_skip_reason(const kt_verdict *v);
/* Claims checked, and claims failed (including those not kept). */
KT_API uint64_t kt_verdict_claims(const kt_verdict *v);
KT_API uint64_t kt_verdict_failed(const kt_verdict *v);
/* Failures kept (at most KT_VERDICT_MAX_FAILURES, plus one "N more
 * failures not kept" entry with op "dropped" when some were dropped), and
 * the i-th of them in the order recorded; NULL when out of range. */
KT_API size_t kt_verdict_failure_count(const kt_verdict *v);
KT_API const kt_claim_record *kt_verdict_failure(const kt_verdict *v, size_t i);
/* Notes kept (plus one "N more notes not kept" when dropped), i-th note. */
KT_API size_t kt_verdict_note_count(const kt_verdict *v);
KT_API const char *kt_verdict_note_text(const kt_verdict *v, size_t i);

/* ---- claims ----------------------------------------------------------- */

/* The functions the CLAIM macros call; `label` is copied. Each returns
 * true when the claim holds. A caller error (between with lo > hi, near
 * with a negative or NaN tolerance) fails the claim with the message
 * "{l}: caller error: interval inverted (lo={lo} > hi={hi})" or
 * "{l}: caller error: tolerance negative (={tol})". */
KT_API bool kt_claim_cmp(kt_verdict *v, kt_op op, const char *label, kt_num value,
                         kt_num bound, const char *file, int line);
KT_API bool kt_claim_between(kt_verdict *v, const char *label, kt_num value,
                             kt_num lo, kt_num hi, const char *file, int line);
KT_API bool kt_claim_near(kt_verdict *v, const char *label, kt_num value,
                          double target, double tol, const char *file, int line);
KT_API bool kt_claim_is_finite(kt_verdict *v, const char *label, kt_num value,
                               const char *file, int line);
/* That an action succeeded: holds when error is NULL; else fails with op
 * "ok", expected "ok", actual error and the message "{label}: {error}"
 * (a change the scenario made mid-run, ktstr/changes.h). */
KT_API bool kt_claim_ok(kt_verdict *v, const char *label, const char *error,
                        const char *file, int line);

/* Internal: the inline fast path of kt_claim_cmp and kt_claim_between.
 * A claim whose operands have the same kind and that holds is counted
 * here, with no call, formatting or allocation; anything else (a failure,
 * mixed kinds, a sink that wants passes) goes to the out-of-line function,
 * which counts it instead. */
static inline int kt__claim_same_cmp(kt_num a, kt_num b)
{
    /* for integers: -1, 0 or 1 */
    if (a.kind == KT_NUM_U64)
        return (a.v.u > b.v.u) - (a.v.u < b.v.u);
    return (a.v.i > b.v.i) - (a.v.i < b.v.i);
}
static inline bool kt__claim_op_holds(kt_op op, int c)
{
    switch (op) {
    case KT_OP_EQ: return c == 0;
    case KT_OP_NE: return c != 0;
    case KT_OP_LT: return c < 0;
    case KT_OP_GT: return c > 0;
    case KT_OP_AT_LEAST: return c >= 0;
    case KT_OP_AT_MOST: return c <= 0;
    default: return false;
    }
}
/* Doubles compared directly, so a constant op folds to one comparison;
 * every comparison with a NaN is false, as a claim needs. */
static inline bool kt__claim_f64_holds(kt_op op, double a, double b)
{
    switch (op) {
    case KT_OP_EQ: return a >= b && a <= b;
    case KT_OP_NE: return a < b || a > b;
    case KT_OP_LT: return a < b;
    case KT_OP_GT: return a > b;
    case KT_OP_AT_LEAST: return a >= b;
    case KT_OP_AT_MOST: return a <= b;
    default: return false;
    }
}
static inline bool kt__claim_same_holds(kt_op op, kt_num a, kt_num b)
{
    if (a.kind == KT_NUM_F64)
        return kt__claim_f64_holds(op, a.v.f, b.v.f);
    return kt__claim_op_holds(op, kt__claim_same_cmp(a, b));
}
static inline bool kt__claim_cmp_fast(kt_verdict *v, kt_op op, const char *label,
                                      kt_num value, kt_num bound,
                                      const char *file, int line)
{
    if (!v->sink_passes && value.kind == bound.kind &&
        kt__claim_same_holds(op, value, bound)) {
        v->claims++;
        return true;
    }
    return kt_claim_cmp(v, op, label, value, bound, file, line);
}
static inline bool kt__claim_between_fast(kt_verdict *v, const char *label,
                                          kt_num value, kt_num lo, kt_num hi,
                                          const char *file, int line)
{
    if (!v->sink_passes && value.kind == lo.kind && value.kind == hi.kind &&
        kt__claim_same_holds(KT_OP_AT_LEAST, value, lo) &&
        kt__claim_same_holds(KT_OP_AT_MOST, value, hi)) {
        v->claims++;
        return true;
    }
    return kt_claim_between(v, label, value, lo, hi, file, line);
}

/* CLAIM(v, expr, op, args...): checks expr (evaluated once, labelled with
 * its source text) against op. Returns true when it holds.
 * CLAIM_AS(v, label, value, op, args...): the same with a runtime label. */
#define CLAIM(v, expr, ...) \
    KT__CLAIM((v), #expr, KT_NUM(expr), __VA_ARGS__, kt__claim_no_argument)
#define CLAIM_AS(v, label, value, ...) \
    KT__CLAIM((v), (label), KT_NUM(value), __VA_ARGS__, kt__claim_no_argument)
/* CLAIM_OK(v, label, error): kt_claim_ok at this line. */
#define CLAIM_OK(v, label, error) kt_claim_ok((v), (label), (error), __FILE__, __LINE__)

/* Internal: dispatch on the operation's name. A missing argument leaves the
 * sentinel kt__claim_no_argument in its place, an undeclared identifier, so
 * `CLAIM(v, x, at_least)` does not compile. */
#define KT__CLAIM(v, l, n, op, ...) KT__CLAIM_OP_##op(v, l, n, __VA_ARGS__)
#define KT__CLAIM_CMP(v, l, n, o, x) \
    kt__claim_cmp_fast(v, o, l, n, KT_NUM(x), __FILE__, __LINE__)
#define KT__CLAIM_OP_eq(v, l, n, x, ...) KT__CLAIM_CMP(v, l, n, KT_OP_EQ, x)
#define KT__CLAIM_OP_ne(v, l, n, x, ...) KT__CLAIM_CMP(v, l, n, KT_OP_NE, x)
#define KT__CLAIM_OP_lt(v, l, n, x, ...) KT__CLAIM_CMP(v, l, n, KT_OP_LT, x)
#define KT__CLAIM_OP_gt(v, l, n, x, ...) KT__CLAIM_CMP(v, l, n, KT_OP_GT, x)
#define KT__CLAIM_OP_at_least(v, l, n, x, ...) KT__CLAIM_CMP(v, l, n, KT_OP_AT_LEAST, x)
#define KT__CLAIM_OP_at_most(v, l, n, x, ...) KT__CLAIM_CMP(v, l, n, KT_OP_AT_MOST, x)
#define KT__CLAIM_OP_between(v, l, n, lo, hi, ...) \
    kt__claim_between_fast(v, l, n, KT_NUM(lo), KT_NUM(hi), __FILE__, __LINE__)
#define KT__CLAIM_OP_near(v, l, n, t, tol, ...) \
    kt_claim_near(v, l, n, (double)(t), (double)(tol), __FILE__, __LINE__)
#define KT__CLAIM_OP_is_finite(v, l, n, ...) \
    kt_claim_is_finite(v, l, n, __FILE__, __LINE__)

#ifdef __cplusplus
}
#endif
#endif
