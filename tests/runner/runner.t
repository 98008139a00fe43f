#!/usr/bin/perl
# The runner's TAP, read back with TAP::Parser: every outcome a scenario
# can have, its directive and YAML fields, the stderr one-liners and the
# exit status. The scenarios are in tests/progs/cases.c.
use strict;
use warnings;
use Test::More;
use TAP::Parser;
use File::Temp qw(tempdir);
use FindBin;
use lib "$FindBin::Bin/../lib";
use KtTest;

my $bin = 'build/tests/progs/cases';
my $src = 'tests/progs/cases.c';
plan skip_all => "$bin is not built (run make)" unless -x $bin;

my $dir = tempdir(CLEANUP => 1);
$ENV{KT_TEST_DIR} = $dir;

# Parses a TAP stream into points (with their YAML) and odd lines.
sub parse_tap {
    my ($tap) = @_;
    my $p = TAP::Parser->new({ tap => $tap });
    my (@points, @odd, $yamls);
    while (my $r = $p->next) {
        if ($r->is_test) {
            (my $name = $r->description) =~ s/^- //;
            push @points, { ok => $r->is_actual_ok, name => $name,
                            directive => $r->directive,
                            reason => $r->explanation, num => $r->number };
        } elsif ($r->is_yaml) {
            $yamls++;
            $points[-1]{yaml} = $r->data if @points;
        } elsif (!$r->is_version && !$r->is_plan) {
            push @odd, $r->as_string;
        }
    }
    return { points => \@points, odd => \@odd, yamls => $yamls || 0,
             plan => $p->plan, version => $p->version,
             parse_errors => [ $p->parse_errors ] };
}

# The line a CLAIM's text is on in the source, for the "at" field.
sub line_of {
    my ($needle) = @_;
    open(my $fh, '<', $src) or die "$src: $!";
    while (my $l = <$fh>) {
        return $. if index($l, $needle) >= 0;
    }
    die "'$needle' not in $src";
}

my @names = qw(pass_with_note pass_quiet fail_two skip_reason needs_many_cpus
               needs_pmu needs_kvm needs_root stray_stdout crash_segv crash_null crash_abort
               exit_midway ctx_fields);
my $run = run_prog(prog => $bin, args => [map { ('--filter', $_) } reverse @names]);
my $tap = parse_tap($run->{out});
my %pt = map { $_->{name} => $_ } @{ $tap->{points} };

is($run->{exit}, 1, 'exit status 1 when a point is not ok');
is($tap->{version}, 13, 'TAP version 13');
is($tap->{plan}, '1..' . scalar(@names), 'plan counts the selected scenarios');
is_deeply([ map { $_->{name} } @{ $tap->{points} } ], \@names,
          'points in source order, whatever the filter order');
is_deeply([ map { $_->{num} } @{ $tap->{points} } ], [ 1 .. @names ], 'numbered 1..N');
is_deeply($tap->{odd}, [], 'no line that is not TAP');
is_deeply($tap->{parse_errors}, [], 'no parse errors');
my $blocks = () = $run->{out} =~ /^  ---$/mg;
is($tap->{yamls}, $blocks, "every YAML block parses ($blocks)");

# pass
ok($pt{pass_quiet}{ok} && !$pt{pass_quiet}{directive}, 'pass: ok');
ok(!exists $pt{pass_quiet}{yaml}, 'pass without notes: no YAML');
ok($pt{pass_with_note}{ok}, 'pass with a note: ok');
is_deeply($pt{pass_with_note}{yaml}{notes},
          ['answer is 42', 'worst: 42 ms', 'a : b, c: d', 'ends with a colon:'],
          'pass: notes in YAML, colons after the first word included');
like($pt{pass_with_note}{yaml}{duration_ms}, qr/^\d+$/, 'pass: duration_ms');
ok(!exists $pt{pass_with_note}{yaml}{failures}, 'pass: no failures key');

# fail
my $f = $pt{fail_two};
ok(!$f->{ok}, 'fail: not ok');
is($f->{yaml}{message}, '2 of 3 claims failed', 'fail: message');
is($f->{yaml}{severity}, 'fail', 'fail: severity');
is($f->{yaml}{claims}, 3, 'fail: claims');
is_deeply($f->{yaml}{failures}[0], {
    label => 'ipc', op => 'at_least', expected => '1', actual => '0',
    message => 'ipc: expected at least 1, was 0',
    at => "$src:" . line_of('CLAIM(v, ipc, at_least, 1)') }, 'fail: first failure');
