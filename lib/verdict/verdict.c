/*
 * The verdict: what it keeps (failures, notes, a skip reason), within
 * bounds, and the sink that sees each event as it happens.
 *
 * Memory is bounded whatever a scenario does: at most
 * KT_VERDICT_MAX_FAILURES failures and KT_VERDICT_MAX_NOTES notes are
 * kept, each string cut to KT_VERDICT_STR_MAX bytes; the rest are counted
 * in one "N more ... not kept" entry. A failure that cannot be allocated
 * is counted the same way, so running out of memory never turns a failure
 * into a pass.
 */
#include "verdict/verdict_item.h"

#include "base/vec.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CUT_MARK "...[cut]"

#define CUT_LEN (sizeof(CUT_MARK) - 1)

/* Where to cut a string of more than max bytes so that it plus the cut
 * mark fits in max: never inside a UTF-8 sequence (s[max] must exist). */
static size_t cut_at(const char *s, size_t max)
{
    size_t n = max - CUT_LEN;

    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    return n;
}

/* Bytes that put_str needs for prefix ": " s cut to max, with its NUL. */
static size_t str_size(const char *prefix, const char *s, size_t max)
{
    size_t n = (prefix ? strlen(prefix) + 2 : 0) + strlen(s);

    return (n > max ? max : n) + 1;
}

/* Writes prefix ": " s (prefix may be NULL) at dst, cut to max bytes
 * (max > CUT_LEN) and ending in CUT_MARK when cut; returns the byte after
 * its NUL. */
static char *put_str(char *dst, const char *prefix, const char *s, size_t max)
{
    size_t plen = prefix ? strlen(prefix) : 0, slen = strlen(s);
    size_t head = prefix ? plen + 2 : 0, total = head + slen, n, i;

    /* copy up to max + 1 bytes of the joined string, then cut it */
    n = total > max ? max + 1 : total;
    for (i = 0; i < n; i++) {
        if (i < plen)
            dst[i] = prefix[i];
        else if (i < head)
            dst[i] = i == plen ? ':' : ' ';
        else
            dst[i] = s[i - head];
    }
    if (total > max) {
        n = cut_at(dst, max);
        memcpy(dst + n, CUT_MARK, CUT_LEN);
        n += CUT_LEN;
    }
    dst[n] = '\0';
    return dst + n + 1;
}

static const char *or_empty(const char *s)
{
    return s ? s : "";
}

/* Appends item to a growing array of item pointers (fields of the public
 * kt_verdict, grown as a kt__vec); false when out of memory, and the
 * caller counts the item as not kept. */
static bool push_item(struct kt__verdict_item ***items, size_t *kept,
                      size_t *cap, struct kt__verdict_item *item)
{
    kt__vec a = KT__VEC_VIEW(*items, *kept, *cap);

    if (kt__vec_push(&a, &item, NULL, "verdict") < 0)
        return false;
    *items = a.v;
    *kept = a.n;
    *cap = a.cap;
    return true;
}

char *kt__more_not_kept(char buf[KT__MORE_MAX], uint64_t n, const char *what)
{
    snprintf(buf, KT__MORE_MAX, "%llu more %s not kept", (unsigned long long)n, what);
    return buf;
}

/* Rewrites the "N more <what> not kept" entry, allocating it the first
 * time; returns its text, or a static text when out of memory. */
static const char *update_more(struct kt__verdict_item **more, uint64_t n,
                               const char *what)
{
    struct kt__verdict_item *m = *more;

    if (!m) {
        m = calloc(1, sizeof(*m) + KT__MORE_MAX);
        if (!m)
            return "more not kept (out of memory)";
        m->rec.label = m->rec.expected = m->rec.actual = m->rec.file = "";
        m->rec.op = "dropped";
        m->rec.message = m->buf;
        *more = m;
    }
    return kt__more_not_kept(m->buf, n, what);
}

static void emit(kt_verdict *v, kt_event ev, const kt_claim_record *rec,
                 const char *text)
{
    if (v->sink)
        v->sink(v->sink_arg, ev, rec, text);
}

static void drop_failures(kt_verdict *v, uint64_t n)
{
    const char *text;

    v->failures_dropped += n;
    text = update_more(&v->failures_more, v->failures_dropped, "failures");
    emit(v, KT_EVENT_DROPPED, NULL, text);
}

static void drop_notes(kt_verdict *v, uint64_t n)
{
    const char *text;

    v->notes_dropped += n;
    text = update_more(&v->notes_more, v->notes_dropped, "notes");
    emit(v, KT_EVENT_DROPPED, NULL, text);
}

