/*
 * lib/guest/cpio.h - a newc ("070701") cpio writer (private).
 *
 * The kernel unpacks an uncompressed newc archive as the initramfs, so the
 * guest image needs no external tool:
 *
 *   kt__cpio c;
 *   kt__cpio_init(&c, fd, mtime);
 *   kt__cpio_dir(&c, "dev", 0755, err);
 *   kt__cpio_node(&c, "dev/console", S_IFCHR | 0600, 5, 1, err);
 *   kt__cpio_file_path(&c, "init", 0755, "/path/to/binary", err);
 *   kt__cpio_trailer(&c, err);
 *
 * Names are stored without a leading '/' (one is stripped), as GNU cpio
 * and the kernel's own gen_init_cpio write them. Every entry gets the next
 * inode number, the writer's uid, gid and mtime, and nlink 2 (directories)
 * or 1. The writer does not create parent directories: the kernel does not
 * either, so the caller adds each directory before what it holds. Errors
 * name the entry and what failed ("cpio entry lib/libc.so.6: write: No
 * space left on device"); after one the archive is incomplete and the
 * caller throws it away.
 */
#ifndef KTSTR_LIB_GUEST_CPIO_H
#define KTSTR_LIB_GUEST_CPIO_H

#include <stddef.h>
#include <stdint.h>

#include "ktstr/error.h"

typedef struct kt__cpio {
    int fd;             /* where the archive goes */
    uint64_t off;       /* bytes written so far (padding is relative to it) */
    uint32_t ino;       /* the inode number the next entry gets */
    uint32_t uid, gid;  /* owner of every entry (0: root, the default) */
    uint32_t mtime;     /* mtime of every entry, seconds since the epoch */
} kt__cpio;

/* Starts an archive on fd (already open for writing, at offset 0). */
void kt__cpio_init(kt__cpio *c, int fd, uint32_t mtime);

/* A directory with permission bits mode (07777). */
int kt__cpio_dir(kt__cpio *c, const char *name, unsigned mode, kt_err *err);

/* A regular file holding len bytes from data. */
int kt__cpio_file_mem(kt__cpio *c, const char *name, unsigned mode,
                      const void *data, size_t len, kt_err *err);

/* A regular file copied from path (symlinks followed; it must be a regular
 * file under 4 GiB, newc's limit); mode 0 takes the file's permission bits
 * (without setuid/setgid/sticky). A file that shrinks while it is copied
 * is an error. */
int kt__cpio_file_path(kt__cpio *c, const char *name, unsigned mode,
                       const char *path, kt_err *err);

/* A symbolic link to target (stored as the link's data, mode 0777). */
int kt__cpio_symlink(kt__cpio *c, const char *name, const char *target,
                     kt_err *err);

/* A device node: mode is S_IFCHR or S_IFBLK plus permission bits. */
int kt__cpio_node(kt__cpio *c, const char *name, unsigned mode, unsigned major,
                  unsigned minor, kt_err *err);

/* The "TRAILER!!!" entry, then zeros up to a multiple of 512 bytes (what
 * GNU cpio writes; the kernel skips zero padding between archives). */
int kt__cpio_trailer(kt__cpio *c, kt_err *err);

#endif
