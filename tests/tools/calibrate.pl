#!/usr/bin/perl
# Calibrate the catalog's thresholds: run every scenario file N times on an
# idle machine and N times with one CPU loaded by an outside hog, read the
# actual value of every claim from --verbose TAP, and print, for each
# threshold, the two distributions and the margin it leaves.
#
#   perl tests/tools/calibrate.pl [--runs N] [--mode idle|loaded|stress|both]
#                           [--hog-cpu C] [--stress-cpus N] [--raw FILE] [--no-table]
#                           [scenario.t ...]
#
# Modes: idle; loaded (a spinner pinned to CPU C, default 0); stress
# (Debian's `stress-ng --cpu N`, default one per CPU: a busy CI machine);
# both (idle, then loaded). With KTSTR_VM=1 in the environment the files
# run their points in guests.
#
# Per mode it also prints the host starvation each point saw (the worst
# vCPU's host_steal in VM mode, foreign_load over the CPUs on the host:
# what KTSTR_STEAL_MAX is set against) and counts the points the rule
# made inconclusive (README: On a busy machine).
#
# --raw FILE keeps every claim's value, one line each (mode, scenario,
# label, op, expected, actual, tab-separated), and every point's outcome
# ("point", mode, scenario, ok | not ok | inconclusive | skip): the
# healthy runs tests/power.pl counts false alarms in.
#
# Margin: how far the worst value seen stays from the threshold, as a
# ratio (threshold / worst for at_most and lt, worst / threshold for
# at_least and gt, both for between's edges; for near, the share of the
# tolerance the worst value left unused). Also prints, per mode, how many
# catalog runs had a point not ok: the soak figure (`make soak`).
use strict;
use warnings;
use Getopt::Long;
use List::Util qw(min max sum);
use POSIX qw(ceil);
use TAP::Parser;

