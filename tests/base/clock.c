/* lib/base/clock.h: ns conversions, the clocks every layer stamps with,
 * and sleeps that a signal does not cut short. Only lower bounds on
 * elapsed time are claimed: a busy machine may sleep longer, never less. */
#include "harness/unit.h"

#include "base/clock.h"
#include "ktstr/work.h"

#include <signal.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

static void t_convert(void)
{
    struct timespec ts = { 3, 999999999 };

    check_uint(kt__ts_ns(ts), ==, 3999999999ull);
    ts = kt__ns_ts(12345678901ull);
    check_int(ts.tv_sec, ==, 12);
    check_int(ts.tv_nsec, ==, 345678901);
    check_uint(kt__ts_ns(kt__ns_ts(0)), ==, 0);
}

static void t_clocks(void)
{
    struct timespec ts;
    uint64_t a, b, c0, c1, mono;
    volatile uint64_t x = 0;

    a = kt__mono_ns();
    clock_gettime(CLOCK_MONOTONIC, &ts);
    mono = kt__ts_ns(ts);
    b = kt__mono_ns();
    check_uint(a, <=, mono);
    check_uint(mono, <=, b);
    check_uint(kt_now_ns(), >=, b);          /* the public clock is the same one */
    c0 = kt__thread_cpu_ns();
    while (kt__thread_cpu_ns() - c0 < 2000000)  /* spin 2 ms of CPU */
        x++;
    c1 = kt__thread_cpu_ns();
    check_uint(c1 - c0, >=, 2000000);
    check_uint(kt__clock_ns(CLOCK_REALTIME), >, 1500000000ull * 1000000000ull);
    check_uint(kt__clock_ns((clockid_t)0x7fff), ==, 0);   /* no such clock */
}

static volatile sig_atomic_t alarms;

static void on_alarm(int sig)
{
    (void)sig;
    alarms++;
}

/* SIGALRM every 2 ms, without SA_RESTART, so a sleep sees EINTR. */
static void alarm_every_2ms(bool on)
{
    struct itimerval it = { { 0, on ? 2000 : 0 }, { 0, on ? 2000 : 0 } };
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on ? on_alarm : SIG_DFL;
    sigaction(SIGALRM, &sa, NULL);
    setitimer(ITIMER_REAL, &it, NULL);
}

static void t_sleeps(void)
{
    uint64_t t0, t1;

    t0 = kt__mono_ns();
    kt__sleep_ns(3000000);
    check_uint(kt__mono_ns() - t0, >=, 3000000);
    t0 = kt__mono_ns();
    kt__sleep_until_ns(t0 + 3000000);
    check_uint(kt__mono_ns() - t0, >=, 3000000);
    t0 = kt__mono_ns();
    kt__sleep_until_ns(t0 - 1000000);        /* past: returns at once */
    check_uint(kt__mono_ns() - t0, <, 1000000000);

    alarms = 0;
    alarm_every_2ms(true);
    t0 = kt__mono_ns();
    kt__sleep_ns(30000000);
    t1 = kt__mono_ns();
    check_uint(t1 - t0, >=, 30000000);
    kt__sleep_until_ns(t1 + 30000000);
    check_uint(kt__mono_ns() - t1, >=, 30000000);
    t1 = kt__mono_ns();
    kt_sleep_ms(30);
    check_uint(kt__mono_ns() - t1, >=, 30000000);
    alarm_every_2ms(false);
    check_int(alarms, >=, 3);                /* the signals did arrive meanwhile */
}

int main(void)
{
    TEST(t_convert(), "timespec <-> ns");
    TEST(t_clocks(), "monotonic, thread CPU and any clock in ns; 0 for a clock that cannot be read");
    TEST(t_sleeps(), "sleeps for and until, whole even under a stream of signals");
    return test_done();
}