is_deeply($f->{yaml}{failures}[1], {
    label => 'share', op => 'between', expected => '[0.45, 0.55]', actual => '0.7',
    message => 'share: expected in [0.45, 0.55], was 0.7',
    at => "$src:" . line_of('CLAIM(v, share, between') }, 'fail: second failure');
is(scalar @{ $f->{yaml}{failures} }, 2, 'fail: only the failing claims');
is_deeply($f->{yaml}{notes}, [qq{a note with "quotes", a \\ and a\nnewline}],
          'fail: a note with quotes, backslash and newline reads back exactly');
like($run->{err}, qr/^# fail_two: ipc: expected at least 1, was 0 \(\Q$src\E:\d+\)$/m,
     'fail: one stderr line per failure, naming the scenario');
like($run->{err}, qr/^# fail_two: share: expected in \[0\.45, 0\.55\], was 0\.7 /m,
     'fail: the second failure on stderr too');

# skip from the body
is($pt{skip_reason}{directive}, 'SKIP', 'skip: SKIP directive');
ok($pt{skip_reason}{ok}, 'skip: ok');
is($pt{skip_reason}{reason}, 'no widget \\# here', 'skip: reason with # escaped');
is_deeply($pt{skip_reason}{yaml}{notes}, ['checked the widget'], 'skip: notes kept');

# requirement skips
is($pt{needs_many_cpus}{directive}, 'SKIP', 'min_cpus unmet: SKIP');
like($pt{needs_many_cpus}{reason}, qr/^needs 4096 CPUs: this process may run on \d+$/,
     'min_cpus: the reason names the requirement');
if ($pt{needs_pmu}{directive}) {
    like($pt{needs_pmu}{reason},
         qr/^needs a hardware PMU: perf_event_open\(cycles\): [A-Z][a-z]/,
         'no hardware PMU: SKIP naming it and the errno text');
} else {
    ok($pt{needs_pmu}{ok}, 'hardware PMU present: runs and passes');
}

if (-c '/dev/kvm' && open(my $kvm, '+<', '/dev/kvm')) {
    ok($pt{needs_kvm}{ok} && !$pt{needs_kvm}{directive}, 'KVM present: runs and passes');
} else {
    like($pt{needs_kvm}{reason}, qr{^needs KVM: /dev/kvm: [A-Z][a-z]},
         'no KVM: SKIP naming /dev/kvm and the errno text');
}
if ($> == 0) {
    ok($pt{needs_root}{ok} && !$pt{needs_root}{directive}, 'root: runs and passes');
} else {
    like($pt{needs_root}{reason}, qr/^needs root: effective uid is $>$/, 'not root: SKIP');
}

# As an unprivileged user, when we are root and can become one.
SKIP: {
    my ($setpriv) = grep { -x "$_/setpriv" } split /:/, $ENV{PATH};
    skip 'not root, or no setpriv to drop privileges', 3 unless $> == 0 && $setpriv;
    my $u = run_prog(prog => "$setpriv/setpriv",
                     args => ['--reuid=65534', '--regid=65534', '--clear-groups',
                              $bin, '--filter', 'needs_root', '--filter', 'needs_kvm']);
    my %up = map { $_->{name} => $_ } @{ parse_tap($u->{out})->{points} };
    is($up{needs_root}{directive}, 'SKIP', 'unprivileged: needs_root skips');
    is($up{needs_root}{reason}, 'needs root: effective uid is 65534',
       'unprivileged: the reason names root and the uid');
    ok($up{needs_kvm}{ok} && (!$up{needs_kvm}{directive}
       || $up{needs_kvm}{reason} =~ m{^needs KVM: /dev/kvm: [A-Z][a-z]+( [a-z]+)*$}),
       'unprivileged: KVM runs or skips with the errno text')
        or diag(explain($up{needs_kvm}));
}

# stray stdout
ok($pt{stray_stdout}{ok}, 'stray stdout: point still ok');
unlike($run->{out}, qr/stray line/, 'stray stdout: not in the TAP stream');
like($run->{err}, qr/^not ok 77 - stray line from the body$/m, 'stray stdout: on stderr');

