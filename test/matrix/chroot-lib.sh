# shellcheck shell=bash disable=SC2154  # suite, extra, stale_ok, top: set by the caller
# The chroot machinery shared by test/matrix/debian-release.sh (the matrix's
# Debian 13 and experimental configurations) and test/deb/deb.sh (make deb,
# make deb-test): sourced, not run.
#
#   machine_uri SUITE       the URI the machine's apt sources give for SUITE
#   chroot_mirrors          sets mirror and security from them
#   chroot_traps            the cleanup on every way out (see cleanup)
#   chroot_ensure FINAL FN LOG  the chroot FINAL of release $suite, made
#                           once with debootstrap --variant=minbase (FN, a
#                           function, installs what it must hold; the
#                           output to LOG); holds its lock (descriptor 9)
#   chroot_throwaway BASE   a copy of the chroot BASE to use once: removed
#                           on the way out
#   mount_in ROOT           /proc and /dev (recursively) in the chroot
#   step CMD / step in_chroot CMD   a long step, as a process group of its own
#   in_chroot CMD           a command inside $root, as root
#
# The caller sets root (the chroot in use), and for chroot_ensure suite,
# extra (the suites added to it: NAME-security ones come from $security),
# target (apt's -t for the packages) and stale_ok (Release files past
# Valid-Until accepted); top, to show where a log is.
# Messages start with the caller's name.  Every mount under $root is undone
# on every way out - success, failure, SIGINT, SIGTERM, SIGHUP - after
# stopping whatever still runs inside it (a postmaster outlives a killed
# process group: it is a session leader of its own).  Runs as root.

me=${0##*/}

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
chroot_mirrors() {
	local codename
	# shellcheck disable=SC1091
	codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
	mirror=$(machine_uri "$codename" | head -1)
	security=$(machine_uri "$codename-security" | head -1)
	mirror=${mirror:-http://deb.debian.org/debian}
	security=${security:-http://deb.debian.org/debian-security}
}

# ---- cleanup: on every way out
root=""      # the chroot in use (the final one, or the one being made)
building=""  # a chroot being made, or a throwaway one: removed on the way out
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
	echo "$me: stopping what still runs in $1: $(tr '\n' ' ' <<<"$pids")" >&2
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
			echo "$me: cannot unmount $t" >&2
	done
	[ -z "$(mounts_under "$1")" ]
}
caught=""    # the signal that ended the run
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
			echo "$me: still mounted under $root:" "$(mounts_under "$root" | tr '\n' ' ')" >&2
			rc=1
		fi
	fi
	# ended by a signal: die of it, so that the caller (run.sh, make or a
	# shell) stops too rather than take this for a run that failed
	if [ -n "$caught" ]; then
		trap - EXIT "$caught"
		kill -s "$caught" $$
	fi
	exit $rc
}
chroot_traps() {
	# this script's own stdout and stderr: a signal's trap runs inside the
	# step it interrupted, whose output goes to a log
	exec 7>&1 8>&2
	trap cleanup EXIT
	trap 'caught=INT; exit 130' INT
	trap 'caught=TERM; exit 143' TERM
	trap 'caught=HUP; exit 129' HUP
}

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

# ---- the chroot, made once: chroot_make FINAL POPULATE LOG (POPULATE: a
# function run with the chroot mounted, its apt lists fresh and its packages
# upgraded)
chroot_make() {
	local final=$1 populate=$2 log=$3 new t0 s
	new=${final%/*}/.${final##*/}.new
	t0=$(date +%s)
	root=$new building=$new
	if ! unmount_under "$new"; then
		echo "$me: $new is still mounted; not touching it" >&2
		return 1
	fi
	rm -rf --one-file-system "$new"
	if ! command -v debootstrap >/dev/null; then
		echo "$me: installing debootstrap"
		apt-get update -qq && apt-get install -y -qq --no-install-recommends \
			-o DPkg::Lock::Timeout=600 debootstrap >/dev/null || return 1
	fi
	echo "$me: making a $suite chroot from $mirror in $final (1 to 3 minutes)"
	: >"$log"
	step debootstrap --variant=minbase "$suite" "$new" "$mirror" >>"$log" 2>&1 || {
		echo "$me: debootstrap $suite failed; log in ${log#"$top"/}:" >&2
		tail -20 "$log" >&2
		return 1
	}
	# the chroot's apt: its release, updates and security as a site has
	# them, or sid with experimental added
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
			"$populate"
	} >>"$log" 2>&1 || {
		echo "$me: preparing the $suite chroot failed; log in ${log#"$top"/}:" >&2
		tail -20 "$log" >&2
		return 1
	}
	in_chroot apt-get clean
	unmount_under "$new" || return 1
	date -u +"made %Y-%m-%d %H:%M UTC from $mirror ($suite ${extra[*]})" >"$new/.ontstatus-chroot"
	rm -rf --one-file-system "$final"
	mv "$new" "$final" || return 1
	root=$final building=""
	echo "$me: $suite chroot made in $(($(date +%s) - t0)) s"
}

# chroot_ensure FINAL POPULATE LOG: FINAL made if it is not (or again, with
# ONTSTATUS_DEBIAN_REFRESH=1); one run at a time per chroot: a second waits
chroot_ensure() {
	local final=$1
	exec 9>"${final%/*}/.${final##*/}.lock"
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
		chroot_make "$@" || return 1
	fi
	root=$final
}

# chroot_throwaway BASE: a copy of BASE beside it, in $root, removed on the
# way out (the copy is made while BASE's lock is held)
chroot_throwaway() {
	local base=$1
	building=$(mktemp -d "${base%/*}/.throwaway-${base##*/}.XXXXXX") || return 1
	root=$building
	chmod 755 "$root"
	cp -a "$base/." "$root/"
}
