/* ktstr kernel [DIR]: the guest kernel as `make kernel` fetches it, into
 * the user's cache by default, where `ktstr run --vm` looks for it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"

static void usage(FILE *fp)
{
    fprintf(fp, "usage: ktstr kernel [DIR]\n"
                "Fetches Debian's trixie-backports cloud kernel (sched_ext, BTF,\n"
                "schedstats) into DIR: bzImage, config and vmlinux; cached, so a\n"
                "second run downloads nothing. DIR defaults to\n"
                "${XDG_CACHE_HOME:-~/.cache}/ktstr/kernel, where ktstr run --vm finds\n"
                "it. Prints the bzImage's path. KTSTR_KERNEL_MIRROR=URI names a Debian\n"
                "mirror where this machine has no Debian source of its own.\n");
}

int kt__cmd_kernel(int argc, char **argv)
{
    char dir[PATH_MAX], libexec[PATH_MAX], script[PATH_MAX + 32];
    kt_err err = { 0, "" };
    int rc;

    if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        usage(stdout);
        return 0;
    }
    if (argc > 2 || (argc == 2 && argv[1][0] == '-')) {
        fprintf(stderr, "ktstr kernel: %s '%s' (ktstr kernel --help)\n",
                argc > 2 ? "one directory at most, not also" : "unknown option",
                argc > 2 ? argv[2] : argv[1]);
        return KT__CMD_USAGE;
    }
    if (argc == 2)
        snprintf(dir, sizeof(dir), "%s", argv[1]);
    else if (kt__cmd_kernel_dir(dir, sizeof(dir), &err) < 0)
        goto fail;
    if (kt__cmd_libexec(libexec, sizeof(libexec), &err) < 0)
        goto fail;
    snprintf(script, sizeof(script), "%s/fetch-kernel.sh", libexec);
    setenv("KTSTR_CMD", "ktstr kernel", 1);   /* the script's errors name us */
    rc = kt__cmd_spawn((char *const[]){ script, dir, NULL }, &err);
    if (rc >= 0)
        return rc;
fail:
    fprintf(stderr, "%s\n", err.msg);
    return 1;
}
