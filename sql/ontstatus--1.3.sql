/* ontstatus--1.3.sql */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION ontstatus" to load this file. \quit

CREATE TYPE @extschema@.process_status_row AS (
	process_id bigint,
	process_type_cd text,
	process_step_cd text,
	start_date timestamp,
	end_date timestamp,
	process_status_cd text,
	crc_upload_id bigint,
	message text
);

COMMENT ON TYPE @extschema@.process_status_row IS
'One row of ont_process_status as ontstatus returns it, whatever the table''s DDL variant.';

-- text and xml overloads share one C function: the two types have the same
-- representation.
--
-- Every function is PARALLEL UNSAFE: get_ont_process_status runs in a
-- subtransaction, every function may set TimeZone for its call
-- (ontstatus.table_time_zone), and the lifecycle writes and notifies -
-- none of which a parallel operation allows.  get_ont_process_status is
-- STABLE: the one time it writes, datetime_of_message, is the statement's
-- start.

CREATE FUNCTION @extschema@.get_ont_process_status(request text)
RETURNS xml
AS 'MODULE_PATHNAME', 'ontstatus_get_ont_process_status'
LANGUAGE C STRICT STABLE SECURITY INVOKER PARALLEL UNSAFE;

CREATE FUNCTION @extschema@.get_ont_process_status(request xml)
RETURNS xml
AS 'MODULE_PATHNAME', 'ontstatus_get_ont_process_status'
LANGUAGE C STRICT STABLE SECURITY INVOKER PARALLEL UNSAFE;

CREATE FUNCTION @extschema@.process_status(request text)
RETURNS SETOF @extschema@.process_status_row
AS 'MODULE_PATHNAME', 'ontstatus_process_status'
LANGUAGE C STRICT STABLE SECURITY INVOKER PARALLEL UNSAFE ROWS 100;

CREATE FUNCTION @extschema@.process_status(request xml)
RETURNS SETOF @extschema@.process_status_row
AS 'MODULE_PATHNAME', 'ontstatus_process_status'
LANGUAGE C STRICT STABLE SECURITY INVOKER PARALLEL UNSAFE ROWS 100;

CREATE FUNCTION @extschema@.find_process_status(
	process_id bigint DEFAULT NULL,
	process_type_cd text DEFAULT NULL,
	process_status_cd text DEFAULT NULL,
	started_from timestamptz DEFAULT NULL,
	started_to timestamptz DEFAULT NULL,
	ended_from timestamptz DEFAULT NULL,
	ended_to timestamptz DEFAULT NULL,
	max_rows int DEFAULT 1000)
RETURNS SETOF @extschema@.process_status_row
AS 'MODULE_PATHNAME', 'ontstatus_find_process_status'
LANGUAGE C STABLE SECURITY INVOKER PARALLEL UNSAFE ROWS 100;

COMMENT ON FUNCTION @extschema@.get_ont_process_status(text) IS
'Answer an i2b2 get_ont_process_status request (full i2b2 request message or bare element) with the i2b2 response message. Never raises an error for a bad request or a missing table: the response then carries status ERROR.';

COMMENT ON FUNCTION @extschema@.get_ont_process_status(xml) IS
'Answer an i2b2 get_ont_process_status request given as xml; see get_ont_process_status(text).';

COMMENT ON FUNCTION @extschema@.process_status(text) IS
'The ont_process_status rows a get_ont_process_status request selects, ordered by process_id. Bad requests raise SQL errors.';

COMMENT ON FUNCTION @extschema@.process_status(xml) IS
'The ont_process_status rows a get_ont_process_status request given as xml selects; see process_status(text).';

COMMENT ON FUNCTION @extschema@.find_process_status(bigint, text, text, timestamptz, timestamptz, timestamptz, timestamptz, int) IS
'The same query from SQL arguments: NULL means no filter, time bounds are inclusive, max_rows 0 or NULL means 1000. Reads ont_process_status in ontstatus.schema, or the one on search_path.';

-- DBA reporting: the table found as find_process_status finds it.

CREATE FUNCTION @extschema@.process_summary(since timestamptz DEFAULT NULL)
RETURNS TABLE (
	process_type_cd text,
	process_status_cd text,
	processes bigint,
	last_started timestamp,
	last_ended timestamp,
	avg_duration interval,
	max_duration interval)
AS 'MODULE_PATHNAME', 'ontstatus_process_summary'
LANGUAGE C STABLE SECURITY INVOKER PARALLEL UNSAFE;

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
	stuck boolean,
	alive boolean)
