#!/usr/bin/env bash
# make scx: the kernel's own example sched_ext schedulers (tools/sched_ext
# of Debian's linux-source-<series>, from trixie-backports), built with
# Debian 12's clang-19 and lld-19 against the BTF of build/kernel/vmlinux
# (make kernel), into build/scx/<name>. build/scx/README names what was
# built from which source and for which kernel.
#
# Installs the Debian packages it lacks itself (apt-get, as root). The
# source is reached as lib/cmd/private-apt.sh says; only the parts of
# the tree the build reads are unpacked, under build/scx/.work (never into
# the project). Every scheduler that builds is kept; one of the required
# list that does not is an error. Cached: a second run builds nothing.
# Prints the output directory on success; on failure, the reason on stderr
# and exit 1.
#
#   tests/tools/build-scx.sh [OUTDIR [KERNELDIR]]  (default build/scx build/kernel)
#   KTSTR_KERNEL_MIRROR=URI     a Debian mirror instead of the machine's own
set -euo pipefail

out=${1:-build/scx}
kdir=${2:-build/kernel}
required=(scx_simple scx_cpu0 scx_userland scx_flatcg scx_pair scx_sdt)
llvm=19
die() { echo "make scx: $*" >&2; exit 1; }

[ -s "$kdir/vmlinux" ] && [ -s "$kdir/release" ] || die "no $kdir/vmlinux: run make kernel first"
release=$(cat "$kdir/release")
series=$(echo "$release" | grep -oE '^[0-9]+\.[0-9]+') ||
    die "$kdir/release ('$release') does not start with a kernel series"

# Cached: README is written last, after every binary is in place.
cached() {
    local s
    [ -r "$out/README" ] && grep -qxF "kernel: $release" "$out/README" || return 1
    for s in "${required[@]}"; do [ -x "$out/$s" ] || return 1; done
}
if cached; then
    echo "$out"
    exit 0
fi

# What the build runs, and the Debian 12 package that brings each.
have() { command -v "$1" >/dev/null; }
need=()
have clang-$llvm || need+=("clang-$llvm")
have ld.lld-$llvm || need+=("lld-$llvm")
{ have llvm-ar-$llvm && have llvm-strip-$llvm; } || need+=("llvm-$llvm")
have make || need+=(make)
have pkg-config || need+=(pkg-config)
have xz || need+=(xz-utils)
have python3 || need+=(python3)        # libbpf generates bpf_helper_defs.h with it
[ -r /usr/include/libelf.h ] || need+=(libelf-dev)
[ -r /usr/include/zlib.h ] || need+=(zlib1g-dev)
[ -r /usr/include/openssl/opensslv.h ] || need+=(libssl-dev)   # bpftool's sign.c
for tool in apt-get dpkg-deb tar; do have "$tool" || die "needs $tool"; done

