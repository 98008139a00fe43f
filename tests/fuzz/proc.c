/* Fuzzing the /proc readers: the /proc/<pid>/stat parser (private and
 * public faces), /proc/stat, schedstat, sched, and the bounded whole-file
 * reader under them (tests/fuzz/fuzz.h). Each accepted input is also checked
 * against what it says: an independent reading of the same text, or a
 * round trip through the printed form. */
#include "fuzz/fuzz.h"

#include "base/file.h"
#include "base/pidstat.h"
#include "ktstr/discover.h"
#include "ktstr/procstat.h"
#include "ktstr/schedstat.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* ---- /proc/<pid>/stat --------------------------------------------------- */

static void seed_stat(fuzz_seeds *s)
{
    static const char *const comms[] = {
        "bash", "CPU 0/KVM", "a) b (c) S", ")", "(", "", "x y z", ") R 1 2 (", "0123456789abcde",
    };

    fuzz_seed_file(s, "tests/fixtures/stat_paren.txt");
    fuzz_seed_file(s, "tests/fixtures/stat_vcpu.txt");
    for (size_t i = 0; i < sizeof(comms) / sizeof(comms[0]); i++) {
        char line[2048];
        int k = snprintf(line, sizeof(line), "%d (%s) %c", (int)fuzz_below(4194304), comms[i],
                         "RSDZTtXIP"[fuzz_below(9)]);

        for (int f = 4; f <= 52; f++)
            k += snprintf(line + k, sizeof(line) - (size_t)k, " %" PRIu64,
                          fuzz_below(4) ? fuzz_below(100000) : fuzz_rand() >> fuzz_below(64));
        fuzz_seed_fmt(s, "%s\n", line);
    }
}

/* An independent reading of fields 1..39: the leading pid, the comm to
 * the last ')', the state, then numbers split at white space, as strtoll
 * would see them. Returns false when the text does not have them. */
struct stat_oracle {
    long long pid, f[40];
    char state, comm[64];
};

static bool stat_oracle(const unsigned char *in, size_t n, struct stat_oracle *o)
{
    const unsigned char *close = NULL, *open = memchr(in, '(', n);
    char rest[1024], *p, *save = NULL, *tok;
    size_t len, clen;

    memset(o, 0, sizeof(*o));
    for (size_t i = n; i-- > 0;)
        if (in[i] == ')') {
            close = in + i;
            break;
        }
    if (!open || !close || close < open)
        return false;
    o->pid = strtoll((const char *)in, NULL, 10);   /* in stops at '(' anyway */
    clen = (size_t)(close - open - 1) < sizeof(o->comm) - 1 ? (size_t)(close - open - 1)
                                                            : sizeof(o->comm) - 1;
    memcpy(o->comm, open + 1, clen);
    o->comm[strnlen(o->comm, clen)] = '\0';
    len = n - (size_t)(close + 1 - in);
    if (len >= sizeof(rest))
        len = sizeof(rest) - 1;
    memcpy(rest, close + 1, len);
    rest[len] = '\0';
    for (p = rest; *p == ' '; p++)
        ;
    o->state = *p;
    if (!*p)
        return false;
    p++;
    for (int f = 4; f <= 39; f++) {
        tok = strtok_r(f == 4 ? p : NULL, " \t\n\v\f\r", &save);
        if (!tok)
            return false;
        o->f[f] = strtoll(tok, NULL, 10);
    }
    return true;
}

