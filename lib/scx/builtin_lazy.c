/*
 * builtin:lazy:P's programs: a global FIFO with a graded defect, the
 * sched_ext fault of `make power` (README: Detection power). CPU 1 stays
 * idle for the first P ms of every 100 ms of the clock while tasks wait;
 * P 0 is the same scheduler without the defect. See scx.h.
 *
 * Hand-assembled BPF, so that it needs no BPF toolchain: every kfunc is
 * called by its id in this kernel's BTF and every flag is read from the
 * same BTF, never hard-coded (the values move between kernel versions).
 *
 *   init        creates the shared queue LAZY_DSQ (sleepable: the kfunc
 *               allocates)
 *   select_cpu  the kernel's default choice (an idle CPU if there is one),
 *               without its direct dispatch, so every task meets enqueue
 *   enqueue     into LAZY_DSQ; a CPU's last runnable task (SCX_ENQ_LAST,
 *               asked for by SCX_OPS_ENQ_LAST) onto its own local queue,
 *               except on CPU 1 inside its idle window: into LAZY_DSQ, so
 *               CPU 1 goes idle rather than keep it
 *   dispatch    moves LAZY_DSQ's head to the CPU's local queue, except on
 *               CPU 1 inside its window; another CPU outside the window
 *               kicks CPU 1 if it idles, so a window ends within a slice
 *               even when nothing wakes
 */
#include "scx/scx.h"

#include <errno.h>
#include <linux/bpf.h>
#include <linux/btf.h>
#include <string.h>

#define LAZY_DSQ 0x6b74u          /* a user queue's id ("kt"), below the built-in flag */
#define LAZY_CPU 1
#define LAZY_PERIOD_MS 100
#define HELPER_KTIME_GET_NS 5
#define HELPER_SMP_PROCESSOR_ID 8

/* The kfuncs, in the order of the kfunc ids below. */
enum { K_CREATE, K_SELECT_DFL, K_INSERT, K_MOVE_TO_LOCAL, K_KICK, K_COUNT };
static const char *const kfunc_names[K_COUNT] = {
    "scx_bpf_create_dsq", "scx_bpf_select_cpu_dfl", "scx_bpf_dsq_insert",
    "scx_bpf_dsq_move_to_local", "scx_bpf_kick_cpu",
};

/* The enumerators, in the order of the values below. */
enum { E_ENQ_LAST, E_DSQ_LOCAL, E_SLICE_DFL, E_KICK_IDLE, E_COUNT };
static const char *const enum_names[E_COUNT] = {
    "SCX_ENQ_LAST", "SCX_DSQ_LOCAL", "SCX_SLICE_DFL", "SCX_KICK_IDLE",
};

/* ---- a few instructions ------------------------------------------------- */

static void put(kt__scx_prog *p, uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
    struct bpf_insn *i = &p->insns[p->n++];

    memset(i, 0, sizeof(*i));
    i->code = code;
    i->dst_reg = dst & 0xf;
    i->src_reg = src & 0xf;
    i->off = off;
    i->imm = imm;
}

/* dst = v, any 64-bit value (two instructions) */
static void ld64(kt__scx_prog *p, uint8_t dst, uint64_t v)
{
    put(p, BPF_LD | BPF_DW | BPF_IMM, dst, 0, 0, (int32_t)(uint32_t)v);
    put(p, 0, 0, 0, 0, (int32_t)(uint32_t)(v >> 32));
}

static void ctx_arg(kt__scx_prog *p, uint8_t dst, int i)
{
    put(p, BPF_LDX | BPF_MEM | BPF_DW, dst, BPF_REG_1, (int16_t)(8 * i), 0);
}

static void helper(kt__scx_prog *p, int32_t id)
{
    put(p, BPF_JMP | BPF_CALL, 0, 0, 0, id);
}

static void kfunc(kt__scx_prog *p, uint32_t btf_id)
{
    put(p, BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_KFUNC_CALL, 0, (int32_t)btf_id);
}

/* r0 = the clock's ms within the current 100 ms */
static void window_ms(kt__scx_prog *p)
{
    helper(p, HELPER_KTIME_GET_NS);
    put(p, BPF_ALU64 | BPF_DIV | BPF_K, BPF_REG_0, 0, 0, 1000000);
    put(p, BPF_ALU64 | BPF_MOD | BPF_K, BPF_REG_0, 0, 0, LAZY_PERIOD_MS);
}

