/* The runner's command line. Every mistake is a usage error naming the
 * option and the value: a typo must never run a different test set. */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "evidence/json.h"
#include "runner/inconclusive.h"
#include "runner/runner.h"
#include "runner/sched.h"
#include "runner/vm.h"
#include "scx/scx.h"

/* A day: longer is almost surely a unit mistake (ms for s). */
#define TIMEOUT_MAX 86400

enum opt {
    OPT_LIST, OPT_DESCRIBE, OPT_FILTER, OPT_TIMEOUT, OPT_VERBOSE, OPT_HELP,
    OPT_VM, OPT_SHARD, OPT_KERNEL, OPT_QEMU, OPT_ACCEL, OPT_TOPOLOGY, OPT_SCHEDULER,
    OPT_SCHED_ATTACH, OPT_SCHED_FAULT, OPT_GUEST_FAULT, OPT_VM_BOOT, OPT_VM_REUSE, OPT_ARTIFACTS,
    OPT_BASELINE,
};

static const struct {
    const char *name;
    enum opt opt;
    bool takes_value;
} options[] = {
    { "--list", OPT_LIST, false },
    { "--describe", OPT_DESCRIBE, false },
    { "--filter", OPT_FILTER, true },
    { "--timeout", OPT_TIMEOUT, true },
    { "--verbose", OPT_VERBOSE, false },
    { "-v", OPT_VERBOSE, false },
    { "--help", OPT_HELP, false },
    { "-h", OPT_HELP, false },
    { "--vm", OPT_VM, false },
    { "--vm-reuse", OPT_VM_REUSE, true },
    { "--shard", OPT_SHARD, true },
    { "--kernel", OPT_KERNEL, true },
    { "--qemu", OPT_QEMU, true },
    { "--accel", OPT_ACCEL, true },
    { "--topology", OPT_TOPOLOGY, true },
    { "--scheduler", OPT_SCHEDULER, true },
    { "--artifacts", OPT_ARTIFACTS, true },
    { "--baseline", OPT_BASELINE, true },
};

