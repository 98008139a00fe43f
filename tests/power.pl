#!/usr/bin/perl
# Detection power (README: Detection power): for each catalog scenario and
# the graded fault that matches the property it claims, the smallest fault
# size the scenario catches in at least 95% of trials, and its false
# alarms in healthy runs.
#
#   perl tests/power.pl [--trials N] [--only NAME[,NAME...]] [--soak FILE]
#                       [--rows FILE] [--list]
#   make power [TRIALS=20] [ONLY=...] [SOAK=FILE]
#
# A size is caught when the point is not ok and names one of the row's
# claims; a miss is a pass, a failure on another claim, or an inconclusive
# point (host starvation, README: On a busy machine). Each size runs up
# to N trials (default 20) and stops as soon as more than N - ceil(0.95 N)
# missed (the size cannot reach 95% any more), so only caught sizes cost
# all N. The sizes of a row are bisected: the scenario is assumed to catch
# every size above one it catches. A row's start (the last table's
# answer) is tried first and then the size next to it, so a row whose
# answer has not moved costs one caught size and one missed.
#
# False alarms come from healthy runs recorded by `make soak` (the
# calibrate.pl raw file, build/soak.raw by default, or --soak FILE): the
# not-ok points of each scenario out of its runs that were not
# inconclusive, with the Wilson 95% upper bound of the rate.
#
# With KTSTR_VM=1 (and KTSTR_KERNEL) in the environment the rows marked
# vm run in guests, their fault started inside the guest by
# KTSTR_GUEST_FAULT; otherwise the host rows run here, the fault applied
# with --under the scenario's pid once its victim has run 5 ms.
#
# Prints one line per row,
#   power: <scenario> <fault> <size><unit> caught <k>/<n> false_alarms <a>/<m>
# ("none" for the size when even the largest was not caught, with the
# largest size's count), then a Markdown table with the next smaller size
# and its count, the Wilson bound and the seconds each row took. A trial
# in error (no point, a fault that could not be applied) is run again;
# the third error of a size ends its row, which makes the exit status 1.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Cwd qw(getcwd);
use Getopt::Long;
use File::Temp qw(tempdir);
use POSIX qw(ceil);
use Time::HiRes qw(time);
use KtTest;

my ($trials, $only, $soak, $rows_file, $list) = (20, '', 'build/soak.raw', '', 0);
GetOptions('trials=i' => \$trials, 'only=s' => \$only, 'soak=s' => \$soak,
           'rows=s' => \$rows_file, 'list' => \$list)
    or die "usage: power.pl [--trials N] [--only NAME,...] [--soak FILE] [--rows FILE] [--list]\n";
die "power.pl: --trials must be at least 1, not $trials\n" if $trials < 1;
my $vm = $ENV{KTSTR_VM} ? 1 : 0;
my $fault = $KtTest::FAULT;

# ---- the rows: a scenario, its fault, the sizes to try ----------------------
#
# scenario, bin       the point and its binary
# fault, unit         what is dialled, as the line prints it
# sizes               ascending: a larger size is a larger fault
# labels              the claims that name the property (a regex)
# victim, ready       the thread to wait for before the fault (host mode),
#                     and when it is ready (wait_victim's default: run 5 ms)
# args                sub(size, scenario pid) -> list of fault argument lists,
#                     run one after another (() when it cannot be applied)
# start               the size tried first (the last table's answer)
# vm                  1: a guest row (runs only with KTSTR_VM=1), 2: both
# env                 more environment for a guest row
# scheduler           sub(size) -> the sched_ext scheduler of a guest row
#                     (KTSTR_SCHEDULER), for a fault that is the
#                     scheduler's own; such a row needs no args
my @rows = $rows_file ? do_rows($rows_file) : catalog_rows();

sub do_rows {
    my ($f) = @_;
    my @r = do($f =~ m{^/} ? $f : "./$f");
    die "power.pl: --rows $f: $@\n" if $@;
    die "power.pl: --rows $f: $!\n" if !@r && $!;
    die "power.pl: --rows $f: no rows (the file must end in a list of row hashes)\n" unless @r;
    return @r;
}

