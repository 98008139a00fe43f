/*
 * The built-in sched_ext schedulers, loaded with plain bpf() from libc
 * (DESIGN.md sections 9 and 11): a BPF_MAP_TYPE_STRUCT_OPS map whose one
 * value is a `struct bpf_struct_ops_sched_ext_ops`, laid out from the
 * running kernel's BTF, attached with BPF_LINK_CREATE. See scx.h.
 *
 * The UAPI headers here are Linux 6.1's: what came later (BPF_F_LINK,
 * the BPF_STRUCT_OPS attach type, the common-attributes log) is defined
 * below under our own names, so that newer headers cannot clash.
 */
#include "scx/scx.h"

#include <errno.h>
#include <linux/bpf.h>
#include <linux/btf.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAP_F_LINK (1U << 13)          /* BPF_F_LINK, Linux 6.4 */
#define ATTACH_STRUCT_OPS 44u          /* BPF_STRUCT_OPS, Linux 6.4 */
#define CMD_COMMON_ATTRS (1 << 16)     /* BPF_COMMON_ATTRS, Linux 7.x */
#define SWITCH_PARTIAL_DEFAULT (1u << 3)
#define LOG_SIZE 16384
#define PROG_F_SLEEPABLE (1U << 4)     /* BPF_F_SLEEPABLE */
#define ENOTSUPP_KERNEL 524            /* include/linux/errno.h, not UAPI */

/* The fifth bpf() argument with BPF_COMMON_ATTRS: where the kernel writes
 * why a command failed. */
struct common_attr {
    uint64_t log_buf;
    uint32_t log_size;
    uint32_t log_level;
};

/* What programs a built-in has. */
enum progs { PROGS_NONE, PROGS_STALL, PROGS_LAZY };

typedef struct builtin {
    const char *name;        /* after "builtin:" */
    const char *ops_name;
    bool partial;            /* SCX_OPS_SWITCH_PARTIAL: SCHED_EXT tasks only */
    uint32_t timeout_ms;     /* 0: the kernel's default watchdog */
    enum progs progs;        /* stall: a select_cpu and an enqueue that never
                              * dispatch; lazy: builtin_lazy.c's four */
    bool pct;                /* takes ":P", 0-100 */
} builtin;

static const builtin builtins[] = {
    { "fifo", "ktstr_fifo", false, 0, PROGS_NONE, false },
    { "fifo_partial", "ktstr_fifo_partial", true, 0, PROGS_NONE, false },
    { "stall", "ktstr_stall", true, 3000, PROGS_STALL, false },
    { "lazy", "ktstr_lazy", false, 0, PROGS_LAZY, true },
};
#define NBUILTINS (sizeof(builtins) / sizeof(builtins[0]))
#define BUILTIN_LIST "builtin:fifo, builtin:fifo_partial, builtin:stall, builtin:lazy:P"

/* The built-in spec names ("builtin:" optional), and its argument in
 * *pct when pct is not NULL (0 when it takes none); NULL when the name is
 * unknown or the argument is missing, not a whole number or over 100. */
static const builtin *find_builtin(const char *spec, unsigned *pct)
{
    if (pct)
        *pct = 0;
    if (!spec)
        return NULL;
    if (!strncmp(spec, "builtin:", 8))
        spec += 8;
    for (size_t i = 0; i < NBUILTINS; i++) {
        const builtin *b = &builtins[i];
        size_t n = strlen(b->name);
        const char *arg = spec + n;
        unsigned long v = 0;
        char *end;

        if (strncmp(b->name, spec, n) || (b->pct ? *arg != ':' : *arg != '\0'))
            continue;
        if (!b->pct)
            return b;
        if (arg[1] < '0' || arg[1] > '9')
            return NULL;
        v = strtoul(arg + 1, &end, 10);
        if (*end || v > 100)
            return NULL;
        if (pct)
            *pct = (unsigned)v;
        return b;
    }
    return NULL;
}

static int unknown(const char *spec, kt_err *err)
{
    return kt_err_set(err, EINVAL,
                      "unknown built-in scheduler \"%s\" (built-ins: " BUILTIN_LIST
                      ", P the ms of every 100 ms that CPU 1 is left idle, 0-100)",
                      spec ? spec : "(null)");
}

