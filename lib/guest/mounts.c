/* The guest's PID 1: the file systems a scenario expects, and power-off. */
#include "guest/guest.h"

#include <errno.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <unistd.h>

static const struct {
    const char *type, *target, *data;
    unsigned long flags;
    bool needed;           /* false: a kernel without it still runs scenarios */
} mounts[] = {
    { "proc", "/proc", NULL, MS_NOSUID | MS_NODEV | MS_NOEXEC, true },
    { "sysfs", "/sys", NULL, MS_NOSUID | MS_NODEV | MS_NOEXEC, true },
    { "devtmpfs", "/dev", "mode=0755", MS_NOSUID, true },
    { "tmpfs", "/tmp", "mode=1777", MS_NOSUID | MS_NODEV, true },
    { "tmpfs", "/run", "mode=0755", MS_NOSUID | MS_NODEV, true },
    { "cgroup2", "/sys/fs/cgroup", NULL, MS_NOSUID | MS_NODEV | MS_NOEXEC, false },
    { "debugfs", "/sys/kernel/debug", NULL, MS_NOSUID | MS_NODEV | MS_NOEXEC, false },
    { "tracefs", "/sys/kernel/tracing", NULL, MS_NOSUID | MS_NODEV | MS_NOEXEC, false },
};

int kt__guest_mount_all(kt_err *err)
{
    for (size_t i = 0; i < sizeof(mounts) / sizeof(mounts[0]); i++) {
        if (mkdir(mounts[i].target, 0755) < 0 && errno != EEXIST && mounts[i].needed)
            return kt_err_sys(err, errno, "guest init: mkdir %s", mounts[i].target);
        if (mount(mounts[i].type, mounts[i].target, mounts[i].type, mounts[i].flags,
                  mounts[i].data) < 0 && errno != EBUSY && mounts[i].needed)
            return kt_err_sys(err, errno, "guest init: mount %s on %s", mounts[i].type,
                              mounts[i].target);
    }
    return 0;
}

void kt__guest_power_off(void)
{
    sync();
    reboot(RB_POWER_OFF);
    _exit(1);   /* reboot() failed: PID 1 exiting panics the guest, which ends QEMU too */
}
