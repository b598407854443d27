--
-- reports: process_summary and running_processes, for DBAs.
--
SET timezone = 'America/New_York';
SET datestyle = 'ISO, YMD';
SET intervalstyle = 'postgres';
CREATE SCHEMA rep;
SET search_path = rep;
\i test/fixtures/ont_process_status.sql
RESET search_path;
INSERT INTO rep.ont_process_status
  (process_id, process_type_cd, start_date, end_date, process_step_cd, process_status_cd,
   message, entry_date, change_date)
VALUES
  (1, 'ONT_UPDATE_CRC_CONCEPT', '2024-01-01 10:00', '2024-01-01 10:10', 'ONT_SENTTO_CRCLOADER', 'COMPLETED', 'done', NULL, NULL),
  (2, 'ONT_UPDATE_CRC_CONCEPT', '2024-01-02 10:00', '2024-01-02 10:30', 'ONT_SENTTO_CRCLOADER', 'COMPLETED', 'done', NULL, NULL),
  (3, 'ONT_UPDATE_CRC_CONCEPT', '2024-01-03 10:00', NULL, 'ONT_SENTTO_FRC', 'ERROR', 'failed', NULL, NULL),
  (4, 'ONT_PATIENT_COUNT_UPDATE', '2023-12-31 08:00', '2023-12-31 09:00', 'ONT_PATIENT_COUNT_UPDATE', 'KILLED', 'PROCESSED 10/4000', NULL, NULL),
  -- running, as the cell writes it: progress in the step, end_date set by
  -- every update; stuck; a 1.0-style SQL job with progress in the message;
  -- no progress at all; an odd message
  (5, 'ONT_PATIENT_COUNT_UPDATE', (now() - interval '3 hours')::timestamp, (now() - interval '5 minutes')::timestamp,
      'PROCESSED 120/4000', 'PROCESSING',
      '', (now() - interval '3 hours')::timestamp, (now() - interval '5 minutes')::timestamp),
  (6, 'ONT_SYNCALL_CRC_CONCEPT', (now() - interval '5 hours')::timestamp, (now() - interval '2 hours')::timestamp,
      'ONT_SENTTO_FRC', 'PROCESSING',
      'PROCESSED 3/4', (now() - interval '5 hours')::timestamp, (now() - interval '2 hours')::timestamp),
  (7, 'ONT_ADD_CONCEPT', (now() - interval '10 minutes')::timestamp, NULL, NULL, 'PROCESSING',
      NULL, NULL, NULL),
  (8, 'ONT_EDIT_CONCEPT', (now() - interval '2 days')::timestamp, NULL, NULL, 'PROCESSING',
      'PROCESSED 5/0 and more', NULL, NULL),
  -- aborted, and the worker never noticed (it died): listed for ever, in
  -- any case; and one the worker ended
  (9, 'ONT_PATIENT_COUNT_UPDATE', (now() - interval '26 hours')::timestamp, (now() - interval '25 hours')::timestamp,
      'ONT_PATIENT_COUNT_UPDATE', 'ABORT',
      '', (now() - interval '26 hours')::timestamp, (now() - interval '25 hours')::timestamp),
  (10, 'ONT_PATIENT_COUNT_UPDATE', (now() - interval '30 hours')::timestamp, (now() - interval '29 hours')::timestamp,
      'PROCESSED 7/4000', 'abort',
      '', (now() - interval '30 hours')::timestamp, (now() - interval '29 hours')::timestamp),
  (11, 'ONT_PATIENT_COUNT_UPDATE', (now() - interval '40 hours')::timestamp, (now() - interval '39 hours')::timestamp,
      'PROCESSED 9/4000', 'KILLED',
      '', (now() - interval '40 hours')::timestamp, (now() - interval '39 hours')::timestamp);
SET ontstatus.schema = 'rep';

-- everything, then only what started from 2024 on (the running rows started
-- now, so they count too).  Durations are those of finished processes only:
-- a running or aborted row has an end_date too, which is no end.
SELECT * FROM ontstatus.process_summary() WHERE process_status_cd IN ('COMPLETED', 'ERROR');
SELECT process_type_cd, process_status_cd, processes FROM ontstatus.process_summary(since => '2024-01-02');
SELECT process_type_cd, process_status_cd, processes, last_ended IS NOT NULL AS has_end,
       avg_duration, max_duration, avg_duration IS NOT NULL AS timed
