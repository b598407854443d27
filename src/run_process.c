/*-------------------------------------------------------------------------
 *
 * run_process.c
 *	  CALL ontstatus.run_process(process_type_cd, steps, changed_by,
 *	  process_id): any SQL job as an i2b2 process, one transaction per step.
 *
 * A C procedure in non-atomic SPI.  It writes the process's rows only
 * through the lifecycle (lifecycle.c): one code path for the rows, their
 * times, table_time_zone and NOTIFY.  The table is resolved once, at the
 * start, and every later write goes to that table (by OID), whatever a step
 * does to search_path, ontstatus.schema or the names: a run never writes
 * another process's row.
 *
 * A step's settings are its own: each step runs in a GUC nest level of its
 * own that is rolled back when the step ends, as an index build rolls back
 * the settings its functions change.  SET, SET LOCAL and set_config() in a
 * step last until the step ends; the next step, and the bookkeeping, see
 * the settings the CALL began with (a step that sets
 * default_transaction_read_only or role cannot break the run's record).
 *
 * Transactions:
 *	 - the start (PROCESSING, step "PROCESSED 0/n") and a first update of the
 *	   same step (so that end_date is set, as every row the Workbench lists
 *	   must have it) are committed at once, with the registration that says
 *	   this session runs it (watch.c); the dead runs of the table are
 *	   reaped first;
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
 *	   and the original error re-thrown with its SQLSTATE.  That record
 *	   waits for the row's lock at most as long as the caller's
 *	   lock_timeout, else statement_timeout, allows; if it cannot be
 *	   written, a WARNING says so and the original error is still raised.  An error caught
 *	   outside a subtransaction could not be cleaned up without aborting the
 *	   whole transaction, and the procedure with it.
 *	 - from PostgreSQL 15 on, SPI_commit itself aborts a failed commit
 *	   (a serialization failure, say) and starts a new transaction before
 *	   re-throwing, so that failure is recorded as well; on 13 it cannot be
 *	   caught safely and simply propagates (the row keeps its last
 *	   progress).
 *
 * As the step runs inside a subtransaction, a procedure CALLed as a step
 * runs atomically: it cannot COMMIT itself.  A step SPI cannot run (COPY to
 * or from the client) is refused with 0A000 and recorded as any failure.
 *
 * Memory: whatever a step's bookkeeping allocates lives in a context reset
 * after each step, so a run of 100,000 steps needs no more than one of 10.
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
#include "storage/proc.h"
#include "tcop/dest.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"

PG_FUNCTION_INFO_V1(ontstatus_run_process);

typedef OntRun RunState;

/*
 * The row's status (NULL: no such row), in the table of the start, under
 * the names it has now; FOR UPDATE keeps it stable until the commit.
 */
static char *
read_status(RunState *rs, bool lock)
{
	rs->now = rs->table;
	ont_table_refresh(&rs->now);
	return ont_read_status(&rs->now, rs->id, lock);
}

/*
 * The bookkeeping writes, each in the table's zone (lifecycle.c's writers
 * run in their caller's): the steps between them run in the caller's.
 */

/* finish the process with its progress at done steps */
static void
finish(const RunState *rs, const char *final, const char *message, int done)
{
	int			zone = ont_enter_table_zone();

	ont_finish(&rs->now, rs->id, final, message ? pstrdup(message) : NULL,
			   ont_format_progress(done, rs->n));
	ont_leave_table_zone(zone);
}

/* record the progress of done steps; the row's status */
static char *
progress(const RunState *rs, const OntTable *table, int done)
{
	int			zone = ont_enter_table_zone();
	char	   *status = ont_progress(table, rs->id, ont_format_progress(done, rs->n), NULL);

	ont_leave_table_zone(zone);
	return status;
}

