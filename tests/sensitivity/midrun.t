#!/usr/bin/perl
# Sensitivity of the mid-run change scenarios: break each property from
# outside, as a faulty scheduler would (a task left outside its new
# cpuset, a task that never spreads, a task starved through the churn, a
# weight or a nice or a policy never taken), and check the scenario
# fails on the claim that names it.
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../lib";
use KtTest qw(:DEFAULT check_caught);

my $scn = 'build/scenarios/midrun.t';
my $fault = 'build/tests/progs/fault';
plan skip_all => "$scn or $fault is not built (run make)" unless -x $scn && -x $fault;
plan skip_all => 'the cpuset scenarios need root' unless $> == 0;
my @cpus = allowed_cpus();
plan skip_all => 'needs 2 CPUs' unless @cpus >= 2;
my ($first, $last) = ($cpus[0], $cpus[-1]);
# The fault is what is measured here: strict mode judges the claims even
# when something else on the machine took CPU time meanwhile (which the
# rule would call inconclusive, README: On a busy machine).
$ENV{KTSTR_STRICT} = 1;

# The root of the cpuset controller's hierarchy (v2: the unified one):
# a task moved there leaves every scratch cpuset.
sub cpuset_root {
    for my $line (split /\n/, slurp('/proc/self/mountinfo')) {
        my ($pre, $post) = split / - /, $line, 2;
        next unless defined $post;
        my $mp = (split ' ', $pre)[4];
        my ($fstype, undef, $sopts) = split ' ', $post;
        return $mp if $fstype eq 'cgroup2' && $mp eq '/sys/fs/cgroup';
        return $mp if $fstype eq 'cgroup' && grep { $_ eq 'cpuset' } split /,/, $sopts;
    }
    return undef;
}
my $root = cpuset_root();
plan skip_all => 'no cpuset hierarchy' unless $root;

# ktw0 leaves the group's cpuset before the change: the narrowed set
# never reaches it, and with a CPU idle it runs there.
check_caught(bin => $scn, scenario => 'cpuset_apply_midrun',
             faults => [['move', 'ktw0', $root], ['pin', 'ktw0', $first]],
             label => 'ktw0.cpus_after', why => 'ktw0 moved out of the cpuset, on the first CPU');
# Every worker held on the last CPU by its own mask: clearing the cpuset
# frees nothing.
check_caught(bin => $scn, scenario => 'cpuset_clear_midrun',
             faults => [ map { (['move', "ktw$_", $root], ['pin', "ktw$_", $last]) } 0 .. $#cpus ],
             label => 'ktw0.allowed_after', why => 'every worker pinned to the last CPU');
check_caught(bin => $scn, scenario => 'cpuset_resize_midrun',
             faults => [['move', 'ktw0', $root], ['pin', 'ktw0', $first]],
             label => 'ktw0.cpus_shrunk', why => 'ktw0 moved out of the cpuset, on the first CPU');
check_caught(bin => $scn, scenario => 'cpuset_swap_midrun',
             faults => [['move', 'ktw0', $root], ['pin', 'ktw0', $first]],
             label => 'ktw0.cpus_after', why => 'ktw0 kept on the first CPU through the swap');
# One worker held off every CPU for a second in the middle of the churn.
check_caught(bin => $scn, scenario => 'affinity_churn', victim => 'ktw0',
             faults => sub { (['--hold-ms', 1000, 'freeze', 'ktw0']) },
             label => 'max_gap_ms_worst', why => 'ktw0 frozen for 1 s');
check_caught(bin => $scn, scenario => 'cgroup_churn', victim => 'ktw0',
             faults => sub { (['--hold-ms', 1000, 'freeze', 'ktw0']) },
             label => 'max_gap_ms_worst', why => 'ktw0 frozen for 1 s');
# The moved worker at nice 19 takes almost nothing of the heavy group.
check_caught(bin => $scn, scenario => 'cg_move_gets_share', faults => [['renice', 'ktw2', 19]],
             label => 'ratio_after', why => 'the moved worker reniced to 19');
# The moved worker at nice 19 takes almost nothing of A1 after the move.
check_caught(bin => $scn, scenario => 'cg_nested_move', faults => [['renice', 'ktw1', 19]],
             label => 'ratio_after', why => 'the moved worker reniced to 19');
# Both at nice 5 after the change: the new nice buys nothing.
check_caught(bin => $scn, scenario => 'renice_midrun', faults => [['renice', 'ktw0', 5]],
             label => 'ratio_after', why => 'the other worker reniced to 5 too');
# A higher FIFO priority already on the CPU: the change cannot take it.
check_caught(bin => $scn, scenario => 'policy_midrun', faults => [['fifo', 'ktw1', 50]],
             label => 'fifo_share_after', why => 'ktw1 SCHED_FIFO 50 before the change');

done_testing();
