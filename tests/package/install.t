#!/usr/bin/perl
# `make install` into a temporary prefix, then a scenario file written
# outside the tree builds with pkg-config and runs under prove, the way a
# scheduler author uses an installed ktstr.
use strict;
use warnings;
use Cwd qw(getcwd);
use File::Temp qw(tempdir);
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../lib";
use KtTest;

plan skip_all => 'pkg-config is not installed'
    unless system('command -v pkg-config >/dev/null 2>&1') == 0;

my $top    = getcwd();
my $tmp    = tempdir('ktstr-install-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my $prefix = "$tmp/prefix";
my $cc     = $ENV{KT_CC} || 'cc';
my @vars   = ("CC=$cc", 'SAN=' . ($ENV{KT_SAN} // ''));
push @vars, "CFLAGS=$ENV{KT_CFLAGS}"   if defined $ENV{KT_CFLAGS} && $ENV{KT_CFLAGS} ne '';
push @vars, "LDFLAGS=$ENV{KT_LDFLAGS}" if defined $ENV{KT_LDFLAGS} && $ENV{KT_LDFLAGS} ne '';

my $run = run_prog(prog => 'make', args => ['-s', '-C', $top, 'install', "PREFIX=$prefix", @vars]);
is($run->{exit}, 0, 'make install PREFIX=<tmp> succeeds') or diag($run->{out}, $run->{err});
ok(-f "$prefix/include/ktstr.h",              'umbrella header installed');
ok(-f "$prefix/include/ktstr/verdict.h",      'module headers installed');
ok(-f "$prefix/lib/libktstr.a",               'static library installed');
ok(-l "$prefix/lib/libktstr.so",              'shared library link installed');
ok(-f "$prefix/lib/pkgconfig/ktstr.pc",       'pkg-config file installed');

my $stage = "$tmp/stage";
$run = run_prog(prog => 'make',
                args => ['-s', '-C', $top, 'install', 'PREFIX=/opt/ktstr', "DESTDIR=$stage", @vars]);
is($run->{exit}, 0, 'make install DESTDIR=<tmp> succeeds') or diag($run->{out}, $run->{err});
ok(-f "$stage/opt/ktstr/lib/pkgconfig/ktstr.pc", 'DESTDIR stages under the prefix');
open(my $pc, '<', "$stage/opt/ktstr/lib/pkgconfig/ktstr.pc") or die "ktstr.pc: $!";
my $pctext = do { local $/; <$pc> };
close $pc;
like($pctext, qr{^prefix=/opt/ktstr$}m, 'the .pc names the prefix, not the staging dir');

my $src = "$tmp/my_scenarios.c";
open(my $fh, '>', $src) or die "$src: $!";
print $fh <<'C';
#include <ktstr.h>

KT_SCENARIO(outside_passes)
{
    double share = 0.5;
    CLAIM(v, share, between, 0.45, 0.55);
    kt_verdict_note(v, "share %.2f", share);
}

KT_SCENARIO(outside_fails, .timeout_s = 5)
{
    int ipc = 0;
    CLAIM(v, ipc, at_least, 1.0);
}

static void outside_host(const kt_vcpus *vc, kt_verdict *v)
{
    CLAIM_AS(v, "vcpus", kt_vcpus_count(vc), eq, 2);
}

KT_SCENARIO(outside_vm, .vm = { .cores = 2 }, .host_check = outside_host, .timeout_s = 20)
{
    CLAIM(v, ctx->in_vm, eq, true);
    CLAIM(v, ctx->ncpus, eq, 2);
}

KT_MAIN()
C
close $fh;

$run = run_prog(prog => 'pkg-config', args => [qw(--cflags --libs ktstr)],
               env => { PKG_CONFIG_PATH => "$prefix/lib/pkgconfig" });
is($run->{exit} || $run->{sig}, 0, 'pkg-config knows ktstr');
my @flags = split ' ', $run->{out};
my @san = ($ENV{KT_SAN} // '') eq '1' ? ('-fsanitize=address,undefined') : ();
my $bin = "$tmp/my_scenarios.t";
my ($ccprog, @ccargs) = split ' ', $cc;   # CC may be "ccache gcc"
$run = run_prog(prog => $ccprog, args => [@ccargs, qw(-std=c11 -Wall -Wextra -Werror), @san,
                                          $src, @flags, '-o', $bin]);
is($run->{exit}, 0, 'a scenario file outside the tree builds with pkg-config')
    or diag($run->{out}, $run->{err});

$run = run_prog(prog => 'ldd', args => [$bin]);
like($run->{out} . $run->{err}, qr{\Q$prefix\E/lib/libktstr\.so},
     'it runs against the installed shared library');

$run = run_prog(prog => $bin, args => [qw(--filter outside_passes)]);
is($run->{exit}, 0, 'the passing scenario exits 0');

# VM mode from outside the tree: the installed libktstr.so goes into the
# guest image with the binary (found through the .pc's rpath).
SKIP: {
    my $kernel = guest_kernel();
    skip(guest_missing(), 3) if guest_missing();
    $run = run_prog(prog => $bin, args => [qw(--filter outside_vm -v)],
                    env => { KTSTR_KERNEL => $kernel, KTSTR_CACHE => "$tmp/cache" });
    is($run->{exit}, 0, 'a .vm scenario with .host_check from outside the tree passes')
        or diag($run->{out}, $run->{err});
    like($run->{out}, qr/label: "host\.vcpus"/, 'its host check ran');
    like($run->{out}, qr/vm:\n\s+accel:/, 'in a guest');
}
$run = run_prog(prog => 'prove', args => [$bin, '::', '--filter', 'outside_[pf]*']);
isnt($run->{exit}, 0, 'prove fails the file with a failing scenario');
like($run->{err}, qr{# outside_fails: ipc: expected at least 1, was 0 \(\S*my_scenarios\.c:\d+\)},
     'plain prove shows the failure line on stderr');

done_testing();
