/* The initramfs builder: what the image holds (read back by GNU cpio), that
 * a program runs from it (chroot into the extracted image, where allowed:
 * no QEMU here), extra files, and the cache: a second build is a hit that
 * rewrites nothing, a changed binary or library builds a new image, a
 * failed build leaves nothing behind. */
#include "guest/helpers.h"

#include "guest/deps.h"
#include "guest/image.h"

#include <limits.h>
#include <sys/stat.h>

static char dir[256];
static bool progs_ok, have_cpio;

#define NEED(progs)                                                        \
    do {                                                                   \
        if (!have_cpio) {                                                  \
            test_skip("GNU cpio not installed (Debian package cpio)");     \
            return;                                                        \
        }                                                                  \
        if ((progs) && !progs_ok) {                                        \
            test_skip("no C compiler (cc) to build the test programs");   \
            return;                                                        \
        }                                                                  \
    } while (0)

static void at(char *out, size_t n, const char *rel)
{
    snprintf(out, n, "%s/%s", dir, rel);
}

/* The names in an image, in order ("cpio -t"), or NULL. */
static char *list_image(const char *img)
{
    int st = -1;
    char *out = run_cmd(&st, NULL, "cpio -t --quiet < %s", img);

    if (st != 0) {
        free(out);
        return NULL;
    }
    return out;
}

static bool listed(const char *list, const char *name)
{
    char want[PATH_MAX + 2];

    snprintf(want, sizeof(want), "\n%s\n", name);
    return strncmp(list, want + 1, strlen(want + 1)) == 0 || strstr(list, want);
}

/* Every entry's parent directory comes before it. */
static int parents_first(const char *list)
{
    char *copy = strdup(list), *save = NULL, *seen = calloc(1, strlen(list) + 2);
    int bad = 0;

    for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        char *slash = strrchr(l, '/');

        if (slash) {
            *slash = '\0';
            if (!listed(seen, l)) {
                fprintf(stderr, "# %s/%s before its directory\n", l, slash + 1);
                bad++;
            }
            *slash = '/';
        }
        strcat(seen, l);
        strcat(seen, "\n");
    }
    free(copy);
    free(seen);
    return bad;
}

/* Extracts img into a fresh directory x (device nodes left out: mknod
 * needs CAP_MKNOD); 0 or -1. */
static int extract(const char *img, char *x, size_t n, const char *tag)
{
    int st = -1;
    char *out, *err = NULL;

    snprintf(x, n, "%s/x-%s", dir, tag);
    rm_tree(x);
    if (mkdir(x, 0755) < 0)
        return -1;
    out = run_cmd(&st, &err, "cd %s && cpio -idm --quiet -f 'dev/*' < %s", x, img);
    if (st != 0)
        fprintf(stderr, "# cpio -i: %s\n", err ? err : "?");
    free(out);
    free(err);
    return st == 0 ? 0 : -1;
}

static bool same_bytes(const char *a, const char *b)
{
    size_t la = 0, lb = 0;
    char *x = slurp(a, &la), *y = slurp(b, &lb);
    bool same = x && y && la == lb && memcmp(x, y, la) == 0;

    free(x);
    free(y);
    return same;
}

/* Runs prog inside root with chroot; 1 ran and exited 0, 0 skipped (with
 * the reason marked), -1 failed. */
static int chroot_run(const char *root, const char *prog)
{
    int st = -1;
    char *out, *err = NULL;

    if (geteuid() != 0) {
        test_skip("chroot into the extracted image needs root");
        return 0;
    }
    out = run_cmd(&st, &err, "chroot %s %s", root, prog);
    free(out);
    if (st != 0 && err && strstr(err, "Operation not permitted")) {
        test_skip("chroot not permitted here");
        free(err);
        return 0;
    }
    if (st != 0)
        fprintf(stderr, "# chroot %s %s: exit %d: %s\n", root, prog, st, err ? err : "");
    free(err);
    return st == 0 ? 1 : -1;
}

