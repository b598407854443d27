--
-- errors: every bad input.  get_ont_process_status answers with a
-- well-formed ERROR response (empty body, header echoed where the request
-- had one); process_status and find_process_status raise SQL errors with
-- a fitting SQLSTATE.
--
-- a crash would end this session (every session): its temporary table
-- must still be there at the end
CREATE TEMP TABLE survivor AS SELECT pg_backend_pid() AS pid;
SET timezone = 'America/New_York';

-- SQLSTATE and message of what process_status raises for a request
CREATE FUNCTION regress.row_error(request text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM * FROM ontstatus.process_status(request);
  RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ' ' || SQLERRM;
END $$;

-- every ERROR response is a well-formed document with an empty body
CREATE FUNCTION regress.error_shape(response xml) RETURNS text
LANGUAGE sql AS $$
  SELECT CASE
    WHEN NOT xml_is_well_formed_document(response::text) THEN 'not well-formed'
    WHEN (xpath('count(/*/message_body/node())', response))[1]::text <> '0' THEN 'body not empty'
    ELSE 'ok' END
$$;

SELECT label, regress.error_shape(resp) AS shape, regress.status(resp) AS response,
       regress.row_error(r) AS process_status
FROM (VALUES
  ('not XML', 'garbage'),
  ('empty string', ''),
  ('not well-formed', '<get_ont_process_status><process_id>1</get_ont_process_status>'),
  ('undeclared prefix', '<ns4:get_ont_process_status/>'),
  ('undefined entity', regress.req('<process_id>&one;</process_id>')),
  ('wrong root', '<foo/>'),
  ('body element in another namespace', '<a:get_ont_process_status xmlns:a="urn:other"/>'),
  ('request in another namespace', '<request xmlns="urn:other"><message_body><get_ont_process_status/></message_body></request>'),
  ('envelope without body element', '<ns6:request xmlns:ns6="http://www.i2b2.org/xsd/hive/msg/1.1/"><message_header/><message_body/></ns6:request>'),
  ('two body elements', '<ns6:request xmlns:ns6="http://www.i2b2.org/xsd/hive/msg/1.1/"><message_body><get_ont_process_status/><get_ont_process_status/></message_body></ns6:request>'),
  ('DOCTYPE', '<!DOCTYPE get_ont_process_status [<!ENTITY x "26">]><get_ont_process_status><process_id>&x;</process_id></get_ont_process_status>'),
  ('process_id not an integer', regress.req('<process_id>abc</process_id>')),
  ('process_id with trailing junk', regress.req('<process_id>12abc</process_id>')),
  ('process_id with a fraction', regress.req('<process_id>1.5</process_id>')),
  ('process_id a lone sign', regress.req('<process_id>-</process_id>')),
  ('process_id beyond bigint', regress.req('<process_id>9223372036854775808</process_id>')),
  ('process_id far beyond bigint', regress.req('<process_id>99999999999999999999999999</process_id>')),
  ('process_id long junk', regress.req('<process_id>' || repeat('x', 100) || '</process_id>')),
  ('two process_id elements', regress.req('<process_id>1</process_id><process_id>2</process_id>')),
  ('two process_status_cd elements', regress.req('<process_status_cd/><process_status_cd>X</process_status_cd>')),
  ('two start_time elements', regress.req('<process_start_date><start_time>2010-01-01T00:00:00</start_time><start_time>2010-01-01T00:00:00</start_time></process_start_date>')),
  ('max_return_records negative', regress.req('', ' max_return_records="-1"')),
  ('max_return_records not an integer', regress.req('', ' max_return_records="ten"')),
  ('max_return_records empty', regress.req('', ' max_return_records=""')),
  ('max_return_records beyond int', regress.req('', ' max_return_records="2147483648"')),
  ('time "now"', regress.req('<process_start_date><start_time>now</start_time></process_start_date>')),
  ('time "yesterday"', regress.req('<process_start_date><end_time>yesterday</end_time></process_start_date>')),
  ('time "epoch"', regress.req('<process_end_date><start_time>epoch</start_time></process_end_date>')),
  ('time "infinity"', regress.req('<process_end_date><end_time>infinity</end_time></process_end_date>')),
  ('time with a space', regress.req('<process_start_date><start_time>2010-04-05 10:00</start_time></process_start_date>')),
  ('time without seconds', regress.req('<process_start_date><start_time>2010-04-05T10:00</start_time></process_start_date>')),
  ('date only', regress.req('<process_start_date><start_time>2010-04-05</start_time></process_start_date>')),
  ('offset without colon', regress.req('<process_start_date><start_time>2010-04-05T10:00:00+0530</start_time></process_start_date>')),
  ('lower-case t', regress.req('<process_start_date><start_time>2010-04-05t10:00:00</start_time></process_start_date>')),
  ('empty fraction', regress.req('<process_start_date><start_time>2010-04-05T10:00:00.</start_time></process_start_date>')),
  ('February 30', regress.req('<process_start_date><start_time>2010-02-30T00:00:00</start_time></process_start_date>')),
  ('February 29 of 2100', regress.req('<process_start_date><start_time>2100-02-29T00:00:00</start_time></process_start_date>')),
  ('hour 24', regress.req('<process_start_date><start_time>2010-04-05T24:00:00</start_time></process_start_date>')),
  ('offset +15:00', regress.req('<process_start_date><start_time>2010-04-05T10:00:00+15:00</start_time></process_start_date>')),
  ('year 0000', regress.req('<process_start_date><start_time>0000-01-01T00:00:00</start_time></process_start_date>'))
) AS t(label, r),
LATERAL (SELECT ontstatus.get_ont_process_status(r) AS resp) AS c;

-- February 29 of a leap year is a date
SELECT regress.status(ontstatus.get_ont_process_status(regress.req('<process_start_date><start_time>2012-02-29T00:00:00</start_time></process_start_date>')));

-- an ERROR response echoes the request's header, password excepted
\pset format unaligned
SELECT regress.masked(ontstatus.get_ont_process_status(
'<ns6:request xmlns:ns6="http://www.i2b2.org/xsd/hive/msg/1.1/"><message_header>
<sending_application><application_name>i2b2 Ontology</application_name><application_version>1.7</application_version></sending_application>
<security><domain>i2b2demo</domain><username>demo</username><password>demouser</password></security>
<message_control_id><session_id>S1</session_id><message_num>M1</message_num></message_control_id>
<project_id>Demo</project_id></message_header>
<message_body><ns4:get_ont_process_status xmlns:ns4="http://www.i2b2.org/xsd/cell/ont/1.1/"><process_id>x</process_id></ns4:get_ont_process_status></message_body></ns6:request>'));
\pset format aligned

-- the message is escaped in the response: < and & from the request
SELECT (xpath('/*/response_header/result_status/status', ontstatus.get_ont_process_status(
  regress.req('<process_id>&lt;b&amp;</process_id>'))))[1];

-- what process_status raises, in full
\set VERBOSITY default
SELECT * FROM ontstatus.process_status(regress.req('<process_id>abc</process_id>'));
SELECT * FROM ontstatus.process_status(regress.req('<process_start_date><start_time>now</start_time></process_start_date>'));
SELECT * FROM ontstatus.process_status(regress.req('', ' max_return_records="-1"'));
SELECT * FROM ontstatus.process_status('<foo/>');

-- request size: checked before parsing
SET ontstatus.max_request_bytes = '1kB';
SELECT regress.status(ontstatus.get_ont_process_status(regress.req(repeat(' ', 2000)))),
       regress.row_error(regress.req(repeat(' ', 2000)));
SELECT regress.status(ontstatus.get_ont_process_status(regress.req(repeat(' ', 900))));
RESET ontstatus.max_request_bytes;

-- the table cannot be found
SET ontstatus.schema = 'no_such_schema';
SELECT regress.status(ontstatus.get_ont_process_status(regress.req(''))),
       regress.row_error(regress.req(''));
SELECT * FROM ontstatus.find_process_status();
SET ontstatus.schema = 'public';
SELECT regress.status(ontstatus.get_ont_process_status(regress.req(''))),
       regress.row_error(regress.req(''));
SELECT * FROM ontstatus.find_process_status();
RESET ontstatus.schema;
SET search_path = public;
SELECT regress.status(ontstatus.get_ont_process_status(regress.req(''))),
       regress.row_error(regress.req(''));
SELECT * FROM ontstatus.find_process_status();
RESET search_path;

-- a table of another shape: the SQL error becomes an ERROR response
CREATE SCHEMA odd;
CREATE TABLE odd.ont_process_status (process_id int, note text);
SET ontstatus.schema = 'odd';
SELECT regress.status(ontstatus.get_ont_process_status(regress.req(''))),
       regress.row_error(regress.req(''));
RESET ontstatus.schema;
DROP SCHEMA odd CASCADE;

-- find_process_status: a negative max_rows
SELECT * FROM ontstatus.find_process_status(max_rows => -1);

-- permission denied: a role without SELECT on the table
CREATE ROLE regress_ontstatus_nobody;
GRANT USAGE ON SCHEMA i2b2metadata, regress TO regress_ontstatus_nobody;
SET ROLE regress_ontstatus_nobody;
SELECT regress.status(ontstatus.get_ont_process_status(regress.req(''))),
       regress.row_error(regress.req(''));
SELECT * FROM ontstatus.find_process_status();
RESET ROLE;
-- with SELECT granted, the same role reads the rows
GRANT SELECT ON i2b2metadata.ont_process_status TO regress_ontstatus_nobody;
SET ROLE regress_ontstatus_nobody;
SELECT regress.ids(ontstatus.get_ont_process_status(regress.req('<process_id>26</process_id>')));
RESET ROLE;
REVOKE ALL ON i2b2metadata.ont_process_status FROM regress_ontstatus_nobody;
REVOKE ALL ON SCHEMA i2b2metadata, regress FROM regress_ontstatus_nobody;
DROP ROLE regress_ontstatus_nobody;

-- a cancelled statement is not turned into a response: statement_timeout
-- cancels the call, it does not answer
CREATE FUNCTION regress.slow(t text) RETURNS text LANGUAGE sql AS
$$ SELECT pg_sleep(1)::text || t $$;
CREATE SCHEMA slow;
CREATE VIEW slow.ont_process_status AS
  SELECT process_id, regress.slow(process_type_cd) AS process_type_cd, process_step_cd,
         start_date, end_date, process_status_cd, crc_upload_id, message
  FROM i2b2metadata.ont_process_status;
SET ontstatus.schema = 'slow';
SET statement_timeout = '200ms';
SELECT ontstatus.get_ont_process_status(regress.req('<process_id>26</process_id>'));
RESET statement_timeout;
RESET ontstatus.schema;
DROP SCHEMA slow CASCADE;

-- nothing is written: no transaction id is taken, even on errors, and
-- the functions run in read-only transactions
BEGIN READ ONLY;
SELECT regress.ids(ontstatus.get_ont_process_status(regress.req('<process_id>26</process_id>')));
SELECT regress.status(ontstatus.get_ont_process_status('garbage'));
SELECT count(*) FROM ontstatus.process_status(regress.req(''));
SELECT count(*) FROM ontstatus.find_process_status();
SELECT pg_current_xact_id_if_assigned() IS NULL AS no_xid_assigned;
COMMIT;

-- Only the request's own errors become ERROR responses: bad values and XML
-- (22), a missing schema or table or a denied permission (3F, 42), the size
-- limits (54000).  An error that is not the request's doing is raised as
-- the SQL error it is, for the client to retry or alert on.  The table here
-- is a view whose rows come from a function raising the SQLSTATE chosen.
CREATE FUNCTION regress.fail_with(code text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  IF code <> '' THEN
    RAISE EXCEPTION 'raised %', code USING ERRCODE = code;
  END IF;
  RETURN 'ok';
END $$;
CREATE SCHEMA failing;
CREATE VIEW failing.ont_process_status AS
  SELECT process_id, regress.fail_with(current_setting('regress.fail_code')) AS process_type_cd,
         process_step_cd, start_date, end_date, process_status_cd, crc_upload_id, message
  FROM i2b2metadata.ont_process_status;
SET ontstatus.schema = 'failing';
CREATE FUNCTION pg_temp.outcome(code text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE resp xml;
BEGIN
  PERFORM set_config('regress.fail_code', code, true);
  resp := ontstatus.get_ont_process_status(regress.req('<process_id>26</process_id>'));
  RETURN 'response ' || regress.status(resp);
EXCEPTION WHEN OTHERS THEN
  RETURN 'raised ' || SQLSTATE || ': ' || SQLERRM;
END $$;
SELECT code, pg_temp.outcome(code) AS outcome
FROM unnest(ARRAY['', '22012', '2200M', '22P02', '3F000', '42501', '42P01', '54000',
                  '40001', '40P01', '53200', '53100', '55P03', '57P01', '58030',
                  '08006', 'XX000', 'XX001', 'P0001', '23505', '0A000', 'F0000']) AS code;
RESET ontstatus.schema;
DROP SCHEMA failing CASCADE;
DROP FUNCTION regress.fail_with(text);

-- the session survived
SELECT pid = pg_backend_pid() AS same_session FROM survivor;
