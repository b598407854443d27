/*-------------------------------------------------------------------------
 *
 * run_process.c
 *	  CALL ontstatus.run_process(process_type_cd, steps, changed_by,
 *	  process_id): any SQL job as an i2b2 process, one transaction per step.
 *
 * A C procedure in non-atomic SPI.  It writes the process's rows only
 * through the lifecycle's SQL functions (lifecycle.c): one code path for
 * the rows, their times, table_time_zone and NOTIFY.
 *
 * Transactions:
 *	 - the start (PROCESSING, step "PROCESSED 0/n") is committed at once;
 *	 - transaction i holds: a read of the row (ABORT: KILLED with
 *	   "PROCESSED i-1/n", and stop), step i, SET CONSTRAINTS ALL IMMEDIATE
 *	   (so that a deferred constraint fails the step, not the commit), the
 *	   row read again FOR UPDATE, and "PROCESSED i/n" (COMPLETED after the
 *	   last step, KILLED if a stop came during the step); then it commits.
 *	   The progress a session sees is therefore exactly what committed.
 *	 - all of transaction i but the commit runs in an internal
 *	   subtransaction, as a PL/pgSQL block with an EXCEPTION clause does.
 *	   On any error (a cancel or statement_timeout included) the
 *	   subtransaction is rolled back, which also cleans up whatever the step
 *	   left behind (SPI connections of the functions it called, portals,
 *	   locks, buffers); then ERROR with "PROCESSED i-1/n" and a message
 *	   naming the step and the error is recorded (KILLED if the row was
 *	   aborted meanwhile, nothing if it is no longer running), committed,
 *	   and the original error re-thrown with its SQLSTATE.  An error caught
 *	   outside a subtransaction could not be cleaned up without aborting the
 *	   whole transaction, and the procedure with it.
 *	 - from PostgreSQL 15 on, SPI_commit itself aborts a failed commit
 *	   (a serialization failure, say) and starts a new transaction before
 *	   re-throwing, so that failure is recorded as well; on 13 it cannot be
 *	   caught safely and simply propagates (the row keeps its last
 *	   progress).
 *
 * As the step runs inside a subtransaction, a procedure CALLed as a step
 * runs atomically: it cannot COMMIT itself.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "ontstatus.h"

#include "access/xact.h"
#include "catalog/pg_type_d.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/resowner.h"

PG_FUNCTION_INFO_V1(ontstatus_run_process);

typedef struct RunState
{
	MemoryContext cxt;			/* SPI's procedure context: survives commits */
	const char *schema;			/* the lifecycle functions' schema, quoted */
	int64		id;
	int			n;
	char	  **steps;
	int			current;		/* the step being run, 1-based */
} RunState;

static char *
progress(int done, int total)
{
	return psprintf("PROCESSED %d/%d", done, total);
}

/*
 * The row's status (NULL: no such row), read as the lifecycle finds the
 * table; FOR UPDATE keeps it stable until the commit.
 */
static char *
read_status(const RunState *rs, bool lock)
{
	OntTable	table;
	Oid			types[1] = {INT8OID};
	Datum		values[1] = {Int64GetDatum(rs->id)};
	char	   *status = NULL;

	ont_resolve_table(NULL, &table);
	ont_spi_execute(psprintf("SELECT " ONT_SQL_STATUS_CD " FROM %s t"
						 " WHERE t.process_id OPERATOR(pg_catalog.=) $1%s",
						 table.qualified, lock ? " FOR UPDATE" : ""),
			1, types, values, NULL, false);
	if (SPI_processed > 0)
	{
		status = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
		if (status == NULL)
			status = "";
	}
	SPI_freetuptable(SPI_tuptable);
	return status;
}

static bool
is_abort(const char *status)
{
	return status && pg_strcasecmp(status, "ABORT") == 0;
}

static bool
is_running(const char *status)
{
	return status && strcmp(status, "PROCESSING") == 0;
}

/* finish_process(id, final, message, step) */
static void
finish(const RunState *rs, const char *final, const char *message, int done)
{
	Oid			types[4] = {INT8OID, TEXTOID, TEXTOID, TEXTOID};
	Datum		values[4];
	char		nulls[4] = {' ', ' ', ' ', ' '};

	values[0] = Int64GetDatum(rs->id);
	values[1] = CStringGetTextDatum(final);
	values[2] = message ? CStringGetTextDatum(message) : (Datum) 0;
	nulls[2] = message ? ' ' : 'n';
	values[3] = CStringGetTextDatum(progress(done, rs->n));
	ont_spi_execute(psprintf("SELECT %s.finish_process($1, $2, $3, $4)", rs->schema),
			4, types, values, nulls, false);
}

