#!/usr/bin/env bash
# The doc test: every fenced sql block of README.md and docs/*.md, in order,
# against a database laid out as an i2b2 site (test/fixtures/i2b2_site.sql:
# i2b2's roles, schemas, hive lookup, ONT table, ontology, demo facts and
# stand-ins for runtotalnum and insert_concept_dimension_fromtableaccess; no
# ontstatus - the README installs it).  A block
# that fails, or whose output differs from the ```text block the document
# shows after it, fails the test.  Markers on the line before a block:
#   <!-- doctest: as ROLE -->    run it connected as ROLE (its settings apply)
#   <!-- doctest: at-end -->     run it after all the others (uninstalling)
#   <!-- doctest: skip reason --> do not run it
# Then checks.sql: what the examples must have achieved (the totalnum
# recipe's counts equal a direct runtotalnum run; the concept
# synchronisation's concept_dimension equals a direct call's of i2b2's
# function).
# Runs against the server named by the PG* environment, as a superuser
# (test/run-tests.sh runs it inside pg_virtualenv); drops and creates the
# database i2b2 and the roles the fixture and the README create.
set -uo pipefail
cd "$(dirname "$0")/../.."
db=i2b2
roles="i2b2_jobs i2b2_report i2b2metadata i2b2metadata2 i2b2demodata i2b2hive"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"

reset_site() {
	dropdb --if-exists "$db" >/dev/null 2>&1
	for r in $roles; do
		psql -qX -d postgres -c "DROP ROLE IF EXISTS $r" >/dev/null 2>&1
	done
}
reset_site
createdb "$db" || exit 1
if ! psql -qX -v ON_ERROR_STOP=1 -d "$db" -f test/fixtures/i2b2_site.sql >"$work/fixture.log" 2>&1; then
	echo "doctest: the i2b2 site fixture failed:"; cat "$work/fixture.log"; exit 1
fi

docs=(README.md)
for f in docs/*.md; do [ -f "$f" ] && docs+=("$f"); done
mkdir -p "$work/blocks"
count=$(perl test/doctest/extract.pl "$work/blocks" "${docs[@]}") || exit 1

passed=0 failed=0
# trailing spaces and the blank line psql ends a result with do not count
normalize() { perl -pe 's/[ \t]+$//' "$1" | perl -0pe 's/\n+\z/\n/'; }
run_block() {
	local id=$1 where role out
	where=$(cat "$work/blocks/$id.where")
	out=$work/blocks/$id.out
	if [ -f "$work/blocks/$id.role" ]; then
		role=$(cat "$work/blocks/$id.role")
		# the block connects as the role; only its password is the test's
		psql -qX -d "$db" -c "ALTER ROLE $role LOGIN PASSWORD 'doctest'" >/dev/null 2>&1
		PGUSER=$role PGPASSWORD=doctest psql -X -q -v ON_ERROR_STOP=1 -d "$db" \
			-f "$work/blocks/$id.sql" >"$out" 2>"$out.err"
	else
		psql -X -q -v ON_ERROR_STOP=1 -d "$db" -f "$work/blocks/$id.sql" >"$out" 2>"$out.err"
	fi
	local rc=$?
	if [ $rc -ne 0 ]; then
		echo "not ok - $where${role:+ (as $role)}: the block failed"
		sed 's/^/    /' "$out.err" | grep -v "INFO:  " | head -20
		failed=$((failed + 1))
		return
	fi
	if [ -f "$work/blocks/$id.expected" ] &&
		! diff -u <(normalize "$work/blocks/$id.expected") <(normalize "$out") >"$out.diff"; then
		echo "not ok - $where: the output differs from what the document shows"
		sed 's/^/    /' "$out.diff" | head -40
		failed=$((failed + 1))
		return
	fi
	echo "ok - $where${role:+ (as $role)}$([ -f "$work/blocks/$id.expected" ] && echo ", output as shown")"
	passed=$((passed + 1))
}

for id in $(ls "$work/blocks" | sed -n 's/\.sql$//p' | sort); do
	[ -f "$work/blocks/$id.at_end" ] || run_block "$id"
done
if psql -X -q -v ON_ERROR_STOP=1 -d "$db" -f test/doctest/checks.sql >"$work/checks.out" 2>&1; then
	echo "ok - test/doctest/checks.sql: what the examples achieved"
	passed=$((passed + 1))
else
	echo "not ok - test/doctest/checks.sql: what the examples achieved"
	# the last error (checks.sql provokes some on purpose), not the INFO lines
	# and results before it
	sed 's/^/    /' "$work/checks.out" | grep -v "INFO:  " |
		awk '/ERROR:/ { last = "" } { last = last $0 "\n" } END { printf "%s", last }' | head -20
	failed=$((failed + 1))
fi
for id in $(ls "$work/blocks" | sed -n 's/\.sql$//p' | sort); do
	[ -f "$work/blocks/$id.at_end" ] && run_block "$id"
done

echo "doctest: $count blocks of ${docs[*]}; $passed passed, $failed failed"
reset_site
[ "$failed" -eq 0 ] && [ "$count" -gt 0 ]
