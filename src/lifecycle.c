/*-------------------------------------------------------------------------
 *
 * lifecycle.c
 *	  Start, report on, stop and finish processes in ont_process_status
 *	  exactly as the ONT cell writes them, and tell listeners.
 *
 * The rows are the cell's rows (i2b2-core-server's OntProcessStatusDao and
 * its callers): an insert is PROCESSING with the type's first step, message
 * '' and status_cd 'C'; every later write is the cell's updateStatus, which
 * sets end_date and change_date to now (end_date even while PROCESSING: the
 * Workbench reads it unchecked) and status_cd 'U'.  Progress is the step
 * "PROCESSED <done>/<total>", which the Workbench parses from
 * process_step_cd.  Times are the wall clock of the moment of the write
 * (not of the transaction's start, which a long job written as one
 * function would freeze), to the millisecond as java.util.Date has it, in
 * the table's zone (table_zone.c).
 *
 * Only a start of ONT_PATIENT_COUNT_UPDATE aborts the running processes of
 * its type, as in the cell; stop_processes aborts without starting.  Both
 * take a transaction-scoped advisory lock on (table, type), so concurrent
 * starts leave exactly one PROCESSING row; the Java cell itself takes no
 * such lock.  ABORT is recognised in any case, as the cell's
 * equalsIgnoreCase does.  Every change is announced with NOTIFY ontstatus,
 * '<json>', delivered at commit.
 *
 * The announcements, and the trigger for the cell's own writes, are
 * notify.c's.
 *
 * These functions write: they refuse, cleanly, in a read-only transaction
 * and on a standby.  The internal writers (ont_start, ont_progress,
 * ont_finish) run in the caller's zone: an entry point's prologue enters
 * the table's (ONT_CALL_ZONE), and run_process does it for each of its
 * transactions' bookkeeping, never for a step.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "ontstatus.h"

#include "access/xact.h"
#include "catalog/pg_type_d.h"
#include "access/xlog.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/tuplestore.h"

PG_FUNCTION_INFO_V1(ontstatus_start_process);
PG_FUNCTION_INFO_V1(ontstatus_report_progress);
PG_FUNCTION_INFO_V1(ontstatus_report_progress_count);
PG_FUNCTION_INFO_V1(ontstatus_stop_processes);
PG_FUNCTION_INFO_V1(ontstatus_finish_process);
PG_FUNCTION_INFO_V1(ontstatus_watch_process);
PG_FUNCTION_INFO_V1(ontstatus_reap_processes);

/* the row's columns after a change, for NOTIFY (%s: the table) */
#define RETURNING \
	" RETURNING " ONT_SQL_PROCESS_ID ", " ONT_SQL_TYPE_CD ", " ONT_SQL_STEP_CD ", " ONT_SQL_STATUS_CD

static char *
text_arg(FunctionCallInfo fcinfo, int n)
{
	return PG_ARGISNULL(n) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(n));
}

static void
not_null(FunctionCallInfo fcinfo, int n, const char *name)
{
	if (PG_ARGISNULL(n))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be null", name)));
}

/*
 * The time of a write: now, not the transaction's start, truncated to the
 * millisecond like the cell's java.util.Date.  A timestamptz, which the
 * assignment to a timestamp or date column turns into the wall clock of
 * the table's zone.
 */
static Datum
write_time(void)
{
	TimestampTz now = GetCurrentTimestamp();

	return TimestampTzGetDatum(now - now % 1000);
}

/*
 * A message cut to what the table's message column holds (varchar(2000) in
 * older installs): a job must always be able to record how it ended.
 */
static char *
fit_message(const OntTable *table, char *message)
{
	AttrNumber	attnum;
	Oid			type;
	int32		typmod;
	Oid			collation;
	int			len;

	if (message == NULL ||
		(attnum = get_attnum(table->relid, "message")) == InvalidAttrNumber)
		return message;
	get_atttypetypmodcoll(table->relid, attnum, &type, &typmod, &collation);
	if ((type != VARCHAROID && type != BPCHAROID) || typmod < (int32) VARHDRSZ)
		return message;
	len = strlen(message);
	message[pg_mbcharcliplen(message, len, typmod - VARHDRSZ)] = '\0';
	return message;
}

/*
 * Set every PROCESSING process of the type to ABORT, as the cell's
 * patient-count start and stop do (the step becomes the type's first one:
 * ONT_PATIENT_COUNT_UPDATE for patient counts, as the cell writes).  Takes
 * the lock that serialises the starts and stops of this type on this
 * table.  Leaves the aborted rows in SPI_tuptable, already announced.
 */
