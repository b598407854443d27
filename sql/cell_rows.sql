--
-- cell_rows: ontstatus and the i2b2 ONT cell write the same rows.
--
-- The cell's own statements (i2b2-core-server OntProcessStatusDao: the
-- insert of a long-running process, updateStatus, updateStatusMessage, and
-- the ABORT of running patient counts) are replayed here as SQL.  Part 1
-- shows ontstatus reading and continuing rows the cell wrote; part 2 writes
-- the same events through both and compares the rows column by column;
-- part 3 reads the responses the way the i2b2 Workbench does.
--
SET timezone = 'America/New_York';
SET datestyle = 'ISO, YMD';
SET intervalstyle = 'postgres';
CREATE SCHEMA cellread;
CREATE SCHEMA cell;
CREATE SCHEMA life;
CREATE SCHEMA wb;
SET search_path = cellread;
\i test/fixtures/ont_process_status.sql
SET search_path = cell;
\i test/fixtures/ont_process_status.sql
SET search_path = life;
\i test/fixtures/ont_process_status.sql
SET search_path = wb;
\i test/fixtures/ont_process_status.sql
RESET search_path;

-- The cell's statements, with its values: times are a java.util.Date
-- (milliseconds) of the moment, the user is the request's i2b2 user.
CREATE FUNCTION pg_temp.cell_insert(tbl regclass, type text, step text, username text)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE id bigint;
BEGIN
  EXECUTE format('INSERT INTO %s (process_type_cd, process_step_cd, start_date, process_status_cd,'
                 ' changedby_char, message, entry_date, status_cd)'
                 ' VALUES ($1, $2, $3, ''PROCESSING'', $4, '''', $3, ''C'') RETURNING process_id', tbl)
    INTO id USING type, step, clock_timestamp()::timestamp(3), username;
  RETURN id;
END $$;
-- updateStatus(processId, endDate, processStateCd, statusCd)
CREATE FUNCTION pg_temp.cell_update_status(tbl regclass, id bigint, step text, status text)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('update %s set end_date = $1,process_step_cd = $2,process_status_cd = $3,'
                 'change_date = $4,status_cd = $5 where process_id = $6 ', tbl)
    USING clock_timestamp()::timestamp(3), step, status, clock_timestamp()::timestamp(3), 'U', id;
END $$;
-- updateStatusMessage(processId, message): the stack trace of an ERROR
CREATE FUNCTION pg_temp.cell_update_message(tbl regclass, id bigint, msg text)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('update %s set  message = $1 where process_id = $2 ', tbl) USING msg, id;
END $$;
-- a patient-count start or stop: every running patient count, row by row
CREATE FUNCTION pg_temp.cell_abort(tbl regclass) RETURNS void LANGUAGE plpgsql AS $$
DECLARE id bigint;
BEGIN
  FOR id IN EXECUTE format('SELECT process_id FROM %s WHERE process_status_cd = ''PROCESSING'''
                           ' AND process_type_cd = ''ONT_PATIENT_COUNT_UPDATE''', tbl) LOOP
    PERFORM pg_temp.cell_update_status(tbl, id, 'ONT_PATIENT_COUNT_UPDATE', 'ABORT');
  END LOOP;
END $$;

------------------------------------------------------------------------
-- Part 1: rows the cell wrote, read and continued by ontstatus
------------------------------------------------------------------------
SET ontstatus.schema = 'cellread';
SELECT pg_temp.cell_insert('cellread.ont_process_status', 'ONT_UPDATE_CRC_CONCEPT', 'ONT_BUILD_PDO_START', 'demo') AS sync;
SELECT pg_temp.cell_update_status('cellread.ont_process_status', 1, 'ONT_SENTTO_CRCLOADER', 'COMPLETED');
SELECT pg_temp.cell_insert('cellread.ont_process_status', 'ONT_PATIENT_COUNT_UPDATE', 'ONT_PATIENT_COUNT_UPDATE', 'demo') AS counts;
SELECT pg_temp.cell_update_status('cellread.ont_process_status', 2, 'PROCESSED 0/4000', 'PROCESSING');
SELECT pg_temp.cell_update_status('cellread.ont_process_status', 2, 'PROCESSED 10/4000', 'PROCESSING');

