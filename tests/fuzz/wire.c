/* Fuzzing the child-to-parent wire (tests/fuzz/fuzz.h): the line splitter on
 * its own, the reader on byte streams fed through a pipe in random
 * chunks (checked against a model of which lines arrive and which are
 * dropped), and sent lines read back through both. The wire's errors are
 * counted, not explained (the runner's bad_lines), so these targets have
 * no message to check: -1 is the whole answer. */
#include "fuzz/fuzz.h"

#include "runner/wire.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* The wire's own escaping, decoded independently: \\ \t \n \r \xNN. */
static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* One sent line, as kt__wire_send writes it, into out (without the
 * newline when strip); its length, or -1. */
static ssize_t send_line(const char *type, const char *const *f, size_t n, char *out,
                         size_t cap, bool strip)
{
    static int fd = -1;
    ssize_t got;

    if (fd < 0 && (fd = memfd_create("ktstr-fuzz-wire", MFD_CLOEXEC)) < 0)
        return -1;
    if (ftruncate(fd, 0) < 0 || lseek(fd, 0, SEEK_SET) < 0 ||
        kt__wire_send(fd, type, f, n) < 0)
        return -1;
    got = pread(fd, out, cap - 1, 0);
    if (got <= 0 || out[got - 1] != '\n')
        return -1;
    if (strip)
        got--;
    out[got] = '\0';
    return got;
}

/* ---- the splitter ------------------------------------------------------ */

static void seed_split(fuzz_seeds *s)
{
    static const char *const f7[] = { "ipc", "at_least", "1", "0.5",
                                      "ipc: expected at least 1, was 0.5", "scenarios/x.c", "61" };
    static const char *const odd[] = { "tab\there", "new\nline", "back\\slash", "\x01\x7f\r",
                                       "", "\xff\xfe", "\\x00" };
    char line[8192];
    ssize_t n;

    if ((n = send_line("FAIL", f7, 7, line, sizeof(line), true)) > 0)
        fuzz_seed(s, line, (size_t)n);
    if ((n = send_line("NOTE", odd, 7, line, sizeof(line), true)) > 0)
        fuzz_seed(s, line, (size_t)n);
    if ((n = send_line("DONE", f7 + 2, 2, line, sizeof(line), true)) > 0)
        fuzz_seed(s, line, (size_t)n);
    fuzz_seed_str(s, "X\t\\x41\\x7e\\t\\\\\t\t");
    fuzz_seed_str(s, "A\t1\t2\t3\t4\t5\t6\t7\t8");
}

/* Whether f (unescaped by the splitter) is what esc decodes to. */
static bool decodes_to(const char *esc, const char *f)
{
    for (const unsigned char *p = (const unsigned char *)esc; *p; p++, f++) {
        unsigned c = *p;

        if (c == '\\') {
            p++;
            if (*p == 'x') {
                c = (unsigned)(hexval(p[1]) * 16 + hexval(p[2]));
                p += 2;
            } else {
                c = *p == 't' ? '\t' : *p == 'n' ? '\n' : *p == 'r' ? '\r' : *p;
            }
        }
        if ((unsigned char)*f != c)
            return false;
    }
    return *f == '\0';
}

