/*
 * lib/guest/image.h - the guest's initramfs: the scenario binary as /init
 * with its loader and libraries, in an uncompressed newc cpio (private).
 *
 *   char path[PATH_MAX];
 *   int rc = kt__image_cached("/proc/self/exe", NULL, 0, "build/guest-cache",
 *                             path, sizeof(path), err);   // 1: cache hit
 *   // qemu ... -initrd path
 *
 * The image holds, in this order: the directories a guest mounts on
 * (/dev /proc /sys /sys/fs/cgroup /tmp /run /etc), /dev/console (c 5 1:
 * the kernel opens it for /init's stdio before anything is mounted) and
 * /dev/null (c 1 3), /init, the loader and libraries at the paths the
 * guest's loader opens (deps.h), /etc/ld.so.cache listing every library
 * by name (at boot there is no /proc, so the guest's loader cannot expand
 * /init's $ORIGIN; the cache finds those libraries anyway), then the extra
 * files.
 * Every entry is owned by root; its mtime is the binary's, so the same
 * inputs make the same bytes. Parent directories are added before what
 * they hold (the kernel does not create them).
 *
 * The cache key is the stat of every file the image would copy -- device,
 * inode, size, mtime and ctime, nanoseconds included -- with the guest
 * paths, modes and the bytes of in-memory extras, hashed (FNV-1a, 64
 * bits). Stat rather than a content hash because the resolution is redone
 * for every point of a catalog and reading every library each time costs
 * more than the build it saves; ctime changes on any write, so even a
 * rewrite that keeps the mtime is seen. The libraries are in the key, so
 * a rebuilt libktstr.so behind an unchanged binary rebuilds the image.
 * Images are written to a temporary file beside the target and renamed:
 * a concurrent or killed run never leaves a partial image.
 */
#ifndef KTSTR_LIB_GUEST_IMAGE_H
#define KTSTR_LIB_GUEST_IMAGE_H

#include <stdbool.h>
#include <stddef.h>

#include "ktstr/error.h"

/* One extra file for the image. */
typedef struct kt__image_file {
    const char *guest;      /* absolute path in the image ("/bin/scx_simple") */
    const char *host;       /* the file to copy (symlinks followed), or NULL: */
    const void *data;       /* ... these len bytes */
    size_t len;
    unsigned mode;          /* permission bits; 0: the host file's, 0644 for data */
    bool libs;              /* an ELF program: add its loader and libraries too */
} kt__image_file;

/* Writes the image for binary (and nextra extra files) to out, through a
 * temporary file and rename(). 0, or -1 with err naming the file that
 * could not be resolved, read or written. */
int kt__image_build(const char *binary, const kt__image_file *extra, size_t nextra,
                    const char *out, kt_err *err);

/* The image for binary in cache_dir (created if missing), built only when
 * no image with the same key is there; its path goes to path. 1 when it
 * was there, 0 when it was built now, -1 with err. */
int kt__image_cached(const char *binary, const kt__image_file *extra, size_t nextra,
                     const char *cache_dir, char *path, size_t pathsz, kt_err *err);

#endif
