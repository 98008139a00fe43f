#!/usr/bin/perl
# The micro-VM test programs as prove's own parser reads them: a valid TAP
# stream whose plan matches, every point passing, and no point skipped
# while /dev/kvm is usable here (a broken VM must not hide as "no KVM"),
# or, where it is not, every skip naming /dev/kvm as the reason.
use strict;
use warnings;
use FindBin;
use TAP::Parser;
use Test::More;

my $build = "$FindBin::Bin/../../build/tests/microvm";
my @progs = grep { -x "$build/$_" } qw(microvm.t capture.t);
plan skip_all => "build/tests/microvm/*.t not built (run make)" unless @progs;

# Usable as the C helpers judge it: opens read-write, KVM_GET_API_VERSION
# (_IO(0xAE, 0)) answers 12.
my $kvm_ok = 0;
if (open(my $kvm, '+<', '/dev/kvm')) {
    my $ver = ioctl($kvm, 0xAE00, 0);
    $kvm_ok = defined $ver && $ver == 12;
    close $kvm;
}

for my $prog (@progs) {
    my $parser = TAP::Parser->new({ exec => ["$build/$prog"] });
    my (@failed, @skipped);
    while (my $r = $parser->next) {
        next unless $r->is_test;
        push @failed, $r->as_string unless $r->is_ok;
        push @skipped, [$r->description, $r->explanation] if $r->has_skip;
    }
    ok(!$parser->parse_errors, "$prog: TAP parses")
        or diag join("\n", $parser->parse_errors);
    cmp_ok($parser->tests_run, '>', 0, "$prog: runs points");
    is($parser->tests_run, $parser->tests_planned, "$prog: plan matches");
    is(scalar(@failed), 0, "$prog: every point passes")
        or diag join("\n", @failed);
    is($parser->exit, 0, "$prog: exit status 0");
    if ($kvm_ok) {
        is(scalar(@skipped), 0, "$prog: nothing skipped with /dev/kvm usable")
            or diag join("\n", map { "$_->[0]: $_->[1]" } @skipped);
    } else {
        my @bad = grep { $_->[1] !~ m{/dev/kvm} } @skipped;
        is(scalar(@bad), 0, "$prog: every skip names /dev/kvm")
            or diag join("\n", map { "$_->[0]: $_->[1]" } @bad);
    }
}
done_testing();
