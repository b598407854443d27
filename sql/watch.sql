--
-- watch: the session registry (watch.c) as one session sees it.  A watch is
-- a row of ontstatus.process_watch and nothing else: watching twice is one
-- registration, a rolled-back watch leaves none, and no lock is left behind
-- by any sequence of watches and finishes.  A registration is alive only
-- for the backend that made it: the same pid with another start time (a pid
-- the kernel gave to a later backend) or a process of no database is dead.
-- Other sessions' view (advisory locks released, a watch refused, a reap
-- racing a re-watch) is in the isolation test test/specs/registry.spec.
--
SET timezone = 'UTC';
CREATE SCHEMA watched;
SET search_path = watched;
\i test/fixtures/ont_process_status.sql
RESET search_path;
SET ontstatus.schema = 'watched';

-- the locks this session holds beyond its own transaction's: none, ever
CREATE FUNCTION pg_temp.kept_locks() RETURNS bigint LANGUAGE sql AS $$
  SELECT count(*) FROM pg_locks
  WHERE pid = pg_backend_pid() AND locktype NOT IN ('relation', 'virtualxid', 'transactionid')
$$;

-- watching twice: one registration, this session's
SELECT ontstatus.start_process('ONT_UPDATE_CRC_CONCEPT') AS id \gset
SELECT ontstatus.watch_process(:id);
SELECT ontstatus.watch_process(:id);
SELECT process_table, process_id, backend_pid = pg_backend_pid() AS mine,
       backend_start = (SELECT backend_start FROM pg_stat_activity WHERE pid = pg_backend_pid()) AS this_start
FROM ontstatus.process_watch WHERE process_table = 'watched.ont_process_status'::regclass;
SELECT process_id, alive FROM ontstatus.running_processes();
SELECT pg_temp.kept_locks();
-- finishing ends the watch
SELECT ontstatus.finish_process(:id, 'COMPLETED', 'done');
SELECT count(*) AS registrations FROM ontstatus.process_watch WHERE process_table = 'watched.ont_process_status'::regclass;
SELECT pg_temp.kept_locks();

-- (start, watch, watch, finish) many times: nothing piles up
DO $$
DECLARE
  id bigint;
BEGIN
  FOR i IN 1..2000 LOOP
    id := ontstatus.start_process('ONT_UPDATE_CRC_CONCEPT');
    PERFORM ontstatus.watch_process(id);
    PERFORM ontstatus.watch_process(id);
    PERFORM ontstatus.finish_process(id, 'COMPLETED', 'done');
  END LOOP;
END
$$;
SELECT count(*) AS registrations FROM ontstatus.process_watch WHERE process_table = 'watched.ont_process_status'::regclass;
SELECT pg_temp.kept_locks();

-- a rolled-back watch: no registration, no lock
SELECT ontstatus.start_process('ONT_UPDATE_CRC_CONCEPT') AS id \gset
BEGIN;
SELECT ontstatus.watch_process(:id);
SELECT count(*) AS registrations FROM ontstatus.process_watch WHERE process_table = 'watched.ont_process_status'::regclass;
ROLLBACK;
SELECT count(*) AS registrations FROM ontstatus.process_watch WHERE process_table = 'watched.ont_process_status'::regclass;
SELECT pg_temp.kept_locks();
SELECT process_id, alive FROM ontstatus.running_processes();

-- this session's pid with another start time: a later backend that got the
-- pid of a dead one; dead, and reaped
INSERT INTO ontstatus.process_watch VALUES ('watched.ont_process_status', :id, pg_backend_pid(), '2000-01-01 00:00+00');
SELECT process_id, alive FROM ontstatus.running_processes();
SELECT ontstatus.reap_processes() = :id AS reaped;
SELECT process_status_cd, message LIKE 'the session running this process (pid %, connected since 2000-01-01 %) ended before it finished' AS says_who
FROM watched.ont_process_status WHERE process_id = :id;

-- a live process of no database (the checkpointer), with its own start time:
-- not a session of this database, so dead
SELECT ontstatus.start_process('ONT_UPDATE_CRC_CONCEPT') AS id \gset
INSERT INTO ontstatus.process_watch
SELECT 'watched.ont_process_status', :id, pid, backend_start
FROM pg_stat_activity WHERE backend_type = 'checkpointer';
SELECT process_id, alive FROM ontstatus.running_processes();
SELECT ontstatus.reap_processes() = :id AS reaped;

-- a registration naming a table that is gone is removed by the next reap,
-- and never dumped (pg_dump reads the table through this condition)
CREATE TABLE watched.gone (x int);
INSERT INTO ontstatus.process_watch VALUES ('watched.gone', -1, pg_backend_pid(), now());
DROP TABLE watched.gone;
SELECT count(*) AS registrations FROM ontstatus.process_watch WHERE process_id = -1;
SELECT extcondition FROM pg_extension WHERE extname = 'ontstatus';
SELECT count(*) FROM ontstatus.reap_processes();
SELECT count(*) AS registrations FROM ontstatus.process_watch WHERE process_id = -1;

RESET ontstatus.schema;
DROP SCHEMA watched CASCADE;