static int parse_split(const unsigned char *in, size_t n, kt_err *err)
{
    char *line = strdup((const char *)in), *orig = strdup((const char *)in), *tabs[KT__WIRE_MAX_FIELDS + 1];
    char again[KT__WIRE_LINE_MAX + 2];
    kt__wire_msg m, m2;
    size_t nt = 0;
    int rc;

    (void)n;
    (void)err;
    if (!line || !orig) {
        fuzz_bad("out of memory");
        free(line);
        free(orig);
        return 0;
    }
    rc = kt__wire_split(line, &m);
    if (rc == 0) {
        /* the fields as sent: orig cut at its tabs */
        for (char *p = strchr(orig, '\t'); p && nt < KT__WIRE_MAX_FIELDS + 1; p = strchr(p, '\t')) {
            *p++ = '\0';
            tabs[nt++] = p;
        }
        if (!*m.type || strcmp(m.type, orig) != 0 || m.n != nt || m.n > KT__WIRE_MAX_FIELDS)
            fuzz_bad("accepted as type \"%s\" with %zu fields, sent %zu", m.type, m.n, nt);
        for (size_t i = 0; i < m.n && i < nt; i++)
            if (!decodes_to(tabs[i], m.field[i]))
                fuzz_bad("field %zu \"%s\" is not what \"%s\" decodes to", i, m.field[i],
                         tabs[i]);
        /* what was read, sent again, reads the same (fields are cut at
         * KT__WIRE_FIELD_MAX bytes when sent) */
        if (!strchr(m.type, '\n') && send_line(m.type, m.field, m.n, again, sizeof(again), true) >= 0) {
            if (kt__wire_split(again, &m2) != 0 || strcmp(m2.type, m.type) != 0 || m2.n != m.n)
                fuzz_bad("a line sent again does not split the same");
            for (size_t i = 0; i < m.n && i < m2.n; i++)
                if (strncmp(m.field[i], m2.field[i], KT__WIRE_FIELD_MAX) != 0 ||
                    strlen(m2.field[i]) != (strlen(m.field[i]) < KT__WIRE_FIELD_MAX
                                                ? strlen(m.field[i]) : KT__WIRE_FIELD_MAX))
                    fuzz_bad("field %zu reads back as \"%s\"", i, m2.field[i]);
        }
    }
    free(line);
    free(orig);
    return rc;
}

/* ---- the reader ---------------------------------------------------------- */

struct stream {
    const unsigned char *in;
    size_t n;
    size_t next;        /* where the model's next complete line starts */
    uint64_t lines, expect_overlong;
    char *copy;         /* a line to split, as the runner would */
};

/* The model: the next line the reader should hand over (one that fits
 * the buffer with its newline), skipping and counting those that do not.
 * Returns false when no complete line is left. */
static bool model_next(struct stream *st, size_t *start, size_t *len)
{
    while (st->next < st->n) {
        const unsigned char *nl = memchr(st->in + st->next, '\n', st->n - st->next);
        size_t l;

        if (!nl)
            return false;
        l = (size_t)(nl - (st->in + st->next));
        *start = st->next;
        st->next += l + 1;
        if (l + 1 <= KT__WIRE_LINE_MAX) {
            *len = l;
            return true;
        }
        st->expect_overlong++;
    }
    return false;
}

static void on_line(void *arg, char *line)
{
    struct stream *st = arg;
    size_t start, len, got = strlen(line);
    kt__wire_msg m;

    st->lines++;
    if (!model_next(st, &start, &len)) {
        fuzz_bad("line %llu handed over; the stream has no more complete lines",
                 (unsigned long long)st->lines);
        return;
    }
    /* a NUL inside a line cuts what the callback sees, nothing else */
    if (got != strnlen((const char *)st->in + start, len) || memcmp(line, st->in + start, got)) {
        fuzz_bad("line %llu (%zu bytes at %zu) handed over as %zu other bytes",
                 (unsigned long long)st->lines, len, start, got);
        return;
    }
    memcpy(st->copy, line, got + 1);
    kt__wire_split(st->copy, &m);
}

static void seed_read(fuzz_seeds *s)
{
    static const char *const f[] = { "a\tb", "c\\d", "e\nf" };
    char line[512], stream[4096];
    size_t k = 0;
    unsigned char *big = malloc(KT__WIRE_LINE_MAX + 2);

    for (int i = 0; i < 12; i++) {
        ssize_t n = send_line(i % 2 ? "NOTE" : "PASS", f, (size_t)(i % 4), line, sizeof(line), false);

        if (n > 0 && k + (size_t)n < sizeof(stream)) {
            memcpy(stream + k, line, (size_t)n);
            k += (size_t)n;
        }
    }
    fuzz_seed(s, stream, k);
    fuzz_seed(s, stream, k - 3);   /* the last line cut by a death */
    if (!big)
        return;
    /* lines around the buffer's size: the longest kept, the shortest dropped */
    for (size_t len = KT__WIRE_LINE_MAX - 1; len <= KT__WIRE_LINE_MAX + 1; len++) {
        memset(big, 'x', len);
        big[len] = '\n';
        fuzz_seed(s, big, len + 1);
    }
    free(big);
}

