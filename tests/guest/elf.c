/* ELF parsing and library resolution for the guest image: dynamic programs
 * compared with what ldd (the real loader) prints, RUNPATH/RPATH with
 * $ORIGIN, a static program, a missing library, files that are not
 * x86_64 ELF, truncated and corrupt files (a bounded fuzz run included),
 * and the ld.so.cache reader and writer (read back by ldconfig -p and, where
 * chroot is allowed, used by the real loader). */
#include "guest/helpers.h"

#include "guest/deps.h"
#include "guest/elf.h"
#include "guest/ldcache.h"

#include <elf.h>
#include <stdint.h>

static char dir[256];
static bool have_cc;

/* ---- views to compare ---------------------------------------------- */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Lines sorted and joined, so two views compare as strings. */
static char *sorted(char **lines, size_t n)
{
    size_t len = 1;
    char *out;

    qsort(lines, n, sizeof(char *), cmp_str);
    for (size_t i = 0; i < n; i++)
        len += strlen(lines[i]) + 1;
    out = calloc(1, len);
    for (size_t i = 0; i < n; i++) {
        strcat(out, lines[i]);
        strcat(out, "\n");
        free(lines[i]);
    }
    return out;
}

/* ldd's answer as "name => path" and "INTERP path" lines (no vDSO). */
static char *ldd_view(const char *prog)
{
    int st = -1;
    char *out = run_cmd(&st, NULL, "ldd %s", prog), *save = NULL, *lines[64];
    size_t n = 0;

    if (!out)
        return strdup("(ldd did not run)");
    for (char *l = strtok_r(out, "\n", &save); l && n < 64; l = strtok_r(NULL, "\n", &save)) {
        char *arrow = strstr(l, " => "), *paren, buf[600];

        while (*l == ' ' || *l == '\t')
            l++;
        if ((paren = strstr(l, " (")))
            *paren = '\0';
        if (arrow) {
            *arrow = '\0';
            snprintf(buf, sizeof(buf), "%s => %s", l, arrow + 4);
        } else if (l[0] == '/') {
            snprintf(buf, sizeof(buf), "INTERP %s", l);
        } else {
            continue;
        }
        lines[n++] = strdup(buf);
    }
    free(out);
    return sorted(lines, n);
}

/* The resolver's answer in the same form (links are the loader's reuse of
 * one file under a second name: ldd shows no line for them). With guest
 * set, the guest paths instead. */
static char *deps_view(const kt__deps *d, bool guest)
{
    char *lines[64], buf[600];
    size_t n = 0;

    for (size_t i = 0; i < d->list.n && n < 64; i++) {
        const kt__dep *p = kt__vec_at(&d->list, i);
        const char *path = guest ? p->guest : p->host;

        if (p->link)
            continue;
        if (p->via == KT__VIA_INTERP)
            snprintf(buf, sizeof(buf), "INTERP %s", path);
        else
            snprintf(buf, sizeof(buf), "%s => %s", p->name, path);
        lines[n++] = strdup(buf);
    }
    return sorted(lines, n);
}

static const kt__dep *dep_named(const kt__deps *d, const char *name)
{
    for (size_t i = 0; i < d->list.n; i++) {
        const kt__dep *p = kt__vec_at(&d->list, i);

        if (strcmp(p->name, name) == 0)
            return p;
    }
    return NULL;
}

/* ---- test programs ----------------------------------------------------- */

/* cc with a printf-style fragment (two string arguments), run in dir. */
static bool cc(const char *fmt, const char *a, const char *b)
{
    char args[2048];

    snprintf(args, sizeof(args), fmt, a, b);
    return cc_in(dir, args);
}

static void write_src(const char *name, const char *text)
{
    if (put_src(dir, name, text) < 0)
        abort();
}

static bool build_progs(void)
{
    static bool built, ok;

    if (!built)
        ok = build_lib_progs(dir);
    built = true;
    return ok;
}

#define NEED_PROGS()                                                   \
    do {                                                               \
        if (!have_cc) {                                                \
            test_skip("no C compiler (cc) on PATH to build test programs"); \
            return;                                                    \
        }                                                              \
        if (!build_progs()) {                                          \
            check(!"test programs built");                             \
            return;                                                    \
        }                                                              \
    } while (0)

static void path_in(char *out, size_t n, const char *rel)
{
    snprintf(out, n, "%s/%s", dir, rel);
}

/* ---- resolution ----------------------------------------------------- */

static void t_ls_matches_ldd(void)
{
    const char *prog = access("/bin/ls", X_OK) == 0 ? "/bin/ls" : "/usr/bin/ls";
    kt__deps d;
    kt_err err = { 0 };
    char *ours, *theirs;

    if (!have_cmd("ldd")) {
        test_skip("no ldd on PATH to compare with");
        return;
    }
    check_int(kt__deps_init(&d, NULL, &err), ==, 0);
    check_int(kt__deps_add(&d, prog, "/init", &err), ==, 0);
    check_str(err.msg, "");
    ours = deps_view(&d, false);
    theirs = ldd_view(prog);
    check_str(ours, theirs);
    check_contains(ours, "libc.so.6 => /");
    check_contains(ours, "INTERP /");
    free(ours);
    free(theirs);
    /* Host and guest paths agree for system libraries. */
    ours = deps_view(&d, true);
    theirs = deps_view(&d, false);
    check_str(ours, theirs);
    free(ours);
    free(theirs);
    kt__deps_free(&d);
}

