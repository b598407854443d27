--
-- lifecycle: start_process, report_progress, stop_processes and
-- finish_process write rows as the ONT cell does; each refusal; and what
-- get_ont_process_status says along the way.
--
-- a crash would end this session (every session): its temporary table
-- must still be there at the end
CREATE TEMP TABLE survivor AS SELECT pg_backend_pid() AS pid;
SET timezone = 'America/New_York';
SET datestyle = 'ISO, YMD';
CREATE SCHEMA life;
SET search_path = life;
\i test/fixtures/ont_process_status.sql
RESET search_path;
SET ontstatus.schema = 'life';

-- what a client polling with get_ont_process_status sees of a process
CREATE FUNCTION pg_temp.seen(id bigint) RETURNS text LANGUAGE sql AS $$
  SELECT string_agg(x.status || coalesce(' ' || x.step, '') || coalesce(' "' || x.message || '"', ''), '')
  FROM XMLTABLE('/*/message_body/*/ontology_process_status'
                PASSING ontstatus.get_ont_process_status(regress.req('<process_id>' || id || '</process_id>'))
                COLUMNS status text PATH 'process_status_cd', step text PATH 'process_step_cd',
                        message text PATH 'message') AS x
$$;

-- a row, its times shown as what the cell guarantees of them
CREATE FUNCTION pg_temp.row(id bigint) RETURNS TABLE (
  process_type_cd text, process_step_cd text, process_status_cd text, status_cd text,
  message text, changedby text, started boolean, entry_is_start boolean, ended boolean,
  end_is_change boolean)
LANGUAGE sql AS $$
  SELECT process_type_cd, process_step_cd, process_status_cd, status_cd, message,
         CASE WHEN trim(changedby_char) = session_user THEN '(session user)'
              ELSE trim(changedby_char) END, start_date IS NOT NULL, entry_date = start_date,
         end_date IS NOT NULL, end_date = change_date
  FROM life.ont_process_status WHERE process_id = id
$$;

-- A patient count: the type's first step, message '', the i2b2 user,
-- status_cd C, no end_date
SELECT ontstatus.start_process('ONT_PATIENT_COUNT_UPDATE', changed_by => 'demo') AS p1;
SELECT * FROM pg_temp.row(1);
-- progress as the cell writes it: the step, with end_date and change_date
SELECT ontstatus.report_progress(1, 0, 4000);
SELECT * FROM pg_temp.row(1);
SELECT ontstatus.report_progress(1, 2000, 4000);
SELECT pg_temp.seen(1);
SELECT ontstatus.finish_process(1, process_step_cd => 'PROCESSED 4000/4000');
SELECT * FROM pg_temp.row(1);
SELECT pg_temp.seen(1);

-- The default changed_by is the session user; a NULL message is '' too
SELECT ontstatus.start_process('ONT_UPDATE_CRC_CONCEPT', message => NULL) AS p2;
SELECT trim(changedby_char) = session_user AS session_user, message, process_step_cd
FROM life.ont_process_status WHERE process_id = 2;

-- A CRC sync runs through the cell's steps and ends with the loader's
SELECT ontstatus.report_progress(2, 'ONT_BUILD_PDO');
SELECT ontstatus.report_progress(2, 'ONT_SENTTO_FRC', 'upload 624');
SELECT * FROM pg_temp.row(2);
SELECT ontstatus.finish_process(2, 'COMPLETED', process_step_cd => 'ONT_SENTTO_CRCLOADER');
SELECT pg_temp.seen(2);

-- CRC syncs never abort one another: two of them run side by side
SELECT ontstatus.start_process('ONT_SYNCALL_CRC_CONCEPT') AS p3;
SELECT ontstatus.start_process('ONT_SYNCALL_CRC_CONCEPT') AS p4;
SELECT ontstatus.start_process('ONT_UPDATE_CRC_CONCEPT') AS p5;
SELECT process_id, process_type_cd, process_step_cd, process_status_cd
FROM life.ont_process_status WHERE process_id IN (3, 4, 5) ORDER BY 1;

