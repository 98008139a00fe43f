#!/usr/bin/perl
# The runner's command line: --list, --filter, --help, bad options, and
# prove itself reading a scenario binary's stream.
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use FindBin;
use lib "$FindBin::Bin/../lib";
use KtTest;

my $bin = 'build/tests/progs/cases';
my $src = 'tests/progs/cases.c';
plan skip_all => "$bin is not built (run make)" unless -x $bin;

my $dir = tempdir(CLEANUP => 1);
$ENV{KT_TEST_DIR} = $dir;
delete @ENV{qw(KTSTR_FILTER KTSTR_TIMEOUT KTSTR_VERBOSE)};

# The scenario names in the order the source file defines them.
my @in_source = slurp($src) =~ /^KT_SCENARIO\((\w+)/mg;
ok(@in_source >= 10, 'found the scenarios in the source');

my $run = run_prog(prog => $bin, args => ['--list']);
is($run->{exit}, 0, '--list: exit 0');
is($run->{out}, join('', map { "$_\n" } @in_source), '--list: every name, in source order');
is($run->{err}, '', '--list: nothing on stderr');

$run = run_prog(prog => $bin, args => ['--list', '--filter', 'crash_*']);
is($run->{out}, "crash_segv\ncrash_null\ncrash_abort\n", '--list --filter: only the matches');

$run = run_prog(prog => $bin, args => ['--filter', 'pass_quiet', '--filter', 'skip*', '--filter', 'pass_q*']);
is($run->{exit}, 0, 'repeated --filter: exit 0');
my ($ms) = $run->{out} =~ /duration_ms: (\d+)/;
is($run->{out}, "TAP version 13\n1..2\nok 1 - pass_quiet\n"
              . "ok 2 - skip_reason # SKIP no widget \\# here\n"
              . "  ---\n  notes:\n    - \"checked the widget\"\n"
              . "  duration_ms: " . ($ms // 'missing') . "\n  ...\n",
   'repeated --filter: the union, once each');

$run = run_prog(prog => $bin, args => ['--filter=pass_quiet']);
like($run->{out}, qr/^1\.\.1\nok 1 - pass_quiet\n/m, '--filter=GLOB form');

$run = run_prog(prog => $bin, args => ['--filter', 'no_such_*']);
is($run->{exit}, 0, 'a filter that matches nothing: exit 0');
is($run->{out}, "TAP version 13\n1..0 # SKIP no scenario matches --filter\n",
   'a filter that matches nothing: a skip-all plan saying why');
like($run->{err}, qr/no scenario matches --filter/, '... and a line on stderr');

$run = run_prog(prog => $bin, args => ['--help']);
is($run->{exit}, 0, '--help: exit 0');
like($run->{out}, qr/^usage: .*--filter GLOB/m, '--help: usage on stdout');

for my $bad ([ ['--bogus'], qr/unknown option '--bogus'/ ],
             [ ['--timeout', 'abc'], qr/--timeout 'abc': not a whole number/ ],
             [ ['--timeout', '0'], qr/--timeout '0': must be 1 to/ ],
             [ ['--timeout', '-5'], qr/--timeout '-5': not a whole number/ ],
             [ ['--timeout=2x'], qr/--timeout '2x': not a whole number/ ],
             [ ['--timeout', '99999999999999999999'], qr/must be 1 to/ ],
             [ ['--timeout'], qr/--timeout needs a value/ ],
             [ ['--filter'], qr/--filter needs a value/ ],
             [ ['--filter='], qr/--filter needs a non-empty GLOB/ ],
             [ ['--list=yes'], qr/unknown option '--list=yes'/ ],
             [ ['extra'], qr/unknown option 'extra'/ ]) {
    my ($args, $want) = @$bad;
    $run = run_prog(prog => $bin, args => $args);
    is($run->{exit}, 2, "@$args: exit 2");
    like($run->{err}, $want, "@$args: stderr names what was wrong");
    like($run->{err}, qr/^usage: /m, "@$args: usage on stderr");
    is($run->{out}, '', "@$args: nothing on stdout");
}

$run = run_prog(prog => $bin, args => ['--timeout=5', '--list', '--filter', 'hang']);
is($run->{exit}, 0, '--timeout=S form accepted');

# A broken registry stops the run, for prove too.
$run = run_prog(prog => 'build/tests/progs/broken');
is($run->{exit}, 2, 'duplicate scenario names: exit 2');
is($run->{out}, "TAP version 13\nBail out! scenario twice defined twice (a.c:3 and b.c:9)\n",
   'duplicate scenario names: Bail out! naming both places');
like($run->{err}, qr/scenario twice defined twice/, '... and on stderr');

# prove reads the streams: a passing binary passes, a failing one fails.
$run = run_prog(prog => 'prove', args => ['build/tests/progs/passing']);
is($run->{exit}, 0, 'prove accepts a passing scenario binary');
like($run->{out}, qr/^Result: PASS/m, 'prove: Result: PASS');
$run = run_prog(prog => 'prove', args => ['build/scenarios/smoke.t']);
is($run->{exit}, 0, 'prove accepts scenarios/smoke.t');
$run = run_prog(prog => 'prove', args => [$bin, '::', '--filter', 'fail_two']);
isnt($run->{exit}, 0, 'prove fails a binary with a failing point');
like($run->{err} . $run->{out}, qr/# fail_two: ipc: expected at least 1, was 0/,
     'plain prove shows the failure line');

# The environment gives defaults for runs under prove; options override it.
my %filter = (KTSTR_FILTER => 'crash_segv, pass_quiet');
$run = run_prog(prog => $bin, args => ['--list'], env => \%filter);
is($run->{out}, "pass_quiet\ncrash_segv\n", 'KTSTR_FILTER: globs split on spaces and commas');
$run = run_prog(prog => $bin, args => ['--list', '--filter', 'crash_abort'], env => \%filter);
is($run->{out}, "crash_abort\n", '--filter replaces KTSTR_FILTER');
$run = run_prog(prog => $bin, args => ['--filter', 'pass_quiet'], env => { KTSTR_VERBOSE => '1' });
like($run->{out}, qr/^  passes:/m, 'KTSTR_VERBOSE=1 lists passing claims');
for my $bad (['KTSTR_TIMEOUT', 'abc', qr/KTSTR_TIMEOUT 'abc': not a whole number/],
             ['KTSTR_TIMEOUT', '0', qr/KTSTR_TIMEOUT '0': must be 1 to/],
             ['KTSTR_VERBOSE', 'yes', qr/KTSTR_VERBOSE 'yes': must be 0 or 1/],
             ['KTSTR_FILTER', ' , ', qr/KTSTR_FILTER ' , ': no GLOB/]) {
    $run = run_prog(prog => $bin, args => ['--list'], env => { $bad->[0] => $bad->[1] });
    is($run->{exit}, 2, "$bad->[0]='$bad->[1]': usage error, exit 2");
    like($run->{err}, $bad->[2], "... naming the variable and the value");
}

done_testing();
