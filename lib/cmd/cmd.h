/*
 * lib/cmd/cmd.h - the `ktstr` command (private): the top floor, above the
 * runner. Not part of libktstr: it is linked against it. It finds what it
 * runs next to itself, where `make install` put it:
 *
 *   <prefix>/bin/ktstr
 *   <prefix>/libexec/ktstr/scenarios/<file>.t   the catalog
 *   <prefix>/libexec/ktstr/fetch-kernel.sh      `ktstr kernel`
 *
 * (the build tree has the same shape under build/), or under
 * KTSTR_LIBEXEC when that is set.
 *
 *   main.c     ktstr, --help, --version: the table of subcommands
 *   catalog.c  where things are: libexec, the catalog's files, the cache
 *   list.c     ktstr list
 *   run.c      ktstr run: prove over the catalog, JUnit
 *   kernel.c   ktstr kernel
 *   report.c   ktstr report (and make report): the HTML page of shards
 */
#ifndef KTSTR_LIB_CMD_CMD_H
#define KTSTR_LIB_CMD_CMD_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "base/vec.h"
#include "ktstr/error.h"

/* Exit status of bad input: an unknown option, scenario or file, a value
 * out of range, a missing kernel. */
#define KT__CMD_USAGE 2

/* A subcommand: argv[0] is its name; returns the exit status. */
typedef int (*kt__cmd_fn)(int argc, char **argv);

int kt__cmd_list(int argc, char **argv);
int kt__cmd_run(int argc, char **argv);
int kt__cmd_kernel(int argc, char **argv);
int kt__cmd_report(int argc, char **argv);

/* ---- catalog.c -------------------------------------------------------- */

/* <prefix>/libexec/ktstr (KTSTR_LIBEXEC when set) into buf; -1 with err
 * when it cannot be found. */
int kt__cmd_libexec(char *buf, size_t n, kt_err *err);

/* The catalog's scenario files, sorted (char *, malloc'd paths); -1 with
 * err when the catalog directory cannot be read or holds none. */
int kt__cmd_catalog(kt__vec *files, kt_err *err);

/* ${XDG_CACHE_HOME:-$HOME/.cache}/ktstr/kernel into buf; -1 with err
 * when neither is set. */
int kt__cmd_kernel_dir(char *buf, size_t n, kt_err *err);

/* Runs argv (argv[0] found on PATH or a path) and collects its stdout
 * (a kt__vec of char, NUL-terminated); its exit status, or -1 with err
 * when it could not be run. stderr goes to ours. */
int kt__cmd_capture(char *const argv[], kt__vec *out, kt_err *err);

/* Runs argv with stdout and stderr as ours and waits; its exit status
 * (128 + signal when killed), or -1 with err when it could not run. */
int kt__cmd_spawn(char *const argv[], kt_err *err);

/* Every scenario of a scenario file, whatever KTSTR_FILTER or KTSTR_SHARD
 * say: the lines of `file --list` (names) or, with describe, of
 * `file --describe` ("name\tpurpose"), as malloc'd char * into lines;
 * -1 with err naming the file when it cannot say or names none. */
int kt__cmd_scenarios(const char *file, bool describe, kt__vec *lines, kt_err *err);

/* Frees a kt__vec of malloc'd char * and its elements. */
void kt__cmd_free_strs(kt__vec *v);

#endif
