/*-------------------------------------------------------------------------
 *
 * ontstatus.c
 *	  The module, the call prologue every entry point begins with, and the
 *	  query entry points.
 *
 * Three SQL functions, one path: each reduces its input to an
 * OntStatusQuery, names the table through ont_resolve_table and runs
 * ont_run_query; they differ only in what they do with the rows.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "ontstatus.h"

#include "access/parallel.h"
#include "access/xact.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/tuplestore.h"
#include "utils/xml.h"

PG_MODULE_MAGIC;

#if PG_VERSION_NUM < 160000
void		_PG_init(void);
#endif

PG_FUNCTION_INFO_V1(ontstatus_get_ont_process_status);
PG_FUNCTION_INFO_V1(ontstatus_process_status);
PG_FUNCTION_INFO_V1(ontstatus_find_process_status);
PG_FUNCTION_INFO_V1(ontstatus_resolve_table);

void
_PG_init(void)
{
	ont_define_settings();
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
	const char *message = edata->message ? edata->message :
		psprintf("error %s", unpack_sql_state(edata->sqlerrcode));

	if (edata->detail == NULL)
		return message;
	return psprintf("%s: %s", message, edata->detail);
}

/*
 * Is this error the request's own doing (or the table's resolution, its
 * content and the caller's rights), which an ERROR response reports?  Bad
 * values and XML (class 22), a schema or table that is not there or may
 * not be read (3F, 42), a value the table holds that no response can carry
 * (0A000: a numeric process_id of NaN or Infinity), the size limits
 * (54000).  Anything else - a cancel, a lock or
 * serialization failure, a recovery conflict, out of memory, an I/O or
 * internal error - is no answer to the request: it is raised as the SQL
 * error it is, so that the client can retry or alert.
 */
static bool
is_request_error(int sqlerrcode)
{
	switch (ERRCODE_TO_CATEGORY(sqlerrcode))
	{
		case ERRCODE_DATA_EXCEPTION:
		case ERRCODE_FEATURE_NOT_SUPPORTED:
		case ERRCODE_INVALID_SCHEMA_NAME:
		case ERRCODE_SYNTAX_ERROR_OR_ACCESS_RULE_VIOLATION:
			return true;
		default:
			return sqlerrcode == ERRCODE_PROGRAM_LIMIT_EXCEEDED;
	}
}

/* one call of get_ont_process_status, run by ont_try */
typedef struct Answer
{
	text	   *request;
	OntRequest *req;
	OntResponse *out;
} Answer;

static void
answer(void *arg)
{
	Answer	   *a = (Answer *) arg;
	OntStatusQuery q;
	OntTable	table;

	if (!ont_request_from_text(VARDATA_ANY(a->request), VARSIZE_ANY_EXHDR(a->request), a->req))
		ont_request_raise(a->req);
	ont_query_from_request(a->req, &q);
	ont_resolve_table(a->req, &table);
	ont_write_response_start(a->out, a->req, q.max_rows);
	ont_run_query(&table, &q, write_row, a->out);
	ont_write_response_end(a->out);
}

/*
 * get_ont_process_status(text) and (xml): an i2b2 message for every
 * request.
 *
 * Everything that can fail runs in a subtransaction (ont_try), so that an
 * error of the request - bad request, missing table, permission denied,
 * too large - becomes a well-formed ERROR response.  Any other error
 * (is_request_error) is raised again after the subtransaction is rolled
 * back.
 */
Datum
ontstatus_get_ont_process_status(PG_FUNCTION_ARGS)
{
	Answer		a;
	ErrorData  *edata;
	OntCall		call;

	/* the zone outside the subtransaction: an ERROR response is dated in it too */
	ont_begin_call(&call, "ontstatus.get_ont_process_status()", ONT_CALL_ZONE);
	a.request = PG_GETARG_TEXT_PP(0);
	a.req = palloc0(sizeof(OntRequest));
	a.out = ont_response_create();
	edata = ont_try(answer, &a, CurrentMemoryContext);
	if (edata)
	{
		if (!is_request_error(edata->sqlerrcode))
			ReThrowError(edata);
		ont_write_error_response(a.out, a.req, error_response_text(edata));
		FreeErrorData(edata);
	}
	ont_end_call(&call);
	PG_RETURN_XML_P(ont_response_datum(a.out));
}

