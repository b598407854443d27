-- test/doctest: what the README's examples must have achieved, checked
-- after they ran (a recipe that runs but does nothing is a failure).

-- The submitted patient counts (README "Running jobs") ran in a background
-- worker after the submitting session had gone, one step per active table,
-- as the submitting role, and completed; waited for here (at most a
-- minute), before the counts below are compared with a direct run
DO $$
DECLARE
  row record;
BEGIN
  FOR i IN 1 .. 600 LOOP
    SELECT process_status_cd, process_step_cd INTO row FROM i2b2metadata.ont_process_status
    WHERE rtrim(changedby_char) = 'submitted by the DBA';
    EXIT WHEN row.process_status_cd IS DISTINCT FROM 'PROCESSING';
    PERFORM pg_sleep(0.1);
  END LOOP;
  IF row IS NULL OR row.process_status_cd IS DISTINCT FROM 'COMPLETED'
     OR row.process_step_cd IS DISTINCT FROM 'PROCESSED 2/2' THEN
    RAISE EXCEPTION 'the submitted patient counts did not complete with PROCESSED 2/2: %', row;
  END IF;
END $$;

-- The totalnum recipe ran through run_process, one step per active table
-- of table_access (BIRN and I2B2; the inactive OLD_META is no step), and
-- completed
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM i2b2metadata.ont_process_status
                 WHERE process_type_cd = 'ONT_PATIENT_COUNT_UPDATE'
                   AND process_status_cd = 'COMPLETED' AND process_step_cd = 'PROCESSED 2/2') THEN
    RAISE EXCEPTION 'no patient count completed with PROCESSED 2/2: the README''s totalnum recipe did not run one step per active table';
  END IF;
END $$;

-- and its counts are those of a direct runtotalnum run, as i2b2's own
-- instructions run it (as the metadata user, whose search_path reaches
-- its schema)
CREATE TEMP VIEW counts AS
SELECT 'birn' AS t, c_fullname, c_totalnum FROM i2b2metadata.birn
UNION ALL SELECT 'i2b2', c_fullname, c_totalnum FROM i2b2metadata.i2b2
UNION ALL SELECT 'old_meta', c_fullname, c_totalnum FROM i2b2metadata.old_meta
UNION ALL SELECT 'table_access', c_fullname, c_totalnum FROM i2b2metadata.table_access;
CREATE TEMP TABLE recipe AS SELECT * FROM counts;
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM recipe WHERE c_totalnum > 0) THEN
    RAISE EXCEPTION 'the README''s totalnum recipe counted nothing';
  END IF;
END $$;
UPDATE i2b2metadata.birn SET c_totalnum = NULL;
UPDATE i2b2metadata.i2b2 SET c_totalnum = NULL;
UPDATE i2b2metadata.table_access SET c_totalnum = NULL;
SET ROLE i2b2metadata;
SET search_path = i2b2metadata;
SELECT runtotalnum('observation_fact', 'i2b2demodata');
RESET search_path;
RESET ROLE;
DO $$
DECLARE
  differ text;
BEGIN
  SELECT string_agg(format('%s %s: recipe %s, direct %s', t, c_fullname, r.c_totalnum, d.c_totalnum), '; ')
  INTO differ
  FROM recipe r FULL JOIN counts d USING (t, c_fullname)
  WHERE r.c_totalnum IS DISTINCT FROM d.c_totalnum;
  IF differ IS NOT NULL THEN
    RAISE EXCEPTION 'the recipe''s counts differ from a direct runtotalnum run: %', differ;
  END IF;
END $$;

-- The concept synchronisation recipe ran through run_process, one step per
-- distinct active table of table_access (BIRN, and I2B2 listed twice, read
-- once) and the replacement, and completed
DO $$
DECLARE
  n bigint;
BEGIN
  SELECT count(DISTINCT lower(c_table_name)) + 1 INTO n
  FROM i2b2metadata.table_access WHERE c_visualattributes LIKE '%A%';
  IF NOT EXISTS (SELECT FROM i2b2metadata.ont_process_status
                 WHERE process_type_cd = 'ONT_UPDATE_CRC_CONCEPT' AND process_status_cd = 'COMPLETED'
                   AND process_step_cd = format('PROCESSED %s/%s', n, n)) THEN
    RAISE EXCEPTION 'no concept synchronisation completed with PROCESSED %/%: the README''s recipe did not run one step per distinct active table and the replacement', n, n;
  END IF;
END $$;
CREATE TEMP TABLE sync_recipe AS SELECT * FROM i2b2demodata.concept_dimension;
DO $$
BEGIN
  IF (SELECT count(*) FROM sync_recipe) < 5 THEN
    RAISE EXCEPTION 'the README''s concept synchronisation left % rows', (SELECT count(*) FROM sync_recipe);
  END IF;
END $$;

-- i2b2's function on this table_access (a table with concepts listed twice)
-- fails on concept_dimension's primary key and changes nothing: the trap the
-- recipe avoids
SET ROLE i2b2metadata;
SET search_path = i2b2metadata, i2b2demodata;
DO $$
BEGIN
  PERFORM public.insert_concept_dimension_fromtableaccess();
  RAISE EXCEPTION 'i2b2''s function succeeded on a table listed twice with concepts: the stand-in or the fixture changed';
EXCEPTION WHEN unique_violation THEN
  NULL;
