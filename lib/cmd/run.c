/* ktstr run: prove over the installed catalog (or the files and
 * scenarios named), with the runner's own settings handed to every file
 * after prove's "::" -- checked first by the runner's own parser, so a
 * typo is one usage error here, not a failure in every file. */
#include <errno.h>
#include <stdarg.h>
#include <fnmatch.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "runner/runner.h"

#define MAX_ARGS 512

typedef enum { OWN_JUNIT, OWN_JOBS, OWN_HELP, RUNNER } opt_kind;

/* Every option ktstr run takes: its own, and the runner's it passes on. */
static const struct {
    const char *name;
    bool takes_value;
    opt_kind kind;
} options[] = {
    { "--junit", true, OWN_JUNIT },       { "--jobs", true, OWN_JOBS },
    { "-j", true, OWN_JOBS },             { "--help", false, OWN_HELP },
    { "-h", false, OWN_HELP },            { "--vm", false, RUNNER },
    { "--kernel", true, RUNNER },         { "--qemu", true, RUNNER },
    { "--accel", true, RUNNER },          { "--scheduler", true, RUNNER },
    { "--topology", true, RUNNER },       { "--shard", true, RUNNER },
    { "--artifacts", true, RUNNER },      { "--baseline", true, RUNNER },
    { "--timeout", true, RUNNER },        { "--filter", true, RUNNER },
    { "--verbose", false, RUNNER },       { "-v", false, RUNNER },
};

static void usage(FILE *fp)
{
    fprintf(fp,
            "usage: ktstr run [OPTIONS] [SCENARIO|FILE...]\n"
            "Runs the installed catalog under prove, or the scenario files named\n"
            "(a catalog file as 'fairness', or a path to your own), or the scenarios\n"
            "named (names or globs, as ktstr list prints them). Exits as prove does.\n"
            "  --vm              every scenario in a QEMU guest; the kernel is --kernel,\n"
            "                    else KTSTR_KERNEL, else the one `ktstr kernel` fetched\n"
            "  --kernel PATH     the guest kernel (a bzImage or an ELF vmlinux)\n"
            "  --scheduler SPEC  the sched_ext scheduler under test: builtin:fifo, or a\n"
            "                    program and its arguments ('./scx_mine -v')\n"
            "  --topology T      the guest's shape, <nodes>n<llcs>l<cores>c<threads>t\n"
            "  --shard I/N       the I-th of N round-robin slices of each file's points\n"
            "  --artifacts DIR   a sidecar (and plot) per point, for ktstr report\n"
            "  --baseline DIR    fail a point whose claims regressed from DIR's run\n"
            "  --junit FILE      also write the results as JUnit XML (needs Debian's\n"
            "                    libtap-formatter-junit-perl)\n"
            "  --jobs N, -j N    files run at once (prove -j; default 1: timing claims\n"
            "                    measure the machine, and parallel files share its CPUs)\n"
            "  --filter GLOB, --timeout S, --verbose, --qemu P, --accel A: as a\n"
            "                    scenario file takes them (FILE --help)\n"
            "The KTSTR_* environment variables are the defaults these override.\n");
}

static int lookup(const char *arg, const char **value)
{
    size_t n = strcspn(arg, "=");

    *value = NULL;
    for (size_t i = 0; i < sizeof(options) / sizeof(options[0]); i++) {
        if (strlen(options[i].name) != n || strncmp(arg, options[i].name, n) != 0)
            continue;
        if (arg[n] == '=') {
            if (!options[i].takes_value)
                return -1;
            *value = arg + n + 1;
        }
        return (int)i;
    }
    return -1;
}

/* Bad input: one line on stderr, and the usage exit status. */
static int bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int bad(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "ktstr run: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n");
    return KT__CMD_USAGE;
}

/* Every scenario name of file, or -1 after saying why not. */
static int list_names(const char *file, kt__vec *names)
{
    kt_err err = { 0, "" };

    if (kt__cmd_scenarios(file, false, names, &err) == 0)
        return 0;
    fprintf(stderr, "ktstr run: %s\n", err.msg);
    return -1;
}

static bool has(const kt__vec *v, const char *s)
{
    for (size_t i = 0; i < v->n; i++)
        if (!strcmp(((char **)v->v)[i], s))
            return true;
    return false;
}

static int push(kt__vec *v, const char *s)
{
    char *copy = strdup(s);

    if (copy && kt__vec_push(v, &copy, NULL, "ktstr run") == 0)
        return 0;
    free(copy);
    return -1;
}

/* A catalog file named by its stem ("fairness" or "fairness.t"). */
static const char *catalog_file(const kt__vec *catalog, const char *arg)
{
    size_t n = strlen(arg) - (strlen(arg) > 2 && !strcmp(arg + strlen(arg) - 2, ".t") ? 2 : 0);

    for (size_t i = 0; i < catalog->n; i++) {
        const char *f = ((char **)catalog->v)[i], *base = strrchr(f, '/') + 1;

        if (strlen(base) == n + 2 && !strncmp(base, arg, n))
            return f;
    }
    return NULL;
}

