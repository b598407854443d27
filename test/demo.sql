-- make demo: a few i2b2 process rows, one realistic request, then a SQL job
-- driving a patient count through the lifecycle functions.
\set ON_ERROR_STOP on
\set QUIET on
CREATE EXTENSION ontstatus;
SET timezone = 'America/New_York';

-- the ONT cell's table in i2b2's metadata schema
CREATE SCHEMA i2b2metadata;
SET search_path = i2b2metadata, public;
\i test/fixtures/ont_process_status.sql
-- rows as the cell writes them: progress in process_step_cd, message '' from
-- the insert, end_date and change_date set by every update (even while
-- PROCESSING), the i2b2 user in changedby_char
INSERT INTO i2b2metadata.ont_process_status
    (process_type_cd, start_date, end_date, process_step_cd, process_status_cd,
     crc_upload_id, status_cd, message, entry_date, change_date, changedby_char)
VALUES
 ('ONT_UPDATE_CRC_CONCEPT', '2010-04-05 00:00', '2010-04-05 00:10', 'ONT_SENTTO_CRCLOADER', 'COMPLETED', 624, 'U', '',
  '2010-04-05 00:00', '2010-04-05 00:10', 'demo'),
 ('ONT_PATIENT_COUNT_UPDATE', now() - interval '2 hours', now() - interval '1 hour', 'PROCESSED 120/4000', 'KILLED', NULL, 'U', '',
  now() - interval '2 hours', now() - interval '1 hour', 'demo'),
 ('ONT_PATIENT_COUNT_UPDATE', now() - interval '1 hour', now() - interval '1 minute', 'PROCESSED 2210/4000', 'PROCESSING', NULL, 'U', '',
  now() - interval '1 hour', now() - interval '1 minute', 'demo');

-- (the cell's database role has search_path = i2b2metadata; so does this
-- session)

\echo
\echo '== request: the patient count updates (as the i2b2 web client sends it)'
\set request '<ns6:request xmlns:ns4="http://www.i2b2.org/xsd/cell/ont/1.1/" xmlns:ns6="http://www.i2b2.org/xsd/hive/msg/1.1/"><message_header><sending_application><application_name>i2b2 Ontology</application_name><application_version>1.7</application_version></sending_application><sending_facility><facility_name>i2b2 Hive</facility_name></sending_facility><security><domain>i2b2demo</domain><username>demo</username><password>demouser</password></security><message_control_id><session_id>GCHTJ4Vc3KmqKwO5Cosf</session_id><message_num>dW9J8w1gLFqnR5Fuz5ov</message_num></message_control_id><project_id>Demo</project_id></message_header><message_body><ns4:get_ont_process_status max_return_records="100"><process_id/><process_type_cd>ONT_PATIENT_COUNT_UPDATE</process_type_cd></ns4:get_ont_process_status></message_body></ns6:request>'
\echo :request
\echo
\echo '== SELECT ontstatus.get_ont_process_status(:request)'
\pset format unaligned
\pset tuples_only on
SELECT ontstatus.get_ont_process_status(:'request');
\pset format aligned
\pset tuples_only off
\echo
\echo '== the same rows: SELECT * FROM ontstatus.process_status(:request)'
SELECT * FROM ontstatus.process_status(:'request');
\echo '== and for DBAs: SELECT process_id, process_status_cd, process_step_cd FROM ontstatus.find_process_status(process_status_cd => ''PROCESSING'')'
SELECT process_id, process_status_cd, process_step_cd FROM ontstatus.find_process_status(process_status_cd => 'PROCESSING');

\echo
\echo '== a SQL job starts a patient count as the cell does; the running one (3) is set to ABORT:'
\echo '== SELECT ontstatus.start_process(''ONT_PATIENT_COUNT_UPDATE'', changed_by => ''demo'')'
SELECT ontstatus.start_process('ONT_PATIENT_COUNT_UPDATE', changed_by => 'demo') AS process_id \gset
\echo started process :process_id
\echo
\echo '== it reports its progress (PROCESSED 10/4000 in process_step_cd): SELECT ontstatus.report_progress(':process_id', 10, 4000)'
SELECT ontstatus.report_progress(:process_id, 10, 4000);
\echo '== SELECT process_id, process_status_cd, process_step_cd FROM ontstatus.running_processes()'
SELECT process_id, process_status_cd, process_step_cd FROM ontstatus.running_processes();
\echo '== the old worker''s next report is answered ABORT: SELECT ontstatus.report_progress(3, 2220, 4000)'
SELECT ontstatus.report_progress(3, 2220, 4000);
\echo '== so it stops: SELECT ontstatus.finish_process(3, ''KILLED'', process_step_cd => ''PROCESSED 2220/4000'')'
SELECT ontstatus.finish_process(3, 'KILLED', process_step_cd => 'PROCESSED 2220/4000') \gset
\echo '== SELECT process_id, process_step_cd, process_status_cd FROM ontstatus.find_process_status(process_type_cd => ''ONT_PATIENT_COUNT_UPDATE'')'
SELECT process_id, process_step_cd, process_status_cd FROM ontstatus.find_process_status(process_type_cd => 'ONT_PATIENT_COUNT_UPDATE');

\echo
\echo '== and what is wrong with this set-up, and how to fix it: SELECT area, status, detail, hint FROM ontstatus.check_setup()'
\pset format wrapped
\pset columns 160
SELECT area, status, detail, hint FROM ontstatus.check_setup();
