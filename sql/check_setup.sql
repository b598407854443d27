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
-- run every hint of the fail and warn rows (the SQL a DBA would paste)
CREATE FUNCTION pg_temp.apply_hints(project text, role name) RETURNS SETOF text
LANGUAGE plpgsql AS $$
DECLARE h text;
BEGIN
  FOR h IN SELECT c.hint FROM ontstatus.check_setup(project, role) c
           WHERE c.status <> 'ok' AND c.area NOT IN ('processes', 'time zone')
  LOOP
    EXECUTE h;
    RETURN NEXT h;
  END LOOP;
END $$;

-- As the installer leaves it: the lookup maps Demo to public, the cell's
-- role has no grants at all
SELECT * FROM pg_temp.findings('Demo', 'regress_cs_cell');
-- the versions rows: the installed version is the one available
SELECT status, detail LIKE 'ontstatus 1.2,%' AS this_version
FROM ontstatus.check_setup() WHERE area = 'versions' LIMIT 1;

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

-- the job role: the lifecycle is a warn (a role may only read), its hints
-- the GRANTs; after them it runs start_process and finish_process
SELECT area, status, detail, hint FROM pg_temp.findings(NULL, 'regress_cs_jobs')
WHERE area = 'privileges';
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

-- no row for the project: a fail, the hint an INSERT naming the schema
SELECT area, status, detail, hint FROM pg_temp.findings('Other', 'regress_cs_cell') WHERE area = 'table';

-- a role that does not exist is a finding, not an error
SELECT area, status, detail, hint FROM pg_temp.findings(NULL, 'regress_cs_nobody')
WHERE area IN ('privileges', 'table');

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
ALTER DATABASE regress_cs_site SET ontstatus.table_time_zone = 'America/New_York';
SELECT status, detail FROM ontstatus.check_setup(NULL, 'regress_cs_cell') WHERE area = 'time zone';
ALTER DATABASE regress_cs_site RESET ontstatus.table_time_zone;
ALTER ROLE regress_cs_cell RESET TimeZone;

-- the settings checked for another role are restored afterwards
SELECT current_setting('search_path') AS search_path_after;

\c contrib_regression
DROP DATABASE regress_cs_site;
DROP ROLE regress_cs_cell;
DROP ROLE regress_cs_jobs;