FROM ontstatus.process_summary()
WHERE process_status_cd NOT IN ('COMPLETED', 'ERROR') ORDER BY process_type_cd, process_status_cd;

-- the running processes: PROCESSING and ABORT rows, progress from the step
-- (or a message of that form), stuck after the default hour and after 4 hours
SELECT process_id, process_type_cd, process_status_cd, process_step_cd,
       running_for BETWEEN interval '3 hours' AND interval '3 hours 1 minute' AS about_3h,
       progress_done, progress_total, progress_percent, stuck
FROM ontstatus.running_processes() ORDER BY process_id;
SELECT process_id, stuck FROM ontstatus.running_processes(stuck_after => '4 hours') ORDER BY process_id;
-- last_change is the latest of change_date, entry_date and start_date
SELECT r.process_id, r.last_change = greatest(s.change_date, s.entry_date, s.start_date) AS latest
FROM ontstatus.running_processes() r JOIN rep.ont_process_status s USING (process_id)
ORDER BY 1;

-- One row's text never breaks the report, and progress is read by the
-- definition report_progress writes by: ASCII digits only (a \d under an
-- ICU collation matched Arabic-Indic digits, and the cast to bigint then
-- failed the report for everyone), 0 <= done <= total, 0 < total, at most
-- 10 digits; the step first, else the first valid "PROCESSED n / m" in the
-- message.  Where the server has ICU the columns take an ICU collation.
SELECT EXISTS (SELECT FROM pg_collation WHERE collname = 'und-x-icu') AS have_icu \gset
\if :have_icu
ALTER TABLE rep.ont_process_status ALTER COLUMN message TYPE text COLLATE "und-x-icu";
ALTER TABLE rep.ont_process_status ALTER COLUMN process_step_cd TYPE varchar(50) COLLATE "und-x-icu";
\endif
INSERT INTO rep.ont_process_status
  (process_id, process_type_cd, start_date, process_step_cd, process_status_cd, message)
VALUES
  (20, 'ONT_PATIENT_COUNT_UPDATE', now(), 'PROCESSED ١٢/٣٤', 'PROCESSING', 'PROCESSED ١٢/٣٤'),
  (21, 'ONT_PATIENT_COUNT_UPDATE', now(), 'PROCESSED 0000000000007/9', 'PROCESSING', 'PROCESSED 7 / 9'),
  (22, 'ONT_PATIENT_COUNT_UPDATE', now(), 'PROCESSED 7/3', 'PROCESSING',
       'PROCESSED 99999999999/1, PROCESSED 9/8, PROCESSED' || chr(160) || '1/2, PROCESSED 2/8'),
  (23, 'ONT_PATIENT_COUNT_UPDATE', now(), 'PROCESSED 5/0', 'PROCESSING', 'PROCESSED' || chr(160) || '1/2'),
  (24, 'ONT_PATIENT_COUNT_UPDATE', now(), 'PROCESSED 2147483647/2147483647', 'PROCESSING', NULL),
  (25, 'ONT_PATIENT_COUNT_UPDATE', now(), 'PROCESSED 0/1', 'PROCESSING', 'PROCESSED 1/2');
SELECT process_id, process_step_cd, progress_done, progress_total, progress_percent
FROM ontstatus.running_processes() WHERE process_id >= 20 ORDER BY process_id;
DELETE FROM rep.ont_process_status WHERE process_id >= 20;

-- read-only, no transaction id
BEGIN READ ONLY;
SELECT count(*) FROM ontstatus.process_summary();
SELECT count(*) FROM ontstatus.running_processes();
SELECT pg_current_xact_id_if_assigned() IS NULL AS no_xid;
COMMIT;

-- the caller's rights: no SELECT, a permission error
CREATE ROLE regress_ontstatus_reports;
GRANT USAGE ON SCHEMA rep TO regress_ontstatus_reports;
SET ROLE regress_ontstatus_reports;
\set VERBOSITY terse
SELECT * FROM ontstatus.process_summary();
SELECT * FROM ontstatus.running_processes();
\set VERBOSITY default
RESET ROLE;
REVOKE ALL ON SCHEMA rep FROM regress_ontstatus_reports;
DROP ROLE regress_ontstatus_reports;

RESET ontstatus.schema;
DROP SCHEMA rep CASCADE;
