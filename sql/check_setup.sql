--
-- check_setup: a site as i2b2's installer leaves it gets the right fail and
-- warn rows; running the hints as a superuser turns them ok, and the role
-- can then really do what the check says.  In a database of its own, laid
-- out as an i2b2 site.
--
CREATE DATABASE regress_cs_site;
\c regress_cs_site
SET client_min_messages = warning;
CREATE EXTENSION ontstatus;
CREATE ROLE regress_cs_cell;
CREATE ROLE regress_cs_jobs;
CREATE SCHEMA i2b2hive;
CREATE SCHEMA i2b2metadata;
SET search_path = i2b2metadata;
\i test/fixtures/ont_process_status.sql
RESET search_path;
CREATE TABLE i2b2hive.ont_db_lookup (
    c_domain_id varchar(255), c_project_path varchar(255), c_owner_id varchar(255),
    c_db_fullschema varchar(255), c_db_datasource varchar(255), c_db_servertype varchar(255),
    c_db_nicename varchar(255));
-- i2b2's shipped PostgreSQL data: project Demo in schema public
INSERT INTO i2b2hive.ont_db_lookup VALUES
  ('i2b2demo', 'Demo/', '@', 'public', 'java:/OntologyDemoDS', 'POSTGRESQL', 'Metadata');
ALTER ROLE regress_cs_cell SET search_path = i2b2metadata;
ALTER ROLE regress_cs_jobs SET search_path = i2b2metadata;

-- the findings, without what varies with the server (versions, zones)
CREATE FUNCTION pg_temp.findings(project text, role name)
RETURNS TABLE (area text, status text, detail text, hint text) LANGUAGE sql AS $$
  SELECT area, CASE WHEN area = 'time zone' THEN '' ELSE status END,
         CASE WHEN area IN ('versions', 'time zone') THEN '' ELSE detail END,
         CASE WHEN area IN ('versions', 'time zone') THEN '' ELSE hint END
  FROM ontstatus.check_setup(project, role)
$$;
-- run every hint of the fail and warn rows (the SQL a DBA would paste), and
-- check again, as a DBA would, until no new hint comes: a check made as the
-- role sees what the role's grants let it see, so the table behind a
-- lookup table it may not read shows once it may
CREATE FUNCTION pg_temp.apply_hints(project text, role name) RETURNS SETOF text
LANGUAGE plpgsql AS $$
DECLARE
  h text;
  done text[] := '{}';
  more boolean := true;
BEGIN
  WHILE more LOOP
    more := false;
    FOR h IN SELECT c.hint FROM ontstatus.check_setup(project, role) c
             WHERE c.status <> 'ok' AND c.area NOT IN ('processes', 'time zone')
               AND c.hint IS NOT NULL AND c.hint <> ALL (done)
    LOOP
      EXECUTE h;
      done := done || h;
      more := true;
      RETURN NEXT h;
    END LOOP;
  END LOOP;
END $$;

-- As the installer leaves it: the lookup maps Demo to public, the cell's
-- role has no grants at all
SELECT * FROM pg_temp.findings('Demo', 'regress_cs_cell');
-- the versions rows: the installed version is the one available
SELECT status, detail LIKE 'ontstatus ' || default_version || ',%' AS this_version
FROM ontstatus.check_setup(), pg_available_extensions
WHERE area = 'versions' AND name = 'ontstatus' LIMIT 1;

-- a role with no grants checks itself: no error, the same fails
SET ROLE regress_cs_cell;
SELECT area, CASE WHEN area = 'time zone' THEN '' ELSE status END AS status FROM ontstatus.check_setup('Demo');
RESET ROLE;

-- the hints, run as a superuser, make the cell's role work
SELECT * FROM pg_temp.apply_hints('Demo', 'regress_cs_cell');
SELECT area, status FROM pg_temp.findings('Demo', 'regress_cs_cell') WHERE status = 'fail';
SET ROLE regress_cs_cell;
SELECT status_type FROM (
  SELECT CAST((xpath('//result_status/status/@type', ontstatus.get_ont_process_status(
    '<ns6:request xmlns:ns6="http://www.i2b2.org/xsd/hive/msg/1.1/" xmlns:ns4="http://www.i2b2.org/xsd/cell/ont/1.1/">'
    || '<message_header><security><domain>i2b2demo</domain><username>demo</username></security>'
    || '<project_id>Demo</project_id></message_header>'
    || '<message_body><ns4:get_ont_process_status/></message_body></ns6:request>')))[1] AS text)
  AS status_type) AS s;
