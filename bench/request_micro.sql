-- make bench, in the backend: what one get_ont_process_status by
-- process_id costs, as the i2b2 Workbench polls it (its 2.5 KB envelope,
-- bench/workbench_request.xml, with LF line ends and with CR LF as the
-- Workbench on Windows sends it) and as a bare 80-byte request, read by
-- the fast path and by libxml2 (ontstatus.fast_path = off), against what
-- PostgreSQL's own DOM parse of the envelope (xmlparse) and a plain SELECT
-- of the row cost.  Each variant makes :calls calls for one id (a
-- variable of its own, so that no array access or string building is
-- timed with the call); the variants run interleaved, :reps times, and the
-- medians are reported in microseconds a call, with the ratios that
-- matter.
-- Run from the top of the tree (it reads the envelope with \set and cat).
\set ON_ERROR_STOP on
\if :{?calls}
\else
\set calls 20000
\endif
\if :{?reps}
\else
\set reps 5
\endif
SET search_path = bench100k;
SET ontstatus.lookup_table = '';
\set envelope `cat bench/workbench_request.xml`
SELECT set_config('bench.envelope', :'envelope', false) \g /dev/null
SELECT set_config('bench.calls', :'calls', false) \g /dev/null
SELECT set_config('bench.reps', :'reps', false) \g /dev/null
CREATE TEMP TABLE micro (variant text, rep int, us numeric);

DO $$
DECLARE
  calls int := current_setting('bench.calls')::int;
  env text := current_setting('bench.envelope');
  n bigint := (SELECT count(*) FROM ont_process_status);
  id bigint := 1 + 7919 % n;
  envelope text := replace(env, 'PROCESS_ID', id::text);
  envelope_crlf text := replace(envelope, E'\n', E'\r\n');
  bare text := '<get_ont_process_status><process_id>' || id || '</process_id></get_ont_process_status>';
  variants text[] := ARRAY['envelope, fast path', 'envelope, libxml2',
                           'envelope CR LF, fast path', 'envelope CR LF, libxml2',
                           'bare, fast path', 'bare, libxml2', 'xmlparse(envelope)', 'SELECT by id'];
  t0 timestamptz;
  r text;
  x xml;
  rec record;
BEGIN
  -- each reader of each request answers with the row asked for
  FOREACH r IN ARRAY ARRAY['on', 'off'] LOOP
    PERFORM set_config('ontstatus.fast_path', r, true);
    IF (xpath('//ontology_process_status/process_id/text()',
              ontstatus.get_ont_process_status(envelope)))[1]::text IS DISTINCT FROM id::text
       OR (xpath('//ontology_process_status/process_id/text()',
                 ontstatus.get_ont_process_status(envelope_crlf)))[1]::text IS DISTINCT FROM id::text
       OR (xpath('//ontology_process_status/process_id/text()',
                 ontstatus.get_ont_process_status(bare)))[1]::text IS DISTINCT FROM id::text THEN
      RAISE EXCEPTION 'a request does not find its row (ontstatus.fast_path = %)', r;
    END IF;
  END LOOP;
  FOR rep IN 1 .. current_setting('bench.reps')::int LOOP
    FOREACH r IN ARRAY variants LOOP
      PERFORM set_config('ontstatus.fast_path', CASE WHEN r LIKE '%libxml2' THEN 'off' ELSE 'on' END, true);
      t0 := clock_timestamp();
      FOR i IN 1 .. calls LOOP
        CASE r
          WHEN 'envelope, fast path', 'envelope, libxml2' THEN
            x := ontstatus.get_ont_process_status(envelope);
          WHEN 'envelope CR LF, fast path', 'envelope CR LF, libxml2' THEN
            x := ontstatus.get_ont_process_status(envelope_crlf);
          WHEN 'bare, fast path', 'bare, libxml2' THEN
            x := ontstatus.get_ont_process_status(bare);
          WHEN 'xmlparse(envelope)' THEN
            x := xmlparse(document envelope);
          ELSE
            SELECT process_id, process_type_cd, process_step_cd, start_date, end_date,
                   process_status_cd, crc_upload_id, message
              INTO rec FROM ont_process_status WHERE process_id = id;
        END CASE;
      END LOOP;
      INSERT INTO micro VALUES (r, rep, extract(epoch FROM clock_timestamp() - t0) * 1e6 / calls);
    END LOOP;
  END LOOP;
END $$;

\echo
\echo == one call in the backend, by process_id (median of :reps runs of :calls calls, µs)
SELECT variant, round(percentile_cont(0.5) WITHIN GROUP (ORDER BY us)::numeric, 1) AS us_per_call,
       round(min(us), 1) AS best, round(max(us), 1) AS worst
FROM micro GROUP BY variant ORDER BY min(rep), variant;
WITH m AS (SELECT variant, (percentile_cont(0.5) WITHIN GROUP (ORDER BY us))::numeric AS us
           FROM micro GROUP BY variant)
SELECT round((SELECT us FROM m WHERE variant = 'envelope, fast path') /
             (SELECT us FROM m WHERE variant = 'bare, fast path'), 2) AS "envelope / bare (fast path)",
       round((SELECT us FROM m WHERE variant = 'envelope, libxml2') /
             (SELECT us FROM m WHERE variant = 'bare, libxml2'), 2) AS "envelope / bare (libxml2)",
       round((SELECT us FROM m WHERE variant = 'envelope, libxml2') /
             (SELECT us FROM m WHERE variant = 'envelope, fast path'), 2) AS "envelope: libxml2 / fast path",
       round((SELECT us FROM m WHERE variant = 'envelope CR LF, libxml2') /
             (SELECT us FROM m WHERE variant = 'envelope CR LF, fast path'), 2) AS "CR LF: libxml2 / fast path",
       round((SELECT us FROM m WHERE variant = 'envelope, fast path') /
             (SELECT us FROM m WHERE variant = 'SELECT by id'), 2) AS "envelope / SELECT";
