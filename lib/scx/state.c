/*
 * What the kernel says about sched_ext: /sys/kernel/sched_ext/state,
 * root/ops, the counters of root/events, and its `sched_ext:` log lines.
 * See ktstr/scx.h and scx.h.
 *
 * root/ exists only while a scheduler is loaded, and root/events only on
 * kernels that count events (6.15 and later), so a missing file is told
 * apart by what is missing above it.
 */
#include "scx/scx.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/file.h"

#define EVENTS_MAX (1u << 16)   /* about 20 lines of 40 bytes today */
#define EV_PREFIX "SCX_EV_"
#define EV_PREFIX_LEN 7

/* Why dir/file (ENOENT) is missing: no sched_ext, no scheduler loaded,
 * or this kernel lacks the file. Fills err; returns -1. */
static int missing(const char *dir, const char *file, kt_err *err)
{
    char path[PATH_MAX];

    snprintf(path, sizeof(path), "%s/state", dir);
    if (access(path, F_OK) != 0)
        return kt_err_set(err, ENOENT, "this kernel has no sched_ext: no %s", path);
    if (!strncmp(file, "root/", 5)) {
        snprintf(path, sizeof(path), "%s/root", dir);
        if (access(path, F_OK) != 0)
            return kt_err_set(err, ENOENT, "no sched_ext scheduler is loaded: no %s", path);
    }
    return kt_err_set(err, ENOENT, "this kernel's sched_ext has no %s: no %s/%s", file, dir,
                      file);
}

/* One line of dir/file into buf, its newline dropped: the length. */
static int read_one(const char *dir, const char *file, char *buf, size_t cap, kt_err *err)
{
    char path[PATH_MAX];
    kt_err e = { 0 };
    ssize_t n;

    snprintf(path, sizeof(path), "%s/%s", dir, file);
    n = kt__read_file_buf(path, buf, cap, &e);
    if (n < 0) {
        if (e.code == ENOENT)
            return missing(dir, file, err);
        if (err)
            *err = e;
        return -1;
    }
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
        buf[--n] = '\0';
    return (int)n;
}

int kt__scx_state_in(const char *dir, char *buf, size_t cap, kt_err *err)
{
    return read_one(dir, "state", buf, cap, err);
}

int kt__scx_ops_in(const char *dir, char *buf, size_t cap, kt_err *err)
{
    return read_one(dir, "root/ops", buf, cap, err);
}

int kt_scx_state(char *buf, size_t cap, kt_err *err)
{
    return kt__scx_state_in(KT__SCX_SYSFS, buf, cap, err);
}

int kt_scx_ops(char *buf, size_t cap, kt_err *err)
{
    return kt__scx_ops_in(KT__SCX_SYSFS, buf, cap, err);
}

/* ---- events ------------------------------------------------------------ */

static bool name_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '_';
}

int kt__scx_events_parse(const char *text, size_t len, const char *what, kt_scx_events *ev,
                         kt_err *err)
{
    const char *p = text ? text : "", *end = p + (text ? len : 0);
    kt__vec v = KT__VEC_VIEW(ev->v, 0, ev->cap_);

    ev->n = 0;
    for (unsigned line = 1; p < end; line++) {
        const char *eol = memchr(p, '\n', (size_t)(end - p)), *q = p;
        kt_scx_counter c = { .value = 0 };
        size_t nlen;

        if (!eol)
            eol = end;
        while (q < eol && name_char(*q))
            q++;
        nlen = (size_t)(q - p);
        if (nlen == 0 && q == eol) {        /* an empty line */
            p = eol + 1;
            continue;
        }
        if (nlen == 0 || nlen >= sizeof(c.name) || q == eol || *q != ' ')
            goto bad;
        memcpy(c.name, p, nlen);
        while (q < eol && *q == ' ')
            q++;
        if (q == eol || *q < '0' || *q > '9')
            goto bad;
        for (; q < eol && *q >= '0' && *q <= '9'; q++) {
            unsigned d = (unsigned)(*q - '0');

            if (c.value > (UINT64_MAX - d) / 10)
                goto bad;
            c.value = c.value * 10 + d;
        }
        while (q < eol && (*q == ' ' || *q == '\r'))
            q++;
        if (q != eol)
            goto bad;
        if (kt__vec_push(&v, &c, err, what) < 0)
            goto fail;
        ev->v = v.v, ev->n = v.n, ev->cap_ = v.cap;
        p = eol + 1;
        continue;
bad:
        kt_err_set(err, EINVAL, "%s: line %u: expected `SCX_EV_<NAME> <count>`, got \"%.*s\"",
                   what, line, (int)((eol - p) > 60 ? 60 : (eol - p)), p);
        goto fail;
    }
    ev->v = v.v, ev->n = v.n, ev->cap_ = v.cap;
    return 0;
fail:
    ev->v = v.v, ev->cap_ = v.cap, ev->n = 0;
    return -1;
}