void kt__cli_usage(FILE *fp, const char *prog)
{
    fprintf(fp,
            "usage: %s [--list | --describe] [--filter GLOB]... [--timeout S] [--verbose]\n"
            "          [--help]\n"
            "          [--vm] [--topology NAME] [--kernel BZIMAGE] [--qemu PROG] [--accel A]\n"
            "          [--vm-reuse 0|1] [--shard I/N]\n"
            "  --list         print the scenario names, one per line, and exit\n"
            "  --describe     print each scenario's name, a tab and its purpose, and exit\n"
            "  --filter GLOB  run only scenarios whose name matches GLOB (fnmatch);\n"
            "                 repeatable, the union is run and counted in the plan\n"
            "  --timeout S    timeout in whole seconds for every scenario (1..%d),\n"
            "                 overriding each scenario's own\n"
            "  --verbose, -v  list every claim in the YAML, passing ones too\n"
            "  --help, -h     print this text\n"
            "  --vm           run every scenario in a QEMU guest (those without .vm\n"
            "                 with the default topology, 1n1l2c1t)\n"
            "  --topology T   the guest topology for scenarios without .vm, as\n"
            "                 <nodes>n<llcs>l<cores>c<threads>t, e.g. 2n2l2c1t\n"
            "  --kernel F     the guest kernel (a bzImage); default\n"
            "                 /boot/vmlinuz-$(uname -r) when readable\n"
            "  --qemu P       the QEMU program; default qemu-system-x86_64 on PATH\n"
            "  --accel A      kvm or tcg; default kvm where it can boot a Linux guest\n"
            "  --vm-reuse B   1 (default): the points of this program that ask for the\n"
            "                 same guest run in one, booted once; 0: a guest per point\n"
            "  --shard I/N    run the I-th of N round-robin slices of the selection\n"
            "  --scheduler S  the sched_ext scheduler under test: builtin:fifo,\n"
            "                 builtin:fifo_partial, builtin:stall, builtin:lazy:P (CPU 1\n"
            "                 left idle P ms of every 100 ms), or a program and\n"
            "                 its arguments (\"/path/scx_simple -v\")\n"
            "  --artifacts D  write D/<scenario>.json per point (claims, notes, host),\n"
            "                 and .csv and .svg where it recorded series\n"
            "  --baseline D   compare every numeric claim with D/<scenario>.json (an\n"
            "                 earlier run's --artifacts); a worse value fails the point\n"
            "Environment (defaults the options override, handy under prove):\n"
            "  KTSTR_FILTER   globs separated by spaces or commas, as --filter\n"
            "  KTSTR_TIMEOUT  seconds, as --timeout\n"
            "  KTSTR_VERBOSE  1 for --verbose (0 or empty: off)\n"
            "  KTSTR_VM       1 for --vm; KTSTR_TOPOLOGY, KTSTR_KERNEL, KTSTR_QEMU,\n"
            "                 KTSTR_ACCEL, KTSTR_SHARD, KTSTR_SCHEDULER and KTSTR_VM_REUSE as\n"
            "                 the options of those names; KTSTR_VM_BOOT_S: seconds a\n"
            "                 guest has to reach /init before it is booted again\n"
            "                 (default 30); KTSTR_SCHED_ATTACH_S: seconds a scheduler\n"
            "                 has to attach (default 10); KTSTR_SCHED_FAULT=stop:MS\n"
            "                 SIGSTOPs a scheduler program MS ms after it attached\n"
            "                 (to see that the harness catches a stopped scheduler)\n"
            "  KTSTR_GUEST_FAULT=\"PROG ARGS\"  VM mode: PROG (copied into the guest)\n"
            "                 runs with ARGS beside each point's body in the guest, so\n"
            "                 a sensitivity test can break a property from inside\n"
            "  KTSTR_ARTIFACTS, KTSTR_BASELINE  as --artifacts and --baseline\n"
            "  KTSTR_BASELINE_REL  the relative gate of --baseline, %% (default 10)\n"
            "  KTSTR_BASELINE_ABS  its absolute gate, in each claim's units (default 0)\n"
            "  KTSTR_STEAL_MAX  host starvation (a share: 0.2 or 20%%) past which a point\n"
            "                 that failed only timing claims is inconclusive (default 0.2)\n"
            "  KTSTR_STRICT   1: an inconclusive point is not ok (a quiet, dedicated machine)\n"
            "Prints TAP 13 on stdout; exit status 0 when no test point is \"not ok\",\n"
            "1 when one is, 2 on a usage error.\n",
            prog, TIMEOUT_MAX);
}

/* `what` names the source of the value: "--timeout" or "KTSTR_TIMEOUT". */
static int parse_timeout(const char *what, const char *s, unsigned *out, kt_err *err)
{
    char *end;
    unsigned long v;

    /* strtoul accepts "-1" and leading spaces; a timeout is plain digits. */
    if (*s < '0' || *s > '9')
        return kt_err_set(err, EINVAL, "%s '%s': not a whole number of seconds", what, s);
    errno = 0;
    v = strtoul(s, &end, 10);
    if (*end)
        return kt_err_set(err, EINVAL, "%s '%s': not a whole number of seconds", what, s);
    if (errno == ERANGE || v == 0 || v > TIMEOUT_MAX)
        return kt_err_set(err, EINVAL, "%s '%s': must be 1 to %d seconds", what, s,
                          TIMEOUT_MAX);
    *out = (unsigned)v;
    return 0;
}

/* "I/N" with 1 <= I <= N. */
static int parse_shard(const char *what, const char *s, kt__cli *c, kt_err *err)
{
    unsigned i, n;
    int used = 0;

    if (sscanf(s, "%u/%u%n", &i, &n, &used) != 2 || s[used] || *s < '1' || *s > '9' ||
        i < 1 || n < 1 || i > n || n > 100000)
        return kt_err_set(err, EINVAL, "%s '%s': expected I/N with 1 <= I <= N, e.g. 2/4",
                          what, s);
    c->shard_i = i;
    c->shard_n = n;
    return 0;
}

