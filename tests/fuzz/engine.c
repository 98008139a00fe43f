/* The fuzz engine of tests/fuzz/fuzz.h: seeds, mutations, the watchdog and
 * the per-input checks. Linked into every fuzz test, build/tests/fuzz/<target>.t. */
#include "fuzz/fuzz.h"

#include "harness/unit.h"
#include "base/file.h"
#include "base/vec.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_MAX_LEN 16384
#define DEFAULT_SECONDS 0.4
#define DEFAULT_ITERS 20000
#define WATCHDOG_S 5       /* one input: far past any parse, even under ASan */
#define POOL_MAX 64        /* accepted mutants kept to mutate further */
#define DUMP_MAX 512       /* bytes of a failing input shown */
#define SEED_FILE_MAX (1u << 20)

struct sample {
    unsigned char *p;
    size_t n;
};

struct fuzz_seeds {
    kt__vec v;             /* struct sample */
};

/* ---- the random stream ------------------------------------------------ */

static uint64_t rng = 1;

static uint64_t splitmix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

uint64_t fuzz_rand(void)
{
    /* xorshift64* */
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 0x2545f4914f6cdd1dull;
}

uint64_t fuzz_below(uint64_t n)
{
    return n ? fuzz_rand() % n : 0;
}

/* ---- seeds ------------------------------------------------------------ */

static void sample_add(kt__vec *v, const void *p, size_t n)
{
    struct sample s = { malloc(n ? n : 1), n };

    if (!s.p || kt__vec_push(v, &s, NULL, "fuzz samples") < 0) {
        fprintf(stderr, "fuzz: out of memory for a sample of %zu bytes\n", n);
        abort();
    }
    if (n)
        memcpy(s.p, p, n);
}

static void samples_free(kt__vec *v)
{
    struct sample *s = v->v;

    for (size_t i = 0; i < v->n; i++)
        free(s[i].p);
    kt__vec_free(v);
}

void fuzz_seed(fuzz_seeds *s, const void *p, size_t n)
{
    sample_add(&s->v, p, n);
}

void fuzz_seed_str(fuzz_seeds *s, const char *str)
{
    sample_add(&s->v, str, strlen(str));
}

void fuzz_seed_fmt(fuzz_seeds *s, const char *fmt, ...)
{
    char buf[4096];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(buf)) {
        fprintf(stderr, "fuzz: a formatted seed longer than %zu bytes\n", sizeof(buf) - 1);
        abort();
    }
    sample_add(&s->v, buf, (size_t)n);
}

void fuzz_seed_file(fuzz_seeds *s, const char *path)
{
    kt__vec text = KT__VEC_INIT(char);
    kt_err err;

    if (kt__read_file(path, SEED_FILE_MAX, &text, &err) < 0) {
        fprintf(stderr, "# fuzz: seed %s: %s (run from the top of the tree)\n", path, err.msg);
        check(!"a fixture could be read");
    } else {
        sample_add(&s->v, text.v, text.n);
    }
    kt__vec_free(&text);
}

/* ---- what is running, for the reports --------------------------------- */

static uint64_t base_seed;
static const char *cur_name;
static uint64_t cur_iter;
static const unsigned char *volatile cur_in;
static volatile size_t cur_len;
static char bad_msg[512];
static bool bad_seen;

void fuzz_bad(const char *fmt, ...)
{
    va_list ap;

    if (bad_seen)
        return;   /* the first broken property is the one to show */
    bad_seen = true;
    va_start(ap, fmt);
    vsnprintf(bad_msg, sizeof(bad_msg), fmt, ap);
    va_end(ap);
}

/* Async-signal-safe formatting: a decimal number, hex bytes, a write. */
static size_t put_u64(char *p, uint64_t v)
{
    char tmp[24];
    size_t n = 0, k = 0;

    do
        tmp[n++] = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    while (n)
        p[k++] = tmp[--n];
    return k;
}

static size_t put_str(char *p, const char *s)
{
    size_t n = strlen(s);

    memcpy(p, s, n);
    return n;
}

static void write_all(const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(2, p, n);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        p += w;
        n -= (size_t)w;
    }
}

/* "# fuzz <name>: input <i> (replay: KTSTR_FUZZ_SEED=.. ..TARGET=.. ..ITERS=..): <why>"
 * then the input in hex, 32 bytes a line. Safe in a signal handler. */
