/*
 * Helper for tests/fuzz/tap.t: writes a TAP stream with kt_tap_* whose
 * point names, directive reasons, comments, YAML keys' values, list items
 * and nested maps are random byte strings ('#', '\', colons, quotes,
 * newlines, control bytes, "- " and "key: value" text, valid and invalid
 * UTF-8, Unicode spaces), and a manifest of what it wrote, for the test
 * to compare with what TAP::Parser reads back:
 *
 *   tap_fuzz SEED POINTS MANIFEST
 *
 * Manifest lines (strings as 'x' and their bytes in hex):
 *   P <n> <0|1 ok> <NONE|SKIP|TODO> x<name> x<reason> <0|1 has YAML>
 *   S <n> <path> x<value>      a string at path (keys and list indices, '/')
 *   I <n> <path> <integer>
 *   L <n> <path>               a list at path (its items follow)
 *   M <n> <path>               a map at path (its keys follow)
 * The random stream is xorshift64*, seeded with SEED: the same SEED
 * writes the same stream.
 */
#include <ktstr/tap.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng;

static uint64_t next(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 0x2545f4914f6cdd1dull;
}

static uint64_t below(uint64_t n)
{
    return next() % n;
}

static const char *const pieces[] = {
    "#", "\\", ":", ": ", " :", " : ", "\"", "'", "\n", "\r", "\t", "\x01", "\x1b", "\x7f",
    "- ", "-", "key: value", "a: b: c", "...", "---", " # SKIP x", " # TODO y", "\\#",
    "\\x3a", "\\n", "\\\"", "~", "[]", "{}", "|", ">", "ok 1", "not ok 2", "1..2",
    "Bail out!", " ", "  ", "x", "word",
    "\xc3\xa9", "\xf0\x9f\x98\x80", "\xef\xbb\xbf",                 /* valid UTF-8 */
    "\xff", "\xfe", "\xc3", "\xe2\x82", "\x80", "\xc0\xa0", "\xed\xa0\x80", "\xf4\x90\x80\x80",
    "\xc2\xa0", "\xc2\x85", "\xe2\x80\xa8", "\xe2\x80\x83", "\xe3\x80\x80", "\xe1\x9a\x80",
    ":\xc2\xa0", "a:\xe2\x80\x89\x62", "\xc2\xa0:\xc2\xa0",           /* Unicode spaces */
};

/* A random string of pieces and bytes (never NUL) into buf. */
static char *rstr(char *buf, size_t cap)
{
    size_t n = 0, parts = below(4) ? below(8) : below(40);

    for (size_t i = 0; i < parts; i++) {
        const char *p;
        char one[2] = { 0, 0 };

        if (below(3) == 0) {
            one[0] = (char)(1 + below(255));
            p = one;
        } else {
            p = pieces[below(sizeof(pieces) / sizeof(pieces[0]))];
        }
        if (n + strlen(p) >= cap)
            break;
        memcpy(buf + n, p, strlen(p));
        n += strlen(p);
    }
    buf[n] = '\0';
    return buf;
}

static FILE *man;
static unsigned point;

static void hex(const char *s)
{
    fputc('x', man);
    for (; *s; s++)
        fprintf(man, "%02x", (unsigned char)*s);
}

static void must(int rc, const char *what)
{
    if (rc < 0) {
        fprintf(stderr, "tap_fuzz: point %u: %s: %s\n", point, what, strerror(errno));
        exit(1);
    }
}

static void gen_map(kt_tap *t, const char *path, int depth);

static void gen_list(kt_tap *t, const char *path, int depth)
{
    char sub[512], buf[1024];
    unsigned n = (unsigned)below(5);

    for (unsigned i = 0; i < n; i++) {
        if (snprintf(sub, sizeof(sub), "%s/%u", path, i) >= (int)sizeof(sub))
            abort();   /* depth is bounded: never */
        if (depth < 5 && below(4) == 0) {
            must(kt_tap_yaml_item_map(t), "item map");
            fprintf(man, "M %u %s\n", point, sub);
            gen_map(t, sub, depth + 1);
            must(kt_tap_yaml_close(t), "close item map");
        } else {
            must(kt_tap_yaml_item_str(t, rstr(buf, 200)), "item");
            fprintf(man, "S %u %s ", point, sub);
            hex(buf);
            fputc('\n', man);
        }
    }
}

