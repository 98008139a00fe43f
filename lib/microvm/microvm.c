/*
 * kt_microvm: the VM, its guest memory and its vCPU fds. Everything that
 * can refuse (the device, the API version, a capability, the stats fd) is
 * tried here, in kt_microvm_create, so a scenario learns why it must skip
 * before any thread starts.
 */
#include "microvm/microvm_int.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

/* Where Intel's real-mode emulation keeps its TSS (three pages below the
 * BIOS area, the address QEMU and kvmtool use too); unused on AMD. */
#define VM_TSS_ADDR 0xfffbd000ul

static const struct {
    int cap;
    const char *name;
} required_caps[] = {
    { KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY" },
    { KVM_CAP_SET_TSS_ADDR, "KVM_CAP_SET_TSS_ADDR" },
};

static int check_config(const kt_microvm_config *cfg, kt_err *err)
{
    if (!cfg)
        return kt_err_set(err, EINVAL, "kt_microvm_create: no config");
    if (cfg->nr_vcpus < 1 || cfg->nr_vcpus > KT_MICROVM_MAX_VCPUS)
        return kt_err_set(err, EINVAL,
                          "kt_microvm_create: nr_vcpus %d out of range [1, %d]",
                          cfg->nr_vcpus, KT_MICROVM_MAX_VCPUS);
    if (!kt__microvm_prog_image(cfg->prog))
        return kt_err_set(err, EINVAL,
                          "kt_microvm_create: unknown program %d",
                          (int)cfg->prog);
    if (cfg->prog == KT_MICROVM_PROG_DUTY && cfg->duty_run_us == 0)
        return kt_err_set(err, EINVAL,
                          "kt_microvm_create: duty program needs duty_run_us > 0");
    if (cfg->prog == KT_MICROVM_PROG_DUTY && cfg->duty_halt_us == 0)
        return kt_err_set(err, EINVAL,
                          "kt_microvm_create: duty program needs duty_halt_us > 0");
    return 0;
}

/* Opens the device and checks that it is a KVM we can drive. */
static int open_kvm(kt_microvm *vm, const char *path, kt_err *err)
{
    int ver, max;

    vm->kvm_fd = open(path, O_RDWR | O_CLOEXEC);
    if (vm->kvm_fd < 0)
        return kt_err_sys(err, errno, "kvm (%s): open", path);
    ver = ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0);
    if (ver < 0)
        return kt_err_sys(err, errno, "kvm (%s): KVM_GET_API_VERSION", path);
    if (ver != KVM_API_VERSION)
        return kt_err_set(err, 0, "kvm (%s): API version %d, need %d", path,
                          ver, KVM_API_VERSION);
    for (size_t i = 0; i < sizeof(required_caps) / sizeof(required_caps[0]); i++)
        if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, required_caps[i].cap) <= 0)
            return kt_err_set(err, 0, "kvm (%s): capability %s missing", path,
                              required_caps[i].name);
    max = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
    if (max <= 0)
        max = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS);
    if (max <= 0)
        max = 4; /* what the KVM API documents when both are missing */
    if (vm->nr_vcpus > max)
        return kt_err_set(err, 0, "kvm (%s): %d vCPUs asked, this KVM allows %d",
                          path, vm->nr_vcpus, max);
    vm->run_size = 0;
    {
        int sz = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
        if (sz < (int)sizeof(struct kvm_run))
            return kt_err_sys(err, sz < 0 ? errno : EINVAL,
                              "kvm (%s): KVM_GET_VCPU_MMAP_SIZE", path);
        vm->run_size = (size_t)sz;
    }
    vm->kernel_halt = !vm->cfg.no_irqchip &&
                      ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_IRQCHIP) > 0;
    return 0;
}

static int create_vm(kt_microvm *vm, kt_err *err)
{
    struct kvm_userspace_memory_region region;
    const kt__microvm_image *img = kt__microvm_prog_image(vm->cfg.prog);

    do
        vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
    while (vm->vm_fd < 0 && errno == EINTR);
    if (vm->vm_fd < 0)
        return kt_err_sys(err, errno, "kvm: KVM_CREATE_VM");
    if (ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, VM_TSS_ADDR) < 0)
        return kt_err_sys(err, errno, "kvm: KVM_SET_TSS_ADDR");
    /* Must precede the vCPUs: each one gets its local APIC from it. */
    if (vm->kernel_halt && ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0)
        return kt_err_sys(err, errno, "kvm: KVM_CREATE_IRQCHIP");

    vm->mem = mmap(NULL, VM_MEM_SIZE, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (vm->mem == MAP_FAILED) {
        vm->mem = NULL;
        return kt_err_sys(err, errno, "kvm: mmap of %u bytes of guest memory",
                          VM_MEM_SIZE);
    }
    memcpy(vm->mem + VM_CODE_GPA, img->code, img->len);
    memset(&region, 0, sizeof(region));
    region.slot = 0;
    region.guest_phys_addr = 0;
    region.memory_size = VM_MEM_SIZE;
    region.userspace_addr = (uint64_t)(uintptr_t)vm->mem;
    if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0)
        return kt_err_sys(err, errno, "kvm: KVM_SET_USER_MEMORY_REGION");
    return 0;
}