static void t_no_cache_falls_back(void)
{
    const char *prog = access("/bin/ls", X_OK) == 0 ? "/bin/ls" : "/usr/bin/ls";
    kt__ldconf none = { .cache = "", .conf = "" };
    char bad[400];
    kt__ldconf junk = { .cache = bad, .conf = "" };
    kt__deps a, b, c;
    kt_err err = { 0 };
    char *va, *vb, *vc;

    path_in(bad, sizeof(bad), "junk.cache");
    check_int(spew(bad, "glibc-ld.so.cache1.1\377\377\377\377", 24, 0644), ==, 0);
    check_int(kt__deps_init(&a, NULL, &err), ==, 0);
    check_int(kt__deps_init(&b, &none, &err), ==, 0);
    check_int(kt__deps_init(&c, &junk, &err), ==, 0);
    check(a.cache_ok);
    check(!b.cache_ok);
    check(!c.cache_ok);
    check_int(kt__deps_add(&a, prog, "/init", &err), ==, 0);
    check_int(kt__deps_add(&b, prog, "/init", &err), ==, 0);
    check_int(kt__deps_add(&c, prog, "/init", &err), ==, 0);
    va = deps_view(&a, false);
    vb = deps_view(&b, false);
    vc = deps_view(&c, false);
    check_str(vb, va);
    check_str(vc, va);
    check(b.list.n > 1 && ((kt__dep *)kt__vec_at(&b.list, 1))->via == KT__VIA_SYSDIR);
    free(va);
    free(vb);
    free(vc);
    kt__deps_free(&a);
    kt__deps_free(&b);
    kt__deps_free(&c);
}

/* With the cache unusable, ld.so.conf's directories stand in for it:
 * include globs, comments, "=type" suffixes and hwcap lines as ldconfig
 * reads them, and a 32-bit file of the right name is skipped. */
static void t_conf_dirs(void)
{
    char prog[400], conf[400], sub[400], text[2048], want[600], fake[400];
    unsigned char b32[64] = { 0x7f, 'E', 'L', 'F', 1, 1, 1 };
    kt__ldconf lc = { .cache = "", .conf = conf };
    kt__deps d;
    kt_err err = { 0 };
    const kt__dep *c;

    NEED_PROGS();
    /* d's need (libkt_c.so) is on no path of prog4's: only the conf finds it. */
    check(cc("-o bin/prog4 main2.c -Lrp2 -lkt_d -Wl,-rpath-link,rp -Wl,--enable-new-dtags "
             "-Wl,-rpath,'$ORIGIN/../rp2' && mkdir -p conf.d fake32%s%s", "", ""));
    path_in(prog, sizeof(prog), "bin/prog4");
    path_in(conf, sizeof(conf), "ld.so.conf");
    path_in(sub, sizeof(sub), "conf.d/kt.conf");
    path_in(fake, sizeof(fake), "fake32/libkt_c.so");
    b32[16] = 3;
    check_int(spew(fake, b32, sizeof(b32), 0644), ==, 0);
    snprintf(text, sizeof(text), "# test\ninclude conf.d/*.conf\nhwcap 0 nosegneg\n"
             "relative/dir\n");
    check_int(spew(conf, text, strlen(text), 0644), ==, 0);
    snprintf(text, sizeof(text), "  %s/fake32  # a 32-bit one first\n%s/rp=libc6\n", dir, dir);
    check_int(spew(sub, text, strlen(text), 0644), ==, 0);
    check_int(kt__deps_init(&d, &lc, &err), ==, 0);
    check(!d.cache_ok);
    check_uint(d.confdirs.n, ==, 2);
    check_int(kt__deps_add(&d, prog, "/init", &err), ==, 0);
    check_str(err.msg, "");
    c = dep_named(&d, "libkt_c.so");
    check(c != NULL);
    if (c) {
        snprintf(want, sizeof(want), "%s/rp/libkt_c.so", dir);
        check_str(c->host, want);
        check_str(c->guest, want);
        check_int(c->via, ==, KT__VIA_CONFDIR);
    }
    kt__deps_free(&d);
    /* Only the 32-bit one: not found, and the message says what was skipped. */
    snprintf(text, sizeof(text), "%s/fake32\n", dir);
    check_int(spew(sub, text, strlen(text), 0644), ==, 0);
    check_int(kt__deps_init(&d, &lc, &err), ==, 0);
    check_int(kt__deps_add(&d, prog, "/init", &err), ==, -1);
    check_contains(err.msg, "libkt_c.so, needed by ");
    check_contains(err.msg, "; skipped ");
    check_contains(err.msg, "32-bit ELF");
    kt__deps_free(&d);
    /* This machine's cache does not know the directory: no fallback then. */
    check_int(kt__deps_init(&d, NULL, &err), ==, 0);
    if (d.cache_ok)
        check_int(kt__deps_add(&d, prog, "/init", &err), ==, -1);
    kt__deps_free(&d);
}