static void
abort_running(const OntTable *table, const char *type, Datum now)
{
	Oid			types[4] = {TEXTOID, TEXTOID, TIMESTAMPTZOID, INT4OID};
	Datum		values[4];

	/*
	 * The lock serialises these writers; a snapshot taken before it was
	 * granted could miss the PROCESSING row a concurrent start just
	 * committed, so REPEATABLE READ would break "one PROCESSING row".
	 */
	if (IsolationUsesXactSnapshot() && !IsolationIsSerializable())
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("ontstatus cannot abort running processes in a REPEATABLE READ transaction"),
				 errdetail("It must see the rows committed by concurrent starts of the same type."),
				 errhint("Use READ COMMITTED (the default) or SERIALIZABLE.")));

	values[0] = CStringGetTextDatum(type);
	values[1] = CStringGetTextDatum(ont_first_step(type));
	values[2] = now;
	values[3] = Int32GetDatum((int32) table->relid);
	ont_spi_execute("SELECT pg_catalog.pg_advisory_xact_lock($4, pg_catalog.hashtext($1))",
					4, types, values, NULL, false);
	ont_spi_execute(psprintf("UPDATE %s t SET process_status_cd = 'ABORT', process_step_cd = $2,"
				 " end_date = $3, change_date = $3, status_cd = 'U'"
				 " WHERE t.process_type_cd OPERATOR(pg_catalog.=) $1"
				 " AND t.process_status_cd OPERATOR(pg_catalog.=) 'PROCESSING'" RETURNING,
				 table->qualified),
					4, types, values, NULL, false);
	ont_notify_returned(table);
}

/*
 * Insert a PROCESSING row as the cell does, after aborting the running
 * processes of the type where the cell does; returns its process_id.  The
 * internal path of start_process and run_process: table is resolved by the
 * caller.
 */
int64
ont_start(const OntTable *table, const char *type, const char *step,
		  char *message, const char *changed_by)
{
	Oid			types[5] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID, TIMESTAMPTZOID};
	Datum		values[5];
	bool		isnull;
	Datum		id;

	(void) ont_first_step(type);	/* refuses a type that never runs */
	values[0] = CStringGetTextDatum(type);
	values[1] = CStringGetTextDatum(step);
	/* the cell's insert: message '', the i2b2 user as changedby_char */
	values[2] = CStringGetTextDatum(message ? fit_message(table, message) : "");
	values[3] = CStringGetTextDatum(changed_by ? changed_by :
									GetUserNameFromId(GetSessionUserId(), false));
	values[4] = write_time();

	ont_spi_connect();
	if (strcmp(type, ONT_PATIENT_COUNT) == 0)
		abort_running(table, type, values[4]);
	ont_spi_execute(psprintf("INSERT INTO %s AS t (process_type_cd, process_step_cd, process_status_cd,"
				 " start_date, entry_date, status_cd, changedby_char, message)"
				 " VALUES ($1, $2, 'PROCESSING', $5, $5, 'C', $4, $3)" RETURNING,
				 table->qualified),
					5, types, values, NULL, false);
	if (SPI_processed != 1 ||
		(id = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull),
		 isnull))
		ereport(ERROR,
				(errcode(ERRCODE_NOT_NULL_VIOLATION),
				 errmsg("the new process has no process_id"),
				 errdetail("The INSERT into %s returned %s.", table->qualified,
						   SPI_processed == 0 ? "no row" : "no process_id"),
				 errhint("process_id must have a default (serial or a sequence), and no trigger may drop the row.")));
	ont_notify_returned(table);
	ont_spi_finish();
	return DatumGetInt64(id);
}

/*
 * start_process(process_type_cd, process_step_cd, message, changed_by)
 * returns bigint.  Version 1.0's signature lacks changed_by.
 */
Datum
ontstatus_start_process(PG_FUNCTION_ARGS)
{
	char	   *type = text_arg(fcinfo, 0);
	const char *step = text_arg(fcinfo, 1);
	char	   *message = text_arg(fcinfo, 2);
	char	   *changed_by = PG_NARGS() > 3 ? text_arg(fcinfo, 3) : NULL;
	const char *start_step;
	OntCall		call;
	int64		id;

	ont_begin_call(&call, "ontstatus.start_process()",
				   ONT_CALL_WRITES | ONT_CALL_ZONE | ONT_CALL_TABLE);
	not_null(fcinfo, 0, "process_type_cd");
	start_step = ont_first_step(type);
	if (step)
		ont_check_step(step);
	else
		step = start_step;
	/* a dead job's process is ended before a new one starts */
	ont_reap(&call.table, NULL);
	id = ont_start(&call.table, type, step, message, changed_by);
	ont_end_call(&call);
	PG_RETURN_INT64(id);
}

