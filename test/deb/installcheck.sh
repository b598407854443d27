#!/usr/bin/env bash
# The suite against the INSTALLED package postgresql-MAJOR-ontstatus: what
# `make installcheck` runs (the pg_regress suite, REGRESS in the Makefile,
# and the isolation suite, ISOLATION), by hand, with the pg_regress and
# pg_isolation_regress that postgresql-client-MAJOR ships, so that neither
# PGXS (postgresql-server-dev) nor a build is needed.  The tests' inputs
# (sql/, expected/, test/specs, test/expected, test/fixtures, META.json)
# come from the current directory, the extension from the package: before
# the suite, a first session creates the extension, answers a
# get_ont_process_status request, and shows from /proc/self/maps that the
# module it loaded is /usr/lib/postgresql/MAJOR/lib/ontstatus.so.
# A throwaway cluster (initdb) with its socket and data in a temporary
# directory, no TCP; run as a user that is not root (the postgres user in
# make deb-test, the test user under autopkgtest: debian/tests).
#
#   test/deb/installcheck.sh MAJOR
#
# Exits non-zero on any failure, printing the regression diffs.
set -uo pipefail
major=${1:?usage: installcheck.sh MAJOR}
bindir=/usr/lib/postgresql/$major/bin
libdir=/usr/lib/postgresql/$major/lib
testdir=$libdir/pgxs/src/test
{ [ -f Makefile ] && [ -d sql ]; } || { echo "installcheck.sh: run it in the tree's top directory" >&2; exit 2; }

# a variable of the Makefile, its continuation lines joined
mkvar() {
	awk -v n="$1" '{ while (/\\$/ && (getline more) > 0) { sub(/\\$/, ""); $0 = $0 " " more } }
		$1 == n && $2 == "=" { $1 = $2 = ""; sub(/^ +/, ""); print }' Makefile
}
# shellcheck disable=SC2207
regress=($(mkvar REGRESS)) regress_opts=($(mkvar REGRESS_OPTS))
# shellcheck disable=SC2207
isolation=($(mkvar ISOLATION)) isolation_opts=($(mkvar ISOLATION_OPTS))

tmp=$(mktemp -d)
port=$((54400 + major))
export PGHOST=$tmp PGPORT=$port PGDATABASE=postgres
# shellcheck disable=SC2317
stop() {
	"$bindir/pg_ctl" -D "$tmp/data" -m fast stop >/dev/null 2>&1 ||
		"$bindir/pg_ctl" -D "$tmp/data" -m immediate stop >/dev/null 2>&1
	rm -rf "$tmp"
}
trap stop EXIT
"$bindir/initdb" -D "$tmp/data" --no-sync >"$tmp/initdb.log" 2>&1 ||
	{ cat "$tmp/initdb.log"; exit 1; }
"$bindir/pg_ctl" -D "$tmp/data" -l "$tmp/server.log" -w \
	-o "-p $port -k $tmp -c listen_addresses=" start >/dev/null || { cat "$tmp/server.log"; exit 1; }
rc=0

# the extension as the package installed it: CREATE EXTENSION, a request
# answered, and the module this backend mapped
psql=("$bindir/psql" -X -q -v ON_ERROR_STOP=1)
"${psql[@]}" -c 'CREATE DATABASE ontstatus_smoke' &&
	"${psql[@]}" -d ontstatus_smoke -At >"$tmp/smoke.out" <<-'SQL'
	CREATE EXTENSION ontstatus;
	\i test/fixtures/ont_process_status.sql
	SELECT 'started ' || ontstatus.start_process('ONT_PATIENT_COUNT_UPDATE', changed_by => 'deb-test');
	SELECT ontstatus.get_ont_process_status('<get_ont_process_status><process_id>1</process_id></get_ont_process_status>');
	SELECT 'version ' || extversion FROM pg_extension WHERE extname = 'ontstatus';
	SELECT 'module ' || substring(l FROM '(/\S*ontstatus\.so)$')
	FROM regexp_split_to_table(pg_read_file('/proc/self/maps'), E'\n') AS l
	WHERE l LIKE '%ontstatus.so' LIMIT 1;
	SQL
smoke=$?
sed 's/^/# /' "$tmp/smoke.out" | cut -c1-200
module=$(sed -n 's/^module //p' "$tmp/smoke.out")
if [ $smoke -eq 0 ] && grep -q "<process_id>1</process_id>" "$tmp/smoke.out" &&
	[ "$module" = "$libdir/ontstatus.so" ]; then
	echo "ok - CREATE EXTENSION ontstatus, a get_ont_process_status request answered, module $module"
else
	echo "not ok - the installed extension: exit $smoke, module '${module}' (want $libdir/ontstatus.so)"
	rc=1
fi
"${psql[@]}" -c 'DROP DATABASE ontstatus_smoke' || rc=1

# make installcheck's two suites, as PGXS runs them
"$testdir/regress/pg_regress" --inputdir=. --bindir="$bindir" --host="$tmp" --port="$port" \
	"${regress_opts[@]}" --dbname=contrib_regression "${regress[@]}" || {
	rc=1
	for f in regression.diffs test/regression.diffs; do
		[ -f "$f" ] && { echo "=== $f"; head -300 "$f"; }
	done
}
"$testdir/isolation/pg_isolation_regress" --inputdir=. --outputdir=output_iso --bindir="$bindir" \
	--host="$tmp" --port="$port" "${isolation_opts[@]}" --dbname=isolation_regression "${isolation[@]}" || {
	rc=1
	for f in output_iso/regression.diffs test/isolation/regression.diffs; do
		[ -f "$f" ] && { echo "=== $f"; head -300 "$f"; }
	done
}
# a crashed backend resets every session but may leave every test green
if grep -q -e "terminated by signal" -e "TRAP:" "$tmp/server.log"; then
	echo "not ok - a backend crashed during the suite:"
	grep -B2 -A5 -e "terminated by signal" -e "TRAP:" "$tmp/server.log" | head -60
	rc=1
fi
exit $rc