/* an error for a row that is neither PROCESSING nor ABORT */
static void
not_running(const RunState *rs, const char *status, const char *when)
{
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 status ?
			 errmsg("process " INT64_FORMAT " is %s: ontstatus.run_process() stops %s step %d of %d",
					rs->id, status, when, rs->current, rs->n) :
			 errmsg("process " INT64_FORMAT " no longer exists: ontstatus.run_process() stops %s step %d of %d",
					rs->id, when, rs->current, rs->n),
			 errdetail("Only a PROCESSING process runs its steps; something else ended it.")));
}

/*
 * Transaction i but its commit: returns true when the process was stopped
 * (KILLED is recorded), false when step i ran and its progress (or, after
 * the last step, COMPLETED) is recorded.
 */
static bool
step_body(const RunState *rs)
{
	int			i = rs->current;
	char	   *status;
	int			rc;

	status = read_status(rs, false);
	if (is_abort(status))
	{
		finish(rs, "KILLED", NULL, i - 1);
		return true;
	}
	if (!is_running(status))
		not_running(rs, status, "before");

	rc = SPI_execute(rs->steps[i - 1], false, 0);
	if (rc == SPI_ERROR_TRANSACTION)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TRANSACTION_TERMINATION),
				 errmsg("a step of ontstatus.run_process() cannot commit, roll back or start a transaction"),
				 errdetail("Each step runs in a transaction of its own, committed after it.")));
	if (rc < 0)
		elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(rc));
	SPI_freetuptable(SPI_tuptable);
	/* a deferred constraint fails the step, not the commit */
	ont_spi_execute("SET CONSTRAINTS ALL IMMEDIATE", 0, NULL, NULL, NULL, false);

	status = read_status(rs, true);
	if (is_abort(status))
	{
		finish(rs, "KILLED", NULL, i);
		return true;
	}
	if (!is_running(status))
		not_running(rs, status, "after");
	if (i < rs->n)
	{
		Oid			types[3] = {INT8OID, INT4OID, INT4OID};
		Datum		values[3];

		values[0] = Int64GetDatum(rs->id);
		values[1] = Int32GetDatum(i);
		values[2] = Int32GetDatum(rs->n);
		ont_spi_execute(psprintf("SELECT %s.report_progress($1, $2, $3)", rs->schema),
				3, types, values, NULL, false);
	}
	else
		finish(rs, "COMPLETED", NULL, i);
	return false;
}

/*
 * step_body in a subtransaction, as PL/pgSQL runs a block with an
 * EXCEPTION clause.  Returns the error, copied into rs->cxt, or NULL and
 * in *stopped what step_body returned.
 */
static ErrorData *
run_step(const RunState *rs, bool *stopped)
{
	MemoryContext oldcontext = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	ErrorData  *volatile edata = NULL;
	volatile bool result = false;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcontext);

	PG_TRY();
	{
		result = step_body(rs);
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcontext);
		CurrentResourceOwner = oldowner;
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(rs->cxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcontext);
		CurrentResourceOwner = oldowner;
	}
	PG_END_TRY();

	*stopped = result;
	return edata;
}

static void
commit(void)
{
	SPI_commit();
#if PG_VERSION_NUM < 150000
	/* from 15 on, SPI_commit starts the next transaction itself */
	SPI_start_transaction();
#endif
}

/* context for an error while recording a failure: the failure itself */
static void
failure_context(void *arg)
{
	ErrorData  *edata = (ErrorData *) arg;

	errcontext("while ontstatus.run_process() recorded this error: %s", edata->message);
}

/*
 * Record that step rs->current failed with edata (ERROR, or KILLED when the
 * row was aborted meanwhile, nothing when it is no longer running), commit
 * that, and re-throw edata.
 */
pg_noreturn static void
record_failure(const RunState *rs, ErrorData *edata)
{
	ErrorContextCallback callback;
	StringInfoData message;
	char	   *status;

	callback.callback = failure_context;
	callback.arg = edata;
	callback.previous = error_context_stack;
	error_context_stack = &callback;

	initStringInfo(&message);
	appendStringInfo(&message, "step %d of %d failed: %s (SQLSTATE %s)",
					 rs->current, rs->n, edata->message ? edata->message : "",
					 unpack_sql_state(edata->sqlerrcode));
	if (edata->detail)
		appendStringInfo(&message, " DETAIL: %s", edata->detail);

	status = read_status(rs, true);
	if (is_running(status))
		finish(rs, "ERROR", message.data, rs->current - 1);
	else if (is_abort(status))
		finish(rs, "KILLED", message.data, rs->current - 1);
	commit();

	error_context_stack = callback.previous;

	edata->context = psprintf("%s%sontstatus.run_process() step %d of %d",
							  edata->context ? edata->context : "",
							  edata->context ? "\n" : "", rs->current, rs->n);
	ReThrowError(edata);
}

