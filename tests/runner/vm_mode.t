#!/usr/bin/env perl
# VM mode end to end: build/tests/progs/vm_cases boots the kernel from
# `make kernel` under QEMU for each way a guest point can end, and each
# point's TAP and YAML are read back with TAP::Parser. Skips with the
# reason when there is no kernel or no QEMU.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use KtTest;
use Test::More;
use Time::HiRes qw(sleep);
use File::Temp ();

my $bin = 'build/tests/progs/vm_cases';
my $kernel = guest_kernel();
if (my $why = guest_missing()) { plan skip_all => $why }

my %env = (KTSTR_KERNEL => $kernel, KTSTR_VM => undef, KTSTR_TOPOLOGY => undef,
           KTSTR_ACCEL => undef, KTSTR_QEMU => undef, KTSTR_SHARD => undef);

sub run_case {
    my ($case, %extra) = @_;
    my $r = run_prog(prog => $bin, args => ['--filter', $case], env => { %env, %extra });
    return ($r, $r->{out} =~ /\S/ ? point_of($r->{out}) : undef);
}


{
    my ($r, $pt) = run_case('vm_pass');
    ok($pt && $pt->{ok} && !$pt->{skip}, 'a passing guest body is ok') or diag($r->{out}, $r->{err});
    is(yaml_at($pt, 'vm', 'topology'), '1n1l2c1t', 'vm: topology');
    like(yaml_at($pt, 'vm', 'kernel') // '', qr/^\d+\.\d+/, 'vm: kernel is the guest uname -r');
    like(yaml_at($pt, 'vm', 'accel') // '', qr/^(kvm|tcg)$/, 'vm: accel');
    like(yaml_at($pt, 'vm', 'boot_ms') // '', qr/^[1-9]\d*$/, 'vm: boot_ms whole and positive');
    my $steal = yaml_at($pt, 'vm', 'host_steal');
    is(ref $steal eq 'ARRAY' ? scalar @$steal : 0, 2, 'vm: host_steal, one entry per vCPU');
    is(scalar(grep { ref eq 'HASH' && $_->{ms} =~ /^\d+$/ && $_->{share} =~ /^\d+\.\d{4}$/
                     && $_->{share} >= 0 && $_->{share} <= 1 } @{ ref $steal eq 'ARRAY' ? $steal : [] }),
       2, 'each: vcpu, whole ms, and a share of the body in [0, 1]')
        or diag($r->{out});
    is(join(',', map { ref eq 'HASH' ? $_->{vcpu} : '' } @{ ref $steal eq 'ARRAY' ? $steal : [] }),
       '0,1', 'in vCPU order');
    is($r->{exit}, 0, 'exit status 0');
}
{
    my ($r, $pt) = run_case('vm_fail');
    ok($pt && !$pt->{ok}, 'a failing guest claim is not ok');
    is(yaml_at($pt, 'severity'), 'fail', 'severity fail');
    is_deeply($pt->{msgs}, ['guest_answer: expected 42, was 41'], 'the guest claim, in its words');
    like($pt->{failures}[0]{at} // '', qr/vm_cases\.c:\d+$/, 'it keeps its at:');
    like($r->{err}, qr/^# vm_fail: guest_answer: expected 42, was 41 \(/m, 'on stderr too');
    is($r->{exit}, 1, 'exit status 1');
}
{
    my ($r, $pt) = run_case('vm_host_claims');
    is_deeply($pt->{labels}, ['host.vcpu0_share'], 'a host claim is labelled host.')
        or diag($r->{out});
    like($pt->{msgs}[0] // '', qr/^host\.vcpu0_share: expected at least 0\.9, was /, 'host. message');
    is(yaml_at($pt, 'claims'), 4, 'guest and host claims are counted together');
}
{
    my ($r, $pt) = run_case('vm_crash');
    is(yaml_at($pt, 'severity'), 'crash', 'a crash in the guest is a crash');
    is(yaml_at($pt, 'signal'), 'SIGSEGV', 'with its signal');
    is_deeply($pt->{labels}, ['recorded'], 'what it recorded before dying is kept');
}
{
    my ($r, $pt) = run_case('vm_exit_midway');
    is(yaml_at($pt, 'severity'), 'error', 'exit() midway in the guest is an error');
    is(yaml_at($pt, 'exit_status'), 3, 'with its exit status');
}
{
    my ($r, $pt) = run_case('vm_hang');
    is(yaml_at($pt, 'severity'), 'timeout', 'a hanging guest body times out');
    is(yaml_at($pt, 'timeout_s'), 3, 'after its own timeout');
}
{
    my ($r, $pt) = run_case('vm_panic');
    is(yaml_at($pt, 'severity'), 'panic', 'a guest kernel panic is severity panic') or diag($r->{out});
    my $console = yaml_at($pt, 'console');
    ok(ref $console eq 'ARRAY' && grep({ /Kernel panic - not syncing/ } @$console),
       'console: holds the panic line') or diag($r->{out});
}
{
    my ($r, $pt) = run_case('vm_bad_topology');
    is(yaml_at($pt, 'severity'), 'error', 'a topology that cannot be built is not ok');
    like(yaml_at($pt, 'message') // '', qr/3 NUMA nodes do not divide 2 LLCs/, 'with the reason');
}
{
    my ($r, $pt) = run_case('vm_needs_kvm');
    ok($pt && $pt->{ok} && $pt->{skip}, 'a requirement is judged in the guest (no /dev/kvm there)');
    like($pt->{reason} // '', qr/needs KVM/, 'with its reason');
}
{
    my ($r, $pt) = run_case('vm_pass', KTSTR_QEMU => undef, PATH => '/nonexistent');
    ok($pt && $pt->{ok} && $pt->{skip}, 'no QEMU: a skip');
    like($pt->{reason} // '', qr/needs QEMU: qemu-system-x86_64 is not on PATH \(apt-get install/,
         'saying how to get it');
}
{
    my ($r) = run_case('vm_pass', KTSTR_KERNEL => '/etc/passwd');
    is($r->{exit}, 2, 'a kernel that is not a bzImage is a usage error');
    like($r->{err}, qr{KTSTR_KERNEL '/etc/passwd': not a bzImage .* nor an ELF vmlinux}, 'naming it');
}
SKIP: {
    my $vmlinux = $kernel =~ s{[^/]*$}{vmlinux}r;
    skip("no $vmlinux next to the bzImage", 2) unless -r $vmlinux;
    my ($r, $pt) = run_case('vm_pass', KTSTR_KERNEL => $vmlinux);
    ok($pt && $pt->{ok} && !$pt->{skip}, 'an ELF vmlinux boots too (PVH, no decompression)')
        or diag($r->{out}, $r->{err});
    is(yaml_at($pt, 'vm', 'topology'), '1n1l2c1t', 'in a guest');
}
{
    my ($r) = run_case('vm_pass', KTSTR_TOPOLOGY => '2x2');
    is($r->{exit}, 2, 'a bad KTSTR_TOPOLOGY is a usage error');
    like($r->{err}, qr/KTSTR_TOPOLOGY: topology "2x2"/, 'naming it');
}
for my $case (qw(vm_scx_fifo vm_scx_fifo_partial)) {
    my ($r, $pt) = run_case($case);
    ok($pt && $pt->{ok} && !$pt->{skip}, "$case: the built-in loads with plain bpf(), enables and unloads")
        or diag($r->{out});
}
SKIP: {
    skip 'needs root and unshare for a private /boot', 2 unless $> == 0 && -x '/usr/bin/unshare';
    my $r = run_prog(prog => '/usr/bin/unshare',
                     args => ['-m', 'sh', '-c', 'mount -t tmpfs none /boot && exec "$0" --filter vm_pass', $bin],
                     env => { %env, KTSTR_KERNEL => undef });
    my $pt = point_of($r->{out});
    ok($pt && $pt->{skip}, 'no kernel: a skip') or diag($r->{out}, $r->{err});
    like($pt->{reason} // '', qr/needs a guest kernel: .* run `make kernel`/, 'saying how to get one');
}
{
    # A guest stuck before /init (a "QEMU" that prints nothing and never
    # exits): booted again twice, then an error that says so, and no
    # process of it left.
    my $dir = File::Temp::tempdir('ktstr-stuck-XXXXXX', TMPDIR => 1, CLEANUP => 1);
    my $fake = "$dir/qemu-stuck";
    open(my $fh, '>', $fake) or die "$fake: $!";
    print $fh "#!/bin/sh\necho \$\$ >> $dir/pids\nexec sleep 300\n";
    close($fh);
    chmod 0755, $fake;
    my ($r, $pt) = run_case('vm_pass', KTSTR_QEMU => $fake, KTSTR_VM_BOOT_S => 2);
    ok($pt && !$pt->{ok}, 'a guest that never reaches /init: not ok') or diag($r->{out}, $r->{err});
    is(yaml_at($pt, 'severity'), 'error', 'severity error');
    like(yaml_at($pt, 'message') // '', qr{did not reach /init within 2 s of CPU time \(KTSTR_VM_BOOT_S}, 'saying why');
    my @again = grep { /booted again/ } @{ yaml_at($pt, 'notes') || [] };
    is(scalar(@again), 1, 'the notes say it was booted again (the first boot\'s own lines are reset)');
    my @pids = split /\s+/, (-e "$dir/pids" ? slurp("$dir/pids") : '');
    is(scalar(@pids), 3, 'three boots in all');
    ok(!(grep { -e "/proc/$_" && slurp("/proc/$_/stat") !~ /\) Z / } @pids), 'no stuck QEMU left');
    ($r) = run_case('vm_pass', KTSTR_VM_BOOT_S => '0');
    is($r->{exit}, 2, 'a bad KTSTR_VM_BOOT_S is a usage error');
}
{
    # SIGINT while the guest runs: the runner bails out and no QEMU is left.
    my $out = "/tmp/ktstr-vm-sigint-$$";
    local $ENV{KTSTR_KERNEL} = $kernel;
    my $pid = start_scenario(bin => $bin, scenario => 'vm_hang', out => "$out.out", err => "$out.err");
    my $qemu_pid;
    for (1 .. 200) {
        ($qemu_pid) = grep { descends(pid => $_, ancestor => $pid) }
                      map { m{/proc/(\d+)/comm} ? $1 : () }
                      grep { slurp($_) =~ /^qemu-system/ } glob('/proc/[0-9]*/comm');
        last if $qemu_pid;
        sleep 0.05;
    }
    ok($qemu_pid, 'QEMU runs under the runner');
    sleep 1;
    kill 'INT', $pid;
    waitpid($pid, 0);
    my $status = $? >> 8;
    is($status, 130, 'the runner exits 128 + SIGINT');
    like(slurp("$out.out"), qr/^Bail out! interrupted/m, 'Bail out! on stdout');
    sleep 0.2;
    ok(!$qemu_pid || !-e "/proc/$qemu_pid" || slurp("/proc/$qemu_pid/stat") =~ /\) Z /,
       'no QEMU outlives the point');
    unlink "$out.out", "$out.err";
}
done_testing();
