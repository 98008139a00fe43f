/*
 * lib/runner/wire.h - the line protocol a point's child speaks to its
 * parent (private): over a pipe on the host, over the guest's ttyS1 in
 * VM mode, unchanged.
 *
 * One event per line, fields separated by tabs, each field escaped (\\ \t
 * \n \r, other control bytes as \xNN), so a line crosses a pipe or a
 * serial port unchanged. The lines, by who sends them:
 *
 *   the body (point_plain.c, series_wire.c):
 *     PASS|FAIL <label> <op> <expected> <actual> <message> <file> <line> <timed>
 *                                 (<timed>: "timed" for a timing claim, else "")
 *     NOTE <text>     SKIP <reason>     DROP <text>     RMDIR <path>
 *     BEGIN           (the body starts: a watching host starts sampling)
 *     DONE <claims> <failed>            (the body returned)
 *     SERIES ...      SAMPLES ...       (kt_ctx_series: series_wire.c)
 *     OP <what> <planned_ms> <actual_ms> <took_ms> <result>
 *                                       (kt_ctx_changes: changes_wire.c)
 *   the owner of a scheduler (point_sched.c, sched.c):
 *     SCHED <ops name> <attach_ms>      SCHEDFAIL <why> <exit> <detect_ms>
 *     SCHEDLOG|SCHEDOUT|SCHEDDUMP <line>   SCHEDEV <counter> <delta>
 *     END <kind> <arg>                  (how the body's child ended)
 *   VM mode, the guest's PID 1 (point_vm_guest.c) to the host's child:
 *     BOOT <uptime_ms> <release>        (once per boot; the host keeps it)
 *     READY                             (the point is over, the guest clean)
 *     DIRTY <why>                       (the point is over; the guest is not
 *                                        fit for another and powers off)
 *   and on the same ttyS1 the host's child to the guest:
 *     RUN <name> <timeout_s> <verbose> <evidence> <sched> <attach_s> <fault> <gfault>
 *                                       (<sched>, <fault>, <gfault>: "" for none;
 *                                        <gfault>: KTSTR_GUEST_FAULT, run beside the body)
 *   the host's child (point_vm_host.c) to the runner:
 *     VM <accel> <release> <topology> <boot_ms> <boot>
 *     STEAL <vcpu> <ms> <share>         (host steal of a vCPU thread, per vCPU)
 *     BOOTSTEAL <share>                 (a missed boot: the host's steal meanwhile)
 *     CONSOLE <line>
 *     GUEST ready|gone|again [<why>]    (the last line: can the guest run the
 *                                        next point, or boot again and why)
 */
#ifndef KTSTR_LIB_RUNNER_WIRE_H
#define KTSTR_LIB_RUNNER_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ktstr/verdict.h"

#define KT__WIRE_MAX_FIELDS 8
/* Longest field sent; longer ones are cut (bounds every line). */
#define KT__WIRE_FIELD_MAX 2048
/* Longest line the reader keeps; longer ones are dropped and counted. */
#define KT__WIRE_LINE_MAX (KT__WIRE_MAX_FIELDS * (4 * KT__WIRE_FIELD_MAX + 1) + 16)

/* Sends one line "type\tf0\tf1..." with one write(); 0 or -1 with errno. */
int kt__wire_send(int fd, const char *type, const char *const *fields, size_t n);
/* A claim's PASS or FAIL line, its label and message after prefix ("" for
 * none: the host's claims on a guest are "host."); 0 or -1 with errno. */
int kt__wire_send_claim(int fd, bool passed, const kt_claim_record *c, const char *prefix);
/* Writes a received line (its fields still escaped, no newline) on to fd
 * with one write(): how a relay passes lines through. 0 or -1 with errno. */
int kt__wire_write_line(int fd, const char *line);
/* The END line: how a body's child ended (kind "exited", "signaled",
 * "timeout", "panic" or "error"; arg its status, timeout or reason). */
void kt__wire_send_end(int fd, const char *kind, const char *arg);

typedef struct kt__wire_msg {
    const char *type;
    const char *field[KT__WIRE_MAX_FIELDS];
    size_t n;
} kt__wire_msg;

/* Splits a received line (without its newline) in place and unescapes
 * its fields; -1 when it is not a well-formed line. */
int kt__wire_split(char *line, kt__wire_msg *m);

typedef struct kt__wire_reader {
    char *buf;                 /* KT__WIRE_LINE_MAX + 1 bytes */
    size_t len;
    bool discarding;           /* inside an overlong line */
    uint64_t overlong;         /* lines dropped: too long, or cut */
} kt__wire_reader;

int kt__wire_reader_init(kt__wire_reader *r);
void kt__wire_reader_fini(kt__wire_reader *r);
/* Reads what fd has (non-blocking) and calls fn for each whole line.
 * Returns 1 at end of file, 0 when more may come, -1 on a read error. */
int kt__wire_read(kt__wire_reader *r, int fd, void (*fn)(void *arg, char *line),
                 void *arg);

#endif