static void t_runpath_origin(void)
{
    char prog[400], *ours, *theirs, want[2048];
    kt__deps d;
    kt_err err = { 0 };
    const kt__dep *a, *b;

    NEED_PROGS();
    path_in(prog, sizeof(prog), "bin/prog");
    check_int(kt__deps_init(&d, NULL, &err), ==, 0);
    check_int(kt__deps_add(&d, prog, "/init", &err), ==, 0);
    check_str(err.msg, "");
    ours = deps_view(&d, false);
    theirs = ldd_view(prog);
    check_str(ours, theirs);
    free(ours);
    free(theirs);
    a = dep_named(&d, "libkt_a.so");
    b = dep_named(&d, "libkt_b.so");
    check(a && b);
    if (a && b) {
        /* As /init, the program's $ORIGIN is "/": $ORIGIN/../lib is /lib. */
        check_str(a->guest, "/lib/libkt_a.so");
        check_int(a->via, ==, KT__VIA_RUNPATH);
        snprintf(want, sizeof(want), "%s/bin/../lib/libkt_a.so", dir);
        check_str(a->host, want);
        /* libkt_a's own $ORIGIN: the directory it was opened from. */
        check_str(b->guest, "/lib/libkt_b.so");
        snprintf(want, sizeof(want), "%s/bin/../lib/libkt_b.so", dir);
        check_str(b->host, want);
    }
    kt__deps_free(&d);
    /* The same program placed deeper in the image moves its libraries. */
    check_int(kt__deps_init(&d, NULL, &err), ==, 0);
    check_int(kt__deps_add(&d, prog, "/opt/kt/bin/prog", &err), ==, 0);
    a = dep_named(&d, "libkt_a.so");
    check(a && strcmp(a->guest, "/opt/kt/lib/libkt_a.so") == 0);
    kt__deps_free(&d);
}

static void t_rpath_inherited_runpath_not(void)
{
    char prog2[400], prog3[400], *ours, *theirs, want[1200];
    kt__deps d;
    kt_err err = { 0 };
    const kt__dep *c;

    NEED_PROGS();
    path_in(prog2, sizeof(prog2), "bin/prog2");
    path_in(prog3, sizeof(prog3), "bin/prog3");
    check_int(kt__deps_init(&d, NULL, &err), ==, 0);
    check_int(kt__deps_add(&d, prog2, "/init", &err), ==, 0);
    check_str(err.msg, "");
    ours = deps_view(&d, false);
    theirs = ldd_view(prog2);
    check_str(ours, theirs);
    free(ours);
    free(theirs);
    c = dep_named(&d, "libkt_c.so");
    check(c && c->via == KT__VIA_RPATH && strcmp(c->guest, "/rp/libkt_c.so") == 0);
    kt__deps_free(&d);
    /* RUNPATH applies to the program's own needs only: ldd agrees. */
    theirs = ldd_view(prog3);
    check_contains(theirs, "libkt_c.so => not found");
    free(theirs);
    check_int(kt__deps_init(&d, NULL, &err), ==, 0);
    check_int(kt__deps_add(&d, prog3, "/init", &err), ==, -1);
    check_int(err.code, ==, ENOENT);
    snprintf(want, sizeof(want), "libkt_c.so, needed by %s/bin/../rp2/libkt_d.so: not found "
             "(searched ", dir);
    check_contains(err.msg, want);
    kt__deps_free(&d);
}

static void t_missing_library(void)
{
    char prog[400], want[1200];
    kt__deps d;
    kt_err err = { 0 };

    NEED_PROGS();
    write_src("m.c", "int kt_m(void) { return 0; }\n");
    write_src("mainm.c", "int kt_m(void);\nint main(void) { return kt_m(); }\n");
    check(cc("-shared -fPIC -o lib/libkt_gone.so m.c && cc -o bin/progm mainm.c -Llib -lkt_gone "
             "-Wl,--enable-new-dtags -Wl,-rpath,'$ORIGIN/../lib' && rm lib/libkt_gone.so%s%s",
             "", ""));
    path_in(prog, sizeof(prog), "bin/progm");
    check_int(kt__deps_init(&d, NULL, &err), ==, 0);
    check_int(kt__deps_add(&d, prog, "/init", &err), ==, -1);
    check_int(err.code, ==, ENOENT);
    snprintf(want, sizeof(want), "libkt_gone.so, needed by %s: not found (searched %s/bin/../lib",
             prog, dir);
    check_contains(err.msg, want);
    check_contains(err.msg, "ld.so.cache");
    kt__deps_free(&d);
}

