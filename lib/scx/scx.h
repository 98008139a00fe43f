/*
 * lib/scx/scx.h - sched_ext from libc (private): a BTF reader, the
 * built-in schedulers loaded with plain bpf(), and the kernel's
 * sched_ext state, counters and log lines.
 *
 * The built-ins need no BPF toolchain: a struct_ops map whose value is a
 * `struct bpf_struct_ops_sched_ext_ops` laid out from the running
 * kernel's BTF (/sys/kernel/btf/vmlinux), every size and offset read from
 * it, never hard-coded (DESIGN.md sections 9 and 11).
 *
 *   kt__scx_handle h;
 *   if (kt__scx_builtin_load("builtin:fifo", &h, err) < 0)
 *       return -1;     // err: "builtin:fifo: this kernel has no sched_ext: ..."
 *   ...                // /sys/kernel/sched_ext/state reads "enabled"
 *   kt__scx_builtin_unload(&h);
 */
#ifndef KTSTR_LIB_SCX_SCX_H
#define KTSTR_LIB_SCX_SCX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/bpf.h>

#include "base/vec.h"
#include "ktstr/error.h"
#include "ktstr/scx.h"

/* ---- BTF (btf.c) ------------------------------------------------------ */

/* A parsed BTF blob. Type ids run 1..kt__btf_count(); 0 is void. The
 * blob is validated whole at parse time (every section, type, member,
 * string offset and type reference in bounds), so the queries below
 * never read outside it whatever the file held. */
typedef struct kt__btf {
    const uint8_t *types;    /* the type section */
    uint32_t types_len;
    const char *strs;        /* the string section, NUL-terminated at both ends */
    uint32_t strs_len;
    kt__vec offs;            /* uint32_t: byte offset of type id i + 1 in types */
    uint32_t ptr_size;       /* from the BTF's "long unsigned int", else ours */
    kt__vec file;            /* the bytes, when kt__btf_load read them */
    char src[128];           /* where it came from, for messages */
} kt__btf;

/* One type as the queries see it. */
typedef struct kt__btf_type {
    uint32_t id;
    unsigned kind;           /* BTF_KIND_* of <linux/btf.h> */
    uint32_t vlen;           /* members, enumerators, parameters, variables */
    bool kflag;
    const char *name;        /* "" when anonymous */
    uint32_t size_or_type;   /* size (INT, STRUCT, ...) or the referenced id */
    uint32_t int_bits;       /* INT only: bits used, and whether signed */
    bool int_signed;
} kt__btf_type;

/* A member of a STRUCT or UNION. */
typedef struct kt__btf_member {
    const char *name;
    uint32_t type;           /* the member's type id */
    uint64_t bit_offset;     /* from the start of the outer struct searched */
    uint32_t bitfield_size;  /* 0 unless a bitfield */
    uint32_t index;          /* position among the outer struct's members */
} kt__btf_member;

/* Parses a raw BTF blob of len bytes at buf (header, type section,
 * string section) into out, which points into buf: buf must outlive it.
 * 0, or -1 with err naming what is wrong ("BTF buffer: truncated: type
 * section [24, 3024) ends past the end (1000 bytes)") and out empty.
 * Pure: no file, no syscall; the fuzz target. kt__btf_free(out) after. */
int kt__btf_parse(const void *buf, size_t len, kt__btf *out, kt_err *err);

/* Reads the BTF file at path (a raw blob such as /sys/kernel/btf/vmlinux)
 * and parses it; errors name the path. kt__btf_free after. */
int kt__btf_load(const char *path, kt__btf *out, kt_err *err);

/* Frees what parse or load allocated; safe on a zeroed or freed btf. */
void kt__btf_free(kt__btf *b);

/* The number of types (the highest id). */
uint32_t kt__btf_count(const kt__btf *b);

/* Type id (1..count) into t; -1 with err when there is no such id. */
int kt__btf_type_at(const kt__btf *b, uint32_t id, kt__btf_type *t, kt_err *err);

/* The first type named `name` of kind `kind` (BTF_KIND_*): its id, or 0
 * with err ("<src>: no struct sched_ext_ops", ENOENT). */
uint32_t kt__btf_find(const kt__btf *b, const char *name, unsigned kind, kt_err *err);

/* id with TYPEDEF, CONST, VOLATILE, RESTRICT and TYPE_TAG skipped (0 for
 * void), or -1 with err on a chain that loops. */
int kt__btf_resolve(const kt__btf *b, uint32_t id, uint32_t *out, kt_err *err);

/* The size in bytes of type id (modifiers followed, arrays multiplied,
 * pointers ptr_size); -1 with err for a type without one (void, FUNC,
 * FWD ...) or a size that overflows. */
