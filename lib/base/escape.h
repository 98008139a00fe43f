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
 * included, as itself. A table with `bad_utf8` set passes only well-formed
 * UTF-8 sequences (Unicode's table 3-7: no overlong forms, surrogates or
 * code points above U+10FFFF) and writes each byte of anything else as
 * bad_utf8: for formats whose readers reject ill-formed text (JSON, XML).
 *
 * The tables of the formats more than one file writes live in escape.c:
 * kt__escape_json, kt__escape_xml and kt__escape_csv below.
 */
#ifndef KTSTR_LIB_BASE_ESCAPE_H
#define KTSTR_LIB_BASE_ESCAPE_H

#include <stddef.h>

#include "base/vec.h"

/* The longest form a byte takes in any table (JSON's \u00NN, XML's
 * &quot;); tables keep their forms within it, so callers can size a
 * buffer per byte. */
#define KT__ESCAPE_MAX_WIDTH 6

typedef struct kt__escape_rules {
    const char *as[128];     /* the form of an ASCII byte; NULL: the rules below */
    const char *ctrl;        /* the form of any other control byte; NULL: \xNN */
    const char *bad_utf8;    /* the form of each byte of ill-formed UTF-8;
                                NULL: bytes >= 0x80 as themselves */
} kt__escape_rules;

/* The inside of a JSON string (RFC 8259): \" \\ \b \f \n \r \t, other
 * control bytes as \u00NN, ill-formed UTF-8 as \ufffd. */
extern const kt__escape_rules kt__escape_json;
/* XML and HTML text and attribute values: & < > " ' as entities; control
 * bytes (which XML 1.0 forbids even as references) other than \t \n \r
 * and ill-formed UTF-8 as U+FFFD. */
extern const kt__escape_rules kt__escape_xml;
/* A CSV field written between double quotes (RFC 4180): " doubled,
 * control bytes as spaces (one record per line), ill-formed UTF-8 as
 * U+FFFD. */
extern const kt__escape_rules kt__escape_csv;

/* Writes s[0..len) escaped by rules into out[0..n), NUL-terminated when
 * n > 0 (cut short, and never inside a byte's form, when it does not
 * fit), and returns the full length the escaped text needs, without its
 * NUL, snprintf-style: out may be NULL when n is 0. Stops early at a NUL
 * in s. */
size_t kt__escape_n(char *out, size_t n, const char *s, size_t len,
                    const kt__escape_rules *rules);

/* kt__escape_n of the whole string s. */
size_t kt__escape(char *out, size_t n, const char *s, const kt__escape_rules *rules);

/* Appends s (NULL: "") escaped by rules to a vec of char, NUL kept
 * after it; 0, or -1 as kt__vec_append. */
int kt__escape_append(kt__vec *out, const char *s, const kt__escape_rules *rules, kt_err *err,
                      const char *what);

#endif
