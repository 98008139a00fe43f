#!/usr/bin/perl
# tests/harness/unit.h, the C tests' harness, from outside: check_int, check_uint
# and check_dbl compile only with a comparison operator, evaluate each
# operand once, and a failing check fails its point with a message that
# names the expression, the place and both values.
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use FindBin;
use lib "$FindBin::Bin/../lib";
use KtTest;

my ($cc, @ccargs) = split ' ', ($ENV{KT_CC} || 'cc');
my $dir = tempdir(CLEANUP => 1);
my @flags = qw(-std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Itests);

# Compiles C source (with unit.c, linked, when $link) to $dir/t; the run.
sub build {
    my ($src, $link) = @_;
    open(my $fh, '>', "$dir/t.c") or die "$dir/t.c: $!";
    print $fh qq{#include "harness/unit.h"\n#include <math.h>\n$src};
    close $fh;
    return run_prog(prog => $cc, args => [@ccargs, @flags, "$dir/t.c",
                    $link ? ('tests/harness/unit.c', '-lm', '-o', "$dir/t") : ('-c', '-o', "$dir/t.o")]);
}

my $good = join '', map {
    my $m = $_;
    map { "    n += $m(a, $_, b);\n" } qw(== != < > <= >=)
} qw(check_int check_uint check_dbl);
my $r = build("int f(int a, int b);\nint f(int a, int b)\n{\n    int n = 0;\n$good    return n;\n}\n");
is($r->{exit}, 0, 'all six comparison operators compile with all three checks')
    or diag($r->{err});

for my $bad ([check_int => '='], [check_int => '+'], [check_int => '&&'], [check_int => '||'],
             [check_int => '&'], [check_int => '<<'], [check_int => 'eq'], [check_int => '+='],
             [check_uint => '='], [check_uint => '&&'], [check_dbl => '='], [check_dbl => '-']) {
    my ($m, $op) = @$bad;
    $r = build("int f(int a, int b);\nint f(int a, int b) { return $m(a, $op, b); }\n");
    isnt($r->{exit}, 0, "$m(a, $op, b) does not compile");
}

$r = build(<<'C', 1);
static int calls;
static int next(void) { return ++calls; }

static void t_pass(void)
{
    int a = check_int(next(), ==, 1);

    check_int(calls, ==, 1);
    check_int(a, ==, 1);
    check_uint(UINTMAX_MAX, >, 1u);
    check_int(-1, <, 0);
    check_dbl(0.5, <=, 0.5);
    check_dbl(NAN, !=, NAN);
    check_str("abc", "abc");
    check_contains("abc", "b");
}

static void t_fail(void)
{
    int r = check_int(next() + 1, <=, 2);

    test_msg("returned %d after %d calls", r, calls);
}

static void t_nan(void) { check_dbl(NAN, ==, NAN); }
static void t_uint(void) { check_uint(1u, >=, UINTMAX_MAX); }

int main(void)
{
    TEST(t_pass(), "passes");
    TEST(t_fail(), "int fails");
    TEST(t_nan(), "nan is not equal to itself");
    TEST(t_uint(), "uint fails");
    return test_done();
}
C
is($r->{exit}, 0, 'a test program builds') or diag($r->{err});
$r = run_prog(prog => "$dir/t");
is($r->{exit}, 1, 'a program with a failing point exits 1');
is($r->{out}, "ok 1 - passes\n# returned 0 after 2 calls\nnot ok 2 - int fails\n"
            . "not ok 3 - nan is not equal to itself\nnot ok 4 - uint fails\n1..4\n",
   'each TEST is one point; a failing check fails it, returns 0 and evaluates once');
like($r->{err}, qr/^# int fails: check "next\(\) \+ 1 <= 2" failed at \S*t\.c:\d+\n#    left: 3\n#   right: 2$/m,
     'the message names the expression, the place and both values');
like($r->{err}, qr/^# nan is not equal to itself: check "NAN == NAN" failed at .*\n#    left: nan\n#   right: nan$/m,
     'NaN compares unordered');
like($r->{err}, qr/^#    left: 1\n#   right: 18446744073709551615$/m, 'uintmax_t values in full');

done_testing();
