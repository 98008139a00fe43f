#!/usr/bin/perl
# Sensitivity of the sched_ext scenarios (scenarios/scx.c): run each under
# a scheduler that breaks its property, in a 7.3 guest, and check that
# the point fails naming the property, or in the kernel's words when the
# kernel ejects the scheduler.
#
#   builtin:stall on scx_attached_under_churn and scx_ext_progress:
#       SCHED_EXT tasks are never dispatched; the kernel's watchdog (3 s)
#       ejects it ("runnable task stall"), severity scheduler
#   scx_cpu0 on scx_ext_progress: every task runs on CPU 0, the other CPU
#       idles (cpu_use)
#   scx_userland stopped (KTSTR_SCHED_FAULT=stop:500) on
#       scx_attached_under_churn: its dispatching is in user space, so
#       every task waits; 7.3 ejects it on the RCU stall that follows
#       ("runtime error", RCU CPU stall) before its 30 s watchdog would
#   builtin:fifo_partial on scx_expected_eject: the scheduler meant to
#       be ejected stays attached (sched.ejected)
#   builtin:stall on scx_task_classes: its SCHED_EXT task is in the ext
#       class but never runs again: the ejection catches it (the class
#       claims hold; builtin:fifo, which switches every task, passes as
#       the claims follow switch_all)
#   builtin:lazy:70 on scx_ext_progress: CPU 1 left idle 70 ms of every
#       100 ms while tasks wait (cpu_use); builtin:lazy:0, the same
#       scheduler without the defect, passes: its programs load, and
#       the defect is what fails it
#
# Skips with the reason when there is no guest kernel, no QEMU or no
# build/scx (make scx) for the example schedulers.
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../lib";
use KtTest;

my $scen = 'build/scenarios/scx.t';
my $kernel = guest_kernel();
plan skip_all => "$scen is not built (run make)" unless -x $scen;
if (my $why = guest_missing()) { plan skip_all => $why }

my %env = (KTSTR_KERNEL => $kernel, KTSTR_VM => 1, KTSTR_TOPOLOGY => undef, KTSTR_ACCEL => undef,
           KTSTR_QEMU => undef, KTSTR_FILTER => undef, KTSTR_SCHEDULER => undef,
           KTSTR_SCHED_FAULT => undef, KTSTR_SHARD => undef);

sub run_under {
    my ($name, %extra) = @_;
    my $timeout = delete $extra{timeout};
    my $r = run_prog(prog => $scen,
                     args => ['--filter', $name, $timeout ? ('--timeout', $timeout) : ()],
                     env => { %env, %extra });
    return ($r, point_of($r->{out}));
}