-- running: progress from the step, though the row has an end_date
SELECT process_id, process_status_cd, process_step_cd, progress_done, progress_total,
       progress_percent, stuck, running_for < interval '1 minute' AS just_started
FROM ontstatus.running_processes();
-- the summary times only finished processes: none for the running one
SELECT process_type_cd, process_status_cd, processes, last_ended IS NOT NULL AS has_end,
       avg_duration IS NOT NULL AS timed, max_duration IS NOT NULL AS max_timed
FROM ontstatus.process_summary();

-- a SQL worker continues the cell's row
SELECT ontstatus.report_progress(2, 20, 4000);
SELECT process_step_cd, process_status_cd, status_cd, message, trim(changedby_char) AS changedby
FROM cellread.ont_process_status WHERE process_id = 2;

-- the cell starts another patient count: its ABORT reaches our worker,
-- which leaves the row alone and ends it KILLED; the ABORT row stays
-- listed as running until then
SELECT pg_temp.cell_abort('cellread.ont_process_status');
SELECT pg_temp.cell_insert('cellread.ont_process_status', 'ONT_PATIENT_COUNT_UPDATE', 'ONT_PATIENT_COUNT_UPDATE', 'demo') AS next_counts;
SELECT process_id, process_status_cd, process_step_cd, progress_done, progress_total
FROM ontstatus.running_processes();
SELECT ontstatus.report_progress(2, 30, 4000) AS worker_reads;
SELECT process_step_cd FROM cellread.ont_process_status WHERE process_id = 2;
SELECT ontstatus.finish_process(2, 'KILLED', process_step_cd => 'PROCESSED 20/4000');
SELECT process_id, process_status_cd, process_step_cd FROM ontstatus.running_processes();
SELECT process_type_cd, process_status_cd, processes, avg_duration IS NOT NULL AS timed
FROM ontstatus.process_summary();
-- and stop_processes stops the cell's own run
SELECT * FROM ontstatus.stop_processes();
SELECT process_id, process_status_cd, process_step_cd, status_cd
FROM cellread.ont_process_status ORDER BY process_id;

------------------------------------------------------------------------
-- Part 2: the same events written by the cell and by ontstatus
------------------------------------------------------------------------
-- A row's image: every column, times reduced to whether they are set
CREATE TEMP TABLE images (event int, label text, source text, process_id bigint, image jsonb);
CREATE FUNCTION pg_temp.snap(event int, label text) RETURNS void LANGUAGE sql AS $$
  INSERT INTO images
  SELECT event, label, src, process_id,
         to_jsonb(r) - '{src,start_date,end_date,entry_date,change_date}'::text[]
         || jsonb_build_object('start_date', start_date IS NOT NULL, 'end_date', end_date IS NOT NULL,
                               'entry_date', entry_date IS NOT NULL, 'change_date', change_date IS NOT NULL)
  FROM (SELECT 'cell' AS src, * FROM cell.ont_process_status
        UNION ALL SELECT 'ontstatus', * FROM life.ont_process_status) AS r
