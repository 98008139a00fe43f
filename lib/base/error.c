/* kt_err: errors as sentences a skip reason or a failure can quote. */
#include "ktstr/error.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const struct {
    int code;
    const char *name;
    const char *hint;
} errno_table[] = {
    { EPERM, "EPERM", "needs root or a capability" },
    { ENOENT, "ENOENT", "no such counter or file on this machine" },
    { ESRCH, "ESRCH", "thread gone" },
    { EINTR, "EINTR", NULL },
    { EIO, "EIO", NULL },
    { EBADF, "EBADF", NULL },
    { EAGAIN, "EAGAIN", NULL },
    { ENOMEM, "ENOMEM", NULL },
    { EACCES, "EACCES", "perf_event_paranoid too high or CAP_PERFMON missing" },
    { EFAULT, "EFAULT", NULL },
    { EBUSY, "EBUSY", NULL },
    { EEXIST, "EEXIST", NULL },
    { ENODEV, "ENODEV", "no such counter on this machine" },
    { ENOTDIR, "ENOTDIR", NULL },
    { EINVAL, "EINVAL", NULL },
    { EMFILE, "EMFILE", "out of file descriptors" },
    { ENOSPC, "ENOSPC", NULL },
    { EROFS, "EROFS", NULL },
    { ERANGE, "ERANGE", NULL },
    { ENOSYS, "ENOSYS", "not built into this kernel" },
    { ENOTSUP, "EOPNOTSUPP", "not supported here" },
    { ENXIO, "ENXIO", NULL },
    { E2BIG, "E2BIG", NULL },
    { ETIMEDOUT, "ETIMEDOUT", NULL },
    { ENOTTY, "ENOTTY", "ioctl not known to this kernel" },
};

static const struct {
    int sig;
    const char *name;
} signal_table[] = {
    { SIGHUP, "SIGHUP" },   { SIGINT, "SIGINT" },   { SIGQUIT, "SIGQUIT" },
    { SIGILL, "SIGILL" },   { SIGTRAP, "SIGTRAP" }, { SIGABRT, "SIGABRT" },
    { SIGBUS, "SIGBUS" },   { SIGFPE, "SIGFPE" },   { SIGKILL, "SIGKILL" },
    { SIGUSR1, "SIGUSR1" }, { SIGSEGV, "SIGSEGV" }, { SIGUSR2, "SIGUSR2" },
    { SIGPIPE, "SIGPIPE" }, { SIGALRM, "SIGALRM" }, { SIGTERM, "SIGTERM" },
    { SIGCHLD, "SIGCHLD" }, { SIGCONT, "SIGCONT" }, { SIGSTOP, "SIGSTOP" },
    { SIGTSTP, "SIGTSTP" }, { SIGXCPU, "SIGXCPU" }, { SIGXFSZ, "SIGXFSZ" },
    { SIGSYS, "SIGSYS" },
};

const char *kt_errno_name(int code)
{
    for (size_t i = 0; i < sizeof(errno_table) / sizeof(errno_table[0]); i++)
        if (errno_table[i].code == code)
            return errno_table[i].name;
    return "E?";
}

const char *kt_signal_name(int sig)
{
    for (size_t i = 0; i < sizeof(signal_table) / sizeof(signal_table[0]); i++)
        if (signal_table[i].sig == sig)
            return signal_table[i].name;
    return "SIG?";
}

static const char *errno_hint(int code)
{
    for (size_t i = 0; i < sizeof(errno_table) / sizeof(errno_table[0]); i++)
        if (errno_table[i].code == code)
            return errno_table[i].hint;
    return NULL;
}

static void vset(kt_err *err, int code, const char *fmt, va_list ap)
{
    err->code = code;
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
}

int kt_err_set(kt_err *err, int code, const char *fmt, ...)
{
    va_list ap;

    if (!err)
        return -1;
    va_start(ap, fmt);
    vset(err, code, fmt, ap);
    va_end(ap);
    return -1;
}

int kt_err_sys(kt_err *err, int code, const char *fmt, ...)
{
    va_list ap;
    const char *hint;
    size_t len;

    if (!err)
        return -1;
    va_start(ap, fmt);
    vset(err, code, fmt, ap);
    va_end(ap);
    len = strlen(err->msg);
    hint = errno_hint(code);
    if (hint)
        snprintf(err->msg + len, sizeof(err->msg) - len, ": %s (%s: %s)",
                 strerror(code), kt_errno_name(code), hint);
    else
        snprintf(err->msg + len, sizeof(err->msg) - len, ": %s (%s)",
                 strerror(code), kt_errno_name(code));
    return -1;
}