static void t_same_file_two_names(void)
{
    char prog[400], *ours, *theirs;
    kt__deps d;
    kt_err err = { 0 };
    const kt__dep *n1, *n2;

    NEED_PROGS();
    write_src("n.c", "int kt_n(void) { return 0; }\n");
    write_src("mainn.c", "int kt_n(void);\nint main(void) { return kt_n(); }\n");
    /* No soname: each DT_NEEDED is the name linked against. */
    check(cc("-shared -fPIC -o lib/libkt_n.so n.c && ln -sf libkt_n.so lib/libkt_n2.so && "
             "cc -o bin/progn mainn.c -Wl,--no-as-needed -Llib -l:libkt_n.so -l:libkt_n2.so "
             "-Wl,--enable-new-dtags -Wl,-rpath,'$ORIGIN/../lib'%s%s", "", ""));
    path_in(prog, sizeof(prog), "bin/progn");
    check_int(kt__deps_init(&d, NULL, &err), ==, 0);
    check_int(kt__deps_add(&d, prog, "/init", &err), ==, 0);
    n1 = dep_named(&d, "libkt_n.so");
    n2 = dep_named(&d, "libkt_n2.so");
    check(n1 && n2);
    /* The loader maps the file once: ldd shows libkt_n.so only. */
    ours = deps_view(&d, false);
    theirs = ldd_view(prog);
    check_str(ours, theirs);
    free(ours);
    free(theirs);
    if (n1 && n2) {
        check(n1->link == NULL);
        check_str(n2->link ? n2->link : "(none)", "/lib/libkt_n.so");
        check_str(n2->guest, "/lib/libkt_n2.so");
    }
    kt__deps_free(&d);
}

static void t_static_program(void)
{
    char prog[400];
    kt__deps d;
    kt_err err = { 0 };
    kt__elf_file f;

    if (!have_cc) {
        test_skip("no C compiler (cc) on PATH");
        return;
    }
    if (access("/usr/lib/x86_64-linux-gnu/libc.a", R_OK) != 0 && access("/usr/lib64/libc.a", R_OK) != 0 &&
        access("/usr/lib/libc.a", R_OK) != 0) {
        test_skip("no libc.a to link a static program (Debian package libc6-dev)");
        return;
    }
    write_src("s.c", "int main(void) { return 0; }\n");
    check(cc("-static -o sprog s.c%s%s", "", ""));
    path_in(prog, sizeof(prog), "sprog");
    check_int(kt__elf_load(prog, &f, &err), ==, 0);
    check(f.elf.interp == NULL);
    check_uint(f.elf.needed.n, ==, 0);
    kt__elf_file_free(&f);
    check_int(kt__deps_init(&d, NULL, &err), ==, 0);
    check_int(kt__deps_add(&d, prog, "/init", &err), ==, 0);
    check_str(err.msg, "");
    check_uint(d.list.n, ==, 0);
    /* static-pie: a dynamic section, still no loader and no libraries. */
    if (cc("-static-pie -o spie s.c%s%s", "", "")) {
        path_in(prog, sizeof(prog), "spie");
        check_int(kt__deps_add(&d, prog, "/init", &err), ==, 0);
        check_uint(d.list.n, ==, 0);
    }
    kt__deps_free(&d);
}

/* ---- files that are not what they should be --------------------------- */

/* A minimal ELF header: class, data encoding, machine. */
static void ehdr(unsigned char *b, size_t len, int cls, int data, int machine)
{
    memset(b, 0, len);
    memcpy(b, "\177ELF", 4);
    b[4] = (unsigned char)cls;
    b[5] = (unsigned char)data;
    b[6] = 1;
    b[16] = 2;                              /* ET_EXEC */
    if (data == 2) {
        b[18] = (unsigned char)(machine >> 8);
        b[19] = (unsigned char)machine;
    } else {
        b[18] = (unsigned char)machine;
        b[19] = (unsigned char)(machine >> 8);
    }
    b[20] = 1;
    b[52] = 64;                             /* e_ehsize */
}

static void t_foreign_files(void)
{
    unsigned char b[64];
    kt__elf e;
    kt_err err = { 0 };
    char text[400], arm[400];
    kt__deps d;

    ehdr(b, sizeof(b), 1, 1, 3);
    check_int(kt__elf_parse(b, sizeof(b), &e, &err), ==, -1);
    check_int(err.code, ==, ENOEXEC);
    check_contains(err.msg, "32-bit ELF (ELFCLASS32): only 64-bit x86_64 is supported");
    kt__elf_free(&e);
    ehdr(b, sizeof(b), 2, 1, 183);
    check_int(kt__elf_parse(b, sizeof(b), &e, &err), ==, -1);
    check_contains(err.msg, "ELF for machine 183 (AArch64): only x86_64 is supported");
    kt__elf_free(&e);
    ehdr(b, sizeof(b), 2, 2, 21);
    check_int(kt__elf_parse(b, sizeof(b), &e, &err), ==, -1);
    check_contains(err.msg, "big-endian ELF");
    kt__elf_free(&e);
    ehdr(b, sizeof(b), 2, 1, 62);
    check_int(kt__elf_parse(b, sizeof(b), &e, &err), ==, 0);  /* x86_64, no phdrs: static */
    check(e.interp == NULL && e.needed.n == 0 && !e.dynamic);
    kt__elf_free(&e);
    check_int(kt__elf_parse("#!/bin/sh\n", 10, &e, &err), ==, -1);
    check_contains(err.msg, "not an ELF file (starts with 23 21 2f 62)");
    kt__elf_free(&e);
    check_int(kt__elf_parse("", 0, &e, &err), ==, -1);
    check_contains(err.msg, "not an ELF file (0 bytes)");
    kt__elf_free(&e);
    /* Through the resolver, the message names the file. */
    path_in(text, sizeof(text), "script.sh");
    path_in(arm, sizeof(arm), "arm.elf");
    ehdr(b, sizeof(b), 2, 1, 183);
    check_int(spew(text, "#!/bin/sh\necho hi\n", 18, 0755), ==, 0);
    check_int(spew(arm, b, sizeof(b), 0755), ==, 0);
    check_int(kt__deps_init(&d, NULL, &err), ==, 0);
    check_int(kt__deps_add(&d, text, "/init", &err), ==, -1);
    check_int(err.code, ==, ENOEXEC);
    check_contains(err.msg, text);
    check_contains(err.msg, ": not an ELF file");
    check_int(kt__deps_add(&d, arm, "/init", &err), ==, -1);
    check_contains(err.msg, arm);
    check_contains(err.msg, ": ELF for machine 183 (AArch64)");
    check_int(kt__deps_add(&d, dir, "/init", &err), ==, -1);
    check_contains(err.msg, "not a regular file");
    kt__deps_free(&d);
}

