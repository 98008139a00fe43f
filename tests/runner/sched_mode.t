#!/usr/bin/env perl
# The scheduler under test around a VM point: built-ins and a stand-in
# program (build/tests/progs/fake_sched, which attaches for real with
# builtin:fifo or misbehaves) in a 7.3 guest, read back with TAP::Parser.
# Skips with the reason when there is no kernel or no QEMU.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use KtTest;
use Test::More;
use Cwd qw(abs_path);
use JSON::PP;
use File::Temp qw(tempdir);

my $bin = 'build/tests/progs/vm_cases';
my $fake = abs_path('build/tests/progs/fake_sched');
my $kernel = guest_kernel();
# Without a kernel the usage checks below still run: KTSTR_KERNEL is left
# unset then (a missing one is itself a usage error).
my %env = (KTSTR_KERNEL => (-r $kernel ? $kernel : undef), KTSTR_VM => undef, KTSTR_TOPOLOGY => undef,
           KTSTR_SCHEDULER => undef, KTSTR_SCHED_ATTACH_S => undef, KTSTR_SHARD => undef);

sub run_case {
    my ($case, %extra) = @_;
    my $r = run_prog(prog => $bin, args => ['--filter', $case], env => { %env, %extra });
    return ($r, $r->{out} =~ /\S/ ? point_of($r->{out}) : undef);
}
sub list { my $l = yaml_at(@_); ref $l eq 'ARRAY' ? @$l : () }

