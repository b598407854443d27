\set kind random(1, 4)
SELECT stress_read(:kind);
