#!/usr/bin/perl
# A/B baselines (--baseline DIR, DESIGN.md section 10), end to end: run A
# writes its artifacts, run B is compared with them. For each direction
# rule a regression is caught with section 10's message and a change
# within the gate passes; the gates come from KTSTR_BASELINE_REL and
# KTSTR_BASELINE_ABS; a missing, corrupt or foreign baseline file fails
# the point naming the file. The scenario is ab_point in
# tests/progs/evidence.c: its claim values come from KT_AB_<NAME>.
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use FindBin;
use lib "$FindBin::Bin/../lib";
use KtTest;

my $bin = 'build/tests/progs/evidence';
plan skip_all => "$bin is not built (run make)" unless -x $bin;

my $dir = tempdir(CLEANUP => 1);
my %clean = map { ("KT_AB_$_" => undef) } qw(HIGHER GREATER LOWER LESS NEAR BETWEEN EQ NE);
$clean{$_} = undef for qw(KTSTR_BASELINE_REL KTSTR_BASELINE_ABS KTSTR_ARTIFACTS KTSTR_BASELINE);

# Runs ab_point (or the scenarios of filter) with the given values and
# extra environment; returns the run and its point.
sub run_ab {
    my %a = @_;
    my %env = (%clean, (map { ("KT_AB_$_" => $a{values}{$_}) } keys %{ $a{values} // {} }),
               %{ $a{env} // {} });
    my $r = run_prog(prog => $bin, env => \%env,
                     args => ['--filter', $a{filter} // 'ab_point', @{ $a{args} // [] }]);
    return ($r, $r->{out} =~ /\S/ ? point_of($r->{out}) : undef);
}

# Run A: the defaults (100, 3, 5, 4 ...), its artifacts the baseline.
my ($ra, $pa) = run_ab(args => ['--artifacts', "$dir/a"]);
ok($pa && $pa->{ok} && -f "$dir/a/ab_point.json", 'run A passes and writes its sidecar')
    or diag($ra->{out}, $ra->{err});

# Run B with the same values: no regression, and a note says what was compared.
{
    my ($r, $pt) = run_ab(args => ['--baseline', "$dir/a", '--verbose']);
    ok($pt->{ok} && $r->{exit} == 0, 'B = A: passes');
    ok((grep { $_ eq "baseline $dir/a/ab_point.json: 7 claims compared" } @{ $pt->{yaml}{notes} }),
       'B = A: a note says 7 claims were compared (ne has no direction)')
        or diag(explain($pt->{yaml}{notes}));
}

# One case per direction rule: [variable, label, B's value, message or
# undef for no regression].
my @cases = (
    [ HIGHER => higher_better => 85, 'regressed from 100 to 85 (15% worse, gate 10%)' ],
    [ HIGHER => higher_better => 95, undef ],
    [ HIGHER => higher_better => 150, undef ],
    [ GREATER => greater => 70, 'regressed from 100 to 70 (30% worse, gate 10%)' ],
    [ GREATER => greater => 91, undef ],
    [ LOWER => lower_better => 120, 'regressed from 100 to 120 (20% worse, gate 10%)' ],
    [ LOWER => lower_better => 105, undef ],
    [ LOWER => lower_better => 10, undef ],
    [ LESS => less => 111, 'regressed from 100 to 111 (11% worse, gate 10%)' ],
    [ LESS => less => 109, undef ],
    [ NEAR => near_target => 3.5, 'regressed from 3 to 3.5 (16.7% worse, gate 10%)' ],
    [ NEAR => near_target => 2.5, 'regressed from 3 to 2.5 (16.7% worse, gate 10%)' ],
    [ NEAR => near_target => 3.2, undef ],
    [ BETWEEN => in_band => 6, 'regressed from 5 to 6 (20% worse, gate 10%)' ],
    [ BETWEEN => in_band => 4, 'regressed from 5 to 4 (20% worse, gate 10%)' ],
    [ BETWEEN => in_band => 5.3, undef ],
    [ EQ => exact => 5, 'regressed from 4 to 5 (25% worse, gate 10%)' ],
    [ EQ => exact => 4.2, undef ],
    [ NE => no_direction => 1e6, undef ],
);
for my $c (@cases) {
    my ($var, $label, $b, $msg) = @$c;
    my ($r, $pt) = run_ab(values => { $var => $b }, args => ['--baseline', "$dir/a"]);
    my @hit = grep { $_->{label} eq "baseline.$label" } @{ $pt->{failures} };
    if (defined $msg) {
        ok(!$pt->{ok} && $r->{exit} == 1 && @hit == 1, "$label: $b is a regression")
            or diag($r->{out});
        is($hit[0]{message}, "baseline.$label: $msg", "$label: $b: section 10's message");
        is($hit[0]{op}, 'baseline', "$label: op baseline");
        like($r->{err}, qr/^# ab_point: baseline\.\Q$label: $msg\E \(tests\/progs\/evidence\.c:\d+\)$/m,
             "$label: on stderr too, at the claim's line");
    } else {
        is(scalar @hit, 0, "$label: $b is not a regression") or diag($r->{out});
    }
}

# The gates.
{
    my ($r, $pt) = run_ab(values => { HIGHER => 85 }, args => ['--baseline', "$dir/a"],
                          env => { KTSTR_BASELINE_REL => '20' });
    ok($pt->{ok}, 'KTSTR_BASELINE_REL=20: 15% worse passes');
    ($r, $pt) = run_ab(values => { HIGHER => 75 }, args => ['--baseline', "$dir/a"],
                       env => { KTSTR_BASELINE_REL => '20%' });
    is_deeply($pt->{msgs}, ['baseline.higher_better: regressed from 100 to 75 (25% worse, gate 20%)'],
              'KTSTR_BASELINE_REL=20%: 25% worse fails, the gate in the message');
    ($r, $pt) = run_ab(values => { LOWER => 115 }, args => ['--baseline', "$dir/a"],
                       env => { KTSTR_BASELINE_ABS => '20' });
    ok($pt->{ok}, 'KTSTR_BASELINE_ABS=20: 15 worse (15%) passes: both gates must be exceeded');
    ($r, $pt) = run_ab(values => { LOWER => 125 }, args => ['--baseline', "$dir/a"],
                       env => { KTSTR_BASELINE_ABS => '20' });
    ok(!$pt->{ok}, 'KTSTR_BASELINE_ABS=20: 25 worse fails');
    for my $bad (['KTSTR_BASELINE_REL', 'ten'], ['KTSTR_BASELINE_REL', '-5'],
                 ['KTSTR_BASELINE_ABS', '1,5'], ['KTSTR_BASELINE_ABS', '5%']) {
        ($r) = run_ab(env => { $bad->[0] => $bad->[1] });
        ok($r->{exit} == 2 && $r->{err} =~ /\Q$bad->[0] '$bad->[1]'\E: must be a number >= 0/,
           "$bad->[0]=$bad->[1]: a usage error naming it") or diag($r->{err});
    }
}

# Several regressions at once, each its own failure; the point says how
# many of its claims failed.
{
    my ($r, $pt) = run_ab(values => { HIGHER => 50, LOWER => 200 }, args => ['--baseline', "$dir/a"]);
    is_deeply($pt->{labels}, ['baseline.higher_better', 'baseline.lower_better'],
              'two regressions, two failures');
    like($pt->{yaml}{message}, qr/^2 of 15 claims failed$/, 'counted with the claims (8 + 7 compared)');
}

# Missing, corrupt and foreign baseline files: the point fails naming the file.
{
    mkdir "$dir/empty";
    my ($r, $pt) = run_ab(args => ['--baseline', "$dir/empty"]);
    ok(!$pt->{ok}, 'a missing baseline file fails the point');
    like($pt->{msgs}[0] // '', qr{^baseline: \Q$dir\E/empty/ab_point\.json: open: No such file or directory.*--artifacts directory of an earlier run},
         '... naming the file and what a baseline is');
    like($r->{err}, qr{^# ab_point: baseline: \Q$dir\E/empty/ab_point\.json: open}m, '... on stderr too');

    my %bad = (
        truncated => [ '{"scenario": "ab_point", "claims": [ {"label": "x"', qr/not JSON: line 1, column \d+: /],
        garbage => [ "\x00\xff not json", qr/not JSON: line 1, column 1: expected a value/ ],
        empty => [ '', qr/not JSON: line 1, column 1: expected a value, found the end/ ],
        array => [ '[1, 2]', qr/: not a JSON object$/ ],
        foreign => [ '{"scenario": "other", "claims": []}', qr/the sidecar of scenario 'other', not 'ab_point'/ ],
        noclaims => [ '{"scenario": "ab_point"}', qr/no "claims" list/ ],
        badclaim => [ '{"scenario": "ab_point", "claims": [{"label": "x", "op": "eq"}]}',
                      qr/claims\[0\]: not a claim/ ],
        deep => [ '{"scenario": "ab_point", "claims": ' . ('[' x 100) . (']' x 100) . '}',
                  qr/nested deeper than 64 levels/ ],
    );
    for my $k (sort keys %bad) {
        mkdir "$dir/$k";
        open(my $fh, '>', "$dir/$k/ab_point.json") or die;
        print $fh $bad{$k}[0];
        close($fh);
        ($r, $pt) = run_ab(args => ['--baseline', "$dir/$k"]);
        ok(!$pt->{ok} && $r->{exit} == 1, "$k baseline file: the point fails, never passes");
        like($pt->{msgs}[0] // '', qr{^baseline: \Q$dir/$k\E/ab_point\.json: }, "$k: names the file");
        like($pt->{msgs}[0] // '', $bad{$k}[1], "$k: says what is wrong");
    }

    # A skipped point has nothing to compare: no baseline file needed.
    ($r, $pt) = run_ab(filter => 'ev_skip', args => ['--baseline', "$dir/empty"]);
    ok($pt->{skip} && $r->{exit} == 0, 'a skipped point needs no baseline file');

    # A baseline directory that is not there: a usage error before any point.
    ($r) = run_ab(args => ['--baseline', "$dir/nowhere"]);
    ok($r->{exit} == 2 && $r->{err} =~ m{--baseline '\Q$dir\E/nowhere': No such file or directory},
       'a missing baseline directory: a usage error naming it') or diag($r->{err});
    ($r) = run_ab(env => { KTSTR_BASELINE => "$dir/a/ab_point.json" });
    ok($r->{exit} == 2 && $r->{err} =~ /KTSTR_BASELINE '.*': not a directory/,
       'KTSTR_BASELINE naming a file: a usage error') or diag($r->{err});
}

# A and B into their own directories, B against A, in one go (the README's
# workflow): B's sidecar holds the baseline failure too.
{
    my ($r, $pt) = run_ab(values => { NEAR => 2 }, args => ['--baseline', "$dir/a", '--artifacts', "$dir/b"]);
    my $j = slurp("$dir/b/ab_point.json");
    like($j, qr/"label": "baseline\.near_target",\s*"op": "baseline",\s*"expected": "3",\s*"actual": 2,\s*"passed": false/,
         "B's sidecar lists the regression as a claim");
}

done_testing();