-- A second patient count aborts the running one, exactly as the cell does
-- (status ABORT, step ONT_PATIENT_COUNT_UPDATE, end_date, status_cd U), and
-- nothing of any other type
SELECT ontstatus.start_process('ONT_PATIENT_COUNT_UPDATE') AS p6;
SELECT ontstatus.report_progress(6, 10, 4000);
SELECT ontstatus.start_process('ONT_PATIENT_COUNT_UPDATE') AS p7;
SELECT process_id, process_type_cd, process_step_cd, process_status_cd, status_cd,
       end_date IS NOT NULL AS ended
FROM life.ont_process_status WHERE process_status_cd IN ('PROCESSING', 'ABORT') ORDER BY 1;
-- the worker, reporting, reads ABORT and nothing changes; it ends KILLED
-- with its last count, as the cell's worker does
SELECT ontstatus.report_progress(6, 20, 4000) AS worker_reads;
SELECT process_step_cd FROM life.ont_process_status WHERE process_id = 6;
SELECT ontstatus.finish_process(6, 'KILLED', process_step_cd => 'PROCESSED 10/4000');
SELECT * FROM pg_temp.row(6);

-- ABORT is recognised in any case (the cell compares with equalsIgnoreCase)
UPDATE life.ont_process_status SET process_status_cd = 'Abort' WHERE process_id = 7;
SELECT ontstatus.report_progress(7, 1, 2) AS mixed_case_abort;
SELECT ontstatus.report_progress(7) AS mixed_case_abort;
\set VERBOSITY default
SELECT ontstatus.finish_process(7, 'COMPLETED');
SELECT ontstatus.finish_process(7, 'KILLED');
SELECT process_status_cd FROM life.ont_process_status WHERE process_id = 7;

-- stop_processes: the cell's operation_type="stop" aborts without starting
SELECT ontstatus.start_process('ONT_PATIENT_COUNT_UPDATE') AS p8;
SELECT * FROM ontstatus.stop_processes();
SELECT * FROM ontstatus.stop_processes();            -- nothing left running
SELECT * FROM pg_temp.row(8);
SELECT count(*) AS processing FROM life.ont_process_status
WHERE process_type_cd = 'ONT_PATIENT_COUNT_UPDATE' AND process_status_cd = 'PROCESSING';
-- for a CRC type the step becomes that type's first one
SELECT array_agg(s ORDER BY s) AS stopped FROM ontstatus.stop_processes('ONT_SYNCALL_CRC_CONCEPT') AS s;
SELECT process_id, process_step_cd, process_status_cd FROM life.ont_process_status
WHERE process_id IN (3, 4, 5) ORDER BY 1;
SELECT * FROM ontstatus.stop_processes('ONT_ADD_CONCEPT');
SELECT * FROM ontstatus.stop_processes('ONT_NOTHING');
SELECT * FROM ontstatus.stop_processes(NULL);

-- Every step the cell writes is accepted; anything else is refused
SELECT s AS step, ontstatus.report_progress(5, s) AS status
FROM unnest(ARRAY['ONT_BUILD_PDO_START', 'ONT_BUILD_PDO', 'ONT_SENTTO_FRC', 'ONT_SENTTO_CRCLOADER',
                  'ONT_PATIENT_COUNT_UPDATE', 'ERROR', 'PROCESSED 0/1', 'PROCESSED 120/4000',
                  'PROCESSED 2147483647/2147483647']) AS s;
