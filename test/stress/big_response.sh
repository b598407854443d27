#!/usr/bin/env bash
# Big responses: a response can be at most 1 GB (a varlena), and one that
# would be larger must end as an ERROR response, never as a crash.
#
#   one row      one message of 140 MB of chr(1), each byte written as the
#                8-byte &#xFFFD;: 1.1 GB escaped -> ERROR response
#   many rows    1,100 messages of 1 MB, max_return_records="1100"
#                -> ERROR response that says after how many rows
#   under limit  the same table, max_return_records="1000": a DONE response
#                of 1,000 MB, just under the limit
#
# "response is too large" is SQLSTATE 54000 (program_limit_exceeded); that
# get_ont_process_status answers with an ERROR response at all, and does not
# raise, shows that the error had a request error's code (is_request_error);
# the writer raises "response is too large" with 54000 only.
#
# After every case the same session answers a small request (nothing left
# broken), and the backend's resident memory, taken in the same statement
# right after the failing call, shows that the buffer of up to 1 GB was
# given back at once.  A psql session opened before the first case must
# still be connected, with the same backend pid, at the end, and the server
# log must have no "terminated by signal": the postmaster did not reset the
# cluster's sessions.
#
# Runs against the server in the PG* environment (pg_virtualenv); the
# server log is found with pg_lsclusters, or named by BIG_RESPONSE_LOG.
# Needs about 1.2 GB of memory (the backend's peak) and under a minute.
# Prints a line per check and "big responses: N passed, N failed"; exits
# non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/../.."
db=ontstatus_big
# private resident memory (RssAnon: shared buffers not counted) allowed
# right after a failed call: the 140 MB message at most, not the 1 GB buffer
rss_limit_kb=${BIG_RESPONSE_RSS_LIMIT_KB:-409600}
passed=0 failed=0

check() {
	# check NAME OK: OK is "t" or a command's exit status of 0
	if [ "$2" = t ] || [ "$2" = 0 ]; then
		echo "ok      $1"
		passed=$((passed + 1))
	else
		echo "FAILED  $1"
		failed=$((failed + 1))
	fi
}

# Run SQL; every row "name|t/f" of its output is a check, the rest is shown.
run_checks() {
	local label=$1 out rc start=$EPOCHREALTIME
	out=$(psql -qXAt -v ON_ERROR_STOP=1 -d "$db" 2>&1)
	rc=$?
	while IFS= read -r line; do
		case $line in
			*'|t' | *'|f') check "$label: ${line%|*}" "${line##*|}" ;;
			*) echo "        $line" ;;
		esac
	done <<<"$out"
	check "$label: psql exit status $rc" "$rc"
	echo "        $label: $(seconds_since "$start") s"
}

seconds_since() {
	awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'
}

logfile=${BIG_RESPONSE_LOG:-$(pg_lsclusters -h 2>/dev/null |
	awk -v port="${PGPORT:-5432}" '$3 == port { print $7 }')}
if [ -z "$logfile" ] || [ ! -r "$logfile" ]; then
	echo "big responses: cannot find the server log (set BIG_RESPONSE_LOG)" >&2
	exit 1
fi

dropdb --if-exists "$db" 2>/dev/null
createdb "$db" || exit 1
work=$(mktemp -d)
watch_pid=
cleanup() {
	exec 8>&- 2>/dev/null
	[ -n "$watch_pid" ] && kill "$watch_pid" 2>/dev/null
	rm -rf "$work"
	dropdb --if-exists "$db" 2>/dev/null || true
}
trap cleanup EXIT

start=$EPOCHREALTIME
psql -qX -v ON_ERROR_STOP=1 -d "$db" <<'SQL' || exit 1
CREATE EXTENSION ontstatus;
CREATE SCHEMA big;
SET search_path = public;
\i test/fixtures/ont_process_status.sql
INSERT INTO ont_process_status (process_id, process_type_cd, process_status_cd, message)
VALUES (1, 'ONT_SMALL', 'COMPLETED', 'a <small> one'), (2, 'ONT_SMALL', 'COMPLETED', NULL);

CREATE SCHEMA big_one;
SET search_path = big_one;
\i test/fixtures/ont_process_status.sql
INSERT INTO ont_process_status (process_id, process_type_cd, process_status_cd, message)
VALUES (1, 'ONT_BIG', 'COMPLETED', repeat(chr(1), 140 * 1024 * 1024));

CREATE SCHEMA big_many;
SET search_path = big_many;
\i test/fixtures/ont_process_status.sql
INSERT INTO ont_process_status (process_id, process_type_cd, process_status_cd, message)
SELECT i, 'ONT_BIG', 'COMPLETED', repeat('x', 1024 * 1024)
FROM generate_series(1, 1100) AS i;
RESET search_path;

CREATE FUNCTION big.req(attrs text DEFAULT '') RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT '<ns4:get_ont_process_status xmlns:ns4="http://www.i2b2.org/xsd/cell/ont/1.1/"'
         || attrs || '/>' $$;
CREATE FUNCTION big.status(response xml) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT s.type || ': ' || coalesce(s.text, '')
  FROM XMLTABLE('/*/response_header/result_status/status' PASSING response
                COLUMNS type text PATH '@type', text text PATH '.') AS s $$;
-- VOLATILE: evaluated where it is written, after the call before it
CREATE FUNCTION big.proc_kb(field text) RETURNS bigint
LANGUAGE sql VOLATILE AS $$
  SELECT substring(pg_read_file('/proc/self/status') FROM field || ':\s+(\d+)')::bigint $$;
