--
-- hardening: hostile XML, privileges (row-level security, a hostile
-- search_path), and a database in another encoding.
--
-- a crash would end this session (every session): its temporary table
-- must still be there at the end
CREATE TEMP TABLE survivor AS SELECT pg_backend_pid() AS pid;
SET timezone = 'America/New_York';
-- a hang would stall the suite: make it fail it instead
SET statement_timeout = '60s';

-- What each threat gets: the shape and text of get_ont_process_status'
-- answer, and what process_status raises.  Nothing is ever read from a
-- file or the network: no response contains /etc/passwd.
SELECT label, regress.error_shape(resp) AS shape, regress.status(resp) AS response,
       regress.row_error(r) AS process_status,
       position('root:' IN resp::text) = 0 AS no_file_content
FROM (VALUES
  ('billion laughs', '<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<get_ont_process_status><process_type_cd>&lol9;</process_type_cd></get_ont_process_status>'),
  ('quadratic blowup', '<!DOCTYPE q [<!ENTITY a "' || repeat('a', 50000) || '">]>'
     || '<get_ont_process_status><process_type_cd>' || repeat('&a;', 10000)
     || '</process_type_cd></get_ont_process_status>'),
  ('external entity, file://', '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
     || '<get_ont_process_status><process_type_cd>&e;</process_type_cd></get_ont_process_status>'),
  ('external entity, http://', '<!DOCTYPE x [<!ENTITY e SYSTEM "http://127.0.0.1:9/e">]>'
     || '<get_ont_process_status><process_type_cd>&e;</process_type_cd></get_ont_process_status>'),
  ('external DTD', '<!DOCTYPE get_ont_process_status SYSTEM "http://127.0.0.1:9/ont.dtd">'
     || '<get_ont_process_status/>'),
  ('parameter entity', '<!DOCTYPE x [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]><get_ont_process_status/>'),
  ('DOCTYPE inside the envelope''s body', '<ns6:request xmlns:ns6="http://www.i2b2.org/xsd/hive/msg/1.1/"><message_body><!DOCTYPE x><get_ont_process_status/></message_body></ns6:request>'),
  ('undefined entity without DTD', '<get_ont_process_status><process_type_cd>&passwd;</process_type_cd></get_ont_process_status>'),
  ('200,000 nested elements', '<get_ont_process_status>' || repeat('<a>', 200000) || repeat('</a>', 200000) || '</get_ont_process_status>'),
  ('60 MB request', '<get_ont_process_status><process_type_cd>' || repeat('x', 60 * 1024 * 1024) || '</process_type_cd></get_ont_process_status>'),
  ('80,000 attributes in 1 MB', '<get_ont_process_status ' || (SELECT string_agg('a' || i || '="1"', ' ') FROM generate_series(1, 80000) AS i) || '/>'),
  ('101 attributes', '<get_ont_process_status ' || (SELECT string_agg('a' || i || '="1"', ' ') FROM generate_series(1, 101) AS i) || '/>'),
  ('process_id beyond bigint', regress.req('<process_id>9223372036854775808</process_id>')),
  ('max_return_records beyond int', regress.req('', ' max_return_records="2147483648"')),
  ('two process_id elements', regress.req('<process_id>26</process_id><process_id>27</process_id>'))
) AS t(label, r),
LATERAL (SELECT ontstatus.get_ont_process_status(r) AS resp) AS c;

-- Within the limits, the parser's own: with the size limit raised, 200,000
-- nested elements stop at the depth limit (200 levels, below libxml2's own,
-- whose message varies by version) and 60 MB of text at the 10 MB a value
-- may have, without either being read into memory whole.
SET ontstatus.max_request_bytes = '100MB';
SELECT label, regress.status(resp) AS response
FROM (VALUES
  ('200,000 nested elements', '<get_ont_process_status>' || repeat('<a>', 200000) || repeat('</a>', 200000) || '</get_ont_process_status>'),
  ('200 levels are fine', '<get_ont_process_status>' || repeat('<a>', 199) || repeat('</a>', 199) || '</get_ont_process_status>'),
  ('201 levels are not', '<get_ont_process_status>' || repeat('<a>', 200) || repeat('</a>', 200) || '</get_ont_process_status>'),
  ('60 MB request', '<get_ont_process_status><process_type_cd>' || repeat('x', 60 * 1024 * 1024) || '</process_type_cd></get_ont_process_status>'),
  ('100 attributes are fine', '<get_ont_process_status ' || (SELECT string_agg('a' || i || '="1"', ' ') FROM generate_series(1, 100) AS i) || '/>')
) AS t(label, r),
LATERAL (SELECT ontstatus.get_ont_process_status(r) AS resp) AS c;
RESET ontstatus.max_request_bytes;

-- XInclude is not processed: the include element is just an unknown child
SELECT regress.status(resp), position('root:' IN resp::text) = 0 AS no_file_content,
       cardinality(regress.ids(resp)) AS rows
