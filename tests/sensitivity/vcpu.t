#!/usr/bin/perl
# Sensitivity of the vCPU scenarios (scenarios/vcpu.c): break each one's
# property from outside while it runs, the way a faulty host would, and
# check that the scenario fails naming that property.
#
#   vcpu_spin_busy       the VMM process is SIGSTOPped through the window:
#                        its vCPU threads get no CPU (share_of_fair_worst)
#   vcpu_halt_idle       the same: halted vCPUs no longer wait in KVM's
#                        halt (halt_wait_frac_worst). The fault asked for,
#                        KVM halt polling (halted vCPUs burning CPU), cannot
#                        be set here: /sys/module/kvm/parameters/halt_poll_ns
#                        is read-only (0444) on this kernel, and no
#                        scheduler action can make a sleeping thread run.
#   vcpu_overcommit_fair "CPU 0/KVM" reniced to +19 (weight 15 against
#                        1024): its share collapses (jain, spread)
#
# A scenario that skips here (no KVM) makes its check skip with the reason.
# Only the fault being caught is asserted; the un-faulted pass is the soak's.
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use FindBin;
use lib "$FindBin::Bin/../lib";
use KtTest;

my $scen = 'build/scenarios/vcpu.t';
my $fault = 'build/tests/progs/fault';
plan skip_all => "$scen or $fault is not built (run make)"
    unless -x $scen && -x $fault;

my $dir = tempdir(CLEANUP => 1);

# Runs the fault injector with its report captured, not printed: shown
# only when the fault could not be applied. True when it was.
sub fault {
    my ($rc) = run_fault(show => 1, args => [@_]);
    return $rc == 0;
}

# Waits for the VMM's first vCPU thread under pid (renice to 0, which vCPU
# threads already have, changes nothing), then lets it report ready.
sub wait_vcpus {
    my ($pid) = @_;
    my $ok = fault('--under', $pid, '--wait-ms', 10000, 'renice', 'CPU 0/KVM', 0);
    select(undef, undef, undef, 0.2);
    return $ok;
}

# Runs one scenario with fault->(pid) applied while it runs; returns the
# test point, its failures' labels and the fault's exit status.
sub run_faulted {
    my ($name, $apply) = @_;
    my $pid = start_scenario(bin => $scen, scenario => $name, out => "$dir/out",
                             err => '/dev/null');
    my $fault_ok = $apply->($pid);
    waitpid($pid, 0);
    my $tap = slurp("$dir/out");
    my $point = point_of($tap);
    return ($point, $point ? $point->{labels} : [], $fault_ok, $tap);
}

sub check_caught {
    my ($name, $want, $apply) = @_;
    my ($point, $labels, $fault_ok, $tap) = run_faulted($name, $apply);
  SKIP: {
        ok($point, "$name: reports a test point") or diag($tap);
        skip("$name: $point->{reason}", 3) if $point && $point->{skip};
        ok($fault_ok, "$name: the fault was applied");
        ok($point && !$point->{ok}, "$name: fails under the fault");
        ok((grep { $_ eq $want } @$labels), "$name: the failure names $want")
            or diag("failures: @$labels");
    }
}

sub stop_vmm {
    my ($pid) = @_;
    return 0 unless wait_vcpus($pid);
    return fault('--under', $pid, '--hold-ms', 1700, 'stop', 'CPU 0/KVM');
}

check_caught('vcpu_spin_busy', 'share_of_fair_worst', \&stop_vmm);
check_caught('vcpu_halt_idle', 'halt_wait_frac_worst', \&stop_vmm);
check_caught('vcpu_overcommit_fair', 'jain', sub {
    my ($pid) = @_;
    return fault('--under', $pid, '--wait-ms', 10000, 'renice', 'CPU 0/KVM', 19);
});

done_testing();
