--
-- parallel: ontstatus refuses to run in a parallel query.  Its functions
-- are PARALLEL UNSAFE, but a user's function declared PARALLEL SAFE can
-- still call them in one, in a worker or in the leader, where neither the
-- table's time zone nor a subtransaction can be set and a worker may lack
-- the session's settings.  Before, such a call warned "cannot be set
-- during a parallel operation" and read another table (empty settings).
--
CREATE SCHEMA par;
CREATE TABLE par.ont_process_status (LIKE i2b2metadata.ont_process_status);
INSERT INTO par.ont_process_status (process_id, process_type_cd, process_status_cd)
VALUES (1, 'ONT_ADD_CONCEPT', 'COMPLETED');
CREATE TABLE par.t AS SELECT 1 AS x;
CREATE FUNCTION par.ids_xml() RETURNS text LANGUAGE sql PARALLEL SAFE AS $$
  SELECT CAST(xpath('//ontology_process_status/process_id/text()',
    ontstatus.get_ont_process_status('<ns4:get_ont_process_status xmlns:ns4="http://www.i2b2.org/xsd/cell/ont/1.1/"/>')) AS text)
$$;
CREATE FUNCTION par.ids_rows() RETURNS bigint[] LANGUAGE sql PARALLEL SAFE AS $$
  SELECT array_agg(process_id) FROM ontstatus.find_process_status()
$$;
CREATE FUNCTION par.running() RETURNS bigint LANGUAGE sql PARALLEL SAFE AS $$
  SELECT count(*) FROM ontstatus.running_processes()
$$;
CREATE FUNCTION par.submit() RETURNS bigint LANGUAGE sql PARALLEL SAFE AS $$
  SELECT ontstatus.submit_process('ONT_PATIENT_COUNT_UPDATE', ARRAY['SELECT 1'])
$$;
SET ontstatus.schema = 'par';
SET ontstatus.table_time_zone = 'Asia/Kolkata';
-- in the leader, all is well
SELECT par.ids_xml() AS leader_xml, par.ids_rows() AS leader_rows;
-- in a parallel query: a clean refusal, the same on every supported version
SET max_parallel_workers_per_gather = 2;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SELECT set_config(CASE WHEN current_setting('server_version_num')::int >= 160000
                       THEN 'debug_parallel_query' ELSE 'force_parallel_mode' END, 'regress', false) IS NOT NULL AS forced;
\set VERBOSITY terse
SELECT par.ids_xml() FROM par.t;
SELECT par.ids_rows() FROM par.t;
SELECT par.running() FROM par.t;
SELECT par.submit() FROM par.t;
-- a new session whose first call is in a parallel query: refused, and
-- the settings it made before the library was loaded are kept for later
\c -
SET ontstatus.schema = 'par';
SET max_parallel_workers_per_gather = 2;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SELECT set_config(CASE WHEN current_setting('server_version_num')::int >= 160000
                       THEN 'debug_parallel_query' ELSE 'force_parallel_mode' END, 'regress', false) IS NOT NULL AS forced;
SELECT par.ids_rows() FROM par.t;
SELECT set_config(CASE WHEN current_setting('server_version_num')::int >= 160000
                       THEN 'debug_parallel_query' ELSE 'force_parallel_mode' END, 'off', false) IS NOT NULL AS unforced;
SELECT par.ids_rows() AS rows_of_par, current_setting('ontstatus.schema') AS schema;
\set VERBOSITY default
RESET ontstatus.schema;
DROP SCHEMA par CASCADE;
-- the session survived
SELECT 1 AS alive;
