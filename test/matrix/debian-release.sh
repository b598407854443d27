#!/usr/bin/env bash
# make matrix's configurations on another Debian release's own binary
# packages: PostgreSQL 17 as Debian 13 (trixie) ships it, and PostgreSQL 19
# from experimental (on a sid base, "-t experimental"), each in a chroot
# made with debootstrap from the Debian mirror this machine's apt sources
# name.  The machine's own apt configuration is not touched; nothing of
# another release is installed on the machine itself.
#
#   debian-release.sh 17|19
#
# The chroot is made once into $ONTSTATUS_PG_CACHE (default
# /var/cache/ontstatus-pg), as chroot-17-trixie or chroot-19-experimental
# (a cold one takes 2 to 3 minutes), and reused; ONTSTATUS_DEBIAN_REFRESH=1
# makes it again, to take Debian's newer packages.  Each run copies the tree into the chroot, builds it with
# -Werror against the release's pg_config and libxml2 and installs it (as
# root inside), then runs the whole suite as the chroot's postgres user
# against a throwaway server on a port of its own (54300 + major):
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

config=${1:?usage: debian-release.sh 17|19}
top=$(cd "$(dirname "$0")/../.." && pwd)
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
		stale_ok="" ;;
	19) suite=sid extra=(experimental) target=(-t experimental) label="experimental" tag=experimental
		# sid's and experimental's Release files carry a Valid-Until this
		# machine's date is past
		stale_ok=1 ;;
	*) echo "debian-release.sh: no Debian release known for configuration $config (known: 17, 19)" >&2
		exit 2 ;;
esac
major=$config
packages=(postgresql-"$major" postgresql-server-dev-"$major")
# what the build and the suite need inside: TAP (prove, IPC::Run), the XSD
# check (xmllint), the doc test (perl)
tools=(libxml2-dev gcc make perl libipc-run-perl libxml2-utils tzdata)
final=$cache/chroot-$major-$tag
port=$((54300 + major))

if [ "$(id -u)" -ne 0 ]; then
	echo "debian-release.sh: a chroot needs root (debootstrap, chroot, mount)" >&2
	exit 2
fi

