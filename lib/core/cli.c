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
            "Prints TAP 13 on stdout; exit status 0 when no test point is \"not ok\",\n"
            "1 when one is, 2 on a usage error.\n",
            prog, KT_TIMEOUT_MAX);
}

static int parse_timeout(const char *s, unsigned *out, kt_err *err)
{
    char *end;
    unsigned long v;

    /* strtoul accepts "-1" and leading spaces; a timeout is plain digits. */
    if (*s < '0' || *s > '9')
        return kt_err_set(err, EINVAL, "--timeout '%s': not a whole number of seconds", s);
    errno = 0;
    v = strtoul(s, &end, 10);
    if (*end)
        return kt_err_set(err, EINVAL, "--timeout '%s': not a whole number of seconds", s);
    if (errno == ERANGE || v == 0 || v > KT_TIMEOUT_MAX)
        return kt_err_set(err, EINVAL, "--timeout '%s': must be 1 to %d seconds", s,
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

int kt_cli_parse(kt_cli *c, int argc, char **argv, kt_err *err)
{
    memset(c, 0, sizeof(*c));
    c->filters = calloc(argc > 0 ? (size_t)argc : 1, sizeof(*c->filters));
    if (!c->filters)
        return kt_err_sys(err, ENOMEM, "command line");
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
            if (parse_timeout(value, &c->timeout_s, err) < 0)
                return -1;
            break;
        case OPT_FILTER:
            if (!*value)
                return kt_err_set(err, EINVAL, "--filter needs a non-empty GLOB");
            c->filters[c->nfilters++] = value;
            break;
        }
    }
    return 0;
}

void kt_cli_fini(kt_cli *c)
{
    free(c->filters);
    c->filters = NULL;
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