RESET ROLE;

-- the job role: its search_path names a schema it may not use (a fail, the
-- hint its GRANTs), then the lifecycle is a warn (a role may only read), its
-- hints the GRANTs; after them it runs start_process and finish_process
SELECT area, status, detail, hint FROM pg_temp.findings(NULL, 'regress_cs_jobs')
WHERE area IN ('table', 'privileges');
SELECT * FROM pg_temp.apply_hints(NULL, 'regress_cs_jobs');
SELECT area, status FROM pg_temp.findings(NULL, 'regress_cs_jobs') WHERE area = 'privileges';
SET ROLE regress_cs_jobs;
SET search_path = i2b2metadata;
SELECT ontstatus.start_process('ONT_UPDATE_CRC_CONCEPT') AS id \gset
SELECT ontstatus.finish_process(:id, 'COMPLETED');
SELECT process_id, process_status_cd FROM ontstatus.find_process_status(process_id => :id);
RESET ROLE;
RESET search_path;

-- a long history without the README's indexes: a warn, the hint creates them
INSERT INTO i2b2metadata.ont_process_status (process_type_cd, process_status_cd, start_date)
SELECT 'ONT_ADD_CONCEPT', 'COMPLETED', timestamp '2020-01-01' + i * interval '1 minute'
FROM generate_series(1, 6000) AS i;
SELECT area, status, detail, hint FROM pg_temp.findings('Demo', 'regress_cs_cell') WHERE area = 'indexes';
SELECT * FROM pg_temp.apply_hints('Demo', 'regress_cs_cell');
SELECT area, status, detail FROM pg_temp.findings('Demo', 'regress_cs_cell') WHERE area = 'indexes';

-- a renamed column: a fail naming it, a sentence as hint (no ADD COLUMN)
ALTER TABLE i2b2metadata.ont_process_status RENAME COLUMN process_step_cd TO step;
SELECT area, status, detail, hint FROM pg_temp.findings('Demo', 'regress_cs_cell') WHERE area = 'shape';
ALTER TABLE i2b2metadata.ont_process_status RENAME COLUMN step TO process_step_cd;
-- a column the process query reads renamed: the checks that read it say
-- they could not, none raises
ALTER TABLE i2b2metadata.ont_process_status RENAME COLUMN process_status_cd TO status;
SELECT area, status, detail FROM pg_temp.findings('Demo', 'regress_cs_cell') WHERE status NOT IN ('ok', '');
ALTER TABLE i2b2metadata.ont_process_status RENAME COLUMN status TO process_status_cd;
-- a lookup table of another shape: a fail, not an error
ALTER TABLE i2b2hive.ont_db_lookup RENAME COLUMN c_owner_id TO owner;
SELECT area, status, detail FROM pg_temp.findings('Demo', 'regress_cs_cell') WHERE area = 'table';
ALTER TABLE i2b2hive.ont_db_lookup RENAME COLUMN owner TO c_owner_id;

-- the sound site: no fail row
SELECT count(*) FILTER (WHERE status = 'fail') AS fails FROM ontstatus.check_setup('Demo', 'regress_cs_cell');

-- no lookup table at all: a single-project site, ok
ALTER TABLE i2b2hive.ont_db_lookup RENAME TO old_lookup;
SELECT area, status, detail FROM pg_temp.findings('Demo', 'regress_cs_cell') WHERE area = 'table';
ALTER TABLE i2b2hive.old_lookup RENAME TO ont_db_lookup;

-- no row for the project: a fail, the hint an INSERT naming the site's
-- domain and the schema; run, it maps the project
SELECT area, status, detail, hint FROM pg_temp.findings('Other', 'regress_cs_cell') WHERE area = 'table';
SELECT * FROM pg_temp.apply_hints('Other', 'regress_cs_cell');
SELECT area, status, detail FROM pg_temp.findings('Other', 'regress_cs_cell') WHERE area = 'table';
DELETE FROM i2b2hive.ont_db_lookup WHERE c_project_path = 'Other/';

