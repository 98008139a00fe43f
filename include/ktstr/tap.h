/*
 * ktstr/tap.h - a TAP 13 writer that prove 3.44 reads.
 *
 *   kt_tap t;
 *   kt_tap_init_file(&t, stdout);
 *   kt_tap_version(&t);                       // "TAP version 13"
 *   kt_tap_plan(&t, 2);                       // "1..2"
 *   kt_tap_point(&t, false, 1, "starve_none", KT_TAP_NONE, NULL);
 *   kt_tap_yaml_str(&t, "message", "1 of 4 claims failed");
 *   kt_tap_yaml_list(&t, "notes");
 *   kt_tap_yaml_item_str(&t, "p99 gap 3.2 ms");
 *   kt_tap_yaml_close(&t);                    // closes "notes"
 *   kt_tap_end(&t);                           // writes the point at once
 *   kt_tap_fini(&t);
 *
 * A point and its YAML block are built in memory and written in one go by
 * kt_tap_end, so a crash or an error never leaves half a block on the
 * stream (prove's YAML reader would swallow every later line). Names and
 * directive reasons escape '#' and '\' and turn control characters into
 * spaces (a TAP line is one line). YAML values are double-quoted strings
 * with \" \\ \t \n \r and \xNN escapes, the only form prove 3.44 reads
 * back exactly; an empty list or map is written as [] or {}.
 */
#ifndef KTSTR_TAP_H
#define KTSTR_TAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ktstr/api.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum kt_tap_directive { KT_TAP_NONE, KT_TAP_SKIP, KT_TAP_TODO } kt_tap_directive;

/* Deepest YAML nesting (maps and lists) a point may use. */
#define KT_TAP_MAX_DEPTH 8

/* The writer. Treat the fields as private. */
typedef struct kt_tap {
    FILE *fp;              /* the stream, or NULL when writing to fd */
    int fd;
    char *buf;             /* the point being built */
    size_t len, cap;
    size_t line_len;       /* length of the point's own line in buf */
    bool in_point, in_yaml, pending_dash;
    int err;               /* first errno while building the point */
    int depth;
    struct kt_tap_frame {
        bool is_list, empty;
        int indent;
    } stack[KT_TAP_MAX_DEPTH];
} kt_tap;

/* Writes to a stream (flushed after every line or point). */
KT_API void kt_tap_init_file(kt_tap *t, FILE *fp);
/* Writes to a file descriptor with write(2). */
KT_API void kt_tap_init_fd(kt_tap *t, int fd);
/* Frees the buffer; a point still open is dropped. */
KT_API void kt_tap_fini(kt_tap *t);

/* Each of these writes one complete line and returns 0, or -1 with errno. */
/* "TAP version 13". */
KT_API int kt_tap_version(kt_tap *t);
/* "1..n". */
KT_API int kt_tap_plan(kt_tap *t, unsigned n);
/* "1..0 # SKIP reason": nothing to run, and why. */
KT_API int kt_tap_plan_skip_all(kt_tap *t, const char *reason);
/* "# text" (a diagnostic, shown by prove -v). */
KT_API int kt_tap_comment(kt_tap *t, const char *text);
/* "Bail out! reason": tells prove to stop everything. */
KT_API int kt_tap_bail_out(kt_tap *t, const char *reason);

/* Starts test point n: "ok n - name", "not ok n - name", with
 * " # SKIP reason" or " # TODO reason" for a directive. Nothing is written
 * until kt_tap_end. */
KT_API int kt_tap_point(kt_tap *t, bool ok, unsigned n, const char *name,
                        kt_tap_directive dir, const char *reason);

/* YAML under the current point; the block ("  ---") opens on first use.
 * Keys are identifiers ([A-Za-z0-9_]); values are quoted and escaped. */
/* key: "value" (in a map) */
KT_API int kt_tap_yaml_str(kt_tap *t, const char *key, const char *value);
/* key: 123 */
KT_API int kt_tap_yaml_int(kt_tap *t, const char *key, int64_t value);
/* key: "formatted" (printf-style) */
KT_API int kt_tap_yaml_strf(kt_tap *t, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* key: followed by a nested map / list; end it with kt_tap_yaml_close. */
KT_API int kt_tap_yaml_map(kt_tap *t, const char *key);
KT_API int kt_tap_yaml_list(kt_tap *t, const char *key);
/* In a list: - "value" */
KT_API int kt_tap_yaml_item_str(kt_tap *t, const char *value);
/* In a list: a map as the next item ("- key: ..."); close it too. */
KT_API int kt_tap_yaml_item_map(kt_tap *t);
/* Ends the innermost open map or list. */
KT_API int kt_tap_yaml_close(kt_tap *t);

/* Closes any open YAML ("  ...") and writes the point in one write.
 * On an error while building, the point line is written without its YAML
 * and -1 is returned. */
KT_API int kt_tap_end(kt_tap *t);

/* Appends s to out (size n, NUL-terminated, truncated) with '#' and '\'
 * escaped and control characters as spaces; returns the length needed. */
KT_API size_t kt_tap_escape_desc(char *out, size_t n, const char *s);
/* Appends s as a YAML double-quoted string (quotes included) in the same
 * way; returns the length needed. */
KT_API size_t kt_tap_quote_yaml(char *out, size_t n, const char *s);

#ifdef __cplusplus
}
#endif
#endif
