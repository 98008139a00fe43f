#!/usr/bin/perl
# tests/lib/KtTest.pm itself: run_prog runs a program without a shell,
# with its environment, stdin and exit status as asked; run_fault puts
# --under first; a misspelt or missing named argument is an error, never
# silently ignored.
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use FindBin;
use lib "$FindBin::Bin/../lib";
use KtTest;

my $dir = tempdir(CLEANUP => 1);

my $r = run_prog(prog => 'sh', args => ['-c', 'echo "$A"; echo "$1" >&2; exit 3', 'sh', 'a b;c'],
                 env => { A => 'x y' });
is($r->{exit}, 3, 'run_prog: the exit status');
is($r->{out}, "x y\n", 'run_prog: stdout, with the variable env set');
is($r->{err}, "a b;c\n", 'run_prog: stderr; an argument reaches the program as one word');

$ENV{KT_KTTEST_VAR} = 'kept';
$r = run_prog(prog => 'sh', args => ['-c', 'echo "${KT_KTTEST_VAR-unset}"'],
              env => { KT_KTTEST_VAR => undef });
is($r->{out}, "unset\n", 'run_prog: env => { NAME => undef } unsets NAME');
is($ENV{KT_KTTEST_VAR}, 'kept', "run_prog: the caller's environment is untouched");

open(my $in, '>', "$dir/in") or die "$dir/in: $!";
print $in "line 1\nline 2\n";
close $in;
$r = run_prog(prog => 'cat', stdin => "$dir/in");
is($r->{out}, "line 1\nline 2\n", 'run_prog: stdin from a file');

$r = run_prog(prog => "$dir/no-such-program");
is($r->{exit}, 127, 'run_prog: 127 when the program cannot be run');

$r = run_prog(prog => 'sh', args => ['-c', 'kill -TERM $$']);
is($r->{sig}, 15, 'run_prog: the signal that killed it');

{
    local $KtTest::FAULT = "$dir/fault";
    open(my $f, '>', $KtTest::FAULT) or die "$KtTest::FAULT: $!";
    print $f "#!/bin/sh\necho \"\$*\"\nexit 2\n";
    close $f;
    chmod 0755, $KtTest::FAULT;
    my ($rc, $said) = run_fault(under => 42, args => ['pin', 'ktw0', 1]);
    is($rc, 2, "run_fault: the fault's exit status");
    is($said, "--under 42 pin ktw0 1\n", 'run_fault: --under PID before the fault');
}

{
    local $ENV{KTSTR_KERNEL} = "$dir/no-kernel";
    is(guest_kernel(), "$dir/no-kernel", 'guest_kernel: KTSTR_KERNEL first');
    like(guest_missing() // '', qr{^no guest kernel at \Q$dir\E/no-kernel \(run `make kernel`\)$},
         'guest_missing: no kernel, naming the path');
    open(my $k, '>', "$dir/no-kernel") or die "$dir/no-kernel: $!";
    close $k;
    local $ENV{PATH} = "$dir/empty";
    like(guest_missing() // '', qr/^no qemu-system-x86_64 on PATH/, 'guest_missing: no QEMU');
    mkdir "$dir/empty";
    open(my $q, '>', "$dir/empty/qemu-system-x86_64") or die "$dir/empty: $!";
    close $q;
    chmod 0755, "$dir/empty/qemu-system-x86_64";
    is(guest_missing(), undef, 'guest_missing: undef when both are there');
    is(qemu_dir(), "$dir/empty", 'qemu_dir: the directory on PATH');
    delete local $ENV{KTSTR_KERNEL};
    is(guest_kernel(), 'build/kernel/bzImage', "guest_kernel: else make kernel's");
}

eval { run_prog(prog => 'true', arg => ['x']) };
like($@, qr/^run_prog: unknown argument 'arg'/, 'a misspelt argument name dies, naming it');
eval { start_scenario(bin => 'x', scenario => 'y', out => '/dev/null') };
like($@, qr/^start_scenario: missing argument 'err'/, 'a missing argument dies, naming it');
eval { run_prog('true') };
like($@, qr/^run_prog: odd number of arguments/, 'positional arguments die');

done_testing();
