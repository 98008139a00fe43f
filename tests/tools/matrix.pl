#!/usr/bin/perl
# One table of catalog points by setting: the catalog in QEMU guests
# (KTSTR_VM=1) once per value of one environment variable, each point ok,
# not ok or skip. `make gauntlet` varies KTSTR_TOPOLOGY over topology
# presets; `make scx-matrix` varies KTSTR_SCHEDULER over schedulers (the
# value "eevdf" leaves it unset: the kernel's own scheduler). The kernel
# comes from KTSTR_KERNEL. Exit status 1 when any point is not ok; the
# not-ok points are listed under the table with their messages.
#
#   perl tests/tools/matrix.pl VARIABLE VALUE... [-- scenario.t ...]
use strict;
use warnings;
use TAP::Parser;

my $var = shift @ARGV // '';
die "matrix: usage: matrix.pl VARIABLE VALUE... [-- files]\n" unless $var =~ /^KTSTR_[A-Z_]+$/;
my @values;
push @values, shift @ARGV while @ARGV && $ARGV[0] ne '--';
shift @ARGV if @ARGV && $ARGV[0] eq '--';
my @files = @ARGV ? @ARGV : sort glob('build/scenarios/*.t');
die "matrix: no values for $var\n" unless @values;
die "matrix: no scenario files (run make first)\n" unless @files;
if ($var eq 'KTSTR_TOPOLOGY') {
    for (@values) { die "matrix: preset '$_' is not <n>n<l>l<c>c<t>t\n" unless /^\d+n\d+l\d+c\d+t$/ }
}

# A column's heading: a scheduler's program name, not its whole path.
sub heading { my ($v) = @_; $v =~ s{^\S*/}{}; $v =~ s/\s.*//; $v }

my (%cell, @order, %seen, @failed);
for my $value (@values) {
    local $ENV{KTSTR_VM} = 1;
    local $ENV{$var} = $value;
    delete $ENV{$var} if $var eq 'KTSTR_SCHEDULER' && $value eq 'eevdf';
    for my $file (@files) {
        my $p = TAP::Parser->new({ exec => [$file] });
        my ($name, $yaml_for);
        while (my $r = $p->next) {
            if ($r->is_test) {
                $name = $r->description =~ s/^-\s*//r;
                my $st = !$r->is_actual_ok ? 'not ok' : $r->has_skip ? 'skip' : 'ok';
                push @order, $name unless $seen{$name}++;
                $cell{$name}{$value} = $st;
                $yaml_for = $st eq 'not ok' ? $name : undef;
            } elsif ($r->is_yaml && $yaml_for) {
                my $y = $r->data;
                my $msg = ref $y eq 'HASH' ? $y->{message} // '' : '';
                my @f = ref $y eq 'HASH' && ref $y->{failures} eq 'ARRAY' ? @{ $y->{failures} } : ();
                $msg .= '; ' . join('; ', map { $_->{message} // '' } @f[0 .. ($#f < 2 ? $#f : 2)]) if @f;
                push @failed, sprintf('%s %s: %s', heading($value), $yaml_for, $msg);
                $yaml_for = undef;
            }
        }
        printf STDERR "# %s=%s %s: done\n", $var, $value, $file;
    }
}

my $w = 8;
$w = length > $w ? length : $w for @order;
my @heads = map { heading($_) } @values;
my $cw = 6;
$cw = length > $cw ? length : $cw for @heads;
printf "%-*s", $w + 2, 'scenario';
printf " %-*s", $cw, $_ for @heads;
print "\n";
for my $name (@order) {
    printf "%-*s", $w + 2, $name;
    printf " %-*s", $cw, $cell{$name}{$_} // '-' for @values;
    print "\n";
}
print "not ok: $_\n" for @failed;
exit(@failed ? 1 : 0);