static int parse_pidstat(const unsigned char *in, size_t n, kt_err *err)
{
    kt__pidstat st;
    struct stat_oracle o;

    if (kt__pidstat_parse((const char *)in, n, &st, err) < 0)
        return -1;
    if (!memchr(st.comm, '\0', sizeof(st.comm)))
        fuzz_bad("comm not NUL-terminated");
    else if (!stat_oracle(in, n, &o))
        fuzz_bad("accepted a line without pid, comm, state and fields 4..39");
    else if (st.pid != o.pid || st.pid < 0)
        fuzz_bad("pid %d, the text says %lld", st.pid, o.pid);
    else if (strcmp(st.comm, o.comm) != 0)
        fuzz_bad("comm \"%s\", the text says \"%s\"", st.comm, o.comm);
    else if (st.state != o.state)
        fuzz_bad("state '%c', the text says '%c'", st.state, o.state);
    else if (st.ppid != o.f[4])
        fuzz_bad("ppid %d, the text says %lld", st.ppid, o.f[4]);
    else if (st.utime_ticks != (uint64_t)o.f[14] || st.stime_ticks != (uint64_t)o.f[15])
        fuzz_bad("utime/stime %" PRIu64 "/%" PRIu64 ", the text says %lld/%lld",
                 st.utime_ticks, st.stime_ticks, o.f[14], o.f[15]);
    else if (st.num_threads != o.f[20])
        fuzz_bad("num_threads %d, the text says %lld", st.num_threads, o.f[20]);
    else if (st.processor != o.f[39])
        fuzz_bad("processor %d, the text says %lld", st.processor, o.f[39]);
    return 0;
}

/* The public face must agree with the private parser it wraps. */
static int parse_proc_stat(const unsigned char *in, size_t n, kt_err *err)
{
    kt_proc_stat ps;
    kt__pidstat st;
    kt_err e2;
    int rc = kt_proc_stat_parse((const char *)in, n, &ps, err);

    if (rc != kt__pidstat_parse((const char *)in, n, &st, &e2))
        fuzz_bad("kt_proc_stat_parse and kt__pidstat_parse disagree (%d)", rc);
    else if (rc == 0 && (ps.pid != st.pid || strcmp(ps.comm, st.comm) || ps.state != st.state ||
                         ps.utime_ticks != st.utime_ticks || ps.stime_ticks != st.stime_ticks ||
                         ps.num_threads != st.num_threads || ps.processor != st.processor))
        fuzz_bad("kt_proc_stat_parse's fields differ from kt__pidstat_parse's");
    else if (rc < 0 && strcmp(err->msg, e2.msg) != 0)
        fuzz_bad("messages differ: \"%s\" and \"%s\"", err->msg, e2.msg);
    return rc;
}

/* ---- /proc/stat ---------------------------------------------------------- */

static void seed_procstat(fuzz_seeds *s)
{
    char text[4096];
    int k;

    fuzz_seed_file(s, "tests/fixtures/proc_stat_4cpu.txt");
    for (int round = 0; round < 4; round++) {
        k = snprintf(text, sizeof(text), "cpu  1 2 3 4 5 6 7 8 9 10\n");
        for (int c = 0, ncpu = 1 + (int)fuzz_below(12); c < ncpu; c++) {
            k += snprintf(text + k, sizeof(text) - (size_t)k, "cpu%d", c * (1 + (int)fuzz_below(3)));
            for (int f = 0; f < 10; f++)
                k += snprintf(text + k, sizeof(text) - (size_t)k, " %" PRIu64,
                              fuzz_below(8) ? fuzz_below(1000000) : fuzz_rand() >> fuzz_below(64));
            k += snprintf(text + k, sizeof(text) - (size_t)k, "\n");
        }
        snprintf(text + k, sizeof(text) - (size_t)k, "intr 1 2 3\nctxt 99\n");
        fuzz_seed_str(s, text);
    }
}

#define PROCSTAT_CAP 64

static int parse_procstat(const unsigned char *in, size_t n, kt_err *err)
{
    kt_cpu_times big[PROCSTAT_CAP], one[1];
    kt_err e2;
    /* the tick rate comes from the input's length: mostly 100, some odd */
    static const long ticks[] = { 100, 100, 100, 250, 1000, 1, 0, -100 };
    long hz = ticks[n % (sizeof(ticks) / sizeof(ticks[0]))];
    int rc = kt_procstat_parse((const char *)in, n, hz, big, PROCSTAT_CAP, err), present = 0;

    /* how many CPUs there is room for changes what is stored, never the answer */
    if (kt_procstat_parse((const char *)in, n, hz, one, 1, &e2) != rc)
        fuzz_bad("returned %d with room for 64 CPUs but not with room for 1", rc);
    if (rc < 0) {
        const char *q = strstr(err->msg, "in line \"");

        if (q && strncmp(q + 9, "cpu", 3) != 0)
            fuzz_bad("\"%s\" does not quote the line from its start", err->msg);
        return -1;
    }
    if (rc == 0)
        fuzz_bad("returned 0 CPU lines as a success");
    for (int c = 0; c < PROCSTAT_CAP; c++)
        present += big[c].present == 1;
    if (present > rc)
        fuzz_bad("%d CPUs present from %d lines", present, rc);
    if (big[0].present != one[0].present || memcmp(&big[0], &one[0], sizeof(one[0])) != 0)
        fuzz_bad("cpu0 differs with room for 1 CPU");
    return 0;
}