# crashes
for my $c ([ crash_segv => 'SIGSEGV' ], [ crash_null => 'SIGSEGV' ],
           [ crash_abort => 'SIGABRT' ]) {
    my ($name, $sig) = @$c;
    my $y = $pt{$name}{yaml};
    ok(!$pt{$name}{ok}, "$name: not ok");
    is($y->{severity}, 'crash', "$name: severity crash");
    is($y->{signal}, $sig, "$name: signal $sig");
    is($y->{message}, "killed by $sig", "$name: message");
    like($run->{err}, qr/^# $name: killed by $sig$/m, "$name: stderr line");
}
is_deeply([ map { $_->{message} } @{ $pt{crash_segv}{yaml}{failures} } ],
          ['before: expected less than 2, was 3'],
          'crash: failures recorded before the signal are reported');
is_deeply($pt{crash_abort}{yaml}{notes}, ['about to abort'],
          'abort: notes recorded before the signal are reported');

# exit() midway
my $e = $pt{exit_midway};
ok(!$e->{ok}, 'exit midway: not ok');
is($e->{yaml}{severity}, 'error', 'exit midway: severity error');
is($e->{yaml}{exit_status}, 3, 'exit midway: exit_status');
is($e->{yaml}{failures}[0]{message}, '5: expected at most 4, was 5',
   'exit midway: failures before the exit');

ok($pt{ctx_fields}{ok}, 'ctx: name, ncpus, timeout_s and in_vm as documented; a copy has no wire');

# --verbose: every point gets YAML with its claims, passing ones too
$run = run_prog(prog => $bin, args => ['--verbose', '--filter', 'pass_quiet', '--filter', 'fail_two']);
$tap = parse_tap($run->{out});
%pt = map { $_->{name} => $_ } @{ $tap->{points} };
is($pt{pass_quiet}{yaml}{claims}, 1, 'verbose: a passing point lists its claims');
is_deeply($pt{pass_quiet}{yaml}{passes}, [{
    label => '1.5', op => 'near', expected => '1 (+/-0.5)', actual => '1.5',
    at => "$src:" . line_of('CLAIM(v, 1.5, near') }], 'verbose: the passing claim');
like($pt{pass_quiet}{yaml}{duration_ms}, qr/^\d+$/, 'verbose: duration_ms');
is(scalar @{ $pt{fail_two}{yaml}{passes} }, 1, 'verbose: passes of a failing point');
is($pt{fail_two}{yaml}{passes}[0]{label}, '2 + 2', 'verbose: its label');
is(scalar @{ $pt{fail_two}{yaml}{failures} }, 2, 'verbose: failures still listed');
is($tap->{yamls}, 2, 'verbose: both blocks parse');

# A flood of failures: bounded, with a count of the rest
$run = run_prog(prog => $bin, args => ['--filter', 'flood']);
$tap = parse_tap($run->{out});
my $fl = $tap->{points}[0]{yaml};
is($fl->{claims}, 10050, 'flood: every claim counted');
is($fl->{message}, '10050 of 10050 claims failed', 'flood: message');
is(scalar @{ $fl->{failures} }, 10001, 'flood: 10000 failures kept, one summary');
is_deeply($fl->{failures}[-1], { op => 'dropped', message => '50 more failures not kept' },
          'flood: the summary entry');

# Bytes the wire and YAML escape come back exactly
$run = run_prog(prog => $bin, args => ['--filter', 'odd_strings']);
$tap = parse_tap($run->{out});
my $odd = $tap->{points}[0]{yaml};
is($tap->{yamls}, 1, 'odd strings: the block parses');
is($odd->{failures}[0]{label}, qq{tab\there back\\slash "q"\nnl\x01ctl\x7f #x},
   'odd strings: label with tab, backslash, quotes, newline, control bytes');
is($odd->{failures}[0]{message}, qq{tab\there back\\slash "q"\nnl\x01ctl\x7f #x: expected 2, was 1},
   'odd strings: message');
is_deeply($odd->{notes}, [qq{cr\rlf\n\ttab \x1b esc \xc3\xa9 utf8}],
          'odd strings: note with CR, LF, tab, ESC and UTF-8');
like($run->{err}, qr/^# odd_strings: tab\\there back\\slash "q"\\nnl\\x01ctl\\x7f #x: expected 2, was 1 \(/m,
     'odd strings: the stderr line stays one line');

# All passing: exit 0
$run = run_prog(prog => 'build/tests/progs/passing');
is($run->{exit}, 0, 'exit status 0 when no point is not ok');
$tap = parse_tap($run->{out});
is_deeply([ map { $_->{ok} ? 1 : 0 } @{ $tap->{points} } ], [1, 1, 1, 1], 'passing: all ok');

done_testing();