-- a role that does not exist is a finding, not an error; its hint, run,
-- creates it; which table it should read then is not the check's to guess:
-- a fail without a hint
SELECT area, status, detail, hint FROM pg_temp.findings(NULL, 'regress_cs_nobody')
WHERE area IN ('privileges', 'table');
SELECT * FROM pg_temp.apply_hints(NULL, 'regress_cs_nobody');
SELECT area, status, hint FROM pg_temp.findings(NULL, 'regress_cs_nobody') WHERE status NOT IN ('ok', '');
DROP OWNED BY regress_cs_nobody;
DROP ROLE regress_cs_nobody;

-- notifications and processes
SELECT ontstatus.enable_notify('i2b2metadata');
UPDATE i2b2metadata.ont_process_status SET process_status_cd = 'PROCESSING', change_date = now() - interval '2 hours'
WHERE process_id = 7;
SELECT area, status, detail FROM pg_temp.findings(NULL, 'regress_cs_cell')
WHERE area IN ('notifications', 'processes');

-- the time zone: a warn when table_time_zone is unset and the role's zone
-- is not the server's configured one (postgresql.conf); ok once it is set
ALTER ROLE regress_cs_cell SET TimeZone = 'Pacific/Chatham';
SELECT status, detail LIKE '%TimeZone of role regress_cs_cell, Pacific/Chatham, differs from the server''s configured %' AS says_why,
       hint LIKE 'ALTER DATABASE regress_cs_site SET ontstatus.table_time_zone = %' AS hint_sets_it
