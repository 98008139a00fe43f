#!/usr/bin/perl
# The TAP writer's escaping, round-tripped through TAP::Parser: a helper
# (tests/progs/tap_fuzz.c) writes points whose names, reasons, comments,
# YAML values, list items and nested maps are random byte strings, and a
# manifest of them; every point must parse, the plan hold, every YAML
# block parse, and every value read back as the manifest says after the
# documented escaping (tap.h):
#   - names and reasons: '#' and '\' escaped (TAP::Parser keeps the
#     escapes), control bytes as spaces, and TAP::Parser trims the ends;
#   - YAML strings: exactly the bytes written.
# Twice: as raw TAP (bytes, what a TAP consumer reading our bytes sees)
# and run as prove runs a TAP 13 program (TAP::Parser decodes each line
# from UTF-8, invalid bytes as U+FFFD, and its regexes then see Unicode
# white space). KTSTR_FUZZ_SEED replays a run, KTSTR_FUZZ_SECONDS changes
# its budget (default 1 s of rounds of 300 points).
use strict;
use warnings;
use Encode ();
use File::Temp qw(tempfile);
use TAP::Parser;
use Test::More;
use Time::HiRes qw(time);
use FindBin;
use lib "$FindBin::Bin/../lib";
use KtTest;

my $prog = 'build/tests/progs/tap_fuzz';
plan skip_all => "$prog not built (run make)" unless -x $prog;

my $seed = $ENV{KTSTR_FUZZ_SEED} // int(time() * 1000) % 1000000007 ^ $$;
my $budget = $ENV{KTSTR_FUZZ_SECONDS} // 1;
die "KTSTR_FUZZ_SEED=\"$seed\": want an unsigned integer\n" unless $seed =~ /^\d+$/;
die "KTSTR_FUZZ_SECONDS=\"$budget\": want a number\n" unless $budget =~ /^\d+(\.\d*)?$/;
my $POINTS = 300;
my $ROUNDS_MAX = 20;
note("fuzz seed $seed (replay: KTSTR_FUZZ_SEED=$seed), $budget s of rounds of $POINTS points");

# ---- what the manifest says --------------------------------------------