/* A copy of a real dynamic program, with its PT_DYNAMIC located by a walk
 * written here (independent of the parser under test). */
typedef struct sample {
    unsigned char *b;
    size_t len;
    size_t dyn_off, dyn_size, interp_off, interp_size;
} sample;

static bool load_sample(sample *s)
{
    const char *prog = access("/bin/ls", R_OK) == 0 ? "/bin/ls" : "/usr/bin/ls";
    Elf64_Ehdr eh;

    memset(s, 0, sizeof(*s));
    if (!(s->b = (unsigned char *)slurp(prog, &s->len)) || s->len < sizeof(eh))
        return false;
    memcpy(&eh, s->b, sizeof(eh));
    for (unsigned i = 0; i < eh.e_phnum; i++) {
        Elf64_Phdr ph;

        memcpy(&ph, s->b + eh.e_phoff + i * sizeof(ph), sizeof(ph));
        if (ph.p_type == PT_DYNAMIC) {
            s->dyn_off = ph.p_offset;
            s->dyn_size = ph.p_filesz;
        } else if (ph.p_type == PT_INTERP) {
            s->interp_off = ph.p_offset;
            s->interp_size = ph.p_filesz;
        }
    }
    return s->dyn_off > 0 && s->interp_off > 0;
}

/* Parses len bytes copied into a buffer of exactly that size (so the
 * sanitizer sees any read past the end); the rc, message in err. */
static int parse_exact(const unsigned char *b, size_t len, kt_err *err)
{
    unsigned char *copy = malloc(len ? len : 1);
    kt__elf e;
    int rc;

    memcpy(copy, b, len);
    rc = kt__elf_parse(copy, len, &e, err);
    kt__elf_free(&e);
    free(copy);
    return rc;
}

/* Offset of the first dynamic entry with tag, or 0. */
static size_t dyn_entry(const sample *s, int64_t tag)
{
    for (size_t o = s->dyn_off; o + 16 <= s->dyn_off + s->dyn_size; o += 16) {
        int64_t t;

        memcpy(&t, s->b + o, 8);
        if (t == tag)
            return o;
    }
    return 0;
}

static void t_truncated(void)
{
    sample s;
    kt_err err = { 0 };
    int bad = 0;

    if (!load_sample(&s)) {
        test_skip("no readable dynamic /bin/ls to cut up");
        free(s.b);
        return;
    }
    check_int(parse_exact(s.b, s.len, &err), ==, 0);
    check_int(parse_exact(s.b, 40, &err), ==, -1);
    check_int(err.code, ==, EINVAL);
    check_contains(err.msg, "truncated ELF header (40 of 64 bytes)");
    check_int(parse_exact(s.b, 100, &err), ==, -1);
    check_contains(err.msg, "program headers at offset 64 run past the end of the file (100 bytes");
    check_int(parse_exact(s.b, s.interp_off + 3, &err), ==, -1);
    check_contains(err.msg, "PT_INTERP");
    check_contains(err.msg, "truncated?");
    check_int(parse_exact(s.b, s.dyn_off + 8, &err), ==, -1);
    check_contains(err.msg, "PT_DYNAMIC");
    /* Every cut: an answer, never a crash; a failure always says why. */
    for (size_t len = 0; len < s.len; len += len < 8192 ? 1 : 509) {
        kt_err e = { 0 };
        int rc = parse_exact(s.b, len, &e);

        if (rc != 0 && (rc != -1 || e.msg[0] == '\0'))
            bad++;
    }
    check_int(bad, ==, 0);
    free(s.b);
}

