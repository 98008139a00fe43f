/* kt_ctx_series: a scenario's series cross the wire to the parent, which
 * keeps them (bounded) for the point's artifacts. Both sides are here;
 * the line format is in series_wire.h. */
#include "runner/series_wire.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evidence/evidence.h"
#include "runner/point.h"

/* Room for the packed samples of one SAMPLES line: within the wire's
 * field bound, so nothing is cut, and the line within PIPE_BUF. */
#define PACK_MAX (KT__WIRE_FIELD_MAX - 48)

static uint64_t bits_of(double x)
{
    uint64_t u;

    memcpy(&u, &x, sizeof(u));
    return u;
}

static double double_of(uint64_t u)
{
    double x;

    memcpy(&x, &u, sizeof(x));
    return x;
}

/* s cut to KT__SERIES_NAME_MAX bytes (not inside a UTF-8 sequence). */
static void cut_name(char out[KT__SERIES_NAME_MAX + 1], const char *s)
{
    size_t n = strlen(s ? s : "");

    if (n > KT__SERIES_NAME_MAX) {
        n = KT__SERIES_NAME_MAX;
        while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
            n--;
    }
    memcpy(out, s ? s : "", n);
    out[n] = '\0';
}

/* ---- the child's side ------------------------------------------------- */

int kt_ctx_series(kt_ctx *ctx, const kt_series *s, const char *unit, double lo, double hi)
{
    const kt__run_ctx *rc = kt__run_ctx_of(ctx);

    if (!rc) {
        errno = EBADF;   /* not under the runner: nobody to hand it to */
        return -1;
    }
    if (!s) {
        errno = EINVAL;
        return -1;
    }
    if (!(rc->evidence & KT__EVIDENCE_SERIES))
        return 0;
    return kt__series_send(rc->wire_fd, s, unit, lo, hi);
}

int kt__series_send(int fd, const kt_series *s, const char *unit, double lo, double hi)
{
    char label[KT__SERIES_NAME_MAX + 1], u[KT__SERIES_NAME_MAX + 1];
    char los[20], his[20], counts[24], drops[24], pack[PACK_MAX + 48];
    const char *head[6] = { label, u, los, his, counts, drops };
    const char *line[2] = { label, pack };
    size_t n, send, len = 0;
    const uint64_t *t;
    const double *x;

    n = kt_series_count(s);
    send = n < KT_CTX_MAX_SAMPLES ? n : KT_CTX_MAX_SAMPLES;
    t = kt_series_times(s);
    x = kt_series_values(s);
    cut_name(label, kt_series_label(s));
    cut_name(u, unit);
    snprintf(los, sizeof(los), "%016" PRIx64, bits_of(lo));
    snprintf(his, sizeof(his), "%016" PRIx64, bits_of(hi));
    snprintf(counts, sizeof(counts), "%zu", send);
    snprintf(drops, sizeof(drops), "%zu", n - send);
    if (kt__wire_send(fd, "SERIES", head, 6) < 0)
        return -1;
    for (size_t i = 0; i < send; i++) {
        len += (size_t)snprintf(pack + len, sizeof(pack) - len, "%s%" PRIu64 ":%016" PRIx64,
                                len ? " " : "", t[i], bits_of(x[i]));
        if (len >= PACK_MAX || i + 1 == send) {
            if (kt__wire_send(fd, "SAMPLES", line, 2) < 0)
                return -1;
            len = 0;
        }
    }
    return 0;
}

/* ---- the parent's side ------------------------------------------------ */

static bool parse_u64(const char *s, int base, uint64_t *out)
{
    char *end;

    if (!((*s >= '0' && *s <= '9') || (base == 16 && ((*s >= 'a' && *s <= 'f') ||
                                                      (*s >= 'A' && *s <= 'F')))))
        return false;
    errno = 0;
    *out = strtoull(s, &end, base);
    return !*end && errno == 0;
}

static size_t samples_kept(const kt__result *r)
{
    const kt__evseries *s = r->series.v;
    size_t n = 0;

    for (size_t i = 0; i < r->series.n; i++)
        n += s[i].x.n;
    return n;
}

static bool series_start(kt__result *r, const kt__wire_msg *m)
{
    kt__evseries s = { 0 };
    uint64_t lo, hi, dropped;

    if (m->n != 6 || !parse_u64(m->field[2], 16, &lo) || !parse_u64(m->field[3], 16, &hi) ||
        !parse_u64(m->field[4], 10, &s.want) || !parse_u64(m->field[5], 10, &dropped))
        return false;
    r->series_dropped += dropped;
    if (r->series.elem == 0)
        r->series = (kt__vec)KT__VEC_INIT(kt__evseries);
    if (r->series.n >= KT__SERIES_MAX) {
        r->series_dropped += s.want;
        return true;
    }
    s.label = strdup(m->field[0]);
    s.unit = strdup(m->field[1]);
    s.lo = double_of(lo);
    s.hi = double_of(hi);
    s.t = (kt__vec)KT__VEC_INIT(uint64_t);
    s.x = (kt__vec)KT__VEC_INIT(double);
    if (!s.label || !s.unit || kt__vec_push(&r->series, &s, NULL, "series") < 0) {
        free(s.label);
        free(s.unit);
        r->series_dropped += s.want;
    }
    return true;
}

/* The last series named label that still expects samples, or NULL. */
static kt__evseries *open_series(kt__result *r, const char *label)
{
    kt__evseries *s = r->series.v;

    for (size_t i = r->series.n; i-- > 0;)
        if (s[i].t.n < s[i].want && strcmp(s[i].label, label) == 0)
            return &s[i];
    return NULL;
}

static bool series_samples(kt__result *r, const kt__wire_msg *m)
{
    kt__evseries *s;
    size_t room;
    const char *p;

    if (m->n != 2)
        return false;
    s = open_series(r, m->field[0]);
    room = KT__SERIES_MAX_SAMPLES - samples_kept(r);
    for (p = m->field[1]; *p;) {
        char *end;
        uint64_t t, x;

        errno = 0;
        if (*p < '0' || *p > '9')
            return false;
        t = strtoull(p, &end, 10);
        if (errno || *end != ':' || !((end[1] >= '0' && end[1] <= '9') ||
                                      (end[1] >= 'a' && end[1] <= 'f')))
            return false;
        x = strtoull(end + 1, &end, 16);
        if (errno || (*end != ' ' && *end))
            return false;
        p = *end ? end + 1 : end;
        if (!s)
            continue;   /* a series not kept: its SERIES line counted it */
        if (s->t.n >= s->want || room == 0 ||
            kt__vec_reserve(&s->t, 1, NULL, "series") < 0 ||
            kt__vec_reserve(&s->x, 1, NULL, "series") < 0) {
            r->series_dropped++;   /* over a bound, or out of memory */
            continue;
        }
        kt__vec_push(&s->t, &t, NULL, "series");
        kt__vec_push(&s->x, &(double){ double_of(x) }, NULL, "series");
        room--;
    }
    return true;
}

bool kt__series_line(kt__result *r, const kt__wire_msg *m)
{
    if (strcmp(m->type, "SERIES") == 0)
        return series_start(r, m);
    if (strcmp(m->type, "SAMPLES") == 0)
        return series_samples(r, m);
    return false;
}