AS 'MODULE_PATHNAME', 'ontstatus_running_processes'
LANGUAGE C STABLE SECURITY INVOKER PARALLEL UNSAFE;

COMMENT ON FUNCTION @extschema@.process_summary(timestamptz) IS
'One row per (process_type_cd, process_status_cd) of ont_process_status: how many processes, the last start and end, average and longest duration of finished processes (COMPLETED, ERROR, KILLED); only processes started at or after since, when given.';

COMMENT ON FUNCTION @extschema@.running_processes(interval) IS
'The running processes of ont_process_status - PROCESSING rows, and ABORT rows whose worker has not stopped yet: how long each has run, when it last changed (latest of change_date, entry_date, start_date), its progress from process_step_cd (PROCESSED 120/4000, as the ONT cell writes it) or else from the message, stuck = nothing changed for longer than stuck_after, and alive: whether the session running it is connected, for the processes run_process and watch_process registered (NULL for the others, and on a standby).';

-- The process lifecycle, writing rows as the ONT cell writes them; these
-- write, so they are VOLATILE and refuse in read-only transactions and on
-- standbys.

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
	process_step_cd text DEFAULT NULL,
	message text DEFAULT NULL)
RETURNS text
AS 'MODULE_PATHNAME', 'ontstatus_report_progress'
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

CREATE FUNCTION @extschema@.finish_process(
	process_id bigint,
	process_status_cd text DEFAULT 'COMPLETED',
	message text DEFAULT NULL,
	process_step_cd text DEFAULT NULL)
RETURNS void
AS 'MODULE_PATHNAME', 'ontstatus_finish_process'
LANGUAGE C VOLATILE SECURITY INVOKER PARALLEL UNSAFE;

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

-- A run_process that outlives its session: the steps run in a background
-- worker connected as the submitting role, with its settings.
CREATE FUNCTION @extschema@.submit_process(
	process_type_cd text,
	steps text[],
	changed_by text DEFAULT NULL)
RETURNS bigint
AS 'MODULE_PATHNAME', 'ontstatus_submit_process'
LANGUAGE C VOLATILE SECURITY INVOKER PARALLEL UNSAFE;

COMMENT ON FUNCTION @extschema@.submit_process(text, text[], text) IS
'Start a process of the type as run_process does and return its process_id at once; its steps run, as run_process runs them (a transaction per step, PROCESSED <done>/<total>, a stop ends it KILLED, a failing step ERROR), in a background worker connected to this database as the current role, with its search_path, TimeZone, DateStyle, IntervalStyle, default_transaction_isolation and ontstatus settings as they are now, in read-write transactions. The worker starts once the calling transaction commits (a rollback leaves nothing) and outlives the calling session; it is registered as the process''s runner, so a terminated worker is seen dead and reaped. Needs a free background worker slot (max_worker_processes), and before PostgreSQL 17 a role with LOGIN. Sends NOTIFY ontstatus.';

-- Push: a trigger, added only on request, announces changes written by the
-- Java cell itself, with the payload the lifecycle functions send.

CREATE FUNCTION @extschema@.notify_change() RETURNS trigger
AS 'MODULE_PATHNAME', 'ontstatus_notify_change'
LANGUAGE C VOLATILE SECURITY INVOKER PARALLEL UNSAFE;

CREATE FUNCTION @extschema@.enable_notify(schema name DEFAULT NULL)
RETURNS void
AS 'MODULE_PATHNAME', 'ontstatus_enable_notify'
LANGUAGE C VOLATILE SECURITY INVOKER PARALLEL UNSAFE;

CREATE FUNCTION @extschema@.disable_notify(schema name DEFAULT NULL)
RETURNS void
AS 'MODULE_PATHNAME', 'ontstatus_disable_notify'
LANGUAGE C VOLATILE SECURITY INVOKER PARALLEL UNSAFE;

COMMENT ON FUNCTION @extschema@.notify_change() IS
'Trigger function behind enable_notify: NOTIFY ontstatus with the changed process as JSON.';

COMMENT ON FUNCTION @extschema@.enable_notify(name) IS
'Add a trigger to ont_process_status (in schema, or the one find_process_status finds) so that every insert or update, the Java cell''s included, sends NOTIFY ontstatus. Needs the right to create triggers on the table.';

