#!/usr/bin/perl
# The ktstr command as a scheduler author meets it: `make install` into a
# scratch prefix, then, from outside the tree, list, run (a scenario, a
# file, in guests under a scheduler), kernel (from the cache), report,
# JUnit, every bad input a one-line error with exit 2, the man page and
# --help, and `make uninstall` leaving nothing behind.
use strict;
use warnings;
use Cwd qw(getcwd abs_path);
use File::Find;
use File::Temp qw(tempdir);
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../lib";
use KtTest;

my $top    = getcwd();
my $tmp    = tempdir('ktstr-cmd-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my $prefix = "$tmp/prefix";
my @vars   = ('CC=' . ($ENV{KT_CC} || 'cc'), 'SAN=' . ($ENV{KT_SAN} // ''));
push @vars, "CFLAGS=$ENV{KT_CFLAGS}"   if ($ENV{KT_CFLAGS} // '') ne '';
push @vars, "LDFLAGS=$ENV{KT_LDFLAGS}" if ($ENV{KT_LDFLAGS} // '') ne '';

my $r = run_prog(prog => 'make', args => ['-s', '-C', $top, 'install', "PREFIX=$prefix", @vars]);
is($r->{exit}, 0, 'make install PREFIX=<tmp>') or diag($r->{out}, $r->{err});
my $ktstr = "$prefix/bin/ktstr";
ok(-x $ktstr, 'ktstr is in PREFIX/bin');
ok(-x "$prefix/libexec/ktstr/scenarios/fairness.t", 'the catalog is in PREFIX/libexec/ktstr');
ok(-f "$prefix/share/man/man1/ktstr.1", 'the man page is in PREFIX/share/man/man1');

# Outside the tree, with a home of its own.
my $out = "$tmp/elsewhere";
mkdir $out or die;
my %env = (HOME => "$tmp/home", XDG_CACHE_HOME => undef, KTSTR_KERNEL => undef,
           PATH => "$prefix/bin:$ENV{PATH}", KTSTR_ARTIFACTS => undef, KTSTR_FILTER => undef);
sub ktstr {
    return run_prog(prog => 'bash', args => ['-c', 'cd "$0" && ktstr "$@"', $out, @_],
                    env => \%env);
}

$r = ktstr('--version');
like($r->{out}, qr/^ktstr \d+\.\d+\.\d+$/m, '--version');
for my $c ('', 'list', 'run', 'kernel', 'report') {
    $r = ktstr(($c ? $c : ()), '--help');
    ok($r->{exit} == 0 && $r->{out} =~ /^usage: ktstr/m, "ktstr $c --help");
}

$r = ktstr('list');
is($r->{exit}, 0, 'ktstr list');
my @lines = split /\n/, $r->{out};
ok(@lines >= 20, 'lists the catalog (' . scalar(@lines) . ' scenarios)');
like($r->{out}, qr/^fair_equal_hogs\s+fairness\.t\s+\S.*$/m, 'each with its file and purpose');
is(scalar(grep { !/^\w+\s+\w+\.t\s+\S/ } @lines), 0, 'every line has a purpose');

$r = ktstr('run', 'fair_equal_hogs');
is($r->{exit}, 0, 'ktstr run fair_equal_hogs') or diag($r->{out}, $r->{err});
like($r->{out}, qr/fairness\.t \.+ ok/, 'runs the file that holds it, under prove');
like($r->{out}, qr/Files=1, Tests=1,/, 'and only that point');

# ---- bad input: one line, exit 2 ---------------------------------------

for my $case ([['run', 'no_such_scenario'], qr/no scenario or file named 'no_such_scenario'/],
              [['run', '--frobnicate'], qr/unknown option '--frobnicate'/],
              [['run', '--shard', '0/4', 'smoke'], qr/--shard '0\/4'/],
              [['run', '--shard', '5/4', 'smoke'], qr/--shard '5\/4'/],
              [['run', '--vm', 'smoke'], qr/no guest kernel in \S+: run `ktstr kernel`/],
              [['run', '--kernel', "$tmp/none", 'smoke'], qr/\Q$tmp\E\/none/],
              [['run', '--jobs', '0'], qr/--jobs '0'/],
              [['frob'], qr/unknown command 'frob'/],
              [['report', "$tmp/nodir"], qr/nodir/],
              [['list', '/bin/true'], qr/printed no scenario \(not a ktstr scenario file\?\)/]) {
    my ($args, $re) = @$case;
    $r = ktstr(@$args);
    my @err = grep { length } split /\n/, $r->{err};
    ok($r->{exit} == 2 && @err == 1 && $err[0] =~ $re, "ktstr @$args: exit 2, one line")
        or diag("exit $r->{exit}: $r->{err}");
}

# ---- JUnit -------------------------------------------------------------

SKIP: {
    skip("Perl's TAP::Formatter::JUnit is not installed (libtap-formatter-junit-perl)", 5)
        unless system('perl -MTAP::Formatter::JUnit -e 1 >/dev/null 2>&1') == 0;
    my $prog = abs_path('build/tests/progs/evidence');
    $r = ktstr('run', '--junit', 'j.xml', '--filter', 'ev_pass', '--filter', 'ev_fail',
               '--filter', 'ev_skip', $prog);
    is($r->{exit}, 1, 'a run with a failing point fails, JUnit or not');
    my $x = -f "$out/j.xml" ? slurp("$out/j.xml") : '';
    is(system('xmllint', '--noout', "$out/j.xml"), 0, 'the JUnit file is well-formed XML');
    my ($suite) = $x =~ /(<testsuite [^>]*>)/;
    ok(($suite // '') =~ /\bname="evidence"/ && $suite =~ /\btests="3"/ && $suite =~ /\bfailures="1"/
       && $suite =~ /\berrors="0"/, 'one suite: 3 tests, 1 failure, no error') or diag($x);
    is(scalar(() = $x =~ /<skipped /g), 1, 'one skipped, with its reason')
        or diag($x);
    like($x, qr/<failure [^>]*message="not ok 2 - ev_fail"[^>]*>.*max_gap_ms: expected at most 150/s,
         "the failure carries the point's YAML");
}

# ---- the kernel, and guests -----------------------------------------------

SKIP: {
    skip(guest_missing(), 8) if guest_missing();
    my $cache = "$tmp/home/.cache/ktstr/kernel";
    system('mkdir', '-p', $cache) == 0 or die;
    symlink(abs_path("build/kernel/$_"), "$cache/$_") or die for qw(bzImage config vmlinux);
    $r = ktstr('kernel');
    is($r->{exit}, 0, 'ktstr kernel: a cached kernel is found') or diag($r->{err});
    is($r->{out}, "$cache/bzImage\n", 'in ${XDG_CACHE_HOME:-~/.cache}/ktstr/kernel');
    # builtin:fifo is one global FIFO: it ignores nice and cgroup weights,
    # so those two points fail, as the scheduler matrix in README says.
    $r = ktstr('run', '--vm', '--scheduler', 'builtin:fifo', '--artifacts', 'art', 'fairness');
    like($r->{out}, qr/Files=1, Tests=3,/, 'ktstr run --vm --scheduler builtin:fifo fairness: '
         . 'every point of the file') or diag($r->{out}, $r->{err});
    like($r->{err}, qr/# fair_nice_weights: ratio_nice5: expected near/,
         'the weights a FIFO ignores fail, in the usual words');
    my $sidecar = -f "$out/art/fair_equal_hogs.json" ? slurp("$out/art/fair_equal_hogs.json") : '';
    like($sidecar, qr/"outcome":\s*"pass"/, 'fair_equal_hogs passes under it');
    like($sidecar, qr/"vm":\s*\{[^}]*"accel"/, 'in a guest');
    like($sidecar, qr/"scheduler":\s*\{[^}]*"name":\s*"ktstr_fifo"/, 'under the scheduler');
    $r = ktstr('report', 'art', '-o', 'r.html');
    ok($r->{exit} == 0 && slurp("$out/r.html") =~ /href="#p-fair_equal_hogs"/,
       'ktstr report renders its artifacts');
}

# ---- the man page, and uninstall ---------------------------------------

SKIP: {
    skip('groff is not installed', 1) unless system('command -v groff >/dev/null 2>&1') == 0;
    $r = run_prog(prog => 'groff', args => [qw(-ww -man -Tutf8 -z), "$prefix/share/man/man1/ktstr.1"]);
    ok($r->{exit} == 0 && $r->{err} eq '', 'the man page renders without a warning')
        or diag($r->{err});
}

$r = run_prog(prog => 'make', args => ['-s', '-C', $top, 'uninstall', "PREFIX=$prefix", @vars]);
is($r->{exit}, 0, 'make uninstall');
my @left;
find(sub { push @left, $File::Find::name if -f $_ || -l $_ }, $prefix) if -d $prefix;
is_deeply(\@left, [], 'it removes everything make install put there') or diag(join "\n", @left);

done_testing();
