#!/usr/bin/perl
# ktstr report's page (build/bin/ktstr report, as make report runs it), in a
# real browser: the page
# built from the artifacts of tests/progs/evidence.c's points lists every
# point with failing ones first, and headless Chromium loads it without a
# console error, builds its summary table and inline plots, and paints a
# screenshot that is not blank (its PNG decoded here). Without Chromium
# the browser checks are skipped with the reason; the page is checked
# either way.
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use Compress::Zlib ();
use FindBin;
use lib "$FindBin::Bin/../lib";
use KtTest;

my $bin = 'build/tests/progs/evidence';
my $tool = 'build/bin/ktstr';
plan skip_all => "$bin or $tool is not built (run make)" unless -x $bin && -x $tool;

my $dir = tempdir(CLEANUP => 1);
my @names = qw(ev_pass ev_fail ev_crash ev_skip ev_needs ab_point);
my $run = run_prog(prog => $bin, args => ['--artifacts', "$dir/art", map { ('--filter', $_) } @names]);
is($run->{exit}, 1, 'the artifacts of a run with failing points');

# One sidecar that is not one: listed as unreadable, the rest still shown.
open(my $fh, '>', "$dir/art/broken.json") or die;
print $fh '{"scenario": "broken", ';
close($fh);

my $r = run_prog(prog => $tool, args => ['report', "$dir/art", '-o', "$dir/index.html"]);
is($r->{exit}, 0, 'report: exit 0') or diag($r->{err});
my $html = slurp("$dir/index.html");

# ---- the page itself -----------------------------------------------------

my @rows = $html =~ m{<tr(?: class="bad")?><td><a href="#p-([^"]+)">}g;
is_deeply([ @rows[0 .. 2] ], [qw(broken ev_crash ev_fail)],
          'failing points first (by name), the unreadable one among them');
