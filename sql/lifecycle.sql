--
-- lifecycle: start_process, report_progress and finish_process, as the ONT
-- cell runs a process; each refusal; and what get_ont_process_status says
-- along the way.
--
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

-- a patient count update starts, reports progress, and finishes
SELECT ontstatus.start_process('ONT_PATIENT_COUNT_UPDATE', 'ONT_PATIENT_COUNT_UPDATE', 'PROCESSED 0/4000') AS p1;
SELECT process_id, process_type_cd, process_step_cd, process_status_cd, status_cd,
       start_date IS NOT NULL AND start_date = entry_date AS started_now, end_date,
       trim(changedby_char) = session_user AS changed_by_me, message
FROM life.ont_process_status;
SELECT pg_temp.seen(1);
SELECT ontstatus.report_progress(1, message => 'PROCESSED 2000/4000');
SELECT process_step_cd, message, status_cd, change_date IS NOT NULL AS changed FROM life.ont_process_status WHERE process_id = 1;
SELECT pg_temp.seen(1);
SELECT ontstatus.finish_process(1);
SELECT process_status_cd, end_date IS NOT NULL AS ended, message FROM life.ont_process_status WHERE process_id = 1;
SELECT pg_temp.seen(1);

-- a second start of a type aborts the running one; the worker, reporting,
-- reads ABORT (and nothing changes), then sets itself KILLED
SELECT ontstatus.start_process('ONT_PATIENT_COUNT_UPDATE', message => 'PROCESSED 0/4000') AS p2;
SELECT ontstatus.start_process('ONT_ADD_CONCEPT') AS p3;   -- another type: untouched
SELECT ontstatus.start_process('ONT_PATIENT_COUNT_UPDATE') AS p4;
SELECT process_id, process_type_cd, process_status_cd, end_date IS NOT NULL AS ended
FROM life.ont_process_status ORDER BY process_id;
SELECT pg_temp.seen(2);
SELECT ontstatus.report_progress(2, 'ONT_PATIENT_COUNT_UPDATE', 'PROCESSED 10/4000') AS worker_reads;
SELECT message FROM life.ont_process_status WHERE process_id = 2;
SELECT ontstatus.finish_process(2, 'KILLED');
SELECT pg_temp.seen(2);
SELECT ontstatus.finish_process(3, 'ERROR', 'could not reach the CRC');
SELECT ontstatus.report_progress(3) AS finished_reads;
SELECT process_id, process_status_cd, message FROM life.ont_process_status ORDER BY process_id;

-- refusals: nothing changes
\set VERBOSITY default
SELECT ontstatus.start_process('ONT_NOTHING');
SELECT ontstatus.start_process('ONT_ADD_CONCEPT', 'ONT_WRONG_STEP');
SELECT ontstatus.start_process(NULL);
SELECT ontstatus.report_progress(999);
SELECT ontstatus.report_progress(4, 'bad step');
SELECT ontstatus.finish_process(999);
SELECT ontstatus.finish_process(4, 'ABORT');
SELECT ontstatus.finish_process(4, 'PROCESSING');
SELECT ontstatus.finish_process(1);                 -- already final
SELECT ontstatus.start_process('ONT_PATIENT_COUNT_UPDATE');   -- aborts 4
SELECT ontstatus.finish_process(4, 'COMPLETED');    -- aborted: only KILLED
BEGIN READ ONLY;
SELECT ontstatus.start_process('ONT_ADD_CONCEPT');
ROLLBACK;
BEGIN READ ONLY;
SELECT ontstatus.report_progress(5);
ROLLBACK;
BEGIN READ ONLY;
SELECT ontstatus.finish_process(5);
ROLLBACK;
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT ontstatus.start_process('ONT_ADD_CONCEPT');
ROLLBACK;
SELECT process_id, process_status_cd FROM life.ont_process_status ORDER BY process_id;

-- a numeric process_id with a sequence default (older installs) works too
CREATE SCHEMA oldlife;
CREATE SEQUENCE oldlife.ont_sq_ps_prid START 100;
CREATE TABLE oldlife.ont_process_status (
    process_id numeric(5,0) DEFAULT nextval('oldlife.ont_sq_ps_prid') PRIMARY KEY,
    process_type_cd varchar(50), start_date date, end_date date, process_step_cd varchar(50),
    process_status_cd varchar(50), crc_upload_id numeric(38,0), status_cd varchar(50),
    message varchar(2000), entry_date date, change_date date, changedby_char char(50));
SET ontstatus.schema = 'oldlife';
SELECT ontstatus.start_process('ONT_UPDATE_CRC_CONCEPT') AS old_id;
SELECT ontstatus.finish_process(100);
SELECT process_id, process_status_cd, start_date = current_date AS today FROM oldlife.ont_process_status;

-- enable_notify / disable_notify: a trigger on the i2b2 table, only on request
SELECT ontstatus.enable_notify('life');
SELECT ontstatus.enable_notify('life');      -- again: still one trigger
SELECT tgrelid::regclass, tgname, tgenabled FROM pg_trigger WHERE tgname = 'ontstatus_notify';
-- the Java cell's own writes go through it (LISTEN is tested in test/t/002_notify.pl)
UPDATE life.ont_process_status SET message = 'PROCESSED 1/2' WHERE process_id = 5;
INSERT INTO life.ont_process_status (process_type_cd, process_status_cd) VALUES ('ONT_ADD_CONCEPT', 'PROCESSING');
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
