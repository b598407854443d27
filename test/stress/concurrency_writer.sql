\set step random(1, 6)
SELECT stress_write(:step);
