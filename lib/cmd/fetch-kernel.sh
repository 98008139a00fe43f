#!/usr/bin/env bash
# make kernel and `ktstr kernel`: Debian's trixie-backports cloud kernel
# (sched_ext, BTF, schedstats) into OUTDIR: bzImage, config and vmlinux
# (with .BTF).
#
# The archive is reached as private-apt.sh (beside this file) says: through the
# URI of this machine's own Debian source, with a private apt state
# directory. Cached: a second run downloads nothing. Prints the bzImage
# path on success; on failure, the reason on stderr and exit 1.
#
#   lib/cmd/fetch-kernel.sh [OUTDIR]         (default build/kernel)
#   KTSTR_KERNEL_SERIES=7.3                  the kernel series to pick
#   KTSTR_KERNEL_MIRROR=URI                  a Debian mirror instead of the
#                                            machine's own (tests use it)
set -euo pipefail

out=${1:-build/kernel}
series=${KTSTR_KERNEL_SERIES:-7.3}
die() { echo "${KTSTR_CMD:-make kernel}: $*" >&2; exit 1; }

if [ -s "$out/bzImage" ] && [ -s "$out/config" ] && [ -s "$out/vmlinux" ]; then
    echo "$out/bzImage"
    exit 0
fi

for tool in apt-get dpkg-deb zstd od; do
    command -v "$tool" >/dev/null || die "needs $tool (apt-get install zstd for zstd)"
done

# shellcheck source=lib/cmd/private-apt.sh
. "$(dirname "$0")/private-apt.sh"
kt_apt_source trixie-backports "${KTSTR_KERNEL_MIRROR:-}"
uri=$kt_apt_uri

mkdir -p "$out"
work=$(cd "$out" && pwd)/.apt
mkdir -p "$work/dl"
kt_private_apt "$work" trixie-backports

# The newest cloud kernel of the series: linux-binary-unsigned-<ver>-cloud-amd64.
pkg=$(apt-cache pkgnames linux-binary-unsigned- 2>/dev/null |
      grep -E "^linux-binary-unsigned-${series//./\\.}\.[0-9]+.*-cloud-amd64$" | sort -V | tail -n 1 || true)
[ -n "$pkg" ] || die "trixie-backports at $uri has no linux-binary-unsigned-${series}.*-cloud-amd64"
base=${pkg/linux-binary-unsigned-/linux-base-}

( cd "$work/dl" && apt-get -qq download "$pkg" "$base" ) >"$work/download.log" 2>&1 ||
    die "download of $pkg failed: $(tail -n 3 "$work/download.log" | tr '\n' ' ')"

rm -rf "$work/x"
for deb in "$work"/dl/*.deb; do
    dpkg-deb -x "$deb" "$work/x" || die "cannot unpack $deb"
done
img=$(find "$work/x" -name 'vmlinuz*' -type f | head -n 1)
cfg=$(find "$work/x" -path '*/modules/*/config' -type f | head -n 1)
[ -n "$img" ] || die "$pkg holds no vmlinuz"
[ -n "$cfg" ] || die "$base holds no config"

# vmlinux: the bzImage's payload (boot protocol: setup_sects at 0x1f1,
# payload_offset at 0x248, payload_length at 0x24c), which Debian
# compresses with zstd; the last 4 bytes are the size the kernel appends.
u() { od -An -t "u$2" -j "$1" -N "$2" "$img" | tr -d ' '; }
magic=$(od -An -c -j 514 -N 4 "$img" | tr -d ' ')
[ "$magic" = "HdrS" ] || die "$img is not a bzImage (no HdrS at 0x202)"
setup=$(u $((0x1f1)) 1); [ "$setup" -eq 0 ] && setup=4
poff=$(u $((0x248)) 4); plen=$(u $((0x24c)) 4)
{ tail -c +$(( (setup + 1) * 512 + poff + 1 )) "$img" || true; } | head -c $(( plen - 4 )) |
    zstd -dcq > "$work/vmlinux" || die "cannot decompress the payload of $img (not zstd?)"
[ "$(od -An -c -N 4 "$work/vmlinux" | tr -d ' ')" = "177ELF" ] || die "the payload of $img is not an ELF vmlinux"

cp "$cfg" "$out/config"
mv "$work/vmlinux" "$out/vmlinux"
cp "$img" "$out/bzImage.tmp" && mv "$out/bzImage.tmp" "$out/bzImage"
echo "${pkg#linux-binary-unsigned-}" > "$out/release"
rm -rf "$work/x" "$work/dl"
echo "$out/bzImage"
