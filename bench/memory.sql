-- make bench, memory: how far one call of each variant raises the
-- backend's resident memory at its peak (VmHWM, reset before each call by
-- writing 5 to /proc/self/clear_refs), and whether every byte palloc'd in
-- the call is freed by the end (the sum over pg_backend_memory_contexts).
-- Needs a superuser (COPY to a file, pg_read_file).
\set ON_ERROR_STOP on
SET search_path = bench100k;
CREATE TEMP TABLE mem (variant text, rss_before bigint, peak bigint, contexts_before bigint,
                       contexts_after bigint, response_bytes bigint);
CREATE FUNCTION pg_temp.kb(field text) RETURNS bigint LANGUAGE sql AS $$
  SELECT substring(pg_read_file('/proc/self/status') FROM field || ':\s+(\d+)')::bigint $$;
CREATE FUNCTION pg_temp.ctx() RETURNS bigint LANGUAGE sql AS $$
  SELECT sum(total_bytes)::bigint FROM pg_backend_memory_contexts $$;
\set req '<ns6:request xmlns:ns4="http://www.i2b2.org/xsd/cell/ont/1.1/" xmlns:ns6="http://www.i2b2.org/xsd/hive/msg/1.1/"><message_header><security><domain>i2b2demo</domain><username>demo</username></security><project_id>Demo</project_id></message_header><message_body><ns4:get_ont_process_status max_return_records="1000"/></message_body></ns6:request>'

-- warm up every variant first: caches, plans
SELECT length(ontstatus.get_ont_process_status(:'req')::text) AS ontstatus_bytes,
       length(bench.get_ont_process_status_sql(:'req')::text) AS builtin_bytes \gset
SELECT count(*) FROM (SELECT process_id, process_type_cd, process_step_cd, start_date, end_date,
  process_status_cd, crc_upload_id, message FROM ont_process_status ORDER BY process_id LIMIT 1000) s
\g /dev/null

SELECT pg_temp.kb('VmRSS') AS rss, pg_temp.ctx() AS ctx \gset
COPY (SELECT 5) TO '/proc/self/clear_refs';
SELECT ontstatus.get_ont_process_status(:'req') \g /dev/null
INSERT INTO mem SELECT 'ontstatus', :rss, pg_temp.kb('VmHWM') - :rss, :ctx, pg_temp.ctx(), :ontstatus_bytes;

SELECT pg_temp.kb('VmRSS') AS rss, pg_temp.ctx() AS ctx \gset
COPY (SELECT 5) TO '/proc/self/clear_refs';
SELECT bench.get_ont_process_status_sql(:'req') \g /dev/null
INSERT INTO mem SELECT 'built-in XML', :rss, pg_temp.kb('VmHWM') - :rss, :ctx, pg_temp.ctx(), :builtin_bytes;

SELECT pg_temp.kb('VmRSS') AS rss, pg_temp.ctx() AS ctx \gset
COPY (SELECT 5) TO '/proc/self/clear_refs';
SELECT process_id, process_type_cd, process_step_cd, start_date, end_date, process_status_cd,
       crc_upload_id, message FROM ont_process_status ORDER BY process_id LIMIT 1000 \g /dev/null
INSERT INTO mem SELECT 'plain SELECT', :rss, pg_temp.kb('VmHWM') - :rss, :ctx, pg_temp.ctx(), NULL;

\echo
\echo == memory of one call, 1000 rows (100k table)
-- what the measuring statements themselves leave in the caches is the same
-- for every variant: the plain SELECT's figure is the baseline
SELECT variant, peak AS peak_rss_growth_kb, response_bytes,
       (contexts_after - contexts_before)
       - (SELECT contexts_after - contexts_before FROM mem WHERE variant = 'plain SELECT')
         AS bytes_left_beyond_plain_select
FROM mem;
