-- make bench, run_process memory: the backend's memory (the sum over
-- pg_backend_memory_contexts, and RssAnon) after 10, 1000 and 5000 steps of
-- one CALL, against the baseline a site would otherwise write: a PL/pgSQL
-- procedure that reports each step with report_progress and COMMITs.
-- The steps are "SELECT 1": what is measured is the bookkeeping's own.
-- Needs a superuser (pg_read_file).
\set ON_ERROR_STOP on
-- a process table of its own: the bench's tables hold explicit ids
DROP SCHEMA IF EXISTS rp_bench CASCADE;
CREATE SCHEMA rp_bench;
SET search_path = rp_bench;
\i test/fixtures/ont_process_status.sql
CREATE TABLE IF NOT EXISTS public.rp_mem (variant text, step int, contexts bigint, rss_kb bigint);
TRUNCATE public.rp_mem;
CREATE OR REPLACE FUNCTION public.rp_sample(variant text, step int) RETURNS void LANGUAGE sql AS $$
  INSERT INTO public.rp_mem SELECT variant, step,
    (SELECT sum(total_bytes)::bigint FROM pg_backend_memory_contexts),
    substring(pg_read_file('/proc/self/status') FROM 'RssAnon:\s+(\d+)')::bigint $$;
CREATE OR REPLACE FUNCTION public.rp_steps(n int) RETURNS text[] LANGUAGE sql AS $$
  SELECT array_agg(CASE WHEN i IN (10, 1000, n) THEN format('SELECT public.rp_sample(''run_process'', %s)', i)
                        ELSE 'SELECT 1' END ORDER BY i)
  FROM generate_series(1, n) AS i $$;
CREATE OR REPLACE PROCEDURE public.rp_plpgsql(n int) LANGUAGE plpgsql AS $$
DECLARE id bigint := ontstatus.start_process('ONT_UPDATE_CRC_CONCEPT');
BEGIN
  COMMIT;
  FOR i IN 1..n LOOP
    PERFORM 1;
    IF i IN (10, 1000, n) THEN PERFORM public.rp_sample('PL/pgSQL loop', i); END IF;
    PERFORM ontstatus.report_progress(id, i, n);
    COMMIT;
  END LOOP;
  PERFORM ontstatus.finish_process(id, 'COMPLETED');
END $$;
\c
SET search_path = rp_bench;
CALL ontstatus.run_process('ONT_UPDATE_CRC_CONCEPT', public.rp_steps(5000));
\c
SET search_path = rp_bench;
CALL public.rp_plpgsql(5000);
\echo
\echo == run_process memory: backend memory after 10, 1000 and 5000 steps of one CALL
SELECT variant,
       max(contexts) FILTER (WHERE step = 10) AS contexts_10,
       max(contexts) FILTER (WHERE step = 5000) - max(contexts) FILTER (WHERE step = 10) AS contexts_growth,
       max(rss_kb) FILTER (WHERE step = 10) AS rss_kb_10,
       max(rss_kb) FILTER (WHERE step = 5000) - max(rss_kb) FILTER (WHERE step = 10) AS rss_kb_growth
FROM public.rp_mem GROUP BY variant ORDER BY variant;
DROP SCHEMA rp_bench CASCADE;
