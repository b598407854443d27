--
-- fast_path: requests of the common shape are read without libxml2
-- (src/request_fast_path.c), anything else by libxml2, and the answer is
-- the same whoever reads: every request below is answered with
-- ontstatus.fast_path on and off, and the responses (their time masked)
-- and process_status's rows or error must be equal.  Which reader read a
-- request shows in a DEBUG2 message, and so does the number of guard
-- passes over it (src/request_guards.c): one, whoever reads it.  test/fuzz
-- compares the two readers on millions of inputs; this is the same check
-- on named cases, in the backend.
--
CREATE TEMP TABLE fp (label text, r text);
INSERT INTO fp VALUES
  ('bare, by id', regress.req('<process_id>26</process_id>')),
  ('bare, unqualified', '<get_ont_process_status><process_id>26</process_id></get_ont_process_status>'),
  ('default namespace', '<get_ont_process_status xmlns="http://www.i2b2.org/xsd/cell/ont/1.1/"><process_id>26</process_id></get_ont_process_status>'),
  ('the Workbench''s envelope',
   E'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
   '<ns6:request xmlns:ns4="http://www.i2b2.org/xsd/cell/ont/1.1/" xmlns:ns6="http://www.i2b2.org/xsd/hive/msg/1.1/">\n'
   '  <message_header>\n'
   '    <sending_application><application_name>i2b2 Ontology</application_name><application_version>1.7</application_version></sending_application>\n'
   '    <sending_facility><facility_name>i2b2 Hive</facility_name></sending_facility>\n'
   '    <security><domain>i2b2demo</domain><username>demo</username><password token_ms_timeout="1800000" is_token="true">SessionKey:x</password></security>\n'
   '    <message_control_id><session_id>S1</session_id><message_num>M1</message_num><instance_num>0</instance_num></message_control_id>\n'
   '    <processing_id><processing_id>P</processing_id><processing_mode>I</processing_mode></processing_id>\n'
   '  </message_header>\n'
   '  <request_header><result_waittime_ms>180000</result_waittime_ms></request_header>\n'
   '  <message_body>\n'
   '    <ns4:get_ont_process_status max_return_records="100"><process_id>26</process_id></ns4:get_ont_process_status>\n'
   '  </message_body>\n'
   '</ns6:request>\n'),
  ('the Workbench''s envelope, CR LF',
   E'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
   '<ns6:request xmlns:ns4="http://www.i2b2.org/xsd/cell/ont/1.1/" xmlns:ns6="http://www.i2b2.org/xsd/hive/msg/1.1/">\r\n'
   '  <message_header>\r\n'
   '    <sending_application><application_name>i2b2\r\nOntology</application_name><application_version>1.7</application_version></sending_application>\r\n'
   '    <security><domain>i2b2demo</domain><username>demo</username><password token_ms_timeout="1800000" is_token="true">SessionKey:x</password></security>\r\n'
   '    <message_control_id><session_id>S1\r</session_id><message_num>M1\r\r\n</message_num></message_control_id>\r\n'
   '    <project_id>Demo</project_id>\r\n'
   '  </message_header>\r\n'
   '  <message_body>\r\n'
   '    <ns4:get_ont_process_status\r\n max_return_records="100"\r\n><process_id>\r\n26\r\n</process_id></ns4:get_ont_process_status\r\n>\r\n'
   '  </message_body>\r\n'
   '</ns6:request>\r\n'),
  ('comments and a declaration', '<?xml version=''1.0''?><!-- before --><get_ont_process_status><!-- a --><process_type_cd>ONT_<!-- b -->UPDATE_CRC_CONCEPT</process_type_cd></get_ont_process_status><!-- after -->'),
  ('entities and character references', regress.req('<process_type_cd>ONT&#95;UPDATE&#x5F;CRC_CONCEPT</process_type_cd><process_status_cd>&#67;OMPLETED</process_status_cd>')),
  ('a value with < and &', regress.req('<process_type_cd>a&lt;b&amp;c &quot;&apos;&gt;</process_type_cd>')),
  ('non-ASCII text', regress.req('<process_type_cd>é中𝄞</process_type_cd>')),
  ('max_return_records, filters, times', regress.req('<process_type_cd>ONT_UPDATE_CRC_CONCEPT</process_type_cd><process_start_date><start_time>2010-04-05T00:00:00</start_time><end_time>2013-01-10T00:00:00.5+05:30</end_time></process_start_date>', ' max_return_records=''2''')),
  ('unknown elements and attributes', regress.req('<x a="1" b=''2''><process_id>9</process_id></x><process_id>26</process_id>', ' xmlns:q="http://example.org/q" q:max_return_records="x"')),
  ('an empty filter', regress.req('<process_id/><process_type_cd>  </process_type_cd>')),
  -- errors the grammar finds in a well-formed request: the same either way
  ('a bad id', regress.req('<process_id>2x6</process_id>')),
  ('a bad time', regress.req('<process_end_date><end_time>2010-02-30T00:00:00</end_time></process_end_date>')),
  ('two ids', regress.req('<process_id>26</process_id><process_id>27</process_id>')),
  ('a negative max_return_records', regress.req('', ' max_return_records="-1"')),
  ('another root', '<get_ont_process_statuses/>'),
  -- the guards' verdicts, which stand whoever would read the request
  ('"xmlns" 100 times, in text and names', regress.req('<process_type_cd>' || repeat('xmlns ', 98) || '</process_type_cd><xmlnsx/>')),
  ('"xmlns" 101 times', regress.req('<process_type_cd>' || repeat('xmlns ', 99) || '</process_type_cd><xmlnsx/>')),
  ('100 attributes', regress.req('<x ' || (SELECT string_agg('a' || i || '="1"', ' ') FROM generate_series(1, 100) AS i) || '/>')),
  ('101 attributes', regress.req('<x ' || (SELECT string_agg('a' || i || '="1"', ' ') FROM generate_series(1, 101) AS i) || '/>')),
  ('too deep, then a DOCTYPE', '<get_ont_process_status>' || repeat('<a>', 200) || '<!DOCTYPE x>' || repeat('</a>', 200) || '</get_ont_process_status>'),
  ('too deep, then what the pre-scan refuses', '<get_ont_process_status>' || repeat('<a>', 200) || '<!-- -- --><!DOCTYPE x>' || repeat('</a>', 200) || '</get_ont_process_status>'),
  ('no body', '<ns6:request xmlns:ns6="http://www.i2b2.org/xsd/hive/msg/1.1/"><message_header><project_id>Demo</project_id></message_header></ns6:request>'),
  -- line ends as CR LF or CR: read as LF, as XML reads them
  ('a carriage return', regress.req(E'<process_id>26</process_id>\r\n')),
  ('a lone CR in a value', regress.req(E'<process_type_cd>ONT_UPDATE\rCRC_CONCEPT</process_type_cd>')),
  -- what the fast path leaves to libxml2
  ('CDATA', regress.req('<process_id><![CDATA[26]]></process_id>')),
  ('a CR in an attribute value', regress.req('', E' max_return_records="\r\n2"')),
  ('a tab in an attribute value', regress.req('', E' max_return_records="\t2"')),
  ('a processing instruction', regress.req('<?pi x?><process_id>26</process_id>')),
  ('XML 1.1', '<?xml version="1.1"?>' || regress.req('<process_id>26</process_id>')),
  ('a namespace name with a port', '<get_ont_process_status xmlns:x="http://h:8080/x"><process_id>26</process_id></get_ont_process_status>'),
  ('an unknown entity', regress.req('<process_id>&nbsp;26</process_id>')),
  ('not well-formed', '<get_ont_process_status><process_id>26</get_ont_process_status>'),
  ('an undeclared prefix', '<p:get_ont_process_status><process_id>26</process_id></p:get_ont_process_status>'),
  ('text after the root', regress.req('<process_id>26</process_id>') || 'x'),
  ('a duplicate attribute', regress.req('', ' a="1" a="2"'));