END $$;
RESET search_path;
RESET ROLE;
CREATE TEMP VIEW sync_diff AS
SELECT 'only in the recipe''s' AS side, * FROM (SELECT * FROM sync_recipe EXCEPT SELECT * FROM i2b2demodata.concept_dimension) r
UNION ALL
SELECT 'only in i2b2''s', * FROM (SELECT * FROM i2b2demodata.concept_dimension EXCEPT SELECT * FROM sync_recipe) d;
DO $$
BEGIN
  IF EXISTS (SELECT FROM sync_diff) THEN
    RAISE EXCEPTION 'i2b2''s failing function changed concept_dimension: %', (SELECT string_agg(sync_diff::text, '; ') FROM sync_diff);
  END IF;
END $$;

-- with each table listed once, a direct call of i2b2's function (as the
-- metadata owner, search_path reaching both schemas) leaves exactly the
-- recipe's rows; so does i2b2's function as the recipe's one step
CREATE TEMP TABLE listed_again AS SELECT * FROM i2b2metadata.table_access WITH NO DATA;
WITH d AS (
  DELETE FROM i2b2metadata.table_access a
  WHERE c_visualattributes LIKE '%A%'
    AND EXISTS (SELECT FROM i2b2metadata.table_access b
                WHERE b.c_visualattributes LIKE '%A%' AND lower(b.c_table_name) = lower(a.c_table_name)
                  AND b.ctid < a.ctid)
  RETURNING *)
INSERT INTO listed_again SELECT * FROM d;
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM listed_again) THEN
    RAISE EXCEPTION 'table_access lists no table twice: the fixture changed';
  END IF;
END $$;
SET ROLE i2b2metadata;
SET search_path = i2b2metadata, i2b2demodata;
SELECT public.insert_concept_dimension_fromtableaccess() IS NULL AS "i2b2's errormsg is NULL";
RESET search_path;
RESET ROLE;
DO $$
BEGIN
  IF EXISTS (SELECT FROM sync_diff) THEN
    RAISE EXCEPTION 'the recipe''s concept_dimension differs from a direct call of i2b2''s function: %',
      (SELECT string_agg(sync_diff::text, '; ') FROM sync_diff);
  END IF;
END $$;
DELETE FROM i2b2demodata.concept_dimension;
SET ROLE i2b2metadata;
SET ontstatus.schema = 'i2b2metadata';
SET search_path = public;
CALL ontstatus.run_process('ONT_UPDATE_CRC_CONCEPT',
  ARRAY['SET LOCAL search_path = i2b2metadata, i2b2demodata; SELECT public.insert_concept_dimension_fromtableaccess()'],
  'checks');
RESET search_path;
RESET ontstatus.schema;
RESET ROLE;
DO $$
BEGIN
  IF EXISTS (SELECT FROM sync_diff) THEN
    RAISE EXCEPTION 'i2b2''s function as one step leaves another concept_dimension than the recipe: %',
      (SELECT string_agg(sync_diff::text, '; ') FROM sync_diff);
  END IF;
  IF NOT EXISTS (SELECT FROM i2b2metadata.ont_process_status WHERE changedby_char = 'checks'
                 AND process_status_cd = 'COMPLETED' AND process_step_cd = 'PROCESSED 1/1') THEN
    RAISE EXCEPTION 'i2b2''s function as one step did not complete';
  END IF;
END $$;
INSERT INTO i2b2metadata.table_access SELECT * FROM listed_again;

-- a failing table step (a concept_path two tables hold: the recipe, like
-- i2b2's function, fails) leaves concept_dimension as it was, the process
-- ERROR with the step's message
INSERT INTO i2b2metadata.birn (c_hlevel, c_fullname, c_name, c_synonym_cd, c_visualattributes, c_basecode,
    c_facttablecolumn, c_tablename, c_columnname, c_columndatatype, c_operator, c_dimcode,
    m_applied_path, update_date)
VALUES (2, '\BIRN\Asthma\', 'Asthma', 'N', 'LA ', 'BIRN:ASTHMA', 'concept_cd', 'concept_dimension', 'concept_path', 'T',
        'LIKE', '\i2b2\Diagnoses\Asthma\', '@', '2024-02-01');
SET ROLE i2b2metadata;
SET search_path = i2b2metadata;
\set ON_ERROR_STOP off
CALL i2b2metadata.sync_concept_dimension('checks-fail');
\set ON_ERROR_STOP on
RESET search_path;
RESET ROLE;
DELETE FROM i2b2metadata.birn WHERE c_fullname = '\BIRN\Asthma\';
DO $$
BEGIN
  IF EXISTS (SELECT FROM sync_diff) THEN
    RAISE EXCEPTION 'a failing table step changed concept_dimension: %', (SELECT string_agg(sync_diff::text, '; ') FROM sync_diff);
  END IF;
  IF NOT EXISTS (SELECT FROM i2b2metadata.ont_process_status WHERE changedby_char = 'checks-fail'
                 AND process_status_cd = 'ERROR' AND process_step_cd = 'PROCESSED 1/3'
                 AND message LIKE 'step 2 of 3 failed: duplicate key value violates unique constraint "concept_staging_pkey"%') THEN
    RAISE EXCEPTION 'the failing synchronisation is not recorded as ERROR at its step 2: %',
      (SELECT string_agg(concat_ws('|', process_step_cd, process_status_cd, message), '; ')
       FROM i2b2metadata.ont_process_status WHERE changedby_char = 'checks-fail');
  END IF;
END $$;
