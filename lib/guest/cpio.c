/* The newc cpio writer: 110-byte ASCII headers, names and data each padded
 * to 4 bytes, a TRAILER!!! entry at the end. */
#include "guest/cpio.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define HDR_LEN 110
#define COPY_CHUNK 65536

void kt__cpio_init(kt__cpio *c, int fd, uint32_t mtime)
{
    c->fd = fd;
    c->off = 0;
    c->ino = 1;
    c->uid = c->gid = 0;
    c->mtime = mtime;
}

static int put(kt__cpio *c, const void *buf, size_t n, const char *name, kt_err *err)
{
    const char *p = buf;

    while (n > 0) {
        ssize_t w = write(c->fd, p, n);

        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return kt_err_sys(err, errno, "cpio entry %s: write", name);
        if (w == 0)
            return kt_err_set(err, EIO, "cpio entry %s: write returned 0", name);
        p += w;
        n -= (size_t)w;
        c->off += (uint64_t)w;
    }
    return 0;
}

/* Zeros up to the next multiple of 4 (of the whole archive: every header
 * starts 4-aligned, so this also aligns what follows a header). */
static int pad4(kt__cpio *c, const char *name, kt_err *err)
{
    static const char zeros[4];

    return put(c, zeros, (4 - c->off % 4) % 4, name, err);
}

/* Drops leading slashes; "" (the root itself) is not an entry. */
static const char *entry_name(const char *given, kt_err *err)
{
    const char *name = given;

    while (*name == '/')
        name++;
    if (*name == '\0') {
        kt_err_set(err, EINVAL, "cpio entry \"%s\": empty name", given);
        return NULL;
    }
    if (strlen(name) >= PATH_MAX) {
        kt_err_set(err, ENAMETOOLONG, "cpio entry %.40s...: name longer than %d bytes",
                   name, PATH_MAX - 1);
        return NULL;
    }
    return name;
}

static int header(kt__cpio *c, const char *name, uint32_t mode, uint32_t nlink,
                  uint64_t size, unsigned rmaj, unsigned rmin, kt_err *err)
{
    char h[HDR_LEN + 1];
    size_t namesize = strlen(name) + 1;
    int n;

    if (size > UINT32_MAX)
        return kt_err_set(err, EFBIG, "cpio entry %s: %llu bytes, over newc's 4 GiB limit",
                          name, (unsigned long long)size);
    n = snprintf(h, sizeof(h),
                 "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
                 c->ino, mode, c->uid, c->gid, nlink, c->mtime, (uint32_t)size,
                 0u, 0u, rmaj, rmin, (uint32_t)namesize, 0u);
    if (n != HDR_LEN)
        return kt_err_set(err, EINVAL, "cpio entry %s: header of %d bytes", name, n);
    if (c->ino == UINT32_MAX)
        return kt_err_set(err, EOVERFLOW, "cpio entry %s: out of inode numbers", name);
    c->ino++;
    if (put(c, h, HDR_LEN, name, err) < 0 || put(c, name, namesize, name, err) < 0)
        return -1;
    return pad4(c, name, err);
}

int kt__cpio_dir(kt__cpio *c, const char *name, unsigned mode, kt_err *err)
{
    if (!(name = entry_name(name, err)))
        return -1;
    return header(c, name, S_IFDIR | (mode & 07777), 2, 0, 0, 0, err);
}

int kt__cpio_file_mem(kt__cpio *c, const char *name, unsigned mode,
                      const void *data, size_t len, kt_err *err)
{
    if (!(name = entry_name(name, err)))
        return -1;
    if (header(c, name, S_IFREG | (mode & 07777), 1, len, 0, 0, err) < 0 ||
        put(c, data, len, name, err) < 0)
        return -1;
    return pad4(c, name, err);
}

static int copy_file(kt__cpio *c, const char *name, unsigned mode, int fd,
                     const char *path, kt_err *err)
{
    struct stat st;
    char buf[COPY_CHUNK];
    uint64_t left;

    if (fstat(fd, &st) < 0)
        return kt_err_sys(err, errno, "cpio entry %s: fstat %s", name, path);
    if (!S_ISREG(st.st_mode))
        return kt_err_set(err, EINVAL, "cpio entry %s: %s is not a regular file (mode %o)",
                          name, path, (unsigned)st.st_mode);
    if (mode == 0)
        mode = st.st_mode & 0777;
    if (header(c, name, S_IFREG | (mode & 07777), 1, (uint64_t)st.st_size, 0, 0, err) < 0)
        return -1;
    for (left = (uint64_t)st.st_size; left > 0;) {
        ssize_t r = read(fd, buf, left < sizeof(buf) ? (size_t)left : sizeof(buf));

        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return kt_err_sys(err, errno, "cpio entry %s: read %s", name, path);
        if (r == 0)
            return kt_err_set(err, EIO, "cpio entry %s: %s shrank while being copied "
                              "(%llu of %lld bytes missing)", name, path,
                              (unsigned long long)left, (long long)st.st_size);
        if (put(c, buf, (size_t)r, name, err) < 0)
            return -1;
        left -= (uint64_t)r;
    }
    return pad4(c, name, err);
}

int kt__cpio_file_path(kt__cpio *c, const char *name, unsigned mode,
                       const char *path, kt_err *err)
{
    int fd, rc;

    if (!(name = entry_name(name, err)))
        return -1;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return kt_err_sys(err, errno, "cpio entry %s: open %s", name, path);
    rc = copy_file(c, name, mode, fd, path, err);
    close(fd);
    return rc;
}

int kt__cpio_symlink(kt__cpio *c, const char *name, const char *target,
                     kt_err *err)
{
    size_t len = strlen(target);

    if (!(name = entry_name(name, err)))
        return -1;
    if (len == 0)
        return kt_err_set(err, EINVAL, "cpio entry %s: empty symlink target", name);
    if (header(c, name, S_IFLNK | 0777, 1, len, 0, 0, err) < 0 ||
        put(c, target, len, name, err) < 0)
        return -1;
    return pad4(c, name, err);
}

int kt__cpio_node(kt__cpio *c, const char *name, unsigned mode, unsigned major,
                  unsigned minor, kt_err *err)
{
    if (!(name = entry_name(name, err)))
        return -1;
    if (!S_ISCHR(mode) && !S_ISBLK(mode))
        return kt_err_set(err, EINVAL, "cpio entry %s: mode %o is not a character "
                          "or block device", name, mode);
    return header(c, name, mode & (S_IFMT | 07777), 1, 0, major, minor, err);
}

int kt__cpio_trailer(kt__cpio *c, kt_err *err)
{
    static const char zeros[512];
    const char *name = "TRAILER!!!";
    uint32_t keep = c->ino;

    /* The trailer is ino 0, mode 0, nlink 1, as GNU cpio writes it. */
    c->ino = 0;
    if (header(c, name, 0, 1, 0, 0, 0, err) < 0)
        return -1;
    c->ino = keep;
    return put(c, zeros, (512 - c->off % 512) % 512, name, err);
}