static void t_contents(void)
{
    char prog[400], img[400], x[400], p[PATH_MAX], *list;
    kt__deps d;
    kt_err err = { 0 };
    int bad = 0;
    static const char *const dirs[] = { "dev", "proc", "sys", "sys/fs/cgroup", "tmp", "run",
                                        "etc", "dev/console", "dev/null", "init",
                                        "etc/ld.so.cache" };

    NEED(true);
    at(prog, sizeof(prog), "bin/prog");
    at(img, sizeof(img), "prog.cpio");
    check_int(kt__image_build(prog, NULL, 0, img, &err), ==, 0);
    check_str(err.msg, "");
    if (!(list = list_image(img))) {
        check(!"cpio -t reads the image");
        return;
    }
    for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
        if (!listed(list, dirs[i])) {
            fprintf(stderr, "# %s missing\n", dirs[i]);
            bad++;
        }
    check_int(bad, ==, 0);
    check_int(parents_first(list), ==, 0);
    check(listed(list, "lib/libkt_a.so"));
    check(listed(list, "lib/libkt_b.so"));
    check_int(extract(img, x, sizeof(x), "prog"), ==, 0);
    snprintf(p, sizeof(p), "%s/init", x);
    check(same_bytes(p, prog));
    /* The loader and every library, as regular files with the host's bytes. */
    check_int(kt__deps_init(&d, NULL, &err), ==, 0);
    check_int(kt__deps_add(&d, prog, "/init", &err), ==, 0);
    check_uint(d.list.n, >=, 4);    /* loader, libkt_a, libkt_b, libc */
    bad = 0;
    for (size_t i = 0; i < d.list.n; i++) {
        const kt__dep *dep = kt__vec_at(&d.list, i);
        struct stat st;

        snprintf(p, sizeof(p), "%s%s", x, dep->guest);
        if (!listed(list, dep->guest + 1) || lstat(p, &st) < 0 || !S_ISREG(st.st_mode) ||
            !same_bytes(p, dep->host)) {
            fprintf(stderr, "# %s (%s) not in the image as a copy\n", dep->guest, dep->host);
            bad++;
        }
    }
    check_int(bad, ==, 0);
    kt__deps_free(&d);
    free(list);
}

/* prog's libraries sit in /lib, a system directory; prog2's in /rp2 and
 * /rp, found only through its DT_RPATH's $ORIGIN, which the loader cannot
 * expand without /proc (none in the chroot, none in the guest at boot). */
static void t_runs_from_image(void)
{
    static const char *const progs[] = { "bin/prog", "bin/prog2" };

    NEED(true);
    for (int i = 0; i < 2; i++) {
        char prog[400], img[400], x[400];
        kt_err err = { 0 };
        int rc;

        at(prog, sizeof(prog), progs[i]);
        snprintf(img, sizeof(img), "%s/run%d.cpio", dir, i);
        check_int(kt__image_build(prog, NULL, 0, img, &err), ==, 0);
        check_int(extract(img, x, sizeof(x), i ? "run2" : "run1"), ==, 0);
        if ((rc = chroot_run(x, "/init")) == 0)
            return;
        check_int(rc, ==, 1);
    }
}

static void t_extras(void)
{
    char prog[400], prog2[400], img[400], x[400], p[PATH_MAX], *list, *got;
    kt_err err = { 0 };
    size_t len = 0;
    static const char conf[] = "mode=vm\n";
    kt__image_file extra[] = {
        { .guest = "/etc/ktstr/conf", .data = conf, .len = sizeof(conf) - 1 },
        { .guest = "/bin/helper", .host = prog2, .libs = true },
        { .guest = "/usr/share/empty", .mode = 0600 },
    };

    NEED(true);
    at(prog, sizeof(prog), "bin/prog");
    at(prog2, sizeof(prog2), "bin/prog2");
    at(img, sizeof(img), "extras.cpio");
    check_int(kt__image_build(prog, extra, 3, img, &err), ==, 0);
    check_str(err.msg, "");
    if (!(list = list_image(img))) {
        check(!"cpio -t reads the image");
        return;
    }
    check(listed(list, "etc/ktstr/conf"));
    check(listed(list, "bin/helper"));
    /* As /bin/helper, prog2's $ORIGIN/../rp2 is /rp2. */
    check(listed(list, "rp2/libkt_d.so"));
    check(listed(list, "rp/libkt_c.so"));
    check(listed(list, "usr/share/empty"));
    check_int(parents_first(list), ==, 0);
    free(list);
    check_int(extract(img, x, sizeof(x), "extras"), ==, 0);
    snprintf(p, sizeof(p), "%s/etc/ktstr/conf", x);
    got = slurp(p, &len);
    check(got && len == sizeof(conf) - 1 && memcmp(got, conf, len) == 0);
    free(got);
    snprintf(p, sizeof(p), "%s/bin/helper", x);
    check(same_bytes(p, prog2));
    if (chroot_run(x, "/init") > 0)
        check_int(chroot_run(x, "/bin/helper"), ==, 1);
}

