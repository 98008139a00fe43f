#!/usr/bin/perl
# Sensitivity of scenarios/affinity.c: break each confinement from outside
# while the scenario runs (as a scheduler ignoring the mask or the cpuset
# would) and show the scenario fails on the claims that name the property. KT_SENS_REPEAT runs
# each case that many times (default 1).
use strict;
use warnings;
use Test::More;
use TAP::Parser;
use File::Temp qw(tempdir);
use Time::HiRes qw(sleep time);
use POSIX qw(WNOHANG);

my $scen  = 'build/scenarios/affinity.t';
my $fault = 'build/tests/progs/fault';
plan skip_all => "$scen or $fault is not built (run make)" unless -x $scen && -x $fault;
my $repeat = $ENV{KT_SENS_REPEAT} || 1;

sub slurp {
    my ($f) = @_;
    open(my $fh, '<', $f) or return '';
    local $/;
    my $s = <$fh>;
    return defined $s ? $s : '';
}

sub descends_from {
    my ($pid, $root) = @_;
    for (1 .. 64) {
        return 1 if $pid == $root;
        my $st = slurp("/proc/$pid/stat");
        return 0 unless $st =~ /\)\s+\S\s+(\d+)/;
        $pid = $1;
        return 0 if $pid <= 1;
    }
    return 0;
}

# The /proc/<pid>/task/<tid> directory of the thread named $name among
# $root's descendants, or undef.
sub find_thread {
    my ($root, $name) = @_;
    for my $comm (glob '/proc/[0-9]*/task/[0-9]*/comm') {
        my ($pid) = $comm =~ m{^/proc/(\d+)/};
        my $c = slurp($comm);
        chomp $c;
        return $comm =~ s{/comm$}{}r if $c eq $name && descends_from($pid, $root);
    }
    return undef;
}

# Runs scenario $name and applies the fault as soon as $victim is found
# and $ready->(its /proc task directory) holds (its own knobs are applied:
# a fault before that would be undone by the worker itself). Returns the
# point: { ok, skip, reason, labels, msgs, fault, fault_log, tap }.
sub run_faulted {
    my ($name, $victim, $ready, @fault) = @_;
    my $dir = tempdir(CLEANUP => 1);
    my $pid = fork() // die "fork: $!";
    if ($pid == 0) {
        open(STDOUT, '>', "$dir/out") or die;
        open(STDERR, '>', "$dir/err") or die;
        exec($scen, '--filter', $name, '--verbose') or POSIX::_exit(127);
    }
    # The scenario may take a CPU away (a FIFO spinner) while the other is
    # busy: without priority this driver and the fault would act too late.
    setpriority(0, $$, -20) or diag("setpriority: $!");
    my $deadline = time() + 10;
    my $up = 0;
    while (time() < $deadline && waitpid($pid, WNOHANG) == 0) {
        my $task = find_thread($pid, $victim);
        if ($task && $ready->($task)) { $up = 1; last; }
        sleep(0.005);
    }
    my $frc = -1;
    $frc = system("$fault --under $pid @fault >$dir/fault 2>&1") >> 8 if $up;
    setpriority(0, $$, 0);
    waitpid($pid, 0) if kill(0, $pid);
    my $p = TAP::Parser->new({ tap => slurp("$dir/out") });
    my %pt = (fault => $frc, fault_log => slurp("$dir/fault"), tap => slurp("$dir/out"),
              labels => [], msgs => []);
    while (my $r = $p->next) {
        if ($r->is_test) {
            $pt{ok} = $r->is_actual_ok;
            $pt{skip} = $r->has_skip;
            $pt{reason} = $r->explanation;
        } elsif ($r->is_yaml && exists $pt{ok}) {
            for my $f (@{ $r->data->{failures} || [] }) {
                push @{ $pt{labels} }, $f->{label};
                push @{ $pt{msgs} }, $f->{message};
            }
        }
    }
    return \%pt;
}

# One case: the fault must turn the point into "not ok" with a failure
# labelled one of @$want (and every failure belongs to the property: $family).
sub check_case {
    my ($name, $want, $family, $victim, $ready, @fault) = @_;
    for my $i (1 .. $repeat) {
        my $pt = run_faulted($name, $victim, $ready, @fault);
        SKIP: {
            skip("$name: $pt->{reason}", 3) if $pt->{skip};
            is($pt->{fault}, 0, "$name: fault @fault applied") or diag($pt->{fault_log});
            ok(defined $pt->{ok} && !$pt->{ok}, "$name: not ok under the fault")
                or diag("fault: $pt->{fault_log}\nscenario:\n$pt->{tap}");
            my %got = map { $_ => 1 } @{ $pt->{labels} };
            ok((grep { $got{$_} } @$want) && !(grep { $_ !~ $family } keys %got),
               "$name: fails on @$want")
                or diag(join("\n", @{ $pt->{msgs} }));
        }
    }
}

# The CPUs this process may run on (the scenario inherits the same mask).
sub allowed_cpus {
    my ($list) = slurp('/proc/self/status') =~ /^Cpus_allowed_list:\s*(\S+)/m;
    my @cpus;
    for my $r (split /,/, $list // '') {
        my ($a, $b) = split /-/, $r;
        push @cpus, $a .. ($b // $a);
    }
    return @cpus;
}

# Where a thread goes to leave every cpuset: the cpuset hierarchy's root.
sub cpuset_root {
    return '/sys/fs/cgroup' if -e '/sys/fs/cgroup/cgroup.controllers';
    for (split /\n/, slurp('/proc/self/mountinfo')) {
        my @f = split / /;
        my ($sep) = grep { $f[$_] eq '-' } 0 .. $#f;
        next unless defined $sep && $f[$sep + 1] eq 'cgroup';
        return $f[4] if grep { $_ eq 'cpuset' } split /,/, $f[$sep + 3];
    }
    return undef;
}

# Ready once the worker sits in the scenario's cpuset (v1: the cpuset
# line, which its own move writes after the cpu one; v2: the one line).
sub in_scenario_cpuset {
    my ($task) = @_;
    return slurp("$task/cgroup") =~ m{^\d+:(?:[^:\n]*\bcpuset\b[^:\n]*)?:/ktstr-}m;
}

my @cpus = allowed_cpus();

# Where the scenario cannot run (one CPU, no cpuset controller) it skips,
# and so does its case here, with the scenario's own reason.

# ktw0 is pinned to the first allowed CPU; pinning it to the second one
# is a migration the scenario must see.
check_case('aff_pinned_stays', [qw(cpus_outside_mask migrations_worst)],
           qr/^(ktw\d+\.)?(cpus_outside_mask|migrations|migrations_worst)$/,
           'ktw0', sub { slurp("$_[0]/status") =~ /^Cpus_allowed_list:\s*$cpus[0]\s*$/m },
           'pin', 'ktw0', $cpus[-1]);

# ktw0 moved into the root cpuset may run anywhere.
check_case('aff_cpuset_isolation', [qw(allowed_outside_cpuset cpus_outside_cpuset)],
           qr/^(ktw\d+\.)?(allowed_outside_cpuset|cpus_outside_cpuset|migrations|migrations_worst)$/,
           'ktw0', \&in_scenario_cpuset, 'move', 'ktw0', cpuset_root() // '/nonexistent');

done_testing();
