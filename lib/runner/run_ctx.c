/* The context of the body this process runs: what the public calls that
 * need the runner (kt_ctx_rmdir_at_exit, kt_ctx_series) find it by. */
#include <errno.h>
#include <string.h>

#include "runner/point.h"
#include "runner/wire.h"

/* Set once in a point's child, before its kind runs; the one piece of
 * process state the runner keeps besides the scenario registry. */
static kt__run_ctx *running;

void kt__run_ctx_enter(kt__run_ctx *rc)
{
    running = rc;
}

kt__run_ctx *kt__run_ctx_of(kt_ctx *ctx)
{
    /* compared, not cast: a kt_ctx its caller made has nothing after it */
    return running && ctx == &running->pub ? running : NULL;
}

int kt_ctx_rmdir_at_exit(kt_ctx *ctx, const char *path)
{
    const kt__run_ctx *rc = kt__run_ctx_of(ctx);

    if (!rc) {
        errno = EBADF;   /* not under the runner: nobody to ask */
        return -1;
    }
    if (!path || path[0] != '/') {
        errno = EINVAL;  /* the parent's cwd may differ from the child's */
        return -1;
    }
    if (strlen(path) >= KT__WIRE_FIELD_MAX) {
        errno = ENAMETOOLONG;   /* the wire would cut it: another path */
        return -1;
    }
    return kt__wire_send(rc->wire_fd, "RMDIR", &path, 1);
}

int kt_ctx_rmdir_hook(void *ctx, const char *path)
{
    return kt_ctx_rmdir_at_exit(ctx, path);
}
