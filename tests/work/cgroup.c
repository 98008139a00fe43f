/* Cgroups: the pure parts for both versions (file names, weights,
 * mountinfo, names, /proc stat), then on this machine: create, set, move a
 * worker, read back, remove, and leave nothing behind; nested groups and
 * the bandwidth cap; the caller's hooks; the sweep of groups (and their
 * children) whose creator is gone, on v1 and (in a namespace) v2. */
#include "harness/unit.h"

#include <ktstr/cgroup.h>
#include <ktstr/scenario.h>
#include <ktstr/work.h>

#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void t_files(void)
{
    check_str(kt_cg_file(KT_CG_V1, KT_CG_WEIGHT), "cpu.shares");
    check_str(kt_cg_file(KT_CG_V2, KT_CG_WEIGHT), "cpu.weight");
    check_str(kt_cg_file(KT_CG_V1, KT_CG_PROCS), "tasks");
    check_str(kt_cg_file(KT_CG_V2, KT_CG_PROCS), "cgroup.procs");
    check_str(kt_cg_file(KT_CG_V1, KT_CG_CPUS), "cpuset.cpus");
    check_str(kt_cg_file(KT_CG_V2, KT_CG_CPUS), "cpuset.cpus");
    check_str(kt_cg_file(KT_CG_V2, KT_CG_MEMS), "cpuset.mems");
    check_str(kt_cg_file(KT_CG_V1, KT_CG_QUOTA), "cpu.cfs_quota_us");
    check_str(kt_cg_file(KT_CG_V1, KT_CG_PERIOD), "cpu.cfs_period_us");
    check_str(kt_cg_file(KT_CG_V2, KT_CG_QUOTA), "cpu.max");
    check_str(kt_cg_file(KT_CG_V2, KT_CG_PERIOD), "cpu.max");
    check(kt_cg_file(KT_CG_NONE, KT_CG_WEIGHT) == NULL);
    check(kt_cg_file(KT_CG_V2, KT_CG_NKNOBS) == NULL);
}

static void t_weights(void)
{
    int bad = 0;

    /* The kernel's formula at its fixed points. */
    check_uint(kt_cg_shares_to_weight(2), ==, 1);
    check_uint(kt_cg_shares_to_weight(1024), ==, 39);
    check_uint(kt_cg_shares_to_weight(262144), ==, 10000);
    check_uint(kt_cg_shares_to_weight(0), ==, 1);
    check_uint(kt_cg_shares_to_weight(1u << 30), ==, 10000);
    check_uint(kt_cg_weight_to_shares(100), ==, 2598);
    check_uint(kt_cg_weight_to_shares(1), ==, 2);
    check_uint(kt_cg_weight_to_shares(0), ==, 2);
    check_uint(kt_cg_weight_to_shares(20000), ==, kt_cg_weight_to_shares(10000));
    /* Every weight comes back through the kernel's formula, and the
     * shares chosen are the smallest that do. */
    for (uint64_t w = 1; w <= 10000; w++) {
        uint64_t s = kt_cg_weight_to_shares(w);

        if (kt_cg_shares_to_weight(s) != w || (w > 1 && kt_cg_shares_to_weight(s - 1) == w))
            bad++;
    }
    check_int(bad, ==, 0);
}

static const char hybrid[] =
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
    "34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";
static const char comounted[] =
    "25 20 0:22 / /sys/fs/cgroup/cpuset rw shared:5 - cgroup cgroup rw,cpuset\n"
    "26 20 0:23 / /sys/fs/cgroup/cpu,cpuacct rw shared:6 - cgroup cgroup rw,cpu,cpuacct\n";
static const char unified[] =
    "22 1 8:1 / / rw - ext4 /dev/sda1 rw\n"
    "30 22 0:26 / /sys/fs/cgroup rw,nosuid shared:4 - cgroup2 cgroup2 rw,nsdelegate";
static const char neither[] =
    "22 1 8:1 / / rw - ext4 /dev/sda1 rw\n"
    "32 31 0:29 / /sys/fs/cgroup/cpuacct rw - cgroup cgroup rw,cpuacct\n"
    "garbage line\n\n";

static void t_mountinfo(void)
{
    kt_cg_layout l;
    kt_err err = { 0 };
    int rc;

    rc = kt_cg_parse_mountinfo(hybrid, &l, &err);
    check_int(rc, ==, 0);
    check_int(l.version, ==, KT_CG_V1);
    check_str(l.cpu_root, "/sys/fs/cgroup/cpu");
    check_str(l.cpuset_root, "/sys/fs/cgroup/cpuset");
    rc = kt_cg_parse_mountinfo(comounted, &l, &err);
    check_int(rc, ==, 0);
    check_int(l.version, ==, KT_CG_V1);
    check_str(l.cpu_root, "/sys/fs/cgroup/cpu,cpuacct");
    rc = kt_cg_parse_mountinfo(unified, &l, &err);
    check_int(rc, ==, 0);
    check_int(l.version, ==, KT_CG_V2);
    check_str(l.cpu_root, "/sys/fs/cgroup");
    check_str(l.cpuset_root, "/sys/fs/cgroup");
    rc = kt_cg_parse_mountinfo(neither, &l, &err);
    check_int(rc, ==, -1);
    check_int(err.code, ==, ENOENT);
    check_contains(err.msg, "cpuset");
    check_int(l.version, ==, KT_CG_NONE);
    rc = kt_cg_parse_mountinfo("", &l, &err);
    check_int(rc, ==, -1);
}

/* Lines without the " - " separator are skipped in time linear in the
 * table: the 8 MB of them here took some 40 minutes while each line looked
 * for it to the end of the text.
 * The alarm turns a relapse into a failure, not a stuck prove. */