static void report(const char *why)
{
    static const char hex[] = "0123456789abcdef";
    char line[1024];
    size_t k = 0, show = cur_len < DUMP_MAX ? cur_len : DUMP_MAX;

    if (!cur_name)
        return;
    k += put_str(line + k, "# fuzz ");
    k += put_str(line + k, cur_name);
    k += put_str(line + k, ": input ");
    k += put_u64(line + k, cur_iter);
    k += put_str(line + k, " (replay: KTSTR_FUZZ_SEED=");
    k += put_u64(line + k, base_seed);
    k += put_str(line + k, " KTSTR_FUZZ_TARGET=");
    k += put_str(line + k, cur_name);
    k += put_str(line + k, " KTSTR_FUZZ_ITERS=");
    k += put_u64(line + k, cur_iter + 1);
    k += put_str(line + k, " KTSTR_FUZZ_SECONDS=600): ");
    write_all(line, k);
    write_all(why, strlen(why));
    k = put_str(line, "\n#   input, ");
    k += put_u64(line + k, cur_len);
    k += put_str(line + k, cur_len > show ? " bytes, the first shown in hex:" : " bytes in hex:");
    write_all(line, k);
    for (size_t i = 0; cur_in && i < show; i++) {
        k = 0;
        if (i % 32 == 0)
            k += put_str(line + k, "\n#   ");
        line[k++] = hex[cur_in[i] >> 4];
        line[k++] = hex[cur_in[i] & 15];
        write_all(line, k);
    }
    write_all("\n", 1);
}

static void on_signal(int sig)
{
    report(sig == SIGALRM ? "no answer within the watchdog's seconds: a hang"
         : sig == SIGSEGV ? "SIGSEGV"
         : sig == SIGBUS ? "SIGBUS"
         : sig == SIGFPE ? "SIGFPE"
         : sig == SIGILL ? "SIGILL" : "SIGABRT");
    signal(sig, SIG_DFL);
    raise(sig);
}

/* ASan and UBSan call this before they end the process on an error, so
 * their report is followed by the input that caused it. Weak: NULL in a
 * build without -fsanitize. */
extern void __sanitizer_set_death_callback(void (*cb)(void)) __attribute__((weak));

static void on_sanitizer_death(void)
{
    report("the sanitizer's error above");
}

static void install_handlers(void)
{
    static const int crash[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT };
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGALRM, &sa, NULL) < 0)
        perror("fuzz: sigaction(SIGALRM)");
    if (__sanitizer_set_death_callback) {
        /* their own SEGV handler reports better than ours would */
        __sanitizer_set_death_callback(on_sanitizer_death);
        return;
    }
    for (size_t i = 0; i < sizeof(crash) / sizeof(crash[0]); i++)
        if (sigaction(crash[i], &sa, NULL) < 0)
            perror("fuzz: sigaction");
}

/* ---- mutations -------------------------------------------------------- */

static const unsigned char interesting[] = {
    0, 0xff, 0x7f, 0x80, 0xc3, ' ', '\n', '\t', '\r', '(', ')', '-', ',', ':',
    '#', '"', '\\', '0', '1', '9', 'x', '/', '.',
};

static const char *const huge[] = {
    "18446744073709551615", "18446744073709551616", "99999999999999999999999999",
    "9223372036854775807", "9223372036854775808", "4294967295", "4294967296",
    "2147483647", "2147483648", "-1", "-9223372036854775809", "0",
    "000000000000000000000000000001", "1e9999", "0x10",
};

static const size_t run_lens[] = {
    64, 255, 256, 1023, 1024, 4095, 4096, 8191, 8192, 65535, 65536, 65561, 70000,
};

/* Inserts len bytes of src (NULL: random bytes) at pos, cut to fit cap. */
static void ins(unsigned char *b, size_t *n, size_t cap, size_t pos,
                const unsigned char *src, size_t len)
{
    if (len > cap - *n)
        len = cap - *n;
    memmove(b + pos + len, b + pos, *n - pos);
    for (size_t i = 0; i < len; i++)
        b[pos + i] = src ? src[i] : (unsigned char)fuzz_rand();
    *n += len;
}

static void del(unsigned char *b, size_t *n, size_t pos, size_t len)
{
    if (len > *n - pos)
        len = *n - pos;
    memmove(b + pos, b + pos + len, *n - pos - len);
    *n -= len;
}