-- a progress is 0 <= done <= total, 0 < total, at most 10 digits each: the
-- one definition running_processes reads by too
CREATE FUNCTION pg_temp.try_step(s text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  RETURN ontstatus.report_progress(5, s);
EXCEPTION WHEN invalid_parameter_value THEN
  RETURN 'refused ' || SQLSTATE;
END $$;
SELECT s AS step, pg_temp.try_step(s) AS status
FROM unnest(ARRAY['PROCESSED 0/0', 'PROCESSED 5/0', 'PROCESSED 7/3',
                  'PROCESSED 0000000000007/9', 'PROCESSED 7/00000000009',
                  'PROCESSED 1/2147483648', 'PROCESSED ١٢/٣٤']) AS s;
SELECT ontstatus.report_progress(5, 'PROCESSED 0000000007/0000000009');
SELECT ontstatus.report_progress(5, 0, 0);
SELECT ontstatus.report_progress(5, 7, 3);
SELECT ontstatus.report_progress(5, 'PROCESSED 2147483647/2147483647');
SELECT ontstatus.report_progress(5, 'PROCESSED 2147483648/1');
SELECT ontstatus.report_progress(5, 'PROCESSED -1/5');
SELECT ontstatus.report_progress(5, 'PROCESSED 1/5 ');
SELECT ontstatus.report_progress(5, 'PROCESSED  1/5');
SELECT ontstatus.report_progress(5, 'PROCESSED 1/');
SELECT ontstatus.report_progress(5, 'PROCESSED 1/2/3');
SELECT ontstatus.report_progress(5, 'processed 1/2');
SELECT ontstatus.report_progress(5, 'bad step');
SELECT ontstatus.report_progress(5, -1, 10);
SELECT ontstatus.report_progress(5, 1, -10);
SELECT ontstatus.report_progress(5, NULL, 10);
SELECT ontstatus.report_progress(5, 1, NULL);
SELECT process_step_cd FROM life.ont_process_status WHERE process_id = 5;

-- Neither step nor message: only the times move
SELECT change_date AS before FROM life.ont_process_status WHERE process_id = 5 \gset
SELECT pg_sleep(0.01);
SELECT ontstatus.report_progress(5);
SELECT process_step_cd, message, change_date > :'before' AS later, end_date = change_date AS end_is_change
FROM life.ont_process_status WHERE process_id = 5;

-- Times are those of the write, not of the transaction, to the millisecond
-- like java.util.Date: a job written as one function shows time passing
BEGIN;
SELECT pg_sleep(0.01);
SELECT ontstatus.start_process('ONT_UPDATE_CRC_CONCEPT') AS p9;
SELECT pg_sleep(0.01);
SELECT ontstatus.report_progress(9, 'ONT_BUILD_PDO');
SELECT start_date > now()::timestamp AS after_transaction_start,
       change_date > start_date AS time_passed,
       start_date <= clock_timestamp()::timestamp AS not_in_the_future,
       extract(microseconds FROM start_date)::int % 1000 = 0
       AND extract(microseconds FROM change_date)::int % 1000 = 0 AS milliseconds
FROM life.ont_process_status WHERE process_id = 9;
COMMIT;

-- Refusals: nothing changes
SELECT count(*) AS rows_before, max(process_id) AS last_id FROM life.ont_process_status;
SELECT ontstatus.start_process('ONT_NOTHING');
SELECT ontstatus.start_process('ONT_ADD_CONCEPT');
SELECT ontstatus.start_process('ONT_EDIT_CONCEPT');
SELECT ontstatus.start_process('ONT_DELETE_CONCEPT');
SELECT ontstatus.start_process('ONT_UPDATE_CRC_CONCEPT', 'ONT_WRONG_STEP');
SELECT ontstatus.start_process(NULL);
SELECT ontstatus.start_process('ONT_UPDATE_CRC_CONCEPT', changed_by => repeat('x', 51));
SELECT ontstatus.report_progress(999);
SELECT ontstatus.report_progress(999, 1, 2);
SELECT ontstatus.report_progress(NULL, 1, 2);
SELECT ontstatus.finish_process(999);
SELECT ontstatus.finish_process(9, 'ABORT');
SELECT ontstatus.finish_process(9, 'PROCESSING');
SELECT ontstatus.finish_process(9, NULL);
SELECT ontstatus.finish_process(9, process_step_cd => 'DONE');
SELECT ontstatus.finish_process(1);                 -- already final
BEGIN READ ONLY;
SELECT ontstatus.start_process('ONT_UPDATE_CRC_CONCEPT');
ROLLBACK;
BEGIN READ ONLY;
SELECT ontstatus.report_progress(9, 1, 2);
ROLLBACK;
BEGIN READ ONLY;
SELECT ontstatus.stop_processes();
ROLLBACK;
BEGIN READ ONLY;
SELECT ontstatus.finish_process(9);
ROLLBACK;
-- a patient count cannot see a concurrent start from a REPEATABLE READ
-- snapshot; a CRC sync, which aborts nothing, can start there
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT ontstatus.start_process('ONT_PATIENT_COUNT_UPDATE');
ROLLBACK;
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT ontstatus.stop_processes();
ROLLBACK;
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT ontstatus.start_process('ONT_UPDATE_CRC_CONCEPT') > 0 AS started;
ROLLBACK;
SELECT count(*) AS rows_after, max(process_id) AS last_id FROM life.ont_process_status;
SELECT process_status_cd, process_step_cd FROM life.ont_process_status WHERE process_id = 9;

-- An older install: numeric process_id with a sequence default, date
-- columns, varchar(2000) message - a message too long is cut to fit,
-- never refused, so a job can always record how it ended
CREATE SCHEMA oldlife;
CREATE SEQUENCE oldlife.ont_sq_ps_prid START 100;
CREATE TABLE oldlife.ont_process_status (
    process_id numeric(5,0) DEFAULT nextval('oldlife.ont_sq_ps_prid') PRIMARY KEY,
    process_type_cd varchar(50), start_date date, end_date date, process_step_cd varchar(50),
    process_status_cd varchar(50), crc_upload_id numeric(38,0), status_cd varchar(50),
    message varchar(2000), entry_date date, change_date date, changedby_char char(50));
SET ontstatus.schema = 'oldlife';
SELECT ontstatus.start_process('ONT_UPDATE_CRC_CONCEPT', message => repeat('é', 2001)) AS old_id;
SELECT length(message) AS message_length FROM oldlife.ont_process_status WHERE process_id = 100;
SELECT ontstatus.report_progress(100, 'ONT_BUILD_PDO', repeat('ü', 2500));
SELECT length(message) AS message_length, message = repeat('ü', 2000) AS prefix
FROM oldlife.ont_process_status WHERE process_id = 100;
SELECT ontstatus.finish_process(100, 'ERROR', 'java.lang.Exception: ' || repeat('at x.y(z.java:1) ', 200), 'ERROR');
SELECT process_id, process_status_cd, process_step_cd, length(message) AS message_length,
       start_date = current_date AS today, end_date = current_date AS ended_today
FROM oldlife.ont_process_status;

-- A table whose process_id has no default, or whose trigger drops the row:
-- a clean error, and nothing left behind
CREATE SCHEMA noid;
CREATE TABLE noid.ont_process_status (LIKE oldlife.ont_process_status);
ALTER TABLE noid.ont_process_status ALTER process_id DROP NOT NULL;
SET ontstatus.schema = 'noid';
SELECT ontstatus.start_process('ONT_UPDATE_CRC_CONCEPT');
SELECT count(*) AS rows FROM noid.ont_process_status;
ALTER TABLE noid.ont_process_status ALTER process_id SET DEFAULT 1;
CREATE FUNCTION noid.drop_row() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$;
CREATE TRIGGER drop_row BEFORE INSERT ON noid.ont_process_status
  FOR EACH ROW EXECUTE FUNCTION noid.drop_row();
SELECT ontstatus.start_process('ONT_UPDATE_CRC_CONCEPT');
SELECT count(*) AS rows FROM noid.ont_process_status;
SET ontstatus.schema = 'oldlife';
DROP SCHEMA noid CASCADE;

-- enable_notify / disable_notify: a trigger on the i2b2 table, only on request
SELECT ontstatus.enable_notify('life');
SELECT ontstatus.enable_notify('life');      -- again: still one trigger
SELECT tgrelid::regclass, tgname, tgenabled FROM pg_trigger WHERE tgname = 'ontstatus_notify';
-- the Java cell's own writes go through it (LISTEN is tested in test/t/002_notify.pl)
UPDATE life.ont_process_status SET process_step_cd = 'PROCESSED 1/2' WHERE process_id = 5;
INSERT INTO life.ont_process_status (process_type_cd, process_status_cd) VALUES ('ONT_ADD_CONCEPT', 'COMPLETED');
SELECT ontstatus.disable_notify('life');
SELECT ontstatus.disable_notify('life');     -- already gone: fine
SELECT count(*) AS triggers_left FROM pg_trigger WHERE tgname = 'ontstatus_notify';
SELECT ontstatus.enable_notify();            -- where find_process_status finds it (oldlife)
SELECT tgrelid::regclass FROM pg_trigger WHERE tgname = 'ontstatus_notify';
SELECT ontstatus.disable_notify();
SELECT ontstatus.enable_notify('no_such_schema');
BEGIN READ ONLY;
SELECT ontstatus.enable_notify('life');
ROLLBACK;

RESET ontstatus.schema;
DROP SCHEMA life, oldlife CASCADE;

-- the session survived
SELECT pid = pg_backend_pid() AS same_session FROM survivor;
