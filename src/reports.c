/*-------------------------------------------------------------------------
 *
 * reports.c
 *	  DBA reporting over ont_process_status: process_summary and
 *	  running_processes.
 *
 * Both find the table as find_process_status does (ontstatus.schema, then
 * search_path), read it in the caller's snapshot with the caller's rights
 * and in the table's time zone (ontstatus.table_time_zone),
 * and name everything else with its schema, as status_query.c does.  They
 * are small aggregate queries; the rows go straight into the function's
 * result tuplestore.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "ontstatus.h"

#include "catalog/pg_type_d.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"

PG_FUNCTION_INFO_V1(ontstatus_process_summary);
PG_FUNCTION_INFO_V1(ontstatus_running_processes);

/* how long a finished process ran; NULL for one that has not finished */
#define DURATION \
	"CASE WHEN t.process_status_cd OPERATOR(pg_catalog.=) ANY ('{COMPLETED,ERROR,KILLED}')" \
	" THEN " ONT_SQL_END_DATE " OPERATOR(pg_catalog.-) " ONT_SQL_START_DATE " END"

/*
 * %s: the table.  $1: since, when given.  A running process carries an
 * end_date too (the cell sets it on every update), so only final rows are
 * timed.
 */
static const char *const summary_sql =
"SELECT " ONT_SQL_TYPE_CD ", " ONT_SQL_STATUS_CD ","
" pg_catalog.count(*),"
" pg_catalog.max(" ONT_SQL_START_DATE "),"
" pg_catalog.max(" ONT_SQL_END_DATE "),"
" pg_catalog.avg(" DURATION "),"
" pg_catalog.max(" DURATION ")"
" FROM %s t%s"
" GROUP BY 1, 2 ORDER BY 1, 2";

/*
 * (Operators written as OPERATOR(...) all bind alike, left to right: hence
 * the parentheses.)
 *
 * %s: the table.  $1: stuck_after.  The running processes are the
 * PROCESSING rows and the ABORT rows (in any case, as the cell's worker
 * reads it): an ABORT row whose worker died stays so for ever.  The
 * progress columns are NULL here: add_progress reads them from the step
 * and the message (the last column, which the result does not have).
 */
static const char *const running_sql =
"SELECT " ONT_SQL_PROCESS_ID ", " ONT_SQL_TYPE_CD ", " ONT_SQL_STATUS_CD ", " ONT_SQL_STEP_CD ","
" " ONT_SQL_START_DATE ","
" CAST(pg_catalog.now() AS pg_catalog.timestamp) OPERATOR(pg_catalog.-) " ONT_SQL_START_DATE ","
" c.last_change,"
" CAST(NULL AS pg_catalog.int8), CAST(NULL AS pg_catalog.int8), CAST(NULL AS pg_catalog.numeric),"
" c.last_change OPERATOR(pg_catalog.<)"
"   (CAST(pg_catalog.now() AS pg_catalog.timestamp) OPERATOR(pg_catalog.-) $1),"
" CAST(NULL AS pg_catalog.bool),"
" " ONT_SQL_MESSAGE ", %s"
" CROSS JOIN LATERAL (SELECT " ONT_SQL_LAST_CHANGE " AS last_change) c"
" WHERE " ONT_SQL_IS_RUNNING
" ORDER BY 1";

/*
 * running_sql's %s: the session registered as running the process (watch.c),
 * its pid and start, NULL when none.  $2: the table.
 */
#define RUNNING_REGISTERED \
	"w.backend_pid, w.backend_start FROM %s t LEFT JOIN ontstatus.process_watch w" \
	" ON w.process_table OPERATOR(pg_catalog.=) $2" \
	" AND w.process_id OPERATOR(pg_catalog.=) " ONT_SQL_PROCESS_ID
/* version 1.1's objects on this library have no registrations */
#define RUNNING_UNREGISTERED \
	"CAST(NULL AS pg_catalog.int4), CAST(NULL AS pg_catalog.timestamptz) FROM %s t"

/* running_sql's columns that add_progress reads and writes */
#define RUNNING_ID_COLUMN 0
#define RUNNING_STATUS_COLUMN 2
#define RUNNING_STEP_COLUMN 3
#define RUNNING_DONE_COLUMN 7
#define RUNNING_TOTAL_COLUMN 8
#define RUNNING_PERCENT_COLUMN 9
#define RUNNING_ALIVE_COLUMN 11
#define RUNNING_MESSAGE_COLUMN 12
#define RUNNING_PID_COLUMN 13
#define RUNNING_STARTED_COLUMN 14
/* alive, which 1.1's result lacks; message, pid and start, which no result has */
#define RUNNING_NEWER 1
#define RUNNING_EXTRA 3

/*
 * A running process's progress: from process_step_cd in the cell's
 * "PROCESSED <done>/<total>" (the definition report_progress writes by),
 * else from a message of that form; NULL when neither holds a valid one.
 * Never an error: one row's text must not break the report.
 */
