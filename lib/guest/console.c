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
    for (size_t i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++)
        if (strstr(text, fatal[i]))
            return true;
    return false;
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
