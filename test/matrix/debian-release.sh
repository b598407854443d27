#!/usr/bin/env bash
# make matrix's configurations on another Debian release's own binary
# packages: PostgreSQL 17 as Debian 13 (trixie) ships it, PostgreSQL 18 as
# sid ships it ("18-sid": with sid's pg_cron, whose library needs a newer C
# library than Debian 12's, so the source-built 18 cannot load it), and
# PostgreSQL 19 from experimental (on a sid base, "-t experimental"), each
# in a chroot made with debootstrap from the Debian mirror this machine's
# apt sources name.  The machine's own apt configuration is not touched;
# nothing of another release is installed on the machine itself.
#
#   debian-release.sh 17|18-sid|19
#
# The chroot is made once into $ONTSTATUS_PG_CACHE (default
# /var/cache/ontstatus-pg), as chroot-17-trixie, chroot-18-sid or
# chroot-19-experimental
# (a cold one takes 2 to 3 minutes), and reused; ONTSTATUS_DEBIAN_REFRESH=1
# makes it again, to take Debian's newer packages.  Each run copies the tree into the chroot, builds it with
# -Werror against the release's pg_config and libxml2 and installs it (as
# root inside), then runs the whole suite as the chroot's postgres user
# against a throwaway server on a port of its own (config_port,
# config-lib.sh):
# test/matrix/chroot-suite.sh, what run.sh runs for the others.  Ends with
# the result line run.sh counts, naming the package's exact version:
#   PostgreSQL 17.12-0+deb13u1 (Debian 13): 32 passed, 0 failed (...)
# also kept in test/results/matrix/result-MAJOR.line.  Exits non-zero on
# any failure.
#
# The chroot needs /proc and /dev (recursively bound, for /dev/shm) while a
# server runs in it.  Every mount under the chroot is undone on every way
# out — success, failure, SIGINT, SIGTERM, SIGHUP — after stopping whatever
# still runs inside it (a postmaster outlives a killed process group: it is
# a session leader of its own).  Runs as root (chroot, mount).
set -uo pipefail
unset MAKELEVEL MAKEFLAGS MFLAGS MAKEOVERRIDES GNUMAKEFLAGS

config=${1:?usage: debian-release.sh 17|18-sid|19}
top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=test/matrix/config-lib.sh
. "$top/test/matrix/config-lib.sh"
logs=$top/test/results/matrix
mkdir -p "$logs"
result_file=$logs/result-$config.line
rm -f "$result_file"
cache=${ONTSTATUS_PG_CACHE:-/var/cache/ontstatus-pg}
mkdir -p "$cache" && cache=$(cd "$cache" && pwd -P)
xsd_src=$(cd "${ONTSTATUS_XSD_DIR:-$top/../shared/i2b2-xsd}" 2>/dev/null && pwd || echo "")
start=$(date +%s)

# the release of each configuration: its suite, the suites added to it,
# apt's target release, whether its Release files may be past Valid-Until
case $config in
	17) suite=trixie extra=(trixie-updates trixie-security) target=() label="Debian 13" tag=trixie
		stale_ok="" cron=(postgresql-17-cron) ;;
	18-sid) suite=sid extra=() target=() label="Debian sid" tag=sid
		stale_ok=1 cron=(postgresql-18-cron) ;;
	19) suite=sid extra=(experimental) target=(-t experimental) label="experimental" tag=experimental
		# sid's and experimental's Release files carry a Valid-Until this
		# machine's date is past
		stale_ok=1 cron=() ;;
	*) echo "debian-release.sh: no Debian release known for configuration $config (known: 17, 18-sid, 19)" >&2
		exit 2 ;;
esac
major=${config%%-*}
# pg_cron where the release packages it for this major (test/t/005_pg_cron.pl
# is skipped without it, naming the package)
packages=(postgresql-"$major" postgresql-server-dev-"$major" "${cron[@]}")
# what the build and the suite need inside: TAP (prove, IPC::Run), the XSD
# check (xmllint), the doc test (perl)
tools=(libxml2-dev gcc make perl libipc-run-perl libxml2-utils tzdata)
final=$cache/chroot-$major-$tag
port=$(config_port "$config")

if [ "$(id -u)" -ne 0 ]; then
	echo "debian-release.sh: a chroot needs root (debootstrap, chroot, mount)" >&2
	exit 2
fi

# the mirror, the cleanup on every way out, the mounts, the chroot made
# once: shared with make deb (test/deb/deb.sh)
# shellcheck source=test/matrix/chroot-lib.sh
. "$top/test/matrix/chroot-lib.sh"
chroot_mirrors
chroot_traps

