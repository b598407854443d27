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
