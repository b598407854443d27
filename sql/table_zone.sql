--
-- table_zone: ontstatus.table_time_zone, the zone the table's timestamp
-- columns are written in (the ONT cell's JVM zone), different from the
-- session's.  The cell here runs in New York; the DBA's session is in UTC
-- or Kolkata.  Rows lie around both daylight saving changes of 2021 (New
-- York: 2021-03-14 02:00 EST -> 03:00 EDT, 2021-11-07 02:00 EDT -> 01:00
-- EST).
--
SET datestyle = 'ISO, YMD';
SET intervalstyle = 'postgres';
CREATE SCHEMA tz;
SET search_path = tz;
\i test/fixtures/ont_process_status.sql
RESET search_path;
INSERT INTO tz.ont_process_status (process_id, process_type_cd, start_date, end_date, process_status_cd)
VALUES (101, 'ONT_UPDATE_CRC_CONCEPT', '2021-03-14 01:30', '2021-03-14 03:30', 'COMPLETED'),
       (102, 'ONT_UPDATE_CRC_CONCEPT', '2021-03-14 03:30', '2021-03-14 04:00', 'COMPLETED'),
       (103, 'ONT_UPDATE_CRC_CONCEPT', '2021-11-07 00:30', '2021-11-07 03:00', 'COMPLETED'),
       (104, 'ONT_UPDATE_CRC_CONCEPT', '2021-11-07 03:00', '2021-11-07 03:10', 'COMPLETED');
SET ontstatus.schema = 'tz';

-- the dates of a response, and its datetime_of_message's offset
CREATE FUNCTION pg_temp.dates(request text) RETURNS TABLE (id int, start_date text, end_date text)
LANGUAGE sql AS $$
  SELECT * FROM XMLTABLE('/*/message_body/*/ontology_process_status'
                PASSING ontstatus.get_ont_process_status(request)
                COLUMNS id int PATH 'process_id', start_date text PATH 'start_date',
                        end_date text PATH 'end_date')
$$;
CREATE FUNCTION pg_temp.started(t text) RETURNS int[] LANGUAGE sql AS $$
  SELECT regress.ids(ontstatus.get_ont_process_status(regress.req(
    '<process_start_date><start_time>' || t || '</start_time><end_time>' || t ||
    '</end_time></process_start_date>')))::int[]
$$;

-- Without the setting, a UTC session reads New York wall clocks as UTC
SET timezone = 'UTC';
SELECT * FROM pg_temp.dates(regress.req('<process_type_cd>ONT_UPDATE_CRC_CONCEPT</process_type_cd>'));

-- With it, the offsets are New York's at each date, in UTC and in Kolkata
-- alike; the session's TimeZone is the caller's again afterwards
SET ontstatus.table_time_zone = 'America/New_York';
SELECT * FROM pg_temp.dates(regress.req('<process_type_cd>ONT_UPDATE_CRC_CONCEPT</process_type_cd>'));
SHOW timezone;
SET timezone = 'Asia/Kolkata';
SELECT * FROM pg_temp.dates(regress.req('<process_type_cd>ONT_UPDATE_CRC_CONCEPT</process_type_cd>'));
SHOW timezone;
-- the message's own time is the cell's zone too
SELECT substr(d, 24) IN ('-05:00', '-04:00') AS new_york_offset
FROM XMLTABLE('/*/message_header' PASSING ontstatus.get_ont_process_status(regress.req(''))
              COLUMNS d text PATH 'datetime_of_message') AS x;

-- Request bounds: with an offset, the instant (03:30 EDT = 07:30Z); without
-- one, the table zone's wall clock - whatever the session's zone
SET timezone = 'UTC';
SELECT t, pg_temp.started(t) AS utc_session
FROM unnest(ARRAY['2021-03-14T07:30:00Z', '2021-03-14T03:30:00-04:00', '2021-03-14T03:30:00',
                  '2021-03-14T06:30:00Z', '2021-03-14T01:30:00', '2021-11-07T04:30:00Z',
                  '2021-11-07T00:30:00', '2021-11-07T08:00:00Z', '2021-11-07T03:00:00']) AS t;
SET timezone = 'Asia/Kolkata';
SELECT t, pg_temp.started(t) AS kolkata_session
FROM unnest(ARRAY['2021-03-14T07:30:00Z', '2021-03-14T03:30:00', '2021-03-14T06:30:00Z',
                  '2021-03-14T01:30:00']) AS t;
-- process_status agrees, and returns the stored wall clock
SELECT process_id, start_date FROM ontstatus.process_status(regress.req(
  '<process_start_date><start_time>2021-03-14T03:30:00</start_time></process_start_date>'
  || '<process_type_cd>ONT_UPDATE_CRC_CONCEPT</process_type_cd>'));

-- find_process_status: timestamptz arguments are instants
SET timezone = 'UTC';
SELECT array_agg(process_id ORDER BY process_id) AS found
FROM ontstatus.find_process_status(started_from => '2021-03-14 07:30:00+00',
                                   started_to => '2021-03-14 07:30:00+00');
SELECT array_agg(process_id ORDER BY process_id) AS found
FROM ontstatus.find_process_status(ended_from => '2021-11-07 08:00:00+00',
                                   ended_to => '2021-11-07 08:10:00+00');
-- without the setting the same instants miss
RESET ontstatus.table_time_zone;
SELECT array_agg(process_id ORDER BY process_id) AS found_without
FROM ontstatus.find_process_status(started_from => '2021-03-14 07:30:00+00',
                                   started_to => '2021-03-14 07:30:00+00');
SET ontstatus.table_time_zone = 'America/New_York';

-- A written date round-trips: read back as an instant and put in New York,
-- it is the stored wall clock, every 15 minutes across both changes (the
-- hour skipped in March is no wall clock the cell's JVM can produce)
CREATE SCHEMA tzdst;
CREATE TABLE tzdst.ont_process_status (LIKE tz.ont_process_status);
INSERT INTO tzdst.ont_process_status (process_id, start_date)
SELECT row_number() OVER (), t FROM (
  SELECT generate_series(timestamp '2021-03-13', '2021-03-15', '15 minutes') AS t
  UNION ALL SELECT generate_series(timestamp '2021-11-06', '2021-11-08', '15 minutes')) AS s
WHERE NOT (t >= '2021-03-14 02:00' AND t < '2021-03-14 03:00');
SET ontstatus.schema = 'tzdst';
SET timezone = 'Asia/Kolkata';
SELECT count(*) AS dates,
       count(*) FILTER (WHERE (x.d::timestamptz AT TIME ZONE 'America/New_York') <> s.start_date) AS mismatches,
       count(DISTINCT substr(x.d, 24)) AS offsets
FROM XMLTABLE('/*/message_body/*/ontology_process_status'
              PASSING ontstatus.get_ont_process_status(regress.req('', ' max_return_records="1000"'))
              COLUMNS id bigint PATH 'process_id', d text PATH 'start_date') AS x
JOIN tzdst.ont_process_status s ON s.process_id = x.id;
-- the fall-back hour (01:00-02:00 happens twice) is read as EDT, the first
SELECT x.d FROM XMLTABLE('/*/message_body/*/ontology_process_status'
              PASSING ontstatus.get_ont_process_status(regress.req(''))
              COLUMNS id bigint PATH 'process_id', d text PATH 'start_date') AS x
JOIN tzdst.ont_process_status s ON s.process_id = x.id
WHERE s.start_date IN ('2021-11-07 00:45', '2021-11-07 01:30', '2021-11-07 02:00');
SET ontstatus.schema = 'tz';
DROP SCHEMA tzdst CASCADE;

-- The lifecycle writes the cell's wall clock, whatever the session's zone
SET timezone = 'UTC';
SELECT ontstatus.start_process('ONT_PATIENT_COUNT_UPDATE', changed_by => 'demo') AS id \gset
SELECT ontstatus.report_progress(:id, 1, 10);
SELECT abs(extract(epoch FROM start_date - (now() AT TIME ZONE 'America/New_York'))) < 60 AS new_york_wall_clock,
       abs(extract(epoch FROM change_date - (now() AT TIME ZONE 'America/New_York'))) < 60 AS changed_in_new_york
FROM tz.ont_process_status WHERE process_id = :id;

-- running_processes: a process the cell started 10 minutes ago (New York
-- wall clock) is 10 minutes old, not hours, and not stuck
INSERT INTO tz.ont_process_status (process_id, process_type_cd, start_date, end_date, process_step_cd,
                                   process_status_cd, status_cd, message, entry_date, change_date)
SELECT 150, 'ONT_UPDATE_CRC_CONCEPT', t - interval '10 minutes', t - interval '2 minutes', 'ONT_SENTTO_FRC',
       'PROCESSING', 'U', '', t - interval '10 minutes', t - interval '2 minutes'
FROM (SELECT (now() AT TIME ZONE 'America/New_York')::timestamp(3) AS t) AS n;
SELECT process_id, running_for BETWEEN interval '9 minutes' AND interval '11 minutes' AS ten_minutes, stuck
FROM ontstatus.running_processes(stuck_after => '5 minutes') WHERE process_id = 150;
SELECT process_id, running_for BETWEEN interval '9 minutes' AND interval '11 minutes' AS ten_minutes, stuck
FROM ontstatus.running_processes(stuck_after => '1 minute') WHERE process_id = 150;
-- without the setting, the UTC session sees it hours old and stuck
RESET ontstatus.table_time_zone;
SELECT process_id, running_for > interval '3 hours' AS hours_old, stuck
FROM ontstatus.running_processes(stuck_after => '1 hour') WHERE process_id = 150;
SET ontstatus.table_time_zone = 'America/New_York';

-- process_summary(since): since is an instant, met in the table's zone
-- (104 started at 03:00 EST, 08:00Z)
SELECT process_type_cd, process_status_cd, processes
FROM ontstatus.process_summary(since => '2021-11-07 08:00:00+00') ORDER BY 1, 2;
SELECT process_type_cd, process_status_cd, processes
FROM ontstatus.process_summary(since => '2021-11-07 08:00:00.001+00') ORDER BY 1, 2;

-- An error inside gives the caller its TimeZone back too
SET ontstatus.schema = 'no_such_schema';
SELECT * FROM ontstatus.find_process_status();
SHOW timezone;
SELECT regress.status(ontstatus.get_ont_process_status(regress.req('')));
SHOW timezone;
SET ontstatus.schema = 'tz';

-- a SET LOCAL TimeZone is given back exactly
BEGIN;
SET LOCAL timezone = 'Europe/London';
SELECT count(*) FROM ontstatus.find_process_status();
SHOW timezone;
COMMIT;
SHOW timezone;

RESET ontstatus.table_time_zone;
RESET ontstatus.schema;
RESET timezone;
DROP SCHEMA tz CASCADE;