/* Keys k<i>_<random>, unique in their map; values of every kind. */
static void gen_map(kt_tap *t, const char *path, int depth)
{
    char key[32], sub[512], buf[1024];
    unsigned n = (unsigned)below(5);

    for (unsigned i = 0; i < n; i++) {
        uint64_t kind = below(10);

        snprintf(key, sizeof(key), "k%u_%" PRIx64, i, below(1u << 20));
        if (snprintf(sub, sizeof(sub), "%s%s%s", path, *path ? "/" : "", key) >= (int)sizeof(sub))
            abort();
        if (kind < 6 || depth >= 5) {
            must(kt_tap_yaml_str(t, key, rstr(buf, 200)), "str");
            fprintf(man, "S %u %s ", point, sub);
            hex(buf);
            fputc('\n', man);
        } else if (kind == 6) {
            int64_t v = (int64_t)next() >> below(64);

            must(kt_tap_yaml_int(t, key, v), "int");
            fprintf(man, "I %u %s %" PRId64 "\n", point, sub, v);
        } else if (kind < 9) {
            must(kt_tap_yaml_list(t, key), "list");
            fprintf(man, "L %u %s\n", point, sub);
            gen_list(t, sub, depth + 1);
            must(kt_tap_yaml_close(t), "close list");
        } else {
            must(kt_tap_yaml_map(t, key), "map");
            fprintf(man, "M %u %s\n", point, sub);
            gen_map(t, sub, depth + 1);
            must(kt_tap_yaml_close(t), "close map");
        }
    }
}

int main(int argc, char **argv)
{
    static const char *const dirs[] = { "NONE", "SKIP", "TODO" };
    char name[1024], reason[1024], msg[1024];
    unsigned points;
    kt_tap t;

    if (argc != 4) {
        fprintf(stderr, "usage: tap_fuzz SEED POINTS MANIFEST\n");
        return 2;
    }
    rng = strtoull(argv[1], NULL, 0) * 2 + 1;   /* never 0 */
    points = (unsigned)strtoul(argv[2], NULL, 0);
    man = fopen(argv[3], "w");
    if (!man) {
        fprintf(stderr, "tap_fuzz: %s: %s\n", argv[3], strerror(errno));
        return 2;
    }
    kt_tap_init_fd(&t, 1);
    must(kt_tap_version(&t), "version");
    must(kt_tap_plan(&t, points), "plan");
    for (point = 1; point <= points; point++) {
        bool ok = below(2), yaml = below(5) != 0;
        kt_tap_directive dir = below(10) < 7 ? KT_TAP_NONE : below(2) ? KT_TAP_SKIP : KT_TAP_TODO;

        if (below(8) == 0)
            must(kt_tap_comment(&t, rstr(msg, 200)), "comment");
        rstr(name, 300);
        rstr(reason, 300);
        must(kt_tap_point(&t, ok, point, name, dir, dir == KT_TAP_NONE ? NULL : reason),
             "point");
        fprintf(man, "P %u %d %s ", point, ok, dirs[dir]);
        hex(name);
        fputc(' ', man);
        hex(dir == KT_TAP_NONE ? "" : reason);
        fprintf(man, " %d\n", yaml);
        if (yaml) {
            /* the first key opens the block: a string, like the runner's message */
            must(kt_tap_yaml_str(&t, "message", rstr(msg, 200)), "message");
            fprintf(man, "S %u message ", point);
            hex(msg);
            fputc('\n', man);
            gen_map(&t, "", 1);
        }
        must(kt_tap_end(&t), "end");
    }
    kt_tap_fini(&t);
    if (fclose(man) != 0) {
        fprintf(stderr, "tap_fuzz: %s: %s\n", argv[3], strerror(errno));
        return 1;
    }
    return 0;
}
