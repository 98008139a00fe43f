#!/usr/bin/perl
# What the runner leaves behind: a timeout kills the scenario's process
# group and the workloads that escaped it; RMDIR paths go even after a
# crash; SIGINT or SIGTERM to the runner stops everything with a Bail out.
use strict;
use warnings;
use Test::More;
use TAP::Parser;
use File::Temp qw(tempdir);
use Cwd qw(abs_path);
use POSIX qw(WNOHANG);
use FindBin;
use lib "$FindBin::Bin/../lib";
use KtTest;

my $bin = 'build/tests/progs/cases';
plan skip_all => "$bin is not built (run make)" unless -x $bin;
my $exe = abs_path($bin);

sub fresh_dir {
    my $d = tempdir(CLEANUP => 1);
    $ENV{KT_TEST_DIR} = $d;
    return $d;
}

sub points {
    my ($tap) = @_;
    my $p = TAP::Parser->new({ tap => $tap });
    my (@pts, $bail);
    while (my $r = $p->next) {
        if ($r->is_test) {
            (my $n = $r->description) =~ s/^- //;
            push @pts, { ok => $r->is_actual_ok, name => $n };
        } elsif ($r->is_yaml && @pts) {
            $pts[-1]{yaml} = $r->data;
        } elsif ($r->is_bailout) {
            $bail = $r->explanation;
        }
    }
    return (\@pts, $bail);
}

sub pids_in {
    my ($dir) = @_;
    return grep { /^\d+$/ } split /\n/, slurp("$dir/pids");
}

# Processes running our test binary (the runner's forks have its exe).
sub our_processes {
    my @left;
    for my $p (glob '/proc/[0-9]*') {
        my $e = readlink("$p/exe");
        push @left, $p =~ s{/proc/}{}r if defined $e && $e eq $exe;
    }
    return @left;
}

# Timeout: the scenario, its group and a setsid() escapee are all gone.
{
    my $dir = fresh_dir();
    my $run = run_prog(prog => $bin, args => ['--filter', 'timeout_group']);
    my ($pts) = points($run->{out});
    my $y = $pts->[0]{yaml};
    is($run->{exit}, 1, 'timeout: exit status 1');
    ok(!$pts->[0]{ok}, 'timeout: not ok');
    is($y->{severity}, 'timeout', 'timeout: severity');
    is($y->{timeout_s}, 1, 'timeout: timeout_s');
    is($y->{message}, 'timed out after 1 s', 'timeout: message');
    ok($y->{duration_ms} >= 900, "timeout: ran about 1 s ($y->{duration_ms} ms)");
    is($y->{failures}[0]{message}, '1: expected 2, was 1', 'timeout: failures before it kept');
    is_deeply($y->{notes}, ['sleepers started'], 'timeout: notes before it kept');
    like($run->{err}, qr/^# timeout_group: timed out after 1 s$/m, 'timeout: stderr line');
    my @pids = pids_in($dir);
    is(scalar @pids, 2, 'timeout: both workloads had started');
    is_deeply([ grep { kill(0, $_) } @pids ], [], 'timeout: no workload left alive');
    is_deeply([ our_processes() ], [], 'timeout: no process of ours left');
}

# --timeout overrides the scenario's own.
{
    my $dir = fresh_dir();
    my $run = run_prog(prog => $bin, args => ['--timeout', '2', '--filter', 'timeout_group']);
    my ($pts) = points($run->{out});
    is($pts->[0]{yaml}{timeout_s}, 2, '--timeout 2 overrides .timeout_s = 1');
    ok($pts->[0]{yaml}{duration_ms} >= 1900, '--timeout 2: ran about 2 s');
    is_deeply([ grep { kill(0, $_) } pids_in($dir) ], [], '--timeout: nothing left');
}

# RMDIR after a crash, deepest first.
{
    my $dir = fresh_dir();
    my $run = run_prog(prog => $bin, args => ['--filter', 'rmdir_after_crash']);
    my ($pts) = points($run->{out});
    is($pts->[0]{yaml}{severity}, 'crash', 'rmdir: the scenario crashed');
    ok(!-e "$dir/rmdir_top/sub", 'rmdir: the deeper directory is gone');
    ok(!-e "$dir/rmdir_top", 'rmdir: the directory asked for first is gone too');
    ok(!exists $pts->[0]{yaml}{notes}, 'rmdir: no rmdir error reported');
}

# A signal to the runner mid-scenario.
for my $sig (qw(INT TERM)) {
    my $dir = fresh_dir();
    my $pid = fork();
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        open(STDOUT, '>', "$dir/out") or die;
        open(STDERR, '>', "$dir/err") or die;
        exec($bin, '--filter', 'hang') or die "exec: $!";
    }
    for (1 .. 200) {
        last if -e "$dir/hang_started" && pids_in($dir) >= 2;
        select(undef, undef, undef, 0.05);
    }
    ok(-e "$dir/hang_started", "SIG$sig: the scenario was running");
    kill($sig, $pid);
    my $waited = 0;
    for (1 .. 200) {
        $waited = waitpid($pid, WNOHANG);
        last if $waited == $pid;
        select(undef, undef, undef, 0.05);
    }
    is($waited, $pid, "SIG$sig: the runner exits promptly");
    my $status = $?;
    ok(($status >> 8) != 0 || ($status & 127), "SIG$sig: non-zero exit ($status)");
    my $out = slurp("$dir/out");
    like($out, qr/^Bail out! interrupted$/m, "SIG$sig: Bail out! interrupted");
    my ($pts, $bail) = points($out);
    is($bail, 'interrupted', "SIG$sig: TAP::Parser sees the bail-out");
    my @pids = pids_in($dir);
    is(scalar @pids, 2, "SIG$sig: both workloads had started");
    is_deeply([ grep { kill(0, $_) } @pids ], [], "SIG$sig: no workload left");
    is_deeply([ our_processes() ], [], "SIG$sig: no process of ours left");
}

done_testing();