static int parse_bool(const char *what, const char *s, bool *out, kt_err *err)
{
    if (strcmp(s, "0") != 0 && strcmp(s, "1") != 0)
        return kt_err_set(err, EINVAL, "%s '%s': must be 0 or 1", what, s);
    *out = strcmp(s, "1") == 0;
    return 0;
}

/* A kernel the user named must be there and be a bzImage ("HdrS" at
 * 0x202) or an ELF vmlinux (QEMU boots one with a PVH note directly,
 * skipping the decompression that costs a second under TCG): a typo must
 * not turn every VM point into a skip. */
static int parse_kernel(const char *what, const char *s, kt__cli *c, kt_err *err)
{
    char magic[4], elf[4];
    int fd = open(s, O_RDONLY | O_CLOEXEC);
    ssize_t n, e;

    if (fd < 0)
        return kt_err_sys(err, errno, "%s '%s'", what, s);
    n = pread(fd, magic, sizeof(magic), 0x202);
    e = pread(fd, elf, sizeof(elf), 0);
    close(fd);
    if ((n != (ssize_t)sizeof(magic) || memcmp(magic, "HdrS", 4) != 0) &&
        (e != (ssize_t)sizeof(elf) || memcmp(elf, "\177ELF", 4) != 0))
        return kt_err_set(err, EINVAL, "%s '%s': not a bzImage (no \"HdrS\" boot header at "
                          "0x202) nor an ELF vmlinux", what, s);
    c->kernel = s;
    return 0;
}

static int parse_qemu(const char *what, const char *s, kt__cli *c, kt_err *err)
{
    if (!*s)
        return kt_err_set(err, EINVAL, "%s: empty", what);
    if (strchr(s, '/') && access(s, X_OK) < 0)
        return kt_err_sys(err, errno, "%s '%s'", what, s);
    c->qemu = s;
    return 0;
}

static int parse_accel(const char *what, const char *s, kt__cli *c, kt_err *err)
{
    if (strcmp(s, "kvm") != 0 && strcmp(s, "tcg") != 0)
        return kt_err_set(err, EINVAL, "%s '%s': must be kvm or tcg", what, s);
    c->accel = s;
    return 0;
}

static int parse_topology(const char *what, const char *s, kt__cli *c, kt_err *err)
{
    kt_err why;

    if (kt_topology_parse(s, &c->topology, &why) < 0)
        return kt_err_set(err, EINVAL, "%s: %s", what, why.msg);
    kt_topology_resolve(&c->topology);
    if (kt_topology_check(&c->topology, &why) < 0)
        return kt_err_set(err, EINVAL, "%s '%s': %s", what, s, why.msg);
    return 0;
}

/* builtin:NAME of a built-in (lib/scx says which), or a program that
 * exists and runs. */
static int parse_scheduler(const char *what, const char *s, kt__cli *c, kt_err *err)
{
    char buf[1024], *argv[64];
    kt_err why;

    if (strncmp(s, "builtin:", 8) == 0) {
        if (kt__scx_builtin_check(s, &why) < 0)
            return kt_err_set(err, EINVAL, "%s: %s", what, why.msg);
        c->scheduler = s;
        return 0;
    }
    if (kt__sched_argv(s, buf, sizeof(buf), argv, 64, &why) < 0)
        return kt_err_set(err, EINVAL, "%s: %s", what, why.msg);
    if (access(argv[0], X_OK) < 0)
        return kt_err_sys(err, errno, "%s '%s': the program %s cannot run", what, s, argv[0]);
    c->scheduler = s;
    return 0;
}

/* 1..600 whole seconds. */
static int parse_secs(const char *what, const char *s, unsigned *out, kt_err *err)
{
    char *end;
    unsigned long v;

    errno = 0;
    v = strtoul(s, &end, 10);
    if (*s < '1' || *s > '9' || *end || errno || v > 600)
        return kt_err_set(err, EINVAL, "%s '%s': must be 1 to 600 seconds", what, s);
    *out = (unsigned)v;
    return 0;
}

