#!/usr/bin/perl
# Sensitivity of scenarios/policy.c: break each policy from outside while
# the scenario runs (as a scheduler ignoring the class would) and show the
# scenario fails on the claim that names the property. KT_SENS_REPEAT runs
# each case that many times (default 1).
use strict;
use warnings;
use Test::More;
use TAP::Parser;
use File::Temp qw(tempdir);
use Time::HiRes qw(sleep time);
use POSIX qw(WNOHANG);

my $scen  = 'build/scenarios/policy.t';
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

# Field $n (1-based, as in proc(5)) of a thread's stat.
sub stat_field {
    my ($task, $n) = @_;
    my ($rest) = slurp("$task/stat") =~ /\)\s+(.*)$/s;
    return (split ' ', $rest // '')[$n - 3];
}

# Ready once the victim runs with its own policy (field 41: 1 FIFO, 5 IDLE).
sub has_policy {
    my ($want) = @_;
    return sub { my $p = stat_field($_[0], 41); defined $p && $p == $want };
}

# The FIFO spinner turned back to SCHED_OTHER shares the CPU half and half
# (on a crowded CPU both get little: then fifo_share is the one that fails).
check_case('policy_fifo_preempts', [qw(other_share fifo_share)], qr/^(other|fifo)_share$/,
           'ktw1', has_policy(1), 'other', 'ktw1');
# The SCHED_IDLE spinner turned to SCHED_OTHER gets half the CPU.
check_case('policy_idle_yields', [qw(idle_share)], qr/^idle_share$/,
           'ktw1', has_policy(5), 'other', 'ktw1');

done_testing();