COMMENT ON FUNCTION @extschema@.disable_notify(name) IS
'Drop the trigger enable_notify added, if it is there.';

-- The functions are SECURITY INVOKER and read only what the caller may
-- read, so every role may call them; the ONT cell's role needs nothing more
-- than SELECT on its ont_process_status.
GRANT USAGE ON SCHEMA @extschema@ TO PUBLIC;

-- a self-check of the site's set-up
CREATE FUNCTION @extschema@.check_setup(
	project_id text DEFAULT NULL,
	role_name name DEFAULT current_user)
RETURNS TABLE (area text, status text, detail text, hint text)
AS 'MODULE_PATHNAME', 'ontstatus_check_setup'
LANGUAGE C STABLE SECURITY INVOKER PARALLEL UNSAFE;

COMMENT ON FUNCTION @extschema@.check_setup(text, name) IS
'What is wrong with the site''s set-up, and how to fix it: one row per finding (area, status ok/warn/fail, detail, hint: the SQL that fixes it) about versions, the table a request for project_id reads through ont_db_lookup or the lifecycle reads, its shape, role_name''s privileges, indexes, the time zone, notifications and running processes. Never raises for what it checks.';

-- Who runs the processes ontstatus runs (run_process, watch_process): the
-- session, so that one whose session is gone is seen as dead.  The rows
-- are written by ontstatus alone (as this table's owner); every role may
-- read them.  A committed row outlives its session, a crash included; the
-- session it names is alive while a backend of this database has its pid
-- and its start time.  process_table is a regclass so that pg_dump writes
-- the table's name and a restore the restored table's OID; a row whose
-- table is gone is not dumped.
CREATE TABLE @extschema@.process_watch (
	process_table regclass NOT NULL,
	process_id bigint NOT NULL,
	backend_pid integer NOT NULL,
	backend_start timestamptz NOT NULL,
	PRIMARY KEY (process_table, process_id)
);
REVOKE ALL ON @extschema@.process_watch FROM PUBLIC;
GRANT SELECT ON @extschema@.process_watch TO PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('@extschema@.process_watch',
	'WHERE EXISTS (SELECT FROM pg_catalog.pg_class c WHERE c.oid OPERATOR(pg_catalog.=) process_table)');

COMMENT ON TABLE @extschema@.process_watch IS
'The sessions running the processes that run_process and watch_process registered (table, process_id, backend pid and start: alive while a backend of this database has that pid and start); written by ontstatus only.';

CREATE FUNCTION @extschema@.watch_process(process_id bigint)
RETURNS void
AS 'MODULE_PATHNAME', 'ontstatus_watch_process'
LANGUAGE C VOLATILE STRICT SECURITY INVOKER PARALLEL UNSAFE;

CREATE FUNCTION @extschema@.reap_processes()
RETURNS SETOF bigint
AS 'MODULE_PATHNAME', 'ontstatus_reap_processes'
LANGUAGE C VOLATILE SECURITY INVOKER PARALLEL UNSAFE ROWS 1;

COMMENT ON FUNCTION @extschema@.watch_process(bigint) IS
'Register the PROCESSING process process_id (of the table the lifecycle finds) as run by this session, as run_process registers its own: running_processes then shows alive = false once the session is gone, and reap_processes ends it. Watching it again changes nothing; a process another live session runs is refused at once (55P03). Rolled back with the transaction; finish_process ends the watch.';

COMMENT ON FUNCTION @extschema@.reap_processes() IS
'Mark every registered process whose session is gone as ERROR (KILLED when it was aborted), with its last step and a message naming the session; returns their process_ids. Processes ontstatus does not run are never touched.';

-- the table a request reads, for a DBA (and check_setup's question)
CREATE FUNCTION @extschema@.resolve_table(
	project_id text DEFAULT NULL,
	domain text DEFAULT NULL,
	user_name text DEFAULT NULL)
RETURNS regclass
AS 'MODULE_PATHNAME', 'ontstatus_resolve_table'
LANGUAGE C STABLE SECURITY INVOKER PARALLEL UNSAFE;

COMMENT ON FUNCTION @extschema@.resolve_table(text, text, text) IS
'The ont_process_status table a get_ont_process_status request naming project_id, from i2b2 domain domain and user user_name, reads - through the hive''s lookup table by the ONT cell''s rules, else ontstatus.schema or search_path, as without a project (and as the lifecycle and reports read). Resolved by the requests'' own code, with the caller''s rights and settings; its errors are the requests''.';