static void t_extra_errors(void)
{
    char prog[400], img[400], missing[400];
    kt_err err = { 0 };
    kt__image_file rel = { .guest = "etc/x", .data = "x", .len = 1 };
    kt__image_file init = { .guest = "/init", .data = "x", .len = 1 };
    kt__image_file gone = { .guest = "/bin/gone", .host = missing };
    kt__image_file libs = { .guest = "/bin/y", .data = "x", .len = 1, .libs = true };
    kt__image_file dev = { .guest = "/dev", .data = "x", .len = 1 };

    NEED(true);
    at(prog, sizeof(prog), "bin/prog");
    at(img, sizeof(img), "never.cpio");
    at(missing, sizeof(missing), "no-such-helper");
    check_int(kt__image_build(prog, &rel, 1, img, &err), ==, -1);
    check_contains(err.msg, "image extra file etc/x: guest path etc/x is not absolute");
    check_int(kt__image_build(prog, &init, 1, img, &err), ==, -1);
    check_contains(err.msg, "image extra file /init: /init is already in the image from ");
    check_int(kt__image_build(prog, &gone, 1, img, &err), ==, -1);
    check_int(err.code, ==, ENOENT);
    check_contains(err.msg, "image extra file /bin/gone: ");
    check_contains(err.msg, "no-such-helper");
    check_int(kt__image_build(prog, &libs, 1, img, &err), ==, -1);
    check_contains(err.msg, "libs needs a host file");
    check_int(kt__image_build(prog, &dev, 1, img, &err), ==, -1);
    check_contains(err.msg, "/dev is already in the image");
    check_int(kt__image_build(missing, NULL, 0, img, &err), ==, -1);
    check_contains(err.msg, "image /init (");
    check_contains(err.msg, "no-such-helper");
    /* Nothing left behind: no image, no temporary file. */
    {
        int st = -1;
        char *out = run_cmd(&st, NULL, "ls -a %s | grep -c never", dir);

        check_str(out ? out : "?", "0\n");
        free(out);
    }
}

static void t_static(void)
{
    char prog[400], img[400], *list;
    kt_err err = { 0 };

    NEED(true);
    put_src(dir, "s.c", "int main(void) { return 0; }\n");
    if (!cc_in(dir, "-static -o sprog s.c")) {
        test_skip("cc -static failed (no libc.a? Debian package libc6-dev)");
        return;
    }
    at(prog, sizeof(prog), "sprog");
    at(img, sizeof(img), "static.cpio");
    check_int(kt__image_build(prog, NULL, 0, img, &err), ==, 0);
    if (!(list = list_image(img)))
        return;
    check(listed(list, "init"));
    check(listed(list, "dev/console"));
    check(!strstr(list, "lib"));
    check(!listed(list, "etc/ld.so.cache"));
    free(list);
}

static void t_deterministic(void)
{
    char prog[400], a[400], b[400];
    kt_err err = { 0 };

    NEED(true);
    at(prog, sizeof(prog), "bin/prog");
    at(a, sizeof(a), "det-a.cpio");
    at(b, sizeof(b), "det-b.cpio");
    check_int(kt__image_build(prog, NULL, 0, a, &err), ==, 0);
    check_int(kt__image_build(prog, NULL, 0, b, &err), ==, 0);
    check(same_bytes(a, b));
}

static int count_files(const char *d)
{
    int st = -1, n = -1;
    char *out = run_cmd(&st, NULL, "ls -A %s | wc -l", d);

    if (out)
        n = atoi(out);
    free(out);
    return n;
}