if [ ${#need[@]} -gt 0 ]; then
    [ "$(id -u)" -eq 0 ] || die "needs ${need[*]}: run apt-get install ${need[*]} as root"
    log=$(mktemp)
    trap 'rm -f "$log"' EXIT
    # The system's own apt, not the private one: these are Debian 12's.
    env -u APT_CONFIG apt-get update -qq >"$log" 2>&1 ||
        die "apt-get update failed: $(tail -n 3 "$log" | tr '\n' ' ')"
    for p in "${need[@]}"; do
        c=$(env -u APT_CONFIG apt-cache policy "$p" 2>/dev/null | awk '/Candidate:/ { print $2 }')
        [ -n "$c" ] && [ "$c" != "(none)" ] ||
            die "this machine's Debian has no package $p (clang-$llvm and lld-$llvm come with Debian 12)"
    done
    echo "make scx: installing ${need[*]}" >&2
    DEBIAN_FRONTEND=noninteractive env -u APT_CONFIG \
        apt-get install -y -qq --no-install-recommends "${need[@]}" >"$log" 2>&1 ||
        die "apt-get install ${need[*]} failed: $(tail -n 5 "$log" | tr '\n' ' ')"
fi

# shellcheck source=lib/cmd/private-apt.sh
. "$(dirname "$0")/../../lib/cmd/private-apt.sh"
kt_apt_source trixie-backports "${KTSTR_KERNEL_MIRROR:-}"

mkdir -p "$out"
top=$(cd "$out" && pwd)
work=$top/.work
vmlinux=$(cd "$kdir" && pwd)/vmlinux
mkdir -p "$work/dl"
kt_private_apt "$work/apt" trixie-backports

srcpkg=linux-source-$series
ver=$(apt-cache policy "$srcpkg" 2>/dev/null | awk '/Candidate:/ { print $2 }')
[ -n "$ver" ] && [ "$ver" != "(none)" ] || die "trixie-backports at $kt_apt_uri has no $srcpkg"
[ "${ver%%-*}" = "${release%%[+-]*}" ] ||
    echo "make scx: note: $srcpkg is $ver, the kernel is $release (the BTF decides what loads)" >&2

# The source, unpacked once per version: what tools/sched_ext, libbpf and
# bpftool read (bpftool compiles kernel/bpf/disasm.c; libbpf generates its
# helper list from include/uapi with scripts/bpf_doc.py).
src=$work/src/$srcpkg
stamp="$srcpkg $ver"
if [ "$(cat "$work/src/stamp" 2>/dev/null)" != "$stamp" ]; then
    rm -rf "$work/src" "$work"/dl/*.deb
    ( cd "$work/dl" && apt-get -qq download "$srcpkg" ) >"$work/download.log" 2>&1 ||
        die "download of $srcpkg failed: $(tail -n 3 "$work/download.log" | tr '\n' ' ')"
    deb=$(ls "$work"/dl/"${srcpkg}"_*.deb)
    mkdir -p "$work/src"
    dpkg-deb --fsys-tarfile "$deb" | tar -xOf - "./usr/src/$srcpkg.tar.xz" | xz -T0 -dc |
        tar -C "$work/src" -xf - "$srcpkg/Makefile" "$srcpkg/tools" "$srcpkg/include" \
            "$srcpkg/scripts" "$srcpkg/kernel/bpf" 2>"$work/unpack.log" ||
        die "cannot unpack $deb: $(tail -n 3 "$work/unpack.log" | tr '\n' ' ')"
    echo "$stamp" > "$work/src/stamp"
    rm -f "$deb"
fi

# -k: every scheduler that builds is built, whatever another one does.
blog=$work/build.log
make -k -j"$(nproc)" -C "$src/tools/sched_ext" LLVM=-$llvm VMLINUX_BTF="$vmlinux" >"$blog" 2>&1 || true
bin=$src/tools/sched_ext/build/bin
for s in "${required[@]}"; do
    # Under -k -j the first error can be far above the end of the log.
    [ -x "$bin/$s" ] || die "$s did not build; the first errors and the last lines of $blog:
$(grep -m 6 -E 'error:|Error|\*\*\*' "$blog" || true)
...
$(tail -n 20 "$blog")"
done

rm -f "$out/README"
built=()
for f in "$bin"/scx_*; do
    [ -f "$f" ] && [ -x "$f" ] || continue
    name=${f##*/}
    cp "$f" "$out/$name.tmp" && mv "$out/$name.tmp" "$out/$name"
    built+=("$name")
done
cat > "$out/README.tmp" <<EOF
ktstr make scx (tests/tools/build-scx.sh): the kernel's example sched_ext
schedulers, one program each in this directory. scx_central and scx_qmap
build but, with clang-$llvm, fail to load (DESIGN.md section 11).
source: $srcpkg $ver (Debian trixie-backports), tools/sched_ext
kernel: $release
btf: $kdir/vmlinux
compiler: $(clang-$llvm --version | head -n 1)
built: ${built[*]}
EOF
mv "$out/README.tmp" "$out/README"
echo "$out"