int kt__scx_builtin_check(const char *spec, kt_err *err)
{
    return find_builtin(spec, NULL) ? 0 : unknown(spec, err);
}

const char *kt__scx_builtin_ops_name(const char *spec)
{
    const builtin *b = find_builtin(spec, NULL);

    return b ? b->ops_name : NULL;
}

bool kt__scx_builtin_has_enqueue(const char *spec)
{
    const builtin *b = find_builtin(spec, NULL);

    return b && b->progs == PROGS_STALL;
}

/* Appends printf-style text to err's message (cut at its end). */
static void err_append(kt_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void err_append(kt_err *err, const char *fmt, ...)
{
    size_t len;
    va_list ap;

    if (!err)
        return;
    len = strlen(err->msg);
    va_start(ap, fmt);
    vsnprintf(err->msg + len, sizeof(err->msg) - len, fmt, ap);
    va_end(ap);
}

/* Puts `prefix` before err's message. */
static void err_prefix(kt_err *err, const char *prefix)
{
    size_t pl = strlen(prefix), ml;

    if (!err)
        return;
    ml = strnlen(err->msg, sizeof(err->msg) - 1);
    if (pl > sizeof(err->msg) - 1)
        pl = sizeof(err->msg) - 1;
    if (pl + ml > sizeof(err->msg) - 1)
        ml = sizeof(err->msg) - 1 - pl;      /* the message's end is cut */
    memmove(err->msg + pl, err->msg, ml);
    memcpy(err->msg, prefix, pl);
    err->msg[pl + ml] = '\0';
}

/* ---- the layout, from BTF ---------------------------------------------- */

/* Member `name` of sched_ext_ops: its byte offset in the value and its
 * size. */
static int ops_field(const kt__btf *b, const kt__scx_layout *l, const char *name,
                     uint32_t *off, uint32_t *size, uint32_t *index, kt_err *err)
{
    kt__btf_member m;
    uint64_t sz;

    if (kt__btf_member_find(b, l->ops_type_id, name, &m, err) < 0 ||
        kt__btf_size(b, m.type, &sz, err) < 0)
        return -1;
    if (m.bit_offset % 8 || m.bitfield_size)
        return kt_err_set(err, EINVAL, "%s: sched_ext_ops.%s is a bitfield", b->src, name);
    if (l->data_off + m.bit_offset / 8 + sz > l->value_size)
        return kt_err_set(err, EINVAL,
                          "%s: corrupt: sched_ext_ops.%s (%llu bytes at %llu) lies past "
                          "the end of bpf_struct_ops_sched_ext_ops (%u bytes)", b->src, name,
                          (unsigned long long)sz, (unsigned long long)m.bit_offset / 8,
                          l->value_size);
    *off = l->data_off + (uint32_t)(m.bit_offset / 8);
    *size = (uint32_t)sz;
    if (index)
        *index = m.index;
    return 0;
}

int kt__scx_layout_of(const kt__btf *b, kt__scx_layout *l, kt_err *err)
{
    kt__btf_member data;
    uint64_t size;
    int64_t partial, enq_last;

    memset(l, 0, sizeof(*l));
    l->value_type_id = kt__btf_find(b, "bpf_struct_ops_sched_ext_ops", BTF_KIND_STRUCT, NULL);
    if (!l->value_type_id)
        return kt_err_set(err, ENOENT,
                          "this kernel has no sched_ext: no bpf_struct_ops_sched_ext_ops in %s",
                          b->src);
    l->ops_type_id = kt__btf_find(b, "sched_ext_ops", BTF_KIND_STRUCT, err);
    if (!l->ops_type_id)
        return -1;
    if (kt__btf_size(b, l->value_type_id, &size, err) < 0)
        return -1;
    if (size == 0 || size > (1u << 20))
        return kt_err_set(err, EINVAL, "%s: bpf_struct_ops_sched_ext_ops is %llu bytes",
                          b->src, (unsigned long long)size);
    l->value_size = (uint32_t)size;
    if (kt__btf_member_find(b, l->value_type_id, "data", &data, err) < 0)
        return -1;
    if (data.bit_offset % 8 || data.bit_offset / 8 >= size)
        return kt_err_set(err, EINVAL,
                          "%s: bpf_struct_ops_sched_ext_ops.data at bit %llu: not in the value",
                          b->src, (unsigned long long)data.bit_offset);
    l->data_off = (uint32_t)(data.bit_offset / 8);
    if (ops_field(b, l, "name", &l->name_off, &l->name_size, NULL, err) < 0 ||
        ops_field(b, l, "timeout_ms", &l->timeout_off, &l->timeout_size, NULL, err) < 0 ||
        ops_field(b, l, "flags", &l->flags_off, &l->flags_size, NULL, err) < 0 ||
        ops_field(b, l, "select_cpu", &l->select_cpu_off, &l->select_cpu_size,
                  &l->select_cpu_index, err) < 0 ||
        ops_field(b, l, "enqueue", &l->enqueue_off, &l->enqueue_size, &l->enqueue_index,
                  err) < 0)
        return -1;
    /* only builtin:lazy needs these: its load says when they are missing */
    if (ops_field(b, l, "dispatch", &l->dispatch_off, &l->dispatch_size, &l->dispatch_index,
                  NULL) < 0)
        l->dispatch_size = 0;
    if (ops_field(b, l, "init", &l->init_off, &l->init_size, &l->init_index, NULL) < 0)
        l->init_size = 0;
    l->enq_last = kt__btf_enum_value(b, "SCX_OPS_ENQ_LAST", &enq_last, NULL) == 0 && enq_last > 0
                      ? (uint64_t)enq_last
                      : 0;
    /* The enum is in every sched_ext BTF seen; its value has been 1 << 3
     * since sched_ext was merged (6.12), the fallback for a BTF without it. */
    l->switch_partial = kt__btf_enum_value(b, "SCX_OPS_SWITCH_PARTIAL", &partial, NULL) == 0 &&
                                partial > 0
                            ? (uint64_t)partial
                            : SWITCH_PARTIAL_DEFAULT;
    return 0;
}

/* ---- the value ------------------------------------------------------- */

/* Stores v in the size-byte native integer at value + off. */
static int put_uint(uint8_t *value, uint32_t off, uint32_t size, uint64_t v, const char *field,
                    kt_err *err)
{
    uint8_t u8 = (uint8_t)v;
    uint16_t u16 = (uint16_t)v;
    uint32_t u32 = (uint32_t)v;

    if (size < 8 && v >> (size * 8))
        return kt_err_set(err, ERANGE, "sched_ext_ops.%s (%u bytes) cannot hold %llu", field,
                          size, (unsigned long long)v);
    switch (size) {
    case 1:
        memcpy(value + off, &u8, 1);
        return 0;
    case 2:
        memcpy(value + off, &u16, 2);
        return 0;
    case 4:
        memcpy(value + off, &u32, 4);
        return 0;
    case 8:
        memcpy(value + off, &v, 8);
        return 0;
    default:
        return kt_err_set(err, EINVAL, "sched_ext_ops.%s is %u bytes, not an integer size",
                          field, size);
    }
}

/* A program's fd into its member's slot; fd -1 is a missing program. */
static int put_prog(const char *spec, uint8_t *value, uint32_t off, uint32_t size, int fd,
                    const char *member, kt_err *err)
{
    if (fd < 0)
        return kt_err_set(err, EBADF, "%s: no %s program to put in the ops", spec, member);
    if (size == 0)
        return kt_err_set(err, ENOENT, "%s: this kernel's sched_ext_ops has no member %s",
                          spec, member);
    /* a function pointer member holds the program's fd on the way in */
    return put_uint(value, off, size, (uint64_t)fd, member, err);
}

int kt__scx_builtin_value(const char *spec, const kt__scx_layout *l, int select_fd,
                          int enqueue_fd, int dispatch_fd, int init_fd, uint8_t *value,
                          kt_err *err)
{
    const builtin *bi = find_builtin(spec, NULL);
    uint64_t flags;
    size_t n;

    if (!bi)
        return unknown(spec, err);
    memset(value, 0, l->value_size);
    n = strlen(bi->ops_name);
    if (n >= l->name_size)
        return kt_err_set(err, ERANGE, "sched_ext_ops.name (%u bytes) cannot hold \"%s\"",
                          l->name_size, bi->ops_name);
    memcpy(value + l->name_off, bi->ops_name, n);
    flags = bi->partial ? l->switch_partial : 0;
    if (bi->progs == PROGS_LAZY) {
        if (!l->enq_last)
            return kt_err_set(err, ENOENT, "%s: this kernel's BTF has no SCX_OPS_ENQ_LAST", spec);
        flags |= l->enq_last;
    }
    if (put_uint(value, l->flags_off, l->flags_size, flags, "flags", err) < 0 ||
        put_uint(value, l->timeout_off, l->timeout_size, bi->timeout_ms, "timeout_ms", err) < 0)
        return -1;
    if (bi->progs == PROGS_NONE)
        return 0;
    if (put_prog(spec, value, l->select_cpu_off, l->select_cpu_size, select_fd, "select_cpu",
                 err) < 0 ||
        put_prog(spec, value, l->enqueue_off, l->enqueue_size, enqueue_fd, "enqueue", err) < 0)
        return -1;
    if (bi->progs != PROGS_LAZY)
        return 0;
    if (put_prog(spec, value, l->dispatch_off, l->dispatch_size, dispatch_fd, "dispatch",
                 err) < 0)
        return -1;
    return put_prog(spec, value, l->init_off, l->init_size, init_fd, "init", err);
}

/* ---- bpf() --------------------------------------------------------------- */

/* A BTF object for BPF_BTF_LOAD: struct_ops maps need a valid btf_fd,
 * whatever it holds. One type: int. */
struct small_btf {
    struct btf_header hdr;
    uint32_t type[4];        /* name "int", INT, 4 bytes, signed 32 bits */
    char str[5];
};

static const struct small_btf small_btf = {
    { BTF_MAGIC, BTF_VERSION, 0, sizeof(struct btf_header), 0, 16, 16, 5 },
    { 1, BTF_KIND_INT << 24, 4, BTF_INT_SIGNED << 24 | 32 },
    "\0int",
};

const void *kt__scx_small_btf(size_t *len)
{
    *len = offsetof(struct small_btf, str) + sizeof(small_btf.str);
    return &small_btf;
}

static long sys_bpf(int cmd, union bpf_attr *attr, void *common, unsigned common_size)
{
    return syscall(__NR_bpf, cmd, attr, sizeof(*attr), common, common_size);
}

const char *kt__scx_log_reason(char *log, size_t cap)
{
    char *reason = NULL;

    if (!log || cap == 0)
        return NULL;
    log[cap - 1] = '\0';
    for (char *p = log; *p;) {
        size_t n = strcspn(p, "\n");
        char *next = p[n] ? p + n + 1 : p + n, *end = p + n;
        bool stats = !strncmp(p, "processed ", 10) || !strncmp(p, "verification time ", 18);

        while (end > p && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
            end--;
        if (end > p && !stats) {
            *end = '\0';
            reason = p;
        }
        p = next;
    }
    return reason;
}

/* Fills err for a failed step: kt_err_sys of errno e (and the
 * kernel-internal ENOTSUPP, 524, that struct_ops calls leak and strerror
 * does not know), then the kernel's reason from log when it gave one.
 * Returns -1. */
static int step_fail(kt_err *err, int e, char *log, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static int step_fail(kt_err *err, int e, char *log, size_t cap, const char *fmt, ...)
{
    char what[KT_ERR_MSG_MAX];
    const char *reason;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    if (e == ENOTSUPP_KERNEL)
        kt_err_set(err, e, "%s: not supported by this kernel (ENOTSUPP, 524)", what);
    else
        kt_err_sys(err, e, "%s", what);
    if (log && (reason = kt__scx_log_reason(log, cap)))
        err_append(err, "; kernel: %s", reason);
    return -1;
}

/* Runs one bpf() command; `step` names it in errors. On failure, asks
 * again with BPF_COMMON_ATTRS for the kernel's reason (a kernel without
 * them refuses the flag: its first errno stands), so an EINVAL becomes
 * "Invalid btf_fd." rather than a guess. The fd or 0, or -1 with err. */
static long run_step(int cmd, union bpf_attr *attr, const char *spec, const char *step,
                     kt_err *err)
{
    struct common_attr common = { 0 };
    char *log;
    long rc = sys_bpf(cmd, attr, NULL, 0);
    int e;

    if (rc >= 0)
        return rc;
    e = errno;
    log = calloc(1, LOG_SIZE);
    if (log) {
        common.log_buf = (uint64_t)(uintptr_t)log;
        common.log_size = LOG_SIZE;
        common.log_level = 1;
        rc = sys_bpf(cmd | CMD_COMMON_ATTRS, attr, &common, sizeof(common));
        if (rc >= 0) {       /* it went through the second time */
            free(log);
            return rc;
        }
    }
    step_fail(err, e, log, LOG_SIZE, "%s: %s", spec, step);
    free(log);
    return -1;
}

static int load_btf_obj(const char *spec, kt__scx_handle *h, kt_err *err)
{
    union bpf_attr attr;
    char log[4096] = "";
    size_t len;
    const void *blob = kt__scx_small_btf(&len);
    long fd;

    memset(&attr, 0, sizeof(attr));
    attr.btf = (uint64_t)(uintptr_t)blob;
    attr.btf_size = (uint32_t)len;
    attr.btf_log_buf = (uint64_t)(uintptr_t)log;
    attr.btf_log_size = sizeof(log);
    attr.btf_log_level = 1;
    fd = sys_bpf(BPF_BTF_LOAD, &attr, NULL, 0);
    if (fd < 0)
        return step_fail(err, errno, log, sizeof(log), "%s: BPF_BTF_LOAD (a %zu-byte BTF object)",
                         spec, len);
    h->btf_fd = (int)fd;
    return 0;
}

/* builtin:stall's programs. Its select_cpu returns prev_cpu (the second
 * argument, ctx[1]) and dispatches nothing: without one the kernel's
 * default select_cpu dispatches a task that wakes onto an idle CPU itself,
 * past enqueue, and a sleeper would never stall (seen in CI). Its enqueue
 * is r0 = 0; exit: no task it is handed ever reaches a dispatch queue, so
 * the watchdog ejects the scheduler. */
static const struct bpf_insn select_insns[] = {
    { .code = BPF_LDX | BPF_MEM | BPF_DW, .dst_reg = BPF_REG_0, .src_reg = BPF_REG_1, .off = 8 },
    { .code = BPF_JMP | BPF_EXIT },
};
static const struct bpf_insn enqueue_insns[] = {
    { .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
    { .code = BPF_JMP | BPF_EXIT },
};

/* Loads insns[0..n) as the struct_ops program for member `member` (its
 * index) of sched_ext_ops; 0 with *fd set, or -1 with err. */
static int load_prog(const char *spec, const kt__scx_layout *l, const char *member,
                     uint32_t index, const struct bpf_insn *insns, uint32_t n, bool sleepable,
                     int *fd, kt_err *err)
{
    union bpf_attr attr;
    char *log = calloc(1, LOG_SIZE);
    long rc;

    if (!log)
        return kt_err_sys(err, ENOMEM, "%s: BPF_PROG_LOAD (%s): log buffer", spec, member);
    memset(&attr, 0, sizeof(attr));
    attr.prog_type = BPF_PROG_TYPE_STRUCT_OPS;
    attr.insn_cnt = n;
    attr.insns = (uint64_t)(uintptr_t)insns;
    attr.license = (uint64_t)(uintptr_t)"GPL";
    attr.log_buf = (uint64_t)(uintptr_t)log;
    attr.log_size = LOG_SIZE;
    attr.log_level = 1;
    attr.prog_flags = sleepable ? PROG_F_SLEEPABLE : 0;
    snprintf(attr.prog_name, sizeof(attr.prog_name), "ktstr_%s", member);
    attr.expected_attach_type = index;
    attr.attach_btf_id = l->ops_type_id;
    rc = sys_bpf(BPF_PROG_LOAD, &attr, NULL, 0);
    if (rc < 0)
        step_fail(err, errno, log, LOG_SIZE,
                  "%s: BPF_PROG_LOAD (%s, struct_ops member %u of sched_ext_ops [%u])", spec,
                  member, index, l->ops_type_id);
    free(log);
    if (rc < 0)
        return -1;
    *fd = (int)rc;
    return 0;
}

static int load_stall_progs(const char *spec, const kt__scx_layout *l, kt__scx_handle *h,
                            kt_err *err)
{
    if (load_prog(spec, l, "select_cpu", l->select_cpu_index, select_insns,
                  sizeof(select_insns) / sizeof(select_insns[0]), false, &h->select_fd, err) < 0)
        return -1;
    return load_prog(spec, l, "enqueue", l->enqueue_index, enqueue_insns,
                     sizeof(enqueue_insns) / sizeof(enqueue_insns[0]), false, &h->enqueue_fd,
                     err);
}

/* builtin:lazy's four programs (builtin_lazy.c), each into its fd. */
static int load_lazy_progs(const char *spec, unsigned pct, const kt__btf *b,
                           const kt__scx_layout *l, kt__scx_handle *h, kt_err *err)
{
    kt__scx_prog *progs = calloc(KT__SCX_LAZY_PROGS, sizeof(*progs));
    const struct { const char *member; uint32_t size, index; int *fd; } slot[] = {
        { "init", l->init_size, l->init_index, &h->init_fd },
        { "select_cpu", l->select_cpu_size, l->select_cpu_index, &h->select_fd },
        { "enqueue", l->enqueue_size, l->enqueue_index, &h->enqueue_fd },
        { "dispatch", l->dispatch_size, l->dispatch_index, &h->dispatch_fd },
    };
    int rc = 0;

    if (!progs)
        return kt_err_sys(err, ENOMEM, "%s: its programs", spec);
    if (kt__scx_lazy_progs(b, pct, progs, err) < 0)
        rc = -1;
    for (size_t i = 0; rc == 0 && i < KT__SCX_LAZY_PROGS; i++) {
        const kt__scx_prog *p = &progs[i];
        size_t j = 0;

        while (j < sizeof(slot) / sizeof(slot[0]) && strcmp(slot[j].member, p->member))
            j++;
        if (j == sizeof(slot) / sizeof(slot[0]) || slot[j].size == 0)
            rc = kt_err_set(err, ENOENT, "%s: this kernel's sched_ext_ops has no member %s",
                            spec, p->member);
        else
            rc = load_prog(spec, l, p->member, slot[j].index, p->insns, p->n, p->sleepable,
                           slot[j].fd, err);
    }
    free(progs);
    return rc;
}

static int create_map(const char *spec, const builtin *bi, const kt__scx_layout *l,
                      kt__scx_handle *h, kt_err *err)
{
    union bpf_attr attr;
    char step[128];
    long fd;

    memset(&attr, 0, sizeof(attr));
    attr.map_type = BPF_MAP_TYPE_STRUCT_OPS;
    attr.key_size = 4;
    attr.value_size = l->value_size;
    attr.max_entries = 1;
    attr.map_flags = MAP_F_LINK;
    attr.btf_fd = (uint32_t)h->btf_fd;
    attr.btf_vmlinux_value_type_id = l->value_type_id;
    snprintf(attr.map_name, sizeof(attr.map_name), "%s", bi->ops_name);
    snprintf(step, sizeof(step),
             "BPF_MAP_CREATE (struct_ops, bpf_struct_ops_sched_ext_ops [%u], %u bytes)",
             l->value_type_id, l->value_size);
    fd = run_step(BPF_MAP_CREATE, &attr, spec, step, err);
    if (fd < 0)
        return -1;
    h->map_fd = (int)fd;
    return 0;
}

static int update_map(const char *spec, const uint8_t *value, kt__scx_handle *h, kt_err *err)
{
    union bpf_attr attr;
    uint32_t key = 0;

    memset(&attr, 0, sizeof(attr));
    attr.map_fd = (uint32_t)h->map_fd;
    attr.key = (uint64_t)(uintptr_t)&key;
    attr.value = (uint64_t)(uintptr_t)value;
    attr.flags = BPF_ANY;
    return run_step(BPF_MAP_UPDATE_ELEM, &attr, spec, "BPF_MAP_UPDATE_ELEM (the ops)", err) < 0
               ? -1
               : 0;
}

static int attach(const char *spec, kt__scx_handle *h, kt_err *err)
{
    union bpf_attr attr;
    long fd;

    memset(&attr, 0, sizeof(attr));
    attr.link_create.prog_fd = (uint32_t)h->map_fd;    /* map_fd in newer headers */
    attr.link_create.attach_type = ATTACH_STRUCT_OPS;
    fd = run_step(BPF_LINK_CREATE, &attr, spec, "BPF_LINK_CREATE (attach the ops)", err);
    if (fd < 0)
        return -1;
    h->link_fd = (int)fd;
    return 0;
}

static void handle_init(kt__scx_handle *h)
{
    memset(h, 0, sizeof(*h));
    h->btf_fd = h->select_fd = h->enqueue_fd = h->dispatch_fd = h->init_fd = -1;
    h->map_fd = h->link_fd = -1;
}

int kt__scx_builtin_load_btf(const char *spec, const char *btf_path, kt__scx_handle *h,
                             kt_err *err)
{
    unsigned pct;
    const builtin *bi = find_builtin(spec, &pct);
    kt__scx_layout l;
    kt__btf btf;
    uint8_t *value = NULL;
    int rc;

    handle_init(h);
    if (!bi)
        return unknown(spec, err);
    if (kt__btf_load(btf_path, &btf, err) < 0) {
        if (err && err->code == ENOENT)
            err_prefix(err, "this kernel has no BTF to lay out sched_ext_ops by "
                            "(CONFIG_DEBUG_INFO_BTF): ");
        return -1;
    }
    rc = kt__scx_layout_of(&btf, &l, err);
    if (rc < 0) {
        kt__btf_free(&btf);
        return -1;
    }
    if (bi->pct)
        snprintf(h->spec, sizeof(h->spec), "builtin:%s:%u", bi->name, pct);
    else
        snprintf(h->spec, sizeof(h->spec), "builtin:%s", bi->name);
    snprintf(h->ops_name, sizeof(h->ops_name), "%s", bi->ops_name);
    value = malloc(l.value_size);
    if (!value) {
        kt__btf_free(&btf);
        return kt_err_sys(err, ENOMEM, "%s: the ops value (%u bytes)", h->spec, l.value_size);
    }
    rc = load_btf_obj(h->spec, h, err);
    if (rc == 0 && bi->progs == PROGS_STALL)
        rc = load_stall_progs(h->spec, &l, h, err);
    if (rc == 0 && bi->progs == PROGS_LAZY)
        rc = load_lazy_progs(h->spec, pct, &btf, &l, h, err);
    kt__btf_free(&btf);
    if (rc == 0)
        rc = kt__scx_builtin_value(h->spec, &l, h->select_fd, h->enqueue_fd, h->dispatch_fd,
                                   h->init_fd, value, err);
    if (rc == 0)
        rc = create_map(h->spec, bi, &l, h, err);
    if (rc == 0)
        rc = update_map(h->spec, value, h, err);
    if (rc == 0)
        rc = attach(h->spec, h, err);
    free(value);
    if (rc < 0) {
        kt__scx_builtin_unload(h);
        return -1;
    }
    return 0;
}

int kt__scx_builtin_load(const char *spec, kt__scx_handle *h, kt_err *err)
{
    return kt__scx_builtin_load_btf(spec, KT__SCX_VMLINUX_BTF, h, err);
}

void kt__scx_builtin_unload(kt__scx_handle *h)
{
    int *fds[] = { &h->link_fd, &h->map_fd, &h->dispatch_fd, &h->init_fd, &h->enqueue_fd,
                   &h->select_fd, &h->btf_fd };

    for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
        if (*fds[i] >= 0)
            close(*fds[i]);
        *fds[i] = -1;
    }
}