static void t_mountinfo_linear(void)
{
    static const char line[] = "1 2 3 4 5\n";
    size_t lines = 800000, len = lines * (sizeof(line) - 1);
    char *text = malloc(len + sizeof(unified));
    kt_cg_layout l;
    kt_err err = { 0 };

    if (!check(text != NULL))
        return;
    for (size_t i = 0; i < lines; i++)
        memcpy(text + i * (sizeof(line) - 1), line, sizeof(line) - 1);
    memcpy(text + len, unified, sizeof(unified));
    alarm(60);
    check_int(kt_cg_parse_mountinfo(text, &l, &err), ==, 0);
    alarm(0);
    check_int(l.version, ==, KT_CG_V2);
    check_str(l.cpu_root, "/sys/fs/cgroup");
    free(text);
}

static void t_names(void)
{
    char buf[64];
    kt_err err = { 0 };
    int rc;

    long pid = 0;
    unsigned long long start = 0;

    rc = kt_cg_name(buf, sizeof(buf), 1234, 98765, 5, "heavy", &err);
    check_int(rc, ==, 0);
    check_str(buf, "ktstr-1234-98765-5-heavy");
    rc = kt_cg_name(buf, sizeof(buf), 1, 2, 0, "a/b", &err);
    check_int(rc, ==, -1);
    check_contains(err.msg, "\"a/b\"");
    rc = kt_cg_name(buf, sizeof(buf), 1, 2, 0, "", &err);
    check_int(rc, ==, -1);
    rc = kt_cg_name(buf, sizeof(buf), 1, 2, 0, "..", &err);
    check_int(rc, ==, -1);
    rc = kt_cg_name(buf, sizeof(buf), 1, 2, 0, NULL, &err);
    check_int(rc, ==, -1);
    rc = kt_cg_name(buf, 18, 1234, 98765, 5, "heavy", &err);
    check_int(rc, ==, -1);
    check_int(err.code, ==, ENAMETOOLONG);

    /* ...and back: the creator's pid and start time. */
    check_int(kt_cg_parse_name("ktstr-1234-98765-5-heavy", &pid, &start), ==, 0);
    check_int(pid, ==, 1234);
    check_uint(start, ==, 98765);
    check_int(kt_cg_parse_name("ktstr-7-0-0-a-b-1", &pid, &start), ==, 0);
    check_int(pid, ==, 7);
    check_uint(start, ==, 0);
    /* Older names (no start time) and strangers are not ours to judge. */
    check_int(kt_cg_parse_name("ktstr-1234-0-fairlight", &pid, &start), ==, -1);
    check_int(kt_cg_parse_name("ktstr-1234-5-6-", &pid, &start), ==, -1);
    check_int(kt_cg_parse_name("ktstr-0-5-6-x", &pid, &start), ==, -1);
    check_int(kt_cg_parse_name("ktstr--5-6-x", &pid, &start), ==, -1);
    check_int(kt_cg_parse_name("ktstr-99999999999999999999-5-6-x", &pid, &start), ==, -1);
    check_int(kt_cg_parse_name("system.slice", &pid, &start), ==, -1);
    check_int(kt_cg_parse_name("ktstr-12a-5-6-x", &pid, &start), ==, -1);
    check_int(kt_cg_parse_name(NULL, &pid, &start), ==, -1);
}

static void t_stat_start(void)
{
    /* A comm with spaces and parentheses: fields count from the last ')'. */
    static const char odd[] =
        "812 (a) b (c) S 1 812 812 0 -1 4194560 100 0 0 0 5 6 0 0 20 0 1 0 "
        "4242 10000 200 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0\n";
    unsigned long long start = 0, mine = 0, again = 0;
    kt_err err = { 0 };

    check_int(kt_cg_parse_stat_start(odd, &start), ==, 0);
    check_uint(start, ==, 4242);
    check_int(kt_cg_parse_stat_start("812 (x) S 1 2 3", &start), ==, -1);
    check_int(kt_cg_parse_stat_start("no parenthesis at all", &start), ==, -1);
    check_int(kt_cg_parse_stat_start(NULL, &start), ==, -1);
    /* This process: a start time that stays put; no such pid: ENOENT. */
    check_int(kt_cg_proc_start((long)getpid(), &mine, &err), ==, 0);
    check_int(kt_cg_proc_start((long)getpid(), &again, &err), ==, 0);
    check_uint(mine, ==, again);
    check_int(kt_cg_proc_start(0x7ffffff0L, &start, &err), ==, -1);
    check_int(err.code, ==, ENOENT);
    check_contains(err.msg, "/proc/2147483632/stat");
}

/* Entries named ktstr-<our pid>-* left in dir. */
static int leftovers(const char *dir)
{
    char prefix[32];
    struct dirent *d;
    DIR *dp = opendir(dir);
    int n = 0;

    if (!dp)
        return 0;
    snprintf(prefix, sizeof(prefix), "ktstr-%d-", (int)getpid());
    while ((d = readdir(dp)))
        if (!strncmp(d->d_name, prefix, strlen(prefix)))
            n++;
    closedir(dp);
    return n;
}

static bool file_has_line(const char *path, long want)
{
    char line[64];
    FILE *f = fopen(path, "r");
    bool found = false;

    if (!f)
        return false;
    while (!found && fgets(line, sizeof(line), f))
        found = strtol(line, NULL, 10) == want;
    fclose(f);
    return found;
}

/* NULL and a skip when this machine cannot give us cgroups. */
static kt_cgroup *create_or_skip(const char *name, kt_cg_layout *lay)
{
    kt_err err = { 0 };
    kt_cgroup *g;

    if (kt_cg_detect(lay, &err)) {
        test_skip("%s", err.msg);
        return NULL;
    }
    g = kt_cgroup_create(NULL, name, &err);
    if (!g)
        test_skip("%s", err.msg);
    return g;
}

