/*
 * The micro-VM's programs (kt_microvm_prog): 16-bit real-mode code, as
 * bytes with the assembly (GNU as, .code16) beside them. Every program
 * runs at VM_CODE_GPA with DS pointing at the vCPU's data block (see
 * microvm_int.h) and reports progress with a 64-bit add/adc on DS:0,
 * which the host reads with no exit. None of them touches a port: every
 * exit a vCPU takes is the host's doing (a kick) or the CPU's (HLT
 * without an in-kernel irqchip).
 */
#include "microvm/microvm_int.h"

/* 1: hlt; addl $1,0x0; adcl $0,0x4; jmp 1b
 * Each wake-up (a kick that makes the vCPU runnable) counts once. */
static const uint8_t halt_code[] = {
    0xf4,                               /* 1: hlt          */
    0x66, 0x83, 0x06, 0x00, 0x00, 0x01, /* addl $1, 0x0   */
    0x66, 0x83, 0x16, 0x04, 0x00, 0x00, /* adcl $0, 0x4   */
    0xeb, 0xf1,                         /* jmp 1b          */
};

/* 1: pause; addl $1,0x0; adcl $0,0x4; jmp 1b
 * What a guest spinning on a lock does; PAUSE may cause pause-loop exits. */
static const uint8_t spin_code[] = {
    0xf3, 0x90,                         /* 1: pause        */
    0x66, 0x83, 0x06, 0x00, 0x00, 0x01, /* addl $1, 0x0   */
    0x66, 0x83, 0x16, 0x04, 0x00, 0x00, /* adcl $0, 0x4   */
    0xeb, 0xf0,                         /* jmp 1b          */
};

/* 1: mov $256,%cx
 * 2: imul $1103515245,%eax,%eax; add $12345,%eax; loop 2b
 *    addl $1,0x0; adcl $0,0x4; jmp 1b
 * A register-only LCG, 256 steps per counted iteration. */
static const uint8_t compute_code[] = {
    0xb9, 0x00, 0x01,                         /* 1: mov $256, %cx       */
    0x66, 0x69, 0xc0, 0x6d, 0x4e, 0xc6, 0x41, /* 2: imul $0x41c64e6d,.. */
    0x66, 0x05, 0x39, 0x30, 0x00, 0x00,       /* add $12345, %eax       */
    0xe2, 0xf1,                               /* loop 2b                */
    0x66, 0x83, 0x06, 0x00, 0x00, 0x01,       /* addl $1, 0x0           */
    0x66, 0x83, 0x16, 0x04, 0x00, 0x00,       /* adcl $0, 0x4           */
    0xeb, 0xe0,                               /* jmp 1b                 */
};

/* COMPUTE, then after each counted iteration: cmpb $0,0x8; je 1b; hlt;
 * jmp 1b. The host sets the halt request when the run phase ends and
 * clears it (and makes the vCPU runnable) when the halt phase ends. */
static const uint8_t duty_code[] = {
    0xb9, 0x00, 0x01,                         /* 1: mov $256, %cx       */
    0x66, 0x69, 0xc0, 0x6d, 0x4e, 0xc6, 0x41, /* 2: imul $0x41c64e6d,.. */
    0x66, 0x05, 0x39, 0x30, 0x00, 0x00,       /* add $12345, %eax       */
    0xe2, 0xf1,                               /* loop 2b                */
    0x66, 0x83, 0x06, 0x00, 0x00, 0x01,       /* addl $1, 0x0           */
    0x66, 0x83, 0x16, 0x04, 0x00, 0x00,       /* adcl $0, 0x4           */
    0x80, 0x3e, 0x08, 0x00, 0x00,             /* cmpb $0, 0x8           */
    0x74, 0xdb,                               /* je 1b                  */
    0xf4,                                     /* hlt                    */
    0xeb, 0xd8,                               /* jmp 1b                 */
};

static const kt__microvm_image images[KT_MICROVM_NR_PROGS] = {
    [KT_MICROVM_PROG_HALT] = { halt_code, sizeof(halt_code) },
    [KT_MICROVM_PROG_SPIN] = { spin_code, sizeof(spin_code) },
    [KT_MICROVM_PROG_COMPUTE] = { compute_code, sizeof(compute_code) },
    [KT_MICROVM_PROG_DUTY] = { duty_code, sizeof(duty_code) },
};

static const char *const prog_names[KT_MICROVM_NR_PROGS] = {
    [KT_MICROVM_PROG_HALT] = "halt",
    [KT_MICROVM_PROG_SPIN] = "spin",
    [KT_MICROVM_PROG_COMPUTE] = "compute",
    [KT_MICROVM_PROG_DUTY] = "duty",
};

const kt__microvm_image *kt__microvm_prog_image(kt_microvm_prog prog)
{
    if ((unsigned)prog >= KT_MICROVM_NR_PROGS)
        return NULL;
    return &images[prog];
}

const char *kt_microvm_prog_name(kt_microvm_prog prog)
{
    if ((unsigned)prog >= KT_MICROVM_NR_PROGS)
        return "unknown";
    return prog_names[prog];
}
