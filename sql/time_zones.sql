--
-- time_zones: request times with Z, +05:30 and no offset, under two
-- session time zones, and the offsets written in responses.
--
-- Row 26 started at 2010-04-05 00:00:00 (a timestamp column: wall-clock
-- time in the session's zone).  In New York that is 04:00Z, in Kolkata
-- 2010-04-04 18:30Z.
--
CREATE FUNCTION pg_temp.started_exactly(t text) RETURNS bigint[]
LANGUAGE sql AS $$
  SELECT regress.ids(ontstatus.get_ont_process_status(regress.req(
    '<process_start_date><start_time>' || t || '</start_time><end_time>' || t ||
    '</end_time></process_start_date>')))
$$;

SET timezone = 'America/New_York';
SELECT t, pg_temp.started_exactly(t) AS new_york
FROM unnest(ARRAY['2010-04-05T04:00:00Z', '2010-04-05T09:30:00+05:30',
                  '2010-04-05T00:00:00', '2010-04-05T00:00:00-04:00',
                  '2010-04-04T18:30:00Z', '2010-04-05T00:00:00.000', '2010-04-05T00:00:00.0001']) AS t;

SET timezone = 'Asia/Kolkata';
SELECT t, pg_temp.started_exactly(t) AS kolkata
FROM unnest(ARRAY['2010-04-05T04:00:00Z', '2010-04-05T09:30:00+05:30',
                  '2010-04-05T00:00:00', '2010-04-05T00:00:00-04:00',
                  '2010-04-04T18:30:00Z', '2010-04-05T00:00:00.000', '2010-04-05T00:00:00.0001']) AS t;

-- fractions: beyond microseconds they are truncated
SET timezone = 'America/New_York';
SELECT t, pg_temp.started_exactly(t) AS fraction
FROM unnest(ARRAY['2011-01-01T00:00:00.123456', '2011-01-01T00:00:00.1234569',
                  '2011-01-01T00:00:00.123457', '2011-01-01T00:00:00.12']) AS t;

-- offsets written in responses: the session zone's offset at that instant
-- (daylight saving time in April, standard time in March), milliseconds
-- truncated
CREATE FUNCTION pg_temp.dates(id int) RETURNS text
LANGUAGE sql AS $$
  SELECT string_agg(x::text, ' ')
  FROM unnest(xpath('/*/message_body/*/ontology_process_status/*[self::start_date or self::end_date]/text()',
              ontstatus.get_ont_process_status(regress.req('<process_id>' || id || '</process_id>')))) AS x
$$;
SET timezone = 'America/New_York';
SELECT id, pg_temp.dates(id) AS new_york FROM unnest(ARRAY[26, 13, 7, 12]) AS id;
SET timezone = 'Asia/Kolkata';
SELECT id, pg_temp.dates(id) AS kolkata FROM unnest(ARRAY[26, 13, 7, 12]) AS id;
SET timezone = 'UTC';
SELECT id, pg_temp.dates(id) AS utc FROM unnest(ARRAY[26, 13]) AS id;
-- a zone whose offset has seconds (Amsterdam before 1937): written in UTC
SET timezone = 'Europe/Amsterdam';
CREATE SCHEMA lmt;
CREATE TABLE lmt.ont_process_status (LIKE i2b2metadata.ont_process_status);
INSERT INTO lmt.ont_process_status (process_id, start_date) VALUES (1, '1930-06-01 12:00:00');
SET ontstatus.schema = 'lmt';
SELECT pg_temp.dates(1) AS amsterdam_1930;
RESET ontstatus.schema;
DROP SCHEMA lmt CASCADE;

-- find_process_status takes timestamptz: the same instants
SET timezone = 'Asia/Kolkata';
SELECT array_agg(process_id) AS find_kolkata
FROM ontstatus.find_process_status(started_from => '2010-04-05T00:00:00+05:30',
                                   started_to => '2010-04-05T00:00:00+05:30');

-- The offset written for every wall-clock time is the one PostgreSQL uses
-- to turn that timestamp into a timestamptz: checked every 15 minutes
-- across daylight saving transitions (New York, Lord Howe's half-hour
-- shift, London), in zones without DST (Kolkata), with DST abolished (Sao
-- Paulo since 2019), and at dates scattered over 1970-2037, in an order
-- that jumps back and forth.
CREATE SCHEMA tzcheck;
CREATE TABLE tzcheck.ont_process_status (LIKE i2b2metadata.ont_process_status);
INSERT INTO tzcheck.ont_process_status (process_id, start_date)
SELECT row_number() OVER (), t FROM (
  SELECT generate_series(timestamp '2021-03-13', '2021-03-15', '15 minutes') AS t
  UNION ALL SELECT generate_series(timestamp '2021-11-06', '2021-11-08', '15 minutes')
  UNION ALL SELECT generate_series(timestamp '2021-04-03', '2021-04-05', '15 minutes')
  UNION ALL SELECT generate_series(timestamp '2021-10-02', '2021-10-04', '15 minutes')
  UNION ALL SELECT generate_series(timestamp '2021-03-27', '2021-03-29', '15 minutes')
  UNION ALL SELECT timestamp '1970-01-01 12:34:56' + (i * 7919 % 24800) * interval '1 day'
                   + (i * 997 % 86400) * interval '1 second'
            FROM generate_series(1, 300) AS i) AS s;
SET ontstatus.schema = 'tzcheck';
CREATE FUNCTION pg_temp.offset_mismatches(zone_name text) RETURNS TABLE (zone text, times bigint, mismatches bigint)
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM set_config('timezone', zone_name, true);
  RETURN QUERY
  SELECT zone_name, count(*), count(*) FILTER (WHERE
           (CASE WHEN right(x.d, 1) = 'Z' THEN 0
                 ELSE (CASE WHEN substr(x.d, 24, 1) = '-' THEN -1 ELSE 1 END)
                      * (substr(x.d, 25, 2)::int * 3600 + substr(x.d, 28, 2)::int * 60) END)
           IS DISTINCT FROM
           extract(epoch FROM s.start_date - (s.start_date::timestamptz AT TIME ZONE 'UTC'))::int)
  FROM XMLTABLE('/*/message_body/*/ontology_process_status'
                PASSING ontstatus.get_ont_process_status(regress.req('', ' max_return_records="5000"'))
                COLUMNS id bigint PATH 'process_id', d text PATH 'start_date') AS x
  JOIN tzcheck.ont_process_status s ON s.process_id = x.id;
END $$;
SELECT o.* FROM unnest(ARRAY['America/New_York', 'Australia/Lord_Howe', 'Europe/London',
                             'Asia/Kolkata', 'America/Sao_Paulo', 'UTC']) AS z,
     LATERAL pg_temp.offset_mismatches(z) AS o;
RESET ontstatus.schema;
DROP SCHEMA tzcheck CASCADE;