static void t_live(void)
{
    kt_cg_layout lay;
    kt_cgroup *g = create_or_skip("live", &lay), *g2;
    kt_err err = { 0 };
    char buf[256], want[64], dir[4096], dir2[4096], tasks[4200];
    struct stat st;
    kt_work *w;
    kt_work_result r;
    unsigned long long start = 0;
    int rc;

    if (!g)
        return;
    check_int(kt_cg_proc_start((long)getpid(), &start, &err), ==, 0);
    check_int(kt_cgroup_version(g), ==, lay.version);
    snprintf(want, sizeof(want), "/ktstr-%d-%llu-0-live", (int)getpid(), start);
    snprintf(dir, sizeof(dir), "%s", kt_cgroup_path(g, KT_CG_WEIGHT));
    check_contains(dir, want);
    check_int(stat(dir, &st), ==, 0);
    check_int(stat(kt_cgroup_path(g, KT_CG_CPUS), &st), ==, 0);
    /* The same name again gets the next free number. */
    g2 = kt_cgroup_create(NULL, "live", &err);
    check(g2 != NULL);
    if (g2) {
        snprintf(dir2, sizeof(dir2), "%s", kt_cgroup_path(g2, KT_CG_WEIGHT));
        snprintf(want, sizeof(want), "/ktstr-%d-%llu-1-live", (int)getpid(), start);
        check_contains(dir2, want);
        rc = kt_cgroup_destroy(g2, &err);
        check_int(rc, ==, 0);
        check_int(stat(dir2, &st), ==, -1);
    }

    rc = kt_cgroup_set_weight(g, 200, &err);
    check_int(rc, ==, 0);
    rc = kt_cgroup_read(g, KT_CG_WEIGHT, buf, sizeof(buf), &err);
    check_int(rc, ==, 0);
    snprintf(want, sizeof(want), "%llu", (unsigned long long)(lay.version == KT_CG_V1
                                                            ? kt_cg_weight_to_shares(200) : 200));
    check_str(buf, want);
    rc = kt_cgroup_set_weight(g, 0, &err);
    check_int(rc, ==, -1);
    check_contains(err.msg, "weight 0 out of 1..10000");
    rc = kt_cgroup_set_cpus(g, "0", &err);
    check_int(rc, ==, 0);
    rc = kt_cgroup_read(g, KT_CG_CPUS, buf, sizeof(buf), &err);
    check_int(rc, ==, 0);
    check_str(buf, "0");
    rc = kt_cgroup_set_cpus(g, "999", &err);
    check_int(rc, ==, -1);
    check_contains(err.msg, "cpuset.cpus");

    /* Workers move themselves in before the barrier: a thread (v1 only)
     * and a process (both versions). */
    {
        kt_work_spec s[2] = {
            { .kind = KT_WORK_SPIN, .count = 1, .cgroup = g, .process = true },
            { .kind = KT_WORK_SPIN, .count = 1, .cgroup = g },
        };
        size_t nspecs = lay.version == KT_CG_V1 ? 2 : 1;

        w = kt_work_new(0, &err);
        rc = 0;
        for (size_t k = 0; k < nspecs && rc == 0; k++)
            rc = kt_work_add(w, &s[k], &err);
        if (rc == 0)
            rc = kt_work_start(w, &err);
        if (!check_int(rc, ==, 0))
            test_msg("%s", err.msg);
        check_uint(kt_work_count(w), ==, nspecs);
        for (size_t k = 0; k < kt_work_count(w); k++) {
            cpu_set_t got;

            kt_work_get(w, k, &r, &err);
            snprintf(tasks, sizeof(tasks), "%s/%s", kt_cgroup_path(g, KT_CG_WEIGHT),
                     kt_cg_file(lay.version, KT_CG_PROCS));
            check(file_has_line(tasks, r.tid));
            snprintf(tasks, sizeof(tasks), "%s/%s", kt_cgroup_path(g, KT_CG_CPUS),
                     kt_cg_file(lay.version, KT_CG_PROCS));
            check(file_has_line(tasks, r.tid));
            check_int(sched_getaffinity(r.tid, sizeof(got), &got), ==, 0);
            check_int(CPU_COUNT(&got), ==, 1);
            check(CPU_ISSET(0, &got));
        }
        /* Not the creator: it stays where it was. */
        check(!file_has_line(tasks, (long)getpid()));
    }
    /* The affinity knob survives the cpuset move (which, before 6.2,
     * reset it: hence the move comes first);
     * an RT worker in a v1 group without RT runtime is refused, clearly. */
    if (lay.version == KT_CG_V1 && sysconf(_SC_NPROCESSORS_ONLN) >= 2) {
        kt_work_spec s = { .kind = KT_WORK_TIMER, .count = 1, .period_us = 1000, .cgroup = g,
                           .cpus = "1" };
        kt_work_spec rt = { .kind = KT_WORK_TIMER, .count = 1, .period_us = 1000, .cgroup = g,
                            .policy = KT_POLICY_FIFO, .rt_prio = 1 };
        kt_work *w2 = kt_work_new(1, &err);
        kt_work_result r2;
        cpu_set_t got;

        rc = kt_cgroup_set_cpus(g, "0-1", &err);
        check_int(rc, ==, 0);
        rc = kt_work_add(w2, &s, &err);
        if (rc == 0)
            rc = kt_work_start(w2, &err);
        if (!check_int(rc, ==, 0))
            test_msg("%s", err.msg);
        kt_work_get(w2, 0, &r2, &err);
        check_int(sched_getaffinity(r2.tid, sizeof(got), &got), ==, 0);
        check_int(CPU_COUNT(&got), ==, 1);
        check(CPU_ISSET(1, &got));
        kt_work_free(w2);

        w2 = kt_work_new(1, &err);
        rc = kt_work_add(w2, &rt, &err);
        if (rc == 0)
            rc = kt_work_start(w2, &err);
        if (rc == 0) {
            test_msg("FIFO accepted in a v1 group (no RT group scheduling here)");
        } else {
            check_int(err.code, ==, EPERM);
            check_contains(err.msg, "ktw1");
            check_contains(err.msg, "cpu.rt_runtime_us");
        }
        kt_work_free(w2);
    }
    /* Destroy with the worker still inside: it is moved out first. */
    rc = kt_cgroup_destroy(g, &err);
    if (!check_int(rc, ==, 0))
        test_msg("%s", err.msg);
    check_int(stat(dir, &st), ==, -1);
    /* ...and goes on running where it was moved (the root). */
    for (size_t k = 0; k < kt_work_count(w); k++) {
        for (int t = 0; t < 200 && kt_work_iterations(w, k) == 0; t++)
            usleep(10000);
        check_uint(kt_work_iterations(w, k), >, 0);
    }
    kt_work_free(w);
    check_int(leftovers(lay.cpu_root), ==, 0);
    check_int(leftovers(lay.cpuset_root), ==, 0);
}