static void t_corrupt(void)
{
    sample s;
    kt_err err = { 0 };
    size_t o, phoff;
    unsigned char keep[16];
    uint64_t v;

    if (!load_sample(&s)) {
        test_skip("no readable dynamic /bin/ls to corrupt");
        free(s.b);
        return;
    }
    memcpy(&phoff, s.b + 32, 8);
    s.b[54] = 32;                                       /* e_phentsize */
    check_int(parse_exact(s.b, s.len, &err), ==, -1);
    check_contains(err.msg, "program header size 32, expected 56");
    s.b[54] = 56;
    v = UINT64_MAX - 8;                                 /* e_phoff: overflows */
    memcpy(s.b + 32, &v, 8);
    check_int(parse_exact(s.b, s.len, &err), ==, -1);
    check_contains(err.msg, "run past the end of the file");
    memcpy(s.b + 32, &phoff, 8);
    s.b[s.interp_off + s.interp_size - 1] = 'x';        /* PT_INTERP without its NUL */
    check_int(parse_exact(s.b, s.len, &err), ==, -1);
    check_contains(err.msg, "PT_INTERP is not a NUL-terminated path");
    s.b[s.interp_off + s.interp_size - 1] = '\0';
    check((o = dyn_entry(&s, DT_STRSZ)) > 0);
    memcpy(keep, s.b + o, 16);
    v = (uint64_t)1 << 40;
    memcpy(s.b + o + 8, &v, 8);
    check_int(parse_exact(s.b, s.len, &err), ==, -1);
    check_contains(err.msg, "string table (vaddr 0x");
    memcpy(s.b + o, keep, 16);
    check((o = dyn_entry(&s, DT_NEEDED)) > 0);
    memcpy(keep, s.b + o, 16);
    v = UINT32_MAX;
    memcpy(s.b + o + 8, &v, 8);
    check_int(parse_exact(s.b, s.len, &err), ==, -1);
    check_contains(err.msg, "DT_NEEDED string at 4294967295 is outside the string table");
    memcpy(s.b + o, keep, 16);
    check((o = dyn_entry(&s, DT_STRTAB)) > 0);
    memcpy(keep, s.b + o, 16);
    memcpy(s.b + o, &(int64_t){ DT_DEBUG }, 8);        /* DT_STRTAB gone */
    check_int(parse_exact(s.b, s.len, &err), ==, -1);
    check_contains(err.msg, "dynamic section has DT_NEEDED but no DT_STRTAB/DT_STRSZ");
    memcpy(s.b + o, keep, 16);
    check_int(parse_exact(s.b, s.len, &err), ==, 0);
    free(s.b);
}

/* A bounded fuzz run: random byte changes in the headers and the dynamic
 * section, each parsed from an exact-size buffer. It asserts only that
 * every answer is 0 or -1 with a reason; a crash or a sanitizer report
 * fails the whole file. */
static void t_fuzz(void)
{
    sample s;
    uint64_t rng = 0x9e3779b97f4a7c15ULL;
    int bad = 0, failed = 0;
    unsigned char *copy;
    size_t span;

    if (!load_sample(&s)) {
        test_skip("no readable dynamic /bin/ls to fuzz");
        free(s.b);
        return;
    }
    /* Only the part the parser reads travels: the first 4 KiB and the
     * dynamic section, so each round copies little. */
    span = s.dyn_off + s.dyn_size;
    copy = malloc(s.len);
    for (int round = 0; round < 20000; round++) {
        kt_err e = { 0 };
        kt__elf el;
        int flips = 1 + (int)(rng % 6), rc;

        memcpy(copy, s.b, s.len);
        for (int k = 0; k < flips; k++) {
            size_t at;

            rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
            at = (rng >> 33) % 2 ? (rng >> 20) % 4096 : s.dyn_off + (rng >> 20) % s.dyn_size;
            if (at < span)
                copy[at] = (unsigned char)(rng >> 8);
        }
        rc = kt__elf_parse(copy, s.len, &el, &e);
        if (rc != 0 && (rc != -1 || e.msg[0] == '\0'))
            bad++;
        failed += rc != 0;
        for (size_t i = 0; rc == 0 && i < el.needed.n; i++)
            bad += strlen(*(const char **)kt__vec_at(&el.needed, i)) == 0;
        kt__elf_free(&el);
    }
    test_msg("fuzz: %d of 20000 mutants rejected", failed);
    check_int(bad, ==, 0);
    check_int(failed, >, 0);
    free(copy);
    free(s.b);
}

/* ---- ld.so.cache ------------------------------------------------------- */

static void t_libcmp(void)
{
    check_int(kt__ldcache_libcmp("libfoo.so.10", "libfoo.so.9"), >, 0);
    check_int(kt__ldcache_libcmp("libfoo.so.9", "libfoo.so.10"), <, 0);
    check_int(kt__ldcache_libcmp("libc.so.6", "libc.so.6"), ==, 0);
    check_int(kt__ldcache_libcmp("liba.so", "libb.so"), <, 0);
    check_int(kt__ldcache_libcmp("lib1", "liba"), >, 0);     /* digits sort after */
    check_int(kt__ldcache_libcmp("libz.so", "libz.so.1"), <, 0);
}

