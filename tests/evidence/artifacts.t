#!/usr/bin/perl
# The artifacts of a run (--artifacts DIR, DESIGN.md section 10) against
# the TAP of the same run: every sidecar field against the point's YAML
# (read with TAP::Parser) and the host, the YAML's artifacts: list, the
# CSV's samples against the SVG's points, the SVG well formed (xmllint),
# the bounds on series, and the options' errors. The scenarios are in
# tests/progs/evidence.c.
use strict;
use warnings;
use Test::More;
use TAP::Parser;
use JSON::PP;
use B ();
use File::Temp qw(tempdir);
use FindBin;
use lib "$FindBin::Bin/../lib";
use KtTest;

my $bin = 'build/tests/progs/evidence';
plan skip_all => "$bin is not built (run make)" unless -x $bin;

my $dir = tempdir(CLEANUP => 1);
my $art = "$dir/deep/art";          # made with its parents
my @names = qw(ev_pass ev_fail ev_crash ev_skip ev_needs ev_bounded ev_api_errors);
my $run = run_prog(prog => $bin,
                   args => ['--verbose', '--artifacts', $art, map { ('--filter', $_) } @names]);
is($run->{exit}, 1, 'exit status 1: some points are not ok');

my (%yaml, %tap);
my $p = TAP::Parser->new({ tap => $run->{out} });
my $last;
while (my $r = $p->next) {
    if ($r->is_test) {
        ($last = $r->description) =~ s/^- //;
        $tap{$last} = { ok => $r->is_actual_ok, directive => $r->directive // '',
                        reason => $r->explanation // '' };
    } elsif ($r->is_yaml && defined $last) {
        $yaml{$last} = $r->data;
    }
}
is_deeply([ sort keys %tap ], [ sort @names ], 'one point per scenario');

# ---- what the sidecar must hold ----------------------------------------

chomp(my $kernel = `uname -r`);
chomp(my $ncpus = `getconf _NPROCESSORS_ONLN`);
my ($model) = slurp('/proc/cpuinfo') =~ /^model name\s*:\s*(.*)$/m;

my $json_re = qr/^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;
sub is_number {
    my $f = B::svref_2object(\$_[0])->FLAGS;
    return ($f & (B::SVp_IOK | B::SVp_NOK)) && !($f & B::SVp_POK);
}

sub outcome_of {
    my ($name) = @_;
    my $t = $tap{$name};
    return 'skip' if $t->{directive} eq 'SKIP';
    return 'pass' if $t->{ok};
    return $yaml{$name}{severity};
}

for my $name (@names) {
    my $raw = slurp("$art/$name.json");
    my $j = eval { JSON::PP->new->decode($raw) };
    ok($j, "$name: $name.json is JSON") or do { diag($@); next };
    ok(eval { JSON::PP->new->utf8->decode($raw); 1 }, "$name: and valid UTF-8") or diag($@);
    my $y = $yaml{$name} // {};
    is_deeply([ sort keys %$j ], [ sort qw(scenario outcome claims notes duration_ms host) ],
              "$name: exactly section 10's fields");
    is($j->{scenario}, $name, "$name: scenario");
    is($j->{outcome}, outcome_of($name), "$name: outcome as the TAP says");
    # claims: the YAML's failures then its passes, field by field
    my @want = ((map { { %$_, passed => 0 } } grep { $_->{op} ne 'dropped' } @{ $y->{failures} // [] }),
                (map { { %$_, passed => 1 } } @{ $y->{passes} // [] }));
    my @got = @{ $j->{claims} // [] };
    is(scalar @got, scalar @want, "$name: every claim of the YAML (" . scalar(@want) . ")");
    for my $i (0 .. $#want) {
        my ($w, $g) = ($want[$i], $got[$i] // {});
        my $what = "$name: claim $i ($w->{label})";
        is_deeply([ sort keys %$g ], [ sort qw(label op expected actual passed at) ],
                  "$what: its fields");
        is($g->{$_}, $w->{$_}, "$what: $_") for qw(label op expected);
        is($g->{at}, $w->{at} // '', "$what: at");
        ok(($g->{passed} ? 1 : 0) == $w->{passed} && JSON::PP::is_bool($g->{passed}),
           "$what: passed is a boolean, $w->{passed}");
        if ($w->{actual} =~ $json_re) {
            ok(is_number($g->{actual}) && $g->{actual} == $w->{actual},
               "$what: actual a JSON number, $w->{actual}") or diag(explain($g->{actual}));
        } else {
            ok(!is_number($g->{actual}) && $g->{actual} eq $w->{actual},
               "$what: actual a string, $w->{actual}");
        }
    }
    # notes: the YAML's, then the runner's message for what is not a pass
    # or a failure, or the skip reason
    my @notes = @{ $y->{notes} // [] };
    my $o = outcome_of($name);
    push @notes, "skipped: $tap{$name}{reason}" if $o eq 'skip';
    push @notes, $y->{message} if $o ne 'pass' && $o ne 'fail' && $o ne 'skip';
    my @extra = grep { /series samples not kept/ } @{ $j->{notes} };
    is_deeply([ grep { !/series samples not kept/ } @{ $j->{notes} } ], \@notes, "$name: notes");
    is($j->{duration_ms}, $y->{duration_ms} // 0, "$name: duration_ms as the YAML's");
    is_deeply($j->{host}, { kernel => $kernel, cpus => $ncpus, cpu_model => $model // '' },
              "$name: host");
    ok(is_number($j->{duration_ms}) && is_number($j->{host}{cpus}), "$name: numbers are numbers");
}

# ---- the YAML's artifacts: list, and which files there are -------------

for my $name (@names) {
    my $series = $name =~ /^ev_(pass|fail|crash|bounded|api_errors)$/;
    my @files = ("$art/$name.json", $series ? ("$art/$name.csv", "$art/$name.svg") : ());
    ok(-f $_, "$name: $_ written") for @files;
    ok(!-e "$art/$name.csv" && !-e "$art/$name.svg", "$name: no CSV or SVG without series")
        unless $series;
    if ($tap{$name}{ok}) {
        ok(!exists $yaml{$name}{artifacts}, "$name: a passing point lists no artifacts");
    } else {
        is_deeply($yaml{$name}{artifacts}, \@files, "$name: its YAML lists its files");
    }
}
ok(!glob("$art/*.tmp"), 'no temporary file left');

# ---- the CSV and the SVG -----------------------------------------------

# Rows of a CSV as [series, unit, t_ms, value].
sub csv_rows {
    my ($file) = @_;
    my @lines = split /\n/, slurp($file);
    my $head = shift @lines;
    return (undef) unless $head eq 'series,unit,t_ms,value';
    my @rows;
    for (@lines) {
        my @f = /^"((?:[^"]|"")*)","((?:[^"]|"")*)",(\d+\.\d{6}),(.+)$/ or return (undef);
        s/""/"/g for @f[0, 1];
        push @rows, \@f;
    }
    return \@rows;
}

sub xml_unescape {
    my ($s) = @_;
    $s =~ s/&lt;/</g; $s =~ s/&gt;/>/g; $s =~ s/&quot;/"/g; $s =~ s/&#39;/'/g; $s =~ s/&amp;/&/g;
    return $s;
}

# Panels of an SVG: their mapping and the points of each series' lines.
sub svg_panels {
    my ($svg) = @_;
    my @panels;
    for my $chunk (split /(?=<g class="panel")/, $svg) {
        next unless $chunk =~ /^<g class="panel" data-unit="([^"]*)" data-x0="([^"]+)" data-x1="([^"]+)" data-y0="([^"]+)" data-y1="([^"]+)" data-left="(\d+)" data-top="(\d+)" data-width="(\d+)" data-height="(\d+)">/;
        my %p = (unit => xml_unescape($1), x0 => $2, x1 => $3, y0 => $4, y1 => $5,
                 left => $6, top => $7, width => $8, height => $9, lines => {});
        while ($chunk =~ /<polyline class="series" data-series="([^"]*)"[^>]* points="([^"]*)"/g) {
            push @{ $p{lines}{ xml_unescape($1) } }, [ map { [ split /,/ ] } split / /, $2 ];
        }
        push @panels, \%p;
    }
    return @panels;
}

my $xmllint = `command -v xmllint 2>/dev/null`;
chomp $xmllint;
for my $name (qw(ev_pass ev_fail ev_crash ev_bounded)) {
    my $svgf = "$art/$name.svg";
    SKIP: {
        skip 'xmllint is not installed (Debian: libxml2-utils)', 1 unless $xmllint;
        my $r = run_prog(prog => $xmllint, args => ['--noout', $svgf]);
        is($r->{exit} . $r->{err}, '0', "$name: the SVG is well-formed XML (xmllint)");
    }
    my $rows = csv_rows("$art/$name.csv");
    ok($rows, "$name: the CSV has its header and well-formed rows") or next;
    my @panels = svg_panels(slurp($svgf));
    my %units = map { $_->[1] => 1 } @$rows;
    is_deeply([ sort map { $_->{unit} } @panels ], [ sort keys %units ], "$name: a panel per unit");
    my %by;
    push @{ $by{ $_->[0] } }, $_ for @$rows;
    my ($bad, $checked) = (0, 0);
    for my $label (sort keys %by) {
        my ($pan) = grep { $_->{unit} eq $by{$label}[0][1] } @panels;
        my @want = grep { $_->[3] =~ /^-?\d/ } @{ $by{$label} };   # nan is not drawn
        my @lines = @{ $pan->{lines}{$label} // [] };
        my @pts = map { @$_ } @lines;
        if (@pts != @want) {
            $bad++;
            diag("$name: $label: " . scalar(@pts) . " points drawn, " . scalar(@want) . " in the CSV");
            next;
        }
        for my $i (0 .. $#want) {
            my $x = $pan->{left} + $want[$i][2] / 1000 / $pan->{x1} * $pan->{width};
            my $y = $pan->{top} + $pan->{height}
                    - ($want[$i][3] - $pan->{y0}) / ($pan->{y1} - $pan->{y0}) * $pan->{height};
            $checked++;
            next if abs($x - $pts[$i][0]) <= 0.011 && abs($y - $pts[$i][1]) <= 0.011;
            $bad++;
            diag("$name: $label point $i at $pts[$i][0],$pts[$i][1], CSV says $x,$y") if $bad < 5;
        }
    }
    is($bad, 0, "$name: every drawn point is its CSV sample ($checked points)");
}

# The NaN sample of ev_pass's with_nan breaks its line in two.
{
    my ($ms) = grep { $_->{unit} eq 'ms' } svg_panels(slurp("$art/ev_pass.svg"));
    is(scalar @{ $ms->{lines}{with_nan} // [] }, 2, 'a NaN sample breaks the line');
    like(slurp("$art/ev_pass.svg"), qr/<line class="bound"[^>]*stroke-dasharray/,
         'bounds are dashed lines');
    like(slurp("$art/ev_pass.csv"), qr/^"with_nan","ms",100\.000000,nan$/m, 'NaN as nan in the CSV');
    like(slurp("$art/ev_pass.csv"), qr/^"gap ""ms"", <worst> & \\ \x{c3}\x{a9}","ms",/m,
         'labels quoted in the CSV');
}

# ---- bounds ----------------------------------------------------------------

{
    my $rows = csv_rows("$art/ev_bounded.csv");
    my %n;
    $n{ $_->[0] }++ for @$rows;
    is(scalar keys %n, 64, 'a point keeps 64 series');
    is($n{s0}, 20000, 'a series sends KT_CTX_MAX_SAMPLES samples');
    my $j = JSON::PP->new->decode(slurp("$art/ev_bounded.json"));
    # s0: 5 not sent; s64..s69: 3 each
    is_deeply([ grep { /not kept/ } @{ $j->{notes} } ],
              ['23 series samples not kept (a point keeps 64 series, 100000 samples)'],
              'what was not kept is a note');
}

# ---- a second run replaces the files -----------------------------------

{
    my $r = run_prog(prog => $bin, args => ['--artifacts', $art, '--filter', 'ev_skip']);
    is($r->{exit}, 0, 'a second run into the same directory');
    my $j = JSON::PP->new->decode(slurp("$art/ev_skip.json"));
    is($j->{outcome}, 'skip', 'its sidecar is rewritten');
}

# ---- options and their errors --------------------------------------------

{
    my $r = run_prog(prog => $bin, args => ['--artifacts', '', '--filter', 'ev_skip']);
    is($r->{exit}, 2, '--artifacts "": a usage error');
    like($r->{err}, qr/--artifacts: empty/, '... naming the option');
    open(my $fh, '>', "$dir/file") or die;
    close($fh);
    $r = run_prog(prog => $bin, args => ['--filter', 'ev_skip'],
                  env => { KTSTR_ARTIFACTS => "$dir/file/sub" });
    is($r->{exit}, 2, 'KTSTR_ARTIFACTS under a file: an error before any point');
    like($r->{err}, qr{artifacts directory '\Q$dir\E/file/sub': mkdir \Q$dir\E/file/sub: Not a directory},
         '... naming the directory and the cause');
    unlike($r->{out}, qr/^ok/m, '... and no point ran');
    $r = run_prog(prog => $bin, args => ['--list', '--artifacts', "$dir/never"]);
    ok($r->{exit} == 0 && !-e "$dir/never", '--list writes no artifacts');
    $r = run_prog(prog => $bin, args => ['--filter', 'ev_pass'],
                  env => { KTSTR_ARTIFACTS => "$dir/env" });
    ok(-f "$dir/env/ev_pass.json", 'KTSTR_ARTIFACTS works as --artifacts');
    $r = run_prog(prog => $bin, args => ['--filter', 'ev_pass', '--artifacts', "$dir/opt"],
                  env => { KTSTR_ARTIFACTS => "$dir/env2" });
    ok(-f "$dir/opt/ev_pass.json" && !-e "$dir/env2", '--artifacts overrides KTSTR_ARTIFACTS');
    $r = run_prog(prog => $bin, args => ['--help']);
    like($r->{out}, qr/--artifacts D.*--baseline D.*KTSTR_BASELINE_REL/s, '--help tells of both');
}

done_testing();
