#!/usr/bin/perl
# Sensitivity of scenarios/realtime.c: break each RT promise from outside
# while the scenario runs and check the scenario fails on the claim that
# names it (not merely fails). KT_SENS_REPEAT=N runs every case N times
# (default 1).
#
# KTSTR_STRICT=1: rt_throttle_fair's share is a timing claim, and other
# jobs on a shared machine may load it past KTSTR_STEAL_MAX and turn its
# failure into an inconclusive point; here the fault, not the host, is
# what the claim must see.
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../lib";
use KtTest qw(:DEFAULT check_caught);

my $scn = 'build/scenarios/realtime.t';
my $fault = 'build/tests/progs/fault';
plan skip_all => "$scn or $fault is not built (run make)" unless -x $scn && -x $fault;
$ENV{KTSTR_STRICT} = 1;

# The names are contract: users and the calibration tool filter on them.
is_deeply([ split /\n/, `$scn --list` ], [qw(rt_periodic_deadlines rt_throttle_fair)],
          'the realtime scenarios, in source order, are the ones faulted here');

# The first CPU this process may use: the scenario's job ktw0 runs there.
my ($cpu) = allowed_cpus();
plan skip_all => 'cannot read Cpus_allowed_list from /proc/self/status' unless defined $cpu;

# rt_periodic_deadlines: a SCHED_FIFO hog one level above the jobs
# (RT_PRIO 60 in the scenario) on ktw0's CPU for 500 ms of the 1.5 s run:
# the job there misses every deadline meanwhile (~50).
for (1 .. sens_repeat()) {
    check_caught(bin => $scn, scenario => 'rt_periodic_deadlines', victim => 'ktw0',
                 faults => sub { (['--hold-ms', 500, 'hog', $cpu, 61]) },
                 label => 'missed', why => "a SCHED_FIFO 61 hog on CPU $cpu for 500 ms");
}

# rt_throttle_fair: the fair spinner ktw0 made SCHED_FIFO 1, under the RT
# spinner ktw1 (10): no reserve is kept for it any more (RT throttling
# stops both RT tasks, the fair server serves only the fair class), so it
# gets nothing. The mechanism itself cannot be switched off from here:
# sched_rt_runtime_us -1 leaves the fair server's 50 ms a second on
# 6.12+, and the server's debugfs knobs are refused under lockdown.
for (1 .. sens_repeat()) {
    check_caught(bin => $scn, scenario => 'rt_throttle_fair', victim => 'ktw1',
                 faults => sub { (['fifo', 'ktw0', 1]) },
                 label => 'fair_of_promise', why => 'the fair spinner made SCHED_FIFO 1');
}

done_testing();
