/* ontstatus--1.2--1.3.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION ontstatus UPDATE TO '1.3'" to load this file. \quit

-- The registry no longer relies on an advisory lock (which
-- pg_advisory_unlock_all() released): a registration's session is alive
-- while a backend of this database has its pid and start time.  The table
-- becomes a regclass, so that a dump and restore keeps its rows pointing at
-- the restored tables; the registrations of running processes are kept.
ALTER TABLE @extschema@.process_watch RENAME COLUMN table_oid TO process_table;
ALTER TABLE @extschema@.process_watch ALTER COLUMN process_table TYPE regclass;
SELECT pg_catalog.pg_extension_config_dump('@extschema@.process_watch',
	'WHERE EXISTS (SELECT FROM pg_catalog.pg_class c WHERE c.oid OPERATOR(pg_catalog.=) process_table)');

COMMENT ON TABLE @extschema@.process_watch IS
'The sessions running the processes that run_process and watch_process registered (table, process_id, backend pid and start: alive while a backend of this database has that pid and start); written by ontstatus only.';

COMMENT ON FUNCTION @extschema@.watch_process(bigint) IS
'Register the PROCESSING process process_id (of the table the lifecycle finds) as run by this session, as run_process registers its own: running_processes then shows alive = false once the session is gone, and reap_processes ends it. Watching it again changes nothing; a process another live session runs is refused at once (55P03). Rolled back with the transaction; finish_process ends the watch.';

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
