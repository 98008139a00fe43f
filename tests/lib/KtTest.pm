package KtTest;
# Helpers shared by the Perl tests in tests/*.t: reading files, running a
# program, starting a scenario binary in the background, finding its
# worker threads, running the fault injector, reading one point's TAP, and
# the two ways the sensitivity tests check that a fault is caught, and
# whether a guest can boot here (guest_missing: the reason to skip). The
# tests load it with `use FindBin; use lib "$FindBin::Bin/lib"; use KtTest;`
# and run from the repository root (prove's default), like the paths here.
#
# One calling convention: a helper of one argument takes it plainly
# (slurp($file), point_of($tap)); every other takes named arguments,
# lists as array references and maps as hash references:
#   run_prog(prog => $bin, args => ['--filter', 'x'], env => { LC_ALL => 'C' })
# A name a helper does not know is an error, so a misspelt one cannot be
# silently ignored.
use strict;
use warnings;
use Exporter 'import';
use POSIX qw(_exit);
use TAP::Parser;
use Test::More ();
use File::Temp ();
use Time::HiRes qw(sleep time);

our @EXPORT = qw(slurp run_prog start_scenario descends find_thread wait_victim
                 run_fault point_of points_of yaml_at allowed_cpus sens_repeat guest_kernel
                 qemu_dir guest_missing with_spinners thread_run_ns cpu_roots cgroup_dir);
our @EXPORT_OK = qw(check_caught check_case);

our $FAULT = 'build/tests/progs/fault';

# The named arguments of a call, checked: every one in @$need given,
# none outside @$need and @$may. Dies naming the caller and the name.
sub args_of {
    my ($need, $may, @kv) = @_;
    my $sub = (caller(1))[3] =~ s/^KtTest:://r;
    die "$sub: odd number of arguments (named arguments: key => value)\n" if @kv % 2;
    my %a = @kv;
    my %known = map { $_ => 1 } @$need, @$may;
    for (sort keys %a) { die "$sub: unknown argument '$_'\n" unless $known{$_} }
    for (@$need) { die "$sub: missing argument '$_'\n" unless defined $a{$_} }
    return %a;
}

# A scratch directory for run_prog's output files, made on first use.
my $scratch;

# The whole of file f, or '' when it cannot be read.
sub slurp {
    my ($f) = @_;
    open(my $fh, '<', $f) or return '';
    local $/;
    my $s = <$fh>;
    return defined $s ? $s : '';
}

# Runs prog with args (no shell), the variables of env set (undef: unset)
# and stdin from the file stdin when given, and waits for it; returns its
# exit status (127: could not run it), the signal that killed it, its
# stdout and its stderr.
sub run_prog {
    my %a = args_of([qw(prog)], [qw(args env stdin)], @_);
    $scratch //= File::Temp::tempdir('ktstr-run-XXXXXX', TMPDIR => 1, CLEANUP => 1);
    my ($out, $err) = ("$scratch/out", "$scratch/err");
    my $pid = fork();
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        while (my ($k, $v) = each %{ $a{env} // {} }) {
            if (defined $v) { $ENV{$k} = $v } else { delete $ENV{$k} }
        }
        open(STDIN, '<', $a{stdin}) or _exit(126) if defined $a{stdin};
        open(STDOUT, '>', $out) or _exit(126);
        open(STDERR, '>', $err) or _exit(126);
        exec { $a{prog} } $a{prog}, @{ $a{args} // [] } or _exit(127);
    }
    waitpid($pid, 0);
    return { exit => $? >> 8, sig => $? & 127, out => slurp($out), err => slurp($err) };
}

# Starts scenario binary bin alone (--filter scenario --verbose) in the
# background with stdout and stderr in the files out and err; returns its pid.
sub start_scenario {
    my %a = args_of([qw(bin scenario out err)], [], @_);
    my $pid = fork();
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        open(STDOUT, '>', $a{out}) or _exit(126);
        open(STDERR, '>', $a{err}) or _exit(126);
        exec($a{bin}, '--filter', $a{scenario}, '--verbose') or _exit(127);
    }
    return $pid;
}