# what the chroot holds: the tools, the release's PostgreSQL, its postgres
# user (postgresql-common makes it; if not, here)
populate() {
	step in_chroot apt-get install -y -q --no-install-recommends "${tools[@]}" &&
		step in_chroot apt-get install -y -q --no-install-recommends "${target[@]}" "${packages[@]}" ||
		return 1
	in_chroot id postgres >/dev/null 2>&1 ||
		in_chroot useradd --system --user-group --home-dir /var/lib/postgresql --shell /bin/bash postgres
}
chroot_ensure "$final" populate "$logs/chroot-$config.log" ||
	{ echo "PostgreSQL $major ($label): 0 passed, 1 failed (no chroot)" | tee "$result_file"; exit 1; }
# a chroot cached before a package joined the list gets it now
for p in "${packages[@]}"; do
	in_chroot dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' && continue
	{ in_chroot apt-get install -y -q --no-install-recommends "${target[@]}" "$p" ||
		{ in_chroot apt-get update -q && in_chroot apt-get install -y -q --no-install-recommends "${target[@]}" "$p"; }
	} >>"$logs/chroot-$config.log" 2>&1 ||
		{ echo "PostgreSQL $major ($label): 0 passed, 1 failed (could not install $p)" | tee "$result_file"; exit 1; }
done

pgc=/usr/lib/postgresql/$major/bin/pg_config
version=$(in_chroot dpkg-query -W -f="\${Version}" "postgresql-$major" 2>/dev/null)
case $version in
	*~rc*) label="$label, a release candidate" ;;
	*~beta*) label="$label, a beta" ;;
esac
name="PostgreSQL ${version:-$major} ($label)"
echo "debian-release.sh: $name in $root, $(cat "$root/.ontstatus-chroot");" \
	"libxml2-dev $(in_chroot dpkg-query -W -f="\${Version}" libxml2-dev), $(in_chroot gcc --version | head -1)"
if [ -z "$version" ] || ! [ -x "$root$pgc" ]; then
	echo "debian-release.sh: postgresql-$major is not installed in $root: ONTSTATUS_DEBIAN_REFRESH=1 makes the chroot again" >&2
	echo "$name: 0 passed, 1 failed (no server)" | tee "$result_file"
	exit 1
fi

mount_in "$root" || { echo "$name: 0 passed, 1 failed (mounts)" | tee "$result_file"; exit 1; }

# the tree's copy, and the XSDs, inside the chroot
dir=$(mktemp -d "$root/var/tmp/ontstatus-matrix.XXXXXX") || exit 1
work=${dir#"$root"}
chmod 755 "$dir"
cp -a "$top" "$dir/ontstatus"
rm -rf "$dir/ontstatus/test/results" "$dir/ontstatus/tmp_check" "$dir/ontstatus/test/isolation"
xsd=/nonexistent
if [ -n "$xsd_src" ]; then
	cp -a "$xsd_src" "$dir/xsd" && xsd=$work/xsd
fi

build_log=$logs/build-$config.log
step in_chroot make -s -C "$work/ontstatus" clean PG_CONFIG="$pgc" >"$build_log" 2>&1
if ! step in_chroot make -s -C "$work/ontstatus" PG_CONFIG="$pgc" WERROR=-Werror all >>"$build_log" 2>&1 ||
	! step in_chroot make -s -C "$work/ontstatus" PG_CONFIG="$pgc" install >>"$build_log" 2>&1; then
	echo "matrix: the build against $name failed:"
	tail -20 "$build_log"
	echo "$name: 0 passed, 1 failed (build)" | tee "$result_file"
	exit 1
fi
in_chroot chown -R postgres: "$work"

suite_start=$(date +%s)
log=$logs/installcheck-$config.log
bindir=$(in_chroot "$pgc" --bindir)
step in_chroot runuser -u postgres -- bash "$work/ontstatus/test/matrix/chroot-suite.sh" \
	"$bindir" "$port" "$work" "$xsd" >"$log" 2>&1
rc=$?
cp "$dir/server.log" "$logs/server-$config.log" 2>/dev/null

read -r p f s < <(suite_counts "$log" "$rc")
[ "$rc" -ne 0 ] && tail -60 "$log"
echo "$name: $p passed, $f failed$([ "$s" -gt 0 ] && echo ", $s skipped") (suite $(($(date +%s) - suite_start)) s, in all $(($(date +%s) - start)) s)" |
	tee "$result_file"
[ "$f" -eq 0 ]