/* Turns the positional arguments into files and, when any names a
 * scenario, --filter arguments that keep each whole file named whole. */
static int resolve(char **args, int nargs, kt__vec *files, kt__vec *filters)
{
    kt__vec catalog = KT__VEC_INIT(char *), whole = KT__VEC_INIT(char *);
    kt_err err = { 0, "" };
    bool names = false;
    int rc = 0;

    if (kt__cmd_catalog(&catalog, &err) < 0 && nargs == 0) {
        fprintf(stderr, "%s\n", err.msg);
        return KT__CMD_USAGE;
    }
    if (nargs == 0) {
        *files = catalog;
        return 0;
    }
    for (int i = 0; i < nargs && rc == 0; i++) {
        const char *f = catalog_file(&catalog, args[i]);
        struct stat st;
        bool found = false;

        if (!f && strchr(args[i], '/') && stat(args[i], &st) == 0 && S_ISREG(st.st_mode))
            f = args[i];
        if (f) {
            if (!has(files, f))
                push(files, f);
            push(&whole, f);
            continue;
        }
        names = true;
        for (size_t k = 0; k < catalog.n && rc == 0; k++) {
            const char *cf = ((char **)catalog.v)[k];
            kt__vec list;

            if (list_names(cf, &list) < 0) {
                rc = 1;
                break;
            }
            for (size_t j = 0; j < list.n; j++) {
                if (fnmatch(args[i], ((char **)list.v)[j], 0) != 0)
                    continue;
                found = true;
                if (!has(files, cf))
                    push(files, cf);
            }
            kt__cmd_free_strs(&list);
        }
        if (!found && rc == 0)
            rc = bad("no scenario or file named '%s'%s (ktstr list shows them)", args[i],
                     strchr(args[i], '/') ? " (no such file)" : "");
        else
            push(filters, args[i]);
    }
    /* A whole file beside scenario names: every one of its names too. */
    for (size_t i = 0; names && rc == 0 && i < whole.n; i++) {
        kt__vec list;

        if (list_names(((char **)whole.v)[i], &list) < 0) {
            rc = 1;
            break;
        }
        for (size_t j = 0; j < list.n; j++)
            push(filters, ((char **)list.v)[j]);
        kt__cmd_free_strs(&list);
    }
    if (!names)
        kt__cmd_free_strs(filters);
    kt__cmd_free_strs(&whole);
    kt__cmd_free_strs(&catalog);
    return rc;
}

/* The kernel --vm boots when none was named: the one in the cache. */
static int default_kernel(char *buf, size_t n, bool vm)
{
    char dir[PATH_MAX - 16];
    kt_err err = { 0, "" };
    const char *names[] = { "vmlinux", "bzImage" };

    if (kt__cmd_kernel_dir(dir, sizeof(dir), &err) == 0) {
        for (size_t i = 0; i < 2; i++) {
            snprintf(buf, n, "%s/%s", dir, names[i]);
            if (access(buf, R_OK) == 0)
                return 1;
        }
    }
    if (!vm)
        return 0;
    return bad("--vm: no guest kernel in %s%s: run `ktstr kernel` first, or give --kernel",
               err.msg[0] ? "the cache" : dir, err.msg[0] ? " (no HOME)" : "");
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path) < 0 ? -1 : 0;
}

/* The TAP prove saved under dump, as JUnit XML into path. */
static int write_junit(const char *dump, const kt__vec *files, const char *path)
{
    char libexec[PATH_MAX], script[PATH_MAX + 16], *argv[MAX_ARGS];
    kt__vec pairs = KT__VEC_INIT(char *);
    kt_err err = { 0, "" };
    int n = 0, rc;

    if (kt__cmd_libexec(libexec, sizeof(libexec), &err) < 0) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    snprintf(script, sizeof(script), "%s/junit.pl", libexec);
    argv[n++] = "perl";
    argv[n++] = script;
    argv[n++] = (char *)path;
    for (size_t i = 0; i < files->n && n < MAX_ARGS - 1; i++) {
        const char *f = ((char **)files->v)[i];
        const char *base = strrchr(f, '/') ? strrchr(f, '/') + 1 : f;
        char pair[2 * PATH_MAX + 8];
        struct stat st;

        /* prove saves a file's TAP at <dump>/<the path it was given> */
        snprintf(pair, sizeof(pair), "%.*s=%s/%s", (int)(strlen(base) -
                 (strlen(base) > 2 && !strcmp(base + strlen(base) - 2, ".t") ? 2 : 0)),
                 base, dump, f);
        if (stat(strchr(pair, '=') + 1, &st) < 0)
            continue;   /* interrupted before it ran */
        push(&pairs, pair);
        argv[n++] = ((char **)pairs.v)[pairs.n - 1];
    }
    argv[n] = NULL;
    rc = kt__cmd_spawn(argv, &err);
    if (rc < 0)
        fprintf(stderr, "%s\n", err.msg);
    else if (rc != 0)
        fprintf(stderr, "ktstr run: --junit %s: junit.pl failed\n", path);
    kt__cmd_free_strs(&pairs);
    return rc == 0 ? 0 : 1;
}

