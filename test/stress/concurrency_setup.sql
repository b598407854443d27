CREATE EXTENSION ontstatus;
\i test/fixtures/ont_process_status.sql
-- history, and the two mirror rows (1 and 2) that writers update together
INSERT INTO ont_process_status (process_type_cd, start_date, process_step_cd, process_status_cd, status_cd, message)
VALUES ('ONT_SYNCALL_CRC_CONCEPT', now(), 'ONT_BUILD_PDO_START', 'PROCESSING', 'C', 'PROCESSED 0/1000000'),
       ('ONT_SYNCALL_CRC_CONCEPT', now(), 'ONT_BUILD_PDO_START', 'PROCESSING', 'C', 'PROCESSED 0/1000000');
INSERT INTO ont_process_status (process_type_cd, start_date, end_date, process_step_cd, process_status_cd,
                                crc_upload_id, status_cd, message)
SELECT 'ONT_UPDATE_CRC_CONCEPT', now() - i * interval '1 hour', now() - i * interval '1 hour' + interval '5 minutes',
       'ONT_SENTTO_CRCLOADER', 'COMPLETED', i, 'U', 'done'
FROM generate_series(1, 500) AS i;

-- One step of the ONT cell's lifecycle; writers hold an advisory lock, as
-- the cell's single worker per process type would be alone.
CREATE FUNCTION stress_write(step int) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(42);
  CASE step
    WHEN 1 THEN   -- a new patient count update: running ones are told to stop
      UPDATE ont_process_status SET process_status_cd = 'ABORT', end_date = now(), status_cd = 'U'
      WHERE process_type_cd = 'ONT_PATIENT_COUNT_UPDATE' AND process_status_cd = 'PROCESSING';
      INSERT INTO ont_process_status (process_type_cd, start_date, process_step_cd, process_status_cd, status_cd, message)
      VALUES ('ONT_PATIENT_COUNT_UPDATE', now(), 'ONT_PATIENT_COUNT_UPDATE', 'PROCESSING', 'C', 'PROCESSED 0/4000');
    WHEN 2 THEN   -- progress, and the mirrors, in one transaction
      UPDATE ont_process_status SET message = 'PROCESSED ' || (split_part(split_part(message, ' ', 2), '/', 1)::int + 40) || '/4000'
      WHERE process_type_cd = 'ONT_PATIENT_COUNT_UPDATE' AND process_status_cd = 'PROCESSING';
      UPDATE ont_process_status SET message = 'PROCESSED ' || (split_part(split_part(message, ' ', 2), '/', 1)::int + 1) || '/1000000'
      WHERE process_id = 1;
      UPDATE ont_process_status SET message = 'PROCESSED ' || (split_part(split_part(message, ' ', 2), '/', 1)::int + 1) || '/1000000'
      WHERE process_id = 2;
    WHEN 3 THEN   -- the worker notices ABORT and stops
      UPDATE ont_process_status SET process_status_cd = 'KILLED', status_cd = 'U'
      WHERE process_status_cd = 'ABORT';
    WHEN 4 THEN   -- a worker finishes
      UPDATE ont_process_status SET process_status_cd = 'COMPLETED', end_date = now(), status_cd = 'U',
             message = 'PROCESSED 4000/4000'
      WHERE process_type_cd = 'ONT_PATIENT_COUNT_UPDATE' AND process_status_cd = 'PROCESSING';
    ELSE          -- a CRC concept update, done at once
      INSERT INTO ont_process_status (process_type_cd, start_date, end_date, process_step_cd, process_status_cd,
                                      crc_upload_id, status_cd, message)
      VALUES ('ONT_UPDATE_CRC_CONCEPT', now(), now(), 'ONT_SENTTO_CRCLOADER', 'COMPLETED', step, 'C', 'done');
  END CASE;
END $$;

-- A reader's checks; any violation is an error, so a pgbench failure.
CREATE FUNCTION stress_read(kind int) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  req text := '<ns6:request xmlns:ns6="http://www.i2b2.org/xsd/hive/msg/1.1/"><message_header><security><domain>i2b2demo</domain><username>demo</username><password>x</password></security></message_header><message_body><ns4:get_ont_process_status xmlns:ns4="http://www.i2b2.org/xsd/cell/ont/1.1/" max_return_records="1000"><process_status_cd>PROCESSING</process_status_cd></ns4:get_ont_process_status></message_body></ns6:request>';
  resp xml;
  mirror1 text; mirror2 text; pcu int;
BEGIN
  IF kind = 1 THEN
    resp := ontstatus.get_ont_process_status(req);
    IF NOT xml_is_well_formed_document(resp::text) THEN
      RAISE EXCEPTION 'malformed response';
    END IF;
    IF (xpath('/*/response_header/result_status/status/@type', resp))[1]::text <> 'DONE' THEN
      RAISE EXCEPTION 'not DONE: %', resp;
    END IF;
    SELECT max(message) FILTER (WHERE id = 1), max(message) FILTER (WHERE id = 2),
           count(*) FILTER (WHERE type = 'ONT_PATIENT_COUNT_UPDATE')
    INTO mirror1, mirror2, pcu
    FROM XMLTABLE('/*/message_body/*/ontology_process_status' PASSING resp
                  COLUMNS id int PATH 'process_id', type text PATH 'process_type_cd',
                          message text PATH 'message');
  ELSIF kind = 2 THEN
    SELECT max(message) FILTER (WHERE process_id = 1), max(message) FILTER (WHERE process_id = 2),
           count(*) FILTER (WHERE process_type_cd = 'ONT_PATIENT_COUNT_UPDATE')
    INTO mirror1, mirror2, pcu
    FROM ontstatus.process_status(req);
  ELSE
    SELECT max(message) FILTER (WHERE process_id = 1), max(message) FILTER (WHERE process_id = 2),
           count(*) FILTER (WHERE process_type_cd = 'ONT_PATIENT_COUNT_UPDATE')
    INTO mirror1, mirror2, pcu
    FROM ontstatus.find_process_status(process_status_cd => 'PROCESSING');
  END IF;
  IF mirror1 IS NULL OR mirror1 IS DISTINCT FROM mirror2 THEN
    RAISE EXCEPTION 'inconsistent snapshot: mirrors % and %', mirror1, mirror2;
  END IF;
  IF pcu > 1 THEN
    RAISE EXCEPTION 'inconsistent snapshot: % patient count updates PROCESSING', pcu;
  END IF;
END $$;