/* ---- evidence: --artifacts, --baseline and the baseline's gates ---- */

static int parse_artifacts(const char *what, const char *s, kt__cli *c, kt_err *err)
{
    if (!*s)
        return kt_err_set(err, EINVAL, "%s: empty (a directory to write to)", what);
    c->artifacts = s;
    return 0;
}

/* The baseline must be a directory now: a typo must not fail every point. */
static int parse_baseline(const char *what, const char *s, kt__cli *c, kt_err *err)
{
    struct stat st;

    if (!*s)
        return kt_err_set(err, EINVAL, "%s: empty (an earlier run's --artifacts directory)", what);
    if (stat(s, &st) < 0)
        return kt_err_sys(err, errno, "%s '%s'", what, s);
    if (!S_ISDIR(st.st_mode))
        return kt_err_set(err, ENOTDIR, "%s '%s': not a directory", what, s);
    c->baseline = s;
    return 0;
}

/* A gate: a finite number >= 0 (for the relative one, optionally with %). */
static int parse_gate(const char *var, bool pct, double *out, kt_err *err)
{
    const char *s = getenv(var);
    size_t len = s ? strlen(s) : 0;
    double x;

    if (!s || !*s)
        return 0;
    if (pct && s[len - 1] == '%')
        len--;
    /* a plain decimal read in the C locale, whatever the user's is */
    if (!kt__json_number(s, len, &x) || !(x >= 0) || x > 1e300)
        return kt_err_set(err, EINVAL, "%s '%s': must be a number >= 0%s", var, s,
                          pct ? " (a percentage)" : " (in the claims' units)");
    *out = x;
    return 0;
}

static int parse_gates(kt__cli *c, kt_err *err)
{
    c->baseline_rel = 10.0;
    c->baseline_abs = 0.0;
    if (parse_gate("KTSTR_BASELINE_REL", true, &c->baseline_rel, err) < 0 ||
        parse_gate("KTSTR_BASELINE_ABS", false, &c->baseline_abs, err) < 0)
        return -1;
    return 0;
}

/* KTSTR_STEAL_MAX (a share in (0, 1], or a percentage) and KTSTR_STRICT. */
static int parse_starve(kt__cli *c, kt_err *err)
{
    const char *max = getenv("KTSTR_STEAL_MAX"), *strict = getenv("KTSTR_STRICT");
    double x;

    c->starve.steal_max = KT__STEAL_MAX_DEFAULT;
    if (max && *max) {
        bool pct = max[strlen(max) - 1] == '%';
        int rc = parse_gate("KTSTR_STEAL_MAX", pct, &x, err);

        if (rc == 0 && pct)
            x /= 100.0;
        if (rc < 0 || !(x > 0.0) || x > 1.0)
            return kt_err_set(err, EINVAL, "KTSTR_STEAL_MAX '%s': must be a share in (0, 1] "
                              "(0.2) or a percentage (20%%)", max);
        c->starve.steal_max = x;
    }
    return strict && *strict ? parse_bool("KTSTR_STRICT", strict, &c->starve.strict, err) : 0;
}

