/* lib/scx/builtin.c without a sched_ext kernel: the struct_ops value is
 * laid out from whatever BTF says (fixtures with sched_ext_ops members
 * in other orders and places), each built-in's value read back byte by
 * byte, the clear errors of a kernel without sched_ext (this host's own
 * 6.18 among them) and of a BTF lacking a member, and the kernel-log
 * reason picked from a bpf() log. Loading for real needs a sched_ext
 * kernel: tests/progs/scx_load.c does that inside a guest. */
#include "harness/unit.h"

#include "scx/scx.h"
#include "scx/fixture.h"

#include <errno.h>
#include <linux/btf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* What a fake sched_ext BTF looks like. */
typedef struct shape {
    uint32_t data_off;        /* bytes: where `data` lies in the value */
    uint32_t name_len;        /* sched_ext_ops.name's array length */
    int64_t partial;          /* SCX_OPS_SWITCH_PARTIAL; 0: no enum at all */
    int extra_before_enqueue; /* callbacks ahead of enqueue (its index) */
    const char *omit;         /* a member left out, or NULL */
    int no_value_type;        /* leave out bpf_struct_ops_sched_ext_ops */
    uint32_t value_size;      /* 0: data_off + the ops' size */
} shape;

/* Where the fixture put things (bytes from the start of the ops). */
static uint32_t at_flags, at_timeout, at_name, at_enqueue, ops_size;

static size_t make_btf(const shape *s, uint8_t *out, size_t cap)
{
    fx f;
    uint32_t i32, u64, u32, chr, name, proto, fptr, ops, common, off = 0;
    int nmembers = 5 + s->extra_before_enqueue - (s->omit ? 1 : 0);

    fx_init(&f);
    i32 = fx_int(&f, "int", 4, 32, 1);
    u64 = fx_int(&f, "long long unsigned int", 8, 64, 0);
    u32 = fx_int(&f, "unsigned int", 4, 32, 0);
    chr = fx_int(&f, "char", 1, 8, 1);
    name = fx_array(&f, chr, i32, s->name_len);
    proto = fx_type(&f, "", BTF_KIND_FUNC_PROTO, 0, 0, 0);
    fptr = fx_type(&f, "", BTF_KIND_PTR, 0, 0, proto);
    /* sched_ext_ops: callbacks first, then flags, timeout_ms, name */
    ops_size = (uint32_t)(8 * (2 + s->extra_before_enqueue) + 8 + 8 + s->name_len + 7) / 8 * 8;
    ops = fx_type(&f, "sched_ext_ops", BTF_KIND_STRUCT, (unsigned)nmembers, 0, ops_size);
    if (!s->omit || strcmp(s->omit, "select_cpu"))
        fx_member(&f, "select_cpu", fptr, off * 8);
    off += 8;
    for (int k = 0; k < s->extra_before_enqueue; k++, off += 8)
        fx_member(&f, k ? "dequeue" : "dispatch", fptr, off * 8);
    at_enqueue = off;
    if (!s->omit || strcmp(s->omit, "enqueue"))
        fx_member(&f, "enqueue", fptr, off * 8);
    off += 8;
    at_flags = off;
    if (!s->omit || strcmp(s->omit, "flags"))
        fx_member(&f, "flags", u64, off * 8);
    off += 8;
    at_timeout = off;
    if (!s->omit || strcmp(s->omit, "timeout_ms"))
        fx_member(&f, "timeout_ms", u32, off * 8);
    off += 8;
    at_name = off;
    if (!s->omit || strcmp(s->omit, "name"))
        fx_member(&f, "name", name, off * 8);
    common = fx_type(&f, "bpf_struct_ops_common_value", BTF_KIND_STRUCT, 2, 0, 8);
    fx_member(&f, "refcnt", i32, 0);
    fx_member(&f, "state", i32, 32);
    if (!s->no_value_type) {
        fx_type(&f, "bpf_struct_ops_sched_ext_ops", BTF_KIND_STRUCT, 2, 0,
                s->value_size ? s->value_size : s->data_off + ops_size);
        fx_member(&f, "common", common, 0);
        fx_member(&f, "data", ops, s->data_off * 8);
    }
    if (s->partial) {
        fx_type(&f, "scx_ops_flags", BTF_KIND_ENUM, 2, 0, 4);
        fx_u32(&f, fx_str(&f, "SCX_OPS_KEEP_BUILTIN_IDLE"));
        fx_u32(&f, 1);
        fx_u32(&f, fx_str(&f, "SCX_OPS_SWITCH_PARTIAL"));
        fx_u32(&f, (uint32_t)s->partial);
    }
    return fx_blob(&f, out, cap);
}

