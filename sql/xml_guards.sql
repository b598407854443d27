--
-- xml_guards: the attribute pre-scan follows XML's lexical structure, so no
-- comment, processing instruction, CDATA section, stray quote or character
-- reference can hide a start tag from it, on libxml2 2.9 or 2.15;
-- libxml2's own warnings never reach the client; and none of it takes the
-- server down.
--
-- A crash would reset every session, this one included: the temporary
-- table would be gone and the count at the end would fail.
CREATE TEMP TABLE survivor (x int);
INSERT INTO survivor VALUES (1);
-- a hang would stall the suite: make it fail it instead
SET statement_timeout = '60s';


-- one start tag with 95,000 distinct attributes, under 1 MB: what kept
-- libxml2's quadratic duplicate check busy for seconds, deaf to cancel;
-- and its attributes alone, ready to hide in a value
CREATE TEMP TABLE big AS
SELECT '<x ' || string_agg('a' || i || '=""', ' ') || '/>' AS dq,
       '<x ' || string_agg('a' || i || '=''''', ' ') || '/>' AS sq,
       '<x ' || string_agg('a' || i || '="<"', ' ') || '/>' AS lt,
       string_agg('a' || i || '=''''', ' ') AS sq_attributes
FROM generate_series(1, 95000) AS i;

-- Each trick hides that start tag behind markup an earlier pre-scan misread;
-- each request is refused before libxml2 sees it, with the attribute limit's
-- error: an ERROR response from get_ont_process_status, 54000 from
-- process_status.
SELECT label, round(length(r) / 1048576.0, 2) AS mb,
       regress.status(ontstatus.get_ont_process_status(r)) AS response,
       regress.row_error(r) AS process_status
FROM big, LATERAL (VALUES
  ('quote in a comment', '<get_ont_process_status><!-- " -->' || dq || '</get_ont_process_status>'),
  ('apostrophe in a comment', '<get_ont_process_status><!-- '' -->' || sq || '</get_ont_process_status>'),
  ('quote in a comment before the root', '<!-- " --><get_ont_process_status>' || dq || '</get_ont_process_status>'),
  ('quote in a processing instruction', '<get_ont_process_status><?pi " ?>' || dq || '</get_ont_process_status>'),
  ('quote in a CDATA section', '<get_ont_process_status><![CDATA[ " ]]>' || dq || '</get_ont_process_status>'),
  ('quote in text', '<get_ont_process_status><y>"</y>' || dq || '</get_ont_process_status>'),
  ('quote in an end tag', '<get_ont_process_status><y></y ">' || dq || '</get_ont_process_status>'),
  ('> and the other quote in values', '<get_ont_process_status><y b=">" c=''"''/>' || dq || '</get_ont_process_status>'),
  ('attributes in a comment', '<get_ont_process_status><!-- <z a="" b="" -->' || dq || '</get_ont_process_status>'),
  ('"--" in a comment, libxml2 reads on past --->', '<get_ont_process_status><!-- ---><?p -->' || dq || '?></get_ont_process_status>'),
  ('faulty XML declaration, libxml2 ends it at >', '<?xml version="1.0" j ><get_ont_process_status>' || dq || '</get_ont_process_status>?>'),
  ('> inside a processing instruction', '<get_ont_process_status><?pi > " ?>' || dq || '</get_ont_process_status>'),
  ('< in an attribute value', '<get_ont_process_status><y b="<">' || dq || '</get_ont_process_status>'),
  ('< in every value (libxml2 2.13 on reads across it)', '<get_ont_process_status>' || lt || '</get_ont_process_status>'),
  ('in a value, after &#0; (2.13 on ends the value there)', '<get_ont_process_status><y b="&#0; ' || sq_attributes || '"/></get_ont_process_status>'),
  ('in a value, after a stray &#', '<get_ont_process_status><y b="&# ' || sq_attributes || '"/></get_ont_process_status>'),
  ('in a value, after &#x;', '<get_ont_process_status><y b="&#x; ' || sq_attributes || '"/></get_ont_process_status>'),
  ('control character in a comment', '<get_ont_process_status><!-- ' || chr(1) || ' " -->' || dq || '</get_ont_process_status>'),
  ('control character in a PI', '<get_ont_process_status><?pi ' || chr(1) || ' " ?>' || dq || '</get_ont_process_status>'),
  ('unclosed quote before the tag', '<get_ont_process_status><y b="' || dq || '</get_ont_process_status>'),
  ('on the root element', '<get_ont_process_status ' || substr(dq, 4))
) AS t(label, r);

