#!/usr/bin/perl
# Sensitivity of the cgroup scenarios: break each property from outside
# while the scenario runs, the way a faulty scheduler would, and check the
# scenario fails on the claim that names that property (not merely fails).
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../lib";
use KtTest qw(:DEFAULT check_caught);

my $scn = 'build/scenarios/cgroups.t';
my $fault = 'build/tests/progs/fault';
plan skip_all => "$scn or $fault is not built (run make)" unless -x $scn && -x $fault;

# A1's spinner (ktw0, weight 300) moved into A2 (weight 100): both share
# A2's weight and split A's half 1 : 1, not 3 : 1; A and B stay 1 : 1.
check_caught(bin => $scn, scenario => 'cg_nested_weights',
             victim => 'ktw0', faults => sub {
                 my $d = cgroup_dir($_[0], 'nestA', 'a2');
                 return $d ? (['move', 'ktw0', $d]) : ();
             },
             label => 'nested_ratio', why => "A1's spinner moved into A2");

# The cap lifted ("max": v2 cpu.max, -1: v1 cpu.cfs_quota_us) for ~1.1 s
# of the 1.5 s window (1.4 s from the warm-up's start), then put back
# before the group goes: the two spinners take ~2 CPUs
# meanwhile.
my ($version) = cpu_roots();
check_caught(bin => $scn, scenario => 'cg_bandwidth_max',
             victim => 'ktw0', faults => sub {
                 my $d = cgroup_dir($_[0], 'capped');
                 return () unless $d;
                 my ($file, $none) = $version == 2 ? ('cpu.max', 'max') : ('cpu.cfs_quota_us', '-1');
                 return (['--hold-ms', 1400, 'write', "$d/$file", $none]);
             },
             label => 'group_cpu_share', why => 'the cap lifted for most of the window');

# Every spinner pinned to the first allowed CPU: the others idle while
# they wait. Only while nothing else wants them: beside other tests'
# load (foreign_load 1.2 of 2 CPUs here) the emptied CPU does their work,
# which is work conserving too, and the fault is not seen.
my @cpus = allowed_cpus();
SKIP: {
    skip 'cg_work_conserving: needs 2 allowed CPUs to empty one', 3 if @cpus < 2;
    my $spinners = 2 * @cpus;
    check_caught(bin => $scn, scenario => 'cg_work_conserving',
                 faults => [ map { ['pin', "ktw$_", $cpus[0]] } 0 .. $spinners - 1 ],
                 label => "cpu$cpus[-1].idle", why => "every spinner pinned to CPU $cpus[0]");
}

done_testing();