sub unhex { my ($h) = @_; $h =~ s/^x//; return pack('H*', $h) }

# The points of a manifest: [ { ok, dir, name, reason, yaml => tree|undef } ]
sub read_manifest {
    my ($file) = @_;
    my @pts;
    for my $line (split /\n/, slurp($file)) {
        my ($kind, $n, @rest) = split / /, $line;
        if ($kind eq 'P') {
            my ($ok, $dir, $name, $reason, $yaml) = @rest;
            $pts[$n] = { ok => $ok, dir => $dir, name => unhex($name),
                         reason => unhex($reason), yaml => $yaml ? {} : undef };
            next;
        }
        my ($path, $v) = @rest;
        my @keys = split m{/}, $path;
        my $last = pop @keys;
        my $node = $pts[$n]{yaml};
        $node = ref $node eq 'ARRAY' ? $node->[$_] : $node->{$_} for @keys;
        my $val = $kind eq 'S' ? unhex($v) : $kind eq 'I' ? $v : $kind eq 'L' ? [] : {};
        if (ref $node eq 'ARRAY') { $node->[$last] = $val } else { $node->{$last} = $val }
    }
    return @pts[1 .. $#pts];
}

# A name or reason as TAP::Parser reports it: escaped, control bytes as
# spaces, decoded when the stream is, trimmed.
sub as_described {
    my ($s, $decode) = @_;
    $s =~ s/([\\#])/\\$1/g;
    $s =~ s/[\x00-\x1f\x7f]/ /g;
    $s = Encode::decode_utf8($s) if $decode;
    $s =~ s/^\s+//;
    $s =~ s/\s+$//;
    return $s;
}

# Every string of a tree decoded as prove decodes the stream.
sub decoded {
    my ($t) = @_;
    return [ map { decoded($_) } @$t ] if ref $t eq 'ARRAY';
    return { map { $_ => decoded($t->{$_}) } keys %$t } if ref $t eq 'HASH';
    return Encode::decode_utf8($t);
}

# Where two trees first differ, or undef.
sub differ {
    my ($got, $want, $at) = @_;
    my $show = sub { defined $_[0] ? (ref $_[0] || '"' . join('', map { sprintf(ord($_) < 32 || ord($_) > 126 ? '\\x{%x}' : '%s', ord($_) < 32 || ord($_) > 126 ? ord($_) : $_) } split //, $_[0]) . '"') : 'undef' };
    return "$at: got " . $show->($got) . ", wrote " . $show->($want)
        if ref $got ne ref $want || (!ref $want && (!defined $got || $got ne $want));
    if (ref $want eq 'ARRAY') {
        return "$at: " . @$got . " items, wrote " . @$want if @$got != @$want;
        for (0 .. $#$want) {
            my $d = differ($got->[$_], $want->[$_], "$at/$_");
            return $d if $d;
        }
    } elsif (ref $want eq 'HASH') {
        my ($g, $w) = (join(',', sort keys %$got), join(',', sort keys %$want));
        return "$at: keys $g, wrote $w" if $g ne $w;
        for (sort keys %$want) {
            my $d = differ($got->{$_}, $want->{$_}, "$at/$_");
            return $d if $d;
        }
    }
    return undef;
}

# ---- one round ----------------------------------------------------------

# Parses one stream and compares it point by point with the manifest;
# returns the problems found (the first few are enough).
sub check_stream {
    my ($parser, $decode, @want) = @_;
    my (@bad, @got);
    while (my $r = $parser->next) {
        if ($r->is_test) {
            push @got, { r => $r, yaml => undef };
        } elsif ($r->is_yaml) {
            push @bad, 'a YAML block before any point' unless @got;
            $got[-1]{yaml} = $r->data if @got;
        } elsif ($r->is_unknown) {
            push @bad, 'a line TAP::Parser does not know: ' . $r->raw;
        }
    }
    push @bad, 'parse error: ' . $_ for $parser->parse_errors;
    push @bad, sprintf('plan %s, %d points run', $parser->plan, $parser->tests_run)
        unless $parser->plan eq '1..' . @want && $parser->tests_run == @want;
    for my $i (0 .. $#want) {
        my ($w, $g) = ($want[$i], $got[$i]);
        my $n = $i + 1;
        last if @bad > 5;
        unless ($g) { push @bad, "point $n missing"; last }
        my $r = $g->{r};
        push @bad, "point $n: number " . $r->number if $r->number != $n;
        push @bad, "point $n: ok " . ($r->is_actual_ok ? 1 : 0) . ", wrote $w->{ok}"
            if ($r->is_actual_ok ? 1 : 0) != $w->{ok};
        my $dir = $w->{dir} eq 'NONE' ? '' : $w->{dir};
        push @bad, "point $n: directive '" . $r->directive . "', wrote '$dir'"
            if $r->directive ne $dir;
        my $d = differ($r->description, as_described('- ' . $w->{name}, $decode),
                       "point $n description");
        push @bad, $d if $d;
        if ($dir) {
            $d = differ($r->explanation, as_described($w->{reason}, $decode),
                        "point $n reason");
            push @bad, $d if $d;
        }
        if (defined $w->{yaml}) {
            $d = differ($g->{yaml}, $decode ? decoded($w->{yaml}) : $w->{yaml},
                        "point $n yaml");
            push @bad, $d if $d;
        } elsif (defined $g->{yaml}) {
            push @bad, "point $n: a YAML block it was not given";
        }
    }
    return @bad;
}

my ($fh, $manifest) = tempfile('ktstr-tapfuzz-XXXXXX', TMPDIR => 1, UNLINK => 1);
close $fh;
my ($start, $rounds, $failed) = (time(), 0, 0);
while ($rounds < $ROUNDS_MAX && ($rounds == 0 || time() - $start < $budget)) {
    my $s = $seed + $rounds++;
    my $run = run_prog(prog => $prog, args => [$s, $POINTS, $manifest]);
    if ($run->{exit} != 0 || $run->{sig}) {
        fail("seed $s: $prog exited $run->{exit} (signal $run->{sig}): $run->{err}");
        $failed++;
        last;
    }
    my @want = read_manifest($manifest);
    my @bytes = check_stream(TAP::Parser->new({ tap => $run->{out} }), 0, @want);
    my @prove = check_stream(TAP::Parser->new({ exec => [$prog, $s, $POINTS, '/dev/null'] }),
                             1, @want);
    for ([bytes => \@bytes], ['as prove runs it' => \@prove]) {
        my ($how, $bad) = @$_;
        next unless @$bad;
        $failed++;
        fail("seed $s ($how): every point reads back as written (replay: KTSTR_FUZZ_SEED=$s)");
        diag($_) for @$bad[0 .. ($#$bad < 5 ? $#$bad : 5)];
    }
    last if $failed;
}
pass("$rounds rounds of $POINTS random points read back as written, as bytes and as prove runs them")
    unless $failed;
done_testing();