-- each reader alone: libxml2 through the setting, for one call at a time
CREATE FUNCTION pg_temp.by_libxml2(r text) RETURNS xml LANGUAGE sql
SET ontstatus.fast_path = off AS $$ SELECT ontstatus.get_ont_process_status(r) $$;
CREATE FUNCTION pg_temp.rows_or_error(r text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  RETURN (SELECT coalesce(string_agg(format('%s %s %s', process_id, process_type_cd, process_status_cd), '; '
                                     ORDER BY process_id), 'no rows')
          FROM ontstatus.process_status(r));
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ' ' || SQLERRM;
END $$;
CREATE FUNCTION pg_temp.rows_or_error_by_libxml2(r text) RETURNS text LANGUAGE sql
SET ontstatus.fast_path = off AS $$ SELECT pg_temp.rows_or_error(r) $$;

-- the same answer from both readers, and the same rows or error from
-- process_status
SELECT label,
       regress.masked(ontstatus.get_ont_process_status(r)) =
         regress.masked(pg_temp.by_libxml2(r)) AS same_response,
       pg_temp.rows_or_error(r) = pg_temp.rows_or_error_by_libxml2(r) AS same_rows,
       regress.status(ontstatus.get_ont_process_status(r)) AS response
FROM fp;

-- who reads what: each label, then the reader's DEBUG2 message and the
-- guard passes over the request
CREATE FUNCTION pg_temp.who_reads(label text, r text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  RAISE NOTICE '%', label;
  SET LOCAL client_min_messages = debug2;
  PERFORM ontstatus.get_ont_process_status(r);
  SET LOCAL client_min_messages = notice;
END $$;
SELECT count(pg_temp.who_reads(label, r)) FROM fp;

-- the guards run once per request, whoever reads it: a request the fast
-- path declines (read by libxml2 after the one pass), one the guards
-- refuse, one the fast path reads, and the same with the fast path off
CREATE FUNCTION pg_temp.by_libxml2_who_reads(label text, r text) RETURNS void
LANGUAGE sql SET ontstatus.fast_path = off AS $$ SELECT pg_temp.who_reads(label, r) $$;
SELECT count(*) AS requests
FROM (SELECT pg_temp.who_reads(label, r),
             pg_temp.by_libxml2_who_reads(label || ', fast path off', r)
      FROM fp WHERE label IN ('CDATA', 'a processing instruction', '101 attributes',
                              'the Workbench''s envelope, CR LF')) AS calls;