struct kt__verdict_item *kt__verdict_item_new(const kt_claim_record *rec,
                                              const char *prefix)
{
    const size_t max = KT_VERDICT_STR_MAX;
    const char *label = or_empty(rec->label), *op = or_empty(rec->op);
    const char *expected = or_empty(rec->expected);
    const char *actual = or_empty(rec->actual), *file = or_empty(rec->file);
    const char *message = or_empty(rec->message);
    struct kt__verdict_item *it;
    size_t size;
    char *p;

    size = str_size(prefix, label, max) + str_size(NULL, op, max) +
           str_size(NULL, expected, max) + str_size(NULL, actual, max) +
           str_size(NULL, file, max) + str_size(prefix, message, 2 * max);
    it = malloc(sizeof(*it) + size);
    if (!it)
        return NULL;
    p = it->buf;
    it->rec.label = p;
    p = put_str(p, prefix, label, max);
    it->rec.op = p;
    p = put_str(p, NULL, op, max);
    it->rec.expected = p;
    p = put_str(p, NULL, expected, max);
    it->rec.actual = p;
    p = put_str(p, NULL, actual, max);
    it->rec.file = p;
    p = put_str(p, NULL, file, max);
    it->rec.message = p;
    put_str(p, prefix, message, 2 * max);
    it->rec.line = rec->line;
    it->rec.passed = rec->passed;
    it->rec.timed = rec->timed;
    return it;
}

/* Keeps a copy of rec with prefix on its label and message. */
static void add_failure(kt_verdict *v, const kt_claim_record *rec,
                        const char *prefix)
{
    struct kt__verdict_item *it;

    v->failed++;
    if (v->failures_kept >= KT_VERDICT_MAX_FAILURES) {
        drop_failures(v, 1);
        return;
    }
    it = kt__verdict_item_new(rec, prefix);
    if (!it) {
        drop_failures(v, 1);
        return;
    }
    it->rec.passed = false;
    it->rec.timed = rec->timed || v->timing;
    if (!push_item(&v->failures, &v->failures_kept, &v->failures_cap, it)) {
        free(it);
        drop_failures(v, 1);
        return;
    }
    emit(v, KT_EVENT_FAIL, &it->rec, NULL);
}

void kt__verdict_cut(char *dst, const char *s)
{
    put_str(dst, NULL, s, KT_VERDICT_STR_MAX);
}

void kt__verdict_add_failure(kt_verdict *v, const kt_claim_record *rec)
{
    add_failure(v, rec, NULL);
}

static void add_note(kt_verdict *v, const char *prefix, const char *text)
{
    struct kt__verdict_item *it;

    if (v->notes_kept >= KT_VERDICT_MAX_NOTES) {
        drop_notes(v, 1);
        return;
    }
    it = calloc(1, sizeof(*it) + str_size(prefix, text, KT_VERDICT_STR_MAX));
    if (!it) {
        drop_notes(v, 1);
        return;
    }
    it->rec.label = it->rec.op = it->rec.expected = it->rec.actual = "";
    it->rec.file = "";
    it->rec.message = it->buf;
    put_str(it->buf, prefix, text, KT_VERDICT_STR_MAX);
    if (!push_item(&v->notes, &v->notes_kept, &v->notes_cap, it)) {
        free(it);
        drop_notes(v, 1);
        return;
    }
    emit(v, KT_EVENT_NOTE, NULL, it->buf);
}

/* Formats into buf (KT_VERDICT_STR_MAX + 1 bytes), marking a cut. */
static void vformat_cut(char *buf, const char *fmt, va_list ap)
{
    const size_t size = KT_VERDICT_STR_MAX + 1;
    int n = vsnprintf(buf, size, fmt ? fmt : "", ap);
    size_t keep;

    if (n < 0) {
        snprintf(buf, size, "(bad format \"%.64s\")", fmt ? fmt : "");
        return;
    }
    if ((size_t)n < size)
        return;
    keep = cut_at(buf, KT_VERDICT_STR_MAX);
    memcpy(buf + keep, CUT_MARK, sizeof(CUT_MARK));
}

void kt_verdict_init(kt_verdict *v)
{
    memset(v, 0, sizeof(*v));
}

static void free_items(struct kt__verdict_item **items, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        free(items[i]);
    free(items);
}

/* The skip reason used when its copy cannot be allocated. */
static const char skip_no_memory[] = "skipped (reason lost: out of memory)";

void kt_verdict_fini(kt_verdict *v)
{
    if (!v)
        return;
    free_items(v->failures, v->failures_kept);
    free_items(v->notes, v->notes_kept);
    free(v->failures_more);
    free(v->notes_more);
    if (v->skip_reason != skip_no_memory)
        free(v->skip_reason);
    memset(v, 0, sizeof(*v));
}

void kt_verdict_set_sink(kt_verdict *v, kt_verdict_sink sink, void *arg,
                         bool want_passes)
{
    v->sink = sink;
    v->sink_arg = arg;
    v->sink_passes = sink && want_passes;
}