/* How much to write next: a few bytes, a lot, or up to an edge -- a
 * newline, or the buffer's size counted from the current line's start --
 * so the reader is caught holding exactly so much. */
static size_t next_chunk(const unsigned char *in, size_t n, size_t off)
{
    size_t ls = off, edge;
    const unsigned char *nl;

    switch (fuzz_below(6)) {
    case 0: return 1 + fuzz_below(70000);
    case 1: case 2: case 3: return 1 + fuzz_below(64);
    default: break;
    }
    while (ls > 0 && in[ls - 1] != '\n')
        ls--;
    nl = memchr(in + off, '\n', n - off);
    switch (fuzz_below(4)) {
    case 0: edge = nl ? (size_t)(nl - in) : n; break;
    case 1: edge = nl ? (size_t)(nl - in) + 1 : n; break;
    default: edge = ls + KT__WIRE_LINE_MAX - 2 + fuzz_below(3); break;
    }
    return edge > off ? edge - off : 1 + fuzz_below(64);
}

static int parse_read(const unsigned char *in, size_t n, kt_err *err)
{
    struct stream st = { in, n, 0, 0, 0, NULL };
    kt__wire_reader r;
    int p[2], rc = 0;
    size_t off = 0, start, len;
    bool more = false;

    (void)err;
    if (pipe2(p, O_NONBLOCK | O_CLOEXEC) < 0) {
        fuzz_bad("pipe2: %s", strerror(errno));
        return 0;
    }
    st.copy = malloc(KT__WIRE_LINE_MAX + 1);
    if (!st.copy || kt__wire_reader_init(&r) < 0) {
        fuzz_bad("out of memory");
        free(st.copy);
        close(p[0]);
        close(p[1]);
        return 0;
    }
    while (off < n && rc == 0) {
        size_t chunk = next_chunk(in, n, off);
        ssize_t w = write(p[1], in + off, chunk < n - off ? chunk : n - off);

        if (w < 0 && errno != EAGAIN) {
            fuzz_bad("write to the pipe: %s", strerror(errno));
            break;
        }
        if (w > 0)
            off += (size_t)w;
        rc = kt__wire_read(&r, p[0], on_line, &st);
    }
    close(p[1]);
    if (rc != 0)
        fuzz_bad("kt__wire_read returned %d before the end of the stream", rc);
    else if ((rc = kt__wire_read(&r, p[0], on_line, &st)) != 1)
        fuzz_bad("kt__wire_read returned %d at the end of the stream, not 1", rc);
    /* what the model still holds: lines never handed over, a cut last line */
    while (model_next(&st, &start, &len))
        more = true;
    if (st.next < n)
        st.expect_overlong++;
    if (more)
        fuzz_bad("lines never handed over (%llu were)", (unsigned long long)st.lines);
    else if (r.overlong != st.expect_overlong)
        fuzz_bad("%llu lines counted as dropped, the stream has %llu",
                 (unsigned long long)r.overlong, (unsigned long long)st.expect_overlong);
    kt__wire_reader_fini(&r);
    free(st.copy);
    close(p[0]);
    return 0;
}

/* ---- send, then read and split ------------------------------------------- */

static void seed_send(fuzz_seeds *s)
{
    static const char a[] = "FAIL\0ipc\0at_least\0001\0000.5\0ipc: expected\0x.c\00061";
    static const char b[] = "NOTE\0tab\there\nnew line \\ \x01\x7f\xff";
    static const char c[] = "DONE\0\0";
    char big[3000];

    fuzz_seed(s, a, sizeof(a) - 1);
    fuzz_seed(s, b, sizeof(b) - 1);
    fuzz_seed(s, c, sizeof(c) - 1);
    memcpy(big, "RMDIR", 6);
    memset(big + 6, '\\', sizeof(big) - 6);
    fuzz_seed(s, big, sizeof(big));
    fuzz_seed(s, "T\0a\0b\0c\0d\0e\0f\0g\0h\0i", 19);   /* 9 fields: refused */
}