FROM (SELECT ontstatus.get_ont_process_status(
  '<get_ont_process_status xmlns:xi="http://www.w3.org/2001/XInclude" max_return_records="3"><process_type_cd><xi:include href="file:///etc/passwd" parse="text"/></process_type_cd></get_ont_process_status>') AS resp) AS t;
RESET statement_timeout;

-- Row-level security on ont_process_status is honoured by all three
-- functions: they read with the caller's rights.
CREATE SCHEMA rls;
CREATE TABLE rls.ont_process_status (LIKE i2b2metadata.ont_process_status);
INSERT INTO rls.ont_process_status (process_id, process_type_cd, process_status_cd)
VALUES (1, 'ONT_ADD_CONCEPT', 'COMPLETED'), (2, 'SECRET', 'COMPLETED'), (3, 'ONT_ADD_CONCEPT', 'ERROR');
ALTER TABLE rls.ont_process_status ENABLE ROW LEVEL SECURITY;
CREATE ROLE regress_ontstatus_rls;
GRANT USAGE ON SCHEMA rls, regress TO regress_ontstatus_rls;
GRANT SELECT ON rls.ont_process_status TO regress_ontstatus_rls;
CREATE POLICY no_secrets ON rls.ont_process_status FOR SELECT TO regress_ontstatus_rls
  USING (process_type_cd <> 'SECRET');
SET ontstatus.schema = 'rls';
SET ROLE regress_ontstatus_rls;
SELECT regress.ids(ontstatus.get_ont_process_status(regress.req(''))) AS get_ont,
       regress.row_ids(regress.req('')) AS process_status,
       ARRAY(SELECT process_id FROM ontstatus.find_process_status()) AS find;
RESET ROLE;
-- the table's owner is not subject to the policy
SELECT regress.ids(ontstatus.get_ont_process_status(regress.req(''))) AS owner_sees;
RESET ontstatus.schema;
DROP SCHEMA rls CASCADE;
REVOKE ALL ON SCHEMA regress FROM regress_ontstatus_rls;
DROP ROLE regress_ontstatus_rls;

-- A hostile search_path: functions, operators and types that shadow the
-- built-in ones are never used, because every statement names pg_catalog.
CREATE SCHEMA evil;
CREATE FUNCTION evil.hijacked() RETURNS bool LANGUAGE plpgsql AS
$$ BEGIN RAISE NOTICE 'hijacked'; RETURN true; END $$;
CREATE FUNCTION evil.eq(bigint, bigint) RETURNS bool LANGUAGE sql AS 'SELECT evil.hijacked()';
CREATE FUNCTION evil.eq(integer, bigint) RETURNS bool LANGUAGE sql AS 'SELECT evil.hijacked()';
CREATE FUNCTION evil.eq(text, text) RETURNS bool LANGUAGE sql AS 'SELECT evil.hijacked()';
CREATE FUNCTION evil.ge(timestamp, timestamptz) RETURNS bool LANGUAGE sql AS 'SELECT evil.hijacked()';
CREATE FUNCTION evil.le(timestamp, timestamptz) RETURNS bool LANGUAGE sql AS 'SELECT evil.hijacked()';
CREATE OPERATOR evil.= (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = evil.eq);
CREATE OPERATOR evil.= (LEFTARG = integer, RIGHTARG = bigint, FUNCTION = evil.eq);
CREATE OPERATOR evil.= (LEFTARG = text, RIGHTARG = text, FUNCTION = evil.eq);
CREATE OPERATOR evil.>= (LEFTARG = timestamp, RIGHTARG = timestamptz, FUNCTION = evil.ge);
CREATE OPERATOR evil.<= (LEFTARG = timestamp, RIGHTARG = timestamptz, FUNCTION = evil.le);
CREATE FUNCTION evil.lower(text) RETURNS text LANGUAGE sql AS 'SELECT CASE WHEN evil.hijacked() THEN $1 END';
CREATE FUNCTION evil.unnest(text[]) RETURNS SETOF text LANGUAGE sql AS 'SELECT CASE WHEN evil.hijacked() THEN ''x'' END';
CREATE DOMAIN evil.text AS varchar CHECK (evil.hijacked());
CREATE DOMAIN evil.int8 AS bigint CHECK (evil.hijacked());
CREATE DOMAIN evil.timestamp AS timestamp CHECK (evil.hijacked());

-- a hive lookup table, so that the lookup query runs too
CREATE SCHEMA i2b2hive;
CREATE TABLE i2b2hive.ont_db_lookup (c_domain_id varchar(255), c_project_path varchar(255),
  c_owner_id varchar(255), c_db_fullschema varchar(255));
INSERT INTO i2b2hive.ont_db_lookup VALUES ('i2b2demo', 'Demo/', '@', 'i2b2metadata');

