#!/usr/bin/perl
# Sensitivity of scenarios/affinity.c: break each confinement from outside
# while the scenario runs (as a scheduler ignoring the mask or the cpuset
# would) and show the scenario fails on the claims that name the property. KT_SENS_REPEAT runs
# each case that many times (default 1).
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../lib";
use KtTest qw(:DEFAULT check_case);

my $scen  = 'build/scenarios/affinity.t';
my $fault = 'build/tests/progs/fault';
plan skip_all => "$scen or $fault is not built (run make)" unless -x $scen && -x $fault;

# Where a thread goes to leave every cpuset: the cpuset hierarchy's root.
sub cpuset_root {
    return '/sys/fs/cgroup' if -e '/sys/fs/cgroup/cgroup.controllers';
    for (split /\n/, slurp('/proc/self/mountinfo')) {
        my @f = split / /;
        my ($sep) = grep { $f[$_] eq '-' } 0 .. $#f;
        next unless defined $sep && $f[$sep + 1] eq 'cgroup';
        return $f[4] if grep { $_ eq 'cpuset' } split /,/, $f[$sep + 3];
    }
    return undef;
}

# Ready once the worker sits in the scenario's cpuset (v1: the cpuset
# line, which its own move writes after the cpu one; v2: the one line).
sub in_scenario_cpuset {
    my ($task) = @_;
    return slurp("$task/cgroup") =~ m{^\d+:(?:[^:\n]*\bcpuset\b[^:\n]*)?:/ktstr-}m;
}

# The CPUs this process may run on (the scenario inherits the same mask).
my @cpus = allowed_cpus();

# Where the scenario cannot run (one CPU, no cpuset controller) it skips,
# and so does its case here, with the scenario's own reason.

# ktw0 is pinned to the first allowed CPU; pinning it to the last one is
# a migration the scenario must see, and a CPU outside ktw0's own (the
# union of all workers' CPUs stays inside the mask, so cpus_used holds).
check_case(bin => $scen, scenario => 'aff_pinned_stays',
           want => [qw(ktw0.cpus_used migrations_worst)],
           family => qr/^(ktw\d+\.)?(cpus_used|migrations|migrations_worst)$/,
           victim => 'ktw0',
           ready => sub { slurp("$_[0]/status") =~ /^Cpus_allowed_list:\s*$cpus[0]\s*$/m },
           fault => ['pin', 'ktw0', $cpus[-1]]);

# ktw0 moved into the root cpuset may run anywhere.
check_case(bin => $scen, scenario => 'aff_cpuset_isolation',
           want => [qw(cpus_allowed cpus_used)],
           family => qr/^(ktw\d+\.)?(cpus_allowed|cpus_used|migrations|migrations_worst)$/,
           victim => 'ktw0', ready => \&in_scenario_cpuset,
           fault => ['move', 'ktw0', cpuset_root() // '/nonexistent']);

done_testing();