-- a small request in the same session: DONE, both rows, as always
CREATE FUNCTION big.small_works() RETURNS boolean
LANGUAGE sql VOLATILE AS $$
  SET ontstatus.schema = public;
  SELECT big.status(r) = 'DONE: Ontology processing completed'
     AND xpath('/*/message_body/*/ontology_process_status/process_id/text()', r)::text[]
         = '{1,2}'
     AND xpath('/*/message_body/*/ontology_process_status/message/text()', r)::text[]
         = '{"a &lt;small&gt; one"}'
  FROM (SELECT ontstatus.get_ont_process_status(big.req()) AS r OFFSET 0) AS s $$;
SQL
echo "        setup: $(seconds_since "$start") s"

# the long-lived session: reads statements from a fifo until the end
mkfifo "$work/fifo"
psql -qXAt -d "$db" <"$work/fifo" >"$work/watch.out" 2>&1 &
watch_pid=$!
exec 8>"$work/fifo"
echo "SELECT 'pid ' || pg_backend_pid();" >&8
for _ in $(seq 50); do
	grep -q '^pid ' "$work/watch.out" && break
	sleep 0.1
done
watch_before=$(grep -m1 '^pid ' "$work/watch.out")
check "long-lived session connected ($watch_before)" "$([ -n "$watch_before" ] && echo t)"

run_checks "one row of 140 MB" <<SQL
SET ontstatus.schema = big_one;
SELECT ontstatus.get_ont_process_status(big.req()) AS r,
       big.proc_kb('RssAnon') AS rss_after, big.proc_kb('VmHWM') AS hwm \gset
SELECT 'status: ' || big.status(:'r');
SELECT 'peak backend memory ' || :hwm / 1024 || ' MB, right after the call ' || :rss_after / 1024 || ' MB';
SELECT 'well-formed document', xml_is_well_formed_document(:'r');
SELECT 'ERROR response: response is too large, the limit stated',
       big.status(:'r') = 'ERROR: response is too large: The first row alone would exceed the maximum response size of 1073741818 bytes.';
SELECT 'memory given back in the statement (< $rss_limit_kb kB)', :rss_after < $rss_limit_kb;
SELECT 'a small request in the same session afterwards', big.small_works();
SQL

run_checks "1,100 rows of 1 MB" <<SQL
SET ontstatus.schema = big_many;
SELECT ontstatus.get_ont_process_status(big.req(' max_return_records="1100"')) AS r,
       big.proc_kb('RssAnon') AS rss_after, big.proc_kb('VmHWM') AS hwm \gset
SELECT 'status: ' || big.status(:'r');
SELECT 'peak backend memory ' || :hwm / 1024 || ' MB, right after the call ' || :rss_after / 1024 || ' MB';
SELECT 'well-formed document', xml_is_well_formed_document(:'r');
SELECT 'ERROR response: response is too large after N rows, max_return_records suggested',
       big.status(:'r') ~ '^ERROR: response is too large: The response would exceed the maximum response size of 1073741818 bytes after 10[0-9][0-9] rows; ask for fewer rows with max_return_records\.$';
SELECT 'memory given back in the statement (< $rss_limit_kb kB)', :rss_after < $rss_limit_kb;
SELECT 'a small request in the same session afterwards', big.small_works();
-- and once more: the failure left nothing behind that a second one trips on
SET ontstatus.schema = big_many;
SELECT 'the same request again: the same ERROR response',
       big.status(ontstatus.get_ont_process_status(big.req(' max_return_records="1100"'))) = big.status(:'r');
SELECT 'a small request after that', big.small_works();
SQL

run_checks "1,000 rows of 1 MB, under the limit" <<'SQL'
SET ontstatus.schema = big_many;
SELECT pg_column_size(r) AS size, left(t, 13) = '<ns5:response' AS head,
       right(t, 15) = '</ns5:response>' AS tail,
       strpos(t, '<status type="DONE">') > 0 AS done,
       strpos(t, '<process_id>1000</process_id>') > 0
         AND strpos(t, '<process_id>1001</process_id>') = 0 AS last_row,
       big.proc_kb('VmHWM') AS hwm
FROM (SELECT r, r::text AS t
      FROM (SELECT ontstatus.get_ont_process_status(big.req(' max_return_records="1000"')) AS r
            OFFSET 0) AS c
      OFFSET 0) AS s \gset
SELECT 'response of ' || :size || ' bytes; peak backend memory ' || :hwm / 1024 || ' MB';
SELECT 'a DONE response between 1,000,000,000 bytes and the limit',
       :size BETWEEN 1000000000 AND 1073741822 AND :'done'::boolean;
SELECT 'it is whole: root element open and closed', :'head'::boolean AND :'tail'::boolean;
SELECT 'rows 1 to 1000, no more', :'last_row'::boolean;
SELECT 'a small request in the same session afterwards', big.small_works();
SQL

# the long-lived session: still there, same backend
echo "SELECT 'pid ' || pg_backend_pid();" >&8
exec 8>&-
wait "$watch_pid"
watch_rc=$?
watch_pid=
watch_after=$(grep '^pid ' "$work/watch.out" | sed -n 2p)
check "long-lived session still connected, same backend ($watch_after)" \
	"$([ "$watch_rc" -eq 0 ] && [ -n "$watch_before" ] && [ "$watch_before" = "$watch_after" ] && echo t)"
grep -v '^pid ' "$work/watch.out" | sed 's/^/        /'

if grep -q "terminated by signal" "$logfile"; then
	check "server log: no backend terminated by a signal" f
	grep "terminated by signal" "$logfile" | sed 's/^/        /'
else
	check "server log: no backend terminated by a signal" t
fi

echo "big responses: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
