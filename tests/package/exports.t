#!/usr/bin/perl
# libktstr.so exports exactly the API: every symbol in its dynamic table is
# declared in a header in include/, and every function or object declared
# there is exported. The library is built with -fvisibility=hidden and each
# public declaration carries KT_API (ktstr/api.h), so a private kt__ helper
# cannot leak out and a declaration that lost its KT_API is caught here
# before a user's link fails.
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../lib";
use KtTest;

plan skip_all => 'nm (binutils) is not installed'
    unless system('command -v nm >/dev/null 2>&1') == 0;

my $SO = 'build/libktstr.so';

# The text of a header with comments and preprocessor lines (continuations
# included) blanked, and the C++ guards' blocks too, keeping every offset
# and line number: what is left are the declarations.
sub blank {
    my ($t) = @_;
    $t =~ s{/\*.*?\*/|//[^\n]*}{ (my $c = $&) =~ s/[^\n]/ /g; $c }gse;
    my ($out, $cpp, $cont) = ('', 0, 0);
    for my $line (split /(?<=\n)/, $t) {
        my $pp = $cont || $line =~ /^\s*#/;
        if (!$cont && $line =~ /^\s*#\s*if(?:def)?\s+__cplusplus\b/) { $cpp = 1 }
        elsif ($cpp && !$cont && $line =~ /^\s*#\s*if/) { $cpp++ }
        elsif ($cpp && !$cont && $line =~ /^\s*#\s*endif/) { $cpp-- }
        $cont = $pp && $line =~ /\\\n?$/;
        $line =~ s/[^\n]/ /g if $pp || $cpp;
        $out .= $line;
    }
    return $out;
}

# What one top-level statement declares: [name, has KT_API], or nothing
# for typedefs, static inline definitions, struct, union and enum
# definitions and forward declarations.
sub declared {
    my ($s) = @_;
    return if $s =~ /^(?:typedef|static)\b/ || $s =~ /[{}]/;
    return if $s =~ /^(?:struct|union|enum)\s+\w+\s*$/;
    my $api = $s =~ s/\bKT_API\b//g ? 1 : 0;
    1 while $s =~ s/__attribute__\s*\(\((?:[^()]|\((?:[^()]|\([^()]*\))*\))*\)\)//;
    return [ $1, $api ] if $s =~ /^[^(]*?\b([A-Za-z_]\w*)\s*\(/;        # a function
    return [ $1, $api ] if $s =~ /\w\s+\**\s*\w/ &&                       # an object
                           $s =~ /^[^(=\[]*?\b([A-Za-z_]\w*)\s*(?:\[[^\]]*\]\s*)*(?:=.*)?$/s;
    return;
}

# Every function and object a header's text declares: { name, api, line }.
sub declarations {
    my ($text) = @_;
    my $t = blank($text);
    my (@d, $start);
    my $depth = 0;
    for my $i (0 .. length($t) - 1) {
        my $c = substr($t, $i, 1);
        $start //= $i if $c =~ /\S/;
        if ($c eq '{') {
            $depth++;
        } elsif ($c eq '}') {
            # the end of a static inline function's body ends its statement
            $start = undef if --$depth == 0 && substr($t, $start, $i - $start) =~ /^static\b/;
        } elsif ($c eq ';' && $depth == 0) {
            if (my $d = declared(substr($t, $start, $i - $start))) {
                push @d, { name => $d->[0], api => $d->[1],
                           line => 1 + (substr($t, 0, $start) =~ tr/\n//) };
            }
            $start = undef;
        }
    }
    return @d;
}

# The reader itself, on a header with each shape the real ones use.
my @sample = declarations(<<'H');
#ifndef X_H
#define X_H(a, b) f(a, \
                    b)
#include "ktstr/api.h"
#ifdef __cplusplus
extern "C" {
#endif
struct kt_fwd;
typedef struct kt_s {
    int (*hook)(void *arg, const char *path);   /* not a function */
    int n;
} kt_s;
typedef void (*kt_fn)(int);
enum { KT_A, KT_B };
/* kt_in_comment(int); */
KT_API int kt_one(kt_s *s,
                  int n);
KT_API void kt_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void kt_lost(void);
KT_API extern const int kt_table[4];
static inline int kt_inline(int x) { if (x) { return 1; } return 0; }
KT_API const char *kt_after_inline(void);
#ifdef __cplusplus
}
#endif
#endif
H
is_deeply([ map { "$_->{name}:$_->{api}:$_->{line}" } @sample ],
          [ 'kt_one:1:16', 'kt_fmt:1:18', 'kt_lost:0:19', 'kt_table:1:20',
            'kt_after_inline:1:22' ],
          'the header reader finds each declaration, its KT_API and its line');

my (%decl, @unmarked, @unread);
for my $h ('include/ktstr.h', sort glob('include/ktstr/*.h')) {
    my $text = slurp($h);
    push @unread, $h if $text eq '';
    for my $d (declarations($text)) {
        $decl{ $d->{name} } //= "$h:$d->{line}";
        push @unmarked, "$h:$d->{line}: $d->{name}" unless $d->{api};
    }
}
is_deeply(\@unread, [], 'every header in include/ reads');
# A reader that found nothing would pass everything below.
cmp_ok(scalar(keys %decl), '>=', 150, 'the headers declare the API (at least 150 names)');
ok(exists $decl{kt_main} && exists $decl{kt_verdict_init}, 'kt_main and kt_verdict_init among them');
is_deeply(\@unmarked, [], 'every function and object declared in include/ is marked KT_API')
    or diag("without KT_API:\n", map { "  $_\n" } @unmarked);

unless (ok(-f $SO, "$SO is built (make)")) {
    done_testing();
    exit;
}
my $nm = run_prog(prog => 'nm', args => ['-D', '--defined-only', $SO]);
is($nm->{exit}, 0, "nm -D --defined-only $SO runs") or diag($nm->{err});
# "<address> <type> <name>"; a name with @ carries a symbol version.
my %exported = map { (split ' ')[2] =~ s/@.*//r => 1 } grep { /^\S*\s+\S\s+\S/ } split /\n/, $nm->{out};
# Names with a leading underscore belong to the toolchain (a sanitizer's
# instrumentation, _init): no ktstr name starts with one.
delete $exported{$_} for grep { /^_/ } keys %exported;
cmp_ok(scalar(keys %exported), '>', 0, "$SO exports symbols");

my @leaked = sort grep { !exists $decl{$_} } keys %exported;
is_deeply(\@leaked, [], "$SO exports nothing that include/ does not declare")
    or diag("exported but not declared in include/:\n", map { "  $_\n" } @leaked);
my @missing = sort grep { !$exported{$_} } keys %decl;
is_deeply(\@missing, [], "everything include/ declares is exported by $SO")
    or diag("declared but not exported:\n", map { "  $_ ($decl{$_})\n" } @missing);

done_testing();