/* What the hooks heard. */
typedef struct heard {
    char paths[8][4096];
    int npaths;
    int fail_errno;            /* rmdir_at_exit fails with this when nonzero */
    char notes[8192];
} heard;

static int record_rmdir(void *arg, const char *path)
{
    heard *h = arg;

    if (h->npaths < 8)
        snprintf(h->paths[h->npaths], sizeof(h->paths[0]), "%s", path);
    h->npaths++;
    if (h->fail_errno) {
        errno = h->fail_errno;
        return -1;
    }
    return 0;
}

static void record_note(void *arg, const char *msg)
{
    heard *h = arg;
    size_t used = strlen(h->notes);

    snprintf(h->notes + used, sizeof(h->notes) - used, "%s\n", msg);
}

/* rmdir_at_exit hears of every directory; when it fails, so does the
 * creation, naming the path, and nothing stays behind. */
static void t_hooks(void)
{
    static heard h;
    kt_cg_hooks hooks = { record_rmdir, &h, record_note, &h };
    kt_ctx outside = { .name = "t_hooks" };
    kt_cg_hooks runner = { kt_ctx_rmdir_hook, &outside, NULL, NULL };
    kt_cg_layout lay;
    kt_err err = { 0 };
    kt_cgroup *g;

    if (geteuid() != 0 || kt_cg_detect(&lay, &err)) {
        test_skip("%s", geteuid() ? "needs root" : err.msg);
        return;
    }
    memset(&h, 0, sizeof(h));
    g = kt_cgroup_create(&hooks, "hooked", &err);
    if (!g) {
        test_skip("%s", err.msg);
        return;
    }
    check_int(h.npaths, ==, lay.version == KT_CG_V1 ? 2 : 1);
    check_str(h.paths[0], kt_cgroup_path(g, KT_CG_WEIGHT));
    if (lay.version == KT_CG_V1)
        check_str(h.paths[1], kt_cgroup_path(g, KT_CG_CPUS));
    check_int(kt_cgroup_destroy(g, &err), ==, 0);

    memset(&h, 0, sizeof(h));
    h.fail_errno = ENOSPC;
    check(kt_cgroup_create(&hooks, "hooked", &err) == NULL);
    check_int(err.code, ==, ENOSPC);
    check_contains(err.msg, "could not be arranged");
    check_contains(err.msg, h.paths[0]);
    check_contains(err.msg, "-0-hooked");
    /* The runner's own hook outside the runner: nobody to ask. */
    check(kt_cgroup_create(&runner, "hooked", &err) == NULL);
    check_int(err.code, ==, EBADF);
    check_contains(err.msg, "-0-hooked at exit could not be arranged");
    check_int(leftovers(lay.cpu_root), ==, 0);
    check_int(leftovers(lay.cpuset_root), ==, 0);
}

static bool exists(const char *path);
static pid_t sleeper(void);

/* kt_cgroup_path(g, knob) ends in "/" + tail. */
static bool path_ends(const kt_cgroup *g, kt_cg_knob knob, const char *tail)
{
    const char *p = kt_cgroup_path(g, knob);
    size_t pl = strlen(p), tl = strlen(tail);

    return pl > tl && p[pl - tl - 1] == '/' && !strcmp(p + pl - tl, tail);
}

/* A child inside a group (and one inside that): the directories where
 * the parent's are, in both v1 hierarchies; the hooks hear each one; v1
 * cpusets start with the parent's cpus, not the root's; a taken name, a
 * bad name and no parent are refused; a process worker enters a leaf; on
 * v2 the parent then takes no task, on v1 it may; destroying the top
 * group removes the whole tree, and a child destroyed first leaves its
 * parent's list. */
