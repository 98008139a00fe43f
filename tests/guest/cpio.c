/* The newc cpio writer, read back by GNU cpio (names, modes, sizes,
 * contents, symlink targets, device numbers, owners, mtimes) and by a
 * strict reader here that checks the layout itself: 4-byte padding of
 * names and data, zero pad bytes, ino numbers, the trailer, 512-byte end. */
#include "guest/helpers.h"

#include "guest/cpio.h"

#include <errno.h>
#include <stdint.h>
#include <sys/sysmacros.h>

static char dir[256];
static const uint32_t mtime = 1600000000;   /* 2020-09-13 */

/* What the strict reader found: one record per entry. */
typedef struct rec {
    char name[256];
    uint32_t ino, mode, uid, gid, nlink, mtime, size, rmaj, rmin;
    size_t data_off;
} rec;

static uint32_t hex8(const char *p, bool *ok)
{
    uint32_t v = 0;

    for (int i = 0; i < 8; i++) {
        char c = p[i];

        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (uint32_t)(c - '0');
        else if (c >= 'A' && c <= 'F')
            v |= (uint32_t)(c - 'A' + 10);
        else
            *ok = false;
    }
    return v;
}

static bool zeros(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

/* Parses the archive; returns the number of entries before the trailer,
 * or -1 (with a message) on the first layout error. */
static int strict_read(const char *b, size_t len, rec *out, int max, const char **why)
{
    size_t off = 0;

    for (int n = 0;; n++) {
        bool ok = true;
        rec r = { 0 };
        uint32_t namesize;
        size_t name_end, data_end;

        if (off % 4 != 0)
            return *why = "header not 4-aligned", -1;
        if (len - off < 110 || memcmp(b + off, "070701", 6) != 0)
            return *why = "no 070701 header", -1;
        r.ino = hex8(b + off + 6, &ok);
        r.mode = hex8(b + off + 14, &ok);
        r.uid = hex8(b + off + 22, &ok);
        r.gid = hex8(b + off + 30, &ok);
        r.nlink = hex8(b + off + 38, &ok);
        r.mtime = hex8(b + off + 46, &ok);
        r.size = hex8(b + off + 54, &ok);
        r.rmaj = hex8(b + off + 78, &ok);
        r.rmin = hex8(b + off + 86, &ok);
        namesize = hex8(b + off + 94, &ok);
        if (!ok || hex8(b + off + 102, &ok) != 0 || hex8(b + off + 62, &ok) != 0 ||
            hex8(b + off + 70, &ok) != 0)
            return *why = "bad hex field or non-zero check/devmajor/devminor", -1;
        if (namesize < 2 || namesize > sizeof(r.name) || len - off - 110 < namesize)
            return *why = "bad namesize", -1;
        memcpy(r.name, b + off + 110, namesize);
        if (r.name[namesize - 1] != '\0' || strlen(r.name) != namesize - 1)
            return *why = "name not NUL-terminated at namesize", -1;
        name_end = off + 110 + namesize;
        r.data_off = (name_end + 3) & ~(size_t)3;
        if (r.data_off > len || !zeros(b + name_end, r.data_off - name_end))
            return *why = "name padding not zeros", -1;
        data_end = r.data_off + r.size;
        off = (data_end + 3) & ~(size_t)3;
        if (off > len || !zeros(b + data_end, off - data_end))
            return *why = "data padding not zeros", -1;
        if (strcmp(r.name, "TRAILER!!!") == 0) {
            if (r.size != 0 || r.mode != 0 || r.nlink != 1)
                return *why = "trailer not empty", -1;
            if (len % 512 != 0 || !zeros(b + off, len - off))
                return *why = "not zero-padded to 512 bytes after the trailer", -1;
            return n;
        }
        if (n >= max)
            return *why = "too many entries", -1;
        out[n] = r;
    }
}

static int write_sample(const char *path, uint32_t uid, uint32_t gid)
{
    kt__cpio c;
    kt_err err = { 0 };
    char big[70001], src[300], exe[300];
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644), rc = -1;

    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = (char)(i * 7 + i / 251);
    snprintf(src, sizeof(src), "%s/big.src", dir);
    snprintf(exe, sizeof(exe), "%s/exe.src", dir);
    if (fd < 0 || spew(src, big, sizeof(big), 0640) < 0 || spew(exe, "#!/bin/sh\n", 10, 0600) < 0)
        return -1;
    kt__cpio_init(&c, fd, mtime);
    c.uid = uid;
    c.gid = gid;
    if (kt__cpio_dir(&c, "d", 0755, &err) == 0 &&
        kt__cpio_file_mem(&c, "d/a1", 0644, "x", 1, &err) == 0 &&
        kt__cpio_file_mem(&c, "d/a22", 0600, "xy", 2, &err) == 0 &&
        kt__cpio_file_mem(&c, "d/a333", 0444, "xyz", 3, &err) == 0 &&
        kt__cpio_file_mem(&c, "d/a4444", 0644, "wxyz", 4, &err) == 0 &&
        kt__cpio_file_mem(&c, "d/e", 0644, NULL, 0, &err) == 0 &&
        kt__cpio_file_mem(&c, "//d/abs", 0644, "slash", 5, &err) == 0 &&
        kt__cpio_file_path(&c, "d/big", 0, src, &err) == 0 &&
        kt__cpio_file_path(&c, "d/exe", 0755, exe, &err) == 0 &&
        kt__cpio_symlink(&c, "d/l", "a1", &err) == 0 &&
        kt__cpio_dir(&c, "dev", 0755, &err) == 0 &&
        kt__cpio_node(&c, "dev/console", S_IFCHR | 0600, 5, 1, &err) == 0 &&
        kt__cpio_trailer(&c, &err) == 0)
        rc = 0;
    else
        fprintf(stderr, "# writer: %s\n", err.msg);
    close(fd);
    return rc;
}