FROM ontstatus.check_setup(NULL, 'regress_cs_cell') WHERE area = 'time zone';
-- its hint runs as SQL and makes it ok (the zone it names is the server's)
DO $$ BEGIN
  EXECUTE (SELECT hint FROM ontstatus.check_setup(NULL, 'regress_cs_cell') WHERE area = 'time zone');
END $$;
SELECT status FROM ontstatus.check_setup(NULL, 'regress_cs_cell') WHERE area = 'time zone';
ALTER DATABASE regress_cs_site SET ontstatus.table_time_zone = 'America/New_York';
SELECT status, detail FROM ontstatus.check_setup(NULL, 'regress_cs_cell') WHERE area = 'time zone';
ALTER DATABASE regress_cs_site RESET ontstatus.table_time_zone;
ALTER ROLE regress_cs_cell RESET TimeZone;

-- A role's planted objects never run with the caller's rights (issue 26).
-- regress_cs_x owns a schema only: an operator on "char" (catalog queries
-- compare relkind), a view named ont_process_status, a lookup table, each
-- calling a function that records who ran it; its search_path puts them
-- first.  A superuser checking it runs them, if at all, as regress_cs_x.
CREATE ROLE regress_cs_x;
CREATE SCHEMA regress_cs_x AUTHORIZATION regress_cs_x;
GRANT USAGE ON SCHEMA i2b2metadata TO regress_cs_x;
GRANT SELECT ON i2b2metadata.ont_process_status TO regress_cs_x;
SET ROLE regress_cs_x;
CREATE TABLE regress_cs_x.ran (who name, superuser boolean);
CREATE FUNCTION regress_cs_x.note() RETURNS boolean LANGUAGE sql AS $$
  INSERT INTO regress_cs_x.ran SELECT current_user, (SELECT rolsuper FROM pg_roles WHERE rolname = current_user);
  SELECT true $$;
CREATE FUNCTION regress_cs_x.eq("char", "char") RETURNS boolean LANGUAGE sql AS $$
  SELECT regress_cs_x.note() AND CAST($1 AS text) = CAST($2 AS text) $$;
CREATE OPERATOR regress_cs_x.= (LEFTARG = "char", RIGHTARG = "char", FUNCTION = regress_cs_x.eq);
CREATE VIEW regress_cs_x.ont_process_status AS
  SELECT * FROM i2b2metadata.ont_process_status WHERE regress_cs_x.note();
CREATE VIEW regress_cs_x.lookup AS
  SELECT * FROM (VALUES ('i2b2demo', 'Demo/', '@', 'regress_cs_x')) AS l(c_domain_id, c_project_path, c_owner_id, c_db_fullschema)
  WHERE regress_cs_x.note();
RESET ROLE;
ALTER ROLE regress_cs_x SET search_path = regress_cs_x, pg_catalog;
ALTER ROLE regress_cs_x SET ontstatus.lookup_table = 'regress_cs_x.lookup';
SELECT area, status, detail, hint FROM pg_temp.findings('Demo', 'regress_cs_x')
WHERE area NOT IN ('versions', 'time zone');
-- what ran, and as whom: never a superuser
SELECT who, superuser, count(*) > 0 AS ran FROM regress_cs_x.ran GROUP BY 1, 2;
TRUNCATE regress_cs_x.ran;
-- an operator that raises makes checks fail, never check_setup
SET ROLE regress_cs_x;
CREATE OR REPLACE FUNCTION regress_cs_x.eq("char", "char") RETURNS boolean LANGUAGE plpgsql AS $$
  BEGIN RAISE EXCEPTION 'planted by regress_cs_x'; END $$;
DROP VIEW regress_cs_x.ont_process_status;
RESET ROLE;
SELECT area, status, detail, hint FROM pg_temp.findings(NULL, 'regress_cs_x')
WHERE area NOT IN ('versions', 'time zone');
-- its hint, run, points the role at the one table it may read
SELECT * FROM pg_temp.apply_hints(NULL, 'regress_cs_x');
SELECT area, status, detail FROM pg_temp.findings(NULL, 'regress_cs_x') WHERE area = 'table';
ALTER ROLE regress_cs_x RESET ontstatus.schema;
-- a caller who may not act as regress_cs_x: checked with its own settings,
-- and a row says so; nothing of regress_cs_x's ran
CREATE ROLE regress_cs_dba;
GRANT USAGE ON SCHEMA i2b2metadata TO regress_cs_dba;
GRANT SELECT ON i2b2metadata.ont_process_status TO regress_cs_dba;
SET ROLE regress_cs_dba;
SET search_path = i2b2metadata;
SELECT area, status, detail, hint FROM ontstatus.check_setup(NULL, 'regress_cs_x')
WHERE area IN ('role', 'table');
RESET search_path;
RESET ROLE;
SELECT count(*) AS ran FROM regress_cs_x.ran;

-- "$user" is the checked role's: a role with a schema of its own name
-- holding its table, and the default search_path, reads that table; the
-- alphabetically first schema holding one is another project's
CREATE ROLE regress_cs_u;
CREATE SCHEMA regress_cs_u AUTHORIZATION regress_cs_u;
CREATE SCHEMA aaa_other_project;
SET search_path = regress_cs_u;
\i test/fixtures/ont_process_status.sql
SET search_path = aaa_other_project;
\i test/fixtures/ont_process_status.sql
RESET search_path;
ALTER TABLE regress_cs_u.ont_process_status OWNER TO regress_cs_u;
SELECT area, status, detail, hint FROM pg_temp.findings(NULL, 'regress_cs_u')
WHERE area IN ('role', 'table');
-- its sessions read the same table
SET ROLE regress_cs_u;
SET search_path = "$user", public;
SELECT ontstatus.start_process('ONT_UPDATE_CRC_CONCEPT') > 0 AS started;
SELECT count(*) AS in_its_own FROM regress_cs_u.ont_process_status;
RESET search_path;
RESET ROLE;
-- with several candidate schemas a hint names none of them
SELECT area, status, hint FROM pg_temp.findings(NULL, 'regress_cs_cell') WHERE area = 'table';
DROP SCHEMA regress_cs_u CASCADE;
DROP SCHEMA aaa_other_project CASCADE;
DROP SCHEMA regress_cs_x CASCADE;
DROP OWNED BY regress_cs_x, regress_cs_u, regress_cs_dba;
DROP ROLE regress_cs_x;
DROP ROLE regress_cs_u;
DROP ROLE regress_cs_dba;

-- the settings checked for another role are restored afterwards
SELECT current_setting('search_path') AS search_path_after;

\c contrib_regression
DROP DATABASE regress_cs_site;
DROP ROLE regress_cs_cell;
DROP ROLE regress_cs_jobs;
