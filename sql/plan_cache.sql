--
-- plan_cache: plans are kept per backend for each table and filter shape,
-- and stay right when the table changes under them.
--
SET timezone = 'America/New_York';
SET datestyle = 'ISO, YMD';
CREATE SCHEMA pc;
CREATE TABLE pc.ont_process_status (LIKE i2b2metadata.ont_process_status);
INSERT INTO pc.ont_process_status (process_id, process_type_cd, process_status_cd, crc_upload_id, message)
VALUES (1, 'ONT_ADD_CONCEPT', 'COMPLETED', 10, 'first'), (2, 'ONT_ADD_CONCEPT', 'ERROR', 20, 'second');
SET ontstatus.schema = 'pc';

-- the same shape, many times: the kept plan, new values each time
SELECT i, regress.ids(ontstatus.get_ont_process_status(regress.req('<process_id>' || i || '</process_id>')))
FROM generate_series(1, 3) AS i;

-- a column changes type: the kept plan is revalidated
ALTER TABLE pc.ont_process_status ALTER COLUMN crc_upload_id TYPE numeric(38,0);
SELECT process_id, crc_upload_id FROM ontstatus.process_status(regress.req('<process_id>2</process_id>'));

-- the table is dropped and made again, another DDL variant with other rows
DROP TABLE pc.ont_process_status;
CREATE TABLE pc.ont_process_status (
    process_id numeric(5,0) PRIMARY KEY, process_type_cd varchar(50), start_date date,
    end_date date, process_step_cd varchar(50), process_status_cd varchar(50),
    crc_upload_id numeric(38,0), status_cd varchar(50), message varchar(2000));
INSERT INTO pc.ont_process_status (process_id, process_type_cd, process_status_cd, message, start_date)
VALUES (2, 'ONT_EDIT_CONCEPT', 'KILLED', 'recreated', '2020-02-02');
SELECT process_id, process_type_cd, message, start_date
FROM ontstatus.process_status(regress.req('<process_id>2</process_id>'));

-- the schema is renamed: the old name is gone, the new one works
ALTER SCHEMA pc RENAME TO pc2;
SELECT regress.status(ontstatus.get_ont_process_status(regress.req('<process_id>2</process_id>')));
SET ontstatus.schema = 'pc2';
SELECT regress.ids(ontstatus.get_ont_process_status(regress.req('<process_id>2</process_id>')));
RESET ontstatus.schema;
DROP SCHEMA pc2 CASCADE;

-- Every one of the 128 filter
-- combinations, twice over, each compared with find_process_status.
CREATE FUNCTION pg_temp.shape_request(mask int) RETURNS text LANGUAGE sql AS $$
  SELECT regress.req(
    CASE WHEN mask & 1 > 0 THEN '<process_id>8</process_id>' ELSE '' END ||
    CASE WHEN mask & 2 > 0 THEN '<process_type_cd>ONT_PATIENT_COUNT_UPDATE</process_type_cd>' ELSE '' END ||
    CASE WHEN mask & 4 > 0 THEN '<process_status_cd>ABORT</process_status_cd>' ELSE '' END ||
    '<process_start_date>' ||
    CASE WHEN mask & 8 > 0 THEN '<start_time>2011-01-01T00:00:00</start_time>' ELSE '' END ||
    CASE WHEN mask & 16 > 0 THEN '<end_time>2011-12-31T00:00:00</end_time>' ELSE '' END ||
    '</process_start_date><process_end_date>' ||
    CASE WHEN mask & 32 > 0 THEN '<start_time>2011-01-01T00:00:00</start_time>' ELSE '' END ||
    CASE WHEN mask & 64 > 0 THEN '<end_time>2011-12-31T00:00:00</end_time>' ELSE '' END ||
    '</process_end_date>')
$$;
CREATE FUNCTION pg_temp.shape_find(mask int) RETURNS bigint[] LANGUAGE sql AS $$
  SELECT coalesce(array_agg(process_id ORDER BY process_id), '{}') FROM ontstatus.find_process_status(
    process_id => CASE WHEN mask & 1 > 0 THEN 8 END,
    process_type_cd => CASE WHEN mask & 2 > 0 THEN 'ONT_PATIENT_COUNT_UPDATE' END,
    process_status_cd => CASE WHEN mask & 4 > 0 THEN 'ABORT' END,
    started_from => CASE WHEN mask & 8 > 0 THEN timestamptz '2011-01-01' END,
    started_to => CASE WHEN mask & 16 > 0 THEN timestamptz '2011-12-31' END,
    ended_from => CASE WHEN mask & 32 > 0 THEN timestamptz '2011-01-01' END,
    ended_to => CASE WHEN mask & 64 > 0 THEN timestamptz '2011-12-31' END)
