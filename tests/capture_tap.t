#!/usr/bin/perl
# The capture tests' own TAP, read back with TAP::Parser: each binary must
# give a well-formed stream with a plan that matches, every point passing,
# and every skip carrying a reason (a missing kernel feature is a SKIP that
# says why, never a silent pass).
use strict;
use warnings;
use TAP::Parser;

my @bins = sort glob('build/tests/capture_*.t');
print "1.." . scalar(@bins) . "\n";
my $n = 0;
for my $bin (@bins) {
    $n++;
    my $p = TAP::Parser->new({ exec => [$bin] });
    my @bad;
    while (my $r = $p->next) {
        push @bad, "unparsable line: " . $r->as_string if $r->is_unknown && $r->as_string =~ /\S/;
        next unless $r->is_test;
        push @bad, "failed: " . $r->as_string if !$r->is_ok;
        push @bad, "skip without a reason: " . $r->as_string
            if $r->has_skip && $r->explanation !~ /\S/;
    }
    push @bad, "no plan" unless $p->plan;
    push @bad, "planned " . ($p->tests_planned // 0) . ", ran " . $p->tests_run
        if ($p->tests_planned // -1) != $p->tests_run;
    push @bad, "exit status " . $p->exit if $p->exit;
    if (@bad) {
        print "not ok $n - $bin\n";
        print STDERR "# $bin: $_\n" for @bad;
    } else {
        print "ok $n - $bin gives well-formed, passing TAP (" . $p->tests_run . " points)\n";
    }
}
exit 0;