/* an error for a row that is neither PROCESSING nor ABORT */
static void
not_running(const RunState *rs, const char *status, const char *when)
{
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 status ?
			 errmsg("process " INT64_FORMAT " is \"%s\"", rs->id, status) :
			 errmsg("process " INT64_FORMAT " no longer exists", rs->id),
			 errdetail("%s stops %s step %d of %d: only a PROCESSING process runs its steps, and something else ended it.",
					   rs->name, when, rs->current, rs->n)));
}

/*
 * Run step i's SQL with settings of its own: whatever it sets is rolled
 * back when it ends (on error, the subtransaction's abort does that).
 */
static void
execute_step(const RunState *rs)
{
	MemoryContext caller = CurrentMemoryContext;
	int			nestlevel = NewGUCNestLevel();
	int			rc;

#if PG_VERSION_NUM >= 140000
	{
		/* the rows a step's SELECT returns are nobody's: never kept */
		SPIExecuteOptions options;

		memset(&options, 0, sizeof(options));
		options.dest = None_Receiver;
		rc = SPI_execute_extended(rs->steps[rs->current - 1], &options);
	}
#else
	rc = SPI_execute(rs->steps[rs->current - 1], false, 0);
#endif
	/* SPI leaves its procedure context current: back to the step's */
	MemoryContextSwitchTo(caller);
	if (rc == SPI_ERROR_TRANSACTION)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TRANSACTION_TERMINATION),
				 errmsg("a step of ontstatus.run_process() cannot commit, roll back or start a transaction"),
				 errdetail("Each step runs in a transaction of its own, committed after it.")));
	if (rc == SPI_ERROR_COPY)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("a step of ontstatus.run_process() cannot COPY to or from the client"),
				 errdetail("A step runs inside the server: there is no client to send rows to or read them from."),
				 errhint("COPY to or from a file on the server, or use INSERT ... SELECT.")));
	if (rc < 0)
		elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(rc));
	SPI_freetuptable(SPI_tuptable);
	AtEOXact_GUC(false, nestlevel);
}

/*
 * Transaction i but its commit: returns true when the process was stopped
 * (KILLED is recorded), false when step i ran and its progress (or, after
 * the last step, COMPLETED) is recorded.
 */
static bool
step_body(RunState *rs)
{
	int			i = rs->current;
	char	   *status;

	status = read_status(rs, false);
	if (ont_is_abort(status))
	{
		finish(rs, ONT_STATUS_KILLED, NULL, i - 1);
		return true;
	}
	if (!ont_is_processing(status))
		not_running(rs, status, "before");

	execute_step(rs);
	/* a deferred constraint fails the step, not the commit */
	ont_spi_execute("SET CONSTRAINTS ALL IMMEDIATE", 0, NULL, NULL, NULL, false);

	status = read_status(rs, true);
	if (ont_is_abort(status))
	{
		finish(rs, ONT_STATUS_KILLED, NULL, i);
		return true;
	}
	if (!ont_is_processing(status))
		not_running(rs, status, "after");
	if (i < rs->n)
		(void) progress(rs, &rs->now, i);
	else
		finish(rs, ONT_STATUS_COMPLETED, NULL, i);
	return false;
}

/* step_body's call through ont_try */
typedef struct StepCall
{
	RunState   *rs;
	bool		stopped;
} StepCall;

static void
step_call(void *arg)
{
	StepCall   *call = (StepCall *) arg;

	call->stopped = step_body(call->rs);
}

/*
 * step_body in a subtransaction, as PL/pgSQL runs a block with an
 * EXCEPTION clause.  Returns the error, copied into rs->cxt, or NULL and
 * in *stopped what step_body returned.
 */
static ErrorData *
run_step(RunState *rs, bool *stopped)
{
	StepCall	call = {rs, false};
	ErrorData  *edata = ont_try(step_call, &call, rs->cxt);

	*stopped = call.stopped;
	return edata;
}

/* the failure's record, the part that may fail (record_failure_row) */
typedef struct FailureCall
{
	RunState   *rs;
	const char *message;
} FailureCall;