/*
 * The status of process process_id in table, locked for update when lock
 * is set; NULL when there is no such row.  Allocated in the caller's
 * context.
 */
char *
ont_read_status(const OntTable *table, int64 process_id, bool lock)
{
	Oid			types[1] = {INT8OID};
	Datum		values[1] = {Int64GetDatum(process_id)};
	char	   *status = NULL;

	ont_spi_connect();
	ont_spi_execute(psprintf("SELECT " ONT_SQL_STATUS_CD " FROM %s t"
							 " WHERE t.process_id OPERATOR(pg_catalog.=) $1%s",
							 table->qualified, lock ? " FOR UPDATE" : ""),
					1, types, values, NULL, false);
	if (SPI_processed > 0)
	{
		char	   *value = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);

		status = SPI_palloc(value ? strlen(value) + 1 : 1);
		strcpy(status, value ? value : "");
	}
	ont_spi_finish();
	return status;
}

/* the row's status, locked for update; an error when there is no row */
static char *
lock_row(const OntTable *table, int64 process_id)
{
	char	   *status = ont_read_status(table, process_id, true);

	if (status == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("process " INT64_FORMAT " does not exist", process_id),
				 errdetail("No row of %s has that process_id.", table->qualified)));
	return status;
}

/*
 * Write one process as the cell's updateStatus does: the given status,
 * step and message (NULL: unchanged), end_date and change_date now,
 * status_cd 'U'; announce it.  The row is locked (lock_row), so an UPDATE
 * that changes nothing was stopped by the table's own rules: an error, or
 * the caller would report a write that did not happen.
 */
static void
update_process(const OntTable *table, int64 process_id, const char *status,
			   const char *step, const char *message)
{
	Oid			types[5] = {INT8OID, TEXTOID, TEXTOID, TEXTOID, TIMESTAMPTZOID};
	Datum		values[5];
	char		nulls[5] = {' ', ' ', ' ', ' ', ' '};
	const char *texts[3] = {status, step, message};

	values[0] = Int64GetDatum(process_id);
	for (int i = 0; i < 3; i++)
	{
		values[i + 1] = texts[i] ? CStringGetTextDatum(texts[i]) : (Datum) 0;
		nulls[i + 1] = texts[i] ? ' ' : 'n';
	}
	values[4] = write_time();
	ont_spi_connect();
	ont_spi_execute(psprintf("UPDATE %s t SET"
				 " process_status_cd = COALESCE($2, " ONT_SQL_STATUS_CD "),"
				 " process_step_cd = COALESCE($3, " ONT_SQL_STEP_CD "),"
				 " message = COALESCE($4, " ONT_SQL_MESSAGE "),"
				 " end_date = $5, change_date = $5, status_cd = 'U'"
				 " WHERE t.process_id OPERATOR(pg_catalog.=) $1" RETURNING, table->qualified),
					5, types, values, nulls, false);
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_TRIGGERED_ACTION_EXCEPTION),
				 errmsg("process " INT64_FORMAT " was not updated", process_id),
				 errdetail("The UPDATE of %s changed no row, although the row exists and is locked: a BEFORE UPDATE trigger that returned NULL, or a rule, kept it from being written.",
						   table->qualified),
				 errhint("Let the table's triggers and rules pass ontstatus's updates (its statements set status_cd to 'U').")));
	ont_notify_returned(table);
	ont_spi_finish();
}

/*
 * Record step (and message, when not NULL) for a PROCESSING process and
 * return its status; any other row is left alone, and its status (ABORT,
 * in upper case: stop) returned.  The internal path of report_progress and
 * run_process.
 */
char *
ont_progress(const OntTable *table, int64 process_id, const char *step,
			 char *message)
{
	char	   *status;

	status = lock_row(table, process_id);
	if (ont_is_processing(status))
		update_process(table, process_id, NULL, step, fit_message(table, message));
	else if (ont_is_abort(status))
		status = pstrdup(ONT_STATUS_ABORT);
	return status;
}

static Datum
record_progress(FunctionCallInfo fcinfo, OntCall *call, const char *step, char *message)
{
	char	   *status;

	not_null(fcinfo, 0, "process_id");
	status = ont_progress(&call->table, PG_GETARG_INT64(0), step, message);
	ont_end_call(call);
	PG_RETURN_TEXT_P(cstring_to_text(status));
}