/* ---- schedstat and sched ---------------------------------------------------- */

static void seed_schedstat(fuzz_seeds *s)
{
    fuzz_seed_file(s, "tests/fixtures/schedstat.txt");
    fuzz_seed_str(s, "0 0 0\n");
    fuzz_seed_str(s, "18446744073709551615 18446744073709551615 18446744073709551615");
    fuzz_seed_fmt(s, "%" PRIu64 " %" PRIu64 " %" PRIu64 "\n", fuzz_rand(), fuzz_rand() >> 20,
                  fuzz_below(1000));
}

static int parse_schedstat(const unsigned char *in, size_t n, kt_err *err)
{
    kt_schedstat_sample a, b;
    char text[96];
    int k;

    if (kt_schedstat_parse((const char *)in, n, &a, err) < 0)
        return -1;
    k = snprintf(text, sizeof(text), "%" PRIu64 " %" PRIu64 " %" PRIu64 "\n", a.run_ns,
                 a.delay_ns, a.timeslices);
    if (kt_schedstat_parse(text, (size_t)k, &b, err) < 0 || a.run_ns != b.run_ns ||
        a.delay_ns != b.delay_ns || a.timeslices != b.timeslices)
        fuzz_bad("does not read back its own values (\"%.*s\")", k - 1, text);
    return 0;
}

static void seed_sched(fuzz_seeds *s)
{
    fuzz_seed_file(s, "tests/fixtures/sched_plain.txt");
    fuzz_seed_file(s, "tests/fixtures/sched_schedstats.txt");
    fuzz_seed_str(s, "nr_switches:1\nnr_voluntary_switches:2\nnr_involuntary_switches:3\n"
                     "se.nr_migrations:4");
}

static int parse_sched(const unsigned char *in, size_t n, kt_err *err)
{
    kt_sched_counters a, b;
    char text[512];
    int k;

    if (kt_sched_parse((const char *)in, n, &a, err) < 0)
        return -1;
    k = snprintf(text, sizeof(text),
                 "x (1, #threads: 1)\nse.nr_migrations : %" PRIu64 "\nnr_switches : %" PRIu64
                 "\nnr_voluntary_switches : %" PRIu64 "\nnr_involuntary_switches : %" PRIu64
                 "\n",
                 a.nr_migrations, a.nr_switches, a.nr_voluntary_switches,
                 a.nr_involuntary_switches);
    if (a.has_ext && k > 0 && (size_t)k < sizeof(text))
        k += snprintf(text + k, sizeof(text) - (size_t)k, "ext.enabled : %" PRIu64 "\n",
                      a.ext_enabled);
    if (kt_sched_parse(text, (size_t)k, &b, err) < 0 || memcmp(&a, &b, sizeof(a)) != 0)
        fuzz_bad("does not read back its own values");
    return 0;
}

/* ---- the whole-file reader ------------------------------------------------- */

static int memfd = -1;
static char memfd_path[64];

static void seed_file(fuzz_seeds *s)
{
    unsigned char buf[9000];

    fuzz_seed_str(s, "");
    fuzz_seed_str(s, "x");
    fuzz_seed_file(s, "tests/fixtures/proc_stat_4cpu.txt");
    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = (unsigned char)fuzz_rand();
    fuzz_seed(s, buf, 4095);
    fuzz_seed(s, buf, 4096);
    fuzz_seed(s, buf, 4097);
    fuzz_seed(s, buf, 8193);
}

