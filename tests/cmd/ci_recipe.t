#!/usr/bin/perl
# The CI recipe users copy (.github/workflows/ktstr.yml) cannot rot: its
# run: steps, read from the file, run here for two shards of the VM
# catalog and the report job's merge, in a scratch checkout (links to this
# tree) with a scratch HOME. The package install step is the machine's
# (.ci/run installs the packages); actions (uses:) are GitHub's. The
# catalog is narrowed to the guest scenarios (KTSTR_FILTER) to stay short;
# the sharding, JUnit, artifacts and the gated merge are the recipe's own.
use strict;
use warnings;
use Cwd qw(getcwd);
use File::Temp qw(tempdir);
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../lib";
use KtTest;

my $top = getcwd();
my $wf  = '.github/workflows/ktstr.yml';
plan skip_all => guest_missing() if guest_missing();
plan skip_all => "Perl's TAP::Formatter::JUnit is not installed (apt-get install "
               . 'libtap-formatter-junit-perl)'
    unless system('perl -MTAP::Formatter::JUnit -e 1 >/dev/null 2>&1') == 0;

# ---- the recipe, read -----------------------------------------------------

open(my $fh, '<', $wf) or die "$wf: $!";
my ($job, $in_env, %env, %runs, @matrix);
while (my $l = <$fh>) {
    chomp $l;
    $in_env = 1, next if $l eq 'env:';
    $in_env = 0 if $l =~ /^\S/;
    $env{$1} = $2 if $in_env && $l =~ /^  (\w+): (.*)$/;
    $job = $1 if $l =~ /^  (\w+):$/ && !$in_env;
    @matrix = split /,\s*/, $1 if $l =~ /^\s+shard: \[(.*)\]$/;
    push @{ $runs{$job} }, $1 if $job && $l =~ /^\s+run: (.*)$/;
}
close $fh;
ok($runs{catalog} && $runs{report}, 'the recipe has a catalog job and a report job');
is($env{SHARDS}, scalar @matrix, 'its matrix has one job per shard (SHARDS)');
my @catalog = grep { !/^sudo / } @{ $runs{catalog} // [] };
is(scalar @catalog, 3, 'the catalog job: install, kernel, the shard (besides packages)');
like(join("\n", @{ $runs{report} // [] }), qr/ktstr report .*--gate/, 'the report job gates');

# ---- the recipe, run ------------------------------------------------------

my $tmp  = tempdir('ktstr-recipe-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my $work = "$tmp/checkout";
mkdir $work or die;
symlink("$top/$_", "$work/$_") or die "$_: $!" for qw(Makefile lib include scenarios tests build);
# A cached kernel, as actions/cache restores it.
mkdir "$tmp/home" or die;
system('mkdir', '-p', "$tmp/home/.cache/ktstr/kernel") == 0 or die;
for my $f (qw(bzImage config vmlinux)) {
    symlink(Cwd::abs_path("build/kernel/$f"), "$tmp/home/.cache/ktstr/kernel/$f") or die;
}
# The same compiler and flags as this test run, so nothing is rebuilt.
my @vars = ('CC=' . ($ENV{KT_CC} || 'cc'), 'SAN=' . ($ENV{KT_SAN} // ''));
push @vars, "CFLAGS=$ENV{KT_CFLAGS}" if ($ENV{KT_CFLAGS} // '') ne '';
push @vars, "LDFLAGS=$ENV{KT_LDFLAGS}" if ($ENV{KT_LDFLAGS} // '') ne '';
my %run_env = (%env, HOME => "$tmp/home", PATH => "$tmp/home/.local/bin:$ENV{PATH}",
           SHARDS => 2, KTSTR_FILTER => 'guest_*', KTSTR_KERNEL => undef,
           XDG_CACHE_HOME => undef, KTSTR_KERNEL_MIRROR => '');

sub step {
    my ($cmd, %sub) = @_;
    $cmd =~ s/\$\{\{ matrix\.shard \}\}/$sub{shard}/g if defined $sub{shard};
    my $quoted = join ' ', map { "'$_'" } @vars;
    $cmd =~ s/^make /make $quoted /;
    return run_prog(prog => 'bash', args => ['-c', "cd '$work' && $cmd"], env => \%run_env);
}

for my $shard (1, 2) {
    for my $cmd (@catalog) {
        my $r = step($cmd, shard => $shard);
        is($r->{exit}, 0, "shard $shard/2: $cmd") or diag($r->{out}, $r->{err});
    }
    ok(-s "$work/artifacts/shard-$shard/junit.xml", "shard $shard wrote its JUnit file");
}
my %seen;
for my $shard (1, 2) {
    opendir(my $d, "$work/artifacts/shard-$shard") or die;
    $seen{$_}++ for grep { s/\.json$// } readdir $d;
}
is_deeply([sort keys %seen], [qw(guest_pinned_task guest_topology guest_vcpus_follow_load)],
          'the two shards ran every guest point');
is(scalar(grep { $_ > 1 } values %seen), 0, 'each in one shard only');
for my $cmd (@{ $runs{report} }) {
    my $r = step($cmd);
    is($r->{exit}, 0, "report: $cmd") or diag($r->{out}, $r->{err});
}
my $html = -f "$work/ktstr-report.html" ? slurp("$work/ktstr-report.html") : '';
like($html, qr{href="#p-$_"}, "the merged report lists $_") for sort keys %seen;

# A point in two shards is the merge's error, not a page.
system('cp', '-r', "$work/artifacts/shard-1", "$work/artifacts/shard-3") == 0 or die;
my $r = step('ktstr report artifacts/shard-* -o twice.html');
is($r->{exit}, 2, 'two shards with the same point: exit 2');
like($r->{err}, qr/^ktstr report: point '\w+' is in both \S+shard-1 and \S+shard-3/m,
     'naming the point and both directories');

done_testing();
