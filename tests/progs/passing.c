/* A scenario file whose points all pass or skip: prove must accept it. */
#include <ktstr.h>

KT_SCENARIO(second_in_source, .min_cpus = 1)
{
    CLAIM(v, ctx->ncpus, at_least, 1);
    kt_verdict_note(v, "runs on %d CPUs", ctx->ncpus);
}

KT_SCENARIO(skipped_by_body)
{
    kt_verdict_skip(v, "nothing to do here");
}

KT_SCENARIO(skipped_by_requirement, .min_cpus = 100000)
{
    CLAIM(v, 0, eq, 1);
}

KT_SCENARIO(plain)
{
    CLAIM(v, 1u, eq, 1);
}

KT_MAIN()
