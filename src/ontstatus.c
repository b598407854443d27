/*-------------------------------------------------------------------------
 *
 * ontstatus.c
 *	  Settings and the SQL-callable entry points of ontstatus.
 *
 * Three SQL functions, one path: each reduces its input to an
 * OntStatusQuery, names the table through ont_resolve_table and runs
 * ont_run_query; they differ only in what they do with the rows.
 *
 *-------------------------------------------------------------------------
 */
#include "ontstatus.h"

#include "access/xact.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/tuplestore.h"
#include "utils/xml.h"

PG_MODULE_MAGIC;

#if PG_VERSION_NUM < 160000
void		_PG_init(void);
#endif

/* PostgreSQL 15.0 called InitMaterializedSRF SetSingleFuncCall */
#if PG_VERSION_NUM >= 150000 && !defined(MAT_SRF_USE_EXPECTED_DESC)
#define InitMaterializedSRF SetSingleFuncCall
#endif

char	   *ontstatus_schema = NULL;
char	   *ontstatus_lookup_table = NULL;
int			ontstatus_max_request_bytes = 1024 * 1024;

PG_FUNCTION_INFO_V1(ontstatus_get_ont_process_status);
PG_FUNCTION_INFO_V1(ontstatus_process_status);
PG_FUNCTION_INFO_V1(ontstatus_find_process_status);

void
_PG_init(void)
{
	DefineCustomStringVariable("ontstatus.schema",
							   "Schema that holds the ont_process_status table.",
							   "When empty, the first ont_process_status on search_path is used.",
							   &ontstatus_schema,
							   "",
							   PGC_USERSET,
							   0,
							   NULL, NULL, NULL);

	DefineCustomStringVariable("ontstatus.lookup_table",
							   "Table that maps i2b2 projects to metadata schemas (the hive's ont_db_lookup).",
							   "Used when a request names a project and the caller can read the table; empty disables the lookup.",
							   &ontstatus_lookup_table,
							   "i2b2hive.ont_db_lookup",
							   PGC_USERSET,
							   0,
							   ont_check_lookup_table, NULL, NULL);

	/*
	 * SUSET: the limit protects the server from its callers, so they must
	 * not be able to raise it.
	 */
	DefineCustomIntVariable("ontstatus.max_request_bytes",
							"Largest request, in bytes, that ontstatus parses.",
							"Checked before any parsing.",
							&ontstatus_max_request_bytes,
							1024 * 1024,
							1024,
							MaxAllocSize / 2,
							PGC_SUSET,
							GUC_UNIT_BYTE,
							NULL, NULL, NULL);

#if PG_VERSION_NUM >= 150000
	MarkGUCPrefixReserved("ontstatus");
#else
	EmitWarningsOnPlaceholders("ontstatus");
#endif
}

static void
write_row(void *arg, Datum *values, bool *nulls)
{
	ont_write_row((OntResponse *) arg, values, nulls);
}

static void
store_row(void *arg, Datum *values, bool *nulls)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) arg;

	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

/*
 * The text of an ERROR response: the message, and the detail when there is
 * one, so that the client learns what PostgreSQL would have said.
 */
static const char *
error_response_text(ErrorData *edata)
{
	if (edata->detail == NULL)
		return edata->message;
	return psprintf("%s: %s", edata->message, edata->detail);
}

/*
 * get_ont_process_status(text) and (xml): always an i2b2 message.
 *
 * Everything that can fail runs in a subtransaction, as a PL/pgSQL
 * EXCEPTION block would, so that any error - bad request, missing table,
 * permission denied - becomes a well-formed ERROR response.  Only a query
 * cancel (statement_timeout, pg_cancel_backend) is passed on: the caller
 * asked for the statement to stop, not for an answer.
 */