/* Real mode, CS:IP = 0:VM_CODE_GPA, DS = this vCPU's data block. */
static int set_entry_state(struct kt__microvm_vcpu *c, kt_err *err)
{
    struct kvm_sregs sregs;
    struct kvm_regs regs;
    struct kvm_mp_state mp = { .mp_state = KVM_MP_STATE_RUNNABLE };
    uint32_t data = VM_DATA_GPA + VM_DATA_STRIDE * (uint32_t)c->index;

    if (ioctl(c->fd, KVM_GET_SREGS, &sregs) < 0)
        return kt_err_sys(err, errno, "kvm (vCPU %d): KVM_GET_SREGS", c->index);
    sregs.cs.base = 0;
    sregs.cs.selector = 0;
    sregs.ds.base = data;
    sregs.ds.selector = (uint16_t)(data >> 4);
    if (ioctl(c->fd, KVM_SET_SREGS, &sregs) < 0)
        return kt_err_sys(err, errno, "kvm (vCPU %d): KVM_SET_SREGS", c->index);
    memset(&regs, 0, sizeof(regs));
    regs.rip = VM_CODE_GPA;
    regs.rflags = 0x2; /* bit 1 is reserved and must be set */
    if (ioctl(c->fd, KVM_SET_REGS, &regs) < 0)
        return kt_err_sys(err, errno, "kvm (vCPU %d): KVM_SET_REGS", c->index);
    /* With an in-kernel irqchip every vCPU but 0 is an application
     * processor waiting for INIT/SIPI; there is no guest BIOS to send
     * them, so they are made runnable here. */
    if (c->vm->kernel_halt && ioctl(c->fd, KVM_SET_MP_STATE, &mp) < 0)
        return kt_err_sys(err, errno, "kvm (vCPU %d): KVM_SET_MP_STATE",
                          c->index);
    return 0;
}

/* A kernel before 5.14 answers KVM_GET_STATS_FD with EINVAL or ENOTTY:
 * the VM runs without stats then. Any other error is a real failure. */
static int open_stats(struct kt__microvm_vcpu *c, kt_err *err)
{
    if (c->vm->cfg.no_stats_fd) {
        kt_err_set(&c->stats_err, ENOTTY,
                   "kvm stats (vCPU %d): stats fd not opened (no_stats_fd set)",
                   c->index);
        return 0;
    }
    c->stats_fd = ioctl(c->fd, KVM_GET_STATS_FD, 0);
    if (c->stats_fd >= 0)
        return 0;
    if (errno == EINVAL || errno == ENOTTY) {
        kt_err_sys(&c->stats_err, errno,
                   "kvm stats (vCPU %d): KVM_GET_STATS_FD (kernel before 5.14?)",
                   c->index);
        return 0;
    }
    return kt_err_sys(err, errno, "kvm stats (vCPU %d): KVM_GET_STATS_FD",
                      c->index);
}

static int create_vcpu(kt_microvm *vm, int i, kt_err *err)
{
    struct kt__microvm_vcpu *c = &vm->vcpu[i];
    void *run;

    c->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, (unsigned long)i);
    if (c->fd < 0)
        return kt_err_sys(err, errno, "kvm (vCPU %d): KVM_CREATE_VCPU", i);
    if (open_stats(c, err) < 0)
        return -1;
    run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, c->fd, 0);
    if (run == MAP_FAILED)
        return kt_err_sys(err, errno, "kvm (vCPU %d): mmap of kvm_run", i);
    c->run = run;
    return set_entry_state(c, err);
}

