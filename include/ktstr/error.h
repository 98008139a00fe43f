/*
 * ktstr/error.h - one error type for every library call that can fail.
 *
 * A failing call returns -1 (or NULL) and, when handed a kt_err, fills it
 * with the errno and a sentence naming what failed, the operation and the
 * cause, ready to be a skip reason:
 *   "perf software group (tid 812): perf_event_open(task-clock): No such
 *    process (ESRCH: thread gone)"
 */
#ifndef KTSTR_ERROR_H
#define KTSTR_ERROR_H

#include <stddef.h>

#include "ktstr/api.h"

#ifdef __cplusplus
extern "C" {
#endif

#define KT_ERR_MSG_MAX 320

typedef struct kt_err {
    int code;                  /* errno value; 0 when the cause is not an errno */
    char msg[KT_ERR_MSG_MAX];  /* always NUL-terminated; "" when no error */
} kt_err;

/* Fills err (may be NULL) with code and a printf-style message; returns -1. */
KT_API int kt_err_set(kt_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Like kt_err_set, then appends ": <strerror(code)>" and, for the errno
 * values a capture can hit, a hint in parentheses (EACCES: perf_event_paranoid
 * or CAP_PERFMON; ENOENT/ENODEV: no such counter here; ESRCH: thread gone). */
KT_API int kt_err_sys(kt_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The symbolic name of an errno value ("ENOENT"), or "E?" when unknown. */
KT_API const char *kt_errno_name(int code);

/* The symbolic name of a signal ("SIGSEGV"), or "SIG?" when unknown. */
KT_API const char *kt_signal_name(int sig);

#ifdef __cplusplus
}
#endif
#endif
