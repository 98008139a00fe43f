/* kt_ctx_changes: the changes a body made mid-run cross the wire as OP
 * lines, one per change, and land in the point's YAML (ops:). */
#include <errno.h>
#include <stdio.h>

#include "ktstr/changes.h"
#include "runner/point.h"
#include "runner/wire.h"

int kt_ctx_changes(kt_ctx *ctx, const kt_changes *c)
{
    const kt__run_ctx *rc = kt__run_ctx_of(ctx);
    size_t i, n = kt_changes_count(c);

    if (!rc) {
        errno = EBADF;   /* not under the runner: nobody to hand it to */
        return -1;
    }
    if (!c) {
        errno = EINVAL;
        return -1;
    }
    for (i = 0; i < n; i++) {
        const kt_change_record *r = kt_changes_get(c, i);
        char planned[24], actual[24], took[24];
        const char *f[5] = { r->what, planned, actual, took, r->result };

        snprintf(planned, sizeof(planned), "%llu", (unsigned long long)r->planned_ms);
        snprintf(actual, sizeof(actual), "%.1f", r->actual_ms);
        snprintf(took, sizeof(took), "%.2f", r->took_ms);
        if (kt__wire_send(rc->wire_fd, "OP", f, 5) < 0)
            return -1;
    }
    return 0;
}
