/*-------------------------------------------------------------------------
 *
 * status_query.c
 *	  The one query every SQL function runs, and the one row reader.
 *
 * The statement is built from the filters that are present, with every value
 * an SPI parameter and every name schema-qualified: the table (already
 * quoted by schema_resolution.c), the types of the casts and the operators.
 * A hostile search_path can therefore not redirect it.  The casts map each
 * DDL variant of ont_process_status (serial, integer or numeric process_id;
 * integer or numeric crc_upload_id; text or varchar message; timestamp,
 * timestamptz or date dates) onto the row type ontstatus.process_status_row.
 *
 *-------------------------------------------------------------------------
 */
#include "ontstatus.h"

#include "access/htup_details.h"
#include "catalog/pg_type_d.h"
#include "executor/spi.h"
#include "utils/builtins.h"

/* the most parameters a query can have: id, two codes, four times, limit */
#define ONT_MAX_PARAMS 8

static const char *const select_list =
"SELECT CAST(t.process_id AS pg_catalog.int8),"
" CAST(t.process_type_cd AS pg_catalog.text),"
" CAST(t.process_step_cd AS pg_catalog.text),"
" CAST(t.start_date AS pg_catalog.timestamp),"
" CAST(t.end_date AS pg_catalog.timestamp),"
" CAST(t.process_status_cd AS pg_catalog.text),"
" CAST(t.crc_upload_id AS pg_catalog.int8),"
" CAST(t.message AS pg_catalog.text)"
" FROM ";

/* column and operator of each time bound, indexed by OntTimeBound */
static const struct
{
	const char *column;
	const char *op;
}			time_bounds[ONT_NUM_TIME_BOUNDS] = {
	[ONT_STARTED_FROM] = {"start_date", ">="},
	[ONT_STARTED_TO] = {"start_date", "<="},
	[ONT_ENDED_FROM] = {"end_date", ">="},
	[ONT_ENDED_TO] = {"end_date", "<="},
};

typedef struct QueryParams
{
	StringInfoData sql;
	int			nargs;
	Oid			types[ONT_MAX_PARAMS];
	Datum		values[ONT_MAX_PARAMS];
} QueryParams;

/* Add "column op $n" to the WHERE clause, with value as parameter $n. */
static void
add_condition(QueryParams *p, const char *column, const char *op,
			  Oid type, Datum value)
{
	Assert(p->nargs < ONT_MAX_PARAMS);
	p->types[p->nargs] = type;
	p->values[p->nargs] = value;
	p->nargs++;
	appendStringInfo(&p->sql, "%s t.%s OPERATOR(pg_catalog.%s) $%d",
					 p->nargs == 1 ? " WHERE" : " AND", column, op, p->nargs);
}

/*
 * Run the query for q against table (a quoted, schema-qualified name) and
 * pass every row to callback, in process_id order.  Returns the row count.
 * Reads only, in the snapshot of the calling statement.
 */
uint64
ont_run_query(const char *table, const OntStatusQuery *q,
			  OntRowCallback callback, void *arg)
{
	QueryParams p;
	int			rc;
	uint64		nrows;

	memset(&p, 0, sizeof(p));
	initStringInfo(&p.sql);
	appendStringInfoString(&p.sql, select_list);
	appendStringInfo(&p.sql, "%s t", table);

	if (q->has_process_id)
		add_condition(&p, "process_id", "=", INT8OID, Int64GetDatum(q->process_id));
	if (q->process_type_cd)
		add_condition(&p, "process_type_cd", "=", TEXTOID,
					  CStringGetTextDatum(q->process_type_cd));
	if (q->process_status_cd)
		add_condition(&p, "process_status_cd", "=", TEXTOID,
					  CStringGetTextDatum(q->process_status_cd));
	for (int b = 0; b < ONT_NUM_TIME_BOUNDS; b++)
		if (q->has_time[b])
			add_condition(&p, time_bounds[b].column, time_bounds[b].op,
						  TIMESTAMPTZOID, TimestampTzGetDatum(q->time[b]));

	p.types[p.nargs] = INT8OID;
	p.values[p.nargs] = Int64GetDatum((int64) q->max_rows);
	p.nargs++;
	appendStringInfo(&p.sql, " ORDER BY t.process_id LIMIT $%d", p.nargs);

	if ((rc = SPI_connect()) != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed: %s", SPI_result_code_string(rc));

	rc = SPI_execute_with_args(p.sql.data, p.nargs, p.types, p.values, NULL,
							   true, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(rc));

	nrows = SPI_processed;
	for (uint64 i = 0; i < nrows; i++)
	{
		Datum		values[ONT_NUM_COLUMNS];
		bool		nulls[ONT_NUM_COLUMNS];

		heap_deform_tuple(SPI_tuptable->vals[i], SPI_tuptable->tupdesc,
						  values, nulls);
		callback(arg, values, nulls);
	}

	SPI_finish();
	pfree(p.sql.data);
	return nrows;
}
