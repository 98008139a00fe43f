/* Fuzzing the workload layer's readers (tests/fuzz/fuzz.h): mountinfo, the
 * scratch cgroups' names and the start time in /proc/<pid>/stat that the
 * sweep reads back, and cpu lists. */
#include "fuzz/fuzz.h"

#include "ktstr/cgroup.h"
#include "ktstr/work.h"
#include "work/work_int.h"

#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- mountinfo ----------------------------------------------------------- */

static void seed_mountinfo(fuzz_seeds *s)
{
    /* a systemd host's table, v2 with the usual neighbours */
    fuzz_seed_str(s,
        "22 28 0:21 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw\n"
        "23 28 0:22 / /proc rw,nosuid,nodev,noexec,relatime shared:13 - proc proc rw\n"
        "24 28 0:5 / /dev rw,nosuid,relatime shared:2 - devtmpfs udev rw,size=8124452k,"
        "nr_inodes=2031113,mode=755,inode64\n"
        "25 24 0:23 / /dev/pts rw,nosuid,noexec,relatime shared:3 - devpts devpts rw,gid=5,"
        "mode=620,ptmxmode=000\n"
        "26 28 0:24 / /run rw,nosuid,nodev,noexec,relatime shared:5 - tmpfs tmpfs rw,"
        "size=1631804k,mode=755,inode64\n"
        "28 1 259:2 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p2 rw,errors=remount-ro\n"
        "29 22 0:6 / /sys/kernel/security rw,nosuid,nodev,noexec,relatime shared:8 - "
        "securityfs securityfs rw\n"
        "30 24 0:25 / /dev/shm rw,nosuid,nodev shared:4 - tmpfs tmpfs rw,inode64\n"
        "32 22 0:27 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 "
        "cgroup2 rw,nsdelegate,memory_recursiveprot\n"
        "33 22 0:28 / /sys/fs/pstore rw,nosuid,nodev,noexec,relatime shared:10 - pstore "
        "pstore rw\n"
        "36 22 0:31 / /sys/fs/bpf rw,nosuid,nodev,noexec,relatime shared:12 - bpf bpf "
        "rw,mode=700\n"
        "64 28 259:1 / /boot/efi rw,relatime shared:31 - vfat /dev/nvme0n1p1 rw,fmask=0077,"
        "dmask=0077,codepage=437,iocharset=iso8859-1,shortname=mixed,errors=remount-ro\n"
        "512 26 0:51 / /run/user/1000 rw,nosuid,nodev,relatime shared:262 - tmpfs tmpfs "
        "rw,size=1631800k,nr_inodes=407950,mode=700,uid=1000,gid=1000,inode64\n");
    fuzz_seed_str(s, "22 1 8:1 / / rw - ext4 /dev/sda1 rw\n"
                     "30 22 0:26 / /sys/fs/cgroup rw,nosuid shared:4 - cgroup2 cgroup2 "
                     "rw,nsdelegate\n");
    fuzz_seed_str(s, "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
                     "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
                     "34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset\n"
                     "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n");
    fuzz_seed_str(s, "25 20 0:22 / /sys/fs/cgroup/cpuset rw shared:5 - cgroup cgroup rw,cpuset\n"
                     "26 20 0:23 / /sys/fs/cgroup/cpu,cpuacct rw shared:6 master:1 - cgroup "
                     "cgroup rw,cpu,cpuacct");
    fuzz_seed_str(s, "30 22 0:26 / /a\\040b\\134c rw - cgroup2 none rw\n");
}

static int parse_mountinfo(const unsigned char *in, size_t n, kt_err *err)
{
    static const kt_cg_layout zero;
    kt_cg_layout l;
    const char *text = (const char *)in;
    int rc = kt_cg_parse_mountinfo(text, &l, err);

    (void)n;
    if (rc < 0) {
        if (memcmp(&l, &zero, sizeof(l)) != 0)
            fuzz_bad("a rejected table left a layout behind");
        return -1;
    }
    if (!memchr(l.cpu_root, '\0', sizeof(l.cpu_root)) ||
        !memchr(l.cpuset_root, '\0', sizeof(l.cpuset_root)))
        fuzz_bad("a root is not NUL-terminated");
    else if (l.version != KT_CG_V1 && l.version != KT_CG_V2)
        fuzz_bad("accepted with version %d", (int)l.version);
    else if (!l.cpu_root[0] || !l.cpuset_root[0])
        fuzz_bad("accepted with an empty root");
    else if (!strstr(text, l.cpu_root) || !strstr(text, l.cpuset_root))
        fuzz_bad("root \"%s\" or \"%s\" is not a mount point of the table", l.cpu_root,
                 l.cpuset_root);
    else if (l.version == KT_CG_V2 && (strcmp(l.cpu_root, l.cpuset_root) || !strstr(text, " - cgroup2 ")))
        fuzz_bad("v2 with roots \"%s\" and \"%s\"", l.cpu_root, l.cpuset_root);
    else if (l.version == KT_CG_V1 && !strstr(text, " - cgroup "))
        fuzz_bad("v1 from a table without a cgroup mount");
    return 0;
}

/* ---- scratch group names and the sweep's stat reading --------------------- */

static void seed_cg_name(fuzz_seeds *s)
{
    static const char *const names[] = { "a", "workers", "x-1-2", "ktstr-1-2-3-y", "\xff" };
    char buf[256];

    for (size_t i = 0; i < 12; i++) {
        long pid = (long)fuzz_below(4194304) + 1;
        unsigned long long start = fuzz_below(2) ? fuzz_below(100000000) : fuzz_rand();

        if (kt_cg_name(buf, sizeof(buf), pid, start, (unsigned)fuzz_below(1000),
                       names[i % (sizeof(names) / sizeof(names[0]))], NULL) == 0)
            fuzz_seed_str(s, buf);
    }
    fuzz_seed_str(s, "ktstr-9223372036854775807-18446744073709551615-4294967295-z");
}

