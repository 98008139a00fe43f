/*
 * lib/base/escape.h - one table-driven escaper for every text format the
 * library writes (private).
 *
 * A context (the wire, a YAML string, a TAP description, a stderr line)
 * is a small table saying how each byte is written:
 *
 *   static const kt__escape_rules yaml = {
 *       .as = { ['"'] = "\\\"", ['\\'] = "\\\\", ['\n'] = "\\n" },
 *       .ctrl = NULL,                     // other control bytes as \xNN
 *   };
 *   size_t need = kt__escape(NULL, 0, s, &yaml);    // measure
 *   kt__escape(buf, sizeof(buf), s, &yaml);          // write
 *
 * Bytes with an entry in `as` are written as that string; other control
 * bytes (0x00-0x1f and 0x7f) as `ctrl`, or as \xNN (two lowercase hex
 * digits) when ctrl is NULL; everything else, bytes >= 0x80 (UTF-8)
 * included, as itself.
 */
#ifndef KTSTR_LIB_BASE_ESCAPE_H
#define KTSTR_LIB_BASE_ESCAPE_H

#include <stddef.h>

/* The longest form a byte takes under the \xNN rule; tables should keep
 * their own forms within it, so callers can size a buffer per byte. */
#define KT__ESCAPE_MAX_WIDTH 4

typedef struct kt__escape_rules {
    const char *as[128];     /* the form of an ASCII byte; NULL: the rules below */
    const char *ctrl;        /* the form of any other control byte; NULL: \xNN */
} kt__escape_rules;

/* Writes s[0..len) escaped by rules into out[0..n), NUL-terminated when
 * n > 0 (cut short, and never inside a byte's form, when it does not
 * fit), and returns the full length the escaped text needs, without its
 * NUL, snprintf-style: out may be NULL when n is 0. Stops early at a NUL
 * in s. */
size_t kt__escape_n(char *out, size_t n, const char *s, size_t len,
                    const kt__escape_rules *rules);

/* kt__escape_n of the whole string s. */
size_t kt__escape(char *out, size_t n, const char *s, const kt__escape_rules *rules);

#endif