static void t_nested(void)
{
    static heard h;
    kt_cg_hooks hooks = { record_rmdir, &h, NULL, NULL };
    kt_cg_layout lay;
    kt_cgroup *top = create_or_skip("nest", &lay), *a, *b, *ax, *dup;
    kt_err err = { 0 };
    char buf[256], dirs[4][2][4096], want[4200], tasks[4200];
    int ndirs = 0, rc;
    kt_work *w = NULL;

    if (!top)
        return;
    memset(&h, 0, sizeof(h));
    if (lay.version == KT_CG_V1) {
        rc = kt_cgroup_set_cpus(top, "0", &err);
        check_int(rc, ==, 0);
    }
    a = kt_cgroup_create_in(top, &hooks, "a", &err);
    if (!check(a != NULL)) {
        test_msg("%s", err.msg);
        kt_cgroup_destroy(top, NULL);
        return;
    }
    check_int(kt_cgroup_version(a), ==, lay.version);
    snprintf(want, sizeof(want), "%s/a", kt_cgroup_path(top, KT_CG_WEIGHT));
    check_str(kt_cgroup_path(a, KT_CG_WEIGHT), want);
    snprintf(want, sizeof(want), "%s/a", kt_cgroup_path(top, KT_CG_CPUS));
    check_str(kt_cgroup_path(a, KT_CG_CPUS), want);
    check(exists(kt_cgroup_path(a, KT_CG_WEIGHT)));
    check(exists(kt_cgroup_path(a, KT_CG_CPUS)));
    check_int(h.npaths, ==, lay.version == KT_CG_V1 ? 2 : 1);
    check_str(h.paths[0], kt_cgroup_path(a, KT_CG_WEIGHT));
    if (lay.version == KT_CG_V1)
        check_str(h.paths[1], kt_cgroup_path(a, KT_CG_CPUS));

    /* v1: a cpuset child gets its parent's cpus (the root's would be
     * refused, as not a subset; set before the first child, which a
     * parent's cpus must cover) */
    b = kt_cgroup_create_in(top, &hooks, "b", &err);
    if (!check(b != NULL))
        test_msg("%s", err.msg);
    if (b && lay.version == KT_CG_V1) {
        rc = kt_cgroup_read(b, KT_CG_CPUS, buf, sizeof(buf), &err);
        check_int(rc, ==, 0);
        check_str(buf, "0");
        rc = kt_cgroup_read(b, KT_CG_MEMS, buf, sizeof(buf), &err);
        check_int(rc, ==, 0);
        check(buf[0] != '\0');
    }
    ax = kt_cgroup_create_in(a, &hooks, "x", &err);
    if (!check(ax != NULL))
        test_msg("%s", err.msg);
    if (ax) {
        check(path_ends(ax, KT_CG_WEIGHT, "a/x"));
        check(path_ends(ax, KT_CG_CPUS, "a/x"));
        rc = kt_cgroup_set_weight(ax, 300, &err);
        check_int(rc, ==, 0);
    }
    /* each directory heard once: a, b and a/x */
    check_int(h.npaths, ==, lay.version == KT_CG_V1 ? 6 : 3);

    dup = kt_cgroup_create_in(top, &hooks, "a", &err);
    check(dup == NULL);
    check_int(err.code, ==, EEXIST);
    check_contains(err.msg, kt_cgroup_path(a, KT_CG_WEIGHT));
    check(kt_cgroup_create_in(top, &hooks, "a/b", &err) == NULL);
    check_int(err.code, ==, EINVAL);
    check(kt_cgroup_create_in(NULL, &hooks, "c", &err) == NULL);
    check_int(err.code, ==, EINVAL);
    check_contains(err.msg, "NULL parent");

    /* a process worker in the leaf a/x */
    if (ax) {
        kt_work_spec s = { .kind = KT_WORK_SPIN, .count = 1, .cgroup = ax, .process = true };
        kt_work_result r;

        w = kt_work_new(0, &err);
        rc = w ? kt_work_add(w, &s, &err) : -1;
        if (rc == 0)
            rc = kt_work_start(w, &err);
        if (!check_int(rc, ==, 0))
            test_msg("%s", err.msg);
        if (rc == 0 && kt_work_get(w, 0, &r, &err) == 0) {
            snprintf(tasks, sizeof(tasks), "%s/%s", kt_cgroup_path(ax, KT_CG_WEIGHT),
                     kt_cg_file(lay.version, KT_CG_PROCS));
            check(file_has_line(tasks, r.tid));
            snprintf(tasks, sizeof(tasks), "%s/%s", kt_cgroup_path(ax, KT_CG_CPUS),
                     kt_cg_file(lay.version, KT_CG_PROCS));
            check(file_has_line(tasks, r.tid));
        }
    }
    /* a parent with children: v2 refuses it tasks, v1 takes them */
    {
        pid_t kid = sleeper();

        check(kid > 0);
        rc = kt_cgroup_add(a, (long)kid, &err);
        if (lay.version == KT_CG_V2) {
            check_int(rc, ==, -1);
            check_int(err.code, ==, EBUSY);
            check_contains(err.msg, "no-internal-process");
        } else {
            check_int(rc, ==, 0);
            snprintf(tasks, sizeof(tasks), "%s/tasks", kt_cgroup_path(a, KT_CG_WEIGHT));
            check(file_has_line(tasks, (long)kid));
        }
        /* and a leaf that holds a task can have no children on v2 */
        if (b && lay.version == KT_CG_V2) {
            rc = kt_cgroup_add(b, (long)kid, &err);
            check_int(rc, ==, 0);
            check(kt_cgroup_create_in(b, &hooks, "y", &err) == NULL);
            check_int(err.code, ==, EBUSY);
            check_contains(err.msg, "holds tasks");
        }
        /* destroy moves it out with the rest */
        if (kid > 0) {
            kill(kid, SIGKILL);
            waitpid(kid, NULL, 0);
        }
    }

    /* b destroyed alone leaves top's list; the rest goes with top */
    for (kt_cgroup *g2 = a; g2; g2 = g2 == a ? ax : (g2 == ax ? b : NULL))
        if (ndirs < 4) {
            snprintf(dirs[ndirs][0], sizeof(dirs[0][0]), "%s", kt_cgroup_path(g2, KT_CG_WEIGHT));
            snprintf(dirs[ndirs][1], sizeof(dirs[0][1]), "%s", kt_cgroup_path(g2, KT_CG_CPUS));
            ndirs++;
        }
    snprintf(dirs[ndirs][0], sizeof(dirs[0][0]), "%s", kt_cgroup_path(top, KT_CG_WEIGHT));
    snprintf(dirs[ndirs][1], sizeof(dirs[0][1]), "%s", kt_cgroup_path(top, KT_CG_CPUS));
    ndirs++;
    if (b) {
        rc = kt_cgroup_destroy(b, &err);
        check_int(rc, ==, 0);
        check(!exists(dirs[ndirs - 2][0]));
    }
    rc = kt_cgroup_destroy(top, &err);
    if (!check_int(rc, ==, 0))
        test_msg("%s", err.msg);
    for (int i = 0; i < ndirs; i++) {
        if (!check(!exists(dirs[i][0])) || !check(!exists(dirs[i][1])))
            test_msg("left: %s", dirs[i][0]);
    }
    /* the worker was moved out and runs on */
    if (w) {
        uint64_t it = kt_work_iterations(w, 0);

        for (int t = 0; t < 200 && kt_work_iterations(w, 0) == it; t++)
            usleep(10000);
        check_uint(kt_work_iterations(w, 0), >, it);
        kt_work_free(w);
    }
    check_int(leftovers(lay.cpu_root), ==, 0);
    check_int(leftovers(lay.cpuset_root), ==, 0);
}

