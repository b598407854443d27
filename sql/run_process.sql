--
-- run_process: what a job's steps can and cannot do to its own record.
-- The run writes only to the table it started in, whatever a step does to
-- search_path, ontstatus.schema, the names or pg_temp; settings a step
-- changes last for that step only; a step SPI cannot run is refused with
-- its own SQLSTATE; a trigger that drops an update is an error, never a
-- success; the row has an end_date from the start; memory stays flat.
--
CREATE SCHEMA rp;
CREATE SCHEMA rp_other;
SET search_path = rp;
\i test/fixtures/ont_process_status.sql
SET search_path = rp_other;
\i test/fixtures/ont_process_status.sql
RESET search_path;
CREATE TABLE rp.log (step int, what text, value text);

-- both schemas hand out the same ids, as two projects' tables do
SELECT setval('rp.ont_process_status_process_id_seq', 100),
       setval('rp_other.ont_process_status_process_id_seq', 100);
-- another project's running process, with the id the next run gets
INSERT INTO rp_other.ont_process_status
    (process_id, process_type_cd, process_step_cd, process_status_cd, start_date, status_cd, message)
VALUES (101, 'ONT_UPDATE_CRC_CONCEPT', 'PROCESSED 1/2', 'PROCESSING', '2020-01-01', 'U', 'theirs'),
       (102, 'ONT_UPDATE_CRC_CONCEPT', 'PROCESSED 1/2', 'PROCESSING', '2020-01-01', 'U', 'theirs'),
       (103, 'ONT_UPDATE_CRC_CONCEPT', 'PROCESSED 1/2', 'PROCESSING', '2020-01-01', 'U', 'theirs'),
       (104, 'ONT_UPDATE_CRC_CONCEPT', 'PROCESSED 1/2', 'PROCESSING', '2020-01-01', 'U', 'theirs');
CREATE VIEW rp.both_rows AS
SELECT 'rp' AS schema, process_id, process_step_cd, process_status_cd, message
FROM rp.ont_process_status WHERE process_id > 100
UNION ALL
SELECT 'rp_other', process_id, process_step_cd, process_status_cd, message
FROM rp_other.ont_process_status WHERE process_id > 100;

-- steps that point ontstatus.schema, search_path and pg_temp elsewhere,
-- and rename the schema under the run: the run's own row (101) ends
-- COMPLETED 3/3, the other project's 101 is untouched
SET ontstatus.schema = 'rp';
CALL ontstatus.run_process('ONT_UPDATE_CRC_CONCEPT', ARRAY[
  'SELECT set_config(''ontstatus.schema'', ''rp_other'', false)',
  'SET search_path = rp_other; ALTER SCHEMA rp RENAME TO rp_moved',
  'ALTER SCHEMA rp_moved RENAME TO rp'], NULL, NULL);
SELECT current_setting('ontstatus.schema') AS schema_after;
RESET ontstatus.schema;

-- a temporary ont_process_status holding the same id comes first on
-- search_path after step 1: the run still writes its own row (102)
SET search_path = rp;
CALL ontstatus.run_process('ONT_UPDATE_CRC_CONCEPT', ARRAY[
  'CREATE TEMP TABLE ont_process_status AS SELECT * FROM rp_other.ont_process_status',
  'SELECT 1'], NULL, NULL);
SELECT process_id, process_step_cd, process_status_cd FROM pg_temp.ont_process_status
WHERE process_id = 102;
DROP TABLE pg_temp.ont_process_status;
RESET search_path;
SELECT * FROM rp.both_rows ORDER BY process_id, schema;

-- Settings a step changes are the step's own: the next step and the
-- bookkeeping see the CALL's (a read-only default or another role would
-- otherwise break the run's record and leave it PROCESSING)
SET ontstatus.schema = 'rp';
CREATE ROLE rp_nobody;
CALL ontstatus.run_process('ONT_UPDATE_CRC_CONCEPT', ARRAY[
  'SET default_transaction_read_only = on; SET search_path = rp_other; SET LOCAL work_mem = ''7MB''',
  'INSERT INTO rp.log SELECT 2, ''settings'', concat_ws('' '', current_setting(''default_transaction_read_only''), current_setting(''search_path''), current_setting(''work_mem''))',
  'SET ROLE rp_nobody',
  'INSERT INTO rp.log SELECT 4, ''role'', current_user'], NULL, NULL);
SELECT step, what,
       value = CASE what
         WHEN 'settings' THEN concat_ws(' ', 'off', current_setting('search_path'), current_setting('work_mem'))
         WHEN 'role' THEN CAST(current_user AS text) END AS as_the_call_began
FROM rp.log ORDER BY step;
SELECT current_setting('default_transaction_read_only') AS read_only_after;
SELECT process_id, process_step_cd, process_status_cd FROM rp.ont_process_status WHERE process_id = 103;
DROP ROLE rp_nobody;

-- From the start the row has an end_date (the i2b2 Workbench reads it on
-- every row it lists), set by a first update as report_progress writes it
CALL ontstatus.run_process('ONT_UPDATE_CRC_CONCEPT', ARRAY[
  'INSERT INTO rp.log SELECT 1, ''start row'', concat_ws('' '', process_step_cd, process_status_cd, status_cd, end_date IS NOT NULL, end_date = change_date, entry_date = start_date) FROM rp.ont_process_status WHERE process_id = 104'], NULL, NULL);
SELECT value FROM rp.log WHERE what = 'start row';

