#!/usr/bin/perl
# The inconclusive rule on the host (README: On a busy machine): a point
# that failed only timing claims while other tasks took more than
# KTSTR_STEAL_MAX of the machine is "ok # SKIP inconclusive: ..." with
# its failed claims under inconclusive:; any other failure stays not ok
# whatever the load; KTSTR_STRICT=1 fails it; a bad setting is a usage
# error. Every stream is read with TAP::Parser. The load is one spinner
# outside the point, for the whole point.
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../lib";
use KtTest;

my $bin = 'build/tests/progs/cases';
plan skip_all => "$bin is not built (run make)" unless -x $bin;

my %clean = (KTSTR_STEAL_MAX => undef, KTSTR_STRICT => undef, KTSTR_FILTER => undef);

sub run_case {
    my ($case, %env) = @_;
    my $r = run_prog(prog => $bin, args => ['--filter', $case], env => { %clean, %env });
    return ($r, point_of($r->{out}));
}

# Idle: the timing claim's failure is the point's failure.
{
    my ($r, $pt) = run_case('timing_fails');
    ok($pt && !$pt->{ok}, 'idle: a failed timing claim is not ok') or diag($r->{out});
    is(yaml_at($pt, 'severity'), 'fail', 'severity fail');
    is($pt && $pt->{failures}[0]{timing}, 'true', 'the failure says it is a timing claim');
    unlike($r->{err}, qr/inconclusive/, 'and no inconclusive line on stderr');
}

