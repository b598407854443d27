--
-- project_lookup: the schema comes from the hive's ont_db_lookup, by the
-- ONT cell's rules (i2b2-facts, "Which schema holds the table"), when the
-- request names a project.
--
SET timezone = 'America/New_York';

-- one metadata schema per answer, each with one row whose message names it
DO $$
DECLARE s text;
BEGIN
  FOREACH s IN ARRAY ARRAY['md_demo', 'md_demo_alice', 'md_demo2', 'md_demo2_team',
                           'md_deep', 'md_hive', 'md_hive_bob', 'md_other']
  LOOP
    EXECUTE format('CREATE SCHEMA %I', s);
    EXECUTE format('CREATE TABLE %I.ont_process_status (LIKE i2b2metadata.ont_process_status)', s);
    EXECUTE format('INSERT INTO %I.ont_process_status (process_id, message) VALUES (1, %L)', s, s);
  END LOOP;
END $$;
CREATE SCHEMA md_empty;            -- a schema without the table

-- the hive's lookup table, as i2b2's DDL creates it
CREATE SCHEMA i2b2hive;
CREATE TABLE i2b2hive.ont_db_lookup (
    c_domain_id     varchar(255),
    c_project_path  varchar(255),
    c_owner_id      varchar(255),
    c_db_fullschema varchar(255),
    c_db_datasource varchar(255),
    c_db_servertype varchar(255),
    c_db_nicename   varchar(255),
    c_db_tooltip    varchar(255),
    c_comment       text,
    c_entry_date    timestamp,
    c_change_date   timestamp,
    c_status_cd     char(1),
    PRIMARY KEY (c_domain_id, c_project_path, c_owner_id));
INSERT INTO i2b2hive.ont_db_lookup (c_domain_id, c_project_path, c_owner_id, c_db_fullschema,
                                    c_db_datasource, c_db_servertype, c_db_nicename)
VALUES
  ('i2b2demo', 'Demo/',       '@',     'md_demo',       'java:/OntologyDemoDS', 'POSTGRESQL', 'Metadata'),
  ('i2b2demo', 'Demo/',       'alice', 'md_demo_alice', 'java:/OntologyDemoDS', 'POSTGRESQL', 'Alice'),
  ('i2b2demo', 'Demo2/',      '@',     'MD_DEMO2.',     'java:/OntologyDemo2DS', 'POSTGRESQL', 'Upper case, trailing dot'),
  ('i2b2demo', 'Demo2/Team/', '@',     'md_demo2_team', 'java:/OntologyDemo2DS', 'POSTGRESQL', 'Sub-project'),
  ('i2b2demo', 'Deep/',       '@',     'md_deep',       'java:/OntologyDeepDS', 'POSTGRESQL', 'Deep'),
  ('i2b2demo', '@',           '@',     'md_hive',       'java:/OntologyHiveDS', 'POSTGRESQL', 'Hive'),
  ('i2b2demo', '@',           'bob',   'md_hive_bob',   'java:/OntologyHiveDS', 'POSTGRESQL', 'Hive, Bob'),
  ('i2b2demo', 'Evil/',       '@',     'md_demo; DROP TABLE regress.victim', NULL, NULL, 'hostile'),
  ('i2b2demo', 'Quoted/',     '@',     '"md_demo"',     NULL, NULL, 'quoted'),
  ('i2b2demo', 'Spaces/',     '@',     'md demo',       NULL, NULL, 'spaces'),
  ('i2b2demo', 'DotOnly/',    '@',     '.',             NULL, NULL, 'nothing'),
  ('i2b2demo', 'Gone/',       '@',     'no_such_schema', NULL, NULL, 'missing schema'),
  ('i2b2demo', 'Empty/',      '@',     'md_empty',      NULL, NULL, 'schema without the table'),
  ('otherhive', 'Demo/',      '@',     'md_other',      NULL, NULL, 'another domain, no hive row');
CREATE TABLE regress.victim (x int);

-- Ask with a full request carrying domain, username and project; answer
-- with the message of the first row (which names the schema read), or the
-- ERROR text.  rows_agree: process_status reads the same schema, or fails
-- with the same message.
CREATE FUNCTION regress.ask(domain text, username text, project text,
                            OUT answer text, OUT rows_agree bool)