int kt__btf_size(const kt__btf *b, uint32_t id, uint64_t *size, kt_err *err);

/* The member `name` of the STRUCT or UNION id (typedefs followed),
 * looking into anonymous struct and union members too (then index is
 * that of the anonymous member in id, bit_offset from the start of id).
 * 0, or -1 with err ("<src>: struct sched_ext_ops has no member enqueue"). */
int kt__btf_member_find(const kt__btf *b, uint32_t id, const char *name,
                   kt__btf_member *m, kt_err *err);

/* The value of the enumerator `name` in any ENUM or ENUM64 type; 0, or
 * -1 with err (ENOENT) when none has it. */
int kt__btf_enum_value(const kt__btf *b, const char *name, int64_t *value, kt_err *err);

/* "struct", "typedef" ... for messages; "unknown kind" past the known ones. */
const char *kt__btf_kind_name(unsigned kind);

/* ---- built-in schedulers (builtin.c) ---------------------------------- */

#define KT__SCX_VMLINUX_BTF "/sys/kernel/btf/vmlinux"

/* Where each field of a `struct bpf_struct_ops_sched_ext_ops` value lies,
 * in bytes from the start of the value, as this kernel's BTF says. */
typedef struct kt__scx_layout {
    uint32_t value_type_id;  /* bpf_struct_ops_sched_ext_ops */
    uint32_t ops_type_id;    /* sched_ext_ops: the programs' attach_btf_id */
    uint32_t value_size;
    uint32_t data_off;       /* the member `data` (a struct sched_ext_ops) */
    uint32_t name_off, name_size;
    uint32_t timeout_off, timeout_size;
    uint32_t flags_off, flags_size;
    uint32_t select_cpu_off, select_cpu_size;
    uint32_t select_cpu_index; /* the program's expected_attach_type */
    uint32_t enqueue_off, enqueue_size;
    uint32_t enqueue_index;  /* the program's expected_attach_type */
    /* dispatch and init: found when the BTF has them (size 0 if not);
     * only builtin:lazy needs them */
    uint32_t dispatch_off, dispatch_size, dispatch_index;
    uint32_t init_off, init_size, init_index;
    uint64_t switch_partial; /* SCX_OPS_SWITCH_PARTIAL */
    uint64_t enq_last;       /* SCX_OPS_ENQ_LAST, 0 when the BTF lacks it */
} kt__scx_layout;

/* What keeps a loaded built-in attached: closing link_fd unregisters it
 * (so does exiting). Every fd is -1 when not open. */
typedef struct kt__scx_handle {
    int btf_fd, select_fd, enqueue_fd, dispatch_fd, init_fd, map_fd, link_fd;
    char spec[32];           /* "builtin:fifo" */
    char ops_name[32];       /* "ktstr_fifo" */
} kt__scx_handle;

/* The ops name of a built-in ("builtin:fifo" or "fifo" -> "ktstr_fifo"),
 * or NULL when there is no such built-in. */
const char *kt__scx_builtin_ops_name(const char *spec);

/* The layout of the struct_ops value from a parsed BTF. -1 with err when
 * it lacks something; without bpf_struct_ops_sched_ext_ops:
 * "this kernel has no sched_ext: no bpf_struct_ops_sched_ext_ops in <src>". */
int kt__scx_layout_of(const kt__btf *b, kt__scx_layout *l, kt_err *err);

/* Fills value[0..l->value_size) for built-in spec: zeros, then the ops
 * name, flags and timeout_ms, and the program fds in the select_cpu,
 * enqueue, dispatch and init slots of the programs the built-in has
 * (the others ignored). 0 or -1 with err (unknown spec, a missing
 * program, a field of a size it cannot hold). Pure: the tests read it
 * back. */
int kt__scx_builtin_value(const char *spec, const kt__scx_layout *l, int select_fd,
                          int enqueue_fd, int dispatch_fd, int init_fd, uint8_t *value,
                          kt_err *err);

/* Checks spec names a built-in, with its argument where it takes one
 * (builtin:lazy:P, P 0-100); 0, or -1 with err naming what is wrong and
 * listing the built-ins. */
int kt__scx_builtin_check(const char *spec, kt_err *err);

/* One hand-assembled struct_ops program: the sched_ext_ops member it
 * fills and its instructions. */
#define KT__SCX_PROG_MAX 32
typedef struct kt__scx_prog {
    const char *member;      /* "enqueue" */
    struct bpf_insn insns[KT__SCX_PROG_MAX];
    uint32_t n;
    bool sleepable;          /* BPF_F_SLEEPABLE: init, whose kfunc allocates */
} kt__scx_prog;

