/*
 * kt_num: claim operands, their exact comparison and their printing.
 *
 * Doubles print with the fewest significant digits that read back to the
 * same double. The digits come from printf's correctly rounded "%.*e" and
 * are checked with strtod, both in whatever locale is current; only the
 * ASCII digits and the exponent are taken from printf's output, and the
 * number is laid out here, so the result is the C locale's whatever the
 * decimal point of the current locale is.
 */
#include "ktstr/verdict.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

kt_num kt_num_i64(int64_t x)
{
    return kt__num_of_i64(x);
}

kt_num kt_num_u64(uint64_t x)
{
    return kt__num_of_u64(x);
}

kt_num kt_num_f64(double x)
{
    return kt__num_of_f64(x);
}

/* The significant digits and decimal exponent of a finite non-zero double,
 * x = 0.d1d2...dn * 10^(exp10 + 1), that is d1.d2...dn * 10^exp10. */
typedef struct decimal {
    char digits[20];
    int ndigits;
    int exp10;
} decimal;

/* Reads printf's "%e" output "[-]D<point>DDDe[+-]XX" into d, skipping the
 * decimal point whatever bytes the locale uses for it. */
static void parse_e(const char *s, decimal *d)
{
    d->ndigits = 0;
    if (*s == '-')
        s++;
    for (; *s && *s != 'e'; s++) {
        if (*s >= '0' && *s <= '9' && d->ndigits < (int)sizeof(d->digits) - 1)
            d->digits[d->ndigits++] = *s;
    }
    d->digits[d->ndigits] = '\0';
    d->exp10 = *s == 'e' ? atoi(s + 1) : 0;
}

/* Adds delta (+1 or -1) to the last digit of the "%e" string s in place;
 * false when that would change the number of digits. */
static bool step_last_digit(char *s, int delta)
{
    char *e = strchr(s, 'e');
    char *p;

    if (!e)
        return false;
    for (p = e - 1; p >= s; p--) {
        if (*p < '0' || *p > '9')
            continue; /* the decimal point */
        if (delta > 0 && *p < '9') {
            (*p)++;
            return true;
        }
        if (delta < 0 && *p > '0') {
            (*p)--;
            /* a leading digit may not become 0 */
            return !(*p == '0' && (p == s || p[-1] == '-'));
        }
        *p = delta > 0 ? '0' : '9';
    }
    return false;
}

static bool reads_back(const char *s, double x)
{
    return strtod(s, NULL) == x;
}

/* Writes x correctly rounded to n significant digits as "%e" into s. */
static void round_e(char s[64], double x, int n)
{
    snprintf(s, 64, "%.*e", n - 1, x);
}

/* The shortest digits of a finite non-zero double. Rounding to more digits
 * never moves further from x, so the fewest digits whose correct rounding
 * reads back are found by bisection over 1..17. At a power of two the
 * rounding interval is lopsided (the gap below is half the gap above), so
 * a string with fewer digits that is not the nearest may still read back:
 * there the neighbours of the rounded strings are tried too. */
static void shortest_digits(double x, decimal *d)
{
    char s[64], t[64];
    int lo = 1, hi = 17, e, m;

    while (lo < hi) {
        int mid = (lo + hi) / 2;

        round_e(s, x, mid);
        if (reads_back(s, x))
            hi = mid;
        else
            lo = mid + 1;
    }
    round_e(s, x, lo);
    if (frexp(fabs(x), &e) == 0.5) {
        for (m = lo - 1; m >= 1; m--) {
            char u[64];
            bool found = false;

            round_e(u, x, m);
            memcpy(t, u, sizeof(t));
            if (step_last_digit(t, 1) && reads_back(t, x)) {
                found = true;
            } else {
                memcpy(t, u, sizeof(t));
                found = step_last_digit(t, -1) && reads_back(t, x);
            }
            if (!found)
                break;
            memcpy(s, t, sizeof(s));
        }
    }
    parse_e(s, d);
    while (d->ndigits > 1 && d->digits[d->ndigits - 1] == '0')
        d->digits[--d->ndigits] = '\0';
}

