#!/usr/bin/perl
# kt_format_double checked from outside C: Perl reads every printed number
# back to the same double (an oracle that shares no code with num.c), the
# positional/exponent rule holds, and a ',' decimal-point locale taken
# from the environment leaves the output unchanged.
use strict;
use warnings;
use File::Temp qw(tempfile);
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../lib";
use KtTest;

my $prog = 'build/tests/progs/format_num';
plan skip_all => "$prog not built (run make)" unless -x $prog;

srand(20261126);
my @bits;
for (1 .. 20000) {
    push @bits, sprintf('%08x%08x', int(rand(2**32)), int(rand(2**32)));
}
# short decimals and the boundaries of the positional range
push @bits, map { unpack('H16', pack('d>', $_)) }
    (1, 0.5, 3.06, 500, 1e-4, 9.999e-5, 1e17, 99999999999999984, 1e21, 1e-5,
     0.1, 0.3, 2**53, 2**-1074, -0.0, 123456789012345680,
     map { int(rand(100000)) / 1000 } 1 .. 2000);

my ($fh, $input) = tempfile('ktstr-format-XXXXXX', TMPDIR => 1, UNLINK => 1);
print $fh "$_\n" for @bits;
close $fh or die "write $input: $!";

# The helper's exit status and output lines for the numbers in $input.
sub format_all {
    my (%env) = @_;
    my $run = run_prog(prog => $prog, env => \%env, stdin => $input);
    my @lines = split /^/m, $run->{out};
    chomp @lines;
    return ($run->{exit}, @lines);
}

my ($rc, @out) = format_all(LC_ALL => 'C');
is($rc, 0, 'helper exits 0');
is(scalar @out, scalar @bits, 'one line per number');

my ($bad_rt, $bad_form, $checked) = (0, 0, 0);
for my $i (0 .. $#bits) {
    my $x = unpack('d>', pack('H16', $bits[$i]));
    my $s = $out[$i] // '';
    if ($x != $x) {
        $bad_form++, diag("NaN printed as $s") if $s ne 'nan';
        next;
    }
    if ($x == 9**9**9 || $x == -9**9**9) {
        $bad_form++, diag("inf printed as $s") if $s ne ($x > 0 ? 'inf' : '-inf');
        next;
    }
    $checked++;
    # read back: same bits (so -0 stays -0)
    my $back = unpack('H16', pack('d>', $s + 0));
    $back = unpack('H16', pack('d>', -0.0)) if $s eq '-0';
    if ($back ne $bits[$i]) {
        diag("$bits[$i] printed as $s reads back as $back") if $bad_rt++ < 5;
    }
    my $a = abs($x);
    my $positional = $s =~ /^-?\d+(\.\d+)?$/;
    my $exponent   = $s =~ /^-?\d(\.\d+)?e[-+]\d\d+$/;
    my $want_pos   = $a == 0 || ($a >= 1e-4 && $a < 1e17);
    if (($want_pos && !$positional) || (!$want_pos && !$exponent)) {
        diag("$bits[$i] printed as $s: wrong form") if $bad_form++ < 5;
    }
}
is($bad_rt, 0, "$checked finite doubles read back to the same bits");
is($bad_form, 0, 'positional in [1e-4, 1e17), exponent outside, nan/inf words');

# The same numbers under a locale whose decimal point is ','.
my $comma;
for my $loc (qw(de_DE.UTF-8 de_DE.utf8 fr_FR.UTF-8 fr_FR.utf8 nl_NL.UTF-8)) {
    my $got = run_prog(prog => $prog, args => ['--locale'], env => { LC_ALL => $loc })->{out};
    if ($got =~ /^\S+ ,$/) { $comma = $loc; last }
}
SKIP: {
    skip 'no locale with a "," decimal point is installed (de_DE.UTF-8: not found; see locale -a)', 2
        unless $comma;
    my ($rc2, @out2) = format_all(LC_ALL => $comma);
    is($rc2, 0, "helper exits 0 under $comma");
    is_deeply(\@out2, \@out, "output under $comma is the C locale's");
}

done_testing();
