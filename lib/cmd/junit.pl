#!/usr/bin/perl
# ktstr run --junit: the TAP each scenario file printed (saved by prove
# under PERL_TEST_HARNESS_DUMP_TAP) as one JUnit XML file, written by
# Debian's TAP::Formatter::JUnit (libtap-formatter-junit-perl). A point
# skipped (a requirement, an inconclusive run) is a <skipped> testcase with
# its reason; a "not ok" carries its line and YAML as the failure text.
#
#   junit.pl OUT.xml NAME=TAPFILE...
use strict;
use warnings;
use TAP::Harness;
use TAP::Formatter::JUnit;

die "usage: junit.pl OUT.xml NAME=TAPFILE...\n" unless @ARGV >= 2;
my ($out, @pairs) = @ARGV;

# The formatter marks only bogus points; a skip is a testcase of its own
# kind in JUnit, so it is marked too.
{
    no warnings 'redefine';
    my $orig = \&TAP::Formatter::JUnit::Session::_check_for_test_bogosity;
    *TAP::Formatter::JUnit::Session::_check_for_test_bogosity = sub {
        my ($self, $result) = @_;
        my $bogus = $orig->(@_);
        return $bogus if $bogus;
        return { level => 'skipped', type => 'skipped', message => $result->result->explanation }
            if $result->result->has_skip;
        return;
    };
}

open(my $fh, '>', "$out.tmp") or die "junit: $out.tmp: $!\n";
binmode($fh, ":encoding(UTF-8)");
my $harness = TAP::Harness->new({ formatter_class => 'TAP::Formatter::JUnit',
                                  exec => ['cat'], stdout => $fh, merge => 0 });
$harness->runtests(map { my ($n, $f) = split /=/, $_, 2; [$f, $n] } @pairs);
close($fh) or die "junit: $out.tmp: $!\n";
rename("$out.tmp", $out) or die "junit: rename to $out: $!\n";