char *kt_format_double(char buf[KT_NUM_STR_MAX], double x)
{
    decimal d;
    char *p = buf;
    int i;

    if (isnan(x))
        return strcpy(buf, "nan");
    if (isinf(x))
        return strcpy(buf, x < 0 ? "-inf" : "inf");
    if (x == 0)
        return strcpy(buf, signbit(x) ? "-0" : "0");

    if (fabs(x) < 9007199254740992.0 && x == trunc(x)) {
        /* below 2^53 doubles are at most 1 apart: an integral one's own
         * digits are its shortest form (the common case of a bound) */
        snprintf(buf, KT_NUM_STR_MAX, "%lld", (long long)x);
        return buf;
    }
    shortest_digits(x, &d);
    if (x < 0)
        *p++ = '-';
    if (d.exp10 >= -4 && d.exp10 < 17) {
        if (d.exp10 < 0) {
            *p++ = '0';
            *p++ = '.';
            for (i = -1; i > d.exp10; i--)
                *p++ = '0';
            for (i = 0; i < d.ndigits; i++)
                *p++ = d.digits[i];
        } else {
            for (i = 0; i < d.ndigits || i <= d.exp10; i++) {
                if (i == d.exp10 + 1)
                    *p++ = '.';
                *p++ = i < d.ndigits ? d.digits[i] : '0';
            }
        }
        *p = '\0';
    } else {
        *p++ = d.digits[0];
        if (d.ndigits > 1) {
            *p++ = '.';
            for (i = 1; i < d.ndigits; i++)
                *p++ = d.digits[i];
        }
        /* integer printf is locale-independent (no grouping without ') */
        snprintf(p, KT_NUM_STR_MAX - (size_t)(p - buf), "e%c%02d",
                 d.exp10 < 0 ? '-' : '+', abs(d.exp10));
    }
    return buf;
}

char *kt_format_num(char buf[KT_NUM_STR_MAX], kt_num x)
{
    switch (x.kind) {
    case KT_NUM_I64:
        snprintf(buf, KT_NUM_STR_MAX, "%lld", (long long)x.v.i);
        return buf;
    case KT_NUM_U64:
        snprintf(buf, KT_NUM_STR_MAX, "%llu", (unsigned long long)x.v.u);
        return buf;
    case KT_NUM_F64:
        return kt_format_double(buf, x.v.f);
    }
    return strcpy(buf, "?");
}

static int sign3(int c)
{
    return (c > 0) - (c < 0);
}

/* u against a finite double f, exactly. */
static int cmp_u64_f64(uint64_t u, double f)
{
    double t;
    uint64_t ti;

    if (f < 0)
        return 1;
    if (f >= 18446744073709551616.0) /* 2^64 */
        return -1;
    t = trunc(f);
    ti = (uint64_t)t; /* exact: 0 <= t < 2^64 */
    if (u != ti)
        return u < ti ? -1 : 1;
    return f > t ? -1 : 0; /* f - t is the exact fraction */
}

/* i against a finite double f, exactly. */
static int cmp_i64_f64(int64_t i, double f)
{
    double t;
    int64_t ti;

    if (f < -9223372036854775808.0) /* -2^63 */
        return 1;
    if (f >= 9223372036854775808.0)
        return -1;
    t = trunc(f);
    ti = (int64_t)t; /* exact: -2^63 <= t < 2^63 */
    if (i != ti)
        return i < ti ? -1 : 1;
    return sign3(t > f) - sign3(t < f);
}

/* a against b where b is a double and a an integer; NaN handled above. */
static int cmp_int_f64(kt_num a, double f)
{
    if (isinf(f))
        return f > 0 ? -1 : 1;
    if (a.kind == KT_NUM_U64)
        return cmp_u64_f64(a.v.u, f);
    return cmp_i64_f64(a.v.i, f);
}

bool kt_num_cmp(kt_num a, kt_num b, int *out)
{
    if ((a.kind == KT_NUM_F64 && isnan(a.v.f)) ||
        (b.kind == KT_NUM_F64 && isnan(b.v.f)))
        return false;

    if (a.kind == KT_NUM_F64 && b.kind == KT_NUM_F64) {
        *out = (a.v.f > b.v.f) - (a.v.f < b.v.f);
    } else if (b.kind == KT_NUM_F64) {
        *out = cmp_int_f64(a, b.v.f);
    } else if (a.kind == KT_NUM_F64) {
        *out = -cmp_int_f64(b, a.v.f);
    } else if (a.kind == b.kind) {
        if (a.kind == KT_NUM_U64)
            *out = (a.v.u > b.v.u) - (a.v.u < b.v.u);
        else
            *out = (a.v.i > b.v.i) - (a.v.i < b.v.i);
    } else if (a.kind == KT_NUM_I64) {
        /* a signed, b unsigned: a negative value is below every unsigned */
        *out = a.v.i < 0 ? -1 : -sign3((b.v.u > (uint64_t)a.v.i) - (b.v.u < (uint64_t)a.v.i));
    } else {
        *out = b.v.i < 0 ? 1 : (a.v.u > (uint64_t)b.v.i) - (a.v.u < (uint64_t)b.v.i);
    }
    return true;
}

double kt_num_to_double(kt_num x)
{
    switch (x.kind) {
    case KT_NUM_I64:
        return (double)x.v.i;
    case KT_NUM_U64:
        return (double)x.v.u;
    case KT_NUM_F64:
        return x.v.f;
    }
    return NAN;
}