/* One parser per option with a value, for the option and its variable. */
static int parse_value(enum opt o, const char *what, const char *v, kt__cli *c, kt_err *err)
{
    switch (o) {
    case OPT_SHARD:
        return parse_shard(what, v, c, err);
    case OPT_KERNEL:
        return parse_kernel(what, v, c, err);
    case OPT_QEMU:
        return parse_qemu(what, v, c, err);
    case OPT_ACCEL:
        return parse_accel(what, v, c, err);
    case OPT_TOPOLOGY:
        return parse_topology(what, v, c, err);
    case OPT_SCHEDULER:
        return parse_scheduler(what, v, c, err);
    case OPT_SCHED_ATTACH:
        return parse_secs(what, v, &c->sched_attach_s, err);
    case OPT_VM_BOOT:
        return parse_secs(what, v, &c->vm_boot_s, err);
    case OPT_VM_REUSE:
        return parse_bool(what, v, &c->vm_reuse, err);
    case OPT_SCHED_FAULT: {
        unsigned ms;

        if (kt__sched_fault_parse(what, v, &ms, err) < 0)
            return -1;
        c->sched_fault = v;
        return 0;
    }
    case OPT_GUEST_FAULT: {
        char buf[2048], *argv[64];

        if (kt__sched_argv(v, buf, sizeof(buf), argv, 64, err) < 0)
            return kt_err_set(err, err->code, "%s: %s", what, err->msg);
        snprintf(c->gfault_prog, sizeof(c->gfault_prog), "%s", argv[0]);
        if (access(argv[0], X_OK) < 0)
            return kt_err_sys(err, errno, "%s: program '%s'", what, argv[0]);
        c->guest_fault = v;
        return 0;
    }
    case OPT_ARTIFACTS:
        return parse_artifacts(what, v, c, err);
    case OPT_BASELINE:
        return parse_baseline(what, v, c, err);
    default:
        return 0;
    }
}

static const struct {
    const char *var;
    enum opt opt;
} env_values[] = {
    { "KTSTR_SHARD", OPT_SHARD },
    { "KTSTR_KERNEL", OPT_KERNEL },
    { "KTSTR_QEMU", OPT_QEMU },
    { "KTSTR_ACCEL", OPT_ACCEL },
    { "KTSTR_TOPOLOGY", OPT_TOPOLOGY },
    { "KTSTR_SCHEDULER", OPT_SCHEDULER },
    { "KTSTR_SCHED_ATTACH_S", OPT_SCHED_ATTACH },
    { "KTSTR_SCHED_FAULT", OPT_SCHED_FAULT },
    { "KTSTR_GUEST_FAULT", OPT_GUEST_FAULT },
    { "KTSTR_VM_BOOT_S", OPT_VM_BOOT },
    { "KTSTR_VM_REUSE", OPT_VM_REUSE },
    { "KTSTR_ARTIFACTS", OPT_ARTIFACTS },
    { "KTSTR_BASELINE", OPT_BASELINE },
};

/* Finds the option arg names, alone or as "--name=value". */
static int lookup(const char *arg, const char **inline_value)
{
    for (size_t i = 0; i < sizeof(options) / sizeof(options[0]); i++) {
        size_t len = strlen(options[i].name);

        if (strncmp(arg, options[i].name, len) != 0)
            continue;
        if (arg[len] == '\0') {
            *inline_value = NULL;
            return (int)i;
        }
        if (arg[len] == '=' && options[i].takes_value) {
            *inline_value = arg + len + 1;
            return (int)i;
        }
    }
    return -1;
}

/* The defaults from the environment; filters go into c->filters[0..). */
static int parse_env(kt__cli *c, kt_err *err)
{
    const char *filter = getenv("KTSTR_FILTER");
    const char *timeout = getenv("KTSTR_TIMEOUT");
    const char *verbose = getenv("KTSTR_VERBOSE");
    const char *vm = getenv("KTSTR_VM");
    char *save, *tok;

    if (parse_gates(c, err) < 0 || parse_starve(c, err) < 0)
        return -1;
    for (size_t i = 0; i < sizeof(env_values) / sizeof(env_values[0]); i++) {
        const char *v = getenv(env_values[i].var);

        if (v && *v && parse_value(env_values[i].opt, env_values[i].var, v, c, err) < 0)
            return -1;
    }
    if (vm && *vm && parse_bool("KTSTR_VM", vm, &c->vm, err) < 0)
        return -1;

    if (timeout && *timeout && parse_timeout("KTSTR_TIMEOUT", timeout, &c->timeout_s, err) < 0)
        return -1;
    if (verbose && *verbose) {
        if (strcmp(verbose, "0") != 0 && strcmp(verbose, "1") != 0)
            return kt_err_set(err, EINVAL, "KTSTR_VERBOSE '%s': must be 0 or 1", verbose);
        c->verbose = strcmp(verbose, "1") == 0;
    }
    if (!filter || !*filter)
        return 0;
    c->env_filters = strdup(filter);
    if (!c->env_filters)
        return kt_err_sys(err, ENOMEM, "KTSTR_FILTER");
    for (tok = strtok_r(c->env_filters, " ,\t", &save); tok;
         tok = strtok_r(NULL, " ,\t", &save))
        c->filters[c->nfilters++] = tok;
    if (c->nfilters == 0)
        return kt_err_set(err, EINVAL, "KTSTR_FILTER '%s': no GLOB in it", filter);
    return 0;
}