is_deeply([ @rows[3 .. $#rows] ], [qw(ab_point ev_pass ev_needs ev_skip)],
          'then passes, then skips');
like($html, qr{<td class="o-crash">crash</td>}, 'the outcome of each point');
like($html, qr{<h3>Failed claims</h3>.*?max_gap_ms.*?at_most.*?150.*?190}s,
     "a failing point's failed claims");
like($html, qr{<li>one worker was kept off for a while</li>}, 'its notes');
like($html, qr{<li>killed by SIGSEGV</li>}, "a crash's cause");
like($html, qr{broken\.json: line 1, column 24: expected a string key}, 'why a sidecar is unreadable');
my $svgs = () = $html =~ /<svg /g;
is($svgs, 3, 'the plots of the three points with series are inline');
unlike($html, qr/<\?xml/, 'without their XML declarations');
like($html, qr{gap &quot;ms&quot;, &lt;worst&gt; &amp; \\ \x{c3}\x{a9}}, 'text escaped as HTML');

# ---- errors --------------------------------------------------------------

$r = run_prog(prog => $tool, args => ['report', "$dir/none", '-o', "$dir/x.html"]);
ok($r->{exit} == 2 && $r->{err} =~ m{^ktstr report: \Q$dir\E/none: No such file or directory},
   'a missing directory: exit 2 naming it');
mkdir "$dir/empty";
$r = run_prog(prog => $tool, args => ['report', "$dir/empty", '-o', "$dir/x.html"]);
ok($r->{exit} == 1 && $r->{err} =~ /no sidecar/, 'an empty directory: exit 1, said so');
$r = run_prog(prog => $tool, args => ['report', '-o']);
is($r->{exit}, 2, 'a usage error: exit 2');
$r = run_prog(prog => $tool, args => ['report']);
is($r->{exit}, 2, 'no directory: exit 2');
$r = run_prog(prog => $tool, args => ['report', "$dir/art", '-o', "$dir/no/such/dir/x.html"]);
ok($r->{exit} == 1 && $r->{err} =~ /No such file or directory/, 'an unwritable page: exit 1');

# ---- in a browser --------------------------------------------------------

# Colours of the first rows of an 8-bit RGB(A) PNG: decodes the IDAT
# stream and undoes each row's filter (PNG spec, section 9).
sub png_colours {
    my ($file, $max_rows) = @_;
    my $png = slurp($file);
    return (undef, 'not a PNG') unless substr($png, 0, 8) eq "\x89PNG\r\n\x1a\n";
    my ($pos, $idat, $w, $h, $depth, $ctype, $interlace) = (8, '');
    while ($pos + 8 <= length $png) {
        my ($len, $type) = unpack('N a4', substr($png, $pos, 8));
        my $data = substr($png, $pos + 8, $len);
        ($w, $h, $depth, $ctype, undef, undef, $interlace) = unpack('N N C C C C C', $data)
            if $type eq 'IHDR';
        $idat .= $data if $type eq 'IDAT';
        last if $type eq 'IEND';
        $pos += 12 + $len;
    }
    return (undef, "unsupported PNG (depth $depth, colour type $ctype)")
        unless $depth == 8 && ($ctype == 2 || $ctype == 6) && !$interlace;
    my $raw = Compress::Zlib::uncompress($idat);
    return (undef, 'IDAT does not inflate') unless defined $raw;
    my $bpp = $ctype == 6 ? 4 : 3;
    my $stride = $w * $bpp;
    my (%seen, @prev);
    @prev = (0) x $stride;
    my $rows = $h < $max_rows ? $h : $max_rows;
    for my $y (0 .. $rows - 1) {
        my $f = ord(substr($raw, $y * ($stride + 1), 1));
        my @cur = unpack('C*', substr($raw, $y * ($stride + 1) + 1, $stride));
        for my $i (0 .. $stride - 1) {
            my $a = $i >= $bpp ? $cur[$i - $bpp] : 0;
            my $b = $prev[$i];
            my $c = $i >= $bpp ? $prev[$i - $bpp] : 0;
            my $p;
            if ($f == 0) { $p = 0 }
            elsif ($f == 1) { $p = $a }
            elsif ($f == 2) { $p = $b }
            elsif ($f == 3) { $p = ($a + $b) >> 1 }
            else {
                my $e = $a + $b - $c;
                my ($pa, $pb, $pc) = (abs($e - $a), abs($e - $b), abs($e - $c));
                $p = $pa <= $pb && $pa <= $pc ? $a : $pb <= $pc ? $b : $c;
            }
            $cur[$i] = ($cur[$i] + $p) & 255;
        }
        for (my $i = 0; $i < $stride; $i += $bpp) {
            $seen{ join ',', @cur[$i .. $i + 2] }++;
        }
        @prev = @cur;
    }
    return (\%seen, "${w}x$h");
}

my ($chromium) = grep { -x } map { "$_/chromium" } split /:/, $ENV{PATH} // '';
SKIP: {
    skip 'Chromium is not installed (Debian: apt-get install chromium)', 8 unless $chromium;
    my @flags = ('--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
                 '--no-first-run', '--disable-background-networking',
                 '--disable-component-update', '--disable-sync',
                 '--enable-logging=stderr', '--v=0', '--window-size=1000,1200');
    my $url = "file://$dir/index.html";

    # The DOM Chromium built from the page.
    my $b = run_prog(prog => $chromium,
                     args => [@flags, "--user-data-dir=$dir/profile1", '--dump-dom', $url]);
    is($b->{exit}, 0, 'Chromium loads the page') or diag($b->{err});
    my $dom = $b->{out};
    my @dom_rows = $dom =~ m{<tr(?: class="bad")?><td><a href="#p-}g;
    is(scalar @dom_rows, scalar @rows, 'its DOM has every row of the summary table');
    my $polylines = () = $dom =~ /<polyline /g;
    my $want = () = $html =~ /<polyline /g;
    ok($polylines > 0 && $polylines == $want, "and every line of the inline plots ($want)");
    my @console = grep { /CONSOLE|Uncaught|Refused to|Failed to load/ } split /\n/, $b->{err};
    is_deeply(\@console, [], 'no console error or failed load');

    # What it paints.
    $b = run_prog(prog => $chromium,
                  args => [@flags, "--user-data-dir=$dir/profile2", "--screenshot=$dir/shot.png", $url]);
    ok($b->{exit} == 0 && -s "$dir/shot.png", 'Chromium paints a screenshot') or diag($b->{err});
    my ($colours, $what) = png_colours("$dir/shot.png", 400);
    ok($colours, "the screenshot decodes ($what)") or diag($what);
    my $n = $colours ? scalar keys %$colours : 0;
    cmp_ok($n, '>', 1, "it is not blank: $n colours in its top 400 rows");
    ok($colours && (grep { $_ ne '255,255,255' } keys %$colours) >= 3,
       'text, table lines and the red of the failing rows among them');
}

done_testing();