kt_microvm *kt_microvm_create(const kt_microvm_config *cfg, kt_err *err)
{
    kt_microvm *vm;

    if (check_config(cfg, err) < 0)
        return NULL;
    vm = calloc(1, sizeof(*vm) + (size_t)cfg->nr_vcpus * sizeof(vm->vcpu[0]));
    if (!vm) {
        kt_err_sys(err, ENOMEM, "kt_microvm_create: %d vCPUs", cfg->nr_vcpus);
        return NULL;
    }
    vm->cfg = *cfg;
    vm->cfg.kvm_path = NULL; /* the caller's string may not outlive us */
    vm->nr_vcpus = cfg->nr_vcpus;
    vm->kvm_fd = vm->vm_fd = -1;
    for (int i = 0; i < vm->nr_vcpus; i++) {
        struct kt__microvm_vcpu *c = &vm->vcpu[i];
        c->vm = vm;
        c->index = i;
        c->fd = c->stats_fd = -1;
        atomic_init(&c->tid, -1);
        atomic_init(&c->stop, false);
        atomic_init(&c->failed, false);
    }
    if (pthread_mutex_init(&vm->lock, NULL) != 0) {
        kt_err_set(err, ENOMEM, "kt_microvm_create: pthread_mutex_init failed");
        free(vm);
        return NULL;
    }
    if (pthread_cond_init(&vm->cond, NULL) != 0) {
        kt_err_set(err, ENOMEM, "kt_microvm_create: pthread_cond_init failed");
        pthread_mutex_destroy(&vm->lock);
        free(vm);
        return NULL;
    }
    if (kt__microvm_install_kick(err) < 0 ||
        open_kvm(vm, cfg->kvm_path ? cfg->kvm_path : "/dev/kvm", err) < 0 ||
        create_vm(vm, err) < 0)
        goto fail;
    for (int i = 0; i < vm->nr_vcpus; i++) {
        vm->vcpu[i].data = vm->mem + VM_DATA_GPA + VM_DATA_STRIDE * (unsigned)i;
        if (create_vcpu(vm, i, err) < 0)
            goto fail;
    }
    return vm;
fail:
    kt_microvm_destroy(vm);
    return NULL;
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

void kt_microvm_destroy(kt_microvm *vm)
{
    if (!vm)
        return;
    kt_microvm_stop(vm);
    for (int i = 0; i < vm->nr_vcpus; i++) {
        struct kt__microvm_vcpu *c = &vm->vcpu[i];
        if (c->run)
            munmap(c->run, vm->run_size);
        close_fd(&c->stats_fd);
        close_fd(&c->fd);
    }
    close_fd(&vm->vm_fd);
    close_fd(&vm->kvm_fd);
    if (vm->mem)
        munmap(vm->mem, VM_MEM_SIZE);
    pthread_cond_destroy(&vm->cond);
    pthread_mutex_destroy(&vm->lock);
    free(vm);
}

static const struct kt__microvm_vcpu *vcpu_at(const kt_microvm *vm, int i)
{
    if (!vm || i < 0 || i >= vm->nr_vcpus)
        return NULL;
    return &vm->vcpu[i];
}

int kt_microvm_nr_vcpus(const kt_microvm *vm)
{
    return vm ? vm->nr_vcpus : 0;
}

pid_t kt_microvm_vcpu_tid(const kt_microvm *vm, int i)
{
    const struct kt__microvm_vcpu *c = vcpu_at(vm, i);
    return c ? (pid_t)atomic_load(&c->tid) : -1;
}

int kt_microvm_vcpu_fd(const kt_microvm *vm, int i)
{
    const struct kt__microvm_vcpu *c = vcpu_at(vm, i);
    return c ? c->fd : -1;
}

int kt_microvm_vcpu_stats_fd(const kt_microvm *vm, int i)
{
    const struct kt__microvm_vcpu *c = vcpu_at(vm, i);
    return c ? c->stats_fd : -1;
}

const kt_err *kt_microvm_vcpu_stats_error(const kt_microvm *vm, int i)
{
    const struct kt__microvm_vcpu *c = vcpu_at(vm, i);
    return c && c->stats_fd < 0 ? &c->stats_err : NULL;
}

const kt_err *kt_microvm_vcpu_error(const kt_microvm *vm, int i)
{
    const struct kt__microvm_vcpu *c = vcpu_at(vm, i);
    return c && atomic_load(&c->failed) ? &c->run_err : NULL;
}

/* The guest bumps the low word, then adds the carry to the high one; a
 * high word that reads the same on both sides of the low one is a
 * consistent pair, except in the two-instruction window after the low
 * word wraps (once per 2^32 iterations), where the value reads 2^32 low. */
uint64_t kt_microvm_vcpu_progress(const kt_microvm *vm, int i)
{
    const struct kt__microvm_vcpu *c = vcpu_at(vm, i);
    const volatile uint32_t *lo, *hi;
    uint32_t h1, l, h2;

    if (!c)
        return 0;
    lo = (const volatile uint32_t *)(c->data + VM_DATA_LO);
    hi = (const volatile uint32_t *)(c->data + VM_DATA_HI);
    do {
        h1 = *hi;
        l = *lo;
        h2 = *hi;
    } while (h1 != h2);
    return (uint64_t)h1 << 32 | l;
}
