#!/usr/bin/env bash
# Memory: 100,000 calls in one session must grow the backend's resident
# memory by less than 5 MB.  The calls mix every path: DONE responses,
# ERROR responses (bad XML, DOCTYPE, bad values, missing table), and the two
# row functions with and without errors.  Runs against the server in the
# PG* environment; prints the numbers, exits non-zero above the limit.
set -euo pipefail
cd "$(dirname "$0")/../.."
calls=${MEMORY_CALLS:-100000}
limit_kb=${MEMORY_LIMIT_KB:-5120}
db=ontstatus_memory

dropdb --if-exists "$db" 2>/dev/null
createdb "$db"
trap 'dropdb --if-exists "$db" 2>/dev/null || true' EXIT

psql -qX -v ON_ERROR_STOP=1 -d "$db" <<'SQL'
CREATE EXTENSION ontstatus;
\i test/fixtures/ont_process_status.sql
INSERT INTO ont_process_status (process_type_cd, start_date, end_date, process_step_cd, process_status_cd, message)
SELECT 'ONT_PATIENT_COUNT_UPDATE', '2011-01-01'::timestamp + i * interval '1 hour', NULL,
       'ONT_PATIENT_COUNT_UPDATE', CASE WHEN i % 10 = 0 THEN 'PROCESSING' ELSE 'COMPLETED' END,
       'PROCESSED ' || i || '/4000 <&>' || chr(7)
FROM generate_series(1, 200) AS i;
CREATE FUNCTION rss_kb() RETURNS bigint LANGUAGE sql AS $$
  SELECT substring(pg_read_file('/proc/self/status') FROM 'VmRSS:\s+(\d+)')::bigint $$;
CREATE FUNCTION churn(n int) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  reqs text[] := ARRAY[
    '<ns6:request xmlns:ns6="http://www.i2b2.org/xsd/hive/msg/1.1/"><message_header><security><domain>d</domain><username>u</username><password>p</password></security><project_id>Demo</project_id></message_header><message_body><get_ont_process_status xmlns="http://www.i2b2.org/xsd/cell/ont/1.1/" max_return_records="50"><process_type_cd>ONT_PATIENT_COUNT_UPDATE</process_type_cd><process_start_date><start_time>2011-01-01T00:00:00Z</start_time></process_start_date></get_ont_process_status></message_body></ns6:request>',
    '<get_ont_process_status><process_id>7</process_id></get_ont_process_status>',
    'not xml at all',
    '<!DOCTYPE x [<!ENTITY a "b">]><get_ont_process_status><process_type_cd>&a;</process_type_cd></get_ont_process_status>',
    '<get_ont_process_status><process_id>abc</process_id></get_ont_process_status>',
    '<get_ont_process_status><process_start_date><start_time>now</start_time></process_start_date></get_ont_process_status>',
    '<get_ont_process_status><process_id>1</process_id><process_id>2</process_id></get_ont_process_status>',
    '<get_ont_process_status><unclosed>'];
  r text;
BEGIN
  FOR i IN 1..n LOOP
    r := reqs[1 + i % array_length(reqs, 1)];
    PERFORM ontstatus.get_ont_process_status(r);
    IF i % 4 = 0 THEN
      BEGIN
        PERFORM count(*) FROM ontstatus.process_status(r);
      EXCEPTION WHEN OTHERS THEN NULL;
      END;
    END IF;
    IF i % 16 = 0 THEN
      PERFORM count(*) FROM ontstatus.find_process_status(process_status_cd => 'PROCESSING');
    END IF;
    IF i % 50 = 0 THEN          -- the table missing: an error from SPI
      PERFORM set_config('ontstatus.schema', 'no_such_schema', true);
      PERFORM ontstatus.get_ont_process_status(reqs[2]);
      PERFORM set_config('ontstatus.schema', '', true);
    END IF;
  END LOOP;
END $$;
SQL

# One session, two runs of $calls calls: all in one transaction (what
# outlives a call inside a transaction), then one transaction per call, as
# the cell's JDBC connection makes them (what outlives a transaction).
# Each is warmed up first, so caches and kept plans are not counted.
# one call per transaction: psql's \gexec runs each generated statement alone
each_alone() {
	cat <<SQL
\\o /dev/null
SELECT format('SELECT ontstatus.get_ont_process_status(%L)',
              (ARRAY['<get_ont_process_status max_return_records="20"/>',
                     '<get_ont_process_status><process_id>x</process_id></get_ont_process_status>',
                     '<!DOCTYPE x><x/>', 'garbage'])[1 + i % 4])
FROM generate_series(1, $1) AS i \\gexec
\\o
SQL
}
out=$(psql -qXAt -v ON_ERROR_STOP=1 -d "$db" <<SQL
SELECT churn(2000);
SELECT rss_kb();
SELECT churn($calls);
SELECT rss_kb();
$(each_alone 2000)
SELECT rss_kb();
$(each_alone "$calls")
SELECT rss_kb();
SQL
)
read -r -d '' b1 a1 b2 a2 <<<"$(echo "$out" | grep -E '^[0-9]+$' | tr '\n' ' ')" || true
g1=$((a1 - b1))
g2=$((a2 - b2))
echo "memory: $calls calls in one transaction: backend RSS ${b1} kB -> ${a1} kB, growth ${g1} kB (limit ${limit_kb} kB)"
echo "memory: $calls calls, one transaction each: backend RSS ${b2} kB -> ${a2} kB, growth ${g2} kB (limit ${limit_kb} kB)"
[ "$g1" -lt "$limit_kb" ] && [ "$g2" -lt "$limit_kb" ]