-- Within the limit: many attributes spread over many elements, and
-- comments, PIs and CDATA full of '=', quotes and '<', which are not
-- counted, are all accepted.
SELECT label, round(length(r) / 1048576.0, 2) AS mb,
       regress.status(ontstatus.get_ont_process_status(r)) AS response,
       regress.row_error(r) AS process_status
FROM (VALUES
  ('1,000 elements of 100 attributes',
   '<get_ont_process_status>' || (SELECT string_agg(x, '') FROM generate_series(1, 1000),
     LATERAL (SELECT '<x ' || string_agg('a' || i || '="1"', ' ') || '/>' AS x
              FROM generate_series(1, 100) AS i) AS t) || '</get_ont_process_status>'),
  ('100 attributes after a comment with quotes',
   '<get_ont_process_status><!-- " '' --><x ' || (SELECT string_agg('a' || i || '="1"', ' ') FROM generate_series(1, 100) AS i) || '/></get_ont_process_status>'),
  ('= " and < in comments, PIs and CDATA',
   '<get_ont_process_status><!-- ' || repeat('a="" ', 5000) || ' -->'
   || '<?pi ' || repeat('a="" ', 5000) || '?><process_type_cd><![CDATA[' || repeat('a="<" ', 5000)
   || ']]></process_type_cd></get_ont_process_status>')
) AS t(label, r);

-- Namespace declarations are limited too: libxml2 looks a prefix up by
-- walking every declaration in scope, so thousands of them, 256 elements
-- deep, make prefixed names cost seconds.  A request declares a few.
SELECT regress.status(ontstatus.get_ont_process_status(r)) AS response,
       regress.row_error(r) AS process_status
FROM (SELECT '<get_ont_process_status>'
             || string_agg('<x xmlns:p' || i || '="urn:' || i || '"/>', '')
             || '</get_ont_process_status>' AS r
      FROM generate_series(1, 101) AS i) AS t;
SELECT regress.status(ontstatus.get_ont_process_status(r)) AS response,
       regress.row_error(r) AS process_status
FROM (SELECT '<get_ont_process_status>'
             || string_agg('<e xmlns:n' || i || '="urn:' || i || '">', '')
             || '<x p:a="" xmlns:p="urn:p"/>' || string_agg('</e>', '')
             || '</get_ont_process_status>' AS r
      FROM generate_series(1, 60) AS i) AS t;

-- A DOCTYPE before the root element is refused by the pre-scan, even one
-- libxml2 could not parse (and so would not have reported to the parser)
SELECT label, regress.status(ontstatus.get_ont_process_status(r)) AS response,
       regress.row_error(r) AS process_status
FROM (VALUES
  ('after a comment', '<!-- x --><!DOCTYPE get_ont_process_status><get_ont_process_status/>'),
  ('without a name', '<!DOCTYPE [<!ATTLIST x a CDATA "1">]><get_ont_process_status/>'),
  ('after a faulty XML declaration', '<?xml version="1.0" j ><!DOCTYPE x><get_ont_process_status/>')
) AS t(label, r);

-- libxml2's warnings (XML 1.1, a bad xml:space) and errors are the parser's
-- to report: no WARNING or NOTICE reaches the client (pg_regress would show
-- it here), and what does is ontstatus's own message.
SELECT label, regress.status(resp) AS response, regress.ids(resp) AS ids,
       regress.row_error(r) AS process_status
FROM (VALUES
  ('XML 1.1 declaration', '<?xml version="1.1"?>' || regress.req('<process_id>26</process_id>')),
  ('XML 1.1, encoding and standalone', '<?xml version="1.1" encoding="UTF-8" standalone="yes"?>' || regress.req('<process_id>26</process_id>')),
  ('bad xml:space', regress.req('<process_id xml:space="bogus">26</process_id>')),
  ('XML 1.1, then not well-formed', '<?xml version="1.1"?><get_ont_process_status><process_id>26</get_ont_process_status>'),
  ('XML 2.0', '<?xml version="2.0"?>' || regress.req('<process_id>26</process_id>'))
) AS t(label, r),
LATERAL (SELECT ontstatus.get_ont_process_status(r) AS resp) AS c;

RESET statement_timeout;
-- the session survived every request above
SELECT count(*) AS survivor FROM survivor;
