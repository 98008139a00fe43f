#!/usr/bin/perl
# Changes made mid-run reach the point's YAML (ops:): each with its
# planned and actual time and its result; a change that fails is a
# failure naming the change, the call and the errno; a bad table is a
# failure (the scenario's bug), never a skip.
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../lib";
use KtTest;

my $bin = 'build/tests/progs/cases';
my $midrun = 'build/scenarios/midrun.t';
plan skip_all => "$bin is not built (run make)" unless -x $bin;

sub run_one {
    my ($prog, $name, @more) = @_;
    my $r = run_prog(prog => $prog, args => ['--filter', $name, @more]);
    return ($r, point_of($r->{out}));
}

SKIP: {
    skip 'cgroup changes need root', 14 unless $> == 0;

    # A cpuset naming CPU 1000, after good changes: the kernel's ERANGE.
    my ($r, $pt) = run_one($bin, 'changes_bad_cpuset');
    ok($pt && !$pt->{ok} && $r->{exit} == 1, 'a cpuset naming a missing CPU: not ok, exit 1')
        or diag($r->{out}, $r->{err});
    is_deeply($pt->{labels}, ['ops[3]'], 'the one failure is the change, ops[3]');
    like($pt->{msgs}[0] // '', qr/^ops\[3\]: cpuset g0 1000 at \d+ ms \(planned 150\): .*cpuset\.cpus: .*\((ERANGE|EINVAL)\)$/,
         'its message names the change, when, the file written and the errno');
    my $ops = yaml_at($pt, 'ops') // [];
    is(scalar @$ops, 4, 'ops: lists the four changes');
    is_deeply([ map { $_->{op} } @$ops ], ['cgroup_create g0 bad', 'move ktw0 g0', 'cpuset g0 0', 'cpuset g0 1000'],
              'in their order, each named');
    is_deeply([ map { $_->{planned_ms} } @$ops ], [0, 50, 100, 150], 'with their planned times');
    ok(!grep({ !defined $_->{actual_ms} || $_->{actual_ms} < $_->{planned_ms} } @$ops),
       'each made at or after its time (actual_ms)');
    is_deeply([ map { $_->{result} } @$ops[0 .. 2] ], [qw(ok ok ok)], 'the good ones read ok');
    like($ops->[3]{result} // '', qr/\((ERANGE|EINVAL)\)$/, 'the bad one its errno');

    # A group removed twice: ENOENT from the second rmdir.
    ($r, $pt) = run_one($bin, 'changes_removed_twice');
    ok($pt && !$pt->{ok}, 'a group removed twice: not ok');
    is_deeply($pt->{labels}, ['ops[2]'], 'the failure is the second removal');
    like($pt->{msgs}[0] // '', qr/^ops\[2\]: cgroup_remove g0 at \d+ ms \(planned 100\): rmdir \S+ \(removed before\): No such file or directory/,
         'naming the change, the rmdir and the errno');
    like($pt->{msgs}[0] // '', qr/ENOENT/, 'ENOENT by name');

    # A scenario of the catalog: its cpuset change in the YAML of a pass.
    SKIP: {
        skip "$midrun is not built", 1 unless -x $midrun;
        ($r, $pt) = run_one($midrun, 'cpuset_apply_midrun');
        my $op = (yaml_at($pt, 'ops') // [])->[0] // {};
        like(($op->{op} // '') . " $op->{planned_ms} $op->{result}", qr/^cpuset g0 \d+ 400 ok$/,
             'cpuset_apply_midrun lists its change (ops:) with its time and result');
    }
}

# A bad table is the scenario's bug: a failure naming the row, not a skip.
my ($r, $pt) = run_one($bin, 'changes_bad_table');
ok($pt && !$pt->{ok} && !$pt->{skip}, 'a bad table: not ok, not a skip') or diag($r->{out});
is_deeply($pt->{msgs}, ['ops: ops[0] nice: worker 5 is not in the work set (1 workers)'],
          'the message names the row and the field');

done_testing();
