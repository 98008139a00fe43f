#!/usr/bin/perl
# make gauntlet: the catalog in QEMU guests across topology presets, and
# one table of scenario by preset (ok, not ok, skip). Every catalog file
# runs once per preset with KTSTR_VM=1 KTSTR_TOPOLOGY=<preset>; the
# kernel comes from KTSTR_KERNEL (the Makefile passes build/kernel/bzImage).
# Exit status 1 when any point is not ok.
#
#   perl tests/tools/gauntlet.pl PRESET... [-- scenario.t ...]
use strict;
use warnings;
use TAP::Parser;

my @presets;
push @presets, shift @ARGV while @ARGV && $ARGV[0] ne '--';
shift @ARGV if @ARGV && $ARGV[0] eq '--';
my @files = @ARGV ? @ARGV : sort glob('build/scenarios/*.t');
die "gauntlet: no presets given\n" unless @presets;
die "gauntlet: no scenario files (run make first)\n" unless @files;
for (@presets) { die "gauntlet: preset '$_' is not <n>n<l>l<c>c<t>t\n" unless /^\d+n\d+l\d+c\d+t$/ }

my (%cell, @order, %seen, @failed);
for my $preset (@presets) {
    local $ENV{KTSTR_VM} = 1;
    local $ENV{KTSTR_TOPOLOGY} = $preset;
    for my $file (@files) {
        my $p = TAP::Parser->new({ exec => [$file] });
        while (my $r = $p->next) {
            next unless $r->is_test;
            my $name = $r->description =~ s/^-\s*//r;
            my $st = !$r->is_actual_ok ? 'not ok' : $r->has_skip ? 'skip' : 'ok';
            push @order, $name unless $seen{$name}++;
            $cell{$name}{$preset} = $st;
            push @failed, "$preset $name" if $st eq 'not ok';
        }
        printf STDERR "# %s %s: done\n", $preset, $file;
    }
}

my $w = 8;
$w = length > $w ? length : $w for @order;
my $cw = 9;
$cw = length > $cw ? length : $cw for @presets;
printf "%-*s", $w + 2, 'scenario';
printf " %-*s", $cw, $_ for @presets;
print "\n";
for my $name (@order) {
    printf "%-*s", $w + 2, $name;
    printf " %-*s", $cw, $cell{$name}{$_} // '-' for @presets;
    print "\n";
}
print "not ok: $_\n" for @failed;
exit(@failed ? 1 : 0);
