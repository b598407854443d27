CREATE EXTENSION ontstatus;
\i test/fixtures/ont_process_status.sql
-- Rows as the ONT cell writes them: message '' from the insert, progress in
-- process_step_cd ('PROCESSED <done>/<total>'), end_date, change_date and
-- status_cd 'U' on every update, the i2b2 user in changedby_char.
--
-- The two mirror rows (1 and 2), which writers always update together in
-- one transaction: a counter in process_step_cd, in the cell's progress
-- form, and the end_date of that update.  (A real CRC sync steps through
-- ONT_BUILD_PDO_START .. ONT_SENTTO_FRC instead; the mirrors need a value
-- that changes on every update.)
INSERT INTO ont_process_status (process_type_cd, start_date, end_date, process_step_cd, process_status_cd,
                                status_cd, message, entry_date, change_date, changedby_char)
SELECT 'ONT_SYNCALL_CRC_CONCEPT', now(), now(), 'PROCESSED 0/1000000', 'PROCESSING',
       'U', '', now(), now(), 'stress'
FROM generate_series(1, 2);
-- history: CRC syncs the cell has finished
INSERT INTO ont_process_status (process_type_cd, start_date, end_date, process_step_cd, process_status_cd,
                                crc_upload_id, status_cd, message, entry_date, change_date, changedby_char)
SELECT 'ONT_UPDATE_CRC_CONCEPT', now() - i * interval '1 hour', now() - i * interval '1 hour' + interval '5 minutes',
       'ONT_SENTTO_CRCLOADER', 'COMPLETED', i, 'U', '', now() - i * interval '1 hour',
       now() - i * interval '1 hour' + interval '5 minutes', 'stress'
FROM generate_series(1, 500) AS i;

-- What an aborted patient-count worker still knows of its progress: the
-- ABORT overwrites the step, and the worker writes KILLED with its own
-- count.
CREATE TABLE stress_aborted (process_id int PRIMARY KEY, last_step text);

-- One step of the ONT cell's lifecycle; writers hold an advisory lock, as
-- the cell's single worker per process type would be alone.
CREATE FUNCTION stress_write(step int) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(42);
  CASE step
    WHEN 1 THEN   -- a new patient count update: running ones are told to stop
      INSERT INTO stress_aborted
      SELECT process_id, process_step_cd FROM ont_process_status
      WHERE process_type_cd = 'ONT_PATIENT_COUNT_UPDATE' AND process_status_cd = 'PROCESSING';
      UPDATE ont_process_status SET process_status_cd = 'ABORT', process_step_cd = 'ONT_PATIENT_COUNT_UPDATE',
             end_date = now(), change_date = now(), status_cd = 'U'
      WHERE process_type_cd = 'ONT_PATIENT_COUNT_UPDATE' AND process_status_cd = 'PROCESSING';
      INSERT INTO ont_process_status (process_type_cd, start_date, process_step_cd, process_status_cd,
                                      status_cd, message, entry_date, changedby_char)
      VALUES ('ONT_PATIENT_COUNT_UPDATE', now(), 'ONT_PATIENT_COUNT_UPDATE', 'PROCESSING',
              'C', '', now(), 'stress');
    WHEN 2 THEN   -- progress (0/4000 once the concepts are counted, then +40), and the mirrors
      UPDATE ont_process_status
      SET process_step_cd = 'PROCESSED ' ||
            CASE WHEN process_step_cd LIKE 'PROCESSED %'
                 THEN least(split_part(split_part(process_step_cd, ' ', 2), '/', 1)::int + 40, 4000)
                 ELSE 0 END || '/4000',
          end_date = now(), change_date = now(), status_cd = 'U'
      WHERE process_type_cd = 'ONT_PATIENT_COUNT_UPDATE' AND process_status_cd = 'PROCESSING';
      UPDATE ont_process_status
      SET process_step_cd = 'PROCESSED ' || (split_part(split_part(process_step_cd, ' ', 2), '/', 1)::int + 1) || '/1000000',
          end_date = now(), change_date = now(), status_cd = 'U'
      WHERE process_id = 1;
      UPDATE ont_process_status
      SET process_step_cd = 'PROCESSED ' || (split_part(split_part(process_step_cd, ' ', 2), '/', 1)::int + 1) || '/1000000',
          end_date = now(), change_date = now(), status_cd = 'U'
      WHERE process_id = 2;
    WHEN 3 THEN   -- the worker notices ABORT (in any case) and stops with its count
      UPDATE ont_process_status t
      SET process_status_cd = 'KILLED',
          process_step_cd = CASE WHEN a.last_step LIKE 'PROCESSED %' THEN a.last_step ELSE 'PROCESSED 0/4000' END,
          end_date = now(), change_date = now(), status_cd = 'U'
      FROM stress_aborted a
      WHERE t.process_id = a.process_id AND upper(t.process_status_cd) = 'ABORT';
      DELETE FROM stress_aborted;
    WHEN 4 THEN   -- a worker finishes, with the final numbers
      UPDATE ont_process_status SET process_status_cd = 'COMPLETED', process_step_cd = 'PROCESSED 4000/4000',
             end_date = now(), change_date = now(), status_cd = 'U'
      WHERE process_type_cd = 'ONT_PATIENT_COUNT_UPDATE' AND process_status_cd = 'PROCESSING';
    WHEN 5 THEN   -- a concept edit: the cell records it COMPLETED at once, no step, no message
      INSERT INTO ont_process_status (process_type_cd, start_date, end_date, process_status_cd,
                                      status_cd, entry_date, changedby_char)
      VALUES ('ONT_EDIT_CONCEPT', now(), now(), 'COMPLETED', 'C', now(), 'stress');
    ELSE          -- a CRC concept update, inserted and run to its end in one go
      INSERT INTO ont_process_status (process_type_cd, start_date, end_date, process_step_cd, process_status_cd,
                                      crc_upload_id, status_cd, message, entry_date, change_date, changedby_char)
      VALUES ('ONT_UPDATE_CRC_CONCEPT', now(), now(), 'ONT_SENTTO_CRCLOADER', 'COMPLETED',
              step, 'U', '', now(), now(), 'stress');
  END CASE;