static uint8_t blob[32768];

/* Parses the BTF of shape s and lays out the value; 0, or -1 with err. */
static int layout(const shape *s, kt__scx_layout *l, kt_err *err)
{
    size_t n = make_btf(s, blob, sizeof(blob));
    kt__btf b;
    int rc;

    if (!check_uint(n, >, 0) || !check_int(kt__btf_parse(blob, n, &b, err), ==, 0))
        return -1;
    rc = kt__scx_layout_of(&b, l, err);
    kt__btf_free(&b);
    return rc;
}

static uint64_t get(const uint8_t *v, uint32_t off, uint32_t size)
{
    uint64_t x = 0;
    uint32_t x32 = 0;

    if (size == 8)
        memcpy(&x, v + off, 8);
    else if (size == 4)
        memcpy(&x32, v + off, 4), x = x32;
    return x;
}

/* Checks the value of `spec` byte by byte: the name, flags, timeout,
 * select_cpu and enqueue where the layout says, and zeros everywhere else. */
static void expect_value(const char *spec, const kt__scx_layout *l, const char *ops_name,
                         uint64_t flags, uint64_t timeout, int sel_fd, int enq_fd)
{
    uint8_t *v = malloc(l->value_size), *want = calloc(1, l->value_size);
    kt_err err = { 0 };

    memset(v, 0xa5, l->value_size);       /* every byte must be written */
    if (!check_int(kt__scx_builtin_value(spec, l, sel_fd, enq_fd, -1, -1, v, &err), ==, 0)) {
        test_msg("%s", err.msg);
        goto out;
    }
    check_str((char *)v + l->name_off, ops_name);
    check_uint(get(v, l->flags_off, l->flags_size), ==, flags);
    check_uint(get(v, l->timeout_off, l->timeout_size), ==, timeout);
    check_uint(get(v, l->select_cpu_off, l->select_cpu_size), ==,
               sel_fd < 0 ? 0 : (uint64_t)sel_fd);
    check_uint(get(v, l->enqueue_off, l->enqueue_size), ==, enq_fd < 0 ? 0 : (uint64_t)enq_fd);
    memcpy(want + l->name_off, ops_name, strlen(ops_name));
    memcpy(want + l->flags_off, &flags, 8);
    memcpy(want + l->timeout_off, &(uint32_t){ (uint32_t)timeout }, 4);
    if (sel_fd >= 0)
        memcpy(want + l->select_cpu_off, &(uint64_t){ (uint64_t)sel_fd }, 8);
    if (enq_fd >= 0)
        memcpy(want + l->enqueue_off, &(uint64_t){ (uint64_t)enq_fd }, 8);
    check(memcmp(v, want, l->value_size) == 0);
out:
    free(v);
    free(want);
}

static void t_layout(void)
{
    shape s = { .data_off = 64, .name_len = 128, .partial = 8 };
    kt__scx_layout l;
    kt_err err = { 0 };

    if (!check_int(layout(&s, &l, &err), ==, 0)) {
        test_msg("%s", err.msg);
        return;
    }
    check_uint(l.value_size, ==, 64 + ops_size);
    check_uint(l.data_off, ==, 64);
    check_uint(l.select_cpu_off, ==, 64);
    check_uint(l.select_cpu_size, ==, 8);
    check_uint(l.select_cpu_index, ==, 0);
    check_uint(l.enqueue_off, ==, 64 + at_enqueue);
    check_uint(l.enqueue_size, ==, 8);
    check_uint(l.enqueue_index, ==, 1);
    check_uint(l.flags_off, ==, 64 + at_flags);
    check_uint(l.flags_size, ==, 8);
    check_uint(l.timeout_off, ==, 64 + at_timeout);
    check_uint(l.timeout_size, ==, 4);
    check_uint(l.name_off, ==, 64 + at_name);
    check_uint(l.name_size, ==, 128);
    check_uint(l.switch_partial, ==, 8);
    check_uint(l.ops_type_id, >, 0);
    check_uint(l.value_type_id, >, l.ops_type_id);
}

/* Everything moves with the BTF: a later data, a later enqueue, another
 * flag value, a shorter name. */