LANGUAGE plpgsql AS $$
DECLARE
  req text := '<ns6:request xmlns:ns6="http://www.i2b2.org/xsd/hive/msg/1.1/"><message_header><security>'
      || coalesce('<domain>' || domain || '</domain>', '')
      || coalesce('<username>' || username || '</username>', '')
      || '<password>demouser</password></security>'
      || coalesce('<project_id>' || project || '</project_id>', '')
      || '</message_header><message_body><get_ont_process_status xmlns="http://www.i2b2.org/xsd/cell/ont/1.1/" max_return_records="1"/></message_body></ns6:request>';
  resp xml := ontstatus.get_ont_process_status(req);
  via_rows text;
BEGIN
  IF regress.status(resp) LIKE 'DONE:%' THEN
    SELECT coalesce(x.message, 'row ' || x.id) INTO answer
    FROM XMLTABLE('/*/message_body/*/ontology_process_status' PASSING resp
                  COLUMNS id bigint PATH 'process_id', message text PATH 'message') AS x;
  ELSE
    answer := regress.status(resp);
  END IF;
  BEGIN
    SELECT coalesce(r.message, 'row ' || r.process_id) INTO via_rows
    FROM ontstatus.process_status(req) AS r;
    rows_agree := via_rows IS NOT DISTINCT FROM answer;
  EXCEPTION WHEN OTHERS THEN
    rows_agree := answer LIKE 'ERROR: ' || SQLERRM || '%';
  END;
END $$;

SELECT label, (regress.ask(d, u, p)).*
FROM (VALUES
  ('the user''s own row',            'i2b2demo', 'alice', 'Demo'),
  ('the ''@'' row for anyone else',  'i2b2demo', 'demo',  'Demo'),
  ('owner compared case-insensitively', 'i2b2demo', 'ALICE', 'Demo'),
  ('domain compared case-insensitively', 'I2B2Demo', 'demo', 'Demo'),
  ('project path case-insensitively', 'i2b2demo', 'demo', 'DEMO'),
  ('slashes around the project',     'i2b2demo', 'demo',  '/Demo/'),
  ('no username: ''@'' rows only',   'i2b2demo', NULL,    'Demo'),
  ('sub-project with its own row',   'i2b2demo', 'demo',  'Demo2/Team'),
  ('sub-project walks up to its parent', 'i2b2demo', 'demo', 'Demo2/Other'),
  ('three levels walk up to the top', 'i2b2demo', 'demo', 'Deep/A/B'),
  ('upper-case schema, trailing dot', 'i2b2demo', 'demo', 'Demo2'),
  ('unknown project: the hive row',  'i2b2demo', 'demo',  'Demo9'),
  ('unknown project: the user''s hive row', 'i2b2demo', 'bob', 'Demo9'),
  ('project "@"',                    'i2b2demo', 'demo',  '@'),
  ('project "@", the user''s hive row', 'i2b2demo', 'bob', '@'),
  ('unknown domain',                 'nohive',   'demo',  'Demo'),
  ('a domain without a hive row',    'otherhive', 'demo', 'Demo9'),
  ('no domain',                      NULL,       'demo',  'Demo'),
  ('hostile schema value',           'i2b2demo', 'demo',  'Evil'),
  ('quoted schema value',            'i2b2demo', 'demo',  'Quoted'),
  ('schema value with a space',      'i2b2demo', 'demo',  'Spaces'),
  ('schema value "."',               'i2b2demo', 'demo',  'DotOnly'),
  ('schema that does not exist',     'i2b2demo', 'demo',  'Gone'),
  ('schema without ont_process_status', 'i2b2demo', 'demo', 'Empty'),
  ('no project_id: search_path',     'i2b2demo', 'demo',  NULL),
  ('empty project_id: search_path',  'i2b2demo', 'demo',  '')
) AS t(label, d, u, p);

