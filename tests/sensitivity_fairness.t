#!/usr/bin/perl
# Sensitivity of the fairness scenarios: break each property from outside
# while the scenario runs, the way a faulty scheduler would, and check the
# scenario fails on the claim that names that property (not merely fails).
use strict;
use warnings;
use Test::More;
use TAP::Parser;
use File::Temp qw(tempdir);
use POSIX qw(_exit);
use Time::HiRes qw(sleep);

my $scn = 'build/scenarios/fairness.t';
my $fault = 'build/tests/progs/fault';
plan skip_all => "$scn or $fault is not built (run make)" unless -x $scn && -x $fault;

my $dir = tempdir(CLEANUP => 1);

sub slurp {
    my ($f) = @_;
    open(my $fh, '<', $f) or return '';
    local $/;
    my $s = <$fh>;
    return defined $s ? $s : '';
}

# Starts the scenario alone, verbose, in the background; returns its pid.
sub start_scenario {
    my ($name) = @_;
    my $pid = fork();
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        open(STDOUT, '>', "$dir/$name.out") or _exit(127);
        open(STDERR, '>', "$dir/$name.err") or _exit(127);
        exec($scn, '--filter', $name, '--verbose') or _exit(127);
    }
    return $pid;
}

# The single test point of a finished run: ok, skip reason, failure labels.
sub point_of {
    my ($tap) = @_;
    my $p = TAP::Parser->new({ tap => $tap });
    my $pt;
    while (my $r = $p->next) {
        if ($r->is_test) {
            $pt = { ok => $r->is_ok && !$r->has_todo, actual_ok => $r->is_actual_ok,
                    skip => $r->has_skip ? $r->explanation : undef, yaml => undef };
        } elsif ($r->is_yaml && $pt) {
            $pt->{yaml} = $r->data;
        }
    }
    return $pt;
}

sub failures_of {
    my ($pt) = @_;
    my $y = $pt->{yaml};
    return () unless ref $y eq 'HASH' && ref $y->{failures} eq 'ARRAY';
    return @{ $y->{failures} };
}

# The cpu controller's directory of the scratch group named leaf that a
# child of runner made (ktstr-<creator pid>-<n>-<leaf>), as the library
# lays it out: v2 when /sys/fs/cgroup is cgroup2, else the v1 hierarchy
# with the cpu controller. Groups left by other runs are not ours.
sub cgroup_dir {
    my ($runner, $leaf) = @_;
    my @roots;
    for my $line (split /\n/, slurp('/proc/self/mountinfo')) {
        my ($pre, $post) = split / - /, $line, 2;
        next unless defined $post;
        my $mp = (split ' ', $pre)[4];
        my ($fstype, undef, $sopts) = split ' ', $post;
        if ($fstype eq 'cgroup2' && $mp eq '/sys/fs/cgroup') {
            @roots = ($mp);
            last;
        }
        push @roots, $mp if $fstype eq 'cgroup' && grep { $_ eq 'cpu' } split /,/, $sopts;
    }
    for my $root (@roots) {
        for my $d (glob("$root/ktstr-*-$leaf")) {
            my ($creator) = $d =~ m{/ktstr-(\d+)-\d+-[^/]+$} or next;
            my ($ppid) = slurp("/proc/$creator/stat") =~ /\)\s+\S+\s+(\d+)/;
            return $d if defined $ppid && $ppid == $runner;
        }
    }
    return undef;
}

# Whether process p descends from ancestor (following ppid links).
sub descends {
    my ($p, $ancestor) = @_;
    for (1 .. 64) {
        return 1 if $p == $ancestor;
        my ($pp) = slurp("/proc/$p/stat") =~ /\)\s+\S+\s+(\d+)/;
        return 0 unless $pp;
        $p = $pp;
    }
    return 0;
}

# Waits up to 10 s until a thread named name among pid's descendants has
# run 5 ms: workers spin only once every worker has set its own knobs
# (its own nice would undo an earlier renice), so a fault applied then
# sticks, and it lands before the measuring window opens.
sub wait_running {
    my ($pid, $name) = @_;
    for (1 .. 1000) {
        # A scenario that skipped or died has no worker to wait for.
        my ($state) = slurp("/proc/$pid/stat") =~ /\)\s+(\S)/;
        return 0 if !defined $state || $state eq 'Z';
        for my $c (glob('/proc/[0-9]*/task/*/comm')) {
            my $comm = slurp($c);
            chomp $comm;
            next unless $comm eq $name;
            my ($p) = $c =~ m{^/proc/(\d+)/};
            (my $ss = $c) =~ s/comm$/schedstat/;
            my ($run) = slurp($ss) =~ /^(\d+)/;
            return 1 if defined $run && $run >= 5_000_000 && descends($p, $pid);
        }
        sleep(0.01);
    }
    return 0;
}