static void t_layout_moves(void)
{
    shape s = { .data_off = 128, .name_len = 64, .partial = 1 << 5, .extra_before_enqueue = 2 };
    kt__scx_layout l;
    kt_err err = { 0 };

    if (!check_int(layout(&s, &l, &err), ==, 0)) {
        test_msg("%s", err.msg);
        return;
    }
    check_uint(l.data_off, ==, 128);
    check_uint(l.enqueue_index, ==, 3);
    check_uint(l.enqueue_off, ==, 128 + 24);
    check_uint(l.select_cpu_off, ==, 128);
    check_uint(l.name_off, ==, 128 + at_name);
    check_uint(l.name_size, ==, 64);
    check_uint(l.switch_partial, ==, 1 << 5);
    expect_value("builtin:fifo_partial", &l, "ktstr_fifo_partial", 1 << 5, 0, -1, -1);
    expect_value("builtin:stall", &l, "ktstr_stall", 1 << 5, 3000, 41, 42);
    /* a BTF without the enum: the value sched_ext has always had */
    s.partial = 0;
    if (check_int(layout(&s, &l, &err), ==, 0))
        check_uint(l.switch_partial, ==, 1 << 3);
}

static void t_values(void)
{
    shape s = { .data_off = 64, .name_len = 128, .partial = 8 };
    kt__scx_layout l;
    kt_err err = { 0 };
    uint8_t v[1024];

    if (!check_int(layout(&s, &l, &err), ==, 0))
        return;
    expect_value("builtin:fifo", &l, "ktstr_fifo", 0, 0, -1, -1);
    expect_value("fifo", &l, "ktstr_fifo", 0, 0, -1, -1);          /* prefix optional */
    expect_value("builtin:fifo_partial", &l, "ktstr_fifo_partial", 8, 0, -1, -1);
    expect_value("builtin:stall", &l, "ktstr_stall", 8, 3000, 41, 42);
    /* fifo has no programs: the fds are ignored */
    if (check_int(kt__scx_builtin_value("builtin:fifo", &l, 41, 42, -1, -1, v, &err), ==, 0)) {
        check_uint(get(v, l.select_cpu_off, l.select_cpu_size), ==, 0);
        check_uint(get(v, l.enqueue_off, l.enqueue_size), ==, 0);
    }
    /* stall's programs are both needed */
    check_int(kt__scx_builtin_value("builtin:stall", &l, 41, -1, -1, -1, v, &err), ==, -1);
    check_str(err.msg, "builtin:stall: no enqueue program to put in the ops");
    check_int(kt__scx_builtin_value("builtin:stall", &l, -1, 42, -1, -1, v, &err), ==, -1);
    check_str(err.msg, "builtin:stall: no select_cpu program to put in the ops");
    check_int(kt__scx_builtin_value("builtin:rr", &l, -1, -1, -1, -1, v, &err), ==, -1);
    check_str(err.msg, "unknown built-in scheduler \"builtin:rr\" (built-ins: builtin:fifo, "
                       "builtin:fifo_partial, builtin:stall, builtin:lazy:P, P the ms of every "
                       "100 ms that CPU 1 is left idle, 0-100)");
}

static void t_names(void)
{
    check_str(kt__scx_builtin_ops_name("builtin:fifo"), "ktstr_fifo");
    check_str(kt__scx_builtin_ops_name("builtin:fifo_partial"), "ktstr_fifo_partial");
    check_str(kt__scx_builtin_ops_name("builtin:stall"), "ktstr_stall");
    check_str(kt__scx_builtin_ops_name("stall"), "ktstr_stall");
    check(kt__scx_builtin_ops_name("builtin:") == NULL);
    check(kt__scx_builtin_ops_name("builtin:fif") == NULL);
    check(kt__scx_builtin_ops_name("/usr/bin/scx_simple") == NULL);
    check(kt__scx_builtin_ops_name(NULL) == NULL);
    check(kt__scx_builtin_has_enqueue("builtin:stall"));
    check(!kt__scx_builtin_has_enqueue("builtin:fifo"));
    check(!kt__scx_builtin_has_enqueue("builtin:lazy:10"));
}

/* builtin:lazy takes its size, 0-100, and nothing else. */
static void t_lazy_spec(void)
{
    static const char *const bad[] = { "builtin:lazy", "builtin:lazy:", "builtin:lazy:101",
                                       "builtin:lazy:-1", "builtin:lazy:3x", "builtin:lazy: 3",
                                       "builtin:lazy:+3", "builtin:lazy3", "builtin:fifo:10" };
    kt_err err = { 0 };

    check_str(kt__scx_builtin_ops_name("builtin:lazy:0"), "ktstr_lazy");
    check_str(kt__scx_builtin_ops_name("builtin:lazy:100"), "ktstr_lazy");
    check_int(kt__scx_builtin_check("builtin:lazy:30", &err), ==, 0);
    check_int(kt__scx_builtin_check("builtin:fifo", &err), ==, 0);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        check(kt__scx_builtin_ops_name(bad[i]) == NULL);
        if (check_int(kt__scx_builtin_check(bad[i], &err), ==, -1))
            check_contains(err.msg, bad[i]);
        check_contains(err.msg, "builtin:lazy:P, P the ms of every 100 ms that CPU 1 is left idle");
    }
}

