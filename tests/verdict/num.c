/* Number formatting and exact comparison (lib/verdict/num.c). */
#include "harness/unit.h"

#include <ktstr/verdict.h>

#include <float.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *fmt(double x)
{
    static char buf[KT_NUM_STR_MAX];

    return kt_format_double(buf, x);
}

static const struct {
    double x;
    const char *want;
} format_table[] = {
    { 1, "1" },
    { 0.5, "0.5" },
    { 3.06, "3.06" },
    { 500, "500" },
    { -500, "-500" },
    { 9007199254740992.0, "9007199254740992" },
    { 0.30000000000000004, "0.30000000000000004" },
    { 0.1, "0.1" },
    { 1e21, "1e+21" },
    { 1e-5, "1e-05" },
    { 1e-4, "0.0001" },
    { 1.5e-4, "0.00015" },
    { 9.999e-5, "9.999e-05" },
    { 1e16, "10000000000000000" },
    { 99999999999999984.0, "99999999999999980" },
    { 1e17, "1e+17" },
    { 123456789012345680.0, "1.2345678901234568e+17" },
    { -0.0, "-0" },
    { 0.0, "0" },
    { DBL_MIN, "2.2250738585072014e-308" },
    { DBL_MAX, "1.7976931348623157e+308" },
    { -DBL_MAX, "-1.7976931348623157e+308" },
    { 4.9406564584124654e-324, "5e-324" },      /* smallest denormal */
    { 2.2250738585072009e-308, "2.225073858507201e-308" }, /* largest denormal */
    { 1e-320, "1e-320" },
    { 1e100, "1e+100" },
    { 12345.678, "12345.678" },
    { 0.001, "0.001" },
    { 2.5, "2.5" },
    { 1.7976931348623157e308 / 1e300, "179769313.48623157" },
    { 5e-324 * 3, "1.5e-323" },
    { 9.5, "9.5" },
};

static void t_format_table(void)
{
    size_t i;

    for (i = 0; i < sizeof(format_table) / sizeof(format_table[0]); i++)
        check_str(fmt(format_table[i].x), format_table[i].want);
}

static void t_format_special(void)
{
    check_str(fmt(NAN), "nan");
    check_str(fmt(-NAN), "nan");
    check_str(fmt(copysign(NAN, -1.0)), "nan");
    check_str(fmt(INFINITY), "inf");
    check_str(fmt(-INFINITY), "-inf");
}

static void t_format_integers(void)
{
    char buf[KT_NUM_STR_MAX];

    check_str(kt_format_num(buf, kt_num_u64(UINT64_MAX)), "18446744073709551615");
    check_str(kt_format_num(buf, kt_num_i64(INT64_MIN)), "-9223372036854775808");
    check_str(kt_format_num(buf, kt_num_i64(INT64_MAX)), "9223372036854775807");
    check_str(kt_format_num(buf, kt_num_i64(-1)), "-1");
    check_str(kt_format_num(buf, kt_num_u64(0)), "0");
    check_str(kt_format_num(buf, kt_num_u64(9007199254740993ull)), "9007199254740993");
    check_str(kt_format_num(buf, kt_num_f64(0.5)), "0.5");
    check_str(kt_format_num(buf, KT_NUM((unsigned char)200)), "200");
    check_str(kt_format_num(buf, KT_NUM((short)-3)), "-3");
    check_str(kt_format_num(buf, KT_NUM(1.5f)), "1.5");
    check_str(kt_format_num(buf, KT_NUM(true)), "1");
    check_str(kt_format_num(buf, KT_NUM(0.1L)), "0.1"); /* narrowed to double */
}

static void t_to_double(void)
{
    check_dbl(kt_num_to_double(kt_num_i64(-3)), ==, -3);
    check_dbl(kt_num_to_double(kt_num_u64(UINT64_MAX)), ==, 18446744073709551616.0);
    check_dbl(kt_num_to_double(kt_num_f64(0.25)), ==, 0.25);
    check_int(KT_NUM(1.5f).kind, ==, KT_NUM_F64);
    check_int(KT_NUM((char)1).kind, ==, KT_NUM_I64);
    check_int(KT_NUM(1ul).kind, ==, KT_NUM_U64);
}

/* The exact decimal expansion of a positive x cut to n significant digits
 * (rounded down), plus one unit in the last place when up. */
static double neighbour(double x, int n, bool up)
{
    char exact[1200], trunc[64];
    char *e, *p, *q;

    snprintf(exact, sizeof(exact), "%.1100e", x);
    e = strchr(exact, 'e');
    /* keep n digits: "d.ddd" minus the rest */
    q = trunc;
    for (p = exact; p < e && (q - trunc) < n + 1; p++)
        *q++ = *p;
    if (q[-1] == '.')
        q--;
    if (up) {
        /* add one unit in the last kept digit, carrying */
        char *d = q - 1;

        for (;;) {
            if (*d == '.') {
                d--;
                continue;
            }
            if (*d < '9') {
                (*d)++;
                break;
            }
            *d = '0';
            if (d == trunc) {
                /* 9.99 -> 10.00: prepend a 1 */
                memmove(trunc + 1, trunc, (size_t)(q - trunc));
                trunc[0] = '1';
                q++;
                break;
            }
            d--;
        }
    }
    strcpy(q, e);
    return strtod(trunc, NULL);
}