/*
 * Every entry point's prologue.  The functions are PARALLEL UNSAFE, but a
 * user's function declared PARALLEL SAFE or RESTRICTED can still call them
 * in a parallel query, in a worker or in the leader: there neither
 * subtransactions nor the table's time zone can be set, and a worker may
 * lack the session's settings.  A refusal, rather than rows from the wrong
 * table or in the wrong zone.  Outside parallel mode, makes sure the
 * settings are defined (ont_define_settings).  Then what flags ask for, in
 * this order: the refusal to write, the zone, the table.
 */
void
ont_begin_call(OntCall *call, const char *name, int flags)
{
	call->name = name;
	call->zone = 0;
	memset(&call->table, 0, sizeof(call->table));
	if (IsInParallelMode())
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("%s cannot run in a parallel query", name),
				 errdetail("It was called from a function declared PARALLEL SAFE or PARALLEL RESTRICTED; in a parallel query it could not use the session's ontstatus settings and the table's time zone."),
				 errhint("Declare the function that calls it PARALLEL UNSAFE.")));
	ont_define_settings();
	if (flags & ONT_CALL_WRITES)
		ont_prevent_writes(name);
	if (flags & ONT_CALL_ZONE)
		call->zone = ont_enter_table_zone();
	if (flags & ONT_CALL_TABLE)
		ont_resolve_table(NULL, &call->table);
}

/* Every entry point's epilogue: the caller's TimeZone back. */
void
ont_end_call(OntCall *call)
{
	ont_leave_table_zone(call->zone);
	call->zone = 0;
}

static void
return_rows(FunctionCallInfo fcinfo, const OntRequest *req, const OntStatusQuery *q)
{
	OntTable	table;

	ont_resolve_table(req, &table);
	ont_materialize(fcinfo, false);
	ont_run_query(&table, q, store_row, fcinfo->resultinfo);
}

/* process_status(text) and (xml): the rows, errors raised as SQL errors */
Datum
ontstatus_process_status(PG_FUNCTION_ARGS)
{
	text	   *request = PG_GETARG_TEXT_PP(0);
	OntRequest	req;
	OntStatusQuery q;
	OntCall		call;

	/* request times without an offset are wall clock in the table's zone */
	ont_begin_call(&call, "ontstatus.process_status()", ONT_CALL_ZONE);
	if (!ont_request_from_text(VARDATA_ANY(request), VARSIZE_ANY_EXHDR(request), &req))
		ont_request_raise(&req);
	ont_query_from_request(&req, &q);
	return_rows(fcinfo, &req, &q);
	ont_end_call(&call);
	return (Datum) 0;
}

/* find_process_status(...): the same query from SQL arguments; NULL = any */
Datum
ontstatus_find_process_status(PG_FUNCTION_ARGS)
{
	OntStatusQuery q;
	OntCall		call;

	/* the bounds are instants, compared with the columns in the table's zone */
	ont_begin_call(&call, "ontstatus.find_process_status()", ONT_CALL_ZONE);
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
	return_rows(fcinfo, NULL, &q);
	ont_end_call(&call);
	return (Datum) 0;
}

/*
 * resolve_table(project_id, domain, user_name) returns regclass: the table
 * a request naming that project from that domain and user reads (without a
 * project, the lifecycle's), found by the requests' own code with the
 * caller's rights and settings; its errors are the requests' errors.
 */
Datum
ontstatus_resolve_table(PG_FUNCTION_ARGS)
{
	OntRequest	req;
	OntTable	table;
	OntCall		call;

	ont_begin_call(&call, "ontstatus.resolve_table()", 0);
	memset(&req, 0, sizeof(req));
	req.project_id = PG_ARGISNULL(0) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(0));
	req.security_domain = PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1));
	req.security_username = PG_ARGISNULL(2) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(2));
	ont_resolve_table(&req, &table);
	ont_end_call(&call);
	PG_RETURN_OID(table.relid);
}