int kt__cli_parse(kt__cli *c, int argc, char **argv, kt_err *err)
{
    const char *filter = getenv("KTSTR_FILTER");
    /* One slot per argument, plus one per character of KTSTR_FILTER: a
     * generous bound on its globs. */
    size_t cap = (argc > 0 ? (size_t)argc : 1) + (filter ? strlen(filter) : 0);
    bool argv_filters = false;

    memset(c, 0, sizeof(*c));
    c->vm_reuse = true;
    c->filters = calloc(cap, sizeof(*c->filters));
    if (!c->filters)
        return kt_err_sys(err, ENOMEM, "command line");
    if (parse_env(c, err) < 0)
        return -1;
    for (int i = 1; i < argc; i++) {
        const char *value;
        int k = lookup(argv[i], &value);

        if (k < 0)
            return kt_err_set(err, EINVAL, "unknown option '%s'", argv[i]);
        if (options[k].takes_value && !value) {
            if (i + 1 >= argc)
                return kt_err_set(err, EINVAL, "%s needs a value", options[k].name);
            value = argv[++i];
        }
        switch (options[k].opt) {
        case OPT_LIST:
            c->list = true;
            break;
        case OPT_DESCRIBE:
            c->describe = true;
            break;
        case OPT_VERBOSE:
            c->verbose = true;
            break;
        case OPT_HELP:
            c->help = true;
            break;
        case OPT_VM:
            c->vm = true;
            break;
        case OPT_SHARD:
        case OPT_KERNEL:
        case OPT_QEMU:
        case OPT_ACCEL:
        case OPT_TOPOLOGY:
        case OPT_SCHEDULER:
        case OPT_SCHED_ATTACH:
        case OPT_SCHED_FAULT:
        case OPT_GUEST_FAULT:
        case OPT_VM_BOOT:
        case OPT_VM_REUSE:
        case OPT_ARTIFACTS:
        case OPT_BASELINE:
            if (parse_value(options[k].opt, options[k].name, value, c, err) < 0)
                return -1;
            break;
        case OPT_TIMEOUT:
            if (parse_timeout("--timeout", value, &c->timeout_s, err) < 0)
                return -1;
            break;
        case OPT_FILTER:
            if (!*value)
                return kt_err_set(err, EINVAL, "--filter needs a non-empty GLOB");
            if (!argv_filters)
                c->nfilters = 0;   /* the command line replaces KTSTR_FILTER */
            argv_filters = true;
            c->filters[c->nfilters++] = value;
            break;
        }
    }
    return 0;
}

void kt__cli_fini(kt__cli *c)
{
    free(c->filters);
    free(c->env_filters);
    c->filters = NULL;
    c->env_filters = NULL;
    c->nfilters = 0;
}

bool kt__cli_in_shard(const kt__cli *c, unsigned k)
{
    return c->shard_n == 0 || k % c->shard_n == c->shard_i - 1;
}

bool kt__cli_selects(const kt__cli *c, const char *name)
{
    if (c->nfilters == 0)
        return true;
    for (size_t i = 0; i < c->nfilters; i++)
        if (fnmatch(c->filters[i], name, 0) == 0)
            return true;
    return false;
}
