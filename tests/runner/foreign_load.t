#!/usr/bin/perl
# foreign_load: the CPU time the rest of the machine took while a point
# ran, in CPUs' worth (/proc/stat's busy time less the point's own process
# tree), on a not ok point's YAML (the sidecar's fields are DESIGN.md's). A spinner started
# outside the point shows as about one CPU; the point's own work does not.
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../lib";
use KtTest;

my $bin = 'build/tests/progs/cases';
plan skip_all => "$bin is not built (run make)" unless -x $bin;

# timeout_group: a 1 s point (not ok: its timeout); its children sleep.
sub load_of {
    my (@args) = @_;
    my $r = run_prog(prog => $bin, args => ['--filter', 'timeout_group', @args]);
    my $pt = point_of($r->{out});
    return (yaml_at($pt, 'foreign_load'), $r);
}

my ($idle, $r) = load_of();
like($idle // '', qr/^\d+\.\d\d$/, 'a not ok point says its foreign_load') or diag($r->{out});
cmp_ok($idle // 9, q{<}, 0.5, "idle, next to nothing (was $idle)");

# One spinner outside the point's tree, for the whole point.
my ($loaded) = with_spinners(1, \&load_of);
cmp_ok($loaded // 0, '>=', 0.6, "a spinner outside the point shows as about a CPU (was $loaded)");
cmp_ok($loaded // 0, '<=', 1.5, 'and not as more');
done_testing();
