/* ktstr: the command a scheduler author runs from their own tree. One
 * table of subcommands; each parses its own options. */
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"

#ifndef KT_VERSION
#define KT_VERSION "unknown"
#endif

static const struct {
    const char *name;
    kt__cmd_fn fn;
    const char *summary;
} commands[] = {
    { "list", kt__cmd_list, "every installed scenario: its file and what it proves" },
    { "run", kt__cmd_run, "run scenarios or whole files under prove (--vm for guests)" },
    { "kernel", kt__cmd_kernel, "fetch the sched_ext guest kernel that run --vm boots" },
    { "report", kt__cmd_report, "one HTML page from one or more artifacts directories" },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *fp)
{
    fprintf(fp, "usage: ktstr COMMAND [ARGS]    (ktstr COMMAND --help for each)\n"
                "       ktstr --version | --help\n"
                "commands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(fp, "  %-8s %s\n", commands[i].name, commands[i].summary);
    fprintf(fp, "A scheduler author's path: make install; ktstr kernel;\n"
                "ktstr run --vm --scheduler ./scx_mine. See man ktstr.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return KT__CMD_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("ktstr %s\n", KT_VERSION);
        return 0;
    }
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "ktstr: unknown command '%s' (ktstr --help lists them)\n", argv[1]);
    return KT__CMD_USAGE;
}