/* A size bound around n: below it, at it, above it, anything. */
static size_t bound_near(size_t n)
{
    switch (fuzz_below(6)) {
    case 0: return n;
    case 1: return n ? n - 1 : 0;
    case 2: return n + 1;
    case 3: return 0;
    case 4: return 4096;
    default: return fuzz_below(2 * n + 2);
    }
}

/* The file holds in[0..n); kt__read_fd and kt__read_file_buf must give it
 * back whole and NUL-terminated, or "larger than" when it does not fit. */
static int parse_file(const unsigned char *in, size_t n, kt_err *err)
{
    kt__vec text = KT__VEC_INIT(char);
    size_t max = bound_near(n), cap = bound_near(n + 1);
    char *buf;
    kt_err e2;
    ssize_t got;
    int rc;

    if (memfd < 0) {
        memfd = memfd_create("ktstr-fuzz", MFD_CLOEXEC);
        if (memfd < 0) {
            fuzz_bad("memfd_create: %s", strerror(errno));
            return 0;
        }
        snprintf(memfd_path, sizeof(memfd_path), "/proc/self/fd/%d", memfd);
    }
    if (ftruncate(memfd, 0) < 0 || pwrite(memfd, in, n, 0) != (ssize_t)n) {
        fuzz_bad("writing the memfd: %s", strerror(errno));
        return 0;
    }
    /* a previous, longer content must not leak into this one */
    if (fuzz_below(2) && kt__vec_reserve(&text, 2 * n + 64, NULL, "fuzz") == 0)
        memset(text.v, 'Z', 2 * n + 64);
    rc = kt__read_fd(memfd, memfd_path, max, &text, err);
    if (rc == 0 && (n > max || text.n != n || (n && memcmp(text.v, in, n)) ||
                    ((char *)text.v)[n] != '\0'))
        fuzz_bad("kt__read_fd with max %zu gave %zu bytes, not the file's %zu", max, text.n, n);
    else if (rc < 0 && n <= max)
        fuzz_bad("kt__read_fd failed with max %zu >= %zu: %s", max, n, err->msg);
    else if (rc < 0 && (!strstr(err->msg, "larger than") || text.n != 0))
        fuzz_bad("kt__read_fd: \"%s\" for a file over its bound, %zu bytes kept", err->msg,
                 text.n);
    kt__vec_free(&text);
    /* exactly cap bytes, so ASan sees a write past them */
    buf = malloc(cap ? cap : 1);
    if (!buf)
        return rc;
    got = kt__read_file_buf(memfd_path, buf, cap, &e2);
    if (cap == 0) {
        if (got != -1 || !strstr(e2.msg, memfd_path))
            fuzz_bad("kt__read_file_buf into 0 bytes: %zd \"%s\"", got, e2.msg);
    } else if (n + 1 <= cap) {
        if (got != (ssize_t)n || (n && memcmp(buf, in, n)) || buf[n] != '\0')
            fuzz_bad("kt__read_file_buf with room %zu gave %zd bytes, not %zu", cap, got, n);
    } else if (got != -1 || buf[0] != '\0' || !strstr(e2.msg, "larger than") ||
               !strstr(e2.msg, memfd_path)) {
        fuzz_bad("kt__read_file_buf with room %zu for %zu bytes: %zd \"%s\"", cap, n, got,
                 e2.msg);
    }
    free(buf);
    return rc;
}

/* ---- the table ------------------------------------------------------------- */

static const fuzz_target targets[] = {
    { "pidstat", "stat", false, 4096, seed_stat, parse_pidstat },
    { "proc_stat", "stat", false, 4096, seed_stat, parse_proc_stat },
    { "procstat", "/proc/stat", false, 0, seed_procstat, parse_procstat },
    { "schedstat", "schedstat", false, 512, seed_schedstat, parse_schedstat },
    { "sched", "sched", false, 0, seed_sched, parse_sched },
    { "file", "/proc/self/fd/", false, 20000, seed_file, parse_file },
};

int main(void)
{
    int rc = fuzz_main(targets, FUZZ_COUNT(targets));

    if (memfd >= 0)
        close(memfd);
    return rc;
}
