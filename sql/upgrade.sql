--
-- upgrade: version 1.0 still installs and works with the current library, and
-- 1.0 (and 1.1, 1.2) followed by ALTER EXTENSION UPDATE leave exactly the
-- objects of a fresh install of the default version.  Runs last: it drops and
-- re-creates the extension.
--
SET timezone = 'America/New_York';

-- Everything of the extension that a user can tell apart: each member
-- object; each function's signature, defaults, result, properties, body,
-- comment and grants; the row type's columns; the schema's grants.
CREATE FUNCTION pg_temp.ext_objects() RETURNS TABLE (object text, detail text)
LANGUAGE sql AS $$
  SELECT pg_describe_object(d.classid, d.objid, 0), 'member'
  FROM pg_depend d
  WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
    AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'ontstatus')
    -- 17 and later also record the row type's array type as a member
    AND pg_describe_object(d.classid, d.objid, 0) NOT LIKE '%[]'
    -- 18 also records a member table's row type: the table stands for it
    AND NOT (d.classid = 'pg_type'::regclass
             AND (SELECT c.relkind FROM pg_type t JOIN pg_class c ON c.oid = t.typrelid
                  WHERE t.oid = d.objid) = 'r')
  UNION ALL
  SELECT p.oid::regprocedure::text,
         concat_ws(' | ', pg_get_function_arguments(p.oid), pg_get_function_result(p.oid),
                   p.provolatile, p.proisstrict, p.prosecdef, p.proretset, p.prorows,
                   p.proparallel, p.proconfig::text, p.prosrc, p.probin, p.proacl::text,
                   obj_description(p.oid, 'pg_proc'))
  FROM pg_proc p WHERE p.pronamespace = 'ontstatus'::regnamespace
  UNION ALL
  SELECT t.oid::regtype::text,
         concat_ws(' | ', (SELECT string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod), ', '
                                             ORDER BY a.attnum)
                           FROM pg_attribute a WHERE a.attrelid = t.typrelid AND a.attnum > 0),
                   obj_description(t.oid, 'pg_type'), t.typacl::text)
  FROM pg_type t WHERE t.typnamespace = 'ontstatus'::regnamespace AND t.typtype = 'c'
  UNION ALL
  SELECT 'schema ' || n.nspname, n.nspacl::text
  FROM pg_namespace n WHERE n.nspname = 'ontstatus'
  UNION ALL
  -- each table's columns, indexes, grants, comment and pg_dump condition
  SELECT 'columns of ' || c.oid::regclass::text,
         concat_ws(' | ', (SELECT string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
                                             || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END, ', '
                                             ORDER BY a.attnum)
                           FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped),
                   (SELECT string_agg(pg_get_indexdef(i.indexrelid), '; ' ORDER BY 1)
                    FROM pg_index i WHERE i.indrelid = c.oid),
                   c.relacl::text, obj_description(c.oid, 'pg_class'),
                   (SELECT e.extcondition[array_position(e.extconfig, c.oid)]
                    FROM pg_extension e WHERE e.extname = 'ontstatus'))
  FROM pg_class c WHERE c.relnamespace = 'ontstatus'::regnamespace AND c.relkind = 'r'
$$;

DROP EXTENSION ontstatus;

-- Version 1.0, as a site that has not updated yet has it
CREATE EXTENSION ontstatus VERSION '1.0';
SELECT extversion FROM pg_extension WHERE extname = 'ontstatus';
CREATE TEMP TABLE v10 AS SELECT * FROM pg_temp.ext_objects();

-- its functions run on the 1.1 library with their own signatures
CREATE SCHEMA up;
SET search_path = up;
\i test/fixtures/ont_process_status.sql
RESET search_path;
SET ontstatus.schema = 'up';
SELECT ontstatus.start_process('ONT_PATIENT_COUNT_UPDATE', 'ONT_PATIENT_COUNT_UPDATE', 'started') AS id;
SELECT ontstatus.report_progress(1, 'PROCESSED 5/10');
-- running_processes has 1.0's columns, each in its place
SELECT process_id, process_type_cd, process_step_cd, progress_done, progress_total, stuck
FROM ontstatus.running_processes();
SELECT pg_get_function_result('ontstatus.running_processes'::regproc);
SELECT ontstatus.finish_process(1, 'KILLED', 'stopped by hand');
SELECT process_step_cd, process_status_cd, message, status_cd FROM up.ont_process_status;

