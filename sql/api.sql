--
-- api: the SQL API's contract - names, signatures, row type, properties,
-- comments - and the settings.
--
SELECT p.oid::regprocedure AS function,
       p.provolatile AS volatility, p.proparallel AS parallel, p.prosecdef AS security_definer,
       p.proisstrict AS strict, p.proretset AS returns_set,
       p.prorettype::regtype AS returns,
       obj_description(p.oid, 'pg_proc') IS NOT NULL AS has_comment
FROM pg_proc p
WHERE p.pronamespace = 'ontstatus'::regnamespace
ORDER BY p.oid::regprocedure::text;

-- argument names and defaults of find_process_status
SELECT pg_get_function_arguments('ontstatus.find_process_status'::regproc);

-- the row type's columns, in order
SELECT attnum, attname, atttypid::regtype
FROM pg_attribute
WHERE attrelid = 'ontstatus.process_status_row'::regclass AND attnum > 0
ORDER BY attnum;

-- Settings exist once the library is loaded: at the first call of any
-- function, or with LOAD.  A value set before that is kept - but a
-- non-superuser's value for the superuser-only size limit is refused when
-- the library loads.
CREATE ROLE regress_ontstatus_user;
SET ROLE regress_ontstatus_user;
SET ontstatus.max_request_bytes = '100MB';
SET ontstatus.schema = 'i2b2metadata';
RESET ROLE;
LOAD 'ontstatus';
SHOW ontstatus.schema;
SHOW ontstatus.max_request_bytes;
RESET ontstatus.schema;
SELECT name, setting, unit, context, short_desc, extra_desc
FROM pg_settings WHERE name LIKE 'ontstatus.%' ORDER BY name;

-- once loaded, the size limit cannot be raised by a non-superuser
SET ROLE regress_ontstatus_user;
SET ontstatus.max_request_bytes = '100MB';
RESET ROLE;
DROP ROLE regress_ontstatus_user;


-- ontstatus.lookup_table takes a table name, qualified or not, or nothing
SET ontstatus.lookup_table = 'hive2.lookups';
SET ontstatus.lookup_table = 'lookups';
SET ontstatus.lookup_table = '"Hive"."Lookups"';
SET ontstatus.lookup_table = '';
SET ontstatus.lookup_table = 'a.b.c';
SET ontstatus.lookup_table = 'x; DROP TABLE y';
RESET ontstatus.lookup_table;
SHOW ontstatus.lookup_table;

-- argument names and defaults of the lifecycle functions
SELECT p.oid::regprocedure AS function, pg_get_function_arguments(p.oid) AS arguments
FROM pg_proc p
WHERE p.pronamespace = 'ontstatus'::regnamespace
  AND p.proname IN ('start_process', 'report_progress', 'stop_processes', 'finish_process')
ORDER BY p.oid::regprocedure::text;

-- ontstatus.table_time_zone takes what SET TimeZone takes, or nothing;
-- a zone that does not exist is refused and the value before it kept
SET ontstatus.table_time_zone = 'America/New_York';
SET ontstatus.table_time_zone = 'EST5EDT';
SET ontstatus.table_time_zone = '-5';
SET ontstatus.table_time_zone = 'UTC';
SET ontstatus.table_time_zone = 'Mars/Olympus_Mons';
SHOW ontstatus.table_time_zone;
SET ontstatus.table_time_zone = '';
SHOW ontstatus.table_time_zone;
RESET ontstatus.table_time_zone;

-- META.json (PGXN) is well-formed and in step with the control file: its
-- version is default_version as a semantic version, and so is the
-- extension's in provides
\set meta `cat META.json`
SELECT m->>'name' AS name,
       m->>'version' = e.default_version || '.0' AS version_in_step,
       m->'provides'->'ontstatus'->>'version' = m->>'version' AS provides_in_step,
       m->'provides'->'ontstatus'->>'file' = 'sql/ontstatus--' || e.default_version || '.sql' AS script_in_step,
       m->'prereqs'->'runtime'->'requires'->>'PostgreSQL' AS requires
FROM (SELECT CAST(:'meta' AS jsonb) AS m) AS j,
     pg_available_extensions e
WHERE e.name = 'ontstatus';

-- ontstatus.schema takes one schema name in SQL syntax, as lookup_table
-- takes its names: folded unless quoted
SET ontstatus.schema = 'I2B2Metadata';
SELECT count(*) > 0 AS folded_finds_i2b2metadata FROM ontstatus.find_process_status();
SET ontstatus.schema = '"I2B2Metadata"';
SELECT count(*) FROM ontstatus.find_process_status();
SET ontstatus.schema = 'a.b';
SET ontstatus.schema = 'x; DROP TABLE y';
SHOW ontstatus.schema;
RESET ontstatus.schema;