# Runs one scenario with its faults applied once the first victim runs,
# then judges the TAP.
sub check_caught {
    my (%a) = @_;
    my $name = $a{scenario};
    my $pid = start_scenario($name);
    my $victim = ref $a{fault} eq 'CODE' ? $a{victim} : $a{fault}[0][1];
    wait_running($pid, $victim);
    my @faults = ref $a{fault} eq 'CODE' ? $a{fault}->($pid) : @{ $a{fault} };
    my ($frc, @args) = (@faults ? 0 : -1);
    # fault tells what it did on stderr: kept for the diagnostics.
    open(my $saved, '>&', \*STDERR) or die "dup stderr: $!";
    unlink("$dir/fault.err");
    open(STDERR, '>>', "$dir/fault.err") or die "$dir/fault.err: $!";
    for my $f (@faults) {
        @args = @$f;
        $frc ||= system($fault, '--under', $pid, @args) >> 8;
    }
    open(STDERR, '>&', $saved) or die "restore stderr: $!";
    @args = map { @$_, ';' } @faults;
    pop @args;
    waitpid($pid, 0);
    my $status = $? >> 8;
    my $pt = point_of(slurp("$dir/$name.out"));
    SKIP: {
        skip "$name skipped: $pt->{skip}", 3 if $pt && defined $pt->{skip};
        ok($pt, "$name: one test point") or diag(slurp("$dir/$name.err"));
        is($frc, 0, "$name: fault @args applied") or diag(slurp("$dir/fault.err"));
        my @f = failures_of($pt // {});
        my @hit = grep { $_->{label} eq $a{label} } @f;
        ok($pt && !$pt->{actual_ok} && $status == 1 && @hit,
           "$name: $a{why} fails '$a{label}'")
            or diag("exit $status; failures: ",
                    join('; ', map { $_->{message} } @f) || 'none',
                    "\n", slurp("$dir/fault.err"), slurp("$dir/$name.out"));
        note("caught: $hit[0]{message}") if @hit;
    }
}

# One of 2 x ncpu equal spinners at nice 19 gets a fraction of its share.
check_caught(scenario => 'fair_equal_hogs', fault => [['renice', 'ktw0', 19]],
             label => 'share_spread', why => 'ktw0 reniced to 19');
# Made certain: ktw1 at nice 19 shares the first CPU with ktw0 alone, so
# it gets ~1.5 % of it while ktw0 gets the rest.
my ($cpu0) = slurp('/proc/self/status') =~ /^Cpus_allowed_list:\s*(\d+)/m;
$cpu0 //= 0;
check_caught(scenario => 'fair_equal_hogs',
             fault => [['renice', 'ktw1', 19], ['pin', 'ktw1', $cpu0], ['pin', 'ktw0', $cpu0]],
             label => 'jain', why => 'ktw1 reniced to 19 and pinned with ktw0');

# The nice-0 spinner of the 0 vs 5 pair made nice 5: the ratio goes to ~1.
check_caught(scenario => 'fair_nice_weights', fault => [['renice', 'ktw0', 5]],
             label => 'ratio_nice5', why => 'nice 0 spinner reniced to 5');
# The nice-0 spinner of the 0 vs 10 pair made nice 10: the ratio goes to ~1
# (raising nice needs no privilege, unlike lowering it).
check_caught(scenario => 'fair_nice_weights', fault => [['renice', 'ktw2', 10]],
             label => 'ratio_nice10', why => 'nice 0 spinner reniced to 10');

# The heavy group's spinner moved into the light group: both share weight
# 100 and split the CPU 1 : 1.
check_caught(scenario => 'fair_cgroup_weights',
             victim => 'ktw1', fault => sub {
                 my $d = cgroup_dir($_[0], 'fairlight');
                 return $d ? (['move', 'ktw1', $d]) : ();
             },
             label => 'cgroup_ratio', why => 'heavy spinner moved to the light group');

done_testing();