/* builtin:lazy:pct's programs (init, select_cpu, enqueue, dispatch:
 * builtin_lazy.c says what each does) assembled against BTF b: kfunc ids
 * and SCX_* flags read from it. 0, or -1 with err naming the kfunc or
 * enumerator b lacks, or a pct over 100. Pure. */
#define KT__SCX_LAZY_PROGS 4
int kt__scx_lazy_progs(const kt__btf *b, unsigned pct, kt__scx_prog progs[KT__SCX_LAZY_PROGS],
                       kt_err *err);

/* The BTF object handed to BPF_BTF_LOAD (struct_ops maps need a btf_fd,
 * whatever it describes): one INT named "int". len gets its size. */
const void *kt__scx_small_btf(size_t *len);

/* The kernel's reason in a bpf() log of cap bytes: its last non-empty
 * line, less the verifier's statistics ("processed 2 insns ...") and
 * trailing blanks, cut in place; NULL when the log says nothing. */
const char *kt__scx_log_reason(char *log, size_t cap);

/* Whether built-in spec has programs, a select_cpu and an enqueue that
 * never dispatch (builtin:stall). */
bool kt__scx_builtin_has_enqueue(const char *spec);

/* Loads and attaches built-in spec against the running kernel: BTF from
 * KT__SCX_VMLINUX_BTF, then BPF_BTF_LOAD, BPF_PROG_LOAD (select_cpu and
 * enqueue, when it has them), BPF_MAP_CREATE, BPF_MAP_UPDATE_ELEM and
 * BPF_LINK_CREATE. 0 with h holding the fds, or -1 with err naming the
 * step and the kernel's reason where it gives one, and nothing left open. */
int kt__scx_builtin_load(const char *spec, kt__scx_handle *h, kt_err *err);

/* kt__scx_builtin_load with the BTF read from btf_path instead. */
int kt__scx_builtin_load_btf(const char *spec, const char *btf_path,
                             kt__scx_handle *h, kt_err *err);

/* Detaches (closes the link first) and closes every fd; safe twice on a
 * handle a load call filled, even a failed one (never on a zeroed one:
 * fd 0 is stdin). A forked child inherits the fds: the scheduler stays
 * attached until every copy of the link is closed. */
void kt__scx_builtin_unload(kt__scx_handle *h);

/* ---- state, counters and kernel log (state.c) ------------------------- */

#define KT__SCX_SYSFS "/sys/kernel/sched_ext"

/* kt_scx_state, kt_scx_ops, kt_scx_event and kt_scx_events_read with
 * the sysfs directory given (tests point it at a fixture tree). */
int kt__scx_state_in(const char *dir, char *buf, size_t cap, kt_err *err);
int kt__scx_ops_in(const char *dir, char *buf, size_t cap, kt_err *err);
int kt__scx_event_in(const char *dir, const char *name, uint64_t *value, kt_err *err);
int kt__scx_events_read_in(const char *dir, kt_scx_events *ev, kt_err *err);

/* Parses the text of root/events (`SCX_EV_<NAME> <count>` lines, any
 * order, any number) into ev, replacing what it held; `what` names the
 * source in errors. 0, or -1 with err naming the line. Pure. */
int kt__scx_events_parse(const char *text, size_t len, const char *what,
                         kt_scx_events *ev, kt_err *err);

/* What a kernel `sched_ext:` log line says. */
typedef enum kt__scx_msg_kind {
    KT__SCX_MSG_ENABLED = 1, /* BPF scheduler "<name>" enabled[ (partial)] */
    KT__SCX_MSG_DISABLED,    /* BPF scheduler "<name>" disabled (<reason>) */
    KT__SCX_MSG_STALL,       /* <name>: <comm>[<pid>] failed to run for <t>s */
    KT__SCX_MSG_EXIT,        /* <name>: <message> (the exit's detail) */
    KT__SCX_MSG_OTHER,       /* any other sched_ext: line */
} kt__scx_msg_kind;

typedef struct kt__scx_msg {
    kt__scx_msg_kind kind;
    char name[129];          /* the ops name; "" for OTHER */
    char reason[256];        /* disabled: "runnable task stall"; enabled:
                                "partial" or ""; stall and exit: the message
                                after "<name>: "; other: the text */
    bool partial;            /* enabled (partial) */
    char comm[64];           /* stall: the task, and its pid */
    long pid;
} kt__scx_msg;

/* Parses one kernel log line (as /dev/kmsg, dmesg or a console shows it:
 * any prefix before "sched_ext: " is skipped) of len bytes. true with
 * out filled when it is a sched_ext line, false otherwise. Pure. */
bool kt__scx_msg_parse(const char *line, size_t len, kt__scx_msg *out);

/* "enabled", "disabled", "stall", "exit", "other". */
const char *kt__scx_msg_kind_name(kt__scx_msg_kind kind);

#endif