/* report_progress(process_id, process_step_cd, message) returns text */
Datum
ontstatus_report_progress(PG_FUNCTION_ARGS)
{
	char	   *step = text_arg(fcinfo, 1);
	OntCall		call;

	ont_begin_call(&call, "ontstatus.report_progress()",
				   ONT_CALL_WRITES | ONT_CALL_ZONE | ONT_CALL_TABLE);
	if (step)
		ont_check_step(step);
	return record_progress(fcinfo, &call, step, text_arg(fcinfo, 2));
}

/* report_progress(process_id, done, total) returns text */
Datum
ontstatus_report_progress_count(PG_FUNCTION_ARGS)
{
	int32		done;
	int32		total;
	OntCall		call;

	ont_begin_call(&call, "ontstatus.report_progress()",
				   ONT_CALL_WRITES | ONT_CALL_ZONE | ONT_CALL_TABLE);
	not_null(fcinfo, 1, "done");
	not_null(fcinfo, 2, "total");
	done = PG_GETARG_INT32(1);
	total = PG_GETARG_INT32(2);
	if (!ont_progress_valid(done, total))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid progress \"%d/%d\"", done, total),
				 errdetail("The step is written as PROCESSED <done>/<total>, which the i2b2 Workbench reads as two counts: 0 <= done <= total and total > 0.")));
	return record_progress(fcinfo, &call, ont_format_progress(done, total), NULL);
}

/*
 * stop_processes(process_type_cd) returns setof bigint: the cell's
 * operation_type="stop", which aborts the running processes of the type
 * without starting one.
 */
Datum
ontstatus_stop_processes(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *type;
	OntCall		call;

	ont_begin_call(&call, "ontstatus.stop_processes()",
				   ONT_CALL_WRITES | ONT_CALL_ZONE | ONT_CALL_TABLE);
	not_null(fcinfo, 0, "process_type_cd");
	type = text_arg(fcinfo, 0);
	(void) ont_first_step(type);
	ont_materialize(fcinfo, true);
	ont_spi_connect();
	abort_running(&call.table, type, write_time());
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		Datum		id = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc,
									   1, &isnull);

		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, &id, &isnull);
	}
	ont_spi_finish();
	ont_end_call(&call);
	return (Datum) 0;
}

/*
 * End a PROCESSING or ABORT process with final (COMPLETED, ERROR, KILLED;
 * only KILLED for an ABORT row), message and step (NULL: unchanged).  The
 * internal path of finish_process and run_process.
 */
void
ont_finish(const OntTable *table, int64 process_id, const char *final,
		   char *message, const char *step)
{
	char	   *status;

	status = lock_row(table, process_id);
	if (ont_is_abort(status) && strcmp(final, ONT_STATUS_KILLED) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("process " INT64_FORMAT " was aborted", process_id),
				 errdetail("An aborted process can only become KILLED: a start of its type, or stop_processes, asked it to stop.")));
	if (!ont_is_running(status))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("process " INT64_FORMAT " is already \"%s\"", process_id, status),
				 errdetail("Only a PROCESSING or ABORT process can be finished.")));

	update_process(table, process_id, final, step, fit_message(table, message));
	/* a finished process is nobody's any more */
	ont_unwatch(table, process_id);
}

/*
 * finish_process(process_id, process_status_cd, message, process_step_cd).
 * Version 1.0's signature lacks process_step_cd.
 */
Datum
ontstatus_finish_process(PG_FUNCTION_ARGS)
{
	char	   *final = text_arg(fcinfo, 1);
	char	   *message = text_arg(fcinfo, 2);
	char	   *step = PG_NARGS() > 3 ? text_arg(fcinfo, 3) : NULL;
	OntCall		call;

	ont_begin_call(&call, "ontstatus.finish_process()",
				   ONT_CALL_WRITES | ONT_CALL_ZONE | ONT_CALL_TABLE);
	not_null(fcinfo, 0, "process_id");
	not_null(fcinfo, 1, "process_status_cd");
	ont_check_final_status(final);
	if (step)
		ont_check_step(step);
	ont_finish(&call.table, PG_GETARG_INT64(0), final, message, step);
	ont_end_call(&call);
	PG_RETURN_VOID();
}

/* one dead process ended, through ont_try */
typedef struct ReapCall
{
	Oid			relid;
	int64		process_id;
	bool		ended;
} ReapCall;

