/* ontstatus--1.0--1.1.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION ontstatus UPDATE TO '1.1'" to load this file. \quit

-- 1.1 writes rows as the ONT cell writes them: progress in process_step_cd,
-- the i2b2 user in changedby_char, end_date on every update, only patient
-- counts abort.  start_process and finish_process gain an argument, and
-- running_processes a column: they are dropped and created again (a view
-- or function of yours that uses them must be dropped first).

DROP FUNCTION @extschema@.start_process(text, text, text);

CREATE FUNCTION @extschema@.start_process(
	process_type_cd text,
	process_step_cd text DEFAULT NULL,
	message text DEFAULT '',
	changed_by text DEFAULT NULL)
RETURNS bigint
AS 'MODULE_PATHNAME', 'ontstatus_start_process'
LANGUAGE C VOLATILE SECURITY INVOKER PARALLEL UNSAFE;

CREATE FUNCTION @extschema@.report_progress(
	process_id bigint,
	done integer,
	total integer)
RETURNS text
AS 'MODULE_PATHNAME', 'ontstatus_report_progress_count'
LANGUAGE C VOLATILE SECURITY INVOKER PARALLEL UNSAFE;

CREATE FUNCTION @extschema@.stop_processes(
	process_type_cd text DEFAULT 'ONT_PATIENT_COUNT_UPDATE')
RETURNS SETOF bigint
AS 'MODULE_PATHNAME', 'ontstatus_stop_processes'
LANGUAGE C VOLATILE SECURITY INVOKER PARALLEL UNSAFE ROWS 1;

DROP FUNCTION @extschema@.finish_process(bigint, text, text);

CREATE FUNCTION @extschema@.finish_process(
	process_id bigint,
	process_status_cd text DEFAULT 'COMPLETED',
	message text DEFAULT NULL,
	process_step_cd text DEFAULT NULL)
RETURNS void
AS 'MODULE_PATHNAME', 'ontstatus_finish_process'
LANGUAGE C VOLATILE SECURITY INVOKER PARALLEL UNSAFE;

DROP FUNCTION @extschema@.running_processes(interval);

CREATE FUNCTION @extschema@.running_processes(stuck_after interval DEFAULT '1 hour')
RETURNS TABLE (
	process_id bigint,
	process_type_cd text,
	process_status_cd text,
	process_step_cd text,
	start_date timestamp,
	running_for interval,
	last_change timestamp,
	progress_done bigint,
	progress_total bigint,
	progress_percent numeric,
	stuck boolean)
AS 'MODULE_PATHNAME', 'ontstatus_running_processes'
LANGUAGE C STABLE SECURITY INVOKER PARALLEL UNSAFE;

-- The trigger function is C now, building the payload the lifecycle sends
-- in one place; a trigger enable_notify added keeps working.
CREATE OR REPLACE FUNCTION @extschema@.notify_change() RETURNS trigger
AS 'MODULE_PATHNAME', 'ontstatus_notify_change'
LANGUAGE C VOLATILE SECURITY INVOKER PARALLEL UNSAFE;

COMMENT ON FUNCTION @extschema@.process_summary(timestamptz) IS
'One row per (process_type_cd, process_status_cd) of ont_process_status: how many processes, the last start and end, average and longest duration of finished processes (COMPLETED, ERROR, KILLED); only processes started at or after since, when given.';

COMMENT ON FUNCTION @extschema@.running_processes(interval) IS
'The running processes of ont_process_status - PROCESSING rows, and ABORT rows whose worker has not stopped yet: how long each has run, when it last changed (latest of change_date, entry_date, start_date), its progress from process_step_cd (PROCESSED 120/4000, as the ONT cell writes it) or else from the message, and stuck = nothing changed for longer than stuck_after.';

COMMENT ON FUNCTION @extschema@.start_process(text, text, text, text) IS
'Start a process as the ONT cell does: a PROCESSING row with the type''s first step (ONT_PATIENT_COUNT_UPDATE or ONT_BUILD_PDO_START), message '''', changedby_char = changed_by (the i2b2 user; default session_user) and status_cd C; returns its process_id. A start of ONT_PATIENT_COUNT_UPDATE first sets the running ones to ABORT. Sends NOTIFY ontstatus.';

COMMENT ON FUNCTION @extschema@.report_progress(bigint, text, text) IS
'Record the step (any the ONT cell writes, PROCESSED <done>/<total> included) and message of a PROCESSING process, with end_date and change_date now, and return its status; any other process is left alone and its status returned: ABORT tells the worker to stop. Sends NOTIFY ontstatus.';

COMMENT ON FUNCTION @extschema@.report_progress(bigint, integer, integer) IS
'Record progress as the ONT cell does - process_step_cd = PROCESSED <done>/<total>, which the i2b2 Workbench shows - with end_date and change_date now, and return the status; ABORT tells the worker to stop. Sends NOTIFY ontstatus.';

COMMENT ON FUNCTION @extschema@.stop_processes(text) IS
'Set every PROCESSING process of the type to ABORT without starting one, as the ONT cell''s operation_type="stop" does; returns their process_ids. Sends NOTIFY ontstatus.';

COMMENT ON FUNCTION @extschema@.finish_process(bigint, text, text, text) IS
'Finish a process as COMPLETED, ERROR or KILLED (an ABORT process only as KILLED), with end_date now and, when given, its last step (ONT_SENTTO_CRCLOADER, ERROR, PROCESSED <done>/<total>); a message too long for the column is cut to fit. Sends NOTIFY ontstatus.';

-- Any SQL job as an i2b2 process: one transaction per step, progress the
-- Workbench shows, a stop it honours, an end it records.  A procedure: it
-- commits, so it must be CALLed outside a transaction block.

CREATE PROCEDURE @extschema@.run_process(
	process_type_cd text,
	steps text[],
	changed_by text DEFAULT NULL,
	INOUT process_id bigint DEFAULT NULL)
AS 'MODULE_PATHNAME', 'ontstatus_run_process'
LANGUAGE C SECURITY INVOKER;

COMMENT ON PROCEDURE @extschema@.run_process(text, text[], text, bigint) IS
'Run each SQL statement of steps, with the caller''s rights, as one step of a new process of the type (started as start_process does, changedby_char = changed_by), committing after every step and recording PROCESSED <done>/<total>; a stop (ABORT) ends it KILLED before the next step, the end is COMPLETED, a failing step is rolled back and recorded as ERROR with its error (earlier steps stay committed) before the error is raised again. Returns process_id. CALL it outside a transaction block. Sends NOTIFY ontstatus.';
