--
-- ddl_variants: every DDL variant of ont_process_status seen in i2b2
-- installs gives the same rows and the same response.
--
SET timezone = 'America/New_York';
SET datestyle = 'ISO, YMD';

-- older installs: numeric ids from a sequence, varchar message, date columns
CREATE SCHEMA legacy;
CREATE SEQUENCE legacy.ont_sq_ps_prid;
CREATE TABLE legacy.ont_process_status (
    process_id        numeric(5,0) DEFAULT nextval('legacy.ont_sq_ps_prid') PRIMARY KEY,
    process_type_cd   varchar(50),
    start_date        date,
    end_date          date,
    process_step_cd   varchar(50),
    process_status_cd varchar(50),
    crc_upload_id     numeric(38,0),
    status_cd         varchar(50),
    message           varchar(2000),
    entry_date        date,
    change_date       date,
    changedby_char    char(50));

-- timestamptz columns and a plain integer id
CREATE SCHEMA tz;
CREATE TABLE tz.ont_process_status (
    process_id        integer PRIMARY KEY,
    process_type_cd   varchar(50),
    start_date        timestamptz,
    end_date          timestamptz,
    process_step_cd   varchar(50),
    process_status_cd varchar(50),
    crc_upload_id     integer,
    status_cd         varchar(50),
    message           text);

-- upper-case identifiers in the DDL fold to lower case, as i2b2 writes them
CREATE SCHEMA upper_ddl;
CREATE TABLE upper_ddl.ONT_PROCESS_STATUS (
    PROCESS_ID serial PRIMARY KEY, PROCESS_TYPE_CD varchar(50), START_DATE timestamp,
    END_DATE timestamp, PROCESS_STEP_CD varchar(50), PROCESS_STATUS_CD varchar(50),
    CRC_UPLOAD_ID int, STATUS_CD varchar(50), MESSAGE text);

INSERT INTO legacy.ont_process_status
    (process_type_cd, start_date, end_date, process_step_cd, process_status_cd, crc_upload_id, message)
SELECT process_type_cd, start_date, end_date, process_step_cd, process_status_cd, crc_upload_id, message
FROM i2b2metadata.ont_process_status WHERE process_id IN (26, 7, 9) ORDER BY process_id;
-- tz and upper_ddl get every row of the official table, under the same ids
INSERT INTO tz.ont_process_status
SELECT process_id, process_type_cd, start_date, end_date, process_step_cd, process_status_cd,
       crc_upload_id, status_cd, message
FROM i2b2metadata.ont_process_status;
INSERT INTO upper_ddl.ont_process_status
SELECT process_id, process_type_cd, start_date, end_date, process_step_cd, process_status_cd,
       crc_upload_id, status_cd, message
FROM i2b2metadata.ont_process_status;
SELECT * FROM legacy.ont_process_status ORDER BY process_id;

-- the rows, and the row elements of the response, for each variant
SET ontstatus.schema = 'legacy';
SELECT * FROM ontstatus.process_status(regress.req(''));
SELECT unnest(xpath('/*/message_body/*/ontology_process_status',
                    ontstatus.get_ont_process_status(regress.req(''))));
SELECT process_id, start_date FROM ontstatus.find_process_status(process_id => 2);
-- date columns compared with request times: the range is inclusive
SELECT regress.ids(ontstatus.get_ont_process_status(regress.req(
  '<process_start_date><start_time>2010-04-05T00:00:00</start_time><end_time>2011-01-01T00:00:00</end_time></process_start_date>')));

SET ontstatus.schema = 'tz';
SELECT * FROM ontstatus.process_status(regress.req('', ' max_return_records="4"'));
SELECT unnest(xpath('/*/message_body/*/ontology_process_status',
                    ontstatus.get_ont_process_status(regress.req('', ' max_return_records="4"'))));
-- a timestamptz column is an instant: 2010-04-05 00:00 New York is 04:00Z
SELECT regress.ids(ontstatus.get_ont_process_status(regress.req(
  '<process_start_date><start_time>2010-04-05T04:00:00Z</start_time><end_time>2010-04-05T04:00:00Z</end_time></process_start_date>')));
-- and in Kolkata the same row is written with that zone's offset
SET timezone = 'Asia/Kolkata';
SELECT (xpath('/*/message_body/*/ontology_process_status/start_date/text()',
              ontstatus.get_ont_process_status(regress.req('<process_id>26</process_id>'))))[1];
SET timezone = 'America/New_York';

SET ontstatus.schema = 'upper_ddl';
SELECT * FROM ontstatus.process_status(regress.req('', ' max_return_records="4"'));

-- all variants and the official DDL agree, response for response
CREATE FUNCTION pg_temp.body(schema text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM set_config('ontstatus.schema', schema, true);
  RETURN (xpath('/*/message_body/*', ontstatus.get_ont_process_status(regress.req(''))))[1]::text;
END $$;
SELECT pg_temp.body('tz') = pg_temp.body('i2b2metadata') AS tz_agrees,
       pg_temp.body('upper_ddl') = pg_temp.body('i2b2metadata') AS upper_ddl_agrees;

RESET ontstatus.schema;
DROP SCHEMA legacy, tz, upper_ddl CASCADE;

-- A numeric process_id can be NaN, which no bigint and no xs:long holds:
-- get_ont_process_status answers with an ERROR response (as for any row it
-- cannot carry), process_status raises the SQL error
CREATE SCHEMA nan_ids;
CREATE TABLE nan_ids.ont_process_status (
    process_id numeric PRIMARY KEY, process_type_cd varchar(50), start_date timestamp,
    end_date timestamp, process_step_cd varchar(50), process_status_cd varchar(50),
    crc_upload_id numeric, status_cd varchar(50), message text);
INSERT INTO nan_ids.ont_process_status (process_id, process_type_cd, process_status_cd)
VALUES (1, 'ONT_ADD_CONCEPT', 'COMPLETED'), ('NaN', 'ONT_ADD_CONCEPT', 'COMPLETED');
SET ontstatus.schema = 'nan_ids';
SELECT regress.status(ontstatus.get_ont_process_status(regress.req('<process_id>1</process_id>')));
SELECT regress.status(ontstatus.get_ont_process_status(regress.req('')));
\set VERBOSITY terse
SELECT * FROM ontstatus.process_status(regress.req(''));
\set VERBOSITY default
RESET ontstatus.schema;
DROP SCHEMA nan_ids CASCADE;
