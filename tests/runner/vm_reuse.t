#!/usr/bin/env perl
# One guest for many points (README: VM mode): the points of a program
# that ask for the same guest run in one boot; a point that panics, times
# out or leaves the guest unclean ends it, and the next point boots a new
# one; KTSTR_VM_REUSE=0 boots one per point. Each point's vm: boot says
# which boot of the run it ran in. A boot that TCG's stale int3 spoils is
# booted again (a note says so), so boots are compared, not counted from
# 1. Skips without a kernel or QEMU.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use KtTest;
use Test::More;

my $bin = 'build/tests/progs/vm_cases';
my $kernel = guest_kernel();
if (my $why = guest_missing()) { plan skip_all => $why }

my %env = (KTSTR_KERNEL => $kernel, KTSTR_VM => undef, KTSTR_TOPOLOGY => undef,
           KTSTR_ACCEL => undef, KTSTR_QEMU => undef, KTSTR_SHARD => undef,
           KTSTR_VM_REUSE => undef);

# The points of one run of the given filters, by name.
sub run_points {
    my ($filters, %extra) = @_;
    my $r = run_prog(prog => $bin, args => [ map { ('--filter', $_) } @$filters ],
                     env => { %env, %extra });
    my %by = map { $_->{name} => $_ } points_of($r->{out});
    return ($r, \%by);
}

sub boot_of { my ($pt) = @_; return yaml_at($pt, 'vm', 'boot') // 'none' }

{
    # The second point panics the guest; the first and third pass.
    my ($r, $p) = run_points([qw(reuse_pass reuse_panic reuse_after)]);
    ok($p->{reuse_pass} && $p->{reuse_pass}{ok}, 'the first point is ok') or diag($r->{out});
    ok($p->{reuse_panic} && !$p->{reuse_panic}{ok}, 'the panicking point is not ok');
    is(yaml_at($p->{reuse_panic}, 'severity'), 'panic', 'severity panic');
    is(boot_of($p->{reuse_panic}), boot_of($p->{reuse_pass}), 'it ran in the same guest as the first');
    my $console = yaml_at($p->{reuse_panic}, 'console');
    ok(ref $console eq 'ARRAY' && grep({ /Kernel panic - not syncing/ } @$console),
       'its console holds the panic') or diag($r->{out});
    ok(ref $console eq 'ARRAY' && !grep({ /Run \/init as init process/ } @$console),
       'and only its own part of the console (not the boot the first point saw)');
    ok($p->{reuse_after} && $p->{reuse_after}{ok}, 'the third point is ok') or diag($r->{out});
    cmp_ok(boot_of($p->{reuse_after}), '>', boot_of($p->{reuse_panic}), 'in a freshly booted guest');
    is($r->{exit}, 1, 'exit status 1 (one point not ok)');
}
{
    # A scheduler and a cgroup in one point: neither is there in the next.
    my ($r, $p) = run_points([qw(reuse_sched_cgroup reuse_clean)]);
    ok($p->{reuse_sched_cgroup} && $p->{reuse_sched_cgroup}{ok},
       'a point under builtin:fifo with a cgroup of its own is ok') or diag($r->{out});
    is(yaml_at($p->{reuse_sched_cgroup}, 'scheduler', 'name'), 'ktstr_fifo', 'the scheduler ran')
        or diag($r->{out});
    ok($p->{reuse_clean} && $p->{reuse_clean}{ok},
       'the next point sees sched_ext disabled and no ktstr cgroup') or diag($r->{out});
    is(boot_of($p->{reuse_clean}), boot_of($p->{reuse_sched_cgroup}), 'in the same guest');
    is($r->{exit}, 0, 'exit status 0');
}
{
    # A point that leaves a cgroup behind: the guest says so and the next
    # point boots a new one.
    my ($r, $p) = run_points([qw(reuse_leak_cgroup reuse_pass)]);
    ok($p->{reuse_leak_cgroup} && $p->{reuse_leak_cgroup}{ok}, 'the leaking point itself is ok');
    ok(grep({ m{not kept for the next point: the point left the cgroup /sys/fs/cgroup/leaked-by-a-point behind} }
            @{ yaml_at($p->{reuse_leak_cgroup}, 'notes') || [] }),
       'its notes say why the guest was not kept') or diag($r->{out});
    cmp_ok(boot_of($p->{reuse_pass}), '>', boot_of($p->{reuse_leak_cgroup}),
           'the next point ran in a new guest');
    ok($p->{reuse_pass} && $p->{reuse_pass}{ok}, 'and is ok');
}
{
    # A timeout ends the guest too.
    my ($r, $p) = run_points([qw(vm_hang reuse_pass)]);
    is(yaml_at($p->{vm_hang}, 'severity'), 'timeout', 'a hanging point times out');
    cmp_ok(boot_of($p->{reuse_pass}), '>', boot_of($p->{vm_hang}), 'the next point ran in a new guest');
    ok($p->{reuse_pass} && $p->{reuse_pass}{ok}, 'and is ok') or diag($r->{out});
}
{
    # Another shape, another guest; the same shape again, another too.
    my ($r, $p) = run_points([qw(reuse_pass reuse_after reuse_other_shape)]);
    is(boot_of($p->{reuse_after}), boot_of($p->{reuse_pass}), 'two points of one shape share a boot')
        or diag($r->{out});
    cmp_ok(boot_of($p->{reuse_other_shape}), '>', boot_of($p->{reuse_after}),
           'a 1-vCPU point boots its own');
    is(yaml_at($p->{reuse_other_shape}, 'vm', 'topology'), '1n1l1c1t', 'with its topology');
}
{
    # KTSTR_VM_REUSE=0 and --vm-reuse 0: one guest per point, as before.
    for my $how ([ 'KTSTR_VM_REUSE=0', [], { KTSTR_VM_REUSE => '0' } ],
                 [ '--vm-reuse 0', [ '--vm-reuse', '0' ], {} ]) {
        my ($name, $args, $extra) = @$how;
        my $r = run_prog(prog => $bin,
                         args => [ @$args, map { ('--filter', $_) } qw(reuse_pass reuse_after) ],
                         env => { %env, %$extra });
        my %p = map { $_->{name} => $_ } points_of($r->{out});
        cmp_ok(boot_of($p{reuse_after}), '>', boot_of($p{reuse_pass}),
               "$name: each point boots its own guest") or diag($r->{out});
        ok($p{reuse_after} && $p{reuse_after}{ok}, "$name: and passes");
    }
    my $r = run_prog(prog => $bin, args => [ '--filter', 'reuse_pass' ],
                     env => { %env, KTSTR_VM_REUSE => 'yes' });
    is($r->{exit}, 2, 'a bad KTSTR_VM_REUSE is a usage error');
    like($r->{err}, qr/KTSTR_VM_REUSE 'yes': must be 0 or 1/, 'naming it');
    $r = run_prog(prog => $bin, args => [ '--vm-reuse', '2', '--filter', 'reuse_pass' ], env => \%env);
    is($r->{exit}, 2, 'a bad --vm-reuse is a usage error');
    like($r->{err}, qr/--vm-reuse '2': must be 0 or 1/, 'naming it');
}
done_testing();