static void ret0(kt__scx_prog *p)
{
    put(p, BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0);
    put(p, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
}

/* ---- the programs ------------------------------------------------------- */

static void build_init(kt__scx_prog *p, const uint32_t *k)
{
    put(p, BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_1, 0, 0, LAZY_DSQ);
    put(p, BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_2, 0, 0, -1);      /* any NUMA node */
    kfunc(p, k[K_CREATE]);
    put(p, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);                      /* its error fails the load */
}

/* select_cpu(p, prev_cpu, wake_flags): is_idle lives at r10 - 8 */
static void build_select(kt__scx_prog *p, const uint32_t *k)
{
    ctx_arg(p, BPF_REG_2, 1);
    ctx_arg(p, BPF_REG_3, 2);
    ctx_arg(p, BPF_REG_1, 0);
    put(p, BPF_ST | BPF_MEM | BPF_DW, BPF_REG_10, 0, -8, 0);
    put(p, BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_4, BPF_REG_10, 0, 0);
    put(p, BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_4, 0, 0, -8);
    kfunc(p, k[K_SELECT_DFL]);
    put(p, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
}

/* enqueue(p, enq_flags); r6 p, r7 enq_flags, r8 the queue chosen */
static void build_enqueue(kt__scx_prog *p, const uint32_t *k, const uint64_t *e, unsigned pct)
{
    ctx_arg(p, BPF_REG_6, 0);
    ctx_arg(p, BPF_REG_7, 1);
    put(p, BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_8, 0, 0, LAZY_DSQ);
    ld64(p, BPF_REG_2, e[E_ENQ_LAST]);
    put(p, BPF_ALU64 | BPF_AND | BPF_X, BPF_REG_2, BPF_REG_7, 0, 0);
    put(p, BPF_JMP | BPF_JEQ | BPF_K, BPF_REG_2, 0, 8, 0);         /* not the last: insert */
    helper(p, HELPER_SMP_PROCESSOR_ID);
    put(p, BPF_JMP32 | BPF_JNE | BPF_K, BPF_REG_0, 0, 4, LAZY_CPU); /* another CPU: local */
    window_ms(p);
    put(p, BPF_JMP | BPF_JLT | BPF_K, BPF_REG_0, 0, 2, (int32_t)pct); /* idle window: insert */
    ld64(p, BPF_REG_8, e[E_DSQ_LOCAL]);                           /* local: */
    put(p, BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_1, BPF_REG_6, 0, 0); /* insert: */
    put(p, BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_2, BPF_REG_8, 0, 0);
    ld64(p, BPF_REG_3, e[E_SLICE_DFL]);
    put(p, BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_4, BPF_REG_7, 0, 0);
    kfunc(p, k[K_INSERT]);
    ret0(p);
}

/* dispatch(cpu, prev); r6 cpu, r7 the ms within the period */
static void build_dispatch(kt__scx_prog *p, const uint32_t *k, const uint64_t *e, unsigned pct)
{
    ctx_arg(p, BPF_REG_6, 0);
    window_ms(p);
    put(p, BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_7, BPF_REG_0, 0, 0);
    put(p, BPF_JMP32 | BPF_JNE | BPF_K, BPF_REG_6, 0, 2, LAZY_CPU); /* another CPU: other */
    put(p, BPF_JMP | BPF_JLT | BPF_K, BPF_REG_7, 0, 7, (int32_t)pct); /* CPU 1 idles: out */
    put(p, BPF_JMP | BPF_JA, 0, 0, 4, 0);                          /* consume */
    put(p, BPF_JMP | BPF_JLT | BPF_K, BPF_REG_7, 0, 3, (int32_t)pct); /* other: in the window */
    put(p, BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_1, 0, 0, LAZY_CPU);
    put(p, BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_2, 0, 0, (int32_t)e[E_KICK_IDLE]);
    kfunc(p, k[K_KICK]);
    put(p, BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_1, 0, 0, LAZY_DSQ); /* consume: */
    kfunc(p, k[K_MOVE_TO_LOCAL]);
    ret0(p);                                                       /* out: */
}

int kt__scx_lazy_progs(const kt__btf *b, unsigned pct, kt__scx_prog progs[KT__SCX_LAZY_PROGS],
                       kt_err *err)
{
    uint32_t k[K_COUNT];
    uint64_t e[E_COUNT];

    if (pct > LAZY_PERIOD_MS)
        return kt_err_set(err, EINVAL, "builtin:lazy: %u ms idle of every %d ms is more than all",
                          pct, LAZY_PERIOD_MS);
    for (int i = 0; i < K_COUNT; i++) {
        k[i] = kt__btf_find(b, kfunc_names[i], BTF_KIND_FUNC, NULL);
        if (!k[i])
            return kt_err_set(err, ENOENT, "builtin:lazy: %s has no kfunc %s", b->src,
                              kfunc_names[i]);
    }
    for (int i = 0; i < E_COUNT; i++) {
        int64_t v;

        if (kt__btf_enum_value(b, enum_names[i], &v, NULL) < 0)
            return kt_err_set(err, ENOENT, "builtin:lazy: %s has no enumerator %s", b->src,
                              enum_names[i]);
        e[i] = (uint64_t)v;
    }
    if (e[E_KICK_IDLE] > INT32_MAX)
        return kt_err_set(err, ERANGE, "builtin:lazy: %s: SCX_KICK_IDLE is %llu, past an "
                          "instruction's immediate", b->src, (unsigned long long)e[E_KICK_IDLE]);
    memset(progs, 0, sizeof(*progs) * KT__SCX_LAZY_PROGS);
    progs[0].member = "init";
    progs[0].sleepable = true;
    build_init(&progs[0], k);
    progs[1].member = "select_cpu";
    build_select(&progs[1], k);
    progs[2].member = "enqueue";
    build_enqueue(&progs[2], k, e, pct);
    progs[3].member = "dispatch";
    build_dispatch(&progs[3], k, e, pct);
    return 0;
}