# Usage errors and the host's own kernel need no guest.
{
    my ($r) = run_case('vm_pass', KTSTR_SCHEDULER => '/nonexistent/scx_x --flag');
    is($r->{exit}, 2, 'a scheduler program that does not exist is a usage error');
    like($r->{err}, qr{KTSTR_SCHEDULER '/nonexistent/scx_x --flag': the program /nonexistent/scx_x cannot run},
         'naming it');
    ($r) = run_case('vm_pass', KTSTR_SCHEDULER => 'builtin:nope');
    is($r->{exit}, 2, 'an unknown built-in is a usage error');
    like($r->{err}, qr/unknown built-in scheduler "builtin:nope" \(built-ins: builtin:fifo, /, 'saying which exist');
    ($r) = run_case('vm_pass', KTSTR_SCHEDULER => "$fake 'unclosed");
    is($r->{exit}, 2, 'an unclosed quote is a usage error');
    ($r) = run_case('vm_pass', KTSTR_SCHED_ATTACH_S => 'x');
    is($r->{exit}, 2, 'a bad KTSTR_SCHED_ATTACH_S is a usage error');
    ($r) = run_case('vm_pass', KTSTR_SCHED_FAULT => 'pause:10');
    is($r->{exit}, 2, 'a bad KTSTR_SCHED_FAULT is a usage error');
    like($r->{err}, qr/KTSTR_SCHED_FAULT 'pause:10': expected stop:MS/, 'naming the value and the form');
}
SKIP: {
    skip('this host has sched_ext: the skip below is for hosts without it', 2)
        if -e '/sys/kernel/sched_ext/state';
    my $r = run_prog(prog => 'build/scenarios/smoke.t', args => ['--filter', '*'],
                     env => { %env, KTSTR_SCHEDULER => 'builtin:fifo' });
    my $pt = point_of($r->{out});
    ok($pt && $pt->{skip}, 'a host point under a scheduler skips on a kernel without sched_ext');
    like($pt->{reason} // '', qr/this kernel has no sched_ext/, 'in the library\'s words');
}

SKIP: {
    skip(guest_missing(), 1) if guest_missing();

    my $art = tempdir(CLEANUP => 1);
    my ($r, $pt) = run_case('vm_sched_fifo', KTSTR_ARTIFACTS => $art);
    ok($pt && $pt->{ok} && !$pt->{skip}, 'builtin:fifo: the point passes') or diag($r->{out});
    is(yaml_at($pt, 'scheduler', 'name'), 'ktstr_fifo', 'scheduler: name is the ops name');
    like(yaml_at($pt, 'scheduler', 'attach_ms') // '', qr/^\d+$/, 'scheduler: attach_ms, start to enabled');
    # Each counter of root/events that moved: a note in the TAP, the same
    # delta in the sidecar's scheduler.events (the default select_cpu's
    # slice refills move at least one under builtin:fifo).
    my %noted = map { /^sched_ext (SCX_EV_\w+) \+(\d+)$/ ? ($1 => $2) : () } list($pt, 'notes');
    my $side = eval { decode_json(slurp("$art/vm_sched_fifo.json")) };
    my $events = $side && ref $side->{scheduler} eq 'HASH' ? $side->{scheduler}{events} : undef;
    ok(%noted, 'notes: the events counters that moved') or diag($r->{out});
    is_deeply($events, \%noted, 'the sidecar\'s scheduler.events: the same counters and deltas')
        or diag(explain($events));

    ($r, $pt) = run_case('vm_sched_stall');
    is(yaml_at($pt, 'severity'), 'scheduler', 'builtin:stall: ejected, severity scheduler')
        or diag($r->{out});
    is(yaml_at($pt, 'scheduler', 'exit'), 'runnable task stall', 'exit: the kernel\'s reason');
    ok((grep { /BPF scheduler "ktstr_stall" disabled \(runnable task stall\)/ } list($pt, 'scheduler', 'kernel_log')),
       'kernel_log: the kernel\'s disabled line');
    ok((grep { /failed to run for/ } list($pt, 'scheduler', 'kernel_log')), 'kernel_log: the stalled task');
    ok(scalar(list($pt, 'scheduler', 'dump')) > 0, 'dump: the sched_ext_dump lines');
    like(yaml_at($pt, 'scheduler', 'detect_ms') // '', qr/^-?\d+$/,
         'detect_ms: the kernel\'s disabled line to the runner seeing it, on the kernel log\'s clock');
    like(yaml_at($pt, 'message') // '', qr/^scheduler ktstr_stall ejected by the kernel: runnable task stall$/,
         'the message says it in the kernel\'s words');

    ($r, $pt) = run_case('vm_pass', KTSTR_SCHEDULER => "$fake --exit-now");
    is(yaml_at($pt, 'severity'), 'scheduler', 'a scheduler that exits at once fails the point');
    like(yaml_at($pt, 'scheduler', 'exit') // '', qr/exited before sched_ext was enabled/, 'saying so');

    ($r, $pt) = run_case('vm_pass', KTSTR_SCHEDULER => "$fake --never", KTSTR_SCHED_ATTACH_S => 2);
    is(yaml_at($pt, 'severity'), 'scheduler', 'a scheduler that never attaches fails the point');
    like(yaml_at($pt, 'message') // '', qr/not enabled within 2 s/, 'after KTSTR_SCHED_ATTACH_S');

    ($r, $pt) = run_case('vm_sleep', KTSTR_SCHEDULER => $fake);
    ok($pt && $pt->{ok}, 'a scheduler program: the point passes') or diag($r->{out});
    ok(!(grep { /ignored SIGINT/ } list($pt, 'notes')), 'and it stops on SIGINT (the owner\'s blocked signals are not its)')
        or diag($r->{out});

    ($r, $pt) = run_case('vm_pass', KTSTR_SCHEDULER => "$fake --ignore-int");
    ok($pt && $pt->{ok}, 'a scheduler that ignores SIGINT is stopped all the same') or diag($r->{out});
    ok((grep { /ignored SIGINT: SIGKILL/ } list($pt, 'notes')), 'and the notes say so');
    is(yaml_at($pt, 'scheduler', 'name'), 'ktstr_fifo', 'its ops name, not its path');

    ($r, $pt) = run_case('vm_sleep', KTSTR_SCHEDULER => "$fake --die-ms 800 'two words' \"x y z\"");
    is(yaml_at($pt, 'severity'), 'scheduler', 'a scheduler ejected mid-body fails the point') or diag($r->{out});
    my @out = list($pt, 'scheduler', 'output');
    ok((grep { $_ eq 'arg[0]=two words' } @out) && (grep { $_ eq 'arg[1]=x y z' } @out),
       'arguments with spaces arrive as they were quoted') or diag(join("\n", @out));

    ($r, $pt) = run_case('vm_sleep', KTSTR_SCHEDULER => "$fake --spam 5000 --die-ms 800");
    @out = list($pt, 'scheduler', 'output');
    ok(@out > 0 && @out <= 40, 'output: bounded (' . scalar(@out) . ' lines of 5000)');
    is($out[-1], 'spam line 5000 of 5000', 'output: the last lines it printed');

    # The fault hook: fake_sched's dispatching is the kernel's (builtin
    # fifo), so a stopped fake_sched harms nobody and is still stopped.
    ($r, $pt) = run_case('vm_sleep', KTSTR_SCHEDULER => $fake, KTSTR_SCHED_FAULT => 'stop:300');
    ok($pt && $pt->{ok}, 'KTSTR_SCHED_FAULT stop: the point still passes') or diag($r->{out});
    ok((grep { /KTSTR_SCHED_FAULT: SIGSTOP sent to the scheduler \(pid \d+\) 300 ms after it attached/ }
        list($pt, 'notes')), 'the notes say the scheduler was stopped') or diag($r->{out});
    ok(!(grep { /ignored SIGINT/ } list($pt, 'notes')), 'SIGCONT before SIGINT: it stops on SIGINT');

    # Host mode: this binary as a plain runner inside the guest, whose
    # kernel has sched_ext; the inner TAP comes back as notes.
    ($r, $pt) = run_case('vm_host_mode');
    ok($pt && $pt->{ok}, 'host mode: the nested runs end as expected') or diag($r->{out});
    my $tap = join('', map { /^inner\| (.*)$/s ? "$1\n" : () } list($pt, 'notes'));
    my ($fifo_tap, $stall_tap) = split /(?=^TAP version)/m, $tap;
    my $fifo = point_of($fifo_tap);
    ok($fifo && $fifo->{ok} && !$fifo->{skip}, 'host mode, builtin:fifo: ok') or diag($tap);
    is(yaml_at($fifo, 'scheduler', 'name'), 'ktstr_fifo', 'host mode: scheduler: name');
    ok(!defined yaml_at($fifo, 'vm'), 'host mode: no vm: map');
    my $stall = point_of($stall_tap);
    is(yaml_at($stall, 'severity'), 'scheduler', 'host mode, builtin:stall: severity scheduler') or diag($tap);
    is(yaml_at($stall, 'scheduler', 'exit'), 'runnable task stall', 'host mode: the kernel\'s reason');
    like(yaml_at($stall, 'message') // '', qr/^scheduler ktstr_stall ejected by the kernel: runnable task stall$/,
         'host mode: the message in the kernel\'s words');
}
done_testing();
