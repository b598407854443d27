--
-- request_filters: each filter alone and combined, empty elements, the row
-- limit, ordering, envelopes and prefixes, and the three SQL functions
-- agreeing on the same question.
--
SET timezone = 'America/New_York';
SET datestyle = 'ISO, YMD';

-- Each request's answer from get_ont_process_status (process_ids in
-- document order), and whether process_status returns the same rows in the
-- same order.
SELECT label,
       regress.ids(ontstatus.get_ont_process_status(r)) AS ids,
       regress.ids(ontstatus.get_ont_process_status(r)) = regress.row_ids(r) AS rows_agree
FROM (VALUES
  ('process_id',            regress.req('<process_id>26</process_id>')),
  ('process_id, blanks',    regress.req('<process_id>
      7 </process_id>')),
  -- as in the cell, an id of 0 or less is no filter (the type narrows the list)
  ('process_id, negative: no filter', regress.req('<process_id>-5</process_id><process_type_cd>ONT_PATIENT_COUNT_UPDATE</process_type_cd>')),
  ('process_id 0: no filter', regress.req('<process_id>0</process_id><process_type_cd>ONT_PATIENT_COUNT_UPDATE</process_type_cd>')),
  ('process_id 1 filters',  regress.req('<process_id>1</process_id><process_type_cd>ONT_PATIENT_COUNT_UPDATE</process_type_cd>')),
  ('process_id, +sign',     regress.req('<process_id>+8</process_id>')),
  ('process_type_cd',       regress.req('<process_type_cd>ONT_PATIENT_COUNT_UPDATE</process_type_cd>')),
  ('process_type_cd, no such code', regress.req('<process_type_cd>ONT_NOTHING</process_type_cd>')),
  ('process_type_cd is exact (case)', regress.req('<process_type_cd>ont_patient_count_update</process_type_cd>')),
  ('process_type_cd is exact (blanks)', regress.req('<process_type_cd> ONT_ADD_CONCEPT</process_type_cd>')),
  ('process_status_cd',     regress.req('<process_status_cd>PROCESSING</process_status_cd>')),
  ('started from (inclusive)', regress.req('<process_type_cd>ONT_PATIENT_COUNT_UPDATE</process_type_cd><process_start_date><start_time>2011-01-02T08:30:00</start_time></process_start_date>')),
  ('started to (inclusive)', regress.req('<process_start_date><end_time>2011-01-01T00:00:00.123456</end_time></process_start_date>')),
  ('started between',       regress.req('<process_start_date><start_time>2011-01-01T00:00:00.123456</start_time><end_time>2011-01-02T08:30:00</end_time></process_start_date>')),
  ('ended from (inclusive)', regress.req('<process_end_date><start_time>2012-03-01T06:05:00</start_time></process_end_date>', ' max_return_records="3"')),
  ('ended to (inclusive)',  regress.req('<process_end_date><end_time>2011-01-01T01:00:00</end_time></process_end_date>')),
  ('ended between',         regress.req('<process_end_date><start_time>2011-01-01T01:00:00</start_time><end_time>2011-01-02T09:00:00</end_time></process_end_date>')),
  ('type and status',       regress.req('<process_type_cd>ONT_PATIENT_COUNT_UPDATE</process_type_cd><process_status_cd>PROCESSING</process_status_cd>')),
  ('every filter',          regress.req('<process_id>8</process_id><process_type_cd>ONT_PATIENT_COUNT_UPDATE</process_type_cd><process_status_cd>ABORT</process_status_cd><process_start_date><start_time>2011-01-02T00:00:00</start_time><end_time>2011-01-03T00:00:00</end_time></process_start_date><process_end_date><start_time>2011-01-02T09:00:00</start_time><end_time>2011-01-02T09:00:00</end_time></process_end_date>')),
  ('filters that exclude each other', regress.req('<process_id>8</process_id><process_status_cd>COMPLETED</process_status_cd>')),
  ('the specification''s example: empty process_id', regress.req('<process_id/><process_type_cd>ONT_UPDATE_CRC_CONCEPT</process_type_cd>', ' max_return_records="100"')),
  ('empty elements everywhere', regress.req('<process_id/><process_type_cd/><process_status_cd></process_status_cd><process_start_date><start_time/><end_time/></process_start_date><process_end_date/>', ' max_return_records="9"')),
  ('blank elements are empty', regress.req('<process_id>  </process_id><process_type_cd>
  </process_type_cd>', ' max_return_records="4"')),
  ('unknown elements are ignored', regress.req('<comment>x</comment><process_id>26</process_id><extra><process_id>3</process_id></extra>')),
  ('CDATA and character references', regress.req('<process_type_cd><![CDATA[ONT_ADD_]]>CONCEPT</process_type_cd><process_status_cd>COMPLE&#x54;ED</process_status_cd>')),
  ('children qualified by the ONT namespace', regress.req('<ns4:process_id>26</ns4:process_id>')),
  ('max_return_records="5": the first five', regress.req('', ' max_return_records="5"')),
  ('max_return_records=" 2 "', regress.req('', ' max_return_records=" 2 "')),
  ('max_return_records="1", last of a type', regress.req('<process_type_cd>ONT_DELETE_CONCEPT</process_type_cd><process_start_date><start_time>2013-01-20T00:00:00</start_time></process_start_date>', ' max_return_records="1"'))
) AS t(label, r);

-- no filter, absent / 0 / 5 max_return_records: counts, first and last
SELECT label, cardinality(ids) AS n, ids[1] AS first, ids[cardinality(ids)] AS last
FROM (VALUES
  ('no filter, no max_return_records', regress.ids(ontstatus.get_ont_process_status(regress.req('')))),
  ('max_return_records="0"', regress.ids(ontstatus.get_ont_process_status(regress.req('', ' max_return_records="0"')))),
  ('max_return_records="5"', regress.ids(ontstatus.get_ont_process_status(regress.req('', ' max_return_records="5"'))))
) AS t(label, ids);

-- every row of the table, once, in process_id order
SELECT regress.ids(ontstatus.get_ont_process_status(regress.req('')))
     = (SELECT array_agg(process_id::bigint ORDER BY process_id) FROM i2b2metadata.ont_process_status)
  AS all_rows_in_order;

-- the default limit is 1000 rows: a table of 1100
CREATE SCHEMA big;
CREATE TABLE big.ont_process_status (LIKE i2b2metadata.ont_process_status);
INSERT INTO big.ont_process_status (process_id, process_type_cd, process_status_cd)
SELECT i, 'ONT_ADD_CONCEPT', 'COMPLETED' FROM generate_series(1100, 1, -1) AS i;
SET ontstatus.schema = 'big';
SELECT label, cardinality(ids) AS n, ids[1] AS first, ids[cardinality(ids)] AS last
FROM (VALUES
  ('absent', regress.ids(ontstatus.get_ont_process_status(regress.req('')))),
  ('"0"', regress.ids(ontstatus.get_ont_process_status(regress.req('', ' max_return_records="0"')))),
  ('"1050"', regress.ids(ontstatus.get_ont_process_status(regress.req('', ' max_return_records="1050"')))),
  ('"2147483647"', regress.ids(ontstatus.get_ont_process_status(regress.req('', ' max_return_records="2147483647"'))))
) AS t(label, ids);
SELECT count(*) AS find_default FROM ontstatus.find_process_status();
SELECT count(*) AS find_max_rows_0 FROM ontstatus.find_process_status(max_rows => 0);
SELECT count(*) AS find_max_rows_null FROM ontstatus.find_process_status(max_rows => NULL);
SELECT count(*) AS find_max_rows_1100 FROM ontstatus.find_process_status(max_rows => 1100);
RESET ontstatus.schema;
DROP SCHEMA big CASCADE;

-- Envelopes and prefixes: the full i2b2 request with three different
-- prefix pairs, a default namespace, and bare elements.
SELECT label, regress.status(resp), regress.ids(resp)
FROM (VALUES
  ('envelope ns6/ns4', ontstatus.get_ont_process_status(
'<ns6:request xmlns:ns4="http://www.i2b2.org/xsd/cell/ont/1.1/" xmlns:ns6="http://www.i2b2.org/xsd/hive/msg/1.1/">
  <message_header><project_id>Demo</project_id></message_header>
  <request_header><result_waittime_ms>180000</result_waittime_ms></request_header>
  <message_body><ns4:get_ont_process_status><process_id>26</process_id></ns4:get_ont_process_status></message_body>
</ns6:request>')),
  ('envelope ns3/ns2', ontstatus.get_ont_process_status(
'<ns3:request xmlns:ns3="http://www.i2b2.org/xsd/hive/msg/1.1/" xmlns:ns2="http://www.i2b2.org/xsd/cell/ont/1.1/"><message_header/><message_body><ns2:get_ont_process_status><process_id>3</process_id></ns2:get_ont_process_status></message_body></ns3:request>')),
  ('envelope i2b2/ont', ontstatus.get_ont_process_status(
'<i2b2:request xmlns:i2b2="http://www.i2b2.org/xsd/hive/msg/1.1/"><message_body><ont:get_ont_process_status xmlns:ont="http://www.i2b2.org/xsd/cell/ont/1.1/"><process_id>7</process_id></ont:get_ont_process_status></message_body></i2b2:request>')),
  ('envelope, default namespace', ontstatus.get_ont_process_status(
'<request xmlns="http://www.i2b2.org/xsd/hive/msg/1.1/"><message_header/><message_body><get_ont_process_status xmlns="http://www.i2b2.org/xsd/cell/ont/1.1/"><process_id>8</process_id></get_ont_process_status></message_body></request>')),
  ('envelope, body element without namespace', ontstatus.get_ont_process_status(
'<ns6:request xmlns:ns6="http://www.i2b2.org/xsd/hive/msg/1.1/"><message_body><get_ont_process_status><process_id>9</process_id></get_ont_process_status></message_body></ns6:request>')),
  ('bare, prefix ns4', ontstatus.get_ont_process_status(
'<ns4:get_ont_process_status xmlns:ns4="http://www.i2b2.org/xsd/cell/ont/1.1/"><process_id>12</process_id></ns4:get_ont_process_status>')),
  ('bare, default namespace', ontstatus.get_ont_process_status(
'<get_ont_process_status xmlns="http://www.i2b2.org/xsd/cell/ont/1.1/"><process_id>13</process_id></get_ont_process_status>')),
  ('bare, no namespace', ontstatus.get_ont_process_status(
'<get_ont_process_status><process_id>40</process_id></get_ont_process_status>')),
  ('bare, XML declaration', ontstatus.get_ont_process_status(
'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<get_ont_process_status><process_id>26</process_id></get_ont_process_status>'))
) AS t(label, resp);

-- the xml overloads give what the text ones give
SELECT regress.masked(ontstatus.get_ont_process_status(regress.req('<process_type_cd>ONT_PATIENT_COUNT_UPDATE</process_type_cd>')::xml))
     = regress.masked(ontstatus.get_ont_process_status(regress.req('<process_type_cd>ONT_PATIENT_COUNT_UPDATE</process_type_cd>')::text))
  AS xml_overload_same_response;
SELECT process_id, process_status_cd
FROM ontstatus.process_status(XMLPARSE(DOCUMENT '<get_ont_process_status><process_type_cd>ONT_PATIENT_COUNT_UPDATE</process_type_cd></get_ont_process_status>'));
SELECT pg_typeof(ontstatus.get_ont_process_status('<get_ont_process_status/>'::xml)) AS xml_result_type;

-- process_status is usable in the select list too
SELECT (ontstatus.process_status(regress.req('<process_id>26</process_id>'))).process_id;

-- find_process_status answers the same questions from SQL arguments
SELECT label, xml_ids, find_ids, xml_ids = find_ids AS agree
FROM (VALUES
  ('process_id',
   regress.ids(ontstatus.get_ont_process_status(regress.req('<process_id>26</process_id>'))),
   ARRAY(SELECT process_id FROM ontstatus.find_process_status(process_id => 26))),
  ('type and status',
   regress.ids(ontstatus.get_ont_process_status(regress.req('<process_type_cd>ONT_PATIENT_COUNT_UPDATE</process_type_cd><process_status_cd>PROCESSING</process_status_cd>'))),
   ARRAY(SELECT process_id FROM ontstatus.find_process_status(process_type_cd => 'ONT_PATIENT_COUNT_UPDATE', process_status_cd => 'PROCESSING'))),
  ('started between',
   regress.ids(ontstatus.get_ont_process_status(regress.req('<process_start_date><start_time>2011-01-01T00:00:00.123456</start_time><end_time>2011-01-02T08:30:00</end_time></process_start_date>'))),
   ARRAY(SELECT process_id FROM ontstatus.find_process_status(started_from => '2011-01-01 00:00:00.123456', started_to => '2011-01-02 08:30'))),
  ('ended between',
   regress.ids(ontstatus.get_ont_process_status(regress.req('<process_end_date><start_time>2011-01-01T01:00:00</start_time><end_time>2011-01-02T09:00:00</end_time></process_end_date>'))),
   ARRAY(SELECT process_id FROM ontstatus.find_process_status(ended_from => '2011-01-01 01:00', ended_to => '2011-01-02 09:00'))),
  ('limit 5',
   regress.ids(ontstatus.get_ont_process_status(regress.req('', ' max_return_records="5"'))),
   ARRAY(SELECT process_id FROM ontstatus.find_process_status(max_rows => 5))),
  ('everything',
   regress.ids(ontstatus.get_ont_process_status(regress.req(''))),
   ARRAY(SELECT process_id FROM ontstatus.find_process_status()))
) AS t(label, xml_ids, find_ids);

-- and all three return the same rows, column for column
SELECT (SELECT array_agg(r ORDER BY r.process_id) FROM ontstatus.process_status(regress.req('<process_type_cd>ONT_PATIENT_COUNT_UPDATE</process_type_cd>')) r)
     = (SELECT array_agg(r ORDER BY r.process_id) FROM ontstatus.find_process_status(process_type_cd => 'ONT_PATIENT_COUNT_UPDATE') r)
  AS same_rows;
SELECT * FROM ontstatus.find_process_status(process_type_cd => 'ONT_PATIENT_COUNT_UPDATE');
-- in find_process_status, '' is a value, not "no filter": NULL is that
SELECT count(*) AS empty_string_matches FROM ontstatus.find_process_status(process_type_cd => '');
