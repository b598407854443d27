#!/usr/bin/env bash
# The chroot configurations (17, 18-sid, 19: debian-release.sh) leave nothing
# behind when interrupted: starts `ONTSTATUS_PG_MAJORS=CONFIG run.sh` in a
# process group of its own, waits for a phase, sends SIGNAL to the whole
# group (as a terminal's Ctrl-C or a CI runner's cancel does), and checks,
# once run.sh has ended, that
#   - nothing is mounted under the cache (findmnt),
#   - no process runs with its root in the chroot (a postmaster is a
#     session leader of its own: the group's signal does not reach it),
#   - nothing listens on the configuration's port (config_port),
#   - the tree's copy inside the chroot is gone, and so is a chroot that
#     was being made.
#
#   interrupt-check.sh CONFIG SIGNAL PHASE
#
# PHASE: debootstrap (its own mounts in the chroot being made), chroot
# (apt installing PostgreSQL in it) - both need a cache without that
# chroot -, regress (pg_regress has run 5 tests), tap (the TAP tests'
# clusters are running).  Uses ONTSTATUS_PG_CACHE like run.sh.
# Prints "ok - ..." or "not ok - ..." lines; exits non-zero on any not ok.
set -uo pipefail
config=${1:?usage: interrupt-check.sh 17|18-sid|19 TERM|INT debootstrap|chroot|regress|tap}
sig=${2:?}
phase=${3:?}
cd "$(dirname "$0")/../.." || exit 2
top=$(pwd)
cache=${ONTSTATUS_PG_CACHE:-/var/cache/ontstatus-pg}
mkdir -p "$cache" && cache=$(cd "$cache" && pwd -P)
log=$top/test/results/matrix/installcheck-$config.log
chroot_log=$top/test/results/matrix/chroot-$config.log
out=$top/test/results/matrix/interrupt-$config-$sig-$phase.out
# shellcheck source=test/matrix/config-lib.sh
. test/matrix/config-lib.sh
port=$(config_port "$config")
mkdir -p "$(dirname "$log")"
rm -f "$log" "$chroot_log"

# run.sh as a job of its own, as a terminal starts it: job control puts it
# in a process group of its own (its id is the group's), and leaves its
# SIGINT alone (without job control a shell's background commands ignore
# SIGINT, and a shell cannot trap a signal ignored when it started)
set -m
ONTSTATUS_PG_CACHE="$cache" ONTSTATUS_PG_MAJORS="$config" test/matrix/run.sh >"$out" 2>&1 &
pgid=$!
set +m
t0=$(date +%s)
reached=""
while kill -0 "$pgid" 2>/dev/null && [ $(($(date +%s) - t0)) -lt 600 ]; do
	case $phase in
		# debootstrap's own mounts (/proc, /sys) in the chroot being made
		debootstrap) findmnt -rn -o TARGET | grep -q "^$cache/\.chroot-.*\.new/" &&
			! grep -q "^Reading package lists" "$chroot_log" 2>/dev/null && reached=1 ;;
		# apt installing PostgreSQL in it
		chroot) grep -q "^Need to get" "$chroot_log" 2>/dev/null && sleep 5 && reached=1 ;;
		regress) grep -qE "^ok +5 " "$log" 2>/dev/null && reached=1 ;;
		tap) grep -q "+++ tap install-check" "$log" 2>/dev/null && sleep 4 && reached=1 ;;
		*) echo "interrupt-check.sh: unknown phase $phase (debootstrap, chroot, regress, tap)" >&2
			kill -TERM -- -"$pgid"; exit 2 ;;
	esac
	[ -n "$reached" ] && break
	sleep 0.5
done
if [ -z "$reached" ]; then
	echo "not ok - $config: the run ended or took 10 minutes before the $phase phase"
	kill -TERM -- -"$pgid" 2>/dev/null
	exit 1
fi
# what runs in the chroots now, to show the signal lands mid-suite
inside=$(for p in /proc/[0-9]*; do
	r=$(readlink "$p/root" 2>/dev/null) || continue
	case $r in "$cache"/*) cat "$p/comm" ;; esac
done | sort | uniq -c | tr -s ' \n' '  ')
echo "# $config: $phase reached after $(($(date +%s) - t0)) s; mounts under the cache: $(findmnt -rn -o TARGET | grep -c "^$cache/"); running in the chroot:$inside"
kill -"$sig" -- -"$pgid"
t1=$(date +%s)
wait "$pgid"
rc=$?
# run.sh may end first (SIGTERM ends a shell at once): debian-release.sh's
# cleanup goes on, and the group is there until it has finished
while kill -0 -- -"$pgid" 2>/dev/null && [ $(($(date +%s) - t1)) -lt 60 ]; do sleep 0.2; done
echo "# run.sh ended (exit $rc), its process group $(($(date +%s) - t1)) s after SIG$sig; the last lines:"
tail -4 "$out" | sed 's/^/#   /'

failed=0
check() {
	if [ -z "$2" ]; then echo "ok - $1"; else echo "not ok - $1: $2"; failed=1; fi
}
check "$config SIG$sig in $phase: the run's process group ended" "$(kill -0 -- -"$pgid" 2>/dev/null && echo "still running")"
check "$config SIG$sig in $phase: nothing mounted under $cache" "$(findmnt | grep "$cache")"
check "$config SIG$sig in $phase: no process rooted in a chroot of the cache" "$(for p in /proc/[0-9]*; do
	r=$(readlink "$p/root" 2>/dev/null) || continue
	case $r in "$cache"/*) echo "${p#/proc/} $(cat "$p/comm" 2>/dev/null)" ;; esac
done)"
check "$config SIG$sig in $phase: nothing listens on port $port" "$(ss -Hltn "sport = :$port")"
check "$config SIG$sig in $phase: no copy of the tree left in a chroot" \
	"$(ls -d "$cache"/chroot-*/var/tmp/ontstatus-matrix.* 2>/dev/null)"
check "$config SIG$sig in $phase: no chroot left half made" "$(ls -d "$cache"/.chroot-*.new 2>/dev/null)"
exit $failed
