#!/usr/bin/perl
# Sensitivity of scenarios/policy.c: break each policy from outside while
# the scenario runs (as a scheduler ignoring the class would) and show the
# scenario fails on the claim that names the property. KT_SENS_REPEAT runs
# each case that many times (default 1).
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../lib";
use KtTest qw(:DEFAULT check_case);

my $scen  = 'build/scenarios/policy.t';
my $fault = 'build/tests/progs/fault';
plan skip_all => "$scen or $fault is not built (run make)" unless -x $scen && -x $fault;

# Field $n (1-based, as in proc(5)) of a thread's stat.
sub stat_field {
    my ($task, $n) = @_;
    my ($rest) = slurp("$task/stat") =~ /\)\s+(.*)$/s;
    return (split ' ', $rest // '')[$n - 3];
}

# Ready once the victim runs with its own policy (field 41: 1 FIFO, 5 IDLE).
sub has_policy {
    my ($want) = @_;
    return sub { my $p = stat_field($_[0], 41); defined $p && $p == $want };
}

# The FIFO spinner turned back to SCHED_OTHER shares the CPU half and half
# (on a crowded CPU both get little: then fifo_share is the one that fails).
check_case(bin => $scen, scenario => 'policy_fifo_preempts', want => [qw(other_share fifo_share)],
           family => qr/^(other|fifo)_share$/, victim => 'ktw1', ready => has_policy(1),
           fault => ['other', 'ktw1']);
# The SCHED_IDLE spinner turned to SCHED_OTHER gets half the CPU.
check_case(bin => $scen, scenario => 'policy_idle_yields', want => [qw(idle_share)],
           family => qr/^idle_share$/, victim => 'ktw1', ready => has_policy(5),
           fault => ['other', 'ktw1']);

done_testing();