# $exit: the kernel's reason, a string or a pattern.
sub ejected {
    my ($what, $r, $pt, $exit) = @_;
    my $want = ref $exit ? $exit : qr/^\Q$exit\E$/;
    is(yaml_at($pt, 'severity'), 'scheduler', "$what: severity scheduler") or diag($r->{out}, $r->{err});
    like(yaml_at($pt, 'scheduler', 'exit') // '', $want, "$what: exit is the kernel's reason");
    like(yaml_at($pt, 'message') // '', qr/ejected by the kernel: /, "$what: the message says so");
    ok((grep { /BPF scheduler ".*" disabled \(/ } @{ yaml_at($pt, 'scheduler', 'kernel_log') || [] }),
       "$what: kernel_log has the kernel's disabled line");
}

sub fails_on {
    my ($what, $r, $pt, $label) = @_;
    ok($pt && !$pt->{ok}, "$what: not ok") or diag($r->{out}, $r->{err});
    ok((grep { $_ eq $label } @{ $pt ? $pt->{labels} : [] }), "$what: the failure names $label")
        or diag("failures: @{[ @{ $pt ? $pt->{labels} : [] } ]}\n", $r->{out});
}

# Unfaulted, each passes under its own scheduler: the faults below are
# what makes them fail.
for my $name (qw(scx_attached_under_churn scx_task_classes scx_ext_progress scx_expected_eject)) {
    my ($r, $pt) = run_under($name);
    ok($pt && $pt->{ok} && !$pt->{skip}, "$name: ok under its own scheduler") or diag($r->{out}, $r->{err});
}

{
    my ($r, $pt) = run_under('scx_attached_under_churn', KTSTR_SCHEDULER => 'builtin:stall');
    ejected('builtin:stall, scx_attached_under_churn', $r, $pt, 'runnable task stall');
    ($r, $pt) = run_under('scx_ext_progress', KTSTR_SCHEDULER => 'builtin:stall');
    ejected('builtin:stall, scx_ext_progress', $r, $pt, 'runnable task stall');
    ($r, $pt) = run_under('scx_task_classes', KTSTR_SCHEDULER => 'builtin:stall');
    ejected('builtin:stall, scx_task_classes', $r, $pt, 'runnable task stall');
    ($r, $pt) = run_under('scx_task_classes', KTSTR_SCHEDULER => 'builtin:fifo');
    ok($pt && $pt->{ok}, 'builtin:fifo (switches all), scx_task_classes: still ok') or diag($r->{out});
    # A scheduler meant to fail that does not: no ejection to match.
    ($r, $pt) = run_under('scx_expected_eject', KTSTR_SCHEDULER => 'builtin:fifo_partial');
    fails_on('builtin:fifo_partial, scx_expected_eject', $r, $pt, 'sched.ejected');
    like(($pt && $pt->{msgs}[0]) // '', qr/it stayed attached$/, 'scx_expected_eject: it says why');
}

{
    my ($r, $pt) = run_under('scx_ext_progress', KTSTR_SCHEDULER => 'builtin:lazy:0');
    ok($pt && $pt->{ok} && !$pt->{skip}, 'builtin:lazy:0, scx_ext_progress: ok')
        or diag($r->{out}, $r->{err});
    is(yaml_at($pt, 'scheduler', 'name'), 'ktstr_lazy', 'builtin:lazy:0: ktstr_lazy was attached');
    ($r, $pt) = run_under('scx_ext_progress', KTSTR_SCHEDULER => 'builtin:lazy:70');
    fails_on('builtin:lazy:70, scx_ext_progress', $r, $pt, 'cpu_use');
    $r = run_prog(prog => $scen, args => ['--filter', 'scx_ext_progress'],
                  env => { %env, KTSTR_SCHEDULER => 'builtin:lazy:170' });
    is($r->{exit}, 2, 'builtin:lazy:170: a usage error');
    like($r->{err}, qr/builtin:lazy:170.*0-100/, 'builtin:lazy:170 is refused, naming it')
        or diag($r->{out}, $r->{err});
}

SKIP: {
    skip('no build/scx/scx_cpu0 (run `make scx`)', 2) unless -x 'build/scx/scx_cpu0';
    my ($r, $pt) = run_under('scx_ext_progress', KTSTR_SCHEDULER => 'build/scx/scx_cpu0');
    fails_on('scx_cpu0, scx_ext_progress', $r, $pt, 'cpu_use');
}

SKIP: {
    skip('no build/scx/scx_userland (run `make scx`)', 6) unless -x 'build/scx/scx_userland';
    my ($r, $pt) = run_under('scx_attached_under_churn', KTSTR_SCHEDULER => 'build/scx/scx_userland',
                             KTSTR_SCHED_FAULT => 'stop:500', timeout => 90);
    # 7.3 ejects it on the RCU stall it causes (about 21 s) before the 30 s
    # watchdog would: "runtime error" with "RCU CPU stall" in the log.
    ejected('scx_userland stopped, scx_attached_under_churn', $r, $pt,
            qr/^(runnable task stall|runtime error)$/);
    ok((grep { /stall/ } @{ yaml_at($pt, 'scheduler', 'kernel_log') || [] }),
       'scx_userland stopped: the kernel log names the stall');
    ok((grep { /SIGSTOP sent to the scheduler/ } @{ yaml_at($pt, 'notes') || [] }),
       'scx_userland stopped: the notes say when');
}
done_testing();
