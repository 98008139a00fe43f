#!/usr/bin/perl
# The library's floor plan holds: every file of lib/<folder>/ includes, and
# its object calls, only what its folder may use (lib/README.md, "Layers").
# Two checks, one table:
#   - sources: each #include "..." of lib/*/*.[ch], a private header by its
#     folder ("evidence/json.h", or a bare name in the file's own folder)
#     and a public one by the folder that implements it (%OWNER below);
#   - objects: each symbol an object of build/obj/lib/<folder>/ takes from
#     another object of the library, by the folder that defines it.
# A file that breaks the order is named with what it took and the rule.
use strict;
use warnings;
use Test::More;

# Who may use whom: each folder, the folders it may include or call (its
# own always). The order, from the ground up: base, verdict, the sources
# and actors (capture, then work, microvm, guest, scx), evidence, runner,
# and cmd (the ktstr command, linked against the library).
my %MAY = (
    base     => [],
    verdict  => [qw(base)],
    capture  => [qw(base verdict)],
    work     => [qw(base verdict)],
    microvm  => [qw(base verdict capture)],
    guest    => [qw(base verdict capture)],
    scx      => [qw(base verdict)],
    evidence => [qw(base verdict capture work microvm guest scx)],
    runner   => [qw(base verdict capture work microvm guest scx evidence)],
    cmd      => [qw(base verdict capture work microvm guest scx evidence runner)],
);

# Each public header, by the folder that implements what it declares.
my %OWNER = (
    'ktstr/api.h'       => 'base',     # KT_API alone: every folder uses it
    'ktstr/error.h'     => 'base',
    'ktstr/verdict.h'   => 'verdict',
    'ktstr/series.h'    => 'verdict',
    'ktstr/stats.h'     => 'verdict',
    'ktstr/cpuset.h'    => 'verdict',
    'ktstr/discover.h'  => 'capture',
    'ktstr/file.h'      => 'capture',
    'ktstr/kvmstats.h'  => 'capture',
    'ktstr/monitor.h'   => 'capture',
    'ktstr/perf.h'      => 'capture',
    'ktstr/procstat.h'  => 'capture',
    'ktstr/schedstat.h' => 'capture',
    'ktstr/cgroup.h'    => 'work',
    'ktstr/changes.h'   => 'work',
    'ktstr/hist.h'      => 'work',
    'ktstr/work.h'      => 'work',
    'ktstr/microvm.h'   => 'microvm',
    'ktstr/topology.h'  => 'guest',
    'ktstr/vcpus.h'     => 'guest',
    'ktstr/scx.h'       => 'scx',
    'ktstr/tap.h'       => 'evidence',
    'ktstr/scenario.h'  => 'runner',
    'ktstr.h'           => 'runner',   # the umbrella: everything
);

sub allowed {
    my ($from, $to) = @_;
    return $from eq $to || grep { $_ eq $to } @{ $MAY{$from} };
}

sub rule {
    my ($from) = @_;
    my @may = @{ $MAY{$from} };
    return "$from may use " . (@may ? join(', ', @may) : 'only itself');
}

# The problems of one file's text: [include, folder it belongs to, why].
sub check_source {
    my ($path, $text, $exists) = @_;
    my ($from) = $path =~ m{^lib/([^/]+)/} or return ("$path: not in a folder of lib/");
    return ("$path: lib/$from/ is no layer (add it to the table in tests/package/layers.t)")
        unless $MAY{$from};
    my @bad;
    while ($text =~ /^\s*#\s*include\s+"([^"]+)"/mg) {
        my $inc = $1;
        my $to;
        if (exists $OWNER{$inc}) {
            $to = $OWNER{$inc};
        } elsif ($inc =~ m{^ktstr/}) {
            push @bad, "$path includes \"$inc\": a public header with no owner in the table";
            next;
        } elsif ($inc =~ m{^([^/]+)/[^/]+$}) {
            $to = $1;
            unless ($MAY{$to} && $exists->("lib/$inc")) {
                push @bad, "$path includes \"$inc\": no such file lib/$inc";
                next;
            }
        } elsif ($inc !~ m{/} && $exists->("lib/$from/$inc")) {
            $to = $from;
        } else {
            push @bad, "$path includes \"$inc\": not found in lib/$from/";
            next;
        }
        push @bad, "$path includes \"$inc\" (lib/$to/), but " . rule($from)
            unless allowed($from, $to);
    }
    return @bad;
}

# The checker finds what it is for: a ground file that includes the top.
my @self = check_source('lib/base/vec.c', qq{#include "runner/point.h"\n#include "base/vec.h"\n},
                        sub { 1 });
is(scalar @self, 1, 'the checker flags a lower folder including a higher one');
like($self[0] // '', qr{lib/base/vec\.c includes "runner/point\.h" \(lib/runner/\), but base may use only itself},
     'and says which file, which include and the rule');
@self = check_source('lib/verdict/claim.c', qq{#include "ktstr/tap.h"\n}, sub { 1 });
like($self[0] // '', qr{\(lib/evidence/\), but verdict may use base$}, 'a public header counts as its owner');

my @files = sort glob('lib/*/*.c lib/*/*.h');
ok(@files > 50, 'lib/ has its sources (' . scalar(@files) . ' files)');
ok(!-d 'lib/core', 'lib/core/ is gone: every file has its layer');
my @dirs = grep { -d } glob('lib/*');
is_deeply([sort map { m{lib/(.+)} } @dirs], [sort keys %MAY], 'every folder of lib/ is in the table, and only those');
my @pub = map { m{include/(.+)} } glob('include/ktstr/*.h'), 'include/ktstr.h';
is_deeply([sort @pub], [sort keys %OWNER], 'every public header has an owner in the table');

my @bad;
for my $f (@files) {
    open(my $fh, '<', $f) or die "$f: $!";
    my $text = do { local $/; <$fh> };
    push @bad, check_source($f, $text, sub { -f $_[0] });
}
is(scalar @bad, 0, 'every include of lib/ keeps the order') or diag(join("\n", @bad));

SKIP: {
    my @objs = sort glob('build/obj/lib/*/*.o');
    skip('build/obj/lib/ not built (run make)', 1) unless @objs;
    skip('nm (binutils) is not installed', 1)
        unless system('command -v nm >/dev/null 2>&1') == 0;
    my (%def, %undef);
    for my $o (@objs) {
        my ($dir) = $o =~ m{^build/obj/lib/([^/]+)/} or next;
        next unless -f ($o =~ s{^build/obj/(.*)\.o$}{$1.c}r);   # a stale object of a removed file
        for (`nm $o`) {
            my ($type, $sym) = /^\s*(?:[0-9a-f]+\s+)?([A-Za-z])\s+(\S+)$/ or next;
            if ($type eq 'U') { push @{ $undef{$o} }, $sym }
            elsif ($type =~ /[TDBR]/) { $def{$sym} = $dir }
        }
    }
    my @calls;
    for my $o (sort keys %undef) {
        my ($from) = $o =~ m{^build/obj/lib/([^/]+)/};
        for my $sym (@{ $undef{$o} }) {
            my $to = $def{$sym} // next;    # libc
            push @calls, "$o takes $sym from lib/$to/, but " . rule($from)
                unless allowed($from, $to);
        }
    }
    is(scalar @calls, 0, 'every object of lib/ calls only what its folder may use')
        or diag(join("\n", @calls));
}

done_testing();
