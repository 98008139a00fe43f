/* Scratch cgroups for tests/work/cgroup_sweep.t: cgroup_hold makes one, says
 * where ("held <path>" on stderr, the child's stdout) and waits to be
 * killed; cgroup_fresh makes and removes one, so that the sweep of its
 * first group puts what it removed in the point's notes. Both lend the
 * library the scenario's hooks, as the catalog does. */
#include <ktstr.h>

#include <stdio.h>
#include <string.h>

static kt_cgroup *make(kt_ctx *ctx, kt_verdict *v, kt_cg_hooks *hooks, const char *name)
{
    kt_err err = { 0 };
    kt_cgroup *g;

    *hooks = (kt_cg_hooks){ kt_ctx_rmdir_hook, ctx, kt_verdict_note_hook, v };
    g = kt_cgroup_create(hooks, name, &err);
    if (!g)
        kt_verdict_skip(v, "%s", err.msg);
    return g;
}

KT_SCENARIO(cgroup_hold, .timeout_s = 60, .needs_root = true)
{
    kt_cg_hooks hooks;
    kt_cgroup *g = make(ctx, v, &hooks, "held");
    const char *cpu, *cpuset;

    if (!g)
        return;
    cpu = kt_cgroup_path(g, KT_CG_WEIGHT);
    cpuset = kt_cgroup_path(g, KT_CG_CPUS);
    printf("held %s\n", cpu);
    if (strcmp(cpu, cpuset))
        printf("held %s\n", cpuset);
    printf("ready\n");
    fflush(stdout);
    kt_sleep_ms(50 * 1000);
    CLAIM(v, kt_cgroup_destroy(g, NULL), eq, 0);
}

KT_SCENARIO(cgroup_fresh, .timeout_s = 20, .needs_root = true)
{
    kt_cg_hooks hooks;
    kt_cgroup *g = make(ctx, v, &hooks, "fresh");
    kt_err err = { 0 };

    if (!g)
        return;
    CLAIM(v, kt_cgroup_destroy(g, &err), eq, 0);
}

KT_MAIN()