bool kt_verdict_timing(kt_verdict *v, bool on)
{
    bool was = v->timing;

    v->timing = on;
    return was;
}

void kt_verdict_note(kt_verdict *v, const char *fmt, ...)
{
    char buf[KT_VERDICT_STR_MAX + 1];
    va_list ap;

    va_start(ap, fmt);
    vformat_cut(buf, fmt, ap);
    va_end(ap);
    add_note(v, NULL, buf);
}

void kt_verdict_note_hook(void *v, const char *msg)
{
    kt_verdict_note(v, "%s", msg);
}

static void set_skip(kt_verdict *v, const char *reason)
{
    if (!v->skip_reason) {
        v->skip_reason = strdup(reason);
        if (!v->skip_reason)
            v->skip_reason = (char *)skip_no_memory;
    }
    emit(v, KT_EVENT_SKIP, NULL, reason);
}

void kt_verdict_skip(kt_verdict *v, const char *fmt, ...)
{
    char buf[KT_VERDICT_STR_MAX + 1];
    va_list ap;

    va_start(ap, fmt);
    vformat_cut(buf, fmt, ap);
    va_end(ap);
    set_skip(v, buf);
}

void kt_verdict_merge(kt_verdict *dst, const kt_verdict *src, const char *prefix)
{
    /* counts taken first, so merging a verdict into itself terminates */
    size_t nfail = src->failures_kept, nnote = src->notes_kept, i;
    uint64_t fdrop = src->failures_dropped, ndrop = src->notes_dropped;
    uint64_t claims = src->claims;
    const char *skip = src->skip_reason;

    if (prefix && !*prefix)
        prefix = NULL;
    dst->claims += claims;
    for (i = 0; i < nfail; i++)
        add_failure(dst, &src->failures[i]->rec, prefix);
    if (fdrop) {
        dst->failed += fdrop;
        drop_failures(dst, fdrop);
    }
    for (i = 0; i < nnote; i++)
        add_note(dst, prefix, src->notes[i]->rec.message);
    if (ndrop)
        drop_notes(dst, ndrop);
    if (skip) {
        char buf[KT_VERDICT_STR_MAX + 1];

        snprintf(buf, sizeof(buf), "skipped: %s", skip);
        add_note(dst, prefix, buf);
    }
}

bool kt_verdict_passed(const kt_verdict *v)
{
    return v->failed == 0;
}

const char *kt_outcome_name(kt_outcome o)
{
    /* The one place an outcome becomes text (TAP severity, artifacts). */
    static const char *const names[KT_OUTCOME_N] = {
        [KT_OUTCOME_PASS] = "pass",       [KT_OUTCOME_FAIL] = "fail",
        [KT_OUTCOME_SKIP] = "skip",       [KT_OUTCOME_CRASH] = "crash",
        [KT_OUTCOME_TIMEOUT] = "timeout", [KT_OUTCOME_PANIC] = "panic",
        [KT_OUTCOME_SCHEDULER] = "scheduler", [KT_OUTCOME_ERROR] = "error",
        [KT_OUTCOME_INCONCLUSIVE] = "inconclusive",
    };

    return (unsigned)o < KT_OUTCOME_N ? names[o] : "?";
}

kt_outcome kt_verdict_outcome(const kt_verdict *v)
{
    if (v->failed)
        return KT_OUTCOME_FAIL;
    return v->skip_reason ? KT_OUTCOME_SKIP : KT_OUTCOME_PASS;
}

const char *kt_verdict_skip_reason(const kt_verdict *v)
{
    return v->skip_reason;
}

uint64_t kt_verdict_claims(const kt_verdict *v)
{
    return v->claims;
}

uint64_t kt_verdict_failed(const kt_verdict *v)
{
    return v->failed;
}

size_t kt_verdict_failure_count(const kt_verdict *v)
{
    return v->failures_kept + (v->failures_dropped && v->failures_more);
}

const kt_claim_record *kt_verdict_failure(const kt_verdict *v, size_t i)
{
    if (i < v->failures_kept)
        return &v->failures[i]->rec;
    if (i == v->failures_kept && v->failures_dropped && v->failures_more)
        return &v->failures_more->rec;
    return NULL;
}

size_t kt_verdict_note_count(const kt_verdict *v)
{
    return v->notes_kept + (v->notes_dropped && v->notes_more);
}

const char *kt_verdict_note_text(const kt_verdict *v, size_t i)
{
    if (i < v->notes_kept)
        return v->notes[i]->rec.message;
    if (i == v->notes_kept && v->notes_dropped && v->notes_more)
        return v->notes_more->rec.message;
    return NULL;
}