# Fault argument lists, one per kind of graded fault.
sub renice { my ($name) = @_; return sub { (['renice', $name, $_[0]]) } }
# name held off every CPU (ptrace) for size ms at the start of every second
sub freeze { my ($name) = @_;
             return sub { (['--hold-ms', $_[0], '--period-ms', 1000, 'freeze', $name]) } }
# name made SCHED_FIFO prio for size ms of every 100 ms
sub fifo_duty { my ($name, $prio) = @_;
                return sub { (['--hold-ms', $_[0], '--period-ms', 100, 'fifo', $name, $prio]) } }
# the cpu weight of the scenario's group leaf (/sub) skewed down by size %
sub weight_skew {
    my ($leaf, $sub) = @_;
    return sub {
        my ($size, $pid) = @_;
        my $d = cgroup_dir($pid, $leaf, $sub) or return ();
        my $file = -e "$d/cpu.weight" ? 'cpu.weight' : 'cpu.shares';
        return (['--hold-ms', 2500, 'scale', "$d/$file", 100 - $size]);
    };
}
# the CPU quota of the scenario's group leaf raised by size %
sub quota_raise {
    my ($leaf) = @_;
    return sub {
        my ($size, $pid) = @_;
        my $d = cgroup_dir($pid, $leaf) or return ();
        my $file = -e "$d/cpu.max" ? 'cpu.max' : 'cpu.cfs_quota_us';
        return (['--hold-ms', 2500, 'scale', "$d/$file", 100 + $size]);
    };
}

my @NICE = (1, 2, 3, 5, 8, 12, 19);           # nice steps
my @STALL = (5, 10, 20, 50, 100, 200, 400);   # ms held off the CPU per second
my @DUTY = (2, 5, 10, 20, 40, 70);            # ms of SCHED_FIFO per 100 ms
my @SKEW = (5, 10, 20, 30, 50, 70);           # % of a weight taken away