-- resolve_table names the table each of those requests reads, or fails as
-- it fails (the first row's message names the schema, as ask answers)
CREATE FUNCTION regress.resolved(domain text, username text, project text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
  answer text;
BEGIN
  EXECUTE format('SELECT coalesce(message, ''row '' || process_id) FROM %s ORDER BY process_id LIMIT 1',
                 ontstatus.resolve_table(project, domain, username)) INTO answer;
  RETURN answer;
EXCEPTION WHEN OTHERS THEN
  RETURN 'ERROR: ' || SQLERRM;
END $$;
SELECT count(*) AS cases, count(*) FILTER (WHERE a.answer LIKE r || '%') AS agree,
       count(*) FILTER (WHERE r LIKE 'ERROR:%') AS errors
FROM (VALUES
  ('i2b2demo', 'alice', 'Demo'), ('i2b2demo', 'demo', 'Demo'), ('i2b2demo', 'ALICE', 'Demo'),
  ('I2B2Demo', 'demo', 'Demo'), ('i2b2demo', 'demo', 'DEMO'), ('i2b2demo', 'demo', '/Demo/'),
  ('i2b2demo', NULL, 'Demo'), ('i2b2demo', 'demo', 'Demo2/Team'), ('i2b2demo', 'demo', 'Demo2/Other'),
  ('i2b2demo', 'demo', 'Deep/A/B'), ('i2b2demo', 'demo', 'Demo2'), ('i2b2demo', 'demo', 'Demo9'),
  ('i2b2demo', 'bob', 'Demo9'), ('i2b2demo', 'demo', '@'), ('i2b2demo', 'bob', '@'),
  ('nohive', 'demo', 'Demo'), ('otherhive', 'demo', 'Demo9'), (NULL, 'demo', 'Demo'),
  ('i2b2demo', 'demo', 'Evil'), ('i2b2demo', 'demo', 'Quoted'), ('i2b2demo', 'demo', 'Spaces'),
  ('i2b2demo', 'demo', 'DotOnly'), ('i2b2demo', 'demo', 'Gone'), ('i2b2demo', 'demo', 'Empty'),
  ('i2b2demo', 'demo', NULL), ('i2b2demo', 'demo', '')
) AS t(d, u, p),
LATERAL regress.ask(d, u, p) AS a, LATERAL regress.resolved(d, u, p) AS r;
SELECT ontstatus.resolve_table('Demo', 'i2b2demo', 'alice') AS alice_reads,
       ontstatus.resolve_table('Demo2/Team', 'i2b2demo') AS team_reads;

-- the hostile value executed nothing
SELECT to_regclass('regress.victim') IS NOT NULL AS victim_still_there;

-- a bare request has no project: search_path
SELECT regress.ids(ontstatus.get_ont_process_status(regress.req('', ' max_return_records="1"')));

-- with a project, the lookup wins over ontstatus.schema
SET ontstatus.schema = 'md_hive';
SELECT (regress.ask('i2b2demo', 'demo', 'Demo')).answer AS with_project,
       (regress.ask('i2b2demo', 'demo', NULL)).answer AS without_project;
-- find_process_status does not look projects up
SELECT message FROM ontstatus.find_process_status();
RESET ontstatus.schema;

-- a change to ont_db_lookup is seen by the very next call
SELECT (regress.ask('i2b2demo', 'demo', 'Demo')).answer AS before;
UPDATE i2b2hive.ont_db_lookup SET c_db_fullschema = 'md_other'
WHERE c_project_path = 'Demo/' AND c_owner_id = '@';
SELECT (regress.ask('i2b2demo', 'demo', 'Demo')).answer AS after_update;
-- ... and inside a transaction, its own uncommitted change
BEGIN;
DELETE FROM i2b2hive.ont_db_lookup WHERE c_project_path = 'Demo/' AND c_owner_id = '@';
SELECT (regress.ask('i2b2demo', 'demo', 'Demo')).answer AS after_delete;
ROLLBACK;
UPDATE i2b2hive.ont_db_lookup SET c_db_fullschema = 'md_demo'
WHERE c_project_path = 'Demo/' AND c_owner_id = '@';
SELECT (regress.ask('i2b2demo', 'demo', 'Demo')).answer AS restored;

-- no lookup table: ontstatus.schema, then search_path
SET ontstatus.lookup_table = 'i2b2hive.no_such_table';
SELECT (regress.ask('i2b2demo', 'demo', 'Demo')).*;
SET ontstatus.lookup_table = '';
SELECT (regress.ask('i2b2demo', 'demo', 'Demo')).*;
RESET ontstatus.lookup_table;

-- ontstatus.lookup_table pointing at another table, qualified or on search_path
CREATE SCHEMA hive2;
CREATE TABLE hive2.lookups (LIKE i2b2hive.ont_db_lookup);
INSERT INTO hive2.lookups (c_domain_id, c_project_path, c_owner_id, c_db_fullschema)
VALUES ('i2b2demo', 'Demo/', '@', 'md_other');
SET ontstatus.lookup_table = 'hive2.lookups';
SELECT (regress.ask('i2b2demo', 'demo', 'Demo')).*;
SET search_path = hive2, i2b2metadata;
SET ontstatus.lookup_table = 'lookups';
SELECT (regress.ask('i2b2demo', 'demo', 'Demo')).*;
RESET search_path;
-- a table of another shape is an error, not a silent fallback
SET ontstatus.lookup_table = 'i2b2metadata.ont_process_status';
SELECT (regress.ask('i2b2demo', 'demo', 'Demo')).*;
RESET ontstatus.lookup_table;

-- A caller without SELECT (or without USAGE on the hive's schema) gets an
-- error, never the rows of whatever table its search_path finds: that could
-- be another project's.  A lookup table that does not exist, or none at all
-- (lookup_table = '', a single-project site), lets search_path decide.
CREATE ROLE regress_ontstatus_cell;
GRANT USAGE ON SCHEMA regress, i2b2metadata, md_demo, md_other TO regress_ontstatus_cell;
GRANT SELECT ON i2b2metadata.ont_process_status, md_demo.ont_process_status,
                md_other.ont_process_status TO regress_ontstatus_cell;
SET ROLE regress_ontstatus_cell;
SET search_path = md_other;
SELECT (regress.ask('i2b2demo', 'demo', 'Demo')).* AS no_usage_on_i2b2hive;
RESET ROLE;
GRANT USAGE ON SCHEMA i2b2hive TO regress_ontstatus_cell;
SET ROLE regress_ontstatus_cell;
SELECT (regress.ask('i2b2demo', 'demo', 'Demo')).* AS usage_but_no_select;
SELECT count(*) FROM ontstatus.process_status('<ns6:request xmlns:ns6="http://www.i2b2.org/xsd/hive/msg/1.1/"><message_header><security><domain>i2b2demo</domain><username>demo</username></security><project_id>Demo</project_id></message_header><message_body><get_ont_process_status xmlns="http://www.i2b2.org/xsd/cell/ont/1.1/"/></message_body></ns6:request>');
\echo :LAST_ERROR_SQLSTATE
SET ontstatus.lookup_table = '';
SELECT (regress.ask('i2b2demo', 'demo', 'Demo')).* AS single_project_site;
SET ontstatus.lookup_table = 'no_such_hive.ont_db_lookup';
SELECT (regress.ask('i2b2demo', 'demo', 'Demo')).* AS no_lookup_table;
RESET ontstatus.lookup_table;
RESET ROLE;
GRANT SELECT ON i2b2hive.ont_db_lookup TO regress_ontstatus_cell;
SET ROLE regress_ontstatus_cell;
SELECT (regress.ask('i2b2demo', 'demo', 'Demo')).* AS with_select;
-- the lookup may name a schema the caller cannot read: an ERROR response
SELECT (regress.ask('i2b2demo', 'demo', 'Demo2/Team')).* AS schema_not_readable;
RESET ROLE;
RESET search_path;
DROP OWNED BY regress_ontstatus_cell;
DROP ROLE regress_ontstatus_cell;

DROP SCHEMA i2b2hive, hive2, md_demo, md_demo_alice, md_demo2, md_demo2_team,
            md_deep, md_hive, md_hive_bob, md_other, md_empty CASCADE;
DROP TABLE regress.victim;
DROP FUNCTION regress.ask(text, text, text);