-- ALTER EXTENSION UPDATE
ALTER EXTENSION ontstatus UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'ontstatus';
CREATE TEMP TABLE updated AS SELECT * FROM pg_temp.ext_objects();

-- what the update changed: these differ between 1.0 and 1.1
SELECT object, (v10.detail IS NULL) AS added, (u.detail IS NULL) AS removed
FROM v10 FULL JOIN updated u USING (object)
WHERE v10.detail IS DISTINCT FROM u.detail
GROUP BY object, v10.detail IS NULL, u.detail IS NULL
ORDER BY object;

-- a fresh install of the default version
DROP EXTENSION ontstatus;
CREATE EXTENSION ontstatus;
SELECT extversion FROM pg_extension WHERE extname = 'ontstatus';
CREATE TEMP TABLE fresh AS SELECT * FROM pg_temp.ext_objects();

-- the same objects, detail for detail
SELECT count(*) AS objects, count(DISTINCT object) AS distinct_objects FROM fresh;
SELECT 'only after the update' AS side, * FROM (TABLE updated EXCEPT TABLE fresh) AS a
UNION ALL
SELECT 'only in a fresh install', * FROM (TABLE fresh EXCEPT TABLE updated) AS b;

-- and the updated functions work with their new signatures
SELECT ontstatus.start_process('ONT_UPDATE_CRC_CONCEPT', changed_by => 'demo') AS id;
SELECT ontstatus.report_progress(2, 1, 4);
SELECT process_id, process_status_cd, process_step_cd, progress_done, progress_total
FROM ontstatus.running_processes();

RESET ontstatus.schema;
DROP SCHEMA up CASCADE;

-- 1.1 updated to the default version: exactly a fresh install
DROP EXTENSION ontstatus;
CREATE EXTENSION ontstatus VERSION '1.1';
CREATE TEMP TABLE v11 AS SELECT * FROM pg_temp.ext_objects();
ALTER EXTENSION ontstatus UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'ontstatus';
CREATE TEMP TABLE updated11 AS SELECT * FROM pg_temp.ext_objects();
SELECT object, (v11.detail IS NULL) AS added, (u.detail IS NULL) AS removed
FROM v11 FULL JOIN updated11 u USING (object)
WHERE v11.detail IS DISTINCT FROM u.detail
ORDER BY object;
SELECT 'only after the update' AS side, * FROM (TABLE updated11 EXCEPT TABLE fresh) AS a
UNION ALL
SELECT 'only in a fresh install', * FROM (TABLE fresh EXCEPT TABLE updated11) AS b;

-- 1.2 updated to 1.3: exactly a fresh 1.3 (process_watch names its table
-- as a regclass, dumped only for tables that exist); a registration made
-- under 1.2 is kept
DROP EXTENSION ontstatus;
CREATE EXTENSION ontstatus VERSION '1.2';
CREATE TEMP TABLE v12 AS SELECT * FROM pg_temp.ext_objects();
CREATE TABLE public.ont_process_status (process_id serial PRIMARY KEY);
INSERT INTO ontstatus.process_watch VALUES ('public.ont_process_status'::regclass, 1, 1, now());
ALTER EXTENSION ontstatus UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'ontstatus';
SELECT process_table, process_id FROM ontstatus.process_watch;
DELETE FROM ontstatus.process_watch;
DROP TABLE public.ont_process_status;
CREATE TEMP TABLE updated12 AS SELECT * FROM pg_temp.ext_objects();
SELECT object, (v12.detail IS NULL) AS added, (u.detail IS NULL) AS removed
FROM v12 FULL JOIN updated12 u USING (object)
WHERE v12.detail IS DISTINCT FROM u.detail
ORDER BY object;
SELECT 'only after the update' AS side, * FROM (TABLE updated12 EXCEPT TABLE fresh) AS a
UNION ALL
SELECT 'only in a fresh install', * FROM (TABLE fresh EXCEPT TABLE updated12) AS b;
-- and check_setup says the installed version is the one available
SELECT status, detail LIKE 'ontstatus ' || default_version || ',%' AS current
FROM ontstatus.check_setup(), pg_available_extensions
WHERE area = 'versions' AND name = 'ontstatus' LIMIT 1;
