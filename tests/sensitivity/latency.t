#!/usr/bin/perl
# Sensitivity of the latency scenarios (scenarios/latency.c): while each
# one runs, build/tests/progs/fault starves one of its woken threads the
# way a faulty scheduler would (pins it to a CPU, then lets a SCHED_FIFO
# thread hold that CPU for 1.8 s, or turns the spinner pinned there
# SCHED_FIFO), and the scenario must fail naming its latency claim, not
# merely fail.
#
# RT throttling (sched_rt_runtime_us 950000 of 1000000, served by the fair
# server on recent kernels) leaves the starved thread 50 ms per second, so
# a wake waits up to 950 ms. Where those 50 ms fall is not ours to choose:
# with a 1 s hog one stall could be as short as ~475 ms (seen: 504 ms), so
# the hog holds 1.8 s, which leaves one stall of at least ~800 ms, ending
# (and so recorded) before the scenario's 2 s window closes. Measured
# under these faults in 40 runs (half with the other CPU busy): 820 to
# 1880 ms, against max bounds of 400 ms.
#
# KT_SENS_REPEAT=N runs every case N times (default 1).
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use FindBin;
use lib "$FindBin::Bin/../lib";
use KtTest;

my $bin = 'build/scenarios/latency.t';
my $fault = 'build/tests/progs/fault';
plan skip_all => "$bin or $fault is not built (run make)" unless -x $bin && -x $fault;

my $dir = tempdir(CLEANUP => 1);
my $repeat = sens_repeat();

# The CPUs this process may use, in order: the faults pick the first, and
# the loaded scenario pins its first spinner (ktw2) to the same one.
my ($cpu) = allowed_cpus();
plan skip_all => 'cannot read Cpus_allowed_list from /proc/self/status' unless defined $cpu;

# Each case: the scenario, the faults run one after another once it
# started (--under PID is added to those that name a thread), and the
# label of the latency claim that must fail.
my @cases = (
    { name => 'lat_wakeup_idle', label => 'wake_max_us',
      faults => [ [ 'pin', 'ktw1', $cpu ], [ '--hold-ms', 1800, 'hog', $cpu, 50 ] ] },
    { name => 'lat_wakeup_loaded', label => 'wake_max_us',
      faults => [ [ 'pin', 'ktw1', $cpu ], [ 'fifo', 'ktw2', 50 ] ] },
    { name => 'lat_timer_periodic', label => 'late_max_us',
      faults => [ [ 'pin', 'ktw0', $cpu ], [ '--hold-ms', 1800, 'hog', $cpu, 50 ] ] },
    { name => 'wake_fanout', label => 'wake_max_us_worst',
      faults => [ [ 'pin', 'ktw1', $cpu ], [ '--hold-ms', 1800, 'hog', $cpu, 50 ] ] },
);

# The names are contract: users and the calibration tool filter on them.
is_deeply([ split /\n/, `$bin --list` ], [ map { $_->{name} } @cases ],
          'the latency scenarios, in source order, are the ones faulted here');

# Runs one fault (--under PID is added to those that name a thread);
# returns its exit status and what it said.
sub fault_under {
    my ($pid, @args) = @_;
    return run_fault(args => \@args,
                     ($args[0] =~ /^(pin|fifo|renice|other|move|stop)$/ ? (under => $pid) : ()));
}

for my $c (@cases) {
    for my $round (1 .. $repeat) {
        my $what = "$c->{name} (run $round)";
        my $pid = start_scenario(bin => $bin, scenario => $c->{name}, out => "$dir/out",
                                 err => "$dir/err");
        my ($st, $said) = (0, '');
        for my $f (@{ $c->{faults} }) {
            ($st, $said) = fault_under($pid, @$f);
            last if $st;
        }
        waitpid($pid, 0);
        my $pt = point_of(slurp("$dir/out"));
        SKIP: {
            skip "$what: the fault could not be applied: $said", 3 if $st;
            skip "$what: no test point (stderr: " . slurp("$dir/err") . ')', 3 unless $pt;
            skip "$what: $pt->{reason}", 3 if ($pt->{directive} // '') eq 'SKIP';
            ok(!$pt->{ok}, "$what: fails under the fault");
            my @fails = @{ $pt->{failures} };
            my ($hit) = grep { $_->{label} eq $c->{label} } @fails;
            ok($hit, "$what: the failure names $c->{label}")
                or diag('failures: ' . join('; ', map { $_->{message} } @fails));
            note("$what: $hit->{message}") if $hit;
            like($hit ? $hit->{message} : '', qr/^\Q$c->{label}\E: expected at most \S+, was \S+$/,
                 "$what: its message says the bound and the value");
        }
    }
}

done_testing();
