/*
 * lib/base/file.h - small files read whole (private).
 *
 * The one way the library reads a /proc, /sys or cgroup file, or a file
 * descriptor's whole contents (a KVM stats fd): read from offset 0 until
 * end of file, retrying EINTR, bounded, NUL-terminated. A file larger
 * than the bound is an error (E2BIG), never a silently truncated text a
 * parser would take for the whole; every error names the path (or `what`).
 *
 *   kt__vec text = KT__VEC_INIT(char);
 *   if (kt__read_file("/proc/self/mountinfo", 1 << 24, &text, err) < 0)
 *       return -1;             // err: "/proc/self/mountinfo: open: ..."
 *   parse(text.v, text.n);     // text.v[text.n] == '\0'
 *   kt__vec_free(&text);
 */
#ifndef KTSTR_LIB_BASE_FILE_H
#define KTSTR_LIB_BASE_FILE_H

#include <stddef.h>
#include <sys/types.h>

#include "base/vec.h"
#include "ktstr/error.h"

/* Reads all of fd from offset 0 (pread: the fd's own offset is left as it
 * was) into out, a kt__vec of char, replacing what it held. 0 with
 * out->n bytes and a NUL after them, or -1 with err ("<what>: read: ...",
 * "<what>: larger than <max> bytes", "<what>: out of memory ...") and
 * out emptied (its memory kept for the next read). */
int kt__read_fd(int fd, const char *what, size_t max, kt__vec *out, kt_err *err);

/* kt__read_fd of the file at path, opened and closed here; errors name
 * the path ("<path>: open: ..."). */
int kt__read_file(const char *path, size_t max, kt__vec *out, kt_err *err);

/* The file at path into buf[0..cap) without allocating: its length
 * (at most cap - 1) with buf NUL-terminated, or -1 with err as above
 * ("<path>: larger than <cap - 1> bytes" when it does not fit) and buf "". */
ssize_t kt__read_file_buf(const char *path, char *buf, size_t cap, kt_err *err);

/* Writes val to the file at path with one write() (a sysfs or cgroup
 * knob takes it whole or refuses it): 0, or -1 with err naming the path,
 * the value and the errno. */
int kt__write_file(const char *path, const char *val, kt_err *err);

#endif
