/* kt__vec: growth keeps what was pushed, byte appends stay NUL-terminated,
 * and impossible sizes are errors that name what was being built. */
#include "harness/unit.h"

#include "base/vec.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

static void t_push_grows(void)
{
    kt__vec a = KT__VEC_INIT(int);
    kt_err err = { 0 };
    int bad = 0;

    for (int i = 0; i < 1000; i++)
        if (kt__vec_push(&a, &i, &err, "ints") < 0)
            bad++;
    check_int(bad, ==, 0);
    check_uint(a.n, ==, 1000);
    check_uint(a.cap, >=, 1000);
    for (int i = 0; i < 1000; i++)
        if (*(int *)kt__vec_at(&a, (size_t)i) != i)
            bad++;
    check_int(bad, ==, 0);
    kt__vec_free(&a);
    check(a.v == NULL);
    check_uint(a.n, ==, 0);
    check_uint(a.elem, ==, sizeof(int));
}

static void t_append_bytes(void)
{
    kt__vec s = KT__VEC_INIT(char);
    kt_err err = { 0 };

    check_int(kt__vec_append(&s, "", 0, &err, "text"), ==, 0);
    check_str(s.v, "");
    check_int(kt__vec_append(&s, "abc", 3, &err, "text"), ==, 0);
    check_int(kt__vec_append(&s, "defgh", 5, &err, "text"), ==, 0);
    check_uint(s.n, ==, 8);
    check_str(s.v, "abcdefgh");
    kt__vec_free(&s);
}

static void t_errors_name_what(void)
{
    kt__vec a = KT__VEC_INIT(uint64_t);
    kt__vec z = { NULL, 0, 0, 0 };
    kt_err err = { 0 };
    uint64_t x = 7;

    check_int(kt__vec_push(&a, &x, &err, "samples"), ==, 0);
    check_int(kt__vec_reserve(&a, SIZE_MAX / 4, &err, "samples of tid 9"), ==, -1);
    check_int(err.code, ==, ENOMEM);
    check_contains(err.msg, "samples of tid 9: out of memory");
    check_uint(a.n, ==, 1);               /* kept what it held */
    check_uint(*(uint64_t *)kt__vec_at(&a, 0), ==, 7);
    check_int(kt__vec_append(&a, "x", 1, &err, "ids"), ==, -1);
    check_contains(err.msg, "ids: byte append");
    check_int(kt__vec_push(&z, &x, &err, "zeros"), ==, -1);
    check_contains(err.msg, "zeros: array of zero-sized elements");
    kt__vec_free(&a);
}

static void t_appendf(void)
{
    kt__vec a = KT__VEC_INIT(char), ints = KT__VEC_INIT(int);
    kt_err err = { 0 };
    char big[3000];

    check_int(kt__vec_appendf(&a, &err, "text", "%d-%s", 42, "x"), ==, 0);
    check_int(kt__vec_appendf(&a, &err, "text", "|%s", ""), ==, 0);
    check_str((char *)a.v, "42-x|");
    check_uint(a.n, ==, 5);
    /* longer than any fixed buffer a writer kept before */
    memset(big, 'b', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    check_int(kt__vec_appendf(&a, &err, "text", "%s!", big), ==, 0);
    check_uint(a.n, ==, 5 + sizeof(big));
    check_int(((char *)a.v)[a.n - 1], ==, '!');
    check_int(((char *)a.v)[a.n], ==, '\0');
    check_int(kt__vec_appendf(&ints, &err, "ints", "%d", 1), ==, -1);
    check_int(err.code, ==, EINVAL);
    kt__vec_free(&a);
    kt__vec_free(&ints);
}

int main(void)
{
    TEST(t_appendf(), "appendf: printf-style text of any length, NUL after it; a non-byte array refused");
    TEST(t_push_grows(), "push: 1000 elements kept in order");
    TEST(t_append_bytes(), "append: bytes stay a NUL-terminated string");
    TEST(t_errors_name_what(), "errors name what was being built; array kept");
    return test_done();
}
