-- make demo: a few i2b2 process rows, then one realistic request.
\set ON_ERROR_STOP on
\set QUIET on
CREATE EXTENSION ontstatus;
SET timezone = 'America/New_York';

-- the ONT cell's table in i2b2's metadata schema
CREATE SCHEMA i2b2metadata;
SET search_path = i2b2metadata, public;
\i test/fixtures/ont_process_status.sql
INSERT INTO i2b2metadata.ont_process_status
    (process_type_cd, start_date, end_date, process_step_cd, process_status_cd,
     crc_upload_id, status_cd, message)
VALUES
 ('ONT_UPDATE_CRC_CONCEPT', '2010-04-05 00:00', '2010-04-05 00:10', 'ONT_SENTTO_CRCLOADER', 'COMPLETED', 624, 'U', NULL),
 ('ONT_PATIENT_COUNT_UPDATE', now() - interval '2 hours', now() - interval '1 hour', 'ONT_PATIENT_COUNT_UPDATE', 'KILLED', NULL, 'U', 'PROCESSED 120/4000'),
 ('ONT_PATIENT_COUNT_UPDATE', now() - interval '1 hour', NULL, 'ONT_PATIENT_COUNT_UPDATE', 'PROCESSING', NULL, 'C', 'PROCESSED 2210/4000');

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
\echo '== and for DBAs: SELECT process_id, process_status_cd, message FROM ontstatus.find_process_status(process_status_cd => ''PROCESSING'')'
SELECT process_id, process_status_cd, message FROM ontstatus.find_process_status(process_status_cd => 'PROCESSING');
