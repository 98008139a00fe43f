/* The child-to-parent line protocol (see wire.h): plain text, one event
 * per line, so it crosses a pipe and a serial port alike. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/escape.h"
#include "runner/wire.h"

/* \\ \t \n \r, other control bytes as \xNN: a field never holds the tab
 * that separates fields or the newline that ends the line. */
static const kt__escape_rules wire_rules = {
    .as = { ['\\'] = "\\\\", ['\t'] = "\\t", ['\n'] = "\\n", ['\r'] = "\\r" },
};

/* Field f escaped, cut at KT__WIRE_FIELD_MAX bytes of it: the bytes it
 * takes, written to out[0..n) (out may be NULL when n is 0). */
static size_t put_field(char *out, size_t n, const char *f)
{
    return kt__escape_n(out, n, f, strnlen(f, KT__WIRE_FIELD_MAX), &wire_rules);
}

int kt__wire_send(int fd, const char *type, const char *const *fields, size_t n)
{
    size_t len = strlen(type) + 1, off;
    char *line;
    int rc = 0;

    if (n > KT__WIRE_MAX_FIELDS) {
        errno = EINVAL;
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        len += 1 + put_field(NULL, 0, fields[i] ? fields[i] : "");
    line = malloc(len);
    if (!line)
        return -1;
    off = strlen(type);
    memcpy(line, type, off);
    for (size_t i = 0; i < n; i++) {
        line[off++] = '\t';
        /* the room left holds this field and its NUL: the NUL lands where
         * the next tab or the final newline goes */
        off += put_field(line + off, len - off, fields[i] ? fields[i] : "");
    }
    line[off++] = '\n';
    /* One write: lines up to PIPE_BUF arrive whole even with several writers. */
    for (size_t done = 0; done < off;) {
        ssize_t w = write(fd, line + done, off - done);

        if (w < 0) {
            if (errno == EINTR)
                continue;
            rc = -1;
            break;
        }
        done += (size_t)w;
    }
    free(line);
    return rc;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Unescapes s in place; -1 on a malformed escape. */
static int unescape(char *s)
{
    char *w = s;

    for (char *r = s; *r; r++) {
        if (*r != '\\') {
            *w++ = *r;
            continue;
        }
        r++;
        switch (*r) {
        case '\\': *w++ = '\\'; break;
        case 't': *w++ = '\t'; break;
        case 'n': *w++ = '\n'; break;
        case 'r': *w++ = '\r'; break;
        case 'x': {
            int hi = hexval(r[1]), lo = hi < 0 ? -1 : hexval(r[2]);

            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
                return -1;   /* \x00 would cut the field short */
            *w++ = (char)(hi * 16 + lo);
            r += 2;
            break;
        }
        default:
            return -1;
        }
    }
    *w = '\0';
    return 0;
}

int kt__wire_split(char *line, kt__wire_msg *m)
{
    char *p = line;

    memset(m, 0, sizeof(*m));
    m->type = p;
    p = strchr(p, '\t');
    while (p) {
        *p++ = '\0';
        if (m->n == KT__WIRE_MAX_FIELDS)
            return -1;
        m->field[m->n++] = p;
        p = strchr(p, '\t');
    }
    if (!*m->type)
        return -1;
    for (size_t i = 0; i < m->n; i++)
        if (unescape((char *)m->field[i]) < 0)
            return -1;
    return 0;
}

int kt__wire_reader_init(kt__wire_reader *r)
{
    memset(r, 0, sizeof(*r));
    r->buf = malloc(KT__WIRE_LINE_MAX + 1);
    return r->buf ? 0 : -1;
}

void kt__wire_reader_fini(kt__wire_reader *r)
{
    free(r->buf);
    r->buf = NULL;
}

/* Hands every complete line in the buffer to fn; keeps the rest. */
static void dispatch(kt__wire_reader *r, void (*fn)(void *, char *), void *arg)
{
    size_t start = 0;

    for (size_t i = 0; i < r->len; i++) {
        if (r->buf[i] != '\n')
            continue;
        r->buf[i] = '\0';
        if (r->discarding)
            r->discarding = false;   /* the tail of an overlong line */
        else
            fn(arg, r->buf + start);
        start = i + 1;
    }
    memmove(r->buf, r->buf + start, r->len - start);
    r->len -= start;
    if (r->len == KT__WIRE_LINE_MAX) {
        /* Full and no newline: drop it and skip to the next one. */
        if (!r->discarding)
            r->overlong++;
        r->discarding = true;
        r->len = 0;
    }
}

int kt__wire_read(kt__wire_reader *r, int fd, void (*fn)(void *arg, char *line),
                  void *arg)
{
    for (;;) {
        ssize_t got = read(fd, r->buf + r->len, KT__WIRE_LINE_MAX - r->len);

        if (got < 0) {
            if (errno == EINTR)
                continue;
            return errno == EAGAIN ? 0 : -1;
        }
        if (got == 0) {
            /* A last line without its newline was cut by a death: drop it. */
            if (r->len && !r->discarding)
                r->overlong++;
            r->len = 0;
            return 1;
        }
        r->len += (size_t)got;
        dispatch(r, fn, arg);
    }
}

int kt__wire_send_claim(int fd, bool passed, const kt_claim_record *c, const char *prefix)
{
    char label[KT__WIRE_FIELD_MAX], message[KT__WIRE_FIELD_MAX], line[16];
    const char *f[8] = { label, c->op, c->expected, c->actual, message, c->file, line,
                         c->timed ? "timed" : "" };

    snprintf(label, sizeof(label), "%s%s", prefix, c->label);
    snprintf(message, sizeof(message), "%s%s", prefix, c->message);
    snprintf(line, sizeof(line), "%d", c->line);
    return kt__wire_send(fd, passed ? "PASS" : "FAIL", f, 8);
}

int kt__wire_write_line(int fd, const char *line)
{
    char buf[KT__WIRE_LINE_MAX + 2];
    size_t len = strlen(line);

    if (len + 1 > sizeof(buf)) {
        errno = E2BIG;
        return -1;
    }
    memcpy(buf, line, len);
    buf[len] = '\n';
    return write(fd, buf, len + 1) == (ssize_t)(len + 1) ? 0 : -1;
}

void kt__wire_send_end(int fd, const char *kind, const char *arg)
{
    const char *f[2] = { kind, arg };

    kt__wire_send(fd, "END", f, 2);
}