static void t_host_cache(void)
{
    kt__ldcache c;
    kt_err err = { 0 };
    int st = -1;
    char *out, *line, want[400];
    const char *p;

    if (kt__ldcache_load(&c, "/etc/ld.so.cache", &err) < 0) {
        test_skip("this machine's /etc/ld.so.cache is unusable: %s", err.msg);
        return;
    }
    p = kt__ldcache_lookup(&c, "libc.so.6");
    check(p != NULL);
    check(kt__ldcache_lookup(&c, "libkt-no-such-lib.so.7") == NULL);
    out = have_cmd("ldconfig") || access("/sbin/ldconfig", X_OK) == 0
              ? run_cmd(&st, NULL, "PATH=$PATH:/sbin:/usr/sbin ldconfig -p") : NULL;
    if (p && out && (line = strstr(out, "\tlibc.so.6 (libc6,x86-64) => "))) {
        snprintf(want, sizeof(want), "\tlibc.so.6 (libc6,x86-64) => %s\n", p);
        check(strncmp(line, want, strlen(want)) == 0);
    }
    free(out);
    kt__ldcache_free(&c);
}

static void t_cache_written_read_back(void)
{
    const char *names[] = { "liba.so", "libfoo.so.9", "libz.so.1", "libfoo.so.10" };
    const char *paths[] = { "/opt/a/liba.so", "/x/libfoo.so.9", "/lib/libz.so.1",
                            "/x/libfoo.so.10" };
    kt__vec buf = KT__VEC_INIT(char);
    kt__ldcache c;
    kt_err err = { 0 };
    char file[400], want[1200], *out;
    int st = -1, bad = 0;

    check_int(kt__ldcache_build(&buf, names, paths, 4, &err), ==, 0);
    check_int(kt__ldcache_parse(&c, buf.v, buf.n, &err), ==, 0);
    for (int i = 0; i < 4; i++) {
        const char *p = kt__ldcache_lookup(&c, names[i]);

        bad += !p || strcmp(p, paths[i]) != 0;
    }
    check_int(bad, ==, 0);
    check(kt__ldcache_lookup(&c, "libfoo.so") == NULL);
    path_in(file, sizeof(file), "test.cache");
    check_int(spew(file, buf.v, buf.n, 0644), ==, 0);
    out = run_cmd(&st, NULL, "PATH=$PATH:/sbin:/usr/sbin ldconfig -p -C %s", file);
    if (st == 127 || !out) {
        test_skip("no ldconfig to read the cache back");
    } else {
        /* ldconfig lists in file order: the loader's descending order. */
        snprintf(want, sizeof(want), "4 libs found in cache `%s'\n"
                 "\tlibz.so.1 (libc6,x86-64) => /lib/libz.so.1\n"
                 "\tlibfoo.so.10 (libc6,x86-64) => /x/libfoo.so.10\n"
                 "\tlibfoo.so.9 (libc6,x86-64) => /x/libfoo.so.9\n"
                 "\tliba.so (libc6,x86-64) => /opt/a/liba.so\n", file);
        check_str(out, want);
    }
    free(out);
    kt__vec_free(&buf);
}

/* The real loader, in a chroot holding only what the written cache
 * names: a library outside every system directory is found through it,
 * among enough other names that the binary search takes several steps. */
static void t_cache_used_by_loader(void)
{
    kt__vec buf = KT__VEC_INIT(char);
    kt__ldcache host;
    kt_err err = { 0 };
    const char *names[40], *paths[40], *libc, *interp;
    char dummy[36][32], root[400], file[600], *out, *errs = NULL;
    kt__elf_file f;
    int st = -1, n = 0;

    NEED_PROGS();
    if (geteuid() != 0) {
        test_skip("chroot needs root");
        return;
    }
    if (kt__ldcache_load(&host, "/etc/ld.so.cache", &err) < 0 ||
        !(libc = kt__ldcache_lookup(&host, "libc.so.6"))) {
        test_skip("no usable ld.so.cache here to find libc.so.6: %s", err.msg);
        kt__ldcache_free(&host);
        return;
    }
    write_src("mainc.c", "int kt_b(void);\nint main(void) { return kt_b() == 2 ? 0 : 1; }\n");
    check(cc("-o bin/progc mainc.c -Llib -lkt_b%s%s", "", ""));
    path_in(file, sizeof(file), "bin/progc");
    check_int(kt__elf_load(file, &f, &err), ==, 0);
    path_in(root, sizeof(root), "root");
    interp = f.elf.interp ? f.elf.interp : "/none";
    out = run_cmd(&st, &errs, "r=%s && mkdir -p $r/opt/kt $r/etc $r$(dirname %s) $r$(dirname %s)"
                  " && cp -L %s $r/init && cp -L %s $r%s && cp -L %s $r%s"
                  " && cp -L %s/lib/libkt_b.so $r/opt/kt/", root, interp, libc, file, interp,
                  interp, libc, libc, dir);
    check_int(st, ==, 0);
    free(out);
    free(errs);
    kt__elf_file_free(&f);
    names[n] = "libc.so.6";
    paths[n++] = libc;
    names[n] = "libkt_b.so";
    paths[n++] = "/opt/kt/libkt_b.so";
    for (int i = 0; i < 36; i++, n++) {
        snprintf(dummy[i], sizeof(dummy[i]), "lib%c%d.so.%d", 'a' + i % 26, i, i % 3);
        names[n] = dummy[i];
        paths[n] = "/nowhere/libx.so";
    }
    check_int(kt__ldcache_build(&buf, names, paths, (size_t)n, &err), ==, 0);
    snprintf(file, sizeof(file), "%s/etc/ld.so.cache", root);
    check_int(spew(file, buf.v, buf.n, 0644), ==, 0);
    out = run_cmd(&st, &errs, "chroot %s /init", root);
    if (st != 0 && errs && strstr(errs, "Operation not permitted"))
        test_skip("chroot not permitted here: %s", errs);
    else {
        if (st != 0)
            fprintf(stderr, "# chroot /init: %s\n", errs ? errs : "?");
        check_int(st, ==, 0);
    }
    free(out);
    free(errs);
    /* Without the cache the same root fails: the cache did the finding. */
    unlink(file);
    out = run_cmd(&st, &errs, "chroot %s /init", root);
    if (errs && !strstr(errs, "Operation not permitted"))
        check_contains(errs, "libkt_b.so");
    free(out);
    free(errs);
    kt__vec_free(&buf);
    kt__ldcache_free(&host);
}

