#!/usr/bin/perl
# tests/power.pl on a scenario whose threshold is known (power_stub in
# tests/progs/cases.c: a claim that ktw0's nice is at most 2, so a renice
# by 3 or more is caught every time and by 2 never): the bisection must
# find 3, stop early at a size it misses, say so when nothing is caught,
# count false alarms from a soak file with the Wilson bound, and refuse
# bad input naming it.
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use FindBin;
use lib "$FindBin::Bin/../lib";
use KtTest;

my $cases = 'build/tests/progs/cases';
plan skip_all => "$cases or $KtTest::FAULT is not built (run make)"
    unless -x $cases && -x $KtTest::FAULT;
my $dir = tempdir(CLEANUP => 1);

sub rows_file {
    my ($name, $sizes, $start) = @_;
    $start = defined $start ? "start => $start," : '';
    my $f = "$dir/$name.pl";
    open(my $fh, '>', $f) or die "$f: $!";
    print $fh <<"ROW";
({ scenario => 'power_stub', bin => '$cases', fault => 'renice', unit => 'nice',
   sizes => [$sizes], $start labels => qr/^stub_nice\$/, victim => 'ktw0',
   args => sub { (['renice', 'ktw0', \$_[0]]) } });
ROW
    close($fh);
    return $f;
}

sub power {
    my (@args) = @_;
    return run_prog(prog => 'perl', args => ['tests/power.pl', @args],
                    env => { KTSTR_VM => undef });
}

# The soak's raw file: 40 healthy runs of power_stub, one not ok, two
# inconclusive (not counted), one skip (not counted).
my $soak = "$dir/soak.raw";
open(my $sf, '>', $soak) or die "$soak: $!";
print $sf "point\tidle\tpower_stub\tok\n" for 1 .. 39;
print $sf "point\tidle\tpower_stub\tnot ok\n";
print $sf "point\tstress\tpower_stub\tinconclusive\n" for 1 .. 2;
print $sf "point\tstress\tpower_stub\tskip\n";
print $sf "idle\tpower_stub\tstub_nice\tat_most\t2\t0\n";
close($sf);

my $r = power('--trials', 3, '--rows', rows_file('known', '1, 2, 3, 4, 5, 6, 7, 8'),
              '--soak', $soak);
is($r->{exit}, 0, 'power.pl runs the stub row') or diag($r->{out}, $r->{err});
like($r->{out}, qr{^power: power_stub renice 3nice caught 3/3 false_alarms 1/40$}m,
     'it finds the known threshold, 3, caught in 3 of 3, with 1 false alarm in 40 runs');
# 2 is missed at once: one miss of 3 trials already rules out 95%
like($r->{out}, qr{^\| power_stub \| renice \| 3nice \| 3/3 \| 2nice 0/1 \| 1/40 \| 0\.129 \| \d+ \|$}m,
     'the table: the next smaller size stopped after one miss; the Wilson 95% bound of 1/40 is 0.129');

# A start at the answer costs two sizes: it, caught, and the one below,
# missed; a start off the answer still finds it.
$r = power('--trials', 2, '--rows', rows_file('start', '1, 2, 3, 4, 5, 6, 7, 8', 3));
is_deeply([ $r->{err} =~ /^# power: power_stub (\d+)nice: /mg ], [3, 2],
          'start 3: size 3, then 2, and no other') or diag($r->{err});
like($r->{out}, qr{^power: power_stub renice 3nice caught 2/2 }m, 'and the answer is 3');
$r = power('--trials', 2, '--rows', rows_file('start_off', '1, 2, 3, 4, 5, 6, 7, 8', 7));
like($r->{out}, qr{^power: power_stub renice 3nice caught 2/2 }m, 'start 7: the answer is still 3')
    or diag($r->{err});
$r = power('--rows', rows_file('start_bad', '1, 2, 3', 5));
like($r->{err}, qr{power_stub: start 5 is not one of its sizes}, 'a start not among the sizes is refused');

$r = power('--trials', 2, '--rows', rows_file('weak', '1, 2'), '--soak', "$dir/none");
is($r->{exit}, 0, 'a row never caught is a result, not an error') or diag($r->{err});
like($r->{out}, qr{^power: power_stub renice none caught 0/1 false_alarms 0/0$}m,
     'nothing caught up to the largest size: "none", with the largest size\'s count');
like($r->{out}, qr{\| none \(up to 2nice\) \| 0/1 \| - \| 0/0 \| 1\.000 \|},
     'the table says up to which size; no healthy runs: 0/0, and the bound says nothing (1)');

$r = power('--rows', rows_file('known', '1, 2, 3'), '--only', 'no_such_scenario');
is($r->{exit}, 255, '--only naming no row is an error');
like($r->{err}, qr{--only no_such_scenario: no such row}, 'naming the name');
$r = power('--trials', 0);
like($r->{err}, qr{--trials must be at least 1, not 0}, '--trials 0 is refused, naming it');
$r = power('--rows', rows_file('down', '3, 2'));
like($r->{err}, qr{power_stub: sizes must ascend}, 'sizes out of order are refused');

# A row whose fault is its scheduler runs in guests; on the host it is
# refused, and a row with neither fault arguments nor a scheduler too.
my $f = "$dir/sched_row.pl";
open(my $fh, '>', $f) or die "$f: $!";
print $fh "({ scenario => 'power_stub', bin => '$cases', fault => 'lazy', unit => 'ms',\n"
        . "   sizes => [1], labels => qr/x/, scheduler => sub { \"builtin:lazy:\$_[0]\" } });\n";
close($fh);
$r = power('--rows', $f);
like($r->{err}, qr{power_stub: a scheduler row runs in guests only}, 'a scheduler row on the host is refused');
open($fh, '>', $f) or die "$f: $!";
print $fh "({ scenario => 'power_stub', bin => '$cases', fault => 'x', unit => 'ms',\n"
        . "   sizes => [1], labels => qr/x/ });\n";
close($fh);
$r = power('--rows', $f);
like($r->{err}, qr{a row \(power_stub\) has no args}, 'a row with no fault is refused, naming it');

done_testing();