/* [*start, *end) of the line holding pos. */
static void line_at(const unsigned char *b, size_t n, size_t pos, size_t *start, size_t *end)
{
    size_t s = pos, e = pos;

    while (s > 0 && b[s - 1] != '\n')
        s--;
    while (e < n && b[e] != '\n')
        e++;
    if (e < n)
        e++;   /* with its newline */
    *start = s;
    *end = e;
}

static void mutate_once(unsigned char *b, size_t *n, size_t cap, const kt__vec *seeds)
{
    const struct sample *sv = seeds->v;
    size_t pos = fuzz_below(*n + 1), len;

    switch (fuzz_below(15)) {
    case 0:   /* flip a bit */
        if (*n)
            b[fuzz_below(*n)] ^= (unsigned char)(1u << fuzz_below(8));
        break;
    case 1:   /* an interesting byte over one */
        if (*n)
            b[fuzz_below(*n)] = interesting[fuzz_below(sizeof(interesting))];
        break;
    case 2: { /* insert a few random or interesting bytes */
        unsigned char tmp[8];

        len = 1 + fuzz_below(sizeof(tmp));
        for (size_t i = 0; i < len; i++)
            tmp[i] = fuzz_below(2) ? (unsigned char)fuzz_rand()
                                   : interesting[fuzz_below(sizeof(interesting))];
        ins(b, n, cap, pos, tmp, len);
        break;
    }
    case 3:   /* delete a range */
        if (*n)
            del(b, n, fuzz_below(*n), 1 + fuzz_below(16));
        break;
    case 4:   /* truncate */
        *n = fuzz_below(*n + 1);
        break;
    case 5: { /* splice in a piece of a sample */
        const struct sample *o = &sv[fuzz_below(seeds->n)];
        size_t at = fuzz_below(o->n + 1);

        len = fuzz_below(o->n - at + 1);
        if (fuzz_below(2)) {
            ins(b, n, cap, pos, o->p + at, len);
        } else {   /* crossover: our head, its tail */
            *n = pos;
            ins(b, n, cap, pos, o->p + at, o->n - at);
        }
        break;
    }
    case 6: { /* duplicate a piece of itself */
        unsigned char tmp[256];
        size_t from = fuzz_below(*n + 1);

        len = fuzz_below(*n - from + 1);
        if (len > sizeof(tmp))
            len = sizeof(tmp);
        memcpy(tmp, b + from, len);
        ins(b, n, cap, pos, tmp, len);
        break;
    }
    case 7: { /* a huge (or odd) number over a run of digits */
        const char *h = huge[fuzz_below(sizeof(huge) / sizeof(huge[0]))];
        size_t s = pos;

        while (s < *n && (b[s] < '0' || b[s] > '9'))
            s++;
        if (s < *n) {
            size_t e = s;

            while (e < *n && b[e] >= '0' && b[e] <= '9')
                e++;
            del(b, n, s, e - s);
            pos = s;
        }
        ins(b, n, cap, pos, (const unsigned char *)h, strlen(h));
        break;
    }
    case 8:   /* a NUL byte, inserted or over one */
        if (*n && fuzz_below(2))
            b[fuzz_below(*n)] = 0;
        else
            ins(b, n, cap, pos, (const unsigned char *)"", 1);
        break;
    case 9: { /* an overlong run (line, field, number, name) */
        static const unsigned char fill[] = { 'a', '9', ' ', '(', '\\', ',', 0xff };
        unsigned char c = fill[fuzz_below(sizeof(fill))];

        len = run_lens[fuzz_below(sizeof(run_lens) / sizeof(run_lens[0]))];
        if (len > cap - *n)
            len = cap - *n;
        memmove(b + pos + len, b + pos, *n - pos);
        memset(b + pos, c, len);
        *n += len;
        break;
    }
    case 10: { /* a line deleted, duplicated or moved to the end */
        size_t s, e;
        unsigned char tmp[1024];

        if (!*n)
            break;
        line_at(b, *n, fuzz_below(*n), &s, &e);
        len = e - s < sizeof(tmp) ? e - s : sizeof(tmp);
        memcpy(tmp, b + s, len);
        switch (fuzz_below(3)) {
        case 0: del(b, n, s, e - s); break;
        case 1: ins(b, n, cap, e, tmp, len); break;
        default: del(b, n, s, e - s); ins(b, n, cap, *n, tmp, len); break;
        }
        break;
    }
    case 11: { /* a binary field (u8..u64) overwritten with an edge value */
        static const unsigned w_of[] = { 1, 2, 4, 8 };
        unsigned w = w_of[fuzz_below(4)];
        uint64_t v, edges[] = {
            0, 1, 2, 7, 8, 16, 24, 40, 48, 0x7f, 0x80, 0xff, 0xffff, 4096, 65536,
            0x7fffffff, 0x80000000u, 0xffffffffu, UINT64_MAX, *n, *n - 1, *n + 1, *n / 2,
        };

        if (*n < w)
            break;
        v = fuzz_below(4) ? edges[fuzz_below(sizeof(edges) / sizeof(edges[0]))] : fuzz_rand();
        memcpy(b + fuzz_below(*n / w) * w, &v, w);   /* little-endian: the low bytes */
        break;
    }
    case 12:  /* random bytes appended */
        ins(b, n, cap, *n, NULL, 1 + fuzz_below(32));
        break;
    case 13:  /* a random byte over one */
        if (*n)
            b[fuzz_below(*n)] = (unsigned char)fuzz_rand();
        break;
    default:  /* a newline: cut a line in two */
        ins(b, n, cap, pos, (const unsigned char *)"\n", 1);
        break;
    }
}

