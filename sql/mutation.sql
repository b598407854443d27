--
-- mutation: 20,000 mutated requests through the live functions (seeded,
-- so every run sends the same ones).  Every
-- call of get_ont_process_status must return a well-formed DONE or ERROR
-- message; process_status must return rows or raise a clean SQL error (no
-- internal error); and no backend may crash.  A crash ends every session
-- (and a crash reset does not change pg_postmaster_start_time()): this
-- session's temporary table must still be there at the end.
--
SET timezone = 'America/New_York';
CREATE TEMP TABLE survivor AS SELECT pg_backend_pid() AS pid;

CREATE TEMP TABLE seeds (seed text);
INSERT INTO seeds VALUES
('<ns6:request xmlns:ns4="http://www.i2b2.org/xsd/cell/ont/1.1/" xmlns:ns6="http://www.i2b2.org/xsd/hive/msg/1.1/"><message_header><sending_application><application_name>i2b2 Ontology</application_name><application_version>1.7</application_version></sending_application><security><domain>i2b2demo</domain><username>demo</username><password>demouser</password></security><message_control_id><session_id>S</session_id><message_num>M</message_num></message_control_id><project_id>Demo</project_id></message_header><message_body><ns4:get_ont_process_status max_return_records="100"><process_id></process_id><process_type_cd>ONT_UPDATE_CRC_CONCEPT</process_type_cd><process_status_cd>COMPLETED</process_status_cd><process_start_date><start_time>2010-04-05T00:00:00.000-04:00</start_time><end_time>2010-04-05T23:59:59.999-04:00</end_time></process_start_date></ns4:get_ont_process_status></message_body></ns6:request>'),
('<get_ont_process_status max_return_records="5"><process_type_cd>ONT_PATIENT_COUNT_UPDATE</process_type_cd><process_status_cd>PROCESSING</process_status_cd></get_ont_process_status>'),
('<ns4:get_ont_process_status xmlns:ns4="http://www.i2b2.org/xsd/cell/ont/1.1/"><process_id>26</process_id><process_end_date><start_time>2011-01-01T01:00:00Z</start_time><end_time>2011-01-02T09:00:00+05:30</end_time></process_end_date></ns4:get_ont_process_status>'),
('<get_ont_process_status><process_type_cd><![CDATA[ONT_ADD_]]>CONCEPT</process_type_cd><process_status_cd>COMPLE&#x54;ED</process_status_cd></get_ont_process_status>');

-- fragments the mutator splices in
CREATE TEMP TABLE fragments (f text);
INSERT INTO fragments VALUES ('<'), ('>'), ('&'), ('"'), ('/'), ('</'), ('/>'), ('&amp;'), ('&#0;'),
  ('&#x1F600;'), ('<![CDATA['), (']]>'), ('<!DOCTYPE x>'), ('<!-- c -->'), ('<?pi x?>'),
  ('xmlns="urn:x"'), ('xmlns:ns4="http://www.i2b2.org/xsd/cell/ont/1.1/"'), ('<process_id>'),
  ('</process_id>'), ('<process_id>1</process_id>'), ('99999999999999999999'), ('-'), ('T25:00:00'),
  ('2010-02-30T00:00:00'), (' max_return_records="-1"'), ('日本'), ('Grüße'), (chr(1)), (chr(7)),
  (chr(9)), (chr(13)), (U&'\FFFE'), ('''; DROP TABLE x; --'), ('<process_start_date><start_time>'),
  ('</start_time></process_start_date>'), ('<message_body>'), ('<project_id>Demo2/Team</project_id>');

CREATE FUNCTION pg_temp.mutate(s text, frags text[]) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  n int := 1 + floor(random() * 3)::int;
  pos int; len int;
BEGIN
  FOR i IN 1..n LOOP
    pos := 1 + floor(random() * (length(s) + 1))::int;
    len := floor(random() * 12)::int;
    CASE floor(random() * 9)::int
      WHEN 0 THEN s := overlay(s placing '' from pos for len);                   -- delete
      WHEN 1, 2, 3, 4 THEN NULL;                                                -- (often: leave it)
      WHEN 5 THEN s := overlay(s placing frags[1 + floor(random() * array_length(frags, 1))::int]
                               from pos for 0);                                 -- insert
      WHEN 6 THEN s := overlay(s placing substr(s, pos, len) from pos for 0);    -- duplicate
      WHEN 7 THEN s := overlay(s placing chr(32 + floor(random() * 95)::int) from pos for 1);  -- replace
      ELSE s := left(s, pos);                                                   -- truncate
    END CASE;
  END LOOP;
  RETURN s;
END $$;

CREATE TEMP TABLE outcome (calls int, done int, error int, malformed int,
                           rows_ok int, rows_error int, internal_errors int);
DO $$
DECLARE
  frags text[] := ARRAY(SELECT f FROM fragments);
  seeds text[] := ARRAY(SELECT seed FROM seeds);
  r text; resp xml; st text; seed text;
  calls int := 0; done int := 0; error int := 0; malformed int := 0;
  rows_ok int := 0; rows_error int := 0; internal int := 0;
BEGIN
  PERFORM setseed(0.20261127);
  FOR i IN 1..100000 LOOP
    EXIT WHEN calls = 20000;
    seed := seeds[1 + (i % array_length(seeds, 1))];
    r := pg_temp.mutate(seed, frags);
    CONTINUE WHEN r = seed;           -- count mutated requests only
    resp := ontstatus.get_ont_process_status(r);
    calls := calls + 1;
    IF NOT xml_is_well_formed_document(resp::text) THEN
      malformed := malformed + 1;
    ELSE
      st := (xpath('/*/response_header/result_status/status/@type', resp))[1]::text;
      IF st = 'DONE' THEN done := done + 1;
      ELSIF st = 'ERROR' THEN error := error + 1;
      ELSE malformed := malformed + 1;
      END IF;
    END IF;
    BEGIN
      PERFORM count(*) FROM ontstatus.process_status(r);
      rows_ok := rows_ok + 1;
    EXCEPTION WHEN OTHERS THEN
      rows_error := rows_error + 1;
      IF SQLSTATE IN ('XX000', 'XX001', 'XX002') THEN internal := internal + 1; END IF;
    END;
  END LOOP;
  INSERT INTO outcome VALUES (calls, done, error, malformed, rows_ok, rows_error, internal);
END $$;

SELECT calls, done + error = calls AS every_call_answered, malformed,
       done >= 1000 AS many_done, error >= 1000 AS many_errors,
       rows_ok + rows_error = calls AS every_row_call_ended, internal_errors,
       rows_ok = done AS row_functions_agree
FROM outcome;

-- the session survived: same backend, its temporary table intact
SELECT pid = pg_backend_pid() AS same_session FROM survivor;