static int digit_count(const char *s)
{
    int n = 0, lead = 1;

    for (; *s && *s != 'e'; s++) {
        if (*s < '0' || *s > '9')
            continue;
        if (*s == '0' && lead)
            continue;
        lead = 0;
        n++;
    }
    return n;
}

/* Significant digits, without trailing zeros of a positional integer. */
static int sig_digits(const char *s)
{
    char tmp[KT_NUM_STR_MAX];
    size_t n;
    int d;

    if (strchr(s, '.') || strchr(s, 'e'))
        return digit_count(s);
    strcpy(tmp, s);
    n = strlen(tmp);
    while (n > 1 && tmp[n - 1] == '0')
        tmp[--n] = '\0';
    d = digit_count(tmp);
    return d ? d : 1;
}

/* Random doubles over the whole range: every one reads back, and no
 * string with one digit fewer does (the two nearest such strings,
 * below and above x, both read as another double). */
static void t_round_trip_random(void)
{
    unsigned seed = 12345;
    int i, bad_rt = 0, bad_short = 0;

    for (i = 0; i < 20000; i++) {
        uint64_t bits = 0;
        double x;
        const char *s;
        int n;

        for (int k = 0; k < 4; k++)
            bits = (bits << 16) ^ (uint64_t)(rand_r(&seed) & 0xffff);
        if (i % 4 == 0) /* also short decimals, where digit counts are small */
            x = (double)(rand_r(&seed) % 100000) / 1000.0;
        else
            memcpy(&x, &bits, sizeof(x));
        if (!isfinite(x) || x == 0)
            continue;
        x = fabs(x);
        s = fmt(x);
        if (strtod(s, NULL) != x && bad_rt++ < 5)
            test_msg("%.17g printed as %s does not read back", x, s);
        n = sig_digits(s);
        if (n > 1 && (neighbour(x, n - 1, false) == x || neighbour(x, n - 1, true) == x) &&
            bad_short++ < 5)
            test_msg("%.17g printed as %s has a shorter form", x, s);
    }
    check_int(bad_rt, ==, 0);
    check_int(bad_short, ==, 0);
}

/* Powers of two have a lopsided rounding interval: check them all. */
static void t_round_trip_powers_of_two(void)
{
    int e, bad = 0;

    for (e = -1074; e <= 1023; e++) {
        double x = ldexp(1.0, e);
        const char *s = fmt(x);
        int n = sig_digits(s);

        if (strtod(s, NULL) != x ||
            (n > 1 && (neighbour(x, n - 1, false) == x || neighbour(x, n - 1, true) == x))) {
            if (bad++ < 5)
                test_msg("2^%d printed as %s", e, s);
        }
    }
    check_int(bad, ==, 0);
}

/* The locale's decimal point must not leak into the output. */
static void t_locale_comma(void)
{
    static const char *names[] = { "de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8",
                                   "fr_FR.utf8", "de_DE", "nl_NL.UTF-8",
                                   "ru_RU.UTF-8" };
    locale_t loc = (locale_t)0, old;
    size_t i;
    char buf[16];

    for (i = 0; i < sizeof(names) / sizeof(names[0]) && !loc; i++)
        loc = newlocale(LC_NUMERIC_MASK, names[i], (locale_t)0);
    if (!loc) {
        test_skip("no locale with a ',' decimal point installed (de_DE.UTF-8: not found)");
        return;
    }
    old = uselocale(loc);
    snprintf(buf, sizeof(buf), "%.1f", 0.5);
    check_str(buf, "0,5"); /* the locale really is in effect */
    check_str(fmt(0.5), "0.5");
    check_str(fmt(3.06), "3.06");
    check_str(fmt(0.30000000000000004), "0.30000000000000004");
    check_str(fmt(1.5e-7), "1.5e-07");
    check_str(fmt(1.2345678901234568e+17), "1.2345678901234568e+17");
    check_str(fmt(-0.0001), "-0.0001");
    uselocale(old);
    freelocale(loc);
}

static int cmp(kt_num a, kt_num b)
{
    int c = 99;

    if (!kt_num_cmp(a, b, &c))
        return 2;
    return c;
}