# One spinner outside the point's tree: on this 2-CPU machine one CPU's
# worth, 50% of the machine.
with_spinners(1, sub {
    my ($r, $pt) = run_case('timing_fails');
    ok($pt && $pt->{ok} && $pt->{inconclusive}, 'loaded: only a timing claim failed: ok # SKIP')
        or diag($r->{out});
    like($pt ? $pt->{reason} : '', qr/^inconclusive: other tasks took \d\.\d\d of the machine's \d+ CPUs \(\d+%\) while it ran \(limit 20%\)$/,
         'the reason says what the host took, and the limit') or diag($r->{out});
    is(yaml_at($pt, 'severity'), 'inconclusive', 'severity inconclusive');
    my $inc = yaml_at($pt, 'inconclusive');
    is(ref $inc eq 'ARRAY' ? $inc->[0]{label} : undef, 'wake_p99_us', 'the failed claim under inconclusive:');
    is(ref $inc eq 'ARRAY' ? $inc->[0]{actual} : undef, '63.2', 'with its actual value');
    is(ref $inc eq 'ARRAY' ? $inc->[0]{expected} : undef, '50', 'and its bound');
    like(ref $inc eq 'ARRAY' ? $inc->[0]{message} : '', qr/expected at most 50/, 'and its message');
    cmp_ok(yaml_at($pt, 'foreign_load') // 0, '>=', 0.6, 'foreign_load beside it');
    is(yaml_at($pt, 'failures'), undef, 'and no failures: list');
    is($r->{exit}, 0, 'the run exits 0');
    like($r->{err}, qr/^ktstr: 1 point inconclusive \(host starvation\); KTSTR_STRICT=1 fails them\n\z/m,
         'the last stderr line counts it') or diag($r->{err});

    ($r, $pt) = run_case('timing_and_count_fail');
    ok($pt && !$pt->{ok}, 'loaded, a count failed too: not ok') or diag($r->{out});
    is(yaml_at($pt, 'severity'), 'fail', 'severity fail');
    is_deeply($pt ? $pt->{labels} : [], ['wake_p99_us', 'wakeups'], 'both failures listed');
    ok(defined yaml_at($pt, 'foreign_load'), 'with the foreign load beside them');

    ($r, $pt) = run_case('crash_segv');
    ok($pt && !$pt->{ok}, 'loaded, a crash: not ok');
    is(yaml_at($pt, 'severity'), 'crash', 'severity crash');

    ($r, $pt) = run_case('timing_fails', KTSTR_STRICT => 1);
    ok($pt && !$pt->{ok}, 'KTSTR_STRICT=1: inconclusive is not ok') or diag($r->{out});
    is(yaml_at($pt, 'severity'), 'inconclusive', 'severity inconclusive');
    like(yaml_at($pt, 'message') // '', qr/^inconclusive: other tasks took .*: 1 of 2 claims failed$/,
         'the message says both');
    is_deeply($pt ? $pt->{labels} : [], ['wake_p99_us'], 'the failure under failures:');
    is($r->{exit}, 1, 'the run exits 1');
    like($r->{err}, qr/^ktstr: 1 point inconclusive \(host starvation\); failed by KTSTR_STRICT=1$/m,
         'the stderr line says it failed');

    ($r, $pt) = run_case('timing_fails', KTSTR_STEAL_MAX => '0.9');
    ok($pt && !$pt->{ok}, 'KTSTR_STEAL_MAX=0.9: the load is under the limit, not ok')
        or diag($r->{out});
    ($r, $pt) = run_case('timing_fails', KTSTR_STEAL_MAX => '30%');
    like($pt ? $pt->{reason} // '' : '', qr/\(limit 30%\)$/, 'KTSTR_STEAL_MAX=30%: a percentage');
});

# A body out of time (README: On a busy machine). Idle, a sleeping
# point's 1 s timeout is its timeout, not stretched.
{
    my ($r, $pt) = run_case('timeout_group');
    ok($pt && !$pt->{ok}, 'idle: a timeout is not ok') or diag($r->{out});
    is(yaml_at($pt, 'severity'), 'timeout', 'severity timeout');
    is(yaml_at($pt, 'message'), 'timed out after 1 s', 'after its timeout');
    is(yaml_at($pt, 'deadline_ms'), undef, 'with no deadline_ms: not stretched');
}

# Two spinners outside take the whole machine: the sleeping point is
# given their time, up to 3 times its timeout, and is inconclusive there.
with_spinners(2, sub {
    my ($r, $pt) = run_case('timeout_group');
    ok($pt && $pt->{ok} && $pt->{inconclusive}, 'starved to the ceiling: ok # SKIP inconclusive')
        or diag($r->{out});
    like($pt ? $pt->{reason} : '', qr/^inconclusive: other tasks took \d\.\d\d of the machine's \d+ CPUs \(\d+%\) while it ran \(limit 20%\)$/,
         'the reason says what the host took') or diag($r->{out});
    is(yaml_at($pt, 'severity'), 'inconclusive', 'severity inconclusive');
    is(yaml_at($pt, 'message'), 'timed out after 3 s of wall time, the ceiling for its 1 s timeout',
       'the message says the ceiling');
    is(yaml_at($pt, 'deadline_ms'), 3000, 'deadline_ms 3000');

    ($r, $pt) = run_case('timeout_group', KTSTR_STRICT => 1);
    ok($pt && !$pt->{ok}, 'KTSTR_STRICT=1: not ok') or diag($r->{out});
    like(yaml_at($pt, 'message') // '', qr/^inconclusive: other tasks took .*: timed out after 3 s of wall time/,
         'the message says both');
    is($r->{exit}, 1, 'the run exits 1');
});

# One spinner beside a hang that spins: other tasks took half the
# machine, the hang is given about 2 s, and it stays a timeout.
with_spinners(1, sub {
    my ($r, $pt) = run_case('timeout_spin');
    ok($pt && !$pt->{ok}, 'a spinning hang beside a spinner: not ok') or diag($r->{out});
    is(yaml_at($pt, 'severity'), 'timeout', 'severity timeout');
    like(yaml_at($pt, 'message') // '',
         qr/^timed out after \d\.\d s of wall time: its 1 s timeout and the time other tasks took$/,
         'given the time the spinner took') or diag($r->{out});
    my $d = yaml_at($pt, 'deadline_ms') // 0;
    ok($d >= 1500 && $d < 3000, "under the ceiling (deadline_ms $d)");
});

for my $bad (['KTSTR_STEAL_MAX', 'abc'], ['KTSTR_STEAL_MAX', '0'], ['KTSTR_STEAL_MAX', '1.5'],
             ['KTSTR_STEAL_MAX', '150%'], ['KTSTR_STEAL_MAX', '-0.1'], ['KTSTR_STRICT', 'yes']) {
    my ($var, $val) = @$bad;
    my $r = run_prog(prog => $bin, args => ['--filter', 'pass_quiet'],
                     env => { %clean, $var => $val });
    is($r->{exit}, 2, "$var=$val: a usage error");
    like($r->{err}, qr/\Q$var '$val'\E: must be/, 'naming the variable and the value');
    is($r->{out}, '', 'and no TAP');
}
done_testing();
