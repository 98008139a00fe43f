package KtTest;
# Helpers shared by the Perl tests in tests/*.t: reading files, running a
# program, starting a scenario binary in the background, finding its
# worker threads, running the fault injector, reading one point's TAP, and
# the two ways the sensitivity tests check that a fault is caught. The
# tests load it with `use FindBin; use lib "$FindBin::Bin/lib"; use KtTest;`
# and run from the repository root (prove's default), like the paths here.
use strict;
use warnings;
use Exporter 'import';
use POSIX qw(_exit);
use TAP::Parser;
use Test::More ();
use File::Temp ();
use Time::HiRes qw(sleep time);

our @EXPORT = qw(slurp run_prog start_scenario descends find_thread wait_victim
                 run_fault point_of allowed_cpus sens_repeat);
our @EXPORT_OK = qw(check_caught check_case);

our $FAULT = 'build/tests/progs/fault';

# The whole of file f, or '' when it cannot be read.
sub slurp {
    my ($f) = @_;
    open(my $fh, '<', $f) or return '';
    local $/;
    my $s = <$fh>;
    return defined $s ? $s : '';
}

# Runs cmd with stdout and stderr in dir/out and dir/err; returns its exit
# status, the signal that killed it, stdout and stderr.
sub run_prog {
    my ($dir, @args) = @_;
    my @cmd = map { quotemeta } @args;
    system("@cmd >$dir/out 2>$dir/err");
    return { exit => $? >> 8, sig => $? & 127,
             out => slurp("$dir/out"), err => slurp("$dir/err") };
}

# Starts scenario binary bin alone (--filter name --verbose) in the
# background with stdout and stderr in the files out and err; returns its pid.
sub start_scenario {
    my ($bin, $name, $out, $err) = @_;
    my $pid = fork();
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        open(STDOUT, '>', $out) or _exit(126);
        open(STDERR, '>', $err) or _exit(126);
        exec($bin, '--filter', $name, '--verbose') or _exit(127);
    }
    return $pid;
}

# Whether process p descends from ancestor (following ppid links).
sub descends {
    my ($p, $ancestor) = @_;
    for (1 .. 64) {
        return 1 if $p == $ancestor;
        my ($pp) = slurp("/proc/$p/stat") =~ /\)\s+\S+\s+(\d+)/;
        return 0 unless $pp && $pp > 1;
        $p = $pp;
    }
    return 0;
}

# The /proc/<pid>/task/<tid> directory of the thread named name among
# root's descendants for which ready->(that directory) holds, or undef.
sub find_thread {
    my ($root, $name, $ready) = @_;
    for my $comm (glob '/proc/[0-9]*/task/[0-9]*/comm') {
        my $c = slurp($comm);
        chomp $c;
        next unless $c eq $name;
        my ($pid) = $comm =~ m{^/proc/(\d+)/};
        my $task = $comm =~ s{/comm$}{}r;
        return $task if (!$ready || $ready->($task)) && descends($pid, $root);
    }
    return undef;
}

# Waits up to 10 s until a thread named name among pid's descendants is
# there and ready->(its task directory) holds. By default: it has run 5 ms
# (workers spin only once every worker has set its own knobs, and its own
# nice would undo an earlier renice, so a fault applied then sticks, and
# it lands before the measuring window opens). True when so; false at once when the scenario skipped or died
# (pid is a zombie or gone: it is not reaped here).
sub wait_victim {
    my ($pid, $name, $ready) = @_;
    $ready //= sub { my ($run) = slurp("$_[0]/schedstat") =~ /^(\d+)/;
                     defined $run && $run >= 5_000_000 };
    my $deadline = time() + 10;
    while (time() < $deadline) {
        my ($state) = slurp("/proc/$pid/stat") =~ /\)\s+(\S)/;
        return 0 if !defined $state || $state eq 'Z';
        return 1 if find_thread($pid, $name, $ready);
        sleep(0.005);
    }
    return 0;
}

# Runs build/tests/progs/fault with args, its report (stdout and stderr)
# captured, not printed; returns its exit status and the report. With
# show => 1 first, the report goes to diag when the fault failed.
sub run_fault {
    my $show = @_ && $_[0] eq 'show' ? (splice(@_, 0, 1), 1) : 0;
    my (@args) = @_;
    my $pid = open(my $fh, '-|');
    die "fork: $!" unless defined $pid;
    if (!$pid) {
        open(STDERR, '>&', \*STDOUT);
        exec($FAULT, @args) or _exit(127);
    }
    my $said = do { local $/; <$fh> } // '';
    close($fh);
    my $rc = $? >> 8 || ($? ? 128 : 0);
    Test::More::diag("fault @args: $said") if $show && $rc;
    return ($rc, $said);
}