/*
 * run_process(process_type_cd text, steps text[], changed_by text,
 * INOUT process_id bigint)
 */
Datum
ontstatus_run_process(PG_FUNCTION_ARGS)
{
	CallContext *call = (fcinfo->context && IsA(fcinfo->context, CallContext)) ?
		(CallContext *) fcinfo->context : NULL;
	RunState	rs;
	ArrayType  *array;
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	int			rc;
	Oid			types[3] = {TEXTOID, TEXTOID, TEXTOID};
	Datum		values[3];
	char		vnulls[3] = {' ', ' ', ' '};
	bool		isnull;
	TupleDesc	tupdesc;

	/* before anything else: it must be able to commit */
	if (call == NULL || call->atomic || IsTransactionBlock() || IsSubTransaction())
		ereport(ERROR,
				(errcode(ERRCODE_ACTIVE_SQL_TRANSACTION),
				 errmsg("ontstatus.run_process() cannot run inside a transaction block"),
				 errdetail("It commits after every step."),
				 errhint("CALL it on its own: not after BEGIN, nor from a function or from a procedure running inside a transaction block.")));

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("process_type_cd must not be null")));
	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("steps must not be null")));

	if ((rc = SPI_connect_ext(SPI_OPT_NONATOMIC)) != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect_ext failed: %s", SPI_result_code_string(rc));

	/* everything the run needs, copied into SPI's context before a commit */
	memset(&rs, 0, sizeof(rs));
	rs.cxt = CurrentMemoryContext;
	rs.schema = quote_identifier(get_namespace_name(get_func_namespace(fcinfo->flinfo->fn_oid)));
	array = PG_GETARG_ARRAYTYPE_P_COPY(1);
	if (ARR_NDIM(array) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("steps must be a one-dimensional array")));
	deconstruct_array(array, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	if (n == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("steps must not be empty"),
				 errdetail("run_process runs each element of steps as one step of the process.")));
	rs.n = n;
	rs.steps = palloc(sizeof(char *) * n);
	for (int i = 0; i < n; i++)
	{
		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("step %d of steps is null", i + 1),
					 errdetail("Nothing was started.")));
		rs.steps[i] = TextDatumGetCString(elems[i]);
	}

	/* the start, with its ABORT semantics, committed at once */
	values[0] = PointerGetDatum(PG_GETARG_TEXT_P_COPY(0));
	values[1] = CStringGetTextDatum(progress(0, n));
	if (PG_ARGISNULL(2))
		vnulls[2] = 'n';
	else
		values[2] = PointerGetDatum(PG_GETARG_TEXT_P_COPY(2));
	ont_spi_execute(psprintf("SELECT %s.start_process($1, $2, '', $3)", rs.schema),
			3, types, values, vnulls, false);
	rs.id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
										1, &isnull));
	if (isnull)
		elog(ERROR, "start_process returned NULL");
	SPI_freetuptable(SPI_tuptable);
	commit();

	for (rs.current = 1; rs.current <= n; rs.current++)
	{
		bool		stopped;
		ErrorData  *failure = run_step(&rs, &stopped);

		if (failure)
			record_failure(&rs, failure);
#if PG_VERSION_NUM >= 150000
		{
			/* a failed commit is aborted by SPI_commit, which then re-throws */
			ErrorData  *volatile edata = NULL;

			PG_TRY();
			{
				SPI_commit();
			}
			PG_CATCH();
			{
				MemoryContextSwitchTo(rs.cxt);
				edata = CopyErrorData();
				FlushErrorState();
			}
			PG_END_TRY();
			if (edata)
				record_failure(&rs, edata);
		}
#else
		commit();
#endif
		if (stopped)
			break;
	}

	if ((rc = SPI_finish()) != SPI_OK_FINISH)
		elog(ERROR, "SPI_finish failed: %s", SPI_result_code_string(rc));

	/* the INOUT process_id: a procedure's outputs come back as a record */
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE ||
		tupdesc->natts != 1)
		elog(ERROR, "run_process must have exactly one output parameter");
	tupdesc = BlessTupleDesc(tupdesc);
	values[0] = Int64GetDatum(rs.id);
	isnull = false;
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, &isnull)));
}
