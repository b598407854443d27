\set step random(1, 5)
SELECT stress_write(:step);
