/* A point's result: its life cycle (see result.h). */
#include "evidence/result.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "verdict/verdict_item.h"

/* Frees l's elements (each a malloc'd pointer) and l. */
static void free_all(kt__vec *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(*(void **)kt__vec_at(l, i));
    kt__vec_free(l);
}

void kt__series_free_all(kt__vec *series)
{
    kt__evseries *s = series->v;

    for (size_t i = 0; i < series->n; i++) {
        free(s[i].label);
        free(s[i].unit);
        kt__vec_free(&s[i].t);
        kt__vec_free(&s[i].x);
    }
    kt__vec_free(series);
}

/* What the body and its guest reported, empty. */
static void reported_init(kt__result *r)
{
    kt_verdict_init(&r->v);
    r->passes = (kt__vec)KT__VEC_INIT(struct kt__verdict_item *);
    r->console = (kt__vec)KT__VEC_INIT(char *);
    r->host_steal = (kt__vec)KT__VEC_INIT(kt__steal);
    r->ops = (kt__vec)KT__VEC_INIT(kt__opres);
    r->boot_steal = NAN;
    r->sched_log = (kt__vec)KT__VEC_INIT(char *);
    r->sched_out = (kt__vec)KT__VEC_INIT(char *);
    r->sched_dump = (kt__vec)KT__VEC_INIT(char *);
    r->sched_events = (kt__vec)KT__VEC_INIT(kt_scx_counter);
    r->series = (kt__vec)KT__VEC_INIT(kt__evseries);
    r->series_dropped = 0;
    r->sched_name = r->dropped = NULL;
    r->passes_dropped = 0;
    r->claims = r->failed = 0;
    r->done = r->vm = r->guest_end = r->sched_failed = r->sched_eject_expected = false;
    r->sched_attach_ms = -1;
    r->sched_has_detect = false;
}

static void reported_fini(kt__result *r)
{
    kt_verdict_fini(&r->v);
    free_all(&r->passes);
    free_all(&r->console);
    kt__vec_free(&r->host_steal);
    kt__vec_free(&r->ops);
    free_all(&r->sched_log);
    free_all(&r->sched_out);
    free_all(&r->sched_dump);
    kt__vec_free(&r->sched_events);
    kt__series_free_all(&r->series);
    free(r->sched_name);
    free(r->dropped);
}

void kt__result_init(kt__result *r)
{
    memset(r, 0, sizeof(*r));
    reported_init(r);
    r->rmdirs = (kt__vec)KT__VEC_INIT(char *);
    r->cleanup = (kt__vec)KT__VEC_INIT(char *);
    r->forward_fd = -1;
    r->boot_ms = -1;
    r->foreign_load = NAN;
}

void kt__result_fini(kt__result *r)
{
    reported_fini(r);
    free_all(&r->rmdirs);
    free_all(&r->cleanup);
    memset(r, 0, sizeof(*r));
}

bool kt__result_keep_str(kt__vec *l, const char *s)
{
    char *copy = strdup(s);

    if (copy && kt__vec_push(l, &copy, NULL, "runner: result") == 0)
        return true;
    free(copy);
    return false;
}