$$;
SET ontstatus.schema = 'life';
\set c '''cell.ont_process_status'''
\set trace '''java.lang.Exception: CRC loader failed'' || repeat(E''\n\tat edu.harvard.i2b2.X.y(X.java:1)'', 40)'

-- a patient count, completed
SELECT pg_temp.cell_insert(:c, 'ONT_PATIENT_COUNT_UPDATE', 'ONT_PATIENT_COUNT_UPDATE', 'demo'),
       ontstatus.start_process('ONT_PATIENT_COUNT_UPDATE', changed_by => 'demo'),
       pg_temp.snap(1, 'count started');
SELECT pg_temp.cell_update_status(:c, 1, 'PROCESSED 0/4000', 'PROCESSING'),
       ontstatus.report_progress(1, 0, 4000), pg_temp.snap(2, 'concepts counted');
SELECT pg_temp.cell_update_status(:c, 1, 'PROCESSED 10/4000', 'PROCESSING'),
       ontstatus.report_progress(1, 10, 4000), pg_temp.snap(3, 'progress');
SELECT pg_temp.cell_update_status(:c, 1, 'PROCESSED 4000/4000', 'COMPLETED'),
       ontstatus.finish_process(1, process_step_cd => 'PROCESSED 4000/4000'), pg_temp.snap(4, 'count completed');
-- a patient count aborted by the next one, which is then stopped
SELECT pg_temp.cell_insert(:c, 'ONT_PATIENT_COUNT_UPDATE', 'ONT_PATIENT_COUNT_UPDATE', 'demo'),
       ontstatus.start_process('ONT_PATIENT_COUNT_UPDATE', changed_by => 'demo'),
       pg_temp.snap(5, 'second count started');
SELECT pg_temp.cell_update_status(:c, 2, 'PROCESSED 10/4000', 'PROCESSING'),
       ontstatus.report_progress(2, 10, 4000), pg_temp.snap(6, 'second count progress');
SELECT pg_temp.cell_abort(:c), pg_temp.cell_insert(:c, 'ONT_PATIENT_COUNT_UPDATE', 'ONT_PATIENT_COUNT_UPDATE', 'demo'),
       ontstatus.start_process('ONT_PATIENT_COUNT_UPDATE', changed_by => 'demo'),
       pg_temp.snap(7, 'third count aborts the second');
SELECT pg_temp.cell_update_status(:c, 2, 'PROCESSED 10/4000', 'KILLED'),
       ontstatus.finish_process(2, 'KILLED', process_step_cd => 'PROCESSED 10/4000'),
       pg_temp.snap(8, 'second count killed');
SELECT pg_temp.cell_abort(:c), (SELECT array_agg(s) FROM ontstatus.stop_processes() AS s),
       pg_temp.snap(9, 'third count stopped');
SELECT pg_temp.cell_update_status(:c, 3, 'PROCESSED 0/4000', 'KILLED'),
       ontstatus.finish_process(3, 'KILLED', process_step_cd => 'PROCESSED 0/4000'),
       pg_temp.snap(10, 'third count killed');
-- a CRC sync, completed
SELECT pg_temp.cell_insert(:c, 'ONT_UPDATE_CRC_CONCEPT', 'ONT_BUILD_PDO_START', 'demo'),
       ontstatus.start_process('ONT_UPDATE_CRC_CONCEPT', changed_by => 'demo'),
       pg_temp.snap(11, 'sync started');
SELECT pg_temp.cell_update_status(:c, 4, 'ONT_BUILD_PDO', 'PROCESSING'),
       ontstatus.report_progress(4, 'ONT_BUILD_PDO'), pg_temp.snap(12, 'PDO built');
SELECT pg_temp.cell_update_status(:c, 4, 'ONT_SENTTO_FRC', 'PROCESSING'),
       ontstatus.report_progress(4, 'ONT_SENTTO_FRC'), pg_temp.snap(13, 'sent to the FR cell');
SELECT pg_temp.cell_update_status(:c, 4, 'ONT_SENTTO_CRCLOADER', 'COMPLETED'),
       ontstatus.finish_process(4, process_step_cd => 'ONT_SENTTO_CRCLOADER'), pg_temp.snap(14, 'sync completed');
-- a full sync that fails: step and status ERROR, the stack trace as message
SELECT pg_temp.cell_insert(:c, 'ONT_SYNCALL_CRC_CONCEPT', 'ONT_BUILD_PDO_START', 'demo'),
       ontstatus.start_process('ONT_SYNCALL_CRC_CONCEPT', changed_by => 'demo'),
       pg_temp.snap(15, 'full sync started');
SELECT pg_temp.cell_update_status(:c, 5, 'ERROR', 'ERROR'), pg_temp.cell_update_message(:c, 5, :trace),
       ontstatus.finish_process(5, 'ERROR', :trace, 'ERROR'), pg_temp.snap(16, 'full sync failed');

-- every row after every event: the same, column by column
SELECT c.event, c.label, count(*) AS rows,
       count(*) FILTER (WHERE c.image IS DISTINCT FROM o.image) AS differing
FROM images c FULL JOIN images o
  ON o.source = 'ontstatus' AND o.event = c.event AND o.process_id = c.process_id
WHERE c.source = 'cell'
GROUP BY 1, 2 ORDER BY 1;
SELECT count(*) AS rows_only_one_side
FROM (SELECT event, process_id FROM images GROUP BY 1, 2
      HAVING count(*) FILTER (WHERE source = 'cell') <> 1
          OR count(*) FILTER (WHERE source = 'ontstatus') <> 1) AS s;
-- what those rows are, at the end
SELECT process_id, image->>'process_type_cd' AS type, image->>'process_step_cd' AS step,
       image->>'process_status_cd' AS status, image->>'status_cd' AS status_cd,
       left(image->>'message', 38) AS message, trim(image->>'changedby_char') AS changedby,
       image->>'end_date' AS has_end
FROM images WHERE source = 'ontstatus' AND event = 16 ORDER BY process_id;
-- the comparison sees a difference when there is one
UPDATE life.ont_process_status SET message = NULL WHERE process_id = 1;
SELECT pg_temp.snap(17, 'control: a NULL message');
SELECT count(*) FILTER (WHERE c.image IS DISTINCT FROM o.image) AS differing
FROM images c JOIN images o ON o.source = 'ontstatus' AND o.event = c.event AND o.process_id = c.process_id
WHERE c.source = 'cell' AND c.event = 17;

------------------------------------------------------------------------
-- Part 3: the i2b2 Workbench's reading of a process ontstatus drives
------------------------------------------------------------------------
-- The Workbench polls by process_id (max 100) and parses the step with
-- getProcessStepCd().split(" ")[1].split("/") into Integer.parseInt.
SET ontstatus.schema = 'wb';
CREATE FUNCTION pg_temp.workbench_poll(id bigint) RETURNS TABLE (status text, done int, total int)
LANGUAGE sql AS $$
  SELECT x.status, split_part(w[2], '/', 1)::int, split_part(w[2], '/', 2)::int
  FROM XMLTABLE('/*/message_body/*/ontology_process_status'
         PASSING ontstatus.get_ont_process_status(
           '<ns6:request xmlns:ns4="http://www.i2b2.org/xsd/cell/ont/1.1/" xmlns:ns6="http://www.i2b2.org/xsd/hive/msg/1.1/">'
           || '<message_header><security><domain>i2b2demo</domain><username>demo</username>'
           || '<password is_token="true">SessionKey:x</password></security><project_id>Demo</project_id></message_header>'
           || '<message_body><ns4:get_ont_process_status max_return_records="100"><process_id>' || id
           || '</process_id></ns4:get_ont_process_status></message_body></ns6:request>')
         COLUMNS status text PATH 'process_status_cd', step text PATH 'process_step_cd') AS x,
       LATERAL string_to_array(x.step, ' ') AS w
  WHERE cardinality(w) = 2 AND split_part(w[2], '/', 3) = ''
$$;
SELECT ontstatus.start_process('ONT_PATIENT_COUNT_UPDATE', changed_by => 'demo') AS wb_id;
-- at 401 points from 0/4000 to 4000/4000, what the Workbench parses is what
-- the worker reported
CREATE TEMP TABLE polls (reported int, returned text, status text, done int, total int);
DO $$
DECLARE returned text;
BEGIN
  FOR i IN 0..400 LOOP
    returned := ontstatus.report_progress(1, i * 10, 4000);
    INSERT INTO polls SELECT i * 10, returned, p.* FROM pg_temp.workbench_poll(1) AS p;
  END LOOP;
END $$;
SELECT count(*) AS polls, count(*) FILTER (WHERE done = reported AND total = 4000) AS parsed_right,
       count(*) FILTER (WHERE returned = 'PROCESSING' AND status = 'PROCESSING') AS processing
FROM polls;
SELECT ontstatus.finish_process(1, process_step_cd => 'PROCESSED 4000/4000');
SELECT * FROM pg_temp.workbench_poll(1);
-- its history tab (type ONT_PATIENT_COUNT_UPDATE, max 100) reads every
-- row's start_date, end_date and step without a null check
SELECT count(*) AS rows,
       count(*) FILTER (WHERE s IS NULL OR e IS NULL OR st IS NULL) AS would_throw
FROM XMLTABLE('/*/message_body/*/ontology_process_status'
       PASSING ontstatus.get_ont_process_status(regress.req(
         '<process_type_cd>ONT_PATIENT_COUNT_UPDATE</process_type_cd>', ' max_return_records="100"'))
       COLUMNS s text PATH 'start_date', e text PATH 'end_date', st text PATH 'process_step_cd') AS x;

RESET ontstatus.schema;
DROP SCHEMA cellread, cell, life, wb CASCADE;
