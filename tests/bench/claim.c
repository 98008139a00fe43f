/*
 * What a claim costs. A passing CLAIM is compared with a bare
 * comparison-and-count loop over the same values in the same run (both
 * read from a volatile array, so neither is folded away); each figure is
 * the median of REPS repetitions, the ratio the median of per-repetition
 * ratios, so a busy neighbour on the machine moves both sides alike.
 */
#include <ktstr/verdict.h>

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define REPS 21
#define PASS_N 1000000
#define FAIL_N KT_VERDICT_MAX_FAILURES
#define VALS 1024

static double now_ns(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) {
        perror("clock_gettime");
        exit(1);
    }
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

static double median(double *x, size_t n)
{
    qsort(x, n, sizeof(*x), cmp_double);
    return x[n / 2];
}

int main(void)
{
    volatile double vals[VALS];
    double bare[REPS], pass[REPS], ratio[REPS], fail[REPS];
    kt_verdict v;
    unsigned long long count = 0;
    int r, i;

    for (i = 0; i < VALS; i++)
        vals[i] = 1.0 + (double)i / VALS;

    for (r = 0; r < REPS; r++) {
        double t0, t1, t2;
        unsigned long long n = 0;

        t0 = now_ns();
        for (i = 0; i < PASS_N; i++) {
            double x = vals[i & (VALS - 1)];

            if (x >= 1.0)
                n++;
        }
        t1 = now_ns();
        kt_verdict_init(&v);
        for (i = 0; i < PASS_N; i++) {
            double x = vals[i & (VALS - 1)];

            CLAIM(&v, x, at_least, 1.0);
        }
        t2 = now_ns();
        if (n != PASS_N || kt_verdict_claims(&v) != PASS_N || !kt_verdict_passed(&v)) {
            fprintf(stderr, "bench claim: wrong counts (%llu, %llu)\n", n,
                    (unsigned long long)kt_verdict_claims(&v));
            return 1;
        }
        kt_verdict_fini(&v);
        count += n;
        bare[r] = (t1 - t0) / PASS_N;
        pass[r] = (t2 - t1) / PASS_N;
        ratio[r] = pass[r] / bare[r];
    }

    for (r = 0; r < REPS; r++) {
        double t0, t1;

        kt_verdict_init(&v);
        t0 = now_ns();
        for (i = 0; i < FAIL_N; i++) {
            double x = vals[i & (VALS - 1)];

            CLAIM(&v, x, lt, 1.0);
        }
        t1 = now_ns();
        if (kt_verdict_failure_count(&v) != FAIL_N) {
            fprintf(stderr, "bench claim: %zu failures kept\n",
                    kt_verdict_failure_count(&v));
            return 1;
        }
        kt_verdict_fini(&v);
        fail[r] = (t1 - t0) / FAIL_N;
    }

    printf("bench: claim.pass_ratio %.2f ratio\n", median(ratio, REPS));
    printf("bench: claim.pass_ns %.2f ns\n", median(pass, REPS));
    printf("bench: claim.bare_ns %.2f ns\n", median(bare, REPS));
    printf("bench: claim.fail_ns %.0f ns\n", median(fail, REPS));
    return count ? 0 : 1;
}
