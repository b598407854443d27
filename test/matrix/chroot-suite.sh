#!/usr/bin/env bash
# The suite of one make matrix configuration, run as postgres inside the
# chroot test/matrix/debian-release.sh made: what run.sh runs against the
# configurations it builds (its inline script), against the chroot's own
# PostgreSQL.  A throwaway server on PORT with its socket and data in WORK,
# make installcheck (pg_regress, isolation, TAP), the XML Schema check, the
# doc test, and a look at every server log for a backend terminated by a
# signal or an assertion's "TRAP:".  The output is what run.sh's totals
# count; exits non-zero on any failure.
#
#   chroot-suite.sh BINDIR PORT WORK XSD_DIR
#
# (the tree is WORK/ontstatus, built and installed as root before.)
set -u
bindir=${1:?usage: chroot-suite.sh BINDIR PORT WORK XSD_DIR}
port=${2:?}
work=${3:?}
xsd_dir=${4:?}
export PATH="$bindir:$PATH" PGHOST="$work" PGPORT="$port" PGUSER=postgres
initdb -D "$work/data" -U postgres --no-sync >/dev/null &&
	pg_ctl -D "$work/data" -l "$work/server.log" -w \
		-o "-p $port -k $work -c listen_addresses=" start >/dev/null || exit 1
cd "$work/ontstatus" || exit 1
make installcheck PG_CONFIG="$bindir/pg_config" 2>&1
rc=$?
if [ $rc -ne 0 ]; then
	for f in test/regression.diffs test/isolation/output_iso/regression.diffs tmp_check/log/regress_log_*; do
		[ -f "$f" ] && { echo "=== $f"; head -200 "$f"; }
	done
fi
# the XML Schema check of real responses, against this server too
ONTSTATUS_XSD_DIR="$xsd_dir" test/xsd-check.sh 2>&1
case $? in
	0) echo "xsd-check .. ok" ;;
	2) echo "xsd-check .. skipped" ;;
	*) echo "xsd-check .. FAILED"; rc=1 ;;
esac
# every SQL example of README.md and docs/, against this server too
if test/doctest/run.sh >doctest.log 2>&1; then
	echo "doctest .. ok"
else
	echo "doctest .. FAILED"; grep -v "^ok - " doctest.log; rc=1
fi
# a crash, or a failed assertion, in any server log: this server and the
# TAP nodes
crashed=$(grep -ls -e "terminated by signal" -e "TRAP:" "$work/server.log" tmp_check/log/*.log)
if [ -n "$crashed" ]; then
	echo "=== a backend crashed or failed an assertion: $crashed"
	# shellcheck disable=SC2086
	grep -h -B2 -A5 -e "terminated by signal" -e "TRAP:" $crashed | head -100
	rc=1
fi
# a server that does not stop must not outlive its directory, holding the port
pg_ctl -D "$work/data" -m fast stop >/dev/null ||
	{ echo "=== the server did not stop: stopped in immediate mode"; rc=1
	pg_ctl -D "$work/data" -m immediate stop >/dev/null; }
exit $rc
