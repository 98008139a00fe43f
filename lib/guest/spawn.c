/* Starting QEMU: exec errors reported, and no QEMU outliving its starter. */
#include "guest/guest.h"
#include "guest/qemu.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

/* Runs in the forked child: never returns. */
static void exec_qemu(const kt__qemu_argv *a, int keep_fd, int log_fd, int report_fd,
                      pid_t parent)
{
    int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
    int e;

    /* Dies with whoever started it, even a SIGKILLed runner child. */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
        _exit(127);
    if (null < 0 || dup2(null, 0) < 0 || dup2(log_fd, 1) < 0 || dup2(log_fd, 2) < 0)
        goto fail;
    if (fcntl(keep_fd, F_SETFD, 0) < 0)   /* the wire: QEMU opens /dev/fd/N */
        goto fail;
    execvp(a->argv[0], a->argv);
fail:
    e = errno;
    if (write(report_fd, &e, sizeof(e)) < 0)
        _exit(127);
    _exit(127);
}

pid_t kt__qemu_spawn(const kt__qemu_argv *a, int wire_fd, int log_fd, kt_err *err)
{
    int rep[2], e = 0;
    pid_t parent = getpid(), pid;
    ssize_t n;

    if (pipe2(rep, O_CLOEXEC) < 0)
        return kt_err_sys(err, errno, "QEMU: pipe");
    pid = fork();
    if (pid < 0) {
        e = errno;
        close(rep[0]);
        close(rep[1]);
        return kt_err_sys(err, e, "QEMU: fork");
    }
    if (pid == 0) {
        close(rep[0]);
        exec_qemu(a, wire_fd, log_fd, rep[1], parent);
    }
    close(rep[1]);
    while ((n = read(rep[0], &e, sizeof(e))) < 0 && errno == EINTR)
        ;
    close(rep[0]);
    if (n == (ssize_t)sizeof(e)) {
        kt_err_sys(err, e, "QEMU (%s): exec", a->argv[0]);
        return -1;   /* the child has exited: the caller reaps it */
    }
    return pid;
}