/* The next input into b: a seed as it is, random bytes, or a seed or kept
 * mutant mutated a few times. */
static size_t next_input(unsigned char *b, size_t cap, uint64_t iter, const kt__vec *seeds,
                         const kt__vec *pool, bool *mutated)
{
    const struct sample *sv = seeds->v, *pv = pool->v, *from;
    size_t n, k;
    uint64_t r = fuzz_below(100);

    *mutated = true;
    if (iter < seeds->n) {
        *mutated = false;
        n = sv[iter].n < cap ? sv[iter].n : cap;
        memcpy(b, sv[iter].p, n);
        return n;
    }
    if (r < 4) {
        static const char digits[] = "0123456789 \n-,:()";

        n = fuzz_below((cap < 512 ? cap : 512) + 1);
        for (size_t i = 0; i < n; i++)
            b[i] = r < 2 ? (unsigned char)fuzz_rand()
                         : (unsigned char)digits[fuzz_below(sizeof(digits) - 1)];
        return n;
    }
    from = pool->n && fuzz_below(3) == 0 ? &pv[fuzz_below(pool->n)] : &sv[fuzz_below(seeds->n)];
    n = from->n < cap ? from->n : cap;
    memcpy(b, from->p, n);
    k = 1 + fuzz_below(4);
    if (fuzz_below(8) == 0)
        k += fuzz_below(16);
    while (k--)
        mutate_once(b, &n, cap, seeds);
    return n;
}

/* ---- running a target -------------------------------------------------- */

static double budget_s = DEFAULT_SECONDS;
static uint64_t budget_iters = DEFAULT_ITERS;
static const char *only;

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* What is wrong with the result of one input, or NULL. */
static const char *judge(const fuzz_target *t, int rc, const kt_err *err, char *why, size_t n)
{
    if (bad_seen) {
        snprintf(why, n, "%s", bad_msg);
        return why;
    }
    if (rc != 0 && rc != -1) {
        snprintf(why, n, "returned %d, neither 0 nor -1", rc);
        return why;
    }
    if (rc == 0 || !t->kind)
        return NULL;
    if (!memchr(err->msg, '\0', sizeof(err->msg)))
        snprintf(why, n, "rejected with an unterminated message");
    else if (!err->msg[0])
        snprintf(why, n, "rejected with an empty message");
    else if (!strstr(err->msg, t->kind))
        snprintf(why, n, "rejected with \"%s\", which does not name the input (\"%s\")",
                 err->msg, t->kind);
    else if (err->code == 0)
        snprintf(why, n, "rejected with \"%s\" and errno 0", err->msg);
    else
        return NULL;
    return why;
}

