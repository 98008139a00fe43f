/* ktstr list [FILE...]: each scenario of the catalog (or of the files
 * named) with its file and its purpose, one line each. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"

static void usage(FILE *fp)
{
    fprintf(fp, "usage: ktstr list [FILE...]\n"
                "Prints every scenario of the installed catalog (or of the scenario\n"
                "files named), one line each: its name, its file and what it proves.\n");
}

/* The lines "name\tpurpose" of file --describe, each printed with file. */
static int list_file(const char *file)
{
    const char *base = strrchr(file, '/') ? strrchr(file, '/') + 1 : file;
    kt__vec lines;
    kt_err err = { 0, "" };

    if (kt__cmd_scenarios(file, true, &lines, &err) < 0) {
        fprintf(stderr, "ktstr list: %s\n", err.msg);
        return -1;
    }
    for (size_t i = 0; i < lines.n; i++) {
        char *line = ((char **)lines.v)[i], *tab = strchr(line, '\t');

        if (tab)
            *tab = '\0';
        printf("%-30s %-14s %s\n", line, base, tab ? tab + 1 : "");
    }
    kt__cmd_free_strs(&lines);
    return 0;
}

int kt__cmd_list(int argc, char **argv)
{
    kt__vec files = KT__VEC_INIT(char *);
    kt_err err = { 0, "" };
    int rc = 0;

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        }
        if (argv[i][0] == '-') {
            fprintf(stderr, "ktstr list: unknown option '%s' (ktstr list --help)\n", argv[i]);
            return KT__CMD_USAGE;
        }
    }
    if (argc > 1) {
        for (int i = 1; i < argc; i++)
            if (list_file(argv[i]) < 0)
                rc = KT__CMD_USAGE;
        return rc;
    }
    if (kt__cmd_catalog(&files, &err) < 0) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    for (size_t i = 0; i < files.n; i++)
        if (list_file(((char **)files.v)[i]) < 0)
            rc = 1;
    kt__cmd_free_strs(&files);
    return fflush(stdout) == 0 ? rc : 1;
}
