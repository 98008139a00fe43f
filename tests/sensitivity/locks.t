#!/usr/bin/perl
# Sensitivity of scenarios/locks.c: break each lock property from outside
# while the scenario runs, the way a faulty scheduler would, and check the
# scenario fails on the claim that names that property (not merely fails).
#
# KT_SENS_REPEAT=N runs every case N times (default 1).
#
# KTSTR_STRICT=1: a thread held by ptrace leaves the machine idle, but
# other jobs on a shared machine may load it past KTSTR_STEAL_MAX and
# turn a failed timing claim into an inconclusive point; here the fault,
# not the host, is what the claims must see.
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../lib";
use KtTest qw(:DEFAULT check_caught check_case);

my $scn = 'build/scenarios/locks.t';
my $fault = 'build/tests/progs/fault';
plan skip_all => "$scn or $fault is not built (run make)" unless -x $scn && -x $fault;
$ENV{KTSTR_STRICT} = 1;

# The names are contract: users and the calibration tool filter on them.
is_deeply([ split /\n/, `$scn --list` ], [qw(lock_mutex_fair lock_pi_boost lock_pi_inversion)],
          'the lock scenarios, in source order, are the ones faulted here');

# Ready once the thread has run 5 ms: it applied its own knobs and runs.
my $ran = sub { my ($run) = slurp("$_[0]/schedstat") =~ /^(\d+)/; defined $run && $run >= 5_000_000 };

# lock_mutex_fair: ktw0 held off every CPU for 1.4 s of the 1.8 s run (a
# scheduler that forgot one waiter) gets ~0.22 of the mean acquisitions.
# Held while it holds the lock (about one time in four here), it stalls
# every thread instead: then the longest wait (1.4 s) is what fails.
# Either is a starved waiter.
# (check_case runs it KT_SENS_REPEAT times itself.)
check_case(bin => $scn, scenario => 'lock_mutex_fair', want => [qw(acq_min_of_mean wait_max_ms)],
           family => qr/^(acq_min_of_mean|wait_max_ms|wait_p99_us_worst|ktw\d+\.acq_of_mean)$/,
           victim => 'ktw0', ready => $ran, fault => ['--hold-ms', 1400, 'freeze', 'ktw0']);

# lock_pi_boost (holder ktw0 at SCHED_FIFO 20, waiter ktw1 at 22, spinner
# ktw2 at 21, on the first CPU): the spinner raised to the waiter's 22.
# The boosted holder then queues behind it at that priority (a boost
# enqueues at the tail), so the waiter waits for the spinner's 5 ms run
# too: ~6 ms against 1 (the bound is 2.5). Raising it past the waiter (23) shows nothing:
# the waiter wakes the spinner just before it asks for the lock, so a
# spinner above it runs before the wait begins.
for (1 .. sens_repeat()) {
    check_caught(bin => $scn, scenario => 'lock_pi_boost', faults => [['fifo', 'ktw2', 22]],
                 label => 'wait_p50_ms_worst', why => 'the spinner raised to the waiter\'s priority');
}

# lock_pi_inversion: the spinner made SCHED_OTHER no longer outranks the
# holder, so the waiter waits only the hold: ~0.17 of the spin and hold.
for (1 .. sens_repeat()) {
    check_caught(bin => $scn, scenario => 'lock_pi_inversion', faults => [['other', 'ktw2']],
                 label => 'inversion_min', why => 'the spinner made SCHED_OTHER');
}

done_testing();