-- COPY to or from the client is no step: 0A000, recorded as a failure
\set VERBOSITY default
CALL ontstatus.run_process('ONT_UPDATE_CRC_CONCEPT', ARRAY['SELECT 1', 'COPY rp.log TO STDOUT'], NULL, NULL);
CALL ontstatus.run_process('ONT_UPDATE_CRC_CONCEPT', ARRAY['COPY rp.log FROM STDIN'], NULL, NULL);
\set VERBOSITY terse
SELECT process_id, process_step_cd, process_status_cd, message
FROM rp.ont_process_status WHERE process_id IN (105, 106) ORDER BY 1;

-- A BEFORE UPDATE trigger that drops the update: an error naming the
-- table, never a success that wrote nothing
CREATE FUNCTION rp.drop_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RETURN NULL; END $$;
CREATE TRIGGER drop_update BEFORE UPDATE ON rp.ont_process_status
FOR EACH ROW WHEN (OLD.process_id = 1 OR NEW.message = 'drop me') EXECUTE FUNCTION rp.drop_update();
INSERT INTO rp.ont_process_status (process_id, process_type_cd, process_step_cd, process_status_cd)
VALUES (1, 'ONT_UPDATE_CRC_CONCEPT', 'ONT_BUILD_PDO', 'PROCESSING');
\set VERBOSITY default
SELECT ontstatus.report_progress(1, 1, 2);
SELECT ontstatus.finish_process(1, 'COMPLETED');
\set VERBOSITY terse
SELECT process_step_cd, process_status_cd FROM rp.ont_process_status WHERE process_id = 1;
-- run_process: the trigger drops the update that ends step 1, the step
-- fails, and so does its record: the CALL raises, the row is not COMPLETED
DROP TRIGGER drop_update ON rp.ont_process_status;
CREATE TRIGGER drop_update BEFORE UPDATE ON rp.ont_process_status
FOR EACH ROW WHEN (NEW.process_step_cd = 'PROCESSED 1/1' OR NEW.process_status_cd <> 'PROCESSING')
EXECUTE FUNCTION rp.drop_update();
CALL ontstatus.run_process('ONT_UPDATE_CRC_CONCEPT', ARRAY['SELECT 1'], NULL, NULL);
SELECT process_id, process_step_cd, process_status_cd FROM rp.ont_process_status WHERE process_id = 107;
DROP TRIGGER drop_update ON rp.ont_process_status;
RESET ontstatus.schema;

-- Memory: what each step's bookkeeping allocates is freed after it, so
-- the backend's private memory after 2,000 steps is that after 10 (it
-- grew by about 12 KB a step, 25 MB here).  /proc/self/status, read by
-- the backend itself, on every version.
CREATE TABLE rp.mem (step int, rss_kb bigint);
CREATE FUNCTION rp.mem_steps() RETURNS text[] LANGUAGE sql AS $$
  SELECT array_agg(CASE WHEN i IN (10, 2000)
     THEN format('INSERT INTO rp.mem SELECT %s, CAST((regexp_match(pg_read_file(''/proc/self/status''), ''RssAnon:\s+([0-9]+)''))[1] AS bigint)', i)
     ELSE 'SELECT 1' END ORDER BY i)
  FROM generate_series(1, 2000) AS i $$;
SET ontstatus.schema = 'rp';
CALL ontstatus.run_process('ONT_UPDATE_CRC_CONCEPT', rp.mem_steps(), NULL, NULL);
RESET ontstatus.schema;
SELECT count(*) AS samples,
       max(rss_kb) FILTER (WHERE step = 2000) - max(rss_kb) FILTER (WHERE step = 10) < 1024 AS within_1mb
FROM rp.mem;

-- submit_process: what it refuses before anything starts (its runs, in a
-- background worker, are test/t/006_submit_process.pl's); nothing is left
SET ontstatus.schema = 'rp';
SELECT count(*) AS rows_before FROM rp.ont_process_status \gset
SELECT ontstatus.submit_process(NULL, ARRAY['SELECT 1']);
SELECT ontstatus.submit_process('ONT_PATIENT_COUNT_UPDATE', NULL);
SELECT ontstatus.submit_process('ONT_PATIENT_COUNT_UPDATE', '{}');
SELECT ontstatus.submit_process('ONT_PATIENT_COUNT_UPDATE', ARRAY['SELECT 1', NULL]);
SELECT ontstatus.submit_process('ONT_PATIENT_COUNT_UPDATE', ARRAY[['SELECT 1'], ['SELECT 2']]);
SELECT ontstatus.submit_process('NOT_A_TYPE', ARRAY['SELECT 1']);
BEGIN READ ONLY;
SELECT ontstatus.submit_process('ONT_PATIENT_COUNT_UPDATE', ARRAY['SELECT 1']);
ROLLBACK;
-- from inside a security-restricted operation (an index expression, run
-- as the table's owner): refused, the job would escape its restrictions
CREATE FUNCTION rp.submit_in_index(int) RETURNS int LANGUAGE sql IMMUTABLE AS $$
  SELECT CAST(ontstatus.submit_process('ONT_PATIENT_COUNT_UPDATE', ARRAY['SELECT 1']) AS int) $$;
CREATE TABLE rp.indexed (x int);
INSERT INTO rp.indexed VALUES (1);
CREATE INDEX ON rp.indexed (rp.submit_in_index(x));
SELECT count(*) - :rows_before AS rows_left FROM rp.ont_process_status;
RESET ontstatus.schema;

DROP SCHEMA rp, rp_other CASCADE;
-- the session survived
SELECT 1 AS alive;
