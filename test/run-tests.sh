#!/usr/bin/env bash
# Runs the whole suite against a throwaway PostgreSQL 15 cluster: the
# pg_regress suite (sql/ -> expected/) and the TAP tests (test/t, which
# start their own primary and standby), then the XML Schema check of
# responses and the Java client test (test/java: PgJDBC and JAXB).
# Expects the extension to be installed (make test does that).
# Prints "N passed, N failed, N skipped" last; exits non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
mkdir -p test/results

# initdb refuses to run as root, so as root the suite runs as postgres in
# a copy of the tree that postgres owns.
if [ "$(id -u)" -eq 0 ]; then
	work=$(mktemp -d)
	trap 'rm -rf "$work"' EXIT
	cp -a "$top" "$work/ontstatus"
	rm -rf "$work/ontstatus/test/results" "$work/ontstatus/tmp_check"
	chown -R postgres: "$work"
	rundir="$work/ontstatus"
	as_user="runuser -u postgres --"
else
	rundir=$top
	as_user=""
fi
export ONTSTATUS_XSD_DIR=${ONTSTATUS_XSD_DIR:-$top/../shared/i2b2-xsd}

pg_virtualenv -t -v 15 bash -c '
	cd "'"$rundir"'"
	'"$as_user"' make installcheck 2>&1 | tee "'"$top"'/test/results/installcheck.log"
	rc=${PIPESTATUS[0]}
	for f in test/regression.diffs tmp_check/log/regress_log_*; do
		[ -f "$f" ] && [ "$rc" -ne 0 ] && { echo "=== $f"; cat "$f"; }
	done
	# a crashed backend resets every session but may leave every test
	# green: the server logs (this cluster, and the TAP tests'\'' nodes) say
	serverlog=$(pg_lsclusters -h | awk "\$2 == \"regress\" { print \$7 }")
	crashed=$(grep -ls "terminated by signal" "$serverlog" tmp_check/log/*.log)
	if [ -n "$crashed" ]; then
		echo "not ok - a backend crashed (terminated by signal) during the suite: $crashed"
		rc=1
	fi
	exit $rc
'
rc=$?

log=test/results/installcheck.log
passed=$(grep -cE "^(ok|test) .*\.\.\. ok" $log)
failed=$(grep -cE "^(not ok|test) .*(FAILED|failed)" $log)
# prove: "t/001_hot_standby.pl .. ok" per file, "Result: PASS|FAIL"
passed=$((passed + $(grep -cE "^test/t/.*\.pl \.+ ok" $log)))
failed=$((failed + $(grep -cE "^test/t/.*\.pl \.+ .*(Failed|Dubious)" $log)))
[ "$rc" -ne 0 ] && [ "$failed" -eq 0 ] && failed=1

skipped=0
pg_virtualenv -t -v 15 test/xsd-check.sh
case $? in
	0) passed=$((passed + 1)) ;;
	2) skipped=$((skipped + 1)) ;;
	*) failed=$((failed + 1)) ;;
esac

# the tested majors said once: check_setup's list, make matrix's, the README's
if test/majors-check.sh; then
	passed=$((passed + 1))
else
	failed=$((failed + 1))
fi

# every SQL example of README.md and docs/, against an i2b2 site
pg_virtualenv -t -v 15 test/doctest/run.sh
case $? in
	0) passed=$((passed + 1)) ;;
	*) failed=$((failed + 1)) ;;
esac

# the ONT cell's own path: PgJDBC and JAXB classes generated from the XSDs
pg_virtualenv -t -v 15 test/java/run.sh
case $? in
	0) passed=$((passed + 1)) ;;
	2) skipped=$((skipped + 1)) ;;
	*) failed=$((failed + 1)) ;;
esac

echo
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
