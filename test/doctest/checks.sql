-- test/doctest: what the README's examples must have achieved, checked
-- after they ran (a recipe that runs but does nothing is a failure).

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
