/* ontstatus--1.1--1.2.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION ontstatus UPDATE TO '1.2'" to load this file. \quit

-- a self-check of the site's set-up
CREATE FUNCTION @extschema@.check_setup(
	project_id text DEFAULT NULL,
	role_name name DEFAULT current_user)
RETURNS TABLE (area text, status text, detail text, hint text)
AS 'MODULE_PATHNAME', 'ontstatus_check_setup'
LANGUAGE C STABLE SECURITY INVOKER PARALLEL UNSAFE;

COMMENT ON FUNCTION @extschema@.check_setup(text, name) IS
'What is wrong with the site''s set-up, and how to fix it: one row per finding (area, status ok/warn/fail, detail, hint: the SQL that fixes it) about versions, the table a request for project_id reads through ont_db_lookup or the lifecycle reads, its shape, role_name''s privileges, indexes, the time zone, notifications and running processes. Never raises for what it checks.';

-- running_processes gains alive (a result type cannot be changed in place)
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
	stuck boolean,
	alive boolean)
AS 'MODULE_PATHNAME', 'ontstatus_running_processes'
LANGUAGE C STABLE SECURITY INVOKER PARALLEL UNSAFE;

COMMENT ON FUNCTION @extschema@.running_processes(interval) IS
'The running processes of ont_process_status - PROCESSING rows, and ABORT rows whose worker has not stopped yet: how long each has run, when it last changed (latest of change_date, entry_date, start_date), its progress from process_step_cd (PROCESSED 120/4000, as the ONT cell writes it) or else from the message, stuck = nothing changed for longer than stuck_after, and alive: whether the session running it is connected, for the processes run_process and watch_process registered (NULL for the others, and on a standby).';

-- Who runs the processes ontstatus runs (run_process, watch_process): the
-- session, so that one whose session is gone is seen as dead.  The rows
-- are written by ontstatus alone (as this table's owner); every role may
-- read them.  A committed row outlives its session, a crash included: the
-- session lock that says it is alive does not.
CREATE TABLE @extschema@.process_watch (
	table_oid oid NOT NULL,
	process_id bigint NOT NULL,
	backend_pid integer NOT NULL,
	backend_start timestamptz NOT NULL,
	PRIMARY KEY (table_oid, process_id)
);
REVOKE ALL ON @extschema@.process_watch FROM PUBLIC;
GRANT SELECT ON @extschema@.process_watch TO PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('@extschema@.process_watch', '');

COMMENT ON TABLE @extschema@.process_watch IS
'The sessions running the processes that run_process and watch_process registered (table, process_id, backend pid and start); written by ontstatus only.';

CREATE FUNCTION @extschema@.watch_process(process_id bigint)
RETURNS void
AS 'MODULE_PATHNAME', 'ontstatus_watch_process'
LANGUAGE C VOLATILE STRICT SECURITY INVOKER PARALLEL UNSAFE;

CREATE FUNCTION @extschema@.reap_processes()
RETURNS SETOF bigint
AS 'MODULE_PATHNAME', 'ontstatus_reap_processes'
LANGUAGE C VOLATILE SECURITY INVOKER PARALLEL UNSAFE ROWS 1;

COMMENT ON FUNCTION @extschema@.watch_process(bigint) IS
'Register the PROCESSING process process_id (of the table the lifecycle finds) as run by this session, as run_process registers its own: running_processes then shows alive = false once the session is gone, and reap_processes ends it. finish_process ends the watch.';

COMMENT ON FUNCTION @extschema@.reap_processes() IS
'Mark every registered process whose session is gone as ERROR (KILLED when it was aborted), with its last step and a message naming the session; returns their process_ids. Processes ontstatus does not run are never touched.';