/* The name's numbers read another way: sscanf. */
static int parse_cg_name(const unsigned char *in, size_t n, kt_err *err)
{
    const char *name = (const char *)in;
    unsigned long long start = 0, want_pid, want_start, nn;
    long pid = 0;
    int used = 0;

    (void)n;
    (void)err;
    if (kt_cg_parse_name(name, &pid, &start) < 0)
        return -1;
    if (sscanf(name, "ktstr-%llu-%llu-%llu-%n", &want_pid, &want_start, &nn, &used) != 3 ||
        used == 0 || !name[used])
        fuzz_bad("accepted a name that is not ktstr-<pid>-<start>-<n>-<name>");
    else if (pid <= 0 || (unsigned long long)pid != want_pid || start != want_start)
        fuzz_bad("pid %ld start %llu, the name says %llu %llu", pid, start, want_pid,
                 want_start);
    else if (strchr("+- \t\n", name[6]))
        fuzz_bad("accepted a sign or space before the pid");
    return 0;
}

static void seed_stat_start(fuzz_seeds *s)
{
    fuzz_seed_file(s, "tests/fixtures/stat_paren.txt");
    fuzz_seed_file(s, "tests/fixtures/stat_vcpu.txt");
}

/* Field 22 read another way: the text after the last ')' split at spaces. */
static int parse_stat_start(const unsigned char *in, size_t n, kt_err *err)
{
    const char *text = (const char *)in, *close = strrchr(text, ')');
    unsigned long long start = 0, want;
    char *copy, *tok, *save = NULL;
    int field = 3;

    (void)n;
    (void)err;
    if (kt_cg_parse_stat_start(text, &start) < 0)
        return -1;
    if (!close || !(copy = strdup(close + 1))) {
        fuzz_bad("accepted a text without ')'");
        return 0;
    }
    for (tok = strtok_r(copy, " ", &save); tok && field < 22; tok = strtok_r(NULL, " ", &save))
        field++;
    if (!tok)
        fuzz_bad("accepted a text without 22 fields");
    else if ((want = strtoull(tok, NULL, 10)) != start)
        fuzz_bad("start %llu, field 22 says %llu (\"%.30s\")", start, want, tok);
    free(copy);
    return 0;
}

/* ---- cpu lists ------------------------------------------------------------- */

static void seed_cpulist(fuzz_seeds *s)
{
    static const char *const lists[] = {
        "0", "0-3,6", "1023", "0-1023", "7,6,5,0-2", "3-3", "0,0,0",
    };
    int cpus[64];
    char buf[512];

    for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
        fuzz_seed_str(s, lists[i]);
    fuzz_seed_str(s, "0-15");            /* as /sys/devices/system/cpu/online prints them */
    fuzz_seed_str(s, "0-3,8-11");
    for (int round = 0; round < 6; round++) {
        int n = 1 + (int)fuzz_below(64), c = (int)fuzz_below(100);

        for (int i = 0; i < n; i++) {
            cpus[i] = c;
            c += fuzz_below(3) ? 1 : 1 + (int)fuzz_below(40);
            if (c >= CPU_SETSIZE)
                c = (int)fuzz_below(CPU_SETSIZE);
        }
        if (kt_cpulist_format(buf, sizeof(buf), cpus, n) == 0)
            fuzz_seed_str(s, buf);
    }
}

/* An accepted list names each CPU once, in the order given; printed with
 * kt_cpulist_format it reads back the same. */
static int parse_cpulist(const unsigned char *in, size_t n, kt_err *err)
{
    static int order[CPU_SETSIZE], again[CPU_SETSIZE];
    static char text[CPU_SETSIZE * 12];
    cpu_set_t mask, mask2;
    int count = -1, count2 = -1;
    kt_err e2;

    (void)n;
    if (kt__cpulist_parse((const char *)in, &mask, order, &count, err) < 0)
        return -1;
    if (count < 1 || count != CPU_COUNT(&mask)) {
        fuzz_bad("%d CPUs in the order, %d in the mask", count, CPU_COUNT(&mask));
        return 0;
    }
    for (int i = 0; i < count; i++)
        if (order[i] < 0 || order[i] >= CPU_SETSIZE || !CPU_ISSET(order[i], &mask)) {
            fuzz_bad("order[%d] = %d is not in the mask", i, order[i]);
            return 0;
        }
    if (kt_cpulist_format(text, sizeof(text), order, count) < 0) {
        fuzz_bad("kt_cpulist_format of %d CPUs failed", count);
        return 0;
    }
    if (kt__cpulist_parse(text, &mask2, again, &count2, &e2) < 0 || count2 != count ||
        !CPU_EQUAL(&mask, &mask2) || memcmp(order, again, (size_t)count * sizeof(int)) != 0)
        fuzz_bad("\"%.60s\" printed back does not read the same", text);
    return 0;
}

/* ---- the table --------------------------------------------------------------- */

static const fuzz_target targets[] = {
    { "mountinfo", "cgroup", true, 0, seed_mountinfo, parse_mountinfo },
    { "cg_name", NULL, true, 512, seed_cg_name, parse_cg_name },
    { "cg_stat_start", NULL, true, 4096, seed_stat_start, parse_stat_start },
    { "cpulist", "cpu list", true, 8192, seed_cpulist, parse_cpulist },
};

int main(void)
{
    return fuzz_main(targets, FUZZ_COUNT(targets));
}
