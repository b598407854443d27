--
-- response_format: the whole response message for a realistic request, the
-- header as the ONT cell builds it (password never echoed), NULL columns
-- left out, escaping, and text that XML 1.0 cannot carry.
--
SET timezone = 'America/New_York';

-- a request as the i2b2 web client sends it
CREATE TABLE regress_request AS SELECT
'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<ns6:request xmlns:ns4="http://www.i2b2.org/xsd/cell/ont/1.1/"
             xmlns:ns7="http://www.i2b2.org/xsd/cell/ont/1.1/"
             xmlns:ns6="http://www.i2b2.org/xsd/hive/msg/1.1/">
    <message_header>
        <i2b2_version_compatible>1.1</i2b2_version_compatible>
        <hl7_version_compatible>2.4</hl7_version_compatible>
        <sending_application>
            <application_name>i2b2 Ontology</application_name>
            <application_version>1.7</application_version>
        </sending_application>
        <sending_facility>
            <facility_name>i2b2 Hive</facility_name>
        </sending_facility>
        <receiving_application>
            <application_name>Ontology Cell</application_name>
            <application_version>1.7</application_version>
        </receiving_application>
        <receiving_facility>
            <facility_name>i2b2 Hive</facility_name>
        </receiving_facility>
        <datetime_of_message>2010-04-06T10:31:08.390-04:00</datetime_of_message>
        <security>
            <domain>i2b2demo</domain>
            <username>demo</username>
            <password is_token="true" token_ms_timeout="1800000">SessionKey:s3cr3tT0ken</password>
        </security>
        <message_type>
            <message_code>EQQ</message_code>
            <event_type>Q04</event_type>
            <message_structure>EQQ_Q04</message_structure>
        </message_type>
        <message_control_id>
            <session_id>GCHTJ4Vc3KmqKwO5Cosf</session_id>
            <message_num>dW9J8w1gLFqnR5Fuz5ov</message_num>
            <instance_num>0</instance_num>
        </message_control_id>
        <processing_id>
            <processing_id>P</processing_id>
            <processing_mode>I</processing_mode>
        </processing_id>
        <accept_acknowledgement_type>AL</accept_acknowledgement_type>
        <application_acknowledgement_type>AL</application_acknowledgement_type>
        <country_code>US</country_code>
        <project_id>Demo</project_id>
    </message_header>
    <request_header>
        <result_waittime_ms>180000</result_waittime_ms>
    </request_header>
    <message_body>
        <ns4:get_ont_process_status max_return_records="100">
            <process_id></process_id>
            <process_type_cd>ONT_UPDATE_CRC_CONCEPT</process_type_cd>
            <process_status_cd>COMPLETED</process_status_cd>
            <process_start_date>
                <start_time>2010-04-05T00:00:00.000-04:00</start_time>
                <end_time>2010-04-05T23:59:59.999-04:00</end_time>
            </process_start_date>
        </ns4:get_ont_process_status>
    </message_body>
</ns6:request>'::text AS r;

-- the whole response, datetime_of_message masked
\pset format unaligned
SELECT regress.masked(ontstatus.get_ont_process_status(r)) FROM regress_request;
\pset format aligned

-- the password (a session token here) is never echoed
SELECT position('s3cr3tT0ken' IN ontstatus.get_ont_process_status(r)::text) AS password_position,
       position('<password' IN ontstatus.get_ont_process_status(r)::text) AS password_element
FROM regress_request;

-- datetime_of_message: xs:dateTime with milliseconds and the session's
-- offset, and the current time
SELECT m ~ '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}-0[45]:00$' AS well_formed_time,
       abs(extract(epoch FROM m::timestamptz - clock_timestamp())) < 60 AS is_now
FROM (SELECT (xpath('/*/message_header/datetime_of_message/text()',
                    ontstatus.get_ont_process_status(r)))[1]::text AS m
      FROM regress_request) AS t;

-- the response is a well-formed document, and the process list in it
-- validates against ONT_RESP.xsd (test/xsd-check.sh does the latter)
SELECT xml_is_well_formed_document(ontstatus.get_ont_process_status(r)::text) FROM regress_request;

-- NULL columns are left out; a row with nothing but its id
SELECT (xpath('/*/message_body/*/ontology_process_status',
              ontstatus.get_ont_process_status(regress.req('<process_id>40</process_id>'))))[1];
SELECT (xpath('/*/message_body/*/ontology_process_status',
              ontstatus.get_ont_process_status(regress.req('<process_id>3</process_id>'))))[1];

-- an empty result is an empty list
SELECT (xpath('/*/message_body/*',
              ontstatus.get_ont_process_status(regress.req('<process_id>999</process_id>'))))[1];

-- Escaping: the stored message and the message element as written
SELECT message FROM i2b2metadata.ont_process_status WHERE process_id = 13;
SELECT substring(ontstatus.get_ont_process_status(regress.req('<process_id>13</process_id>'))::text
                 FROM '<message>.*</message>') AS written;

-- What a client reads back: everything exactly as stored, except chr(7),
-- which XML 1.0 cannot carry, replaced by U+FFFD.  Tab, LF and CR survive.
SELECT x.message = replace(s.message, chr(7), U&'\FFFD') AS read_back_exactly,
       x.message LIKE '%' || chr(13) || 'cr%' AS cr_survives,
       x.message LIKE '%' || chr(9) || 'tab' || chr(10) || '%' AS tab_lf_survive
