-- make bench: three tables of synthetic ONT process history, 10k, 100k and
-- 1M rows, in schemas bench10k, bench100k, bench1m, with the official DDL
-- and the index README recommends for type/status filters.  Beside each
-- table, the requests the benchmark sends (table request: the i2b2
-- Workbench's envelope, bench/workbench_request.xml, as stored text, read by
-- the benchmark's query, for 1000 process ids spread over the table, for the
-- type + status filter and for 1000 rows) and ontstatus' response to each
-- precomputed, stored uncompressed out of line as text and as xml (table
-- precomputed: the transfer limit, what sending the same bytes costs without
-- computing them; xml's output function copies the value twice more than
-- text's).
-- Run from the top of the tree (it reads the envelope with \set and cat).
\set ON_ERROR_STOP on
\set envelope `cat bench/workbench_request.xml`
SELECT set_config('bench.envelope', :'envelope', false) \g /dev/null
CREATE EXTENSION IF NOT EXISTS ontstatus;
\i bench/builtin.sql

CREATE FUNCTION pg_temp.fill(schema text, n int) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('CREATE SCHEMA %I', schema);
  PERFORM set_config('search_path', schema, true);
  EXECUTE pg_read_file(current_setting('bench.fixture'));
  -- 6 types; ONT_EDIT_CONCEPT + ERROR is 0.1% of rows (100 in 100k)
  EXECUTE format($q$
    INSERT INTO %I.ont_process_status
      (process_id, process_type_cd, start_date, end_date, process_step_cd, process_status_cd,
       crc_upload_id, status_cd, message, entry_date, change_date)
    SELECT i,
           CASE WHEN i %% 50 = 0 THEN 'ONT_EDIT_CONCEPT'
                ELSE (ARRAY['ONT_UPDATE_CRC_CONCEPT', 'ONT_SYNCALL_CRC_CONCEPT', 'ONT_ADD_CONCEPT',
                            'ONT_DELETE_CONCEPT', 'ONT_PATIENT_COUNT_UPDATE'])[1 + i %% 5] END,
           timestamp '2015-01-01' + i * interval '5 minutes',
           CASE WHEN i %% 17 = 0 THEN NULL
                ELSE timestamp '2015-01-01' + i * interval '5 minutes' + (i %% 120) * interval '1 minute' END,
           (ARRAY['ONT_BUILD_PDO_START', 'ONT_SENTTO_FRC', 'ONT_SENTTO_CRCLOADER', 'ONT_PATIENT_COUNT_UPDATE'])[1 + i %% 4],
           CASE WHEN i %% 1000 = 0 THEN 'ERROR'
                WHEN i %% 50 = 0 THEN 'COMPLETED'
                ELSE (ARRAY['COMPLETED', 'COMPLETED', 'COMPLETED', 'KILLED', 'ERROR', 'PROCESSING'])[1 + i %% 6] END,
           CASE WHEN i %% 3 = 0 THEN NULL ELSE i %% 10000 END,
           'U', 'PROCESSED ' || (i %% 4000) || '/4000 <ok>',
           timestamp '2015-01-01' + i * interval '5 minutes', NULL
    FROM generate_series(1, %s) AS i$q$, schema, n);
  -- the index README recommends
  EXECUTE format('CREATE INDEX ON %I.ont_process_status (process_type_cd, process_status_cd, process_id)', schema);
  EXECUTE format('ANALYZE %I.ont_process_status', schema);

  -- the requests: the envelope with its body's process_id, or its body
  -- replaced by another get_ont_process_status
  EXECUTE format('CREATE TABLE %I.request (shape text, k int, body text, PRIMARY KEY (shape, k))', schema);
  EXECUTE format($q$
    INSERT INTO %I.request
    SELECT 'by_id', k, replace(current_setting('bench.envelope'), 'PROCESS_ID', (1 + k * 7919 %% %s)::text)
    FROM generate_series(1, 1000) AS k
    UNION ALL
    SELECT shape, 1, regexp_replace(current_setting('bench.envelope'),
             '<ns4:get_ont_process_status .*</ns4:get_ont_process_status>', body)
    FROM (VALUES ('type_status', '<ns4:get_ont_process_status max_return_records="1000"><process_type_cd>ONT_EDIT_CONCEPT</process_type_cd><process_status_cd>ERROR</process_status_cd></ns4:get_ont_process_status>'),
                 ('rows_1000', '<ns4:get_ont_process_status max_return_records="1000"/>')) AS v(shape, body)$q$,
    schema, n);
  EXECUTE format('CREATE TABLE %I.precomputed (shape text PRIMARY KEY, body text, body_xml xml)', schema);
  EXECUTE format('ALTER TABLE %I.precomputed ALTER body SET STORAGE EXTERNAL, ALTER body_xml SET STORAGE EXTERNAL', schema);
  EXECUTE format($q$
    INSERT INTO %I.precomputed
    SELECT shape, x::text, x FROM (SELECT shape, ontstatus.get_ont_process_status(body) AS x
                                    FROM %I.request WHERE k = 1) s$q$,
    schema, schema);
  EXECUTE format('ANALYZE %I.request, %I.precomputed', schema, schema);
END $$;

SELECT pg_temp.fill('bench10k', 10000);
SELECT pg_temp.fill('bench100k', 100000);
SELECT pg_temp.fill('bench1m', 1000000);