END $$;

-- A reader's checks; any violation is an error, so a pgbench failure.
-- Mirrors: rows 1 and 2 must show the same progress (process_step_cd, or
-- running_processes' count read from it) and the same time of change;
-- never two patient count updates PROCESSING.
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
    SELECT max(step || ' ' || end_date) FILTER (WHERE id = 1), max(step || ' ' || end_date) FILTER (WHERE id = 2),
           count(*) FILTER (WHERE type = 'ONT_PATIENT_COUNT_UPDATE')
    INTO mirror1, mirror2, pcu
    FROM XMLTABLE('/*/message_body/*/ontology_process_status' PASSING resp
                  COLUMNS id int PATH 'process_id', type text PATH 'process_type_cd',
                          step text PATH 'process_step_cd', end_date text PATH 'end_date');
  ELSIF kind = 2 THEN
    SELECT max(process_step_cd || ' ' || end_date) FILTER (WHERE process_id = 1),
           max(process_step_cd || ' ' || end_date) FILTER (WHERE process_id = 2),
           count(*) FILTER (WHERE process_type_cd = 'ONT_PATIENT_COUNT_UPDATE')
    INTO mirror1, mirror2, pcu
    FROM ontstatus.process_status(req);
  ELSIF kind = 3 THEN
    SELECT max(process_step_cd || ' ' || end_date) FILTER (WHERE process_id = 1),
           max(process_step_cd || ' ' || end_date) FILTER (WHERE process_id = 2),
           count(*) FILTER (WHERE process_type_cd = 'ONT_PATIENT_COUNT_UPDATE')
    INTO mirror1, mirror2, pcu
    FROM ontstatus.find_process_status(process_status_cd => 'PROCESSING');
  ELSE
    -- progress as running_processes reads it from process_step_cd
    SELECT max(progress_done || '/' || progress_total || ' ' || last_change) FILTER (WHERE process_id = 1),
           max(progress_done || '/' || progress_total || ' ' || last_change) FILTER (WHERE process_id = 2),
           count(*) FILTER (WHERE process_type_cd = 'ONT_PATIENT_COUNT_UPDATE' AND process_status_cd = 'PROCESSING')
    INTO mirror1, mirror2, pcu
    FROM ontstatus.running_processes();
  END IF;
  IF mirror1 IS NULL OR mirror1 IS DISTINCT FROM mirror2 THEN
    RAISE EXCEPTION 'inconsistent snapshot: mirrors % and %', mirror1, mirror2;
  END IF;
  IF pcu > 1 THEN
    RAISE EXCEPTION 'inconsistent snapshot: % patient count updates PROCESSING', pcu;
  END IF;
END $$;
