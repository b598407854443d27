\set kind random(1, 3)
SELECT stress_read(:kind);
