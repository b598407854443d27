-- make bench: three tables of synthetic ONT process history, 10k, 100k and
-- 1M rows, in schemas bench10k, bench100k, bench1m, with the official DDL
-- and the index README recommends for type/status filters.
\set ON_ERROR_STOP on
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
END $$;

SELECT pg_temp.fill('bench10k', 10000);
SELECT pg_temp.fill('bench100k', 100000);
SELECT pg_temp.fill('bench1m', 1000000);