Datum
ontstatus_get_ont_process_status(PG_FUNCTION_ARGS)
{
	text	   *request = PG_GETARG_TEXT_PP(0);
	MemoryContext callcxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;

	/* pointers, not locals, cross the longjmp: their targets stay valid */
	OntRequest *req = palloc0(sizeof(OntRequest));
	OntResponse *out = ont_response_create();

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(callcxt);
	PG_TRY();
	{
		OntStatusQuery q;
		char	   *table;

		if (!ont_request_read(VARDATA_ANY(request), VARSIZE_ANY_EXHDR(request), req))
			ont_request_raise(req);
		ont_query_from_request(req, &q);
		table = ont_resolve_table(req);
		ont_write_response_start(out, req, q.max_rows);
		ont_run_query(table, &q, write_row, out);
		ont_write_response_end(out);

		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(callcxt);
		CurrentResourceOwner = owner;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(callcxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(callcxt);
		CurrentResourceOwner = owner;

		if (edata->sqlerrcode == ERRCODE_QUERY_CANCELED)
			ReThrowError(edata);

		ont_write_error_response(out, req, error_response_text(edata));
		FreeErrorData(edata);
	}
	PG_END_TRY();

	PG_RETURN_XML_P(ont_response_datum(out));
}

/*
 * Set up a set-returning function's result as a tuplestore
 * (materialize mode), on every supported version.
 */
void
ont_materialize(FunctionCallInfo fcinfo)
{
#if PG_VERSION_NUM >= 150000
	InitMaterializedSRF(fcinfo, 0);
#else
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	TupleDesc	tupdesc;
	MemoryContext oldcxt;

	if (rsinfo == NULL || !IsA(rsinfo, ReturnSetInfo) ||
		!(rsinfo->allowedModes & SFRM_Materialize))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("set-valued function called in context that cannot accept a set")));
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	oldcxt = MemoryContextSwitchTo(rsinfo->econtext->ecxt_per_query_memory);
	rsinfo->returnMode = SFRM_Materialize;
	rsinfo->setDesc = CreateTupleDescCopy(tupdesc);
	rsinfo->setResult = tuplestore_begin_heap(true, false, work_mem);
	MemoryContextSwitchTo(oldcxt);
#endif
}

static Datum
return_rows(FunctionCallInfo fcinfo, const char *table, const OntStatusQuery *q)
{
	ont_materialize(fcinfo);
	ont_run_query(table, q, store_row, fcinfo->resultinfo);
	return (Datum) 0;
}

/* process_status(text) and (xml): the rows, errors raised as SQL errors */
Datum
ontstatus_process_status(PG_FUNCTION_ARGS)
{
	text	   *request = PG_GETARG_TEXT_PP(0);
	OntRequest	req;
	OntStatusQuery q;

	if (!ont_request_read(VARDATA_ANY(request), VARSIZE_ANY_EXHDR(request), &req))
		ont_request_raise(&req);
	ont_query_from_request(&req, &q);
	return return_rows(fcinfo, ont_resolve_table(&req), &q);
}

/* find_process_status(...): the same query from SQL arguments; NULL = any */
Datum
ontstatus_find_process_status(PG_FUNCTION_ARGS)
{
	OntStatusQuery q;

	memset(&q, 0, sizeof(q));
	if (!PG_ARGISNULL(0))
	{
		q.has_process_id = true;
		q.process_id = PG_GETARG_INT64(0);
	}
	if (!PG_ARGISNULL(1))
		q.process_type_cd = text_to_cstring(PG_GETARG_TEXT_PP(1));
	if (!PG_ARGISNULL(2))
		q.process_status_cd = text_to_cstring(PG_GETARG_TEXT_PP(2));
	for (int i = 0; i < ONT_NUM_TIME_BOUNDS; i++)
	{
		if (PG_ARGISNULL(3 + i))
			continue;
		q.has_time[i] = true;
		q.time[i] = PG_GETARG_TIMESTAMPTZ(3 + i);
	}
	q.max_rows = ont_max_rows(PG_ARGISNULL(7) ? 0 : PG_GETARG_INT32(7));

	return return_rows(fcinfo, ont_resolve_table(NULL), &q);
}
