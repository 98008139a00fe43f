#!/usr/bin/perl
# The runner and its children under valgrind: passing, failing, skipping
# and crashing scenarios leave no leak and no memory error, and a leak in a
# scenario's child is caught (so the check can fail).
use strict;
use warnings;
use Test::More;
use TAP::Parser;
use File::Temp qw(tempdir);
use FindBin;
use lib "$FindBin::Bin/../lib";
use KtTest;

my $bin = 'build/tests/progs/cases';
plan skip_all => "$bin is not built (run make)" unless -x $bin;
plan skip_all => 'valgrind is not installed'
    unless grep { -x "$_/valgrind" } split /:/, $ENV{PATH};
open(my $fl, '<', 'build/.flags');
plan skip_all => 'built with sanitizers (SAN=1): valgrind cannot run them'
    if $fl && grep { /-fsanitize/ } <$fl>;

my $dir = tempdir(CLEANUP => 1);
$ENV{KT_TEST_DIR} = $dir;

sub valgrind {
    return run_prog(prog => 'valgrind',
                    args => ['-q', '--leak-check=full', '--error-exitcode=99',
                             '--trace-children=yes', $bin, @_]);
}

sub points {
    my $p = TAP::Parser->new({ tap => shift });
    my @pts;
    while (my $r = $p->next) {
        if ($r->is_test) {
            (my $n = $r->description) =~ s/^- //;
            push @pts, { ok => $r->is_actual_ok, name => $n,
                         skip => $r->directive eq 'SKIP' };
        } elsif ($r->is_yaml && @pts) {
            $pts[-1]{yaml} = $r->data;
        }
    }
    return { map { $_->{name} => $_ } @pts };
}

# valgrind 3.19 cannot read clang 14's DWARF 5: that is not our bug.
my $probe = valgrind('--list');
plan skip_all => 'valgrind cannot read this build\'s debug info (CC=clang?)'
    if $probe->{err} =~ /debuginfo reader|can't recover/;

my $run = valgrind(map { ('--filter', $_) }
                   qw(pass_with_note fail_two skip_reason needs_many_cpus
                      crash_segv crash_abort exit_midway));
is($run->{exit}, 1, 'runner exits 1 (a failing point), not 99 (a valgrind error)');
unlike($run->{err}, qr/==\d+==/, 'valgrind reported nothing, in the runner or any child')
    or diag($run->{err});
my $pt = points($run->{out});
ok($pt->{pass_with_note}{ok}, 'pass: ok under valgrind');
ok(!$pt->{fail_two}{ok}, 'fail: not ok under valgrind');
is($pt->{fail_two}{yaml}{severity}, 'fail', 'fail: severity fail (the child exited 0)');
ok($pt->{skip_reason}{skip}, 'skip: SKIP under valgrind');
is($pt->{crash_segv}{yaml}{signal}, 'SIGSEGV', 'crash: SIGSEGV under valgrind');
is($pt->{crash_abort}{yaml}{signal}, 'SIGABRT', 'abort: SIGABRT under valgrind');
is($pt->{exit_midway}{yaml}{exit_status}, 3, 'exit midway: status 3 under valgrind');

$run = valgrind('--filter', 'leaks_on_purpose');
like($run->{err}, qr/64 bytes in 1 blocks are definitely lost/,
     'a leak in a scenario child is reported');
$pt = points($run->{out});
is($pt->{leaks_on_purpose}{yaml}{exit_status}, 99,
   'the leaking child exits 99 and its point is not ok');

done_testing();