-- (the results are kept in temporary tables and read after RESET, because
-- the test's own helpers are not written to survive this search_path)
SET search_path = evil, pg_catalog, i2b2metadata, public;
CREATE TEMP TABLE hostile_xml AS SELECT ontstatus.get_ont_process_status(
'<ns6:request xmlns:ns6="http://www.i2b2.org/xsd/hive/msg/1.1/"><message_header>
<security><domain>i2b2demo</domain><username>demo</username></security><project_id>Demo</project_id>
</message_header><message_body><get_ont_process_status>
<process_id>7</process_id><process_type_cd>ONT_PATIENT_COUNT_UPDATE</process_type_cd>
<process_start_date><start_time>2011-01-01T00:00:00</start_time><end_time>2011-12-31T00:00:00</end_time></process_start_date>
<process_end_date><start_time>2011-01-01T00:00:00</start_time><end_time>2011-12-31T00:00:00</end_time></process_end_date>
</get_ont_process_status></message_body></ns6:request>') AS resp;
CREATE TEMP TABLE hostile_rows AS SELECT * FROM ontstatus.process_status(
'<get_ont_process_status><process_id>7</process_id><process_type_cd>ONT_PATIENT_COUNT_UPDATE</process_type_cd></get_ont_process_status>');
CREATE TEMP TABLE hostile_find AS SELECT *
FROM ontstatus.find_process_status(process_id => 7, process_type_cd => 'ONT_PATIENT_COUNT_UPDATE',
                                   started_from => '2011-01-01', ended_to => '2011-12-31');
-- control: the shadowing objects are live for anything not qualified
SELECT 7 = 7::bigint AS unqualified;
RESET search_path;
SELECT regress.ids(resp) AS with_lookup FROM hostile_xml;
SELECT process_id AS process_status FROM hostile_rows;
SELECT process_id AS find FROM hostile_find;
DROP SCHEMA evil, i2b2hive CASCADE;

-- A LATIN1 database: text is converted between the server encoding and
-- the UTF-8 libxml2 works in, and the response stays well-formed.
CREATE DATABASE regression_ontstatus_latin1 ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C'
  TEMPLATE template0;
-- the session survived everything above
SELECT pid = pg_backend_pid() AS same_session FROM survivor;
\c regression_ontstatus_latin1
SET client_encoding = 'UTF8';
CREATE EXTENSION ontstatus;
CREATE TABLE ont_process_status (process_id int, process_type_cd text, start_date timestamp,
  end_date timestamp, process_step_cd text, process_status_cd text, crc_upload_id int, message text);
INSERT INTO ont_process_status (process_id, process_type_cd, process_status_cd, message)
VALUES (1, 'Grüße', 'COMPLETED', 'Grüße ' || chr(7) || ' <x> & "y"' || chr(9) || 'ß'),
       (2, 'ONT_ADD_CONCEPT', 'COMPLETED', 'plain');
-- a non-ASCII filter, in the request as text and as a character reference
SELECT r.process_id, r.message FROM ontstatus.process_status(
  '<get_ont_process_status><process_type_cd>Grüße</process_type_cd></get_ont_process_status>') AS r;
SELECT r.process_id FROM ontstatus.process_status(
  '<get_ont_process_status><process_type_cd>Gr&#xFC;&#223;e</process_type_cd></get_ont_process_status>') AS r;
-- the response: well-formed, non-ASCII intact, chr(7) replaced, header echoed
SELECT xml_is_well_formed_document(resp::text) AS well_formed,
       substring(resp::text FROM '<message>[^<]*</message>') AS message,
       substring(resp::text FROM '<security>.*</security>') AS security
FROM (SELECT ontstatus.get_ont_process_status(
  '<ns6:request xmlns:ns6="http://www.i2b2.org/xsd/hive/msg/1.1/"><message_header><security><domain>i2b2démo</domain><username>Jürgen</username></security></message_header>'
  || '<message_body><get_ont_process_status><process_id>1</process_id></get_ont_process_status></message_body></ns6:request>') AS resp) AS t;
-- a character LATIN1 lacks: an ERROR response, well-formed, echoing only
-- what could be converted; a clean SQL error from process_status
SELECT xml_is_well_formed_document(resp::text) AS well_formed, regress_status
FROM (SELECT ontstatus.get_ont_process_status(
  '<ns6:request xmlns:ns6="http://www.i2b2.org/xsd/hive/msg/1.1/"><message_header><security><domain>i2b2demo</domain><username>&#x65E5;&#x672C;</username></security></message_header>'
  || '<message_body><get_ont_process_status/></message_body></ns6:request>') AS resp) AS t,
LATERAL (SELECT substring(resp::text FROM '<status type="ERROR">[^<]*') AS regress_status) AS s;
SELECT * FROM ontstatus.process_status(
  '<get_ont_process_status><process_type_cd>&#x65E5;</process_type_cd></get_ont_process_status>');
\c contrib_regression
DROP DATABASE regression_ontstatus_latin1;