/* name of counter c matches `name`, either carrying the SCX_EV_ prefix. */
static bool same_event(const char *cname, const char *name)
{
    if (!strcmp(cname, name))
        return true;
    if (!strncmp(cname, EV_PREFIX, EV_PREFIX_LEN) && !strcmp(cname + EV_PREFIX_LEN, name))
        return true;
    return !strncmp(name, EV_PREFIX, EV_PREFIX_LEN) && !strcmp(cname, name + EV_PREFIX_LEN);
}

const kt_scx_counter *kt_scx_events_find(const kt_scx_events *ev, const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; i < ev->n; i++)
        if (same_event(ev->v[i].name, name))
            return &ev->v[i];
    return NULL;
}

void kt_scx_events_free(kt_scx_events *ev)
{
    kt__vec v = KT__VEC_VIEW(ev->v, ev->n, ev->cap_);

    kt__vec_free(&v);
    ev->v = NULL;
    ev->n = ev->cap_ = 0;
}

int kt__scx_events_read_in(const char *dir, kt_scx_events *ev, kt_err *err)
{
    char path[PATH_MAX];
    kt__vec text = KT__VEC_INIT(char);
    kt_err e = { 0 };
    int rc;

    ev->n = 0;
    snprintf(path, sizeof(path), "%s/root/events", dir);
    if (kt__read_file(path, EVENTS_MAX, &text, &e) < 0) {
        kt__vec_free(&text);
        if (e.code == ENOENT)
            return missing(dir, "root/events", err);
        if (err)
            *err = e;
        return -1;
    }
    rc = kt__scx_events_parse(text.v, text.n, path, ev, err);
    kt__vec_free(&text);
    return rc;
}

int kt_scx_events_read(kt_scx_events *ev, kt_err *err)
{
    return kt__scx_events_read_in(KT__SCX_SYSFS, ev, err);
}

int kt__scx_event_in(const char *dir, const char *name, uint64_t *value, kt_err *err)
{
    kt_scx_events ev = KT_SCX_EVENTS_INIT;
    const kt_scx_counter *c;
    size_t len;

    if (kt__scx_events_read_in(dir, &ev, err) < 0) {
        kt_scx_events_free(&ev);
        return -1;
    }
    c = kt_scx_events_find(&ev, name);
    if (c) {
        *value = c->value;
        kt_scx_events_free(&ev);
        return 0;
    }
    kt_err_set(err, ENOENT, "sched_ext event %s: not a counter of %s/root/events (it has",
               name ? name : "(null)", dir);
    for (size_t i = 0; err && i < ev.n; i++) {
        len = strlen(err->msg);
        snprintf(err->msg + len, sizeof(err->msg) - len, "%s %s", i ? "," : "",
                 ev.v[i].name + (strncmp(ev.v[i].name, EV_PREFIX, EV_PREFIX_LEN)
                                     ? 0 : EV_PREFIX_LEN));
    }
    if (err) {
        len = strlen(err->msg);
        snprintf(err->msg + len, sizeof(err->msg) - len, "%s)", ev.n ? "" : " none");
    }
    kt_scx_events_free(&ev);
    return -1;
}

int kt_scx_event(const char *name, uint64_t *value, kt_err *err)
{
    return kt__scx_event_in(KT__SCX_SYSFS, name, value, err);
}