static void t_layout(void)
{
    char path[300];
    size_t len = 0;
    char *b;
    rec r[32];
    const char *why = "";
    int n;

    snprintf(path, sizeof(path), "%s/a.cpio", dir);
    check_int(write_sample(path, 0, 0), ==, 0);
    b = slurp(path, &len);
    check(b != NULL);
    if (!b)
        return;
    n = strict_read(b, len, r, 32, &why);
    if (n < 0)
        fprintf(stderr, "# strict reader: %s\n", why);
    check_int(n, ==, 12);
    if (n == 12) {
        static const char *const names[] = { "d", "d/a1", "d/a22", "d/a333", "d/a4444", "d/e",
                                             "d/abs", "d/big", "d/exe", "d/l", "dev",
                                             "dev/console" };
        int bad = 0;

        for (int i = 0; i < n; i++) {
            if (strcmp(r[i].name, names[i]) != 0 || r[i].mtime != mtime)
                bad++;
            for (int k = 0; k < i; k++)
                bad += r[k].ino == r[i].ino;
            bad += r[i].ino == 0;
        }
        check_int(bad, ==, 0);
        check_uint(r[0].mode, ==, S_IFDIR | 0755);
        check_uint(r[0].nlink, ==, 2);
        check_uint(r[2].mode, ==, S_IFREG | 0600);
        check_uint(r[3].size, ==, 3);
        check(memcmp(b + r[3].data_off, "xyz", 3) == 0);
        check_uint(r[7].mode, ==, S_IFREG | 0640);     /* the host file's bits */
        check_uint(r[7].size, ==, 70001);
        check_uint(r[8].mode, ==, S_IFREG | 0755);     /* given */
        check_uint(r[9].mode, ==, S_IFLNK | 0777);
        check(r[9].size == 2 && memcmp(b + r[9].data_off, "a1", 2) == 0);
        check_uint(r[11].mode, ==, S_IFCHR | 0600);
        check_uint(r[11].rmaj, ==, 5);
        check_uint(r[11].rmin, ==, 1);
        check_uint(r[11].size, ==, 0);
    }
    free(b);
}

static void t_gnu_cpio_list(void)
{
    char path[300], *out, *err = NULL;
    int st = -1;

    if (!have_cmd("cpio")) {
        test_skip("GNU cpio not installed (Debian package cpio)");
        return;
    }
    snprintf(path, sizeof(path), "%s/b.cpio", dir);
    check_int(write_sample(path, 1234, 5678), ==, 0);
    out = run_cmd(&st, &err, "TZ=UTC cpio -tvn --quiet < %s", path);
    check_int(st, ==, 0);
    check(out != NULL);
    if (!out)
        return;
    check_str(err ? err : "?", "");
    check_contains(out, "drwxr-xr-x   2 1234     5678            0 Sep 13  2020 d\n");
    check_contains(out, "-rw-------   1 1234     5678            2 Sep 13  2020 d/a22\n");
    check_contains(out, "-r--r--r--   1 1234     5678            3 Sep 13  2020 d/a333\n");
    check_contains(out, "-rw-r--r--   1 1234     5678            0 Sep 13  2020 d/e\n");
    check_contains(out, "-rw-r-----   1 1234     5678        70001 Sep 13  2020 d/big\n");
    check_contains(out, "lrwxrwxrwx   1 1234     5678            2 Sep 13  2020 d/l -> a1\n");
    check_contains(out, "crw-------   1 1234     5678       5,   1 Sep 13  2020 dev/console\n");
    check_contains(out, " d/abs\n");
    check(!strstr(out, "TRAILER"));
    free(out);
    free(err);
}