static void
failure_call(void *arg)
{
	FailureCall *call = (FailureCall *) arg;
	char	   *status = read_status(call->rs, true);

	if (ont_is_processing(status))
		finish(call->rs, ONT_STATUS_ERROR, call->message, call->rs->current - 1);
	else if (ont_is_abort(status))
		finish(call->rs, ONT_STATUS_KILLED, call->message, call->rs->current - 1);
	else
		ont_unwatch(&call->rs->now, call->rs->id);	/* ended by someone else */
}

/*
 * The failure's record: ERROR with the step's progress and message, or
 * KILLED when the row was aborted meanwhile, nothing when it is no longer
 * running.  In a subtransaction, waiting for the row's lock no longer than
 * the caller's lock_timeout or statement_timeout: a record that cannot be
 * written is a WARNING, never an error hiding the step's own.
 */
static void
record_failure_row(RunState *rs, const char *message)
{
	FailureCall call = {rs, message};
	int			nestlevel = NewGUCNestLevel();
	ErrorData  *edata;

	/* the statement's timeout may be spent already: it bounds the wait */
	if (StatementTimeout > 0 && (LockTimeout == 0 || LockTimeout > StatementTimeout))
		(void) set_config_option("lock_timeout", psprintf("%d", StatementTimeout),
								 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
								 true, ERROR, false);

	edata = ont_try(failure_call, &call, CurrentMemoryContext);
	if (edata)
		ereport(WARNING,
				(errcode(edata->sqlerrcode),
				 errmsg("%s could not record the failure of step %d of %d in process " INT64_FORMAT,
						rs->name, rs->current, rs->n, rs->id),
				 errdetail("Writing the record failed with \"%s\"; the row of %s keeps what it had.",
						   edata->message, rs->table.qualified)));
	AtEOXact_GUC(false, nestlevel);
}

/*
 * Record that step rs->current failed with edata, commit that, and
 * re-throw edata.
 */
pg_noreturn static void
record_failure(RunState *rs, ErrorData *edata)
{
	StringInfoData message;
	ErrorData  *edata_commit;

	initStringInfo(&message);
	appendStringInfo(&message, "step %d of %d failed: %s (SQLSTATE %s)",
					 rs->current, rs->n, edata->message ? edata->message : "",
					 unpack_sql_state(edata->sqlerrcode));
	if (edata->detail)
		appendStringInfo(&message, " DETAIL: %s", edata->detail);

	record_failure_row(rs, message.data);
	edata_commit = rs->commit(rs);
	if (edata_commit)
		ReThrowError(edata_commit);

	edata->context = psprintf("%s%s%s step %d of %d",
							  edata->context ? edata->context : "",
							  edata->context ? "\n" : "", rs->name, rs->current, rs->n);
	ReThrowError(edata);
}

/*
 * The run's arguments, checked, into *rs (in the current memory context,
 * which must outlive the run); nothing is started on an error.
 */
void
ont_run_init(OntRun *rs, const char *name, FunctionCallInfo fcinfo)
{
	ArrayType  *array;
	Datum	   *elems;
	bool	   *nulls;
	int			n;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("process_type_cd must not be null")));
	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("steps must not be null")));

	memset(rs, 0, sizeof(*rs));
	rs->name = name;
	rs->cxt = CurrentMemoryContext;
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
				 errdetail("Each element of steps is run as one step of the process.")));
	rs->n = n;
	rs->steps = palloc(sizeof(char *) * n);
	for (int i = 0; i < n; i++)
	{
		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("step %d of steps is null", i + 1),
					 errdetail("Nothing was started.")));
		rs->steps[i] = TextDatumGetCString(elems[i]);
	}
	rs->type = text_to_cstring(PG_GETARG_TEXT_PP(0));
	rs->changed_by = PG_ARGISNULL(2) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(2));
}

/*
 * The start, with its ABORT semantics (the table's dead runs reaped
 * first), and a first update, so that the row has its end_date while
 * step 1 runs; in the caller's transaction, not yet registered.
 */
