#!/usr/bin/perl
# What `make scx` (tests/tools/build-scx.sh) left in build/scx: every
# required example scheduler is there, an x86-64 ELF executable whose
# shared libraries all resolve on this host, and the README names it and
# the source it came from. It never runs the build (a download and a
# minute of compiling, too slow for make check): without it, a SKIP.
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../lib";
use KtTest;

my $dir      = 'build/scx';
my @required = qw(scx_simple scx_cpu0 scx_userland scx_flatcg scx_pair scx_sdt);

plan skip_all => "$dir is absent: run make scx to build the example schedulers" unless -d $dir;
plan skip_all => "$dir/README is absent: make scx has not finished there" unless -f "$dir/README";

# The ELF facts of file f: class, byte order, type, machine and whether a
# program header asks for an interpreter (a dynamically linked program,
# not a shared library); undef when f is not an ELF file.
sub elf_of {
    my ($f) = @_;
    open(my $fh, '<:raw', $f) or return undef;
    my $hdr = '';
    read($fh, $hdr, 64) == 64 or return undef;
    return undef unless substr($hdr, 0, 4) eq "\x7fELF";
    my ($class, $data) = unpack('x4 C C', $hdr);
    return { class => $class, data => $data } unless $class == 2 && $data == 1;
    my ($type, $machine, $phoff, $phentsize, $phnum) = unpack('x16 v v x4 x8 Q< x8 x4 x2 v v', $hdr);
    my $interp = 0;
    for my $i (0 .. $phnum - 1) {
        my $ph = '';
        seek($fh, $phoff + $i * $phentsize, 0) or last;
        read($fh, $ph, 4) == 4 or last;
        $interp = 1 if unpack('V', $ph) == 3;    # PT_INTERP
    }
    return { class => $class, data => $data, type => $type, machine => $machine, interp => $interp };
}

my $readme = slurp("$dir/README");
my ($built)  = $readme =~ /^built: (.*)$/m;
my ($source) = $readme =~ /^source: (.*)$/m;
ok(defined $source && $source =~ /^linux-source-\d+\.\d+ \S+/, 'README names the source package and version')
    or diag($readme);
my %listed = map { $_ => 1 } split ' ', $built // '';

for my $s (@required) {
    my $f = "$dir/$s";
    subtest $s => sub {
        ok(-f $f && -x $f, "$f is an executable file") or return;
        my $e = elf_of($f);
        ok($e, "$f is an ELF file") or return;
        is($e->{class}, 2, 'ELF class 64-bit');
        is($e->{data}, 1, 'little-endian');
        is($e->{machine}, 62, 'machine x86-64 (EM_X86_64)');
        ok(($e->{type} // 0) == 2 || (($e->{type} // 0) == 3 && $e->{interp}),
           'an executable (ET_EXEC, or ET_DYN with an interpreter: PIE)')
            or diag("e_type $e->{type}, interpreter $e->{interp}");
        my $ldd = run_prog(prog => 'ldd', args => [$f]);
        is($ldd->{exit}, 0, 'ldd reads it') or diag($ldd->{err});
        unlike($ldd->{out}, qr/not found/, 'every shared library resolves on this host')
            or diag($ldd->{out});
        ok($listed{$s}, "README lists $s as built") or diag($readme);
    };
}

done_testing();
