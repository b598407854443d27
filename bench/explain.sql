-- make bench, indexes: the plans of the queries ontstatus runs for a type +
-- status filter and for a start_date range, on 100k rows, without and then
-- with the indexes README recommends.
\set ON_ERROR_STOP on
CREATE SCHEMA noindex;
CREATE TABLE noindex.ont_process_status AS SELECT * FROM bench100k.ont_process_status;
ALTER TABLE noindex.ont_process_status ADD PRIMARY KEY (process_id);
ANALYZE noindex.ont_process_status;
SET search_path = noindex;
-- the statements as ontstatus prepares them (see src/status_query.c)
PREPARE by_type_status(text, text, int8) AS
  SELECT t.process_id, t.process_status_cd FROM noindex.ont_process_status t
  WHERE t.process_type_cd OPERATOR(pg_catalog.=) $1 AND t.process_status_cd OPERATOR(pg_catalog.=) $2
  ORDER BY t.process_id LIMIT $3;
PREPARE by_start(timestamptz, timestamptz, int8) AS
  SELECT t.process_id, t.start_date FROM noindex.ont_process_status t
  WHERE t.start_date OPERATOR(pg_catalog.>=) $1 AND t.start_date OPERATOR(pg_catalog.<=) $2
  ORDER BY t.process_id LIMIT $3;
\echo == without indexes beyond the primary key
EXPLAIN (ANALYZE, COSTS OFF, SUMMARY ON) EXECUTE by_type_status('ONT_EDIT_CONCEPT', 'ERROR', 1000);
EXPLAIN (ANALYZE, COSTS OFF, SUMMARY ON) EXECUTE by_start('2015-06-01', '2015-06-02', 1000);
CREATE INDEX ont_process_status_type_status_idx
  ON noindex.ont_process_status (process_type_cd, process_status_cd, process_id);
CREATE INDEX ont_process_status_start_date_idx ON noindex.ont_process_status (start_date);
ANALYZE noindex.ont_process_status;
\echo == with the recommended indexes
EXPLAIN (ANALYZE, COSTS OFF, SUMMARY ON) EXECUTE by_type_status('ONT_EDIT_CONCEPT', 'ERROR', 1000);
EXPLAIN (ANALYZE, COSTS OFF, SUMMARY ON) EXECUTE by_start('2015-06-01', '2015-06-02', 1000);
DROP SCHEMA noindex CASCADE;
