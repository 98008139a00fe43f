#!/usr/bin/perl
# Sensitivity of the placement scenarios (scenarios/placement.c), in
# guests of the shape each asks for: break each placement from inside the
# guest (KTSTR_GUEST_FAULT runs build/tests/progs/fault beside the body)
# and check that the point
# fails on the claim that names the placement.
#
#   smt_spread       both spinners pinned to the two threads of core 0
#                    (its own 1n1l2c2t guest; the others share one
#                    2n2l1c2t guest: CPUs 0-1 are core, LLC and node 0)
#   llc_wake_affine  the wakee pinned into the other LLC (builtin:fifo does
#                    not break it: the kernel's default select_cpu follows
#                    the pipe's synchronous wakeup too)
#   llc_cache_stays  a cache worker bounced between the LLCs every 20 ms
#   numa_stays_home  a cache worker bounced between the nodes every 20 ms
#   vcpu_hotplug     a spinner frozen for a second across the unplug
#
# Skips with the reason when there is no guest kernel or no QEMU.
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../lib";
use KtTest;

my $scen = 'build/scenarios/placement.t';
my $fault = 'build/tests/progs/fault';
plan skip_all => "$scen or $fault is not built (run make)" unless -x $scen && -x $fault;
if (my $why = guest_missing()) { plan skip_all => $why }

my %env = (KTSTR_KERNEL => guest_kernel(), KTSTR_VM => undef, KTSTR_TOPOLOGY => undef,
           KTSTR_ACCEL => undef, KTSTR_QEMU => undef, KTSTR_FILTER => undef,
           KTSTR_SCHEDULER => undef, KTSTR_SCHED_FAULT => undef, KTSTR_GUEST_FAULT => undef,
           KTSTR_SHARD => undef, KTSTR_STRICT => 1);

sub caught {
    my ($name, $label, $why, %extra) = @_;
    my $r = run_prog(prog => $scen, args => ['--filter', $name], env => { %env, %extra });
    my $pt = point_of($r->{out});
    SKIP: {
        skip("$name skipped: $pt->{reason}", 2) if $pt && $pt->{skip};
        ok($pt && !$pt->{ok}, "$name: not ok when $why") or diag($r->{out}, $r->{err});
        ok((grep { $_ eq $label } @{ $pt ? $pt->{labels} : [] }), "$name: $why fails '$label'")
            or diag("failures: @{[ $pt ? @{ $pt->{msgs} } : () ]}\n", $r->{out});
    }
}

caught('smt_spread', 'smt_shared', 'both spinners are pinned to core 0',
       KTSTR_GUEST_FAULT => "$fault pin ktw0 0 ; pin ktw1 1");
caught('llc_wake_affine', 'same_llc', 'the wakee is held in the other LLC',
       KTSTR_GUEST_FAULT => "$fault pin ktw0 0 ; pin ktw1 2");
caught('llc_cache_stays', 'cross_llc_per_s_worst', 'ktw0 is bounced between the LLCs',
       KTSTR_GUEST_FAULT => "$fault --every-ms 20 --hold-ms 3000 bounce ktw0 0,2");
caught('numa_stays_home', 'cross_node_per_s_worst', 'ktw0 is bounced between the nodes',
       KTSTR_GUEST_FAULT => "$fault --every-ms 20 --hold-ms 3000 bounce ktw0 0,2");
caught('vcpu_hotplug', 'ktw0.max_gap_ms', 'ktw0 is frozen across the unplug',
       KTSTR_GUEST_FAULT => "$fault --after-ms 300 --hold-ms 1000 freeze ktw0");

# A program that is not there is a usage error naming it, before any boot.
my $r = run_prog(prog => $scen, args => ['--filter', 'smt_spread'],
                 env => { %env, KTSTR_GUEST_FAULT => '/nonexistent/fault pin ktw0 0' });
is($r->{exit}, 2, 'KTSTR_GUEST_FAULT naming a missing program: usage error (exit 2)');
like($r->{err}, qr{KTSTR_GUEST_FAULT: program '/nonexistent/fault'}, 'naming the variable and the program');

done_testing();