static void
add_progress(void *arg pg_attribute_unused(), Datum *values, bool *nulls)
{
	int32		step_done;
	int32		step_total;
	int64		done;
	int64		total;
	Datum		percent;

	/* alive: only for the processes registered, never a guess */
	if (!nulls[RUNNING_PID_COLUMN])
	{
		OntAlive	alive = ont_session_alive(DatumGetInt32(values[RUNNING_PID_COLUMN]),
											  DatumGetTimestampTz(values[RUNNING_STARTED_COLUMN]));

		values[RUNNING_ALIVE_COLUMN] = BoolGetDatum(alive == ONT_ALIVE_YES);
		nulls[RUNNING_ALIVE_COLUMN] = alive == ONT_ALIVE_UNKNOWN;
	}

	if (!nulls[RUNNING_STEP_COLUMN] &&
		ont_parse_progress(TextDatumGetCString(values[RUNNING_STEP_COLUMN]),
						   &step_done, &step_total))
	{
		done = step_done;
		total = step_total;
	}
	else if (nulls[RUNNING_MESSAGE_COLUMN] ||
			 !ont_progress_in_message(TextDatumGetCString(values[RUNNING_MESSAGE_COLUMN]),
									  &done, &total))
		return;

	/* round(done * 100 / total, 1), as numeric */
	percent = DirectFunctionCall2(numeric_div,
								  DirectFunctionCall2(numeric_mul,
													  DirectFunctionCall1(int8_numeric, Int64GetDatum(done)),
													  DirectFunctionCall1(int8_numeric, Int64GetDatum(100))),
								  DirectFunctionCall1(int8_numeric, Int64GetDatum(total)));
	values[RUNNING_DONE_COLUMN] = Int64GetDatum(done);
	values[RUNNING_TOTAL_COLUMN] = Int64GetDatum(total);
	values[RUNNING_PERCENT_COLUMN] = DirectFunctionCall2(numeric_round, percent,
														 Int32GetDatum(1));
	nulls[RUNNING_DONE_COLUMN] = false;
	nulls[RUNNING_TOTAL_COLUMN] = false;
	nulls[RUNNING_PERCENT_COLUMN] = false;
}

/*
 * Run sql and return its rows as the
 * function's result set, whose row type the query matches column for
 * column - except the column skip (-1: none), when the declared result,
 * being version 1.0's, lacks it.  The caller runs it in the table's time
 * zone (ONT_CALL_ZONE), so that "now" and the caller's timestamptz bounds
 * meet the columns' wall clock.
 */
static void
run_report(FunctionCallInfo fcinfo, const char *sql, int skip, int newer,
		   int extra, OntRowFixup fixup, void *arg, int nargs, Oid *types,
		   Datum *values, const char *nulls)
{
	ont_materialize(fcinfo, false);
	ont_spi_connect();
	ont_spi_execute(sql, nargs, types, values, nulls, true);
	ont_spi_rows_to_result(fcinfo, skip, newer, extra, fixup, arg);
	ont_spi_finish();
}

/* process_summary(since timestamptz DEFAULT NULL) */
Datum
ontstatus_process_summary(PG_FUNCTION_ARGS)
{
	OntCall		call;
	Oid			types[1] = {TIMESTAMPTZOID};
	Datum		values[1];

	ont_begin_call(&call, "ontstatus.process_summary()", ONT_CALL_ZONE | ONT_CALL_TABLE);
	if (PG_ARGISNULL(0))
		run_report(fcinfo, psprintf(summary_sql, call.table.qualified, ""), -1,
				   0, 0, NULL, NULL, 0, NULL, NULL, NULL);
	else
	{
		values[0] = PG_GETARG_DATUM(0);
		run_report(fcinfo,
				   psprintf(summary_sql, call.table.qualified,
							" WHERE t.start_date OPERATOR(pg_catalog.>=) $1"),
				   -1, 0, 0, NULL, NULL, 1, types, values, NULL);
	}
	ont_end_call(&call);
	return (Datum) 0;
}

/* running_processes(stuck_after interval DEFAULT '1 hour') */
Datum
ontstatus_running_processes(PG_FUNCTION_ARGS)
{
	OntCall		call;
	Oid			types[2] = {INTERVALOID, REGCLASSOID};
	Datum		values[2] = {(Datum) 0, (Datum) 0};
	char		nulls[2] = {' ', ' '};

	ont_begin_call(&call, "ontstatus.running_processes()", ONT_CALL_ZONE | ONT_CALL_TABLE);

	if (PG_ARGISNULL(0))
		nulls[0] = 'n';
	else
		values[0] = PG_GETARG_DATUM(0);
	values[1] = ObjectIdGetDatum(call.table.relid);
	run_report(fcinfo,
			   psprintf(running_sql,
						psprintf(ont_watching() ? RUNNING_REGISTERED : RUNNING_UNREGISTERED,
								 call.table.qualified)),
			   RUNNING_STATUS_COLUMN, RUNNING_NEWER, RUNNING_EXTRA,
			   add_progress, NULL, 2, types, values, nulls);
	ont_end_call(&call);
	return (Datum) 0;
}