my $ncpus = () = (do { local (@ARGV, $/) = ('/proc/cpuinfo'); <> } // '') =~ /^processor\s/mg;
my ($runs, $mode, $hog_cpu, $raw, $no_table, $stress_cpus) = (20, 'both', 0, '', 0, $ncpus || 1);
GetOptions('runs=i' => \$runs, 'mode=s' => \$mode, 'hog-cpu=i' => \$hog_cpu,
           'raw=s' => \$raw, 'no-table' => \$no_table, 'stress-cpus=i' => \$stress_cpus)
    or die "usage: calibrate.pl [--runs N] [--mode idle|loaded|stress|both] [--hog-cpu C] "
         . "[--stress-cpus N] [--raw FILE] [files]\n";
die "calibrate.pl: --mode must be idle, loaded, stress or both, not '$mode'\n"
    unless $mode =~ /^(idle|loaded|stress|both)$/;
die "calibrate.pl: --stress-cpus must be at least 1\n" unless $stress_cpus >= 1;
my @files = @ARGV ? @ARGV : sort glob('build/scenarios/*.t');
die "calibrate.pl: no scenario files (run make first)\n" unless @files;

my %series;    # "$scenario\t$label\t$op\t$expected" -> { idle => [...], loaded => [...] }
my %fails;     # mode -> count of not-ok points
my %bad_runs;  # mode -> catalog runs with at least one not-ok point
my %runs_done; # mode -> catalog runs
my %failed_at; # mode -> [ "scenario: message" ]
my %inconc;    # mode -> count of inconclusive points
my %inconc_at; # mode -> [ scenario ]
my %starved;   # mode -> [ the starvation share each point saw ]
my $rawfh;
if ($raw) { open($rawfh, '>', $raw) or die "$raw: $!\n"; }

sub value_of {
    my ($s) = @_;
    return undef unless defined $s;
    return 9**9**9 if $s eq 'inf';
    return -9**9**9 if $s eq '-inf';
    return undef if $s eq 'nan';
    return $s =~ /^-?[\d.]+(e[-+]?\d+)?$/i ? $s + 0 : undef;
}

sub run_file {
    my ($file, $m) = @_;
    my $p = TAP::Parser->new({ exec => [$file, '--verbose'] });
    my $name;
    while (my $r = $p->next) {
        if ($r->is_test) {
            $name = $r->description;
            $name =~ s/^-\s*//;
            my $inc = $r->has_skip && ($r->explanation // '') =~ /^inconclusive: /;
            print $rawfh join("\t", 'point', $m, $name, !$r->is_ok ? 'not ok'
                              : $inc ? 'inconclusive' : $r->has_skip ? 'skip' : 'ok'), "\n"
                if $rawfh;
            if (!$r->is_ok) {
                $fails{$m}++;
                push @{ $failed_at{$m} }, $name;
            } elsif ($inc) {
                $inconc{$m}++;
                push @{ $inconc_at{$m} }, $name;
            }
        } elsif ($r->is_yaml && defined $name) {
            my $y = $r->data;
            my $s = starvation_of($y);
            push @{ $starved{$m} }, $s if defined $s;
            # every claim: passed, failed, or failed but excused (inconclusive)
            for my $c (map { @{ $y->{$_} || [] } } qw(passes failures inconclusive)) {
                next unless defined $c->{label} && defined $c->{op};
                next if $c->{op} eq 'dropped';
                my $key = join("\t", $name, $c->{label}, $c->{op}, $c->{expected} // '');
                my $v = value_of($c->{actual});
                push @{ $series{$key}{$m} }, $v if defined $v;
                print $rawfh join("\t", $m, $key, $c->{actual} // ''), "\n" if $rawfh;
            }
        }
    }
}

# What the rule reads from a point's YAML: the worst vCPU's host steal,
# else the foreign load as a share of the machine.
sub starvation_of {
    my ($y) = @_;
    my $steal = ref $y->{vm} eq 'HASH' ? $y->{vm}{host_steal} : undef;
    if (ref $steal eq 'ARRAY' && @$steal) {
        return max(map { ref $_ eq 'HASH' ? $_->{share} // 0 : 0 } @$steal);
    }
    return undef if ref $y->{vm} eq 'HASH';
    my $f = value_of($y->{foreign_load});
    return defined $f && $ncpus ? $f / $ncpus : undef;
}

# Runs code while stress-ng keeps $stress_cpus CPUs busy (its own process
# group, killed whole afterwards).
sub with_stress {
    my ($code) = @_;
    my $pid = fork() // die "fork: $!\n";
    if ($pid == 0) {
        setpgrp(0, 0);
        open(STDOUT, '>', '/dev/null');
        exec('stress-ng', '--cpu', $stress_cpus, '--quiet') or die "exec stress-ng: $!\n";
    }
    sleep 1;
    my $ok = eval { $code->(); 1 };
    kill 'KILL', -$pid;
    waitpid($pid, 0);
    die $@ unless $ok;
}

sub with_hog {
    my ($code) = @_;
    my $pid = fork() // die "fork: $!\n";
    if ($pid == 0) {
        exec('taskset', '-c', $hog_cpu, 'perl', '-e', '1 while 1') or die "exec taskset: $!\n";
    }
    my $ok = eval { $code->(); 1 };
    kill 'KILL', $pid;
    waitpid($pid, 0);
    die $@ unless $ok;
}

if ($mode eq 'stress' && system('sh', '-c', 'command -v stress-ng >/dev/null') != 0) {
    die "calibrate.pl: --mode stress needs stress-ng (apt-get install stress-ng)\n";
}
for my $m ($mode eq 'both' ? ('idle', 'loaded') : ($mode)) {
    my $body = sub {
        for my $i (1 .. $runs) {
            my $before = $fails{$m} // 0;
            run_file($_, $m) for @files;
            $runs_done{$m}++;
            $bad_runs{$m}++ if ($fails{$m} // 0) > $before;
            print STDERR "# $m run $i/$runs done\n";
        }
    };
    $m eq 'loaded' ? with_hog($body) : $m eq 'stress' ? with_stress($body) : $body->();
}

sub pct {
    my ($sorted, $p) = @_;
    my $rank = ceil($p / 100 * @$sorted);
    $rank = 1 if $rank < 1;
    return $sorted->[$rank - 1];
}

sub fmt { my ($x) = @_; return 'n/a' unless defined $x; return sprintf('%.4g', $x); }

sub margin {
    my ($op, $exp, @vals) = @_;
    return 'n/a' unless @vals;
    my ($lo, $hi) = (min(@vals), max(@vals));
    if ($op =~ /^(at_most|lt)$/) {
        my $t = value_of($exp) // return 'n/a';
        return $hi > 0 ? sprintf('%.2fx', $t / $hi) : 'inf';
    }
    if ($op =~ /^(at_least|gt)$/) {
        my $t = value_of($exp) // return 'n/a';
        return $t > 0 ? sprintf('%.2fx', $lo / $t) : 'n/a';
    }
    if ($op eq 'between' && $exp =~ /^\[(\S+), (\S+)\]$/) {
        my ($a, $b) = (value_of($1), value_of($2));
        return 'n/a' unless defined $a && defined $b;
        my @m;
        push @m, sprintf('%.2fx above lo', $lo / $a) if $a > 0;
        push @m, sprintf('%.2fx below hi', $b / $hi) if $hi > 0;
        return @m ? join(', ', @m) : 'n/a';
    }
    if ($op eq 'near' && $exp =~ /^(\S+) \(\+\/-(\S+)\)$/) {
        my ($t, $tol) = (value_of($1), value_of($2));
        return 'n/a' unless defined $t && $tol;
        return sprintf('%.0f%% of tol left', 100 * (1 - max(abs($lo - $t), abs($hi - $t)) / $tol));
    }
    return 'n/a';
}

goto SOAK if $no_table;
# The modes that ran, in this order: a column each.
my @cols = grep { $runs_done{$_} } ('idle', 'loaded', 'stress');
print "| scenario | claim | threshold | ", join(' | ', map { "$_ n / min / p50 / max" } @cols),
      " | margin (worst) |\n";
print "|---|---|---|", '---|' x @cols, "---|\n";
for my $key (sort keys %series) {
    my ($scen, $label, $op, $exp) = split /\t/, $key;
    my @cells;
    my @all;
    for my $m (@cols) {
        my @v = sort { $a <=> $b } @{ $series{$key}{$m} || [] };
        push @all, @v;
        push @cells, @v ? sprintf('%d / %s / %s / %s', scalar(@v), fmt($v[0]), fmt(pct(\@v, 50)), fmt($v[-1])) : '-';
    }
    printf "| %s | %s | %s %s | %s | %s |\n", $scen, $label, $op, $exp, join(' | ', @cells),
        margin($op, $exp, @all);
}
SOAK:
for my $m (sort keys %runs_done) {
    printf "bench: soak.%s.runs %d runs\n", $m, $runs_done{$m};
    printf "bench: soak.%s.failures %d runs\n", $m, $bad_runs{$m} // 0;
    printf "bench: soak.%s.failed_points %d points\n", $m, $fails{$m} // 0;
    printf "bench: soak.%s.inconclusive %d points\n", $m, $inconc{$m} // 0;
    my %n;
    $n{$_}++ for @{ $failed_at{$m} || [] };
    print "# $m: $_ failed $n{$_} times\n" for sort keys %n;
    my %i;
    $i{$_}++ for @{ $inconc_at{$m} || [] };
    print "# $m: $_ inconclusive $i{$_} times\n" for sort keys %i;
    my @st = sort { $a <=> $b } @{ $starved{$m} || [] };
    printf "# %s: starvation per point n %d, min %s, p50 %s, p90 %s, p99 %s, max %s\n", $m,
        scalar(@st), fmt($st[0]), fmt(pct(\@st, 50)), fmt(pct(\@st, 90)), fmt(pct(\@st, 99)),
        fmt($st[-1]) if @st;
}
my ($total, $total_inc) = (0, 0);
$total += $_ for values %bad_runs;
$total_inc += $_ for values %inconc;
printf "bench: soak.failures %d runs\n", $total if $no_table;
printf "bench: soak.inconclusive %d points\n", $total_inc if $no_table;
