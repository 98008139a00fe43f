#!/usr/bin/perl
# Sensitivity of the starvation scenario: a worker made SCHED_FIFO keeps
# its CPU-mates off their CPU (up to sched_rt_runtime_us of every period,
# 950 ms of 1 s by default), the way a faulty scheduler would starve them;
# the scenario must fail on the claim that names the property.
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../lib";
use KtTest qw(:DEFAULT check_caught);

my $scn = 'build/scenarios/starvation.t';
my $fault = 'build/tests/progs/fault';
plan skip_all => "$scn or $fault is not built (run make)" unless -x $scn && -x $fault;
plan skip_all => "making a thread SCHED_FIFO needs root (CAP_SYS_NICE): effective uid is $>"
    if $> != 0;

# ktw0 is a spinner pinned to the first CPU with ktw<ncpu>, a yielder and
# a duty worker: as SCHED_FIFO it starves all three.
check_caught(bin => $scn, scenario => 'starve_none', faults => [['fifo', 'ktw0', 10]],
             label => 'max_gap_ms_worst', why => 'ktw0 made SCHED_FIFO');

done_testing();
