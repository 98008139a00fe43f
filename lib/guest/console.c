/* The guest's console log: did the kernel panic, and its last lines. */
#include "guest/guest.h"

#include <string.h>

/* Lines that mean the guest kernel failed (with oops=panic each ends in a
 * panic, but the log may stop before the panic line is flushed). */
static const char *const fatal[] = {
    "Kernel panic - not syncing", "Oops:", "BUG:", "general protection fault",
    "kernel BUG at",
};

bool kt__console_panicked(const char *text)
{
    return kt__console_fatal(text, 0) != NULL;
}

const char *kt__console_fatal(const char *text, unsigned before)
{
    const char *first = NULL;

    for (size_t i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++) {
        const char *at = strstr(text, fatal[i]);

        if (at && (!first || at < first))
            first = at;
    }
    if (!first)
        return NULL;
    while (first > text && first[-1] != '\n')
        first--;
    for (; before > 0 && first > text; before--) {
        first--;   /* onto the previous line's newline */
        while (first > text && first[-1] != '\n')
            first--;
    }
    return first;
}

size_t kt__console_head(const char *text, size_t want, const char **starts, size_t *lens)
{
    size_t got = 0;

    for (const char *p = text; *p && got < want;) {
        size_t len = strcspn(p, "\n");
        size_t l = len;

        while (l > 0 && p[l - 1] == '\r')
            l--;
        if (l > 0) {
            starts[got] = p;
            lens[got] = l;
            got++;
        }
        p += len + (p[len] == '\n');
    }
    return got;
}

size_t kt__console_tail(const char *text, size_t want, const char **starts,
                        size_t *lens)
{
    size_t end = strlen(text), got = 0;

    while (end > 0 && (text[end - 1] == '\n' || text[end - 1] == '\r'))
        end--;
    while (end > 0 && got < want) {
        size_t b = end;

        while (b > 0 && text[b - 1] != '\n')
            b--;
        size_t len = end - b;

        while (len > 0 && text[b + len - 1] == '\r')
            len--;
        if (len > 0) {
            starts[got] = text + b;
            lens[got] = len;
            got++;
        }
        end = b > 0 ? b - 1 : 0;
    }
    /* Oldest first. */
    for (size_t i = 0; i < got / 2; i++) {
        const char *s = starts[i];
        size_t l = lens[i];

        starts[i] = starts[got - 1 - i];
        lens[i] = lens[got - 1 - i];
        starts[got - 1 - i] = s;
        lens[got - 1 - i] = l;
    }
    return got;
}