/*
 * The process's row locked, then its registration: judged from what is
 * registered now, not from what the caller read before waiting for the
 * locks (a watch_process may have taken the process over meanwhile, or its
 * run ended it).
 */
static void
reap_one(void *arg)
{
	ReapCall   *call = (ReapCall *) arg;
	OntTable	table;
	char	   *status;
	OntRegistration reg;

	table.relid = call->relid;
	table.schema = NULL;
	table.qualified = psprintf("relation %u", call->relid);
	if (get_rel_name(call->relid) == NULL)
	{
		/* its table is gone, and the process with it */
		ont_unwatch(&table, call->process_id);
		return;
	}
	ont_table_refresh(&table);
	status = ont_read_status(&table, call->process_id, true);
	if (!ont_read_registration(call->relid, call->process_id, true, &reg) ||
		ont_session_alive(reg.pid, reg.started) != ONT_ALIVE_NO)
		return;
	if (ont_is_running(status))
	{
		ont_finish(&table, call->process_id,
				   ont_is_abort(status) ? ONT_STATUS_KILLED : ONT_STATUS_ERROR,
				   psprintf("the session running this process (pid %d, connected since %s) ended before it finished",
							reg.pid, timestamptz_to_str(reg.started)),
				   NULL);
		call->ended = true;
	}
	ont_unwatch(&table, call->process_id);
}

/*
 * End every registered process whose session is gone (only those of
 * table only, unless it is NULL): ERROR with its last step and a message
 * naming the session, KILLED for one that was aborted meanwhile; each is
 * written with the caller's rights, in the caller's transaction.  A
 * registration whose process is no longer running is just removed; one
 * whose process the caller may not end is left for one who may.  Puts the
 * ids it ended into fcinfo's result (materialize mode) when fcinfo is not
 * NULL.
 */
void
ont_reap(const OntTable *only, FunctionCallInfo fcinfo)
{
	ReturnSetInfo *rsinfo = fcinfo ? (ReturnSetInfo *) fcinfo->resultinfo : NULL;
	uint64		n;
	OntRegistration *regs;

	if (RecoveryInProgress())
		return;
	regs = ont_list_registrations(only ? only->relid : InvalidOid, &n);
	for (uint64 i = 0; i < n; i++)
	{
		ReapCall	call = {regs[i].relid, regs[i].process_id, false};
		ErrorData  *edata;

		/* the live ones are left alone without waiting for their rows */
		if (ont_session_alive(regs[i].pid, regs[i].started) != ONT_ALIVE_NO)
			continue;
		edata = ont_try(reap_one, &call, CurrentMemoryContext);
		if (edata)
			FreeErrorData(edata);
		else if (call.ended && rsinfo)
		{
			Datum		id = Int64GetDatum(call.process_id);
			bool		isnull = false;

			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, &id, &isnull);
		}
	}
}

/* watch_process(process_id bigint) */
Datum
ontstatus_watch_process(PG_FUNCTION_ARGS)
{
	int64		process_id = PG_GETARG_INT64(0);
	OntCall		call;
	OntTable   *table = &call.table;
	char	   *status;
	OntRegistration reg;

	ont_begin_call(&call, "ontstatus.watch_process()", ONT_CALL_WRITES | ONT_CALL_TABLE);

	/*
	 * Another live session's process is refused before its row is locked:
	 * that session's next step would wait for the lock (ont_watch checks
	 * again under it).
	 */
	if (ont_watching() && ont_read_registration(table->relid, process_id, false, &reg) &&
		!ont_is_this_session(&reg))
		ont_refuse_if_run_elsewhere(table, process_id, &reg);
	/* the caller must be able to update the row; it must be running */
	status = ont_read_status(table, process_id, true);
	if (status == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("process " INT64_FORMAT " does not exist", process_id),
				 errdetail("No row of %s has that process_id.", table->qualified)));
	if (!ont_is_processing(status))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("process " INT64_FORMAT " is \"%s\", not PROCESSING", process_id, status),
				 errdetail("Only a running process is watched.")));
	ont_watch(table, process_id);
	ont_end_call(&call);
	PG_RETURN_VOID();
}

/* reap_processes() returns setof bigint */
Datum
ontstatus_reap_processes(PG_FUNCTION_ARGS)
{
	OntCall		call;

	/* every registered table: each is resolved from its OID */
	ont_begin_call(&call, "ontstatus.reap_processes()", ONT_CALL_WRITES | ONT_CALL_ZONE);
	ont_materialize(fcinfo, true);
	ont_reap(NULL, fcinfo);
	ont_end_call(&call);
	return (Datum) 0;
}