static void t_cache_corrupt(void)
{
    kt__vec buf = KT__VEC_INIT(char);
    const char *names[] = { "libq.so.1" }, *paths[] = { "/q/libq.so.1" };
    kt__ldcache c;
    kt_err err = { 0 };
    uint64_t rng = 12345;
    int found = 0;

    check_int(kt__ldcache_build(&buf, names, paths, 1, &err), ==, 0);
    check_int(kt__ldcache_parse(&c, buf.v, 30, &err), ==, -1);
    check_contains(err.msg, "no \"glibc-ld.so.cache1.1\" header");
    ((unsigned char *)buf.v)[20] = 0xff;                /* nlibs */
    check_int(kt__ldcache_parse(&c, buf.v, buf.n, &err), ==, -1);
    check_contains(err.msg, "entries run past the end");
    ((unsigned char *)buf.v)[20] = 1;
    for (int round = 0; round < 5000; round++) {
        unsigned char *copy = malloc(buf.n);

        memcpy(copy, buf.v, buf.n);
        rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
        copy[(rng >> 33) % buf.n] = (unsigned char)(rng >> 8);
        if (kt__ldcache_parse(&c, copy, buf.n, &err) == 0 && kt__ldcache_lookup(&c, "libq.so.1"))
            found++;
        free(copy);
    }
    check_int(found, >, 0);
    kt__vec_free(&buf);
}

static void t_guest_path(void)
{
    char out[32];
    kt_err err = { 0 };

    check_int(kt__guest_path("/../lib//x/./y/", out, sizeof(out), &err), ==, 0);
    check_str(out, "/lib/x/y");
    check_int(kt__guest_path("a/b/../c", out, sizeof(out), &err), ==, 0);
    check_str(out, "/a/c");
    check_int(kt__guest_path("/", out, sizeof(out), &err), ==, 0);
    check_str(out, "/");
    check_int(kt__guest_path("/..", out, sizeof(out), &err), ==, 0);
    check_str(out, "/");
    check_int(kt__guest_path("/aaaaaaaaaaaaaaaa/bbbbbbbbbbbbbbbbbbbbbb", out, sizeof(out), &err),
              ==, -1);
    check_int(err.code, ==, ENAMETOOLONG);
}

int main(void)
{
    scratch_dir(dir, sizeof(dir), "elf");
    have_cc = have_cmd("cc");
    TEST(t_ls_matches_ldd(), "ls: loader and libraries as ldd prints them");
    TEST(t_no_cache_falls_back(), "no or corrupt ld.so.cache: the system directories find the same");
    TEST(t_conf_dirs(), "no cache: ld.so.conf directories, includes, 32-bit files skipped");
    TEST(t_runpath_origin(), "RUNPATH with $ORIGIN: ldd's host paths, guest paths from /init");
    TEST(t_rpath_inherited_runpath_not(), "DT_RPATH is inherited by libraries, DT_RUNPATH is not");
    TEST(t_missing_library(), "a missing library names itself and the object that needs it");
    TEST(t_same_file_two_names(), "one file under two names: the second is a link to the first");
    TEST(t_static_program(), "a static program needs nothing");
    TEST(t_foreign_files(), "32-bit, AArch64, big-endian and non-ELF files: clear errors");
    TEST(t_truncated(), "truncated files: clear errors at every cut, never a crash");
    TEST(t_corrupt(), "corrupt headers, dynamic entries and strings: clear errors");
    TEST(t_fuzz(), "20000 mutants parse to an answer");
    TEST(t_libcmp(), "ld.so.cache name order: digits compare as numbers");
    TEST(t_host_cache(), "this machine's ld.so.cache: libc.so.6 where ldconfig -p says");
    TEST(t_cache_written_read_back(), "a written ld.so.cache reads back here and in ldconfig -p");
    TEST(t_cache_used_by_loader(), "the real loader finds a library through a written cache");
    TEST(t_cache_corrupt(), "corrupt ld.so.cache: rejected or read in bounds");
    TEST(t_guest_path(), "guest paths are normalised");
    rm_tree(dir);
    return test_done();
}
