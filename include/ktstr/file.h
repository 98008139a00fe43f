/*
 * ktstr/file.h - small files (/proc, /sys, cgroup knobs) read whole.
 *
 *   char buf[64];
 *   if (kt_read_file("/proc/self/comm", buf, sizeof(buf), &err) >= 0)
 *       ...
 *   if (kt_read_long("/proc/sys/kernel/sched_rt_runtime_us", &runtime, &err) == 0)
 *       ...
 *
 * The library reads its own small files the same way: from offset 0 to
 * end of file, resuming after signals, and a file that does not fit is
 * an error rather than a silently cut text.
 */
#ifndef KTSTR_FILE_H
#define KTSTR_FILE_H

#include <stddef.h>

#include "ktstr/api.h"
#include "ktstr/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Reads the whole file at path into buf (cap bytes, NUL-terminated):
 * its length, or -1 with err naming the path and what failed (open,
 * read, or "larger than <cap - 1> bytes"), buf "" then. */
KT_API int kt_read_file(const char *path, char *buf, size_t cap, kt_err *err);

/* The number a one-line file holds (a sysctl, a sysfs counter), leading
 * blanks allowed, anything after the digits ignored: 0 with *out set, or
 * -1 with err naming the path (unreadable, or "not a number"). */
KT_API int kt_read_long(const char *path, long *out, kt_err *err);

#ifdef __cplusplus
}
#endif
#endif
