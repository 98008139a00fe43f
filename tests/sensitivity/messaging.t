#!/usr/bin/perl
# Sensitivity of the messaging scenarios (scenarios/messaging.c): break
# each property from outside while the scenario runs, the way a faulty
# scheduler would, and check the scenario fails on the claim that names
# that property (not merely fails).
#
# The freezes hold one thread stopped by ptrace (build/tests/progs/fault
# freeze): off every CPU while nothing outside the scenario takes one, so
# the failure is the scheduler's and never inconclusive (README: On a
# busy machine). The victim is frozen once it has run 5 ms, early in the
# 300 ms warm-up, and held through the 1.5 s window (the messenger's
# worker) or most of it (the pipe's consumer, let go ~500 ms before the
# stop so that it drains its pipe: a message read after the stop is not
# timed).
#
# KT_SENS_REPEAT=N runs every case N times (default 1).
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../lib";
use KtTest qw(:DEFAULT check_caught);

my $scn = 'build/scenarios/messaging.t';
my $fault = 'build/tests/progs/fault';
plan skip_all => "$scn or $fault is not built (run make)" unless -x $scn && -x $fault;
# The fault is what is measured here: strict mode judges the claims even
# when something else on the machine took CPU time meanwhile (which the
# rule would call inconclusive, README: On a busy machine).
$ENV{KTSTR_STRICT} = 1;

# The names are contract: users and the calibration tool filter on them.
is_deeply([ split /\n/, `$scn --list` ],
          [qw(msg_schbench msg_pipe_mix bursty_gets_its_time preempt_storm)],
          'the messaging scenarios, in source order, are the ones faulted here');

# check_caught's arguments to freeze thread name for hold ms: a fault
# whose first word is an option needs its victim named apart.
sub freeze {
    my ($name, $hold) = @_;
    return (victim => $name, faults => sub { (['--hold-ms', $hold, 'freeze', $name]) },
            why => "$name frozen for $hold ms");
}

for my $round (1 .. sens_repeat()) {
    # ktw0 is the first messenger, ktw1 and ktw2 its workers: a round
    # waits for every reply, so ktw1 frozen holds its whole group, and its
    # requests fall far below the other workers' mean.
    check_caught(bin => $scn, scenario => 'msg_schbench', freeze('ktw1', 2000),
                 label => 'ktw1.served');

    # ktw0 writes to ktw1: ktw1 frozen, the pipe fills (8192 messages)
    # and they wait there as long as the freeze.
    for my $label (qw(ktw1.backlog_max ktw1.lat_p99_us)) {
        check_caught(bin => $scn, scenario => 'msg_pipe_mix', freeze('ktw1', 1200),
                     label => $label);
    }

    # ktw0 is the bursty worker pinned beside the spinner ktw<ncpu>: at
    # nice 19 against nice 0 it gets ~1.5 % of the CPU while both run,
    # far from the CPU time its plan drew and from its spinner's.
    for my $label (qw(ktw0.cpu_of_plan ktw0.cpu_of_spinner)) {
        check_caught(bin => $scn, scenario => 'bursty_gets_its_time',
                     faults => [['renice', 'ktw0', 19]],
                     label => $label, why => 'bursty ktw0 reniced to 19');
    }

    # ktw0 is a preempter (SCHED_FIFO as root, else nice -10): made
    # SCHED_OTHER at nice 19 it waits behind the spinners instead of
    # preempting them, late by milliseconds, and so late that it skips
    # most of its periods.
    for my $label (qw(ktw0.late_p99_us ktw0.missed_frac)) {
        check_caught(bin => $scn, scenario => 'preempt_storm',
                     faults => [['other', 'ktw0'], ['renice', 'ktw0', 19]],
                     label => $label, why => 'preempter ktw0 made SCHED_OTHER at nice 19');
    }
}

done_testing();