# The single (last) test point of a TAP stream, or undef: ok (actual),
# directive, skip, reason (the directive's explanation), yaml, and its
# failures with their labels and messages.
sub point_of {
    my ($tap) = @_;
    my $p = TAP::Parser->new({ tap => $tap // '' });
    my $pt;
    while (my $r = $p->next) {
        if ($r->is_test) {
            $pt = { ok => $r->is_actual_ok, directive => $r->directive,
                    skip => $r->has_skip, reason => $r->explanation,
                    yaml => undef, failures => [], labels => [], msgs => [] };
        } elsif ($r->is_yaml && $pt) {
            $pt->{yaml} = $r->data;
            my $f = ref $pt->{yaml} eq 'HASH' ? $pt->{yaml}{failures} : undef;
            $pt->{failures} = ref $f eq 'ARRAY' ? $f : [];
            $pt->{labels} = [ map { $_->{label} } @{ $pt->{failures} } ];
            $pt->{msgs} = [ map { $_->{message} } @{ $pt->{failures} } ];
        }
    }
    return $pt;
}

# The CPUs this process may run on, in order (scenarios inherit the mask).
sub allowed_cpus {
    my ($list) = slurp('/proc/self/status') =~ /^Cpus_allowed_list:\s*(\S+)/m;
    my @cpus;
    for my $part (split /,/, $list // '') {
        my ($lo, $hi) = split /-/, $part;
        push @cpus, $lo .. ($hi // $lo);
    }
    return @cpus;
}

# How many times to run each case: KT_SENS_REPEAT (default 1).
sub sens_repeat { return $ENV{KT_SENS_REPEAT} || 1 }

# Fairness and starvation: runs scenario (of binary scn, files in dir)
# with its faults applied once the first victim has run 5 ms, then judges
# the TAP: 3 checks (one point, the faults applied, it fails on label).
# fault is a list of fault argument lists, or a sub given the scenario's
# pid that returns one (then victim names the thread to wait for).
sub check_caught {
    my (%a) = @_;
    my ($scn, $dir, $name) = @a{qw(scn dir scenario)};
    my $pid = start_scenario($scn, $name, "$dir/$name.out", "$dir/$name.err");
    my $victim = ref $a{fault} eq 'CODE' ? $a{victim} : $a{fault}[0][1];
    wait_victim($pid, $victim);
    my @faults = ref $a{fault} eq 'CODE' ? $a{fault}->($pid) : @{ $a{fault} };
    my $frc = @faults ? 0 : -1;
    # fault tells what it did: kept for the diagnostics.
    my $log = '';
    for my $f (@faults) {
        my ($rc, $said) = run_fault('--under', $pid, @$f);
        $log .= $said;
        $frc = $rc;
        last if $frc;
    }
    my @args = map { @$_, ';' } @faults;
    pop @args;
    waitpid($pid, 0);
    my $status = $? >> 8;
    my $pt = point_of(slurp("$dir/$name.out"));
    SKIP: {
        Test::More::skip("$name skipped: $pt->{reason}", 3) if $pt && $pt->{skip};
        Test::More::ok($pt, "$name: one test point") or Test::More::diag(slurp("$dir/$name.err"));
        Test::More::is($frc, 0, "$name: fault @args applied") or Test::More::diag($log);
        my @f = $pt ? @{ $pt->{failures} } : ();
        my @hit = grep { $_->{label} eq $a{label} } @f;
        Test::More::ok($pt && !$pt->{ok} && $status == 1 && @hit,
                       "$name: $a{why} fails '$a{label}'")
            or Test::More::diag("exit $status; failures: ",
                                join('; ', map { $_->{message} } @f) || 'none',
                                "\n", $log, slurp("$dir/$name.out"));
        Test::More::note("caught: $hit[0]{message}") if @hit;
    }
}

# Affinity and policy: runs scenario name of binary scen and applies the
# fault as soon as victim is found and ready->(its /proc task directory)
# holds (its own knobs are applied: a fault before that would be undone by
# the worker itself). Returns the point (see point_of, {} when none) with
# fault (its exit status, -1 when not run), fault_log and tap.
sub run_faulted {
    my ($scen, $name, $victim, $ready, @fault) = @_;
    my $dir = File::Temp::tempdir(CLEANUP => 1);
    my $pid = start_scenario($scen, $name, "$dir/out", "$dir/err");
    # The scenario may take a CPU away (a FIFO spinner) while the other is
    # busy: without priority this driver and the fault would act too late.
    setpriority(0, $$, -20) or Test::More::diag("setpriority: $!");
    my $up = wait_victim($pid, $victim, $ready);
    my ($frc, $log) = (-1, '');
    ($frc, $log) = run_fault('--under', $pid, @fault) if $up;
    setpriority(0, $$, 0);
    waitpid($pid, 0);
    my $tap = slurp("$dir/out");
    my $pt = point_of($tap) // { labels => [], msgs => [] };
    return { %$pt, fault => $frc, fault_log => $log, tap => $tap };
}

# One case, KT_SENS_REPEAT times: the fault must turn the point into "not
# ok" with a failure labelled one of @$want (and every failure belongs to
# the property: family).
sub check_case {
    my ($scen, $name, $want, $family, $victim, $ready, @fault) = @_;
    for my $i (1 .. sens_repeat()) {
        my $pt = run_faulted($scen, $name, $victim, $ready, @fault);
        SKIP: {
            Test::More::skip("$name: $pt->{reason}", 3) if $pt->{skip};
            Test::More::is($pt->{fault}, 0, "$name: fault @fault applied")
                or Test::More::diag($pt->{fault_log});
            Test::More::ok(defined $pt->{ok} && !$pt->{ok}, "$name: not ok under the fault")
                or Test::More::diag("fault: $pt->{fault_log}\nscenario:\n$pt->{tap}");
            my %got = map { $_ => 1 } @{ $pt->{labels} };
            Test::More::ok((grep { $got{$_} } @$want) && !(grep { $_ !~ $family } keys %got),
                           "$name: fails on @$want")
                or Test::More::diag(join("\n", @{ $pt->{msgs} }));
        }
    }
}

1;
