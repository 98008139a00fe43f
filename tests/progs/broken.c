/* A program whose registry is broken: the same name twice (as two files
 * could do). The runner must refuse to run it, loudly. */
#include <ktstr.h>

static void body(kt_ctx *ctx, kt_verdict *v)
{
    (void)ctx;
    CLAIM(v, 1, eq, 1);
}

__attribute__((constructor)) static void register_twice(void)
{
    static const kt_scenario a = { "twice", body, { .opts_version_ = 1 }, "a.c", 3 };
    static const kt_scenario b = { "twice", body, { .opts_version_ = 1 }, "b.c", 9 };

    kt_register(&b);
    kt_register(&a);
}

KT_MAIN()
