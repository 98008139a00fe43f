/* The scenario registry: KT_SCENARIO constructors fill it before main.
 * It is the only mutable global state of the library, by design: the
 * constructors have nowhere else to put what they register. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "runner/runner.h"

static kt_scenario registry[KT__MAX_SCENARIOS];
static size_t registered, overflowed, null_given;

void kt_register(const kt_scenario *s)
{
    if (!s) {
        null_given++;
        return;
    }
    if (registered == KT__MAX_SCENARIOS) {
        overflowed++;   /* reported by kt__registry_get, not here: no stderr yet */
        return;
    }
    registry[registered++] = *s;
}

/* Constructors run in no guaranteed order: source order is file, then line. */
static int by_source(const void *a, const void *b)
{
    const kt_scenario *x = a, *y = b;
    int c = strcmp(x->file ? x->file : "", y->file ? y->file : "");

    if (c)
        return c;
    return (x->line > y->line) - (x->line < y->line);
}

int kt__registry_get(const kt_scenario **list, size_t *n, kt_err *err)
{
    if (overflowed)
        return kt_err_set(err, E2BIG, "too many scenarios: %zu registered, at most %d",
                          registered + overflowed, KT__MAX_SCENARIOS);
    if (null_given)
        return kt_err_set(err, EINVAL, "kt_register called with NULL %zu time(s)",
                          null_given);
    for (size_t i = 0; i < registered; i++)
        if (!registry[i].name || !*registry[i].name || !registry[i].fn)
            return kt_err_set(err, 0, "scenario #%zu (%s:%d) has no name or no body",
                              i + 1, registry[i].file ? registry[i].file : "?",
                              registry[i].line);
    qsort(registry, registered, sizeof(registry[0]), by_source);
    /* Duplicates: two files may define the same static name. O(n^2) on a
     * few hundred names costs nothing next to one fork. */
    for (size_t i = 0; i < registered; i++)
        for (size_t j = i + 1; j < registered; j++)
            if (strcmp(registry[i].name, registry[j].name) == 0)
                return kt_err_set(err, 0, "scenario %s defined twice (%s:%d and %s:%d)",
                                  registry[i].name, registry[i].file, registry[i].line,
                                  registry[j].file, registry[j].line);
    *list = registry;
    *n = registered;
    return 0;
}