# Whether process pid descends from ancestor (following ppid links).
sub descends {
    my %a = args_of([qw(pid ancestor)], [], @_);
    my ($p, $ancestor) = @a{qw(pid ancestor)};
    for (1 .. 64) {
        return 1 if $p == $ancestor;
        my ($pp) = slurp("/proc/$p/stat") =~ /\)\s+\S+\s+(\d+)/;
        return 0 unless $pp && $pp > 1;
        $p = $pp;
    }
    return 0;
}

# The /proc/<pid>/task/<tid> directory of the thread named name among
# root's descendants for which ready->(that directory) holds (when given),
# or undef.
sub find_thread {
    my %a = args_of([qw(root name)], [qw(ready)], @_);
    for my $comm (glob '/proc/[0-9]*/task/[0-9]*/comm') {
        my $c = slurp($comm);
        chomp $c;
        next unless $c eq $a{name};
        my ($pid) = $comm =~ m{^/proc/(\d+)/};
        my $task = $comm =~ s{/comm$}{}r;
        return $task if (!$a{ready} || $a{ready}->($task))
                        && descends(pid => $pid, ancestor => $a{root});
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
    my %a = args_of([qw(pid name)], [qw(ready)], @_);
    my $pid = $a{pid};
    my $ready = $a{ready} // sub { my ($run) = slurp("$_[0]/schedstat") =~ /^(\d+)/;
                                   defined $run && $run >= 5_000_000 };
    my $deadline = time() + 10;
    while (time() < $deadline) {
        my ($state) = slurp("/proc/$pid/stat") =~ /\)\s+(\S)/;
        return 0 if !defined $state || $state eq 'Z';
        return 1 if find_thread(root => $pid, name => $a{name}, ready => $ready);
        sleep(0.005);
    }
    return 0;
}

# Runs build/tests/progs/fault with args (after --under PID when under is
# given), its report (stdout and stderr) captured, not printed; returns its
# exit status and the report. With show => 1 the report goes to diag when
# the fault failed.
sub run_fault {
    my %a = args_of([qw(args)], [qw(under show)], @_);
    my @args = ((defined $a{under} ? ('--under', $a{under}) : ()), @{ $a{args} });
    my $pid = open(my $fh, '-|');
    die "fork: $!" unless defined $pid;
    if (!$pid) {
        open(STDERR, '>&', \*STDOUT);
        exec($FAULT, @args) or _exit(127);
    }
    my $said = do { local $/; <$fh> } // '';
    close($fh);
    my $rc = $? >> 8 || ($? ? 128 : 0);
    Test::More::diag("fault @args: $said") if $a{show} && $rc;
    return ($rc, $said);
}

# Runs code while n spinners (outside any scenario's process tree: load
# from the rest of the machine) keep CPUs busy, for 120 s at most; kills
# and reaps them whatever code did, and returns what it returned.
sub with_spinners {
    my ($n, $code) = @_;
    my @spin;
    for (1 .. $n) {
        my $pid = fork();
        die "fork: $!" unless defined $pid;
        if ($pid == 0) {
            my $until = time + 120;
            1 while time < $until;
            _exit(0);
        }
        push @spin, $pid;
    }
    my @got = eval { $code->() };
    my $err = $@;
    kill 'KILL', @spin;
    waitpid($_, 0) for @spin;
    die $err if $err;
    return wantarray ? @got : $got[0];
}

# The cpu controller's hierarchy roots, as the library finds them: the
# cgroup2 mount at /sys/fs/cgroup (v2), else every v1 hierarchy with the
# cpu controller; the version first.
sub cpu_roots {
    my @roots;
    for my $line (split /\n/, slurp('/proc/self/mountinfo')) {
        my ($pre, $post) = split / - /, $line, 2;
        next unless defined $post;
        my $mp = (split ' ', $pre)[4];
        my ($fstype, undef, $sopts) = split ' ', $post;
        return (2, $mp) if $fstype eq 'cgroup2' && $mp eq '/sys/fs/cgroup';
        push @roots, $mp if $fstype eq 'cgroup' && grep { $_ eq 'cpu' } split /,/, $sopts;
    }
    return (1, @roots);
}