/* Reads knob of g into buf and compares it with want. */
static bool knob_is(const kt_cgroup *g, kt_cg_knob knob, const char *want)
{
    char buf[128];
    kt_err err = { 0 };

    if (kt_cgroup_read(g, knob, buf, sizeof(buf), &err)) {
        test_msg("%s", err.msg);
        return false;
    }
    if (strcmp(buf, want))
        test_msg("%s: \"%s\", want \"%s\"", kt_cg_file(kt_cgroup_version(g), knob), buf, want);
    return !strcmp(buf, want);
}

/* The bandwidth cap: written as each version spells it, lifted by quota
 * 0, bad ranges refused naming them; on v1 a child's cap is changed from
 * one its parent allows to another without an intermediate step that
 * the parent's cap refuses (the period written first would be). */
static void t_set_max(void)
{
    kt_cg_layout lay;
    kt_cgroup *g = create_or_skip("max", &lay), *kid;
    kt_err err = { 0 };
    bool v1;
    int rc;

    if (!g)
        return;
    v1 = lay.version == KT_CG_V1;
    rc = kt_cgroup_set_max(g, 50000, 100000, &err);
    if (!check_int(rc, ==, 0))
        test_msg("%s", err.msg);
    if (v1) {
        check(knob_is(g, KT_CG_QUOTA, "50000"));
        check(knob_is(g, KT_CG_PERIOD, "100000"));
    } else {
        check(knob_is(g, KT_CG_QUOTA, "50000 100000"));
    }
    rc = kt_cgroup_set_max(g, 0, 200000, &err);
    check_int(rc, ==, 0);
    if (v1) {
        check(knob_is(g, KT_CG_QUOTA, "-1"));
        check(knob_is(g, KT_CG_PERIOD, "200000"));
    } else {
        check(knob_is(g, KT_CG_QUOTA, "max 200000"));
    }
    rc = kt_cgroup_set_max(g, 250000, 100000, &err);     /* 2.5 CPUs: more than one is fine */
    check_int(rc, ==, 0);
    check(knob_is(g, KT_CG_QUOTA, v1 ? "250000" : "250000 100000"));

    /* a child capped at its parent's 0.5 CPU, then at 5 ms per 10 ms:
     * the period first would make it 50 ms per 10 ms, past the parent */
    rc = kt_cgroup_set_max(g, 50000, 100000, &err);
    check_int(rc, ==, 0);
    kid = kt_cgroup_create_in(g, NULL, "kid", &err);
    if (check(kid != NULL)) {
        rc = kt_cgroup_set_max(kid, 50000, 100000, &err);
        if (!check_int(rc, ==, 0))
            test_msg("%s", err.msg);
        rc = kt_cgroup_set_max(kid, 5000, 10000, &err);
        if (!check_int(rc, ==, 0))
            test_msg("%s", err.msg);
        check(knob_is(kid, KT_CG_QUOTA, v1 ? "5000" : "5000 10000"));
        if (v1)
            check(knob_is(kid, KT_CG_PERIOD, "10000"));
    }

    rc = kt_cgroup_set_max(g, 50000, 999, &err);
    check_int(rc, ==, -1);
    check_int(err.code, ==, EINVAL);
    check_contains(err.msg, "period 999 us out of 1000..1000000");
    rc = kt_cgroup_set_max(g, 50000, 1000001, &err);
    check_int(rc, ==, -1);
    check_int(err.code, ==, EINVAL);
    rc = kt_cgroup_set_max(g, 999, 100000, &err);
    check_int(rc, ==, -1);
    check_int(err.code, ==, EINVAL);
    check_contains(err.msg, "quota 999 us below");
    rc = kt_cgroup_set_max(g, 1000, 1000, &err);
    check_int(rc, ==, 0);
    rc = kt_cgroup_set_max(NULL, 1000, 1000, &err);
    check_int(rc, ==, -1);
    check_int(err.code, ==, EINVAL);
    rc = kt_cgroup_destroy(g, &err);
    check_int(rc, ==, 0);
    check_int(leftovers(lay.cpu_root), ==, 0);
}

/* A pid that was in use a moment ago and is free now. */
static long dead_pid(void)
{
    pid_t pid = fork();

    if (pid == 0)
        _exit(0);
    if (pid < 0 || waitpid(pid, NULL, 0) != pid)
        return -1;
    return (long)pid;
}

/* A child that sleeps until killed, or -1. */
static pid_t sleeper(void)
{
    pid_t pid = fork();

    if (pid == 0) {
        pause();
        _exit(0);
    }
    return pid;
}

static int make_group(const char *root, const char *leaf, char *dir, size_t cap)
{
    snprintf(dir, cap, "%s/%s", root, leaf);
    return mkdir(dir, 0755);
}

static bool exists(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0;
}

static int write_pid(const char *dir, const char *file, long pid)
{
    char path[4200];
    FILE *f;
    int rc;

    snprintf(path, sizeof(path), "%s/%s", dir, file);
    f = fopen(path, "w");
    if (!f)
        return -1;
    rc = fprintf(f, "%ld\n", pid) < 0;
    return fclose(f) || rc ? -1 : 0;
}

