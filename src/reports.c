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

PG_FUNCTION_INFO_V1(ontstatus_process_summary);
PG_FUNCTION_INFO_V1(ontstatus_running_processes);

/* change_date and entry_date, which the row type does not have */
#define TS(col) "CAST(t." col " AS pg_catalog.timestamp)"

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
 * reads it): an ABORT row whose worker died stays so for ever.  Progress is
 * read from process_step_cd in the cell's "PROCESSED <done>/<total>", else
 * from a message of that form, as SQL jobs of version 1.0 wrote it.
 */
static const char *const running_sql =
"SELECT " ONT_SQL_PROCESS_ID ", " ONT_SQL_TYPE_CD ", " ONT_SQL_STATUS_CD ", " ONT_SQL_STEP_CD ","
" " ONT_SQL_START_DATE ","
" CAST(pg_catalog.now() AS pg_catalog.timestamp) OPERATOR(pg_catalog.-) " ONT_SQL_START_DATE ","
" c.last_change,"
" CAST(p.m[1] AS pg_catalog.int8),"
" CAST(p.m[2] AS pg_catalog.int8),"
" CASE WHEN CAST(p.m[2] AS pg_catalog.int8) OPERATOR(pg_catalog.>) 0"
"   THEN pg_catalog.round((CAST(p.m[1] AS pg_catalog.numeric) OPERATOR(pg_catalog.*) 100)"
"   OPERATOR(pg_catalog./) CAST(p.m[2] AS pg_catalog.numeric), 1) END,"
" c.last_change OPERATOR(pg_catalog.<)"
"   (CAST(pg_catalog.now() AS pg_catalog.timestamp) OPERATOR(pg_catalog.-) $1)"
" FROM %s t"
" CROSS JOIN LATERAL (SELECT GREATEST(" TS("change_date") ", " TS("entry_date") ", "
ONT_SQL_START_DATE ") AS last_change) c"
" CROSS JOIN LATERAL (SELECT COALESCE("
"   pg_catalog.regexp_match(" ONT_SQL_STEP_CD ","
"   '^PROCESSED ([0-9]{1,10})/([0-9]{1,10})$'),"
"   pg_catalog.regexp_match(" ONT_SQL_MESSAGE ","
"   E'PROCESSED\\\\s+(\\\\d{1,18})\\\\s*/\\\\s*(\\\\d{1,18})')) AS m) p"
" WHERE t.process_status_cd OPERATOR(pg_catalog.=) 'PROCESSING'"
" OR pg_catalog.upper(t.process_status_cd) OPERATOR(pg_catalog.=) 'ABORT'"
" ORDER BY 1";

/* running_sql's process_status_cd, which version 1.0's result lacks */
#define RUNNING_STATUS_COLUMN 2

/*
 * Run sql and return its rows as the
 * function's result set, whose row type the query matches column for
 * column - except the column skip (-1: none), when the declared result,
 * being version 1.0's, lacks it.  Runs in the table's time zone, so that
 * "now" and the caller's timestamptz bounds meet the columns' wall clock.
 */
static Datum
run_report(FunctionCallInfo fcinfo, const char *sql, int skip, int nargs,
		   Oid *types, Datum *values, const char *nulls)
{
	int			zone;

	ont_materialize(fcinfo, false);
	zone = ont_enter_table_zone();
	ont_spi_connect();
	ont_spi_execute(sql, nargs, types, values, nulls, true);
	ont_spi_rows_to_result(fcinfo, skip);
	ont_spi_finish();
	ont_leave_table_zone(zone);
	return (Datum) 0;
}

/* process_summary(since timestamptz DEFAULT NULL) */
Datum
ontstatus_process_summary(PG_FUNCTION_ARGS)
{
	OntTable	table;
	Oid			types[1] = {TIMESTAMPTZOID};
	Datum		values[1];

	ont_resolve_table(NULL, &table);
	if (PG_ARGISNULL(0))
		return run_report(fcinfo, psprintf(summary_sql, table.qualified, ""), -1,
						  0, NULL, NULL, NULL);
	values[0] = PG_GETARG_DATUM(0);
	return run_report(fcinfo,
					  psprintf(summary_sql, table.qualified,
							   " WHERE t.start_date OPERATOR(pg_catalog.>=) $1"),
					  -1, 1, types, values, NULL);
}

/* running_processes(stuck_after interval DEFAULT '1 hour') */
Datum
ontstatus_running_processes(PG_FUNCTION_ARGS)
{
	OntTable	table;
	Oid			types[1] = {INTERVALOID};
	Datum		values[1] = {(Datum) 0};
	char		nulls[1] = {' '};

	ont_resolve_table(NULL, &table);

	if (PG_ARGISNULL(0))
		nulls[0] = 'n';
	else
		values[0] = PG_GETARG_DATUM(0);
	return run_report(fcinfo, psprintf(running_sql, table.qualified),
					  RUNNING_STATUS_COLUMN,
					  1, types, values, nulls);
}
