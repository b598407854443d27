--
-- response_limits: what a response says about its own time and size.
--
-- datetime_of_message is the start of the statement, not the current time,
-- so that get_ont_process_status is the STABLE function it is declared to
-- be: every response of one statement carries the same time.  (Responses
-- past 1 GB, which end as an ERROR response "response is too large", are
-- tested by test/stress/big_response.sh: they need gigabytes.)
--
CREATE FUNCTION pg_temp.message_time(response xml) RETURNS timestamptz
LANGUAGE sql IMMUTABLE AS $$
  SELECT (xpath('/*/message_header/datetime_of_message/text()',
                response))[1]::text::timestamptz
$$;

-- three calls in one statement, 20 ms apart, DONE and ERROR responses:
-- one time, the statement's start (to the millisecond written)
SELECT pg_temp.message_time(r1) = pg_temp.message_time(r2)
         AND pg_temp.message_time(r2) = pg_temp.message_time(r3) AS same_time,
       pg_temp.message_time(r1) = date_trunc('milliseconds', statement_timestamp())
         AS statement_start,
       regress.ids(r1) AS ids1, regress.ids(r2) AS ids2,
       regress.status(r3) LIKE 'ERROR: %' AS error_response
FROM (SELECT ontstatus.get_ont_process_status(regress.req('<process_id>3</process_id>')) AS r1,
             pg_sleep(0.02) AS pause1,
             ontstatus.get_ont_process_status(regress.req('<process_id>26</process_id>')) AS r2,
             pg_sleep(0.02) AS pause2,
             ontstatus.get_ont_process_status('not a request') AS r3
      OFFSET 0) AS s;

-- the statement's start, not the transaction's: a later statement of the
-- same transaction has a later time
BEGIN;
SELECT pg_temp.message_time(ontstatus.get_ont_process_status(regress.req(''))) AS first_time
\gset
SELECT pg_sleep(0.02);
SELECT pg_temp.message_time(ontstatus.get_ont_process_status(regress.req(''))) > :'first_time'
         AS later,
       pg_temp.message_time(ontstatus.get_ont_process_status(regress.req('')))
         > date_trunc('milliseconds', transaction_timestamp()) AS after_transaction_start;
COMMIT;