/* The sweep under lay's cpu root (and, on v1, the cpuset root): a dead
 * creator's group goes, its children first (c1/c2, c1, c3), so does one
 * whose pid now belongs to a process that started at another time; a
 * live creator's stays, so do older names and a dead creator's group
 * that still holds a task (noted), or whose child does (nestbusy/b1: the
 * child and its parent noted, the empty sibling b2 removed), until the
 * task is gone. 0 when all held, else the number of the check that
 * failed, with what the hooks heard in h. */
static int sweep_checks(const kt_cg_layout *lay, heard *h)
{
    kt_cg_hooks hooks = { NULL, NULL, record_note, h };
    const char *procs = kt_cg_file(lay->version, KT_CG_PROCS);
    char leaf[256], dead[4096], reused[4096], live[4096], old[4096], busy[4096], want[4400];
    char nest[4096], c1[4200], c2[4300], c3[4200], b1[4200], b2[4200];
    unsigned long long mine;
    long gone = dead_pid(), me = (long)getpid();
    pid_t task = -1, task2 = -1;
    kt_err err = { 0 };
    int rc, failed = 0;

    memset(h, 0, sizeof(*h));
    if (gone < 0 || kt_cg_proc_start(me, &mine, &err))
        return 1;
    snprintf(leaf, sizeof(leaf), "ktstr-%ld-%llu-0-sweepdead", gone, mine);
    if (make_group(lay->cpu_root, leaf, dead, sizeof(dead)))
        return 2;
    snprintf(leaf, sizeof(leaf), "ktstr-%ld-%llu-0-sweepreused", me, mine + 1);
    make_group(lay->cpu_root, leaf, reused, sizeof(reused));
    snprintf(leaf, sizeof(leaf), "ktstr-%ld-%llu-0-sweeplive", me, mine);
    make_group(lay->cpu_root, leaf, live, sizeof(live));
    snprintf(leaf, sizeof(leaf), "ktstr-%ld-0-sweepold", gone);
    make_group(lay->cpu_root, leaf, old, sizeof(old));
    snprintf(leaf, sizeof(leaf), "ktstr-%ld-%llu-1-sweepbusy", gone, mine);
    make_group(lay->cpu_root, leaf, busy, sizeof(busy));
    snprintf(c1, sizeof(c1), "%s/c1", dead);
    snprintf(c2, sizeof(c2), "%s/c2", c1);
    snprintf(c3, sizeof(c3), "%s/c3", dead);
    snprintf(leaf, sizeof(leaf), "ktstr-%ld-%llu-2-sweepnest", gone, mine);
    make_group(lay->cpu_root, leaf, nest, sizeof(nest));
    snprintf(b1, sizeof(b1), "%s/b1", nest);
    snprintf(b2, sizeof(b2), "%s/b2", nest);
    if (mkdir(c1, 0755) || mkdir(c2, 0755) || mkdir(c3, 0755) || mkdir(b1, 0755) ||
        mkdir(b2, 0755))
        failed = 3;
    task = sleeper();
    task2 = sleeper();
    if (task < 0 || write_pid(busy, procs, (long)task) || task2 < 0 ||
        write_pid(b1, procs, (long)task2))
        failed = 3;

    rc = failed ? -1 : kt_cg_sweep(lay, &hooks, &err);
    if (!failed && rc < 6)
        failed = 4;
    else if (!failed && (exists(dead) || exists(reused) || exists(b2)))
        failed = 5;
    else if (!failed && (!exists(live) || !exists(old) || !exists(busy) || !exists(b1)))
        failed = 6;
    snprintf(want, sizeof(want), "removed stale cgroup %s (creator pid %ld gone)\n", c2, gone);
    if (!failed && !strstr(h->notes, want))
        failed = 12;
    snprintf(want, sizeof(want), "stale cgroup %s (creator pid %ld gone) left: 1 task still in it",
             b1, gone);
    if (!failed && !strstr(h->notes, want))
        failed = 13;
    snprintf(want, sizeof(want), "stale cgroup %s (creator pid %ld gone) left: a child group stayed",
             nest, gone);
    if (!failed && !strstr(h->notes, want))
        failed = 14;
    snprintf(want, sizeof(want), "removed stale cgroup %s (creator pid %ld gone)\n", dead, gone);
    if (!failed && !strstr(h->notes, want))
        failed = 7;
    snprintf(want, sizeof(want), "removed stale cgroup %s (creator pid %ld gone, its pid reused)",
             reused, me);
    if (!failed && !strstr(h->notes, want))
        failed = 8;
    snprintf(want, sizeof(want), "stale cgroup %s (creator pid %ld gone) left: 1 task still in it",
             busy, gone);
    if (!failed && !strstr(h->notes, want))
        failed = 9;
    if (!failed && (strstr(h->notes, live) || strstr(h->notes, old)))
        failed = 10;
    /* The task gone, the next sweep takes its group. */
    if (task > 0) {
        kill(task, SIGKILL);
        waitpid(task, NULL, 0);
    }
    if (task2 > 0) {
        kill(task2, SIGKILL);
        waitpid(task2, NULL, 0);
    }
    rc = kt_cg_sweep(lay, &hooks, &err);
    if (!failed && (rc < 3 || exists(busy) || exists(nest)))
        failed = 11;
    rmdir(busy);
    rmdir(b1);
    rmdir(b2);
    rmdir(nest);
    rmdir(c2);
    rmdir(c1);
    rmdir(c3);
    rmdir(dead);
    rmdir(reused);
    rmdir(live);
    rmdir(old);
    return failed;
}

static void t_sweep(void)
{
    static heard h;
    kt_cg_layout lay;
    kt_err err = { 0 };
    int rc;

    if (geteuid() != 0 || kt_cg_detect(&lay, &err)) {
        test_skip("%s", geteuid() ? "needs root" : err.msg);
        return;
    }
    check_int(kt_cg_sweep(NULL, NULL, &err), ==, -1);
    check_int(err.code, ==, EINVAL);
    fflush(NULL);
    rc = sweep_checks(&lay, &h);
    if (rc == 2) {
        test_skip("mkdir in %s: %s", lay.cpu_root, strerror(errno));
        return;
    }
    if (!check_int(rc, ==, 0))
        test_msg("notes:\n%s", h.notes);
    check_int(leftovers(lay.cpu_root), ==, 0);
    check_int(leftovers(lay.cpuset_root), ==, 0);
}