void
ont_run_start(OntRun *rs)
{
	int			zone;

	ont_resolve_table(NULL, &rs->table);
	zone = ont_enter_table_zone();
	ont_reap(&rs->table, NULL);
	rs->id = ont_start(&rs->table, rs->type, ont_format_progress(0, rs->n), NULL,
					   rs->changed_by);
	ont_leave_table_zone(zone);
	(void) progress(rs, &rs->table, 0);
}

/*
 * The steps, one transaction each, committed by rs->commit, starting in a
 * transaction after the one that committed the start and its
 * registration (watch.c).  Returns when the run is COMPLETED or KILLED; on
 * a step's failure, records it, commits that and re-throws the step's
 * error.
 */
void
ont_run_steps(OntRun *rs)
{
	rs->step_cxt = AllocSetContextCreate(rs->cxt, "ontstatus run step",
										 ALLOCSET_DEFAULT_SIZES);
	for (rs->current = 1; rs->current <= rs->n; rs->current++)
	{
		bool		stopped;
		ErrorData  *failure;

		MemoryContextSwitchTo(rs->step_cxt);
		failure = run_step(rs, &stopped);
		if (failure)
			record_failure(rs, failure);
		/* a commit that failed was aborted, and a new transaction begun */
		failure = rs->commit(rs);
		if (failure)
		{
			MemoryContextSwitchTo(rs->step_cxt);
			record_failure(rs, failure);
		}
		MemoryContextSwitchTo(rs->cxt);
		MemoryContextReset(rs->step_cxt);
		if (stopped)
			break;
	}
}

/*
 * run_process's commit: SPI's, in the CALL's non-atomic connection.  From
 * PostgreSQL 15 on, SPI_commit aborts a failed commit and starts the next
 * transaction before re-throwing, so the failure is returned (copied into
 * rs->cxt) to be recorded; on 13 and 14 it cannot be caught safely and
 * simply propagates (the row keeps its last progress).
 */
static ErrorData *
spi_commit(OntRun *rs pg_attribute_unused())
{
#if PG_VERSION_NUM >= 150000
	ErrorData  *volatile edata = NULL;
	MemoryContext cxt = CurrentMemoryContext;

	PG_TRY();
	{
		SPI_commit();
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(rs->cxt);
		edata = CopyErrorData();
		FlushErrorState();
	}
	PG_END_TRY();
	MemoryContextSwitchTo(cxt);
	return edata;
#else
	SPI_commit();
	SPI_start_transaction();
	return NULL;
#endif
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
	int			rc;
	Datum		values[1];
	bool		isnull;
	TupleDesc	tupdesc;
	OntCall		prologue;

	/*
	 * The table is resolved, and the zone entered, by each transaction's
	 * own writes (lifecycle.c): a call that commits cannot hold either.
	 */
	ont_begin_call(&prologue, "ontstatus.run_process()", 0);
	/* before anything else: it must be able to commit */
	if (call == NULL || call->atomic || IsTransactionBlock() || IsSubTransaction())
		ereport(ERROR,
				(errcode(ERRCODE_ACTIVE_SQL_TRANSACTION),
				 errmsg("ontstatus.run_process() cannot run inside a transaction block"),
				 errdetail("It commits after every step."),
				 errhint("CALL it on its own: not after BEGIN, nor from a function or from a procedure running inside a transaction block.")));
	ont_prevent_writes(prologue.name);

	if ((rc = SPI_connect_ext(SPI_OPT_NONATOMIC)) != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect_ext failed: %s", SPI_result_code_string(rc));

	/* everything the run needs, in SPI's context: it survives the commits */
	ont_run_init(&rs, prologue.name, fcinfo);
	rs.commit = spi_commit;
	ont_run_start(&rs);
	/* this session runs it: alive while connected (watch.c) */
	ont_watch(&rs.table, rs.id);
	SPI_commit();
#if PG_VERSION_NUM < 150000
	SPI_start_transaction();
#endif
	ont_run_steps(&rs);

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