static void run_target(const fuzz_target *t)
{
    fuzz_seeds seeds = { KT__VEC_INIT(struct sample) };
    kt__vec pool = KT__VEC_INIT(struct sample);
    size_t cap = t->max_len ? t->max_len : DEFAULT_MAX_LEN;
    unsigned char *work = malloc(cap);
    uint64_t iter, accepted = 0, rejected = 0, h = 1469598103934665603ull;
    double start = now_s(), elapsed;
    char why[1024];
    bool failed = false;

    if (!work) {
        check(!"no memory for the work buffer");
        return;
    }
    for (const char *p = t->name; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ull;   /* FNV-1a */
    rng = splitmix(base_seed ^ h);
    if (!rng)
        rng = 1;
    cur_name = t->name;
    t->seed(&seeds);
    if (seeds.v.n == 0)
        fuzz_seed(&seeds, "", 0);
    for (iter = 0; iter < budget_iters && !failed; iter++) {
        bool mutated;
        size_t n;
        unsigned char *in;
        kt_err err;
        int rc;

        if (iter >= seeds.v.n && now_s() - start > budget_s)
            break;
        n = next_input(work, cap, iter, &seeds.v, &pool, &mutated);
        /* exactly n bytes (n + 1 with the NUL of a text), so ASan sees a
         * read past them */
        in = malloc(n + (t->text ? 1 : 0));
        if (!in && n + t->text) {
            check(!"no memory for an input");
            break;
        }
        memcpy(in, work, n);
        if (t->text)
            in[n] = '\0';
        memset(&err, 0, sizeof(err));
        bad_seen = false;
        cur_iter = iter;
        cur_in = in;
        cur_len = n;
        alarm(WATCHDOG_S);
        rc = t->parse(in, n, &err);
        alarm(0);
        if (judge(t, rc, &err, why, sizeof(why))) {
            report(why);
            failed = true;
        } else if (rc == 0) {
            accepted++;
            if (mutated && pool.n < POOL_MAX)
                sample_add(&pool, in, n);
            else if (mutated && fuzz_below(16) == 0) {
                struct sample *p = kt__vec_at(&pool, fuzz_below(pool.n));
                unsigned char *copy = malloc(n ? n : 1);

                if (copy) {
                    memcpy(copy, in, n);
                    free(p->p);
                    p->p = copy;
                    p->n = n;
                }
            }
        } else {
            rejected++;
        }
        cur_in = NULL;
        free(in);
    }
    elapsed = now_s() - start;
    cur_name = NULL;
    test_msg("%s: %llu inputs in %.2f s (%llu seeds), %llu accepted, %llu rejected", t->name,
             (unsigned long long)iter, elapsed, (unsigned long long)seeds.v.n,
             (unsigned long long)accepted, (unsigned long long)rejected);
    check(!failed);
    /* a target that accepts nothing tests nothing past its first check */
    check_uint(accepted, >, 0);
    samples_free(&seeds.v);
    samples_free(&pool);
    free(work);
}

static int env_number(const char *name, double *out)
{
    const char *s = getenv(name);
    char *end;
    double v;

    if (!s)
        return 0;
    errno = 0;
    v = strtod(s, &end);
    if (end == s || *end || errno || !(v >= 0)) {
        fprintf(stderr, "fuzz: %s=\"%s\": want a number >= 0\n", name, s);
        return -1;
    }
    *out = v;
    return 0;
}

static int env_u64(const char *name, uint64_t *out)
{
    const char *s = getenv(name);
    char *end;
    unsigned long long v;

    if (!s)
        return 0;
    errno = 0;
    v = strtoull(s, &end, 0);
    if (end == s || *end || errno || *s == '-') {
        fprintf(stderr, "fuzz: %s=\"%s\": want an unsigned integer\n", name, s);
        return -1;
    }
    *out = v;
    return 0;
}

int fuzz_main(const fuzz_target *t, size_t n)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    base_seed = splitmix((uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 30) ^
                         ((uint64_t)getpid() << 8)) >> 1;
    if (env_u64("KTSTR_FUZZ_SEED", &base_seed) < 0 ||
        env_number("KTSTR_FUZZ_SECONDS", &budget_s) < 0 ||
        env_u64("KTSTR_FUZZ_ITERS", &budget_iters) < 0)
        return 2;
    only = getenv("KTSTR_FUZZ_TARGET");
    install_handlers();
    test_msg("fuzz seed %llu (replay: KTSTR_FUZZ_SEED=%llu), %.2f s or %llu inputs a target",
             (unsigned long long)base_seed, (unsigned long long)base_seed, budget_s,
             (unsigned long long)budget_iters);
    for (size_t i = 0; i < n; i++) {
        if (only && strcmp(only, t[i].name) != 0) {
            TEST(test_skip("KTSTR_FUZZ_TARGET=%s", only), "fuzz %s", t[i].name);
            continue;
        }
        TEST(run_target(&t[i]), "fuzz %s", t[i].name);
    }
    return test_done();
}