# ---- the mirror: the URI the machine's apt sources give for its own suite
# (and for its -security suite); deb822 .sources files and one-line lists
machine_uri() {
	local want=$1 f
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		awk -v want="$want" 'BEGIN { RS = "" }
			{
				types = uris = suites = ""; enabled = "yes"
				n = split($0, line, "\n")
				for (i = 1; i <= n; i++) {
					l = line[i]
					if (l ~ /^#/) continue
					if (sub(/^Types:[ \t]*/, "", l)) types = l
					else if (sub(/^URIs:[ \t]*/, "", l)) uris = l
					else if (sub(/^Suites:[ \t]*/, "", l)) suites = l
					else if (sub(/^Enabled:[ \t]*/, "", l)) enabled = l
				}
				if (enabled != "no" && (" " types " ") ~ / deb / && (" " suites " ") ~ (" " want " ")) {
					split(uris, u, /[ \t]+/); print u[1]; exit
				}
			}' "$f"
	done
	cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
		awk -v want="$want" '$1 == "deb" {
			i = 2
			if ($i ~ /^\[/) { while (i < NF && $i !~ /\]$/) i++; i++ }
			if ($(i + 1) == want) print $i
		}'
}
# shellcheck disable=SC1091
codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
mirror=$(machine_uri "$codename" | head -1)
security=$(machine_uri "$codename-security" | head -1)
mirror=${mirror:-http://deb.debian.org/debian}
security=${security:-http://deb.debian.org/debian-security}

# ---- cleanup: on every way out
root=""      # the chroot in use (the final one, or the one being made)
building=""  # a chroot being made: removed when not finished
work=""      # the tree's copy, a path inside the chroot
child=""     # the long step running now (its own process group)

# processes whose root directory is the chroot
rooted_pids() {
	local p
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/root" 2>/dev/null)" = "$1" ] && echo "${p#/proc/}"
	done
}
# stop what still runs in the chroot, by process id: a postmaster by
# SIGQUIT (immediate shutdown, its shared memory released), the rest by
# SIGTERM, and SIGKILL for what is left after 10 s
stop_rooted() {
	local pids pid ppid
	pids=$(rooted_pids "$1")
	[ -n "$pids" ] || return 0
	echo "debian-release.sh: stopping what still runs in $1: $(tr '\n' ' ' <<<"$pids")" >&2
	for pid in $pids; do
		ppid=$(awk '/^PPid:/ { print $2 }' "/proc/$pid/status" 2>/dev/null)
		if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = postgres ] &&
			[ "$(cat "/proc/$ppid/comm" 2>/dev/null)" != postgres ]; then
			kill -QUIT "$pid" 2>/dev/null
		else
			kill -TERM "$pid" 2>/dev/null
		fi
	done
	for _ in $(seq 20); do
		[ -z "$(rooted_pids "$1")" ] && return 0
		sleep 0.5
	done
	pids=$(rooted_pids "$1")
	# shellcheck disable=SC2086
	[ -n "$pids" ] && kill -KILL $pids 2>/dev/null
	sleep 1
}
# the long steps (debootstrap, apt, make, the suite: step CMD, or step
# in_chroot CMD) run as process groups
# of their own, waited for: a signal to this script runs its trap at once
# (not when the step ends), and the trap ends the step's group.  Without
# this a SIGINT to the whole group would find the suite's shells carrying
# on, each taking its child's end for its handling of the signal.
step() {
	local rc
	[ "$1" = in_chroot ] && { shift; set -- chroot "$root" env -i "${chroot_env[@]}" "$@"; }
	# (without this script's lock and saved descriptors: a server the step
	# starts must not hold them)
	setsid "$@" 7>&- 8>&- 9>&- &
	child=$!
	wait "$child"
	rc=$?
	child=""
	return $rc
}
stop_child() {
	[ -n "$child" ] || return 0
	kill -TERM -- -"$child" 2>/dev/null
	for _ in $(seq 20); do
		kill -0 -- -"$child" 2>/dev/null || return 0
		sleep 0.5
	done
	kill -KILL -- -"$child" 2>/dev/null
}
# the mounts under a directory, innermost first
mounts_under() {
	findmnt -rn -o TARGET | awk -v r="$1/" 'index($0, r) == 1' | sort -r
}
# undo them all (lazily where busy); true when none is left
unmount_under() {
	local t
	for t in $(mounts_under "$1"); do
		umount "$t" 2>/dev/null || umount -l "$t" 2>/dev/null ||
			echo "debian-release.sh: cannot unmount $t" >&2
	done
	[ -z "$(mounts_under "$1")" ]
}
caught=""    # the signal that ended the run
# this script's own stdout and stderr: a signal's trap runs inside the
# step it interrupted, whose output goes to a log
exec 7>&1 8>&2
cleanup() {
	local rc=$?
	# no second signal, and no SIGPIPE from a reader gone with the group,
	# may cut the cleanup short
	trap '' INT TERM HUP PIPE
	exec 1>&7 2>&8
	stop_child
	if [ -n "$root" ] && [ -d "$root" ]; then
		stop_rooted "$root"
		if unmount_under "$root"; then
			# --one-file-system: never into anything still mounted
			[ -n "$work" ] && rm -rf --one-file-system "${root:?}$work"
			[ -n "$building" ] && rm -rf --one-file-system "$building"
		else
			echo "debian-release.sh: still mounted under $root:" "$(mounts_under "$root" | tr '\n' ' ')" >&2
			rc=1
		fi
	fi
	# ended by a signal: die of it, so that run.sh (or a shell) stops too
	# rather than take this for a configuration that failed
	if [ -n "$caught" ]; then
		trap - EXIT "$caught"
		kill -s "$caught" $$
	fi
	exit $rc
}
trap cleanup EXIT
trap 'caught=INT; exit 130' INT
trap 'caught=TERM; exit 143' TERM
trap 'caught=HUP; exit 129' HUP

mount_in() {
	mount -t proc proc "$1/proc" &&
		mount --rbind /dev "$1/dev" &&
		# where the host's mounts are shared (systemd), undoing the chroot's
		# /dev/pts or /dev/shm must not undo the host's
		mount --make-rslave "$1/dev"
}
# a command inside the chroot, as root, in a known environment
chroot_env=(PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
	HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive)
in_chroot() {
	chroot "$root" env -i "${chroot_env[@]}" "$@"
}