/* ---- kernel log lines -------------------------------------------------- */

/* Copies src[0..n) into dst[0..cap) as a string, cut to fit. */
static void copy(char *dst, size_t cap, const char *src, size_t n)
{
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static bool starts(const char *p, const char *end, const char *word)
{
    size_t n = strlen(word);

    return (size_t)(end - p) >= n && !memcmp(p, word, n);
}

/* "<comm>[<pid>] failed to run for <t>s": fills comm and pid. */
static bool parse_stall(const char *p, const char *end, kt__scx_msg *out)
{
    static const char tail[] = "] failed to run for ";
    const char *close = NULL, *open;
    long pid = 0;

    for (const char *s = p; (s = memmem(s, (size_t)(end - s), tail, sizeof(tail) - 1));
         s++)
        close = s;
    if (!close || end[-1] != 's')
        return false;
    for (open = close; open > p && open[-1] != '['; open--)
        ;
    if (open == p || open == close)
        return false;
    for (const char *d = open; d < close; d++) {
        if (*d < '0' || *d > '9' || pid > 100000000)
            return false;
        pid = pid * 10 + (*d - '0');
    }
    copy(out->comm, sizeof(out->comm), p, (size_t)(open - 1 - p));
    out->pid = pid;
    return true;
}

bool kt__scx_msg_parse(const char *line, size_t len, kt__scx_msg *out)
{
    static const char tag[] = "sched_ext: ", sched[] = "BPF scheduler \"";
    const char *p, *end, *q;

    memset(out, 0, sizeof(*out));
    p = line ? memmem(line, len, tag, sizeof(tag) - 1) : NULL;
    if (!p)
        return false;
    end = line + len;
    p += sizeof(tag) - 1;
    while (end > p && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' '))
        end--;
    if (starts(p, end, sched)) {
        const char *name = p + sizeof(sched) - 1;

        q = memchr(name, '"', (size_t)(end - name));
        if (q) {
            copy(out->name, sizeof(out->name), name, (size_t)(q - name));
            q++;
            if (starts(q, end, " enabled")) {
                out->kind = KT__SCX_MSG_ENABLED;
                out->partial = starts(q + 8, end, " (partial)");
                copy(out->reason, sizeof(out->reason), "partial", out->partial ? 7 : 0);
                return true;
            }
            if (starts(q, end, " disabled (") && end[-1] == ')') {
                out->kind = KT__SCX_MSG_DISABLED;
                q += 11;
                copy(out->reason, sizeof(out->reason), q, (size_t)(end - 1 - q));
                return true;
            }
            if (starts(q, end, " errored, disabling")) {   /* before 6.12 */
                out->kind = KT__SCX_MSG_DISABLED;
                copy(out->reason, sizeof(out->reason), "errored", 7);
                return true;
            }
        }
        out->name[0] = '\0';
    } else {
        /* "<name>: <message>": an ops name has no spaces */
        for (q = p; q < end && (name_char(*q) || *q == '.'); q++)
            ;
        if (q > p && starts(q, end, ": ")) {
            copy(out->name, sizeof(out->name), p, (size_t)(q - p));
            q += 2;
            copy(out->reason, sizeof(out->reason), q, (size_t)(end - q));
            out->kind = parse_stall(q, end, out) ? KT__SCX_MSG_STALL : KT__SCX_MSG_EXIT;
            return true;
        }
    }
    out->kind = KT__SCX_MSG_OTHER;
    copy(out->reason, sizeof(out->reason), p, (size_t)(end - p));
    return true;
}

const char *kt__scx_msg_kind_name(kt__scx_msg_kind kind)
{
    switch (kind) {
    case KT__SCX_MSG_ENABLED:
        return "enabled";
    case KT__SCX_MSG_DISABLED:
        return "disabled";
    case KT__SCX_MSG_STALL:
        return "stall";
    case KT__SCX_MSG_EXIT:
        return "exit";
    case KT__SCX_MSG_OTHER:
        return "other";
    }
    return "?";
}