# The cpu controller's directory of the scratch group named leaf (and,
# with sub, its child sub) that a child of runner made
# (ktstr-<creator pid>-<start>-<n>-<leaf>), or undef. Groups of other
# runs are not ours.
sub cgroup_dir {
    my ($runner, $leaf, $sub) = @_;
    my (undef, @roots) = cpu_roots();
    for my $root (@roots) {
        for my $d (glob("$root/ktstr-*-$leaf")) {
            my ($creator) = $d =~ m{/ktstr-(\d+)-[\d-]+-\Q$leaf\E$} or next;
            my ($ppid) = slurp("/proc/$creator/stat") =~ /\)\s+\S+\s+(\d+)/;
            next unless defined $ppid && $ppid == $runner;
            return defined $sub ? (-d "$d/$sub" ? "$d/$sub" : undef) : $d;
        }
    }
    return undef;
}

# Run time of a thread (its /proc task directory) in ns, from schedstat.
sub thread_run_ns { my ($task) = @_; return (split ' ', slurp("$task/schedstat"))[0] // 0 }

# Every test point of a TAP stream, in order: ok (actual), name,
# directive, skip, reason (the directive's explanation), yaml, and its
# failures with their labels and messages. A point the host's starvation
# made inconclusive ("# SKIP inconclusive: ...") is not a skip here but
# inconclusive: a test that wants a failure must not pass over it.
sub points_of {
    my ($tap) = @_;
    my $p = TAP::Parser->new({ tap => $tap // '' });
    my @pts;
    while (my $r = $p->next) {
        if ($r->is_test) {
            my $inconclusive = $r->has_skip && ($r->explanation // '') =~ /^inconclusive: /;
            (my $name = $r->description // '') =~ s/^- //;
            push @pts, { ok => $r->is_actual_ok, name => $name, directive => $r->directive,
                         skip => $r->has_skip && !$inconclusive, inconclusive => $inconclusive,
                         reason => $r->explanation,
                         yaml => undef, failures => [], labels => [], msgs => [] };
        } elsif ($r->is_yaml && @pts) {
            my $pt = $pts[-1];
            $pt->{yaml} = $r->data;
            my $f = ref $pt->{yaml} eq 'HASH' ? $pt->{yaml}{failures} : undef;
            $pt->{failures} = ref $f eq 'ARRAY' ? $f : [];
            $pt->{labels} = [ map { $_->{label} } @{ $pt->{failures} } ];
            $pt->{msgs} = [ map { $_->{message} } @{ $pt->{failures} } ];
        }
    }
    return @pts;
}

# The single (last) test point of a TAP stream, as points_of, or undef.
sub point_of {
    my @pts = points_of(@_);
    return $pts[-1];
}

# The value at a path of keys in a point's YAML (yaml_at($pt, 'vm',
# 'accel')), or undef where the point, a map or the key is missing.
sub yaml_at {
    my ($pt, @path) = @_;
    my $h = $pt ? $pt->{yaml} : undef;
    $h = ref $h eq 'HASH' ? $h->{$_} : undef for @path;
    return $h;
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

# The guest kernel the VM tests boot: KTSTR_KERNEL, else make kernel's.
sub guest_kernel { return $ENV{KTSTR_KERNEL} || 'build/kernel/bzImage' }

# The first directory of PATH with an executable qemu-system-x86_64, or
# undef.
sub qemu_dir {
    my ($d) = grep { -x "$_/qemu-system-x86_64" } split /:/, $ENV{PATH} // '';
    return $d;
}

# Why no guest can boot here (no kernel, no QEMU on PATH), for a skip;
# undef when one can.
sub guest_missing {
    my $kernel = guest_kernel();
    return "no guest kernel at $kernel (run `make kernel`)" unless -r $kernel;
    return 'no qemu-system-x86_64 on PATH (apt-get install qemu-system-x86)' unless qemu_dir();
    return undef;
}

# How many times to run each case: KT_SENS_REPEAT (default 1).
sub sens_repeat { return $ENV{KT_SENS_REPEAT} || 1 }

# Fairness and starvation: runs scenario (of binary bin) with its faults
# applied once the first victim has run 5 ms, then judges the TAP: 3
# checks (one point, the faults applied, it fails on label; why says what
# the faults did). faults is a list of fault argument lists, or a sub
# given the scenario's pid that returns one (then victim names the thread
# to wait for).
sub check_caught {
    my %a = args_of([qw(bin scenario faults label why)], [qw(victim)], @_);
    my ($bin, $name) = @a{qw(bin scenario)};
    my $dir = File::Temp::tempdir(CLEANUP => 1);
    my $pid = start_scenario(bin => $bin, scenario => $name, out => "$dir/out",
                             err => "$dir/err");
    my $victim = ref $a{faults} eq 'CODE' ? $a{victim} : $a{faults}[0][1];
    wait_victim(pid => $pid, name => $victim);
    my @faults = ref $a{faults} eq 'CODE' ? $a{faults}->($pid) : @{ $a{faults} };
    my $frc = @faults ? 0 : -1;
    # fault tells what it did: kept for the diagnostics.
    my $log = '';
    for my $f (@faults) {
        my ($rc, $said) = run_fault(under => $pid, args => $f);
        $log .= $said;
        $frc = $rc;
        last if $frc;
    }
    my @args = map { @$_, ';' } @faults;
    pop @args;
    waitpid($pid, 0);
    my $status = $? >> 8;
    my $pt = point_of(slurp("$dir/out"));
    SKIP: {
        Test::More::skip("$name skipped: $pt->{reason}", 3) if $pt && $pt->{skip};
        Test::More::ok($pt, "$name: one test point") or Test::More::diag(slurp("$dir/err"));
        Test::More::is($frc, 0, "$name: fault @args applied") or Test::More::diag($log);
        my @f = $pt ? @{ $pt->{failures} } : ();
        my @hit = grep { $_->{label} eq $a{label} } @f;
        Test::More::ok($pt && !$pt->{ok} && $status == 1 && @hit,
                       "$name: $a{why} fails '$a{label}'")
            or Test::More::diag("exit $status; failures: ",
                                join('; ', map { $_->{message} } @f) || 'none',
                                "\n", $log, slurp("$dir/out"));
        Test::More::note("caught: $hit[0]{message}") if @hit;
    }
}

# Affinity and policy: runs scenario of binary bin and applies fault (one
# fault argument list) as soon as victim is found and ready->(its /proc
# task directory) holds (its own knobs are applied: a fault before that
# would be undone by the worker itself). Returns the point (see point_of,
# {} when none) with fault (its exit status, -1 when not run), fault_log
# and tap.
sub run_faulted {
    my %a = args_of([qw(bin scenario victim ready fault)], [], @_);
    my $dir = File::Temp::tempdir(CLEANUP => 1);
    my $pid = start_scenario(bin => $a{bin}, scenario => $a{scenario}, out => "$dir/out",
                             err => "$dir/err");
    # The scenario may take a CPU away (a FIFO spinner) while the other is
    # busy: without priority this driver and the fault would act too late.
    setpriority(0, $$, -20) or Test::More::diag("setpriority: $!");
    my $up = wait_victim(pid => $pid, name => $a{victim}, ready => $a{ready});
    my ($frc, $log) = (-1, '');
    ($frc, $log) = run_fault(under => $pid, args => $a{fault}) if $up;
    setpriority(0, $$, 0);
    waitpid($pid, 0);
    my $tap = slurp("$dir/out");
    my $pt = point_of($tap) // { labels => [], msgs => [] };
    return { %$pt, fault => $frc, fault_log => $log, tap => $tap };
}

# One case, KT_SENS_REPEAT times: run_faulted's fault must turn the point
# into "not ok" with a failure labelled one of @$want (and every failure
# belongs to the property: family, a regex).
sub check_case {
    my %a = args_of([qw(bin scenario want family victim ready fault)], [], @_);
    my ($name, $want, $family) = @a{qw(scenario want family)};
    my @fault = @{ $a{fault} };
    for my $i (1 .. sens_repeat()) {
        my $pt = run_faulted(map { $_ => $a{$_} } qw(bin scenario victim ready fault));
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