static void t_not_root(void)
{
    pid_t pid, got;
    int status;

    if (geteuid() != 0) {
        kt_err err = { 0 };

        check(kt_cgroup_create(NULL, "x", &err) == NULL);
        check_int(err.code, ==, EPERM);
        return;
    }
    fflush(NULL);
    pid = fork();
    if (pid == 0) {
        kt_err err = { 0 };
        kt_cgroup *g;

        if (setgroups(0, NULL) || setgid(65534) || setuid(65534))
            _exit(10);
        g = kt_cgroup_create(NULL, "x", &err);
        fprintf(stderr, "# child: %s\n", err.msg);
        _exit(g ? 11 : err.code != EPERM ? 12 : !strstr(err.msg, "needs root") ? 13 : 0);
    }
    got = waitpid(pid, &status, 0);
    check_int(got, ==, pid);
    check(WIFEXITED(status));
    check_int(WEXITSTATUS(status), ==, 0);
}

/* Runs in a private mount namespace where /sys/fs/cgroup is this hybrid
 * machine's cgroup2 mount: detection must say v2 (statfs magic), and with
 * cpu and cpuset bound to v1 the group must fail naming the controller.
 * Exit status: 0 all held, 2 no namespace (skip), else the failed check. */
static int v2_child(void)
{
    kt_cg_layout lay;
    kt_err err = { 0 };
    kt_cgroup *g;

    if (unshare(CLONE_NEWNS) || mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) ||
        mount("/sys/fs/cgroup/unified", "/sys/fs/cgroup", "none", MS_BIND, NULL))
        return 2;
    if (kt_cg_detect(&lay, &err) || lay.version != KT_CG_V2)
        return 10;
    if (strcmp(lay.cpu_root, "/sys/fs/cgroup"))
        return 11;
    {
        static heard h;
        int rc = sweep_checks(&lay, &h);

        if (rc) {
            fprintf(stderr, "# v2 child: sweep check %d failed; notes:\n%s", rc, h.notes);
            return 20 + rc;
        }
    }
    g = kt_cgroup_create(NULL, "v2", &err);
    fprintf(stderr, "# v2 child: %s\n", g ? "created" : err.msg);
    if (g) {
        /* A v2 machine with the controllers: thread workers are refused. */
        kt_work *w = kt_work_new(0, &err);
        kt_work_spec s = { .kind = KT_WORK_SPIN, .count = 1, .cgroup = g };
        int rc = kt_work_add(w, &s, &err);

        kt_work_free(w);
        kt_cgroup_destroy(g, NULL);
        return rc == -1 && strstr(err.msg, ".process = true") ? 0 : 12;
    }
    if (err.code != ENOENT || !strstr(err.msg, "cgroup v2: controller cpu not in"))
        return 13;
    return 0;
}

static void t_v2_namespace(void)
{
    struct stat st;
    pid_t pid, got;
    int status;

    if (geteuid() != 0 || stat("/sys/fs/cgroup/unified/cgroup.procs", &st)) {
        test_skip("needs root and a hybrid host with /sys/fs/cgroup/unified");
        return;
    }
    fflush(NULL);
    pid = fork();
    if (pid == 0)
        _exit(v2_child());
    got = waitpid(pid, &status, 0);
    check_int(got, ==, pid);
    check(WIFEXITED(status));
    if (WIFEXITED(status) && WEXITSTATUS(status) == 2) {
        test_skip("no private mount namespace: %s", strerror(EPERM));
        return;
    }
    check_int(WEXITSTATUS(status), ==, 0);
}

static void t_bad_args(void)
{
    kt_err err = { 0 };
    char buf[8];
    int rc;

    check(kt_cgroup_create(NULL, "a/b", &err) == NULL);
    check_int(err.code, ==, EINVAL);
    rc = kt_cgroup_set_weight(NULL, 100, &err);
    check_int(rc, ==, -1);
    rc = kt_cgroup_add(NULL, 1, &err);
    check_int(rc, ==, -1);
    rc = kt_cgroup_read(NULL, KT_CG_CPUS, buf, sizeof(buf), &err);
    check_int(rc, ==, -1);
    rc = kt_cgroup_destroy(NULL, &err);
    check_int(rc, ==, 0);
    check(kt_cgroup_version(NULL) == KT_CG_NONE);
}

int main(void)
{
    TEST(t_files(), "knob file names per version");
    TEST(t_weights(), "v1 shares <-> v2 weight, the kernel's formula both ways");
    TEST(t_mountinfo(), "mountinfo: hybrid, co-mounted v1, pure v2, neither");
    TEST(t_mountinfo_linear(), "mountinfo: lines without a separator skipped in linear time");
    TEST(t_names(), "unique names and bad names, and the creator read back");
    TEST(t_stat_start(), "a process's start time from /proc/<pid>/stat");
    TEST(t_live(), "create, weight, cpus, move a worker, read back, remove");
    TEST(t_hooks(), "rmdir_at_exit hears every directory; its failure fails the creation");
    TEST(t_nested(), "nested groups: where, the hooks, v1 cpusets, a worker in a leaf, the v2 rule, destroy");
    TEST(t_set_max(), "bandwidth cap: both spellings, no cap, ranges, a child's cap changed");
    TEST(t_sweep(), "groups of dead creators removed, live and busy ones left");
    TEST(t_v2_namespace(), "v2 detected by statfs magic; the sweep on v2; a missing v2 controller is named");
    TEST(t_not_root(), "not root: EPERM with the reason");
    TEST(t_bad_args(), "NULL groups and bad names are refused");
    return test_done();
}
