--
-- init: the extension, the i2b2 metadata schema with its official DDL
-- (release 1.7), sample rows, and helpers the other tests use.
--
CREATE EXTENSION ontstatus;

-- what the extension created: a type and five functions, all in ontstatus
SELECT pg_describe_object(classid, objid, 0) AS object
FROM pg_depend
WHERE refclassid = 'pg_extension'::regclass
  AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'ontstatus')
  AND deptype = 'e'
  -- 17 and later also record the row type's array type as a member
  AND pg_describe_object(classid, objid, 0) NOT LIKE '%[]'
  -- 18 also records a member table's row type: the table stands for it
  AND NOT (classid = 'pg_type'::regclass
             AND (SELECT c.relkind FROM pg_type t JOIN pg_class c ON c.oid = t.typrelid
                  WHERE t.oid = objid) = 'r')
ORDER BY 1;

SELECT extname, extversion, extrelocatable, extnamespace::regnamespace
FROM pg_extension WHERE extname = 'ontstatus';

CREATE SCHEMA i2b2metadata;
SET search_path = i2b2metadata;
\i test/fixtures/ont_process_status.sql
RESET search_path;
\d i2b2metadata.ont_process_status

-- inserted out of process_id order on purpose: results must come sorted.
-- The patient counts (7, 8, 9) are as the cell writes them: progress in
-- process_step_cd, message '', end_date set by every update (even while
-- PROCESSING), the step overwritten by an ABORT.
INSERT INTO i2b2metadata.ont_process_status
    (process_id, process_type_cd, start_date, end_date, process_step_cd,
     process_status_cd, crc_upload_id, status_cd, message)
VALUES
 (26, 'ONT_UPDATE_CRC_CONCEPT', '2010-04-05 00:00:00', '2010-04-05 00:10:00',
      'ONT_SENTTO_CRCLOADER', 'COMPLETED', 624, 'U', 'Upload 624 done'),
 (3,  'ONT_SYNCALL_CRC_CONCEPT', '2010-04-06 10:00:00', NULL,
      'ONT_BUILD_PDO_START', 'PROCESSING', NULL, 'C', NULL),
 (7,  'ONT_PATIENT_COUNT_UPDATE', '2011-01-01 00:00:00.123456', '2011-01-01 01:00:00',
      'PROCESSED 120/4000', 'KILLED', NULL, 'U', ''),
 (8,  'ONT_PATIENT_COUNT_UPDATE', '2011-01-02 08:30:00', '2011-01-02 09:00:00',
      'ONT_PATIENT_COUNT_UPDATE', 'ABORT', NULL, 'U', ''),
 (9,  'ONT_PATIENT_COUNT_UPDATE', '2011-01-03 12:00:00', '2011-01-03 12:20:00',
      'PROCESSED 10/4000', 'PROCESSING', NULL, 'U', ''),
 (12, 'ONT_ADD_CONCEPT', '2011-07-01 23:59:59.999', '2011-07-02 00:00:00',
      'ONT_SENTTO_FRC', 'COMPLETED', 700, 'U', 'Grüße – 日本 ✓'),
 (13, 'ONT_EDIT_CONCEPT', '2012-03-01 06:00:00', '2012-03-01 06:05:00',
      'ONT_SENTTO_FRC', 'ERROR', 701, 'U',
      'a<b & c>d "q" ''s' || chr(9) || 'tab' || chr(10) || 'lf' || chr(13) || 'cr' || chr(7) || 'bel'),
 (40, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);

-- twenty ONT_DELETE_CONCEPT rows, 100..119, for the row limit tests
INSERT INTO i2b2metadata.ont_process_status
    (process_id, process_type_cd, start_date, end_date, process_step_cd,
     process_status_cd, crc_upload_id, status_cd, message)
SELECT 100 + i, 'ONT_DELETE_CONCEPT', timestamp '2013-01-01' + i * interval '1 day',
       timestamp '2013-01-01 01:00' + i * interval '1 day', 'ONT_SENTTO_CRCLOADER',
       'COMPLETED', 800 + i, 'U', 'batch ' || i
FROM generate_series(0, 19) AS i;

-- helpers for the tests
CREATE SCHEMA regress;

-- process_ids in a response, in document order
CREATE FUNCTION regress.ids(response xml) RETURNS bigint[]
LANGUAGE sql IMMUTABLE AS $$
  SELECT coalesce(array_agg(x::text::bigint), '{}')
  FROM unnest(xpath('/*/message_body/*/ontology_process_status/process_id/text()',
                    response)) AS x
$$;

-- "DONE: text" or "ERROR: text" of a response, entities decoded
CREATE FUNCTION regress.status(response xml) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT s.type || ': ' || coalesce(s.text, '')
  FROM XMLTABLE('/*/response_header/result_status/status' PASSING response
                COLUMNS type text PATH '@type', text text PATH '.') AS s
$$;

-- a response with its one varying part, datetime_of_message, masked
CREATE FUNCTION regress.masked(response xml) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT regexp_replace(response::text,
           '<datetime_of_message>[^<]*</datetime_of_message>',
           '<datetime_of_message>(masked)</datetime_of_message>')
$$;

-- the process_ids of the rows from process_status()
CREATE FUNCTION regress.row_ids(request text) RETURNS bigint[]
LANGUAGE sql STABLE AS $$
  SELECT coalesce(array_agg(process_id ORDER BY ordinality), '{}')
  FROM ontstatus.process_status(request) WITH ORDINALITY
$$;

-- a bare request with the given attributes and children
CREATE FUNCTION regress.req(children text, attrs text DEFAULT '') RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT '<ns4:get_ont_process_status xmlns:ns4="http://www.i2b2.org/xsd/cell/ont/1.1/"'
         || attrs || '>' || children || '</ns4:get_ont_process_status>'
$$;

-- the suite's role reaches i2b2metadata through search_path, as i2b2's roles do
ALTER DATABASE contrib_regression SET search_path = i2b2metadata, public;