struct one {
    int lines;
    kt__wire_msg m;
    char *line;
};

static void take(void *arg, char *line)
{
    struct one *o = arg;

    if (o->lines++ == 0) {
        strcpy(o->line, line);
        if (kt__wire_split(o->line, &o->m) != 0)
            o->m.type = NULL;
    }
}

/* in holds a type and fields separated by NULs: what is sent arrives,
 * through kt__wire_read and kt__wire_split, as it was (cut at
 * KT__WIRE_FIELD_MAX bytes a field). */
static int parse_send(const unsigned char *in, size_t n, kt_err *err)
{
    char *buf = malloc(n + 1), *line = malloc(KT__WIRE_LINE_MAX + 1);
    const char *f[KT__WIRE_MAX_FIELDS + 1];
    size_t nf = 0;
    struct one o = { 0, { 0 }, line };
    kt__wire_reader r;
    int fd = -1, rc = -1;

    (void)err;
    if (!buf || !line || kt__wire_reader_init(&r) < 0) {
        fuzz_bad("out of memory");
        free(buf);
        free(line);
        return 0;
    }
    memcpy(buf, in, n);
    buf[n] = '\0';
    for (size_t i = 0; i < n && nf <= KT__WIRE_MAX_FIELDS; i++)
        if (buf[i] == '\0')
            f[nf++] = buf + i + 1;
    /* a type is a short word of the library's (KT__WIRE_LINE_MAX leaves 16
     * bytes for it): only such a one is sent */
    if (!buf[0] || strlen(buf) > 15 || strpbrk(buf, "\t\n"))
        goto out;
    fd = memfd_create("ktstr-fuzz-send", MFD_CLOEXEC);
    if (fd < 0) {
        fuzz_bad("memfd_create: %s", strerror(errno));
        rc = 0;
        goto out;
    }
    if (nf > KT__WIRE_MAX_FIELDS) {
        errno = 0;
        if (kt__wire_send(fd, buf, f, nf) != -1 || errno != EINVAL)
            fuzz_bad("%zu fields sent", nf);
        goto out;
    }
    if (kt__wire_send(fd, buf, f, nf) < 0 || lseek(fd, 0, SEEK_SET) < 0) {
        fuzz_bad("kt__wire_send: %s", strerror(errno));
        rc = 0;
        goto out;
    }
    rc = 0;
    if (kt__wire_read(&r, fd, take, &o) != 1 || o.lines != 1 || r.overlong) {
        fuzz_bad("%d lines arrived (%llu dropped), sent 1", o.lines,
                 (unsigned long long)r.overlong);
        goto out;
    }
    if (!o.m.type || strcmp(o.m.type, buf) != 0 || o.m.n != nf) {
        fuzz_bad("the line does not split into the type and %zu fields sent", nf);
        goto out;
    }
    for (size_t i = 0; i < nf; i++) {
        size_t want = strnlen(f[i], KT__WIRE_FIELD_MAX);

        if (strlen(o.m.field[i]) != want || memcmp(o.m.field[i], f[i], want) != 0) {
            fuzz_bad("field %zu arrived as \"%.40s\"", i, o.m.field[i]);
            break;
        }
    }
out:
    if (fd >= 0)
        close(fd);
    kt__wire_reader_fini(&r);
    free(buf);
    free(line);
    return rc;
}

static const fuzz_target targets[] = {
    { "wire_split", NULL, true, 20000, seed_split, parse_split },
    { "wire_read", NULL, false, 3 * KT__WIRE_LINE_MAX, seed_read, parse_read },
    { "wire_send", NULL, false, 20000, seed_send, parse_send },
};

int main(void)
{
    return fuzz_main(targets, FUZZ_COUNT(targets));
}
