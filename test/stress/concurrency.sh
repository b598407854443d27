#!/usr/bin/env bash
# Concurrency: pgbench, 4 clients for STRESS_SECONDS (default 60).  Readers
# call the three request functions and running_processes while writers move
# processes through the ONT cell's lifecycle as the cell writes them
# (PROCESSING -> COMPLETED, ABORT -> KILLED, progress in process_step_cd,
# end_date on every update).  Every reader checks, inside its transaction,
# that its response is well-formed and DONE and that it reflects one
# consistent snapshot: two "mirror" rows that writers always update together
# carry the same progress and end date, and never two patient count updates
# are PROCESSING at once.
# Any violation raises an error, which pgbench counts as a failure.
# Runs against the server in the PG* environment.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${STRESS_SECONDS:-60}
db=ontstatus_stress

dropdb --if-exists "$db" 2>/dev/null
createdb "$db"
trap 'dropdb --if-exists "$db" 2>/dev/null || true' EXIT
psql -qX -v ON_ERROR_STOP=1 -d "$db" -f test/stress/concurrency_setup.sql

log=$(mktemp)
set +e
pgbench -n -c 4 -j 2 -T "$seconds" -d "$db" \
	-f test/stress/concurrency_reader.sql@3 -f test/stress/concurrency_writer.sql@1 >"$log" 2>&1
rc=$?
set -e
grep -E "^(number of transactions actually processed|number of failed transactions|tps|latency average)" "$log" || true
grep -E "^SQL script [0-9]|^ - [0-9]+ transactions" "$log" || true
psql -qXAt -d "$db" -c "SELECT 'rows at the end: ' || count(*) || ', processing: ' || count(*) FILTER (WHERE process_status_cd = 'PROCESSING') || ', killed: ' || count(*) FILTER (WHERE process_status_cd = 'KILLED') FROM ont_process_status"
errors=$(grep -cE "ERROR|aborted" "$log" || true)
if [ $rc -ne 0 ] || [ "$errors" -ne 0 ]; then
	echo "concurrency: FAILED (pgbench exit $rc)"
	grep -E "ERROR|aborted|error" "$log" | head -20
	rm -f "$log"
	exit 1
fi
rm -f "$log"
echo "concurrency: no failed transaction, every response well-formed and consistent"