static void t_cmp_integers(void)
{
    check_int(cmp(kt_num_u64(0xffffffffu), kt_num_i64(-1)), ==, 1);
    check_int(cmp(kt_num_i64(-1), kt_num_u64(0xffffffffu)), ==, -1);
    check_int(cmp(kt_num_u64(UINT64_MAX), kt_num_i64(-1)), ==, 1);
    check_int(cmp(kt_num_u64(UINT64_MAX), kt_num_u64(UINT64_MAX)), ==, 0);
    check_int(cmp(kt_num_u64(UINT64_MAX), kt_num_u64(UINT64_MAX - 1)), ==, 1);
    check_int(cmp(kt_num_i64(INT64_MIN), kt_num_i64(INT64_MAX)), ==, -1);
    check_int(cmp(kt_num_i64(INT64_MAX), kt_num_u64((uint64_t)INT64_MAX)), ==, 0);
    check_int(cmp(kt_num_u64((uint64_t)INT64_MAX + 1), kt_num_i64(INT64_MAX)), ==, 1);
    check_int(cmp(kt_num_i64(INT64_MIN), kt_num_u64(0)), ==, -1);
    check_int(cmp(kt_num_u64(5), kt_num_i64(5)), ==, 0);
    check_int(cmp(kt_num_i64(5), kt_num_u64(6)), ==, -1);
}

static void t_cmp_mixed(void)
{
    /* 2^64 as a double is above every u64 */
    check_int(cmp(kt_num_u64(UINT64_MAX), kt_num_f64(18446744073709551615.0)), ==, -1);
    check_int(cmp(kt_num_f64(18446744073709551615.0), kt_num_u64(UINT64_MAX)), ==, 1);
    check_int(cmp(kt_num_u64(9007199254740993ull), kt_num_f64(9007199254740992.0)), ==, 1);
    check_int(cmp(kt_num_u64(9007199254740992ull), kt_num_f64(9007199254740992.0)), ==, 0);
    check_int(cmp(kt_num_i64(-9007199254740993ll), kt_num_f64(-9007199254740992.0)), ==, -1);
    check_int(cmp(kt_num_i64(INT64_MIN), kt_num_f64(-9223372036854775808.0)), ==, 0);
    check_int(cmp(kt_num_i64(INT64_MAX), kt_num_f64(9223372036854775808.0)), ==, -1);
    check_int(cmp(kt_num_i64(INT64_MIN), kt_num_f64(-1e300)), ==, 1);
    check_int(cmp(kt_num_i64(2), kt_num_f64(2.5)), ==, -1);
    check_int(cmp(kt_num_i64(3), kt_num_f64(2.5)), ==, 1);
    check_int(cmp(kt_num_i64(-2), kt_num_f64(-2.5)), ==, 1);
    check_int(cmp(kt_num_i64(-3), kt_num_f64(-2.5)), ==, -1);
    check_int(cmp(kt_num_u64(0), kt_num_f64(-0.0)), ==, 0);
    check_int(cmp(kt_num_u64(0), kt_num_f64(-0.5)), ==, 1);
    check_int(cmp(kt_num_u64(0), kt_num_f64(0.5)), ==, -1);
    check_int(cmp(kt_num_u64(1), kt_num_f64(1.0000000000000002)), ==, -1);
    check_int(cmp(kt_num_u64(UINT64_MAX), kt_num_f64(INFINITY)), ==, -1);
    check_int(cmp(kt_num_i64(INT64_MIN), kt_num_f64(-INFINITY)), ==, 1);
    check_int(cmp(kt_num_f64(-INFINITY), kt_num_u64(0)), ==, -1);
    check_int(cmp(kt_num_f64(0.1), kt_num_f64(0.1)), ==, 0);
    check_int(cmp(kt_num_f64(-0.0), kt_num_f64(0.0)), ==, 0);
}

static void t_cmp_nan(void)
{
    int c = 42;

    check(!kt_num_cmp(kt_num_f64(NAN), kt_num_f64(NAN), &c));
    check(!kt_num_cmp(kt_num_f64(NAN), kt_num_u64(1), &c));
    check(!kt_num_cmp(kt_num_i64(1), kt_num_f64(NAN), &c));
    check_int(c, ==, 42); /* left alone */
}

int main(void)
{
    TEST(t_format_table(), "doubles print shortest, positional in [1e-4, 1e17)");
    TEST(t_format_special(), "nan (never -nan), inf, -inf");
    TEST(t_format_integers(), "integers print in exact decimal");
    TEST(t_to_double(), "KT_NUM picks the kind; kt_num_to_double");
    TEST(t_round_trip_random(), "random doubles read back and are shortest");
    TEST(t_round_trip_powers_of_two(), "powers of two read back and are shortest");
    TEST(t_locale_comma(), "a ',' decimal-point locale does not change the output");
    TEST(t_cmp_integers(), "signed and unsigned compare by value");
    TEST(t_cmp_mixed(), "integers against doubles compare exactly");
    TEST(t_cmp_nan(), "NaN compares with nothing");
    return test_done();
}