# ---- the chroot, made once
make_chroot() {
	local new=$cache/.chroot-$major-$tag.new log=$logs/chroot-$config.log t0 s
	t0=$(date +%s)
	root=$new building=$new
	if ! unmount_under "$new"; then
		echo "debian-release.sh: $new is still mounted; not touching it" >&2
		return 1
	fi
	rm -rf --one-file-system "$new"
	if ! command -v debootstrap >/dev/null; then
		echo "debian-release.sh: installing debootstrap"
		apt-get update -qq && apt-get install -y -qq --no-install-recommends \
			-o DPkg::Lock::Timeout=600 debootstrap >/dev/null || return 1
	fi
	echo "debian-release.sh: making a $suite chroot from $mirror in $final (2 to 3 minutes)"
	: >"$log"
	step debootstrap --variant=minbase "$suite" "$new" "$mirror" >>"$log" 2>&1 || {
		echo "debian-release.sh: debootstrap $suite failed; log in test/results/matrix/chroot-$config.log:" >&2
		tail -20 "$log" >&2
		return 1
	}
	# the chroot's apt: its release, updates and security as a Debian 13
	# site has them, or sid with experimental added
	{
		echo "deb $mirror $suite main"
		for s in "${extra[@]}"; do
			case $s in
				*-security) echo "deb $security $s main" ;;
				*) echo "deb $mirror $s main" ;;
			esac
		done
	} >"$new/etc/apt/sources.list"
	[ -n "$stale_ok" ] &&
		echo 'Acquire::Check-Valid-Until "false";' >"$new/etc/apt/apt.conf.d/90ontstatus-valid-until"
	# no service started by a package; no "main" cluster made by installing
	# postgresql-NN (it would want port 5432); dpkg without fsync (a cache)
	printf '#!/bin/sh\nexit 101\n' >"$new/usr/sbin/policy-rc.d"
	chmod 755 "$new/usr/sbin/policy-rc.d"
	mkdir -p "$new/etc/postgresql-common/createcluster.d"
	echo "create_main_cluster = false" >"$new/etc/postgresql-common/createcluster.d/ontstatus.conf"
	echo "force-unsafe-io" >"$new/etc/dpkg/dpkg.cfg.d/ontstatus-unsafe-io"
	mount_in "$new" || return 1
	{
		step in_chroot apt-get update -q &&
			step in_chroot apt-get upgrade -y -q &&
			step in_chroot apt-get install -y -q --no-install-recommends "${tools[@]}" &&
			step in_chroot apt-get install -y -q --no-install-recommends "${target[@]}" "${packages[@]}"
	} >>"$log" 2>&1 || {
		echo "debian-release.sh: installing ${packages[*]} in the $suite chroot failed; log in test/results/matrix/chroot-$config.log:" >&2
		tail -20 "$log" >&2
		return 1
	}
	# the postgres user: postgresql-common makes it; if not, here
	in_chroot id postgres >/dev/null 2>&1 ||
		in_chroot useradd --system --user-group --home-dir /var/lib/postgresql --shell /bin/bash postgres ||
		return 1
	in_chroot apt-get clean
	unmount_under "$new" || return 1
	date -u +"made %Y-%m-%d %H:%M UTC from $mirror ($suite ${extra[*]})" >"$new/.ontstatus-chroot"
	rm -rf --one-file-system "$final"
	mv "$new" "$final" || return 1
	root=$final building=""
	echo "debian-release.sh: $suite chroot made in $(($(date +%s) - t0)) s"
}

# one run at a time per chroot: a second waits
exec 9>"$cache/.chroot-$major-$tag.lock"
flock 9

if [ -n "${ONTSTATUS_DEBIAN_REFRESH:-}" ] && [ -d "$final" ]; then
	root=$final
	unmount_under "$final" && rm -rf --one-file-system "$final"
	root=""
fi
if [ ! -f "$final/.ontstatus-chroot" ]; then
	if [ -d "$final" ]; then
		root=$final
		unmount_under "$final" && rm -rf --one-file-system "$final"
		root=""
	fi
	make_chroot || { echo "PostgreSQL $major ($label): 0 passed, 1 failed (no chroot)" | tee "$result_file"; exit 1; }
fi
root=$final

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

# counted as run.sh counts: pg_regress says "test x ... ok" before 16 and
# "ok 1 - x" (TAP) after
p=$(grep -cE "^(test .*\.\.\. ok|ok +[0-9]+ +[-+] )" "$log")
f=$(grep -cE "^(test .*\.\.\. (FAILED|failed)|not ok +[0-9]+ )" "$log")
p=$((p + $(grep -cE "^test/t/.*\.pl \.+ ok" "$log")))
f=$((f + $(grep -cE "^test/t/.*\.pl \.+ .*(Failed|Dubious)" "$log")))
p=$((p + $(grep -c "^xsd-check \.\. ok" "$log") + $(grep -c "^doctest \.\. ok" "$log")))
f=$((f + $(grep -c "^xsd-check \.\. FAILED" "$log") + $(grep -c "^doctest \.\. FAILED" "$log")))
s=$(grep -c "^xsd-check \.\. skipped" "$log")
[ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && f=1
[ "$rc" -ne 0 ] && tail -60 "$log"
echo "$name: $p passed, $f failed$([ "$s" -gt 0 ] && echo ", $s skipped") (suite $(($(date +%s) - suite_start)) s, in all $(($(date +%s) - start)) s)" |
	tee "$result_file"
[ "$f" -eq 0 ]
