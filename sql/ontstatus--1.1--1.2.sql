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