int kt__cmd_run(int argc, char **argv)
{
    char *rargv[MAX_ARGS], *pargv[MAX_ARGS], kernel[PATH_MAX + 16], jobs_s[32] = "";
    char dump[] = "/tmp/ktstr-junit-XXXXXX";
    const char *junit = NULL;
    char *pos[MAX_ARGS];
    int rargc = 0, npos = 0, pargc = 0, rc;
    bool vm = false, has_kernel = getenv("KTSTR_KERNEL") && *getenv("KTSTR_KERNEL");
    kt__vec files = KT__VEC_INIT(char *), filters = KT__VEC_INIT(char *);
    kt__cli cli;
    kt_err err = { 0, "" };

    rargv[rargc++] = "ktstr run";
    for (int i = 1; i < argc; i++) {
        const char *value;
        int k;

        if (argv[i][0] != '-' || !strcmp(argv[i], "-")) {
            if (npos < MAX_ARGS - 1)
                pos[npos++] = argv[i];
            continue;
        }
        k = lookup(argv[i], &value);
        if (k < 0)
            return bad("unknown option '%s' (ktstr run --help)", argv[i]);
        if (options[k].takes_value && !value) {
            if (i + 1 >= argc)
                return bad("%s needs a value", options[k].name);
            value = argv[++i];
        }
        switch (options[k].kind) {
        case OWN_HELP:
            usage(stdout);
            return 0;
        case OWN_JUNIT:
            junit = value;
            break;
        case OWN_JOBS: {
            char *end;
            long j = strtol(value, &end, 10);

            if (*value < '1' || *value > '9' || *end || j > 64)
                return bad("--jobs '%s': must be 1 to 64", value);
            snprintf(jobs_s, sizeof(jobs_s), "-j%d", (int)j);
            break;
        }
        case RUNNER:
            if (rargc >= MAX_ARGS - 4)
                return bad("too many options");
            vm |= !strcmp(options[k].name, "--vm");
            has_kernel |= !strcmp(options[k].name, "--kernel");
            rargv[rargc++] = (char *)options[k].name;
            if (value)
                rargv[rargc++] = (char *)value;
            break;
        }
    }
    if (!has_kernel) {
        rc = default_kernel(kernel, sizeof(kernel), vm);
        if (rc > 1)
            return rc;
        if (rc == 1) {
            rargv[rargc++] = "--kernel";
            rargv[rargc++] = kernel;
        }
    }
    rargv[rargc] = NULL;
    /* The runner's own parser, on the same words and environment each
     * file will see: its message names the option and the value. */
    if (kt__cli_parse(&cli, rargc, rargv, &err) < 0) {
        kt__cli_fini(&cli);
        return bad("%s", err.msg);
    }
    kt__cli_fini(&cli);
    if (junit && system("perl -MTAP::Formatter::JUnit -e 1 >/dev/null 2>&1") != 0)
        return bad("--junit %s: needs Perl's TAP::Formatter::JUnit (apt-get install "
                   "libtap-formatter-junit-perl)", junit);
    rc = resolve(pos, npos, &files, &filters);
    if (rc != 0) {
        kt__cmd_free_strs(&files);
        kt__cmd_free_strs(&filters);
        return rc;
    }
    pargv[pargc++] = "prove";
    if (jobs_s[0])
        pargv[pargc++] = jobs_s;
    for (size_t i = 0; i < files.n && pargc < MAX_ARGS / 2; i++)
        pargv[pargc++] = ((char **)files.v)[i];
    pargv[pargc++] = "::";
    for (int i = 1; i < rargc && pargc < MAX_ARGS - 3; i++)
        pargv[pargc++] = rargv[i];
    for (size_t i = 0; i < filters.n && pargc < MAX_ARGS - 3; i++) {
        pargv[pargc++] = "--filter";
        pargv[pargc++] = ((char **)filters.v)[i];
    }
    pargv[pargc] = NULL;
    if (junit) {
        if (!mkdtemp(dump)) {
            fprintf(stderr, "ktstr run: mkdtemp %s: %s\n", dump, strerror(errno));
            return 1;
        }
        setenv("PERL_TEST_HARNESS_DUMP_TAP", dump, 1);
    }
    rc = kt__cmd_spawn(pargv, &err);
    if (rc < 0) {
        fprintf(stderr, "%s (apt-get install perl)\n", err.msg);
        rc = 1;
    }
    if (junit) {
        unsetenv("PERL_TEST_HARNESS_DUMP_TAP");   /* junit.pl's own harness must not spool */
        if (write_junit(dump, &files, junit) != 0 && rc == 0)
            rc = 1;
        nftw(dump, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    }
    kt__cmd_free_strs(&files);
    kt__cmd_free_strs(&filters);
    return rc;
}
