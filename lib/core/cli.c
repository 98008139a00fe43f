/* The runner's command line. Every mistake is a usage error naming the
 * option and the value: a typo must never run a different test set. */
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "runner.h"

/* A day: longer is almost surely a unit mistake (ms for s). */
#define KT_TIMEOUT_MAX 86400

enum opt { OPT_LIST, OPT_FILTER, OPT_TIMEOUT, OPT_VERBOSE, OPT_HELP };

static const struct {
    const char *name;
    enum opt opt;
    bool takes_value;
} options[] = {
    { "--list", OPT_LIST, false },
    { "--filter", OPT_FILTER, true },
    { "--timeout", OPT_TIMEOUT, true },
    { "--verbose", OPT_VERBOSE, false },
    { "-v", OPT_VERBOSE, false },
    { "--help", OPT_HELP, false },
    { "-h", OPT_HELP, false },
};

void kt_cli_usage(FILE *fp, const char *prog)
{
    fprintf(fp,
            "usage: %s [--list] [--filter GLOB]... [--timeout S] [--verbose] [--help]\n"
            "  --list         print the scenario names, one per line, and exit\n"
            "  --filter GLOB  run only scenarios whose name matches GLOB (fnmatch);\n"
            "                 repeatable, the union is run and counted in the plan\n"
            "  --timeout S    timeout in whole seconds for every scenario (1..%d),\n"
            "                 overriding each scenario's own\n"
            "  --verbose, -v  list every claim in the YAML, passing ones too\n"
            "  --help, -h     print this text\n"
            "Environment (defaults the options override, handy under prove):\n"
            "  KTSTR_FILTER   globs separated by spaces or commas, as --filter\n"
            "  KTSTR_TIMEOUT  seconds, as --timeout\n"
            "  KTSTR_VERBOSE  1 for --verbose (0 or empty: off)\n"
            "Prints TAP 13 on stdout; exit status 0 when no test point is \"not ok\",\n"
            "1 when one is, 2 on a usage error.\n",
            prog, KT_TIMEOUT_MAX);
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
    if (errno == ERANGE || v == 0 || v > KT_TIMEOUT_MAX)
        return kt_err_set(err, EINVAL, "%s '%s': must be 1 to %d seconds", what, s,
                          KT_TIMEOUT_MAX);
    *out = (unsigned)v;
    return 0;
}

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
static int parse_env(kt_cli *c, kt_err *err)
{
    const char *filter = getenv("KTSTR_FILTER");
    const char *timeout = getenv("KTSTR_TIMEOUT");
    const char *verbose = getenv("KTSTR_VERBOSE");
    char *save, *tok;

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

int kt_cli_parse(kt_cli *c, int argc, char **argv, kt_err *err)
{
    const char *filter = getenv("KTSTR_FILTER");
    /* One slot per argument, plus one per character of KTSTR_FILTER: a
     * generous bound on its globs. */
    size_t cap = (argc > 0 ? (size_t)argc : 1) + (filter ? strlen(filter) : 0);
    bool argv_filters = false;

    memset(c, 0, sizeof(*c));
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
        case OPT_VERBOSE:
            c->verbose = true;
            break;
        case OPT_HELP:
            c->help = true;
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

void kt_cli_fini(kt_cli *c)
{
    free(c->filters);
    free(c->env_filters);
    c->filters = NULL;
    c->env_filters = NULL;
    c->nfilters = 0;
}

bool kt_cli_selects(const kt_cli *c, const char *name)
{
    if (c->nfilters == 0)
        return true;
    for (size_t i = 0; i < c->nfilters; i++)
        if (fnmatch(c->filters[i], name, 0) == 0)
            return true;
    return false;
}
