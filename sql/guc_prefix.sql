--
-- guc_prefix: a misspelt setting in the ontstatus prefix.  PostgreSQL 15
-- and later refuse it (the prefix is reserved: guc_prefix.out); 13 and 14
-- cannot reserve a prefix and accept it as a placeholder that nothing
-- reads (guc_prefix_1.out).
--
LOAD 'ontstatus';
SET ontstatus.shcema = 'x';
SELECT current_setting('ontstatus.shcema', true) AS misspelt;
SHOW ontstatus.schema;
