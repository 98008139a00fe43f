#!/usr/bin/perl
# Sensitivity of scenarios/churn.c: while each scenario runs,
# build/tests/progs/fault breaks its property from inside the point's own
# process tree (its workers, found by their ktw<N> names), the way a
# faulty scheduler would, and the scenario must fail on the claim that
# names the property. No fault here adds load from outside the point: a
# task outside it would be host starvation, which makes a failed timing
# claim inconclusive (README: On a busy machine).
#
#   churn_fork, churn_thread  the spawner ktw0 pinned to the first CPU
#                             beside the spinner there (ktw1) made
#                             SCHED_FIFO: it, and every child it starts
#                             (they inherit its mask), gets only what RT
#                             throttling leaves (50 ms a second): seen
#                             0.12-0.59 of the rate asked (bound 0.9),
#                             spawn p99 0.8 s
#   churn_pagefault           ktw0 pinned with ktw1 to the first CPU and
#                             reniced to +19: it gets ~1.5% of that CPU,
#                             seen 0.016-0.021 of the mean rate (bound 0.3)
#   cache_stays_put           ktw0 bounced over the allowed CPUs every
#                             10 ms: seen 59-79 migrations a second
#                             (bound 10) of a task that had a CPU to itself
#
# A point the host starved (other tasks took more than KTSTR_STEAL_MAX
# of the machine: other builds and tests on a shared one) comes back
# inconclusive, which says nothing of the fault: the case runs again, 3
# tries, each said in a diag; the last one is judged.
#
# KT_SENS_REPEAT=N runs every case N times (default 1).
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use FindBin;
use lib "$FindBin::Bin/../lib";
use KtTest;

my $bin = 'build/scenarios/churn.t';
my $fault = 'build/tests/progs/fault';
plan skip_all => "$bin or $fault is not built (run make)" unless -x $bin && -x $fault;

# The CPUs this process may use, in order; the scenarios inherit the
# mask and pin their first spinner (ktw1) to the first of them.
my @cpus = allowed_cpus();
plan skip_all => 'cannot read Cpus_allowed_list from /proc/self/status' unless @cpus;

# The names are contract: users and the calibration tool filter on them.
is_deeply([ split /\n/, `$bin --list` ],
          [qw(churn_fork churn_thread churn_pagefault cache_stays_put)],
          'the churn scenarios, in source order, are the ones faulted here');

# victim: the thread waited for (until it has run 5 ms) before the
# faults; a spawner takes that long to use 5 ms of CPU (a fork is
# ~100 us of it, 100 a second), so the spawn cases wait for a spinner.
my @cases = (
    { scenario => 'churn_fork', label => 'rate_of_asked', victim => 'ktw1', fifo => 1,
      faults => [ [ 'pin', 'ktw0', $cpus[0] ], [ 'fifo', 'ktw1', 10 ] ],
      why => 'the forker pinned beside a SCHED_FIFO spinner' },
    { scenario => 'churn_thread', label => 'rate_of_asked', victim => 'ktw1', fifo => 1,
      faults => [ [ 'pin', 'ktw0', $cpus[0] ], [ 'fifo', 'ktw1', 10 ] ],
      why => 'the thread spawner pinned beside a SCHED_FIFO spinner' },
    { scenario => 'churn_pagefault', label => 'rate_of_mean_worst', victim => 'ktw0',
      faults => [ [ 'pin', 'ktw0', $cpus[0] ], [ 'pin', 'ktw1', $cpus[0] ],
                  [ 'renice', 'ktw0', 19 ] ],
      why => 'ktw0 reniced to +19 and pinned with ktw1' },
    # bouncing from ~10 ms after the start until the worker exits (the
    # hold is longer than its life: a body the host delayed opens its
    # window late). On one CPU the scenario skips (nothing to migrate to),
    # and so does this case, with its reason (the bounce's usage error is
    # not judged).
    { scenario => 'cache_stays_put', label => 'migrations_per_s_worst', victim => 'ktw0',
      faults => [ [ '--hold-ms', 10000, '--every-ms', 10, 'bounce', 'ktw0', join(',', @cpus) ] ],
      why => 'ktw0 bounced over the CPUs every 10 ms' },
);

my $dir = tempdir(CLEANUP => 1);

# Runs case c once: the scenario, its faults (--under its pid) once the
# victim has run 5 ms. Returns its point (undef: none), its exit status,
# the status of the first fault that failed (0: all applied) and what the
# faults said.
sub run_case {
    my ($c) = @_;
    my $pid = start_scenario(bin => $bin, scenario => $c->{scenario}, out => "$dir/out",
                             err => "$dir/err");
    my ($frc, $log) = (-1, '');
    if (wait_victim(pid => $pid, name => $c->{victim})) {
        for my $f (@{ $c->{faults} }) {
            my ($rc, $said) = run_fault(under => $pid, args => $f);
            ($frc, $log) = ($rc, $log . $said);
            last if $rc;
        }
    }
    waitpid($pid, 0);
    return (point_of(slurp("$dir/out")), $? >> 8, $frc, $log);
}

# check_caught's three checks (one point, the faults applied, it fails on
# the label), on the last of up to 3 tries while the point is inconclusive.
sub caught {
    my ($c) = @_;
    my $name = $c->{scenario};
    my ($pt, $status, $frc, $log);
    for my $try (1 .. 3) {
        ($pt, $status, $frc, $log) = run_case($c);
        last unless $pt && $pt->{inconclusive};
        diag("$name: inconclusive (try $try): $pt->{reason}");
    }
    my $args = join(' ; ', map { "@$_" } @{ $c->{faults} });
    SKIP: {
        skip("$name skipped: $pt->{reason}", 3) if $pt && $pt->{skip};
        ok($pt, "$name: one test point") or diag(slurp("$dir/err"));
        is($frc, 0, "$name: fault $args applied") or diag($log);
        my @f = $pt ? @{ $pt->{failures} } : ();
        my ($hit) = grep { $_->{label} eq $c->{label} } @f;
        ok($pt && !$pt->{ok} && $status == 1 && $hit, "$name: $c->{why} fails '$c->{label}'")
            or diag("exit $status; failures: ",
                    join('; ', map { $_->{message} } @f) || 'none', "\n", $log,
                    slurp("$dir/out"));
        note("caught: $hit->{message}") if $hit;
    }
}

for my $c (@cases) {
    SKIP: {
        # the others pin and renice the point's own workers: no privilege
        skip("$c->{scenario}: making a thread SCHED_FIFO needs root (CAP_SYS_NICE): "
             . "effective uid is $>", 3 * sens_repeat()) if $c->{fifo} && $> != 0;
        caught($c) for 1 .. sens_repeat();
    }
}

done_testing();