# The host catalog's rows: every scenario a graded fault fits (README:
# Detection power says which do not, and why).
sub catalog_rows {
    my @cpus = allowed_cpus();
    my ($cpu, $ncpu) = ($cpus[0] // 0, scalar(@cpus) || 1);
    my $b = sub { "build/scenarios/$_[0].t" };
    return (
        { scenario => 'fair_equal_hogs', start => 3, bin => $b->('fairness'), fault => 'renice',
          unit => 'nice', sizes => \@NICE, victim => 'ktw1', args => renice('ktw1'),
          labels => qr/^(share_spread|jain|ktw\d+\.share_of_mean)$/ },
        { scenario => 'fair_nice_weights', start => 1, bin => $b->('fairness'), fault => 'renice',
          unit => 'nice', sizes => [1, 2, 3, 4, 5], args => renice('ktw0'),
          labels => qr/^ratio_nice5$/ },
        { scenario => 'fair_cgroup_weights', start => 20, bin => $b->('fairness'), fault => 'weight_skew',
          unit => '%', sizes => \@SKEW, args => weight_skew('fairheavy'),
          labels => qr/^cgroup_ratio/ },
        { scenario => 'cg_nested_weights', start => 20, bin => $b->('cgroups'), fault => 'weight_skew',
          unit => '%', sizes => \@SKEW, args => weight_skew('nestA', 'a1'),
          labels => qr/^nested_ratio/ },
        { scenario => 'cg_bandwidth_max', start => 50, bin => $b->('cgroups'), fault => 'quota_raise',
          unit => '%', sizes => [5, 10, 20, 50, 100], args => quota_raise('capped'),
          labels => qr/^group_cpu_share/ },
        { scenario => 'lat_wakeup_idle', start => 20, bin => $b->('latency'), fault => 'stall_per_s',
          unit => 'ms', sizes => \@STALL, victim => 'ktw1', args => freeze('ktw1'),
          labels => qr/^wake_/ },
        { scenario => 'lat_wakeup_loaded', start => 100, bin => $b->('latency'), fault => 'stall_per_s',
          unit => 'ms', sizes => \@STALL, victim => 'ktw1', args => freeze('ktw1'),
          labels => qr/^wake_/ },
        # the spinner on the first CPU made SCHED_FIFO: the pair moves to
        # the other CPU rather than wait (none caught up to 70 ms)
        { scenario => 'lat_wakeup_loaded', bin => $b->('latency'), fault => 'fifo_per_100ms',
          unit => 'ms', sizes => \@DUTY, victim => 'ktw2', args => fifo_duty('ktw2', 50),
          labels => qr/^wake_/ },
        { scenario => 'lat_timer_periodic', start => 20, bin => $b->('latency'), fault => 'stall_per_s',
          unit => 'ms', sizes => \@STALL, args => freeze('ktw0'),
          labels => qr/^(late_|tick_period_us)/ },
        { scenario => 'wake_fanout', start => 50, bin => $b->('latency'), fault => 'stall_per_s',
          unit => 'ms', sizes => \@STALL, victim => 'ktw1', args => freeze('ktw1'),
          labels => qr/^(wake_|round_us)/ },
        { scenario => 'preempt_storm', start => 10, bin => $b->('messaging'), fault => 'stall_per_s',
          unit => 'ms', sizes => \@STALL, args => freeze('ktw0'),
          labels => qr/(late_p99_us|missed_frac)/ },
        # the first spinner (after 2 x ncpu preempters) made SCHED_FIFO 50,
        # above the preempters' 10: the ones due on its CPU wait it out
        { scenario => 'preempt_storm', bin => $b->('messaging'), fault => 'fifo_per_100ms',
          unit => 'ms', sizes => \@DUTY, victim => 'ktw' . 2 * $ncpu,
          args => fifo_duty('ktw' . 2 * $ncpu, 50), labels => qr/(late_p99_us|missed_frac)/ },
        { scenario => 'msg_schbench', start => 200, bin => $b->('messaging'), fault => 'stall_per_s',
          unit => 'ms', sizes => \@STALL, victim => 'ktw1', args => freeze('ktw1'),
          labels => qr/(served|req_p\d+_us)/ },
        { scenario => 'bursty_gets_its_time', start => 8, bin => $b->('messaging'), fault => 'renice',
          unit => 'nice', sizes => \@NICE, args => renice('ktw0'),
          labels => qr/^ktw0\.cpu_/ },
        { scenario => 'starve_none', start => 40, bin => $b->('starvation'), fault => 'fifo_per_100ms',
          unit => 'ms', sizes => \@DUTY, args => fifo_duty('ktw0', 10),
          labels => qr/(gap|share)/ },
        { scenario => 'rt_periodic_deadlines', start => 20, bin => $b->('realtime'), fault => 'fifo_hog_per_100ms',
          unit => 'ms', sizes => \@DUTY,
          args => sub { (['--hold-ms', $_[0], '--period-ms', 100, '--for-ms', 1600,
                          'hog', $cpu, 61]) },
          labels => qr/^(missed|late_)/ },
        # renice moves no lock share (a waiter sleeps, whatever its nice:
        # none caught up to 19), a locker held off its CPU does
        { scenario => 'lock_mutex_fair', bin => $b->('locks'), fault => 'stall_per_s',
          unit => 'ms', sizes => \@STALL, args => freeze('ktw0'),
          labels => qr/^(acq_|wait_)/ },
        { scenario => 'renice_midrun', start => 2, bin => $b->('midrun'), fault => 'renice',
          unit => 'nice', sizes => [1, 2, 3, 4, 5], args => renice('ktw0'),
          labels => qr/^ratio_/ },
        { scenario => 'cache_stays_put', start => 20, bin => $b->('churn'), fault => 'migrations_per_s',
          unit => '/s', sizes => [2, 5, 10, 20, 50, 100],
          args => sub { (['--every-ms', int(1000 / $_[0]), '--hold-ms', 10000, 'bounce', 'ktw0',
                          join(',', @cpus)]) },
          labels => qr/^migrations_per_s/ },
        { scenario => 'msg_pipe_mix', start => 400, bin => $b->('messaging'), fault => 'stall_per_s',
          unit => 'ms', sizes => \@STALL, victim => 'ktw1', args => freeze('ktw1'),
          labels => qr/(backlog|lat_p\d+_us)/ },
        # the forker (or thread spawner) held off its CPU: its rate falls
        { scenario => 'churn_fork', start => 200, bin => $b->('churn'), fault => 'stall_per_s',
          unit => 'ms', sizes => \@STALL, args => freeze('ktw0'),
          labels => qr/(rate_of_asked|spawns_per_s|spawn_p99)/ },
        { scenario => 'churn_thread', start => 200, bin => $b->('churn'), fault => 'stall_per_s',
          unit => 'ms', sizes => \@STALL, args => freeze('ktw0'),
          labels => qr/(rate_of_asked|spawns_per_s|spawn_p99)/ },
        { scenario => 'churn_pagefault', start => 200, bin => $b->('churn'), fault => 'stall_per_s',
          unit => 'ms', sizes => \@STALL, args => freeze('ktw0'),
          labels => qr/(rate_of_mean|max_gap|pages_per_s)/ },
        { scenario => 'affinity_churn', start => 50, bin => $b->('midrun'), fault => 'stall_per_s',
          unit => 'ms', sizes => \@STALL, args => freeze('ktw0'), labels => qr/gap/ },
        { scenario => 'cgroup_churn', start => 50, bin => $b->('midrun'), fault => 'stall_per_s',
          unit => 'ms', sizes => \@STALL, args => freeze('ktw0'), labels => qr/gap/ },
        # the worker moved into the heavier group reniced: its share after
        # the move falls short of the group's weight
        { scenario => 'cg_move_gets_share', start => 2, bin => $b->('midrun'), fault => 'renice',
          unit => 'nice', sizes => [1, 2, 3, 4, 5], victim => 'ktw2', args => renice('ktw2'),
          labels => qr/^ratio_/ },
        { scenario => 'cg_nested_move', start => 2, bin => $b->('midrun'), fault => 'renice',
          unit => 'nice', sizes => [1, 2, 3, 4, 5], victim => 'ktw1', args => renice('ktw1'),
          labels => qr/^ratio_/ },
        # the pinned ktw0 pinned elsewhere for size ms, 300 ms after its
        # own pin is in place: inside the window, past the 100 ms warm-up
        # that the scenario leaves out (an excursion there is not judged)
        { scenario => 'aff_pinned_stays', start => 1, bin => $b->('affinity'), fault => 'moved_for',
          unit => 'ms', sizes => [1, 2, 5, 10, 20, 50, 100],
          ready => sub { slurp("$_[0]/status") =~ /^Cpus_allowed_list:\s*$cpus[0]\s*$/m },
          args => sub { (['--after-ms', 300, '--hold-ms', $_[0], 'pin', 'ktw0', $cpus[-1]]) },
          labels => qr/(cpus_used|migrations)/ },
        # the SCHED_OTHER spinner beside the SCHED_IDLE one reniced: the
        # idle one's share grows as the other's weight falls
        { scenario => 'policy_idle_yields', start => 12, bin => $b->('policy'), fault => 'renice',
          unit => 'nice', sizes => \@NICE, args => renice('ktw0'),
          labels => qr/^idle_share$/ },
        # the VMM's first vCPU thread: the host scheduler's share for it
        { scenario => 'vcpu_overcommit_fair', start => 3, bin => $b->('vcpu'), fault => 'renice',
          unit => 'nice', sizes => \@NICE, victim => 'CPU 0/KVM', args => renice('CPU 0/KVM'),
          labels => qr/^(jain|spread|share)/ },
        { scenario => 'vcpu_spin_busy', start => 200, bin => $b->('vcpu'), fault => 'stall_per_s',
          unit => 'ms', sizes => \@STALL, victim => 'CPU 0/KVM',
          args => sub { (['--hold-ms', $_[0], '--period-ms', 1000, 'stop', 'CPU 0/KVM']) },
          labels => qr/share/ },

        # Guest rows (KTSTR_VM=1): the fault runs inside the guest.
        { vm => 1, scenario => 'fair_nice_weights', start => 1, bin => $b->('fairness'), fault => 'renice',
          unit => 'nice', sizes => [1, 2, 3, 4, 5], args => renice('ktw0'),
          labels => qr/^ratio_nice5$/ },
        { vm => 1, scenario => 'lat_timer_periodic', start => 50, bin => $b->('latency'),
          fault => 'stall_per_s', unit => 'ms', sizes => \@STALL, args => freeze('ktw0'),
          labels => qr/^(late_|tick_period_us)/ },
        { vm => 1, scenario => 'starve_none', bin => $b->('starvation'),
          fault => 'fifo_per_100ms', unit => 'ms', sizes => \@DUTY, args => fifo_duty('ktw0', 10),
          labels => qr/(gap|share)/ },
        { vm => 1, scenario => 'llc_cache_stays', start => 10, bin => $b->('placement'),
          fault => 'migrations_per_s', unit => '/s', sizes => [2, 5, 10, 20, 50],
          args => sub { (['--every-ms', int(1000 / $_[0]), '--hold-ms', 10000, 'bounce', 'ktw0',
                          '0,2']) },
          labels => qr/^cross_llc/ },
        # its shape has one LLC per node: CPUs 0 and 2 are on two nodes
        { vm => 1, scenario => 'numa_stays_home', start => 10, bin => $b->('placement'),
          fault => 'migrations_per_s', unit => '/s', sizes => [2, 5, 10, 20, 50],
          args => sub { (['--every-ms', int(1000 / $_[0]), '--hold-ms', 10000, 'bounce', 'ktw0',
                          '0,2']) },
          labels => qr/^cross_node/ },
        # The sched_ext row: builtin:lazy leaves CPU 1 idle for the first
        # size ms of every 100 ms while tasks wait (builtin:lazy:0 is its
        # healthy self, the soak's). scx_userland stopped for S ms of every
        # second was no defect to measure: scx_ext_progress already fails
        # under a healthy scx_userland (README).
        { vm => 1, scenario => 'scx_ext_progress', start => 30, bin => $b->('scx'),
          fault => 'cpu1_idle_per_100ms', unit => 'ms', sizes => [5, 10, 20, 30, 50, 70],
          scheduler => sub { "builtin:lazy:$_[0]" },
          labels => qr/^(cpu_use|ktw\d+\.max_gap_ms)$/ },
    );
}

for my $r (@rows) {
    for my $k (qw(scenario bin fault unit sizes labels), $r->{scheduler} ? () : 'args') {
        die "power.pl: a row" . ($r->{scenario} ? " ($r->{scenario})" : '') . " has no $k\n"
            unless defined $r->{$k};
    }
    die "power.pl: $r->{scenario}: a scheduler row runs in guests only (vm => 1)\n"
        if $r->{scheduler} && ($r->{vm} // 0) != 1;
    die "power.pl: $r->{scenario}: sizes must ascend\n"
        if grep { $r->{sizes}[$_] <= $r->{sizes}[$_ - 1] } 1 .. $#{ $r->{sizes} };
}
my %want = map { $_ => 1 } grep { length } split /,/, $only;
for my $name (sort keys %want) {
    die "power.pl: --only $name: no such row (power.pl --list names them)\n"
        unless grep { $_->{scenario} eq $name } @rows;
}
@rows = grep { !%want || $want{ $_->{scenario} } } @rows;
@rows = grep { ($_->{vm} // 0) == 2 || ($_->{vm} // 0) == $vm } @rows;
if ($list) {
    printf "%s %s %s\n", $_->{scenario}, $_->{fault}, join(',', @{ $_->{sizes} }) for @rows;
    exit 0;
}
die "power.pl: no row to run" . ($vm ? ' in VM mode' : '') . "\n" unless @rows;

# ---- one trial ----------------------------------------------------------------

my $dir = tempdir('ktstr-power-XXXXXX', TMPDIR => 1, CLEANUP => 1);

# Runs row's scenario once with the fault of size; returns 'caught',
# 'missed', 'inconclusive', or 'error: why'.
sub trial {
    my ($row, $size) = @_;
    my $pt;
    if ($vm) {
        # in a guest the fault starts with the body: it lets the workers
        # set their own knobs first
        my @f = map { ['--after-ms', 300, @$_] } $row->{args} ? $row->{args}->($size, 0) : ();
        return 'error: the fault has no arguments in a guest' unless @f || $row->{scheduler};
        my $env = join(' ; ', map { join(' ', @$_) } @f);
        my $r = run_prog(prog => $row->{bin}, args => ['--filter', $row->{scenario}, '--verbose'],
                         env => { KTSTR_STRICT => undef, %{ $row->{env} // {} },
                                  KTSTR_GUEST_FAULT => @f ? "$fault $env" : undef,
                                  $row->{scheduler}
                                      ? (KTSTR_SCHEDULER => $row->{scheduler}->($size)) : () });
        $pt = point_of($r->{out});
        return "error: no test point (stderr: $r->{err})" unless $pt;
    } else {
        my $pid = start_scenario(bin => $row->{bin}, scenario => $row->{scenario},
                                 out => "$dir/out", err => "$dir/err");
        my $why = '';
        if (wait_victim(pid => $pid, name => $row->{victim} // 'ktw0',
                        ($row->{ready} ? (ready => $row->{ready}) : ()))) {
            my @f = $row->{args}->($size, $pid);
            $why = 'the fault could not be placed' unless @f;
            for my $f (@f) {
                my ($rc, $said) = run_fault(args => $f, under => $pid);
                if ($rc) { $why = "fault @$f: $said"; last }
            }
        }
        waitpid($pid, 0);
        $pt = point_of(slurp("$dir/out"));
        return "error: no test point (stderr: " . slurp("$dir/err") . ')' unless $pt;
        return "error: $why" if $why && !$pt->{skip};
    }
    return "error: skipped: $pt->{reason}" if $pt->{skip};
    return 'inconclusive' if $pt->{inconclusive};
    return 'missed' if $pt->{ok};
    return (grep { $_ =~ $row->{labels} } @{ $pt->{labels} }) ? 'caught' : 'missed';
}

# Up to $trials trials of size: { caught, n, inconclusive, error }.
# Stops once the misses rule 95% out.
sub evaluate {
    my ($row, $size) = @_;
    my $need = ceil(0.95 * $trials);
    my %e = (caught => 0, n => 0, inconclusive => 0, errors => 0);
    while ($e{n} < $trials) {
        my $t = trial($row, $size);
        # one trial in error (a victim gone before the fault found it) is
        # retried; a third says the row cannot be measured
        if ($t =~ /^error: / && ++$e{errors} > 2) {
            $e{error} = $t =~ s/^error: //r;
            last;
        }
        next if $t =~ /^error: /;
        $e{n}++;
        $e{caught}++ if $t eq 'caught';
        $e{inconclusive}++ if $t eq 'inconclusive';
        last if $e{n} - $e{caught} > $trials - $need;
    }
    # progress, for whoever watches a long run
    printf STDERR "# power: %s %s%s: caught %d/%d%s\n", $row->{scenario}, $size, $row->{unit},
        $e{caught}, $e{n}, $e{inconclusive} ? " ($e{inconclusive} inconclusive)" : '';
    $e{ok} = !$e{error} && $e{caught} >= $need;
    return \%e;
}

# ---- healthy runs -----------------------------------------------------------

# scenario -> [ not ok, runs judged ] from the soak's raw file
# (calibrate.pl: "point <mode> <scenario> <status>" lines).
my %healthy;
if (open(my $fh, '<', $soak)) {
    while (<$fh>) {
        chomp;
        my ($tag, $mode, $scn, $status) = split /\t/;
        next unless $tag eq 'point' && defined $status;
        next if $status eq 'skip' || $status eq 'inconclusive';
        $healthy{$scn}[0] += $status eq 'not ok' ? 1 : 0;
        $healthy{$scn}[1]++;
    }
}

# The Wilson score interval's upper end (95%) of a successes in m trials.
sub wilson_upper {
    my ($a, $m) = @_;
    return 1 unless $m;
    my ($z, $p) = (1.959964, $a / $m);
    my $c = $p + $z * $z / (2 * $m);
    my $d = $z * sqrt($p * (1 - $p) / $m + $z * $z / (4 * $m * $m));
    return ($c + $d) / (1 + $z * $z / $m);
}

# ---- the bisection ----------------------------------------------------------

my @table;
for my $row (@rows) {
    my $t0 = time;
    my @s = @{ $row->{sizes} };
    my %res;
    my ($lo, $hi) = (-1, scalar @s);    # lo: known missed (or none), hi: known caught
    my $error;
    # the row's start (the size the last table found) is tried first,
    # then its neighbour on the side the result points to; a start that
    # is off costs more evaluations, never another answer
    my @first;
    if (defined $row->{start}) {
        my ($i) = grep { $s[$_] == $row->{start} } 0 .. $#s;
        die "power.pl: $row->{scenario}: start $row->{start} is not one of its sizes\n"
            unless defined $i;
        @first = ($i);
    }
    while ($lo + 1 < $hi) {
        my $mid = @first ? shift @first : int(($lo + $hi) / 2);
        next if $mid <= $lo || $mid >= $hi;
        my $e = $res{$mid} = evaluate($row, $s[$mid]);
        if ($e->{error}) { $error = $e->{error}; last }
        if ($e->{ok}) { $hi = $mid } else { $lo = $mid }
        push @first, ($e->{ok} ? $mid - 1 : $mid + 1) if defined $row->{start} && keys %res == 1;
    }
    my ($a, $m) = @{ $healthy{ $row->{scenario} } // [0, 0] };
    my %line = (row => $row, secs => time - $t0, fa => "$a/$m", wilson => wilson_upper($a, $m),
                error => $error);
    if ($error) {
        print "power: $row->{scenario} $row->{fault} error: $error\n";
    } else {
        my $found = $hi < @s;
        my $e = $found ? $res{$hi} : $res{$#s};
        $line{size} = $found ? "$s[$hi]$row->{unit}" : 'none';
        $line{caught} = "$e->{caught}/$e->{n}";
        $line{below} = $found && $lo >= 0 ? "$s[$lo]$row->{unit} $res{$lo}{caught}/$res{$lo}{n}"
                     : '-';
        $line{cell} = $found ? $line{size} : "none (up to $s[-1]$row->{unit})";
        $line{inconclusive} = $e->{inconclusive};
        print "power: $row->{scenario} $row->{fault} $line{size} caught $line{caught} "
            . "false_alarms $line{fa}\n";
    }
    push @table, \%line;
}

printf "\npower: %d trials per size (at least %d caught), %s mode, %s healthy runs from %s\n",
    $trials, ceil(0.95 * $trials), $vm ? 'VM' : 'host', %healthy ? 'its' : 'no', $soak;
print "| scenario | fault | smallest caught | caught | next smaller | false alarms | "
    . "95% upper | s |\n|---|---|---|---|---|---|---|---|\n";
for my $l (@table) {
    my $r = $l->{row};
    if ($l->{error}) {
        printf "| %s | %s | error: %s | | | | | %.0f |\n", $r->{scenario}, $r->{fault},
            $l->{error} =~ s/\|/\\|/gr =~ s/\n/ /gr, $l->{secs};
        next;
    }
    printf "| %s | %s | %s | %s | %s | %s | %.3f | %.0f |\n", $r->{scenario}, $r->{fault},
        $l->{cell}, $l->{caught}, $l->{below}, $l->{fa}, $l->{wilson}, $l->{secs};
}
# A row that could not be measured fails the run; a size never caught is
# a result.
exit((grep { $_->{error} } @table) ? 1 : 0);