FROM i2b2metadata.ont_process_status s,
     XMLTABLE('/*/message_body/*/ontology_process_status'
              PASSING ontstatus.get_ont_process_status(regress.req('<process_id>13</process_id>'))
              COLUMNS message text PATH 'message') AS x
WHERE s.process_id = 13;

-- every other C0 control character, and U+FFFE / U+FFFF, never make the
-- document malformed
CREATE SCHEMA ctl;
CREATE TABLE ctl.ont_process_status (LIKE i2b2metadata.ont_process_status);
INSERT INTO ctl.ont_process_status (process_id, message)
SELECT i, 'x' || chr(i) || 'y' FROM generate_series(1, 31) AS i;
INSERT INTO ctl.ont_process_status (process_id, message)
VALUES (65534, U&'a\FFFEb'), (65535, U&'a\FFFFb'), (65536, U&'a\+01F600b');
SET ontstatus.schema = 'ctl';
SELECT xml_is_well_formed_document(ontstatus.get_ont_process_status(regress.req(''))::text) AS well_formed;
SELECT x.process_id, x.message = s.message AS exact, x.message
FROM ctl.ont_process_status s,
     XMLTABLE('/*/message_body/*/ontology_process_status'
              PASSING ontstatus.get_ont_process_status(regress.req(''))
              COLUMNS process_id bigint PATH 'process_id', message text PATH 'message') AS x
WHERE s.process_id = x.process_id AND s.process_id IN (8, 9, 10, 13, 31, 65534, 65535, 65536)
ORDER BY 1;
RESET ontstatus.schema;
DROP SCHEMA ctl CASCADE;

-- a character at every offset of a longer value is written as it must be:
-- the writer looks for bytes to escape eight at a time, and must find them
-- wherever they sit among those eight (and " and >, which a parser would
-- also accept unescaped, are checked in the text as written)
CREATE SCHEMA esc;
CREATE TABLE esc.ont_process_status (LIKE i2b2metadata.ont_process_status);
CREATE TABLE esc.expect (c int, written text);
INSERT INTO esc.expect VALUES
  (1, '&#xFFFD;'), (8, '&#xFFFD;'), (9, chr(9)), (10, chr(10)), (13, '&#xD;'),
  (27, '&#xFFFD;'), (31, '&#xFFFD;'), (34, '&quot;'), (38, '&amp;'), (39, ''''),
  (60, '&lt;'), (61, '='), (62, '&gt;'), (63, '?'), (127, chr(127)), (233, chr(233)),
  (239, chr(239)), (65279, chr(65279)), (65533, chr(65533)), (65534, '&#xFFFD;'),
  (65535, '&#xFFFD;'), (128512, chr(128512));
INSERT INTO esc.ont_process_status (process_id, message)
SELECT c * 100 + pos, repeat('a', pos) || chr(c) || repeat('b', 23 - pos)
FROM esc.expect, generate_series(0, 23) AS pos;
SET ontstatus.schema = 'esc';
SELECT count(*) AS values_written,
       count(*) FILTER (WHERE w.m[2] IS DISTINCT FROM
                        repeat('a', w.m[1]::int % 100) || e.written || repeat('b', 23 - w.m[1]::int % 100)) AS wrong
FROM regexp_matches(ontstatus.get_ont_process_status(regress.req('', ' max_return_records="1000"'))::text,
                    '<process_id>([0-9]+)</process_id><message>([^<]*)</message>', 'g') AS w(m)
JOIN esc.expect e ON e.c = w.m[1]::int / 100;
RESET ontstatus.schema;
DROP SCHEMA esc CASCADE;

-- non-ASCII text comes back exactly
SELECT x.message, x.message = 'Grüße – 日本 ✓' AS exact
FROM XMLTABLE('/*/message_body/*/ontology_process_status'
              PASSING ontstatus.get_ont_process_status(regress.req('<process_id>12</process_id>'))
              COLUMNS message text PATH 'message') AS x;

-- header values are escaped too, and non-ASCII ones survive
SELECT (xpath('/*/message_header/security', ontstatus.get_ont_process_status(
'<ns6:request xmlns:ns6="http://www.i2b2.org/xsd/hive/msg/1.1/"><message_header>
<security><domain>a&amp;b&lt;c&gt;"d"</domain><username>Jürgen</username><password>pw</password></security>
</message_header><message_body><get_ont_process_status/></message_body></ns6:request>')))[1];

-- the text is read as what it is (here UTF-8), whatever encoding its XML
-- declaration claims
SELECT (xpath('/*/message_header/security', ontstatus.get_ont_process_status(
'<?xml version="1.0" encoding="ISO-8859-1"?>
<ns6:request xmlns:ns6="http://www.i2b2.org/xsd/hive/msg/1.1/"><message_header>
<security><domain>i2b2demo</domain><username>Jürgen</username></security>
</message_header><message_body><get_ont_process_status/></message_body></ns6:request>')))[1];

-- a bare request has no header to echo: the cell's own fields only
\pset format unaligned
SELECT regress.masked(ontstatus.get_ont_process_status(regress.req('<process_id>26</process_id>')));
\pset format aligned
