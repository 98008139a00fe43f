/*
 * Helper for tests/verdict/format_num.t: reads doubles as 16 hex digits of their
 * bits, one a line, and prints kt_format_double of each. It takes the
 * locale from the environment (setlocale(LC_ALL, "")), so the test can
 * show that a ',' decimal-point locale does not change the output.
 */
#include <ktstr/verdict.h>

#include <inttypes.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    char line[64], buf[KT_NUM_STR_MAX];
    const char *loc = setlocale(LC_ALL, "");

    if (argc > 1 && strcmp(argv[1], "--locale") == 0) {
        /* which LC_NUMERIC is in effect, and its decimal point */
        printf("%s %s\n", loc ? setlocale(LC_NUMERIC, NULL) : "C",
               localeconv()->decimal_point);
        return 0;
    }
    while (fgets(line, sizeof(line), stdin)) {
        char *end;
        uint64_t bits = strtoull(line, &end, 16);
        double x;

        if (end == line || (*end != '\n' && *end != '\0')) {
            fprintf(stderr, "format_num: not 16 hex digits: %s", line);
            return 2;
        }
        memcpy(&x, &bits, sizeof(x));
        printf("%s\n", kt_format_double(buf, x));
    }
    return ferror(stdin) ? 1 : 0;
}