static void t_missing(void)
{
    shape s = { .data_off = 64, .name_len = 128, .partial = 8 };
    kt__scx_layout l;
    kt_err err = { 0 };
    uint8_t v[1024];

    /* builtin:lazy's value needs the members and the flag its programs
     * rely on: the fixture's ops have neither */
    if (check_int(layout(&s, &l, &err), ==, 0)) {
        check_uint(l.dispatch_size, ==, 0);
        check_uint(l.enq_last, ==, 0);
        check_int(kt__scx_builtin_value("builtin:lazy:5", &l, 1, 2, 3, 4, v, &err), ==, -1);
        check_str(err.msg, "builtin:lazy:5: this kernel's BTF has no SCX_OPS_ENQ_LAST");
        l.enq_last = 2;
        check_int(kt__scx_builtin_value("builtin:lazy:5", &l, 1, 2, 3, 4, v, &err), ==, -1);
        check_str(err.msg, "builtin:lazy:5: this kernel's sched_ext_ops has no member dispatch");
    }
    s.no_value_type = 1;
    check_int(layout(&s, &l, &err), ==, -1);
    check_int(err.code, ==, ENOENT);
    check_str(err.msg,
              "this kernel has no sched_ext: no bpf_struct_ops_sched_ext_ops in BTF buffer");
    s.no_value_type = 0;
    s.omit = "timeout_ms";
    check_int(layout(&s, &l, &err), ==, -1);
    check_str(err.msg, "BTF buffer: struct sched_ext_ops has no member timeout_ms");
    s.omit = "enqueue";
    check_int(layout(&s, &l, &err), ==, -1);
    check_str(err.msg, "BTF buffer: struct sched_ext_ops has no member enqueue");
    s.omit = "select_cpu";
    check_int(layout(&s, &l, &err), ==, -1);
    check_str(err.msg, "BTF buffer: struct sched_ext_ops has no member select_cpu");
    s.omit = NULL;
    s.value_size = 32;                             /* the ops cannot fit */
    check_int(layout(&s, &l, &err), ==, -1);
    check_contains(err.msg, "bpf_struct_ops_sched_ext_ops.data at bit 512: not in the value");
    s.value_size = 64 + 16;
    check_int(layout(&s, &l, &err), ==, -1);
    check_contains(err.msg, "lies past the end of bpf_struct_ops_sched_ext_ops (80 bytes)");
    s.value_size = 0;
    s.name_len = 11;                               /* "ktstr_fifo" fits, no more */
    if (check_int(layout(&s, &l, &err), ==, 0)) {
        check_int(kt__scx_builtin_value("builtin:fifo", &l, -1, -1, -1, -1, v, &err), ==, 0);
        check_int(kt__scx_builtin_value("builtin:stall", &l, 3, 4, -1, -1, v, &err), ==, -1);
        check_str(err.msg, "sched_ext_ops.name (11 bytes) cannot hold \"ktstr_stall\"");
    }
}

static char tmpdir[64];

/* A BTF file without sched_ext: the load stops at once with the one
 * clear error, and leaves nothing open. */
static void t_load_no_scx(void)
{
    shape s = { .data_off = 64, .name_len = 128, .partial = 8, .no_value_type = 1 };
    char path[128], want[256];
    size_t n = make_btf(&s, blob, sizeof(blob));
    kt__scx_handle h;
    kt_err err = { 0 };
    FILE *f;

    snprintf(path, sizeof(path), "%s/noscx.btf", tmpdir);
    f = fopen(path, "wb");
    if (!check(f != NULL))
        return;
    check_uint(fwrite(blob, 1, n, f), ==, n);
    fclose(f);
    check_int(kt__scx_builtin_load_btf("builtin:fifo", path, &h, &err), ==, -1);
    snprintf(want, sizeof(want), "this kernel has no sched_ext: no bpf_struct_ops_sched_ext_ops in %s",
             path);
    check_str(err.msg, want);
    check_int(h.btf_fd, ==, -1);
    check_int(h.select_fd, ==, -1);
    check_int(h.enqueue_fd, ==, -1);
    check_int(h.map_fd, ==, -1);
    check_int(h.link_fd, ==, -1);
    kt__scx_builtin_unload(&h);                     /* safe on a failed load */
    kt__scx_builtin_unload(&h);
    snprintf(path, sizeof(path), "%s/none.btf", tmpdir);
    check_int(kt__scx_builtin_load_btf("builtin:stall", path, &h, &err), ==, -1);
    check_contains(err.msg, "this kernel has no BTF to lay out sched_ext_ops by");
    check_contains(err.msg, "none.btf: open: No such file");
    check_int(kt__scx_builtin_load_btf("builtin:nope", path, &h, &err), ==, -1);
    check_contains(err.msg, "unknown built-in scheduler \"builtin:nope\"");
}

