/*
 * victim: a thread for tests/power/graded_faults.t to break with fault, that
 * measures from the inside what the fault did to it.
 *
 *   victim NAME MS
 *
 * Names itself NAME (its comm, as fault finds threads), spins for MS ms of
 * wall time and prints one line on stdout:
 *
 *   victim: wall_ms W stopped_ms S gaps G fifo_ms F narrowed_ms N nice K
 *
 *   wall_ms      how long it ran, start to end (MONOTONIC)
 *   stopped_ms   the sum of the gaps longer than 1 ms between two turns of
 *                its loop: time off the CPU (stopped, frozen or preempted);
 *                gaps is their count
 *   fifo_ms      time during which sched_getscheduler() read SCHED_FIFO
 *   narrowed_ms  time during which its affinity held one CPU alone (0 when
 *                it started with one CPU only: nothing to narrow)
 *   nice         getpriority() at the end
 *
 * The loop reads the clock every turn (a gap is seen to the microsecond)
 * but asks the kernel for its policy and affinity only every 50 us of
 * clock: two system calls a turn would make the turns long enough to blur
 * the gaps. A reading holds until the next one, so fifo_ms and narrowed_ms
 * are right to 50 us per change. Exits 2 on bad arguments, 1 when a system
 * call fails.
 */
#include <ktstr.h>

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>

#define NS_PER_MS 1000000LL
#define GAP_NS    (1 * NS_PER_MS)   /* a longer turn means it was off the CPU */
#define SAMPLE_NS 50000LL           /* policy and affinity read this often */
#define MAX_MS    600000L           /* ten minutes: a test helper spins less */

static void bad(const char *what)
{
    fprintf(stderr, "victim: %s\nusage: victim NAME MS\n", what);
    exit(2);
}

/* The library's clock (CLOCK_MONOTONIC), signed for differences. */
static long long now_ns(void)
{
    return (long long)kt_now_ns();
}

/* How many CPUs this thread may run on now. */
static int cpus_allowed(void)
{
    cpu_set_t set;

    if (sched_getaffinity(0, sizeof(set), &set) < 0) {
        perror("victim: sched_getaffinity");
        exit(1);
    }
    return CPU_COUNT(&set);
}

static int is_fifo(void)
{
    int p = sched_getscheduler(0);

    if (p < 0) {
        perror("victim: sched_getscheduler");
        exit(1);
    }
    return (p & ~SCHED_RESET_ON_FORK) == SCHED_FIFO;
}

int main(int argc, char **argv)
{
    long long start, prev, sampled, end, stopped = 0, fifo = 0, narrowed = 0;
    long ms, gaps = 0;
    int was_fifo, was_narrow, can_narrow, nice;
    char *tail;

    if (argc != 3)
        bad("wants two arguments, NAME and MS");
    if (!*argv[1] || strlen(argv[1]) > 15)
        bad("NAME must be 1 to 15 characters (a comm holds 15)");
    errno = 0;
    ms = strtol(argv[2], &tail, 10);
    if (errno || tail == argv[2] || *tail || ms < 1 || ms > MAX_MS) {
        fprintf(stderr, "victim: MS '%s' is not a number of ms from 1 to %ld\n", argv[2],
                MAX_MS);
        exit(2);
    }
    if (prctl(PR_SET_NAME, argv[1], 0, 0, 0) < 0) {
        perror("victim: prctl(PR_SET_NAME)");
        return 1;
    }
    can_narrow = cpus_allowed() > 1;
    was_fifo = is_fifo();
    was_narrow = 0;
    start = prev = sampled = now_ns();
    end = start + ms * NS_PER_MS;
    for (;;) {
        long long t = now_ns();

        if (t - prev > GAP_NS) {
            stopped += t - prev;
            gaps++;
        }
        prev = t;
        if (t - sampled >= SAMPLE_NS || t >= end) {
            /* the last reading held from then to now */
            if (was_fifo)
                fifo += t - sampled;
            if (was_narrow)
                narrowed += t - sampled;
            sampled = t;
            was_fifo = is_fifo();
            was_narrow = can_narrow && cpus_allowed() == 1;
        }
        if (t >= end)
            break;
    }
    /* getpriority may return -1 as a nice value: errno tells them apart */
    errno = 0;
    nice = getpriority(PRIO_PROCESS, 0);
    if (nice == -1 && errno) {
        perror("victim: getpriority");
        return 1;
    }
    printf("victim: wall_ms %.1f stopped_ms %.1f gaps %ld fifo_ms %.1f narrowed_ms %.1f nice %d\n",
           (double)(prev - start) / NS_PER_MS, (double)stopped / NS_PER_MS, gaps,
           (double)fifo / NS_PER_MS, (double)narrowed / NS_PER_MS, nice);
    return 0;
}