$$;
SELECT count(*) AS shapes_tried,
       count(*) FILTER (WHERE regress.ids(ontstatus.get_ont_process_status(pg_temp.shape_request(mask)))
                              = pg_temp.shape_find(mask)) AS shapes_agreeing,
       count(*) FILTER (WHERE mask = 127 AND pg_temp.shape_find(mask) = '{8}') AS all_filters_find_row_8
FROM generate_series(0, 127) AS mask, generate_series(1, 2) AS round;

-- A plan in use is never freed.  The table is a view whose rows come from
-- a function that itself calls ontstatus in 128 filter shapes on another
-- table while the outer call's plan is running; a cache that evicted plans
-- (as one of 32 entries did) freed the running plan under the outer call.
-- The session must survive: its temporary table is still there at the end.
CREATE TEMP TABLE survivor AS SELECT 1 AS alive;
CREATE SCHEMA nest;
CREATE TABLE nest.inner_rows (LIKE i2b2metadata.ont_process_status);
INSERT INTO nest.inner_rows SELECT * FROM i2b2metadata.ont_process_status WHERE process_id IN (7, 8, 9);
CREATE FUNCTION nest.rows() RETURNS SETOF nest.inner_rows LANGUAGE plpgsql
SET ontstatus.schema = 'i2b2metadata' AS $$
BEGIN
  PERFORM pg_temp.shape_find(mask) FROM generate_series(0, 127) AS mask;
  RETURN QUERY SELECT * FROM nest.inner_rows;
END $$;
CREATE VIEW nest.ont_process_status AS SELECT * FROM nest.rows();
SET ontstatus.schema = 'nest';
SELECT regress.ids(ontstatus.get_ont_process_status(regress.req('<process_type_cd>ONT_PATIENT_COUNT_UPDATE</process_type_cd>')));
SELECT array_agg(process_id ORDER BY process_id) FROM ontstatus.find_process_status(process_status_cd => 'ABORT');
SELECT regress.ids(ontstatus.get_ont_process_status(regress.req('<process_type_cd>ONT_PATIENT_COUNT_UPDATE</process_type_cd>')));
RESET ontstatus.schema;
DROP SCHEMA nest CASCADE;
SELECT alive FROM survivor;

-- A lookup plan in use is never freed either (it was, when the lookup
-- table changed: a segfault any role could cause).  As a role with no
-- grants: a temporary lookup view lk1 whose WHERE calls a function that
-- calls ontstatus under ontstatus.lookup_table = lk2, so the inner call
-- prepares lk2's lookup while the outer one is running lk1's.
CREATE SCHEMA lk_target;
CREATE TABLE lk_target.ont_process_status (LIKE i2b2metadata.ont_process_status);
INSERT INTO lk_target.ont_process_status (process_id, process_type_cd, process_status_cd)
VALUES (5, 'ONT_ADD_CONCEPT', 'COMPLETED');
GRANT USAGE ON SCHEMA lk_target TO PUBLIC;
GRANT SELECT ON lk_target.ont_process_status TO PUBLIC;
CREATE ROLE lk_nobody;
SET ROLE lk_nobody;
SELECT ontstatus.get_ont_process_status('<x/>') IS NOT NULL AS library_loaded;
CREATE TEMP TABLE lk2 (c_domain_id text, c_project_path text, c_owner_id text, c_db_fullschema text);
INSERT INTO lk2 VALUES ('d', 'P/', '@', 'lk_target');
CREATE FUNCTION pg_temp.req_p() RETURNS text LANGUAGE sql AS $$
  SELECT '<ns6:request xmlns:ns6="http://www.i2b2.org/xsd/hive/msg/1.1/"'
         || ' xmlns:ns4="http://www.i2b2.org/xsd/cell/ont/1.1/">'
         || '<message_header><security><domain>d</domain><username>u</username></security>'
         || '<project_id>P</project_id></message_header>'
         || '<message_body><ns4:get_ont_process_status><process_id>5</process_id>'
         || '</ns4:get_ont_process_status></message_body></ns6:request>'
$$;
CREATE FUNCTION pg_temp.inner_call() RETURNS boolean LANGUAGE sql
SET ontstatus.lookup_table = 'lk2' AS $$
  SELECT ontstatus.get_ont_process_status(pg_temp.req_p()) IS NOT NULL
$$;
CREATE TEMP VIEW lk1 AS SELECT * FROM lk2 WHERE pg_temp.inner_call();
SET ontstatus.lookup_table = 'lk1';
SELECT CAST(xpath('//ontology_process_status/process_id/text()',
                  ontstatus.get_ont_process_status(pg_temp.req_p())) AS text[]) AS outer_ids;
SELECT CAST(xpath('//ontology_process_status/process_id/text()',
                  ontstatus.get_ont_process_status(pg_temp.req_p())) AS text[]) AS again;
RESET ontstatus.lookup_table;
RESET ROLE;
SELECT alive FROM survivor;
DROP SCHEMA lk_target CASCADE;
DROP OWNED BY lk_nobody;
DROP ROLE lk_nobody;