/* This host: where its kernel has no sched_ext (6.18 here), every
 * built-in fails with exactly that. A kernel with sched_ext cannot show
 * the error, and is not loaded into from a unit test: a skip. */
static void t_host(void)
{
    static const char *const specs[] = { "builtin:fifo", "builtin:fifo_partial", "builtin:stall",
                                         "builtin:lazy:10" };
    kt__btf b;
    kt_err err = { 0 };
    uint32_t id;

    if (access(KT__SCX_VMLINUX_BTF, R_OK) != 0) {
        test_skip("no readable %s: the no-sched_ext error needs the kernel's BTF",
                  KT__SCX_VMLINUX_BTF);
        return;
    }
    if (!check_int(kt__btf_load(KT__SCX_VMLINUX_BTF, &b, &err), ==, 0))
        return;
    id = kt__btf_find(&b, "bpf_struct_ops_sched_ext_ops", BTF_KIND_STRUCT, NULL);
    kt__btf_free(&b);
    if (id) {
        test_skip("this kernel has sched_ext: its no-sched_ext error cannot be shown here, "
                  "and loading is tested in a guest (tests/progs/scx_load.c)");
        return;
    }
    for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
        kt__scx_handle h;

        check_int(kt__scx_builtin_load(specs[i], &h, &err), ==, -1);
        check_str(err.msg, "this kernel has no sched_ext: no bpf_struct_ops_sched_ext_ops in "
                           "/sys/kernel/btf/vmlinux");
        check_int(err.code, ==, ENOENT);
        check_int(h.link_fd, ==, -1);
    }
}

static void expect_reason(const char *log, const char *want)
{
    char buf[512];
    const char *r;

    snprintf(buf, sizeof(buf), "%s", log);
    r = kt__scx_log_reason(buf, sizeof(buf));
    if (want)
        check_str(r ? r : "(null)", want);
    else
        check(r == NULL);
}

static void t_log_reason(void)
{
    expect_reason("Invalid btf_fd.\n", "Invalid btf_fd.");
    expect_reason("attach_btf_id 105513 is not a supported struct\n"
                  "processed 0 insns (limit 1000000) max_states_per_insn 0 total_states 0\n",
                  "attach_btf_id 105513 is not a supported struct");
    expect_reason("func#0 @0\n0: R1=ctx() R10=fp0\n0: (95) exit\nR0 !read_ok\n"
                  "verification time 12 usec\n",
                  "R0 !read_ok");
    expect_reason("first\n\n  \nlast one  \r\n\n", "last one");
    expect_reason("", NULL);
    expect_reason("\n \n", NULL);
    expect_reason("processed 2 insns (limit 1000000)\n", NULL);
    {
        char full[8];

        memcpy(full, "abcdefgh", 8);               /* not NUL-terminated */
        check_str(kt__scx_log_reason(full, sizeof(full)), "abcdefg");
    }
}

int main(void)
{
    if (fx_tmpdir(tmpdir, "scx-builtin") < 0)
        return perror("mkdtemp"), 1;
    TEST(t_layout(), "the value's layout comes from BTF: offsets, sizes, enqueue's index");
    TEST(t_layout_moves(), "another BTF, another layout: nothing hard-coded");
    TEST(t_values(), "each built-in's value, byte by byte");
    TEST(t_names(), "built-in names and their ops names");
    TEST(t_lazy_spec(), "builtin:lazy:P: P 0-100 or a clear error");
    TEST(t_missing(), "a BTF lacking a type or member (builtin:lazy's too), or too small: "
                      "clear errors");
    TEST(t_load_no_scx(), "loading against a BTF without sched_ext: the clear error, nothing open");
    TEST(t_host(), "this host's kernel: every built-in says it has no sched_ext");
    TEST(t_log_reason(), "the kernel's reason out of a bpf() log");
    if (fx_tmpdir_remove(tmpdir) != 0)
        test_msg("could not remove %s", tmpdir);
    return test_done();
}
