#!/usr/bin/perl
# A runner killed outright (kill -9) leaves its scratch cgroups behind; the
# next scenario that makes a group removes them, since their creator is
# gone, and its report names each one.
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use POSIX ();
use Time::HiRes qw(sleep time);
use FindBin;
use lib "$FindBin::Bin/../lib";
use KtTest;

my $bin = 'build/tests/progs/cgroup_hold';
plan skip_all => "$bin is not built (run make)" unless -x $bin;
plan skip_all => "needs root (euid $>) for scratch cgroups" unless $> == 0;

my $dir = tempdir(CLEANUP => 1);
my @held;
# Whatever goes wrong, nothing of ours stays.
END { rmdir $_ for @held }

# 1. A run that makes its group and waits.
my $runner = start_scenario(bin => $bin, scenario => 'cgroup_hold', out => "$dir/hold.out", err => "$dir/hold.err");
my $deadline = time() + 20;
my $said = '';
until ($said =~ /^ready$/m || time() > $deadline) {
    sleep(0.02);
    $said = slurp("$dir/hold.err");
    last if waitpid($runner, POSIX::WNOHANG()) == $runner;    # it ended: a skip, or broken
}
@held = $said =~ /^held (\S+)$/mg;
unless ($said =~ /^ready$/m) {
    kill 'KILL', $runner;
    waitpid($runner, 0);
    my $pt = point_of(slurp("$dir/hold.out"));
    plan skip_all => "cgroup_hold skipped: $pt->{reason}" if $pt && $pt->{skip};
    fail('cgroup_hold made its group');
    diag(slurp("$dir/hold.out"), $said);
    done_testing();
    exit;
}
my ($creator) = $held[0] =~ m{/ktstr-(\d+)-\d+-\d+-held$};
ok(defined $creator, "cgroup_hold's group is named ktstr-<pid>-<start>-<n>-held: @held");
$creator //= 0;

# 2. kill -9 of the runner: its scenario dies with it (PDEATHSIG), and
# nobody removes the group.
kill 'KILL', $runner;
waitpid($runner, 0);
$deadline = time() + 10;
sleep(0.01) while -e "/proc/$creator" && time() < $deadline;
ok(!-e "/proc/$creator", "the scenario (pid $creator) is gone with its runner");
is(scalar(grep { -d } @held), scalar(@held), 'its groups are left behind')
    or diag("@held");

# 3. The next run's first group sweeps them and says so.
my $r = run_prog(prog => $bin, args => ['--filter', 'cgroup_fresh', '--verbose']);
my $pt = point_of($r->{out});
ok($pt && $pt->{ok} && !$pt->{skip}, 'cgroup_fresh passes') or diag($r->{out}, $r->{err});
my $notes = ref $pt->{yaml} eq 'HASH' && ref $pt->{yaml}{notes} eq 'ARRAY' ? $pt->{yaml}{notes} : [];
for my $d (@held) {
    ok(!-e $d, "$d removed");
    ok((grep { $_ eq "removed stale cgroup $d (creator pid $creator gone)" } @$notes),
       "the report names $d") or diag(join("\n", @$notes));
}
done_testing();
