#!/usr/bin/perl
# The workload library's C tests speak TAP that prove 3.44 accepts: a plan,
# no parse errors, and skip reasons (errno text) parsed as SKIP directives.
use strict;
use warnings;
use Test::More;
use TAP::Parser;

my @bins = grep { -x } map { "build/tests/$_.t" } qw(hist cgroup work_kinds work_knobs);
plan skip_all => 'build/tests not built (run make)' unless @bins;
plan tests => 3 * @bins;

for my $bin (@bins) {
    my $p = TAP::Parser->new({ exec => [$bin], merge => 0 });
    my ($tests, $bad_skips) = (0, 0);
    while (my $r = $p->next) {
        next unless $r->is_test;
        $tests++;
        # A skipped point must be "ok" and carry its reason.
        $bad_skips++ if $r->has_skip && (!$r->is_ok || $r->explanation eq '');
    }
    is(scalar $p->parse_errors, 0, "$bin: no TAP parse errors")
        or diag(join "\n", $p->parse_errors);
    is($tests, $p->tests_planned, "$bin: plan matches the points");
    is($bad_skips, 0, "$bin: skips are ok points with a reason");
}
