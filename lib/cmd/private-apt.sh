# shellcheck shell=bash
# Sourced by fetch-kernel.sh (make kernel) and build-scx.sh (make scx): the
# one way ktstr reaches a Debian suite this machine does not use (here
# trixie-backports). The archive is reached through the URI of this
# machine's own Debian source, with a private apt state directory, so the
# system's apt lists and sources are never touched and no host name is
# written into the project.
#
# The sourcing script defines die MESSAGE (print it, exit 1) first.
#
#   kt_apt_source SUITE [MIRROR]
#       Sets kt_apt_uri to the machine's own Debian URI (or MIRROR, a Debian
#       URI that replaces it); dies when there is none, when it is a
#       security mirror, or when the archive keyring is missing. Touches
#       nothing, so a script can call it before it creates its output.
#   kt_private_apt WORKDIR SUITE
#       Writes WORKDIR/apt.conf for SUITE's main component at kt_apt_uri,
#       exports APT_CONFIG to it and runs apt-get update there; dies when
#       the suite's package list did not arrive.

kt_apt_keyring=/usr/share/keyrings/debian-archive-keyring.gpg

# The machine's own Debian mirror: deb822 first, then one-line sources.
kt__apt_find_uri() {
    local f uri=''
    for f in /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list.d/*.sources; do
        [ -z "$uri" ] && [ -r "$f" ] || continue
        uri=$(awk '/^URIs:/ { print $2; exit }' "$f")
        [ -n "$uri" ] && break
    done
    if [ -z "$uri" ] && [ -r /etc/apt/sources.list ]; then
        uri=$(awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }' \
            /etc/apt/sources.list)
    fi
    echo "$uri"
}

kt_apt_source() {
    local suite=$1
    kt_apt_uri=${2:-}
    [ -n "$kt_apt_uri" ] || kt_apt_uri=$(kt__apt_find_uri)
    [ -n "$kt_apt_uri" ] || die "no Debian source found in /etc/apt (needed to reach $suite)"
    case "$kt_apt_uri" in
        *security*) die "the first Debian source is a security mirror ($kt_apt_uri): no backports there";;
    esac
    [ -r "$kt_apt_keyring" ] || die "no $kt_apt_keyring (apt-get install debian-archive-keyring)"
}

kt_private_apt() {
    local work=$1 suite=$2
    mkdir -p "$work/lists/partial" "$work/archives/partial" "$work/etc/preferences.d"
    : > "$work/status"
    echo "deb [signed-by=$kt_apt_keyring] $kt_apt_uri $suite main" > "$work/etc/sources.list"
    cat > "$work/apt.conf" <<CONF
Dir::State "$work";
Dir::State::status "$work/status";
Dir::State::Lists "$work/lists";
Dir::Cache "$work";
Dir::Cache::Archives "$work/archives";
Dir::Etc::SourceList "$work/etc/sources.list";
Dir::Etc::SourceParts "$work/etc/none";
Dir::Etc::Preferences "$work/etc/prefs";
Dir::Etc::PreferencesParts "$work/etc/preferences.d";
APT::Architecture "amd64";
APT::Sandbox::User "root";
CONF
    export APT_CONFIG="$work/apt.conf"

    rm -f "$work"/lists/*Packages*
    # apt-get update exits 0 when a source fails: the list itself says.
    apt-get update >"$work/update.log" 2>&1 || true
    ls "$work"/lists/*"$suite"*Packages* >/dev/null 2>&1 ||
        die "cannot reach $suite at $kt_apt_uri: $(grep -E '^(E|W|Err):' "$work/update.log" | head -n 2 | tr '\n' ' ')"
}