static void t_cache(void)
{
    char bin[400], cache[400], p1[PATH_MAX], p2[PATH_MAX], p3[PATH_MAX], p4[PATH_MAX];
    char x[400], init[PATH_MAX], lib[400];
    struct stat s1, s2, s3;
    kt_err err = { 0 };
    int st = -1;
    char *out;

    NEED(true);
    /* A private copy of the program and its libraries, to change. */
    out = run_cmd(&st, NULL, "cd %s && mkdir -p c/bin c/lib && cp bin/prog c/bin/ && "
                  "cp lib/libkt_a.so lib/libkt_b.so c/lib/", dir);
    free(out);
    check_int(st, ==, 0);
    at(bin, sizeof(bin), "c/bin/prog");
    at(lib, sizeof(lib), "c/lib/libkt_b.so");
    at(cache, sizeof(cache), "cache/guest");   /* created, parents too */
    check_int(kt__image_cached(bin, NULL, 0, cache, p1, sizeof(p1), &err), ==, 0);
    check_str(err.msg, "");
    check_contains(p1, "/cache/guest/prog-");
    check_int(stat(p1, &s1), ==, 0);
    /* A hit: same path, the file untouched. */
    check_int(kt__image_cached(bin, NULL, 0, cache, p2, sizeof(p2), &err), ==, 1);
    check_str(p2, p1);
    check_int(stat(p2, &s2), ==, 0);
    check_uint(s2.st_ino, ==, s1.st_ino);
    check(s2.st_mtim.tv_sec == s1.st_mtim.tv_sec && s2.st_mtim.tv_nsec == s1.st_mtim.tv_nsec);
    check_int(count_files(cache), ==, 1);       /* no temporary left */
    /* The same file by another name (as /proc/self/exe would be): a hit. */
    {
        char link[400], pl[PATH_MAX];

        at(link, sizeof(link), "c/other-name");
        check_int(symlink(bin, link), ==, 0);
        check_int(kt__image_cached(link, NULL, 0, cache, pl, sizeof(pl), &err), ==, 1);
        check_str(pl, p1);
    }
    /* Extras are part of the key. */
    {
        kt__image_file e = { .guest = "/etc/x", .data = "1", .len = 1 };
        char pe[PATH_MAX];

        check_int(kt__image_cached(bin, &e, 1, cache, pe, sizeof(pe), &err), ==, 0);
        check(strcmp(pe, p1) != 0);
        e.data = "2";
        check_int(kt__image_cached(bin, &e, 1, cache, p4, sizeof(p4), &err), ==, 0);
        check(strcmp(pe, p4) != 0);
    }
    /* A changed binary (one byte more: still a valid ELF) builds anew. */
    out = run_cmd(&st, NULL, "printf x >> %s", bin);
    free(out);
    check_int(kt__image_cached(bin, NULL, 0, cache, p3, sizeof(p3), &err), ==, 0);
    check(strcmp(p3, p1) != 0);
    check_int(stat(p1, &s3), ==, 0);            /* the old image is as it was */
    check_uint(s3.st_ino, ==, s1.st_ino);
    check_int(extract(p3, x, sizeof(x), "cache"), ==, 0);
    snprintf(init, sizeof(init), "%s/init", x);
    check(same_bytes(init, bin));
    /* So does a changed library behind an unchanged binary. */
    out = run_cmd(&st, NULL, "cp %s %s.new && mv %s.new %s", lib, lib, lib, lib);
    free(out);
    check_int(kt__image_cached(bin, NULL, 0, cache, p4, sizeof(p4), &err), ==, 0);
    check(strcmp(p4, p3) != 0);
    check_int(kt__image_cached(bin, NULL, 0, cache, p4, sizeof(p4), &err), ==, 1);
}

static void t_cache_errors(void)
{
    char bin[400], file[400], p[PATH_MAX];
    kt_err err = { 0 };

    NEED(true);
    at(bin, sizeof(bin), "bin/prog");
    at(file, sizeof(file), "a-file");
    check_int(spew(file, "x", 1, 0644), ==, 0);
    check_int(kt__image_cached(bin, NULL, 0, file, p, sizeof(p), &err), ==, -1);
    check_contains(err.msg, "image cache directory ");
    check_contains(err.msg, "a-file");
    snprintf(p, sizeof(p), "%s/sub", file);
    check_int(kt__image_cached(bin, NULL, 0, p, file, sizeof(file), &err), ==, -1);
    check_int(err.code, ==, ENOTDIR);
    check_contains(err.msg, "mkdir");
}

int main(void)
{
    scratch_dir(dir, sizeof(dir), "image");
    have_cpio = have_cmd("cpio");
    progs_ok = have_cmd("cc") && build_lib_progs(dir);
    TEST(t_contents(), "image: dirs, console, /init, loader and every library as copies");
    TEST(t_runs_from_image(), "programs run from the extracted image (chroot, no /proc)");
    TEST(t_extras(), "extra files: from memory, from a path, a program with its libraries");
    TEST(t_extra_errors(), "bad extras and a missing binary: errors naming them, nothing left");
    TEST(t_static(), "a static binary: /init and the guest's directories only");
    TEST(t_deterministic(), "the same inputs make the same bytes");
    TEST(t_cache(), "cache: a hit rewrites nothing; a changed binary, library or extra rebuilds");
    TEST(t_cache_errors(), "cache directory that cannot be made: error naming it");
    rm_tree(dir);
    return test_done();
}