static void t_gnu_cpio_extract(void)
{
    char path[300], x[300], p[400], *out, *err = NULL, *got, *want;
    int st = -1;
    size_t glen = 0, wlen = 0;
    struct stat sb;
    char link[16] = { 0 };

    if (!have_cmd("cpio")) {
        test_skip("GNU cpio not installed (Debian package cpio)");
        return;
    }
    snprintf(path, sizeof(path), "%s/c.cpio", dir);
    snprintf(x, sizeof(x), "%s/x", dir);
    check_int(write_sample(path, 0, 0), ==, 0);
    check_int(mkdir(x, 0755), ==, 0);
    /* Device nodes need CAP_MKNOD: dev/ is left out (-f), the list checks it. */
    out = run_cmd(&st, &err, "cd %s && cpio -idm --quiet -f 'dev*' < %s", x, path);
    check_int(st, ==, 0);
    check_str(err ? err : "?", "");
    free(out);
    free(err);
    snprintf(p, sizeof(p), "%s/d/big", x);
    got = slurp(p, &glen);
    snprintf(p, sizeof(p), "%s/big.src", dir);
    want = slurp(p, &wlen);
    check(got && want && glen == 70001 && wlen == 70001 && memcmp(got, want, glen) == 0);
    free(got);
    free(want);
    snprintf(p, sizeof(p), "%s/d/big", x);
    check_int(stat(p, &sb), ==, 0);
    check_uint(sb.st_mtime, ==, mtime);
    snprintf(p, sizeof(p), "%s/d/a4444", x);
    got = slurp(p, &glen);
    check(got && glen == 4 && memcmp(got, "wxyz", 4) == 0);
    free(got);
    snprintf(p, sizeof(p), "%s/d/abs", x);
    got = slurp(p, &glen);
    check(got && glen == 5 && memcmp(got, "slash", 5) == 0);
    free(got);
    snprintf(p, sizeof(p), "%s/d/exe", x);
    check_int(stat(p, &sb), ==, 0);
    check_uint(sb.st_mode & 07777, ==, 0755);
    snprintf(p, sizeof(p), "%s/d/l", x);
    check_int(readlink(p, link, sizeof(link) - 1), ==, 2);
    check_str(link, "a1");
}

static void t_errors_name_the_entry(void)
{
    kt__cpio c;
    kt_err err = { 0 };
    char missing[300];
    int full = open("/dev/full", O_WRONLY | O_CLOEXEC);
    int ro = open("/dev/null", O_RDONLY | O_CLOEXEC);

    snprintf(missing, sizeof(missing), "%s/no-such-file", dir);
    kt__cpio_init(&c, ro, 0);
    check_int(kt__cpio_file_path(&c, "lib/libx.so", 0, missing, &err), ==, -1);
    check_int(err.code, ==, ENOENT);
    check_contains(err.msg, "cpio entry lib/libx.so: open ");
    check_contains(err.msg, "no-such-file");
    check_int(kt__cpio_file_path(&c, "etc", 0, dir, &err), ==, -1);
    check_contains(err.msg, "cpio entry etc: ");
    check_contains(err.msg, "is not a regular file");
    check_int(kt__cpio_dir(&c, "/", 0755, &err), ==, -1);
    check_contains(err.msg, "empty name");
    check_int(kt__cpio_node(&c, "dev/x", S_IFREG | 0600, 1, 3, &err), ==, -1);
    check_contains(err.msg, "cpio entry dev/x: mode 100600 is not a character or block device");
    check_int(kt__cpio_symlink(&c, "l", "", &err), ==, -1);
    check_contains(err.msg, "cpio entry l: empty symlink target");
    check_int(kt__cpio_dir(&c, "d", 0755, &err), ==, -1);
    check_int(err.code, ==, EBADF);
    check_contains(err.msg, "cpio entry d: write: ");
    if (full >= 0) {
        kt__cpio_init(&c, full, 0);
        check_int(kt__cpio_file_mem(&c, "init", 0755, "abc", 3, &err), ==, -1);
        check_int(err.code, ==, ENOSPC);
        check_contains(err.msg, "cpio entry init: write: No space left on device");
        close(full);
    }
    close(ro);
}

int main(void)
{
    scratch_dir(dir, sizeof(dir), "cpio");
    TEST(t_layout(), "layout: aligned headers, zero padding, unique inos, trailer, 512-byte end");
    TEST(t_gnu_cpio_list(), "GNU cpio -tv lists names, modes, owners, sizes, link, device");
    TEST(t_gnu_cpio_extract(), "GNU cpio -i extracts the same bytes, modes, mtime, link target");
    TEST(t_errors_name_the_entry(), "errors name the entry and what failed");
    rm_tree(dir);
    return test_done();
}
