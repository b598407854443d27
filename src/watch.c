/*-------------------------------------------------------------------------
 *
 * watch.c
 *	  Who runs the processes ontstatus runs: a job whose session is gone
 *	  is seen as dead, not PROCESSING for ever.
 *
 * run_process registers the process it starts, and watch_process one a
 * procedure drives by hand: a row of ontstatus.process_watch naming the
 * process (its table, as a regclass, and process_id) and the session that
 * runs it (backend pid and start time).  The row is the whole registration:
 * it is written in the caller's transaction, so it commits with the start
 * and vanishes with a rollback, and it outlives the session, even a crash
 * of the server.  A process is alive while a backend of this database with
 * that pid and that start time exists; a pid the kernel gave to a later
 * backend has another start time.  Nothing a session does can fake or drop
 * that (version 1.2 held an advisory lock, which pg_advisory_unlock_all()
 * released), nothing is on the read path of the requests, and no
 * shared_preload_libraries is needed.  On a standby the primary's sessions
 * are not visible: there nobody knows.
 *
 * One process, one registration: watching a process this session already
 * watches changes nothing, and one another live session runs is refused at
 * once (55P03, naming its pid) - before the process's row is locked, so
 * that the refusal never waits on the running job.  A dead session's
 * registration is taken over.
 *
 * Lock order, the same everywhere: the process's row (FOR UPDATE, which the
 * lifecycle takes anyway), then its registration row.  The reaper judges a
 * process from the registration read after both are locked, so a
 * watch_process that took a dead session's process over meanwhile wins.
 *
 * The table is a regclass so that pg_dump writes its name and a restore
 * reads back the restored table's OID: a restored database's registrations
 * name its own tables and sessions that never ran there, so they are seen
 * dead and reaped, as they should be.
 *
 * The registrations are written as the table's owner (the extension's
 * owner), never with the caller's rights, so that no role can register,
 * or remove, somebody else's process: the caller must be able to update
 * the process's row, which the lifecycle checks first.  Reading another
 * backend's start time needs the same rights (pg_stat_get_activity hides
 * it from other roles).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "ontstatus.h"

#include "access/xlog.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type_d.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/proc.h"
#include "storage/procarray.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

PG_FUNCTION_INFO_V1(ontstatus_watch_process);
PG_FUNCTION_INFO_V1(ontstatus_reap_processes);

#define WATCH_TABLE "process_watch"

/* a registration as read: the session that runs a process */
typedef struct Registration
{
	int32		pid;
	TimestampTz started;
} Registration;

/*
 * ontstatus.process_watch, quoted, and its owner in *owner; NULL when it
 * is not there, or is version 1.2's (keyed by OID, judged by a lock): on
 * older objects nothing is watched until ALTER EXTENSION UPDATE, and the
 * lifecycle works as in 1.1.
 */
static char *
watch_table(Oid *owner)
{
	Oid			nspid = get_namespace_oid("ontstatus", true);
	Oid			relid = OidIsValid(nspid) ? get_relname_relid(WATCH_TABLE, nspid) : InvalidOid;
	HeapTuple	tuple;

	if (!OidIsValid(relid) || get_attnum(relid, "process_table") == InvalidAttrNumber)
		return NULL;
	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for relation %u", relid);
	*owner = ((Form_pg_class) GETSTRUCT(tuple))->relowner;
	ReleaseSysCache(tuple);
	return quote_qualified_identifier("ontstatus", WATCH_TABLE);
}

/* Does the watch table exist (version 1.2's objects and later)? */
bool
ont_watching(void)
{
	Oid			owner;

	return watch_table(&owner) != NULL;
}

/*
 * Run sql (%s, if any: the watch table) as the watch table's owner, in a security-
 * restricted operation (nothing it runs can change the role back); nothing
 * when the table is not there.  Returns the number of rows; the first row's
 * two columns, when asked for (reg not NULL) and there is a row, into *reg
 * (a pid and a start time).
 */
static uint64
as_owner(const char *sql, int nargs, Oid *types, Datum *values, bool read_only,
		 Registration *reg)
{
	Oid			owner;
	char	   *table = watch_table(&owner);
	Oid			save_userid;
	int			save_sec_context;
	uint64		rows = 0;

	if (table == NULL)
		return 0;
	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	SetUserIdAndSecContext(owner, save_sec_context | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	PG_TRY();
	{
		ont_spi_connect();
		ont_spi_execute(psprintf(sql, table), nargs, types, values, NULL, read_only);
		rows = SPI_processed;
		if (reg && rows > 0)
		{
			bool		isnull;

			reg->pid = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0],
												   SPI_tuptable->tupdesc, 1, &isnull));
			reg->started = DatumGetTimestampTz(SPI_getbinval(SPI_tuptable->vals[0],
															 SPI_tuptable->tupdesc, 2, &isnull));
		}
		ont_spi_finish();
	}
	PG_FINALLY();
	{
		SetUserIdAndSecContext(save_userid, save_sec_context);
	}
	PG_END_TRY();
	return rows;
}

/*
 * The registration of process_id of relid into *reg, locked FOR UPDATE
 * when lock; false when there is none.
 */
static bool
read_registration(Oid relid, int64 process_id, bool lock, Registration *reg)
{
	Oid			types[2] = {REGCLASSOID, INT8OID};
	Datum		values[2] = {ObjectIdGetDatum(relid), Int64GetDatum(process_id)};

	return as_owner(lock ?
					"SELECT backend_pid, backend_start FROM %s"
					" WHERE process_table OPERATOR(pg_catalog.=) $1"
					" AND process_id OPERATOR(pg_catalog.=) $2 FOR UPDATE" :
					"SELECT backend_pid, backend_start FROM %s"
					" WHERE process_table OPERATOR(pg_catalog.=) $1"
					" AND process_id OPERATOR(pg_catalog.=) $2",
					2, types, values, !lock, reg) > 0;
}

/*
 * Is the session that registered a process (pid, started) still
 * connected to this database?  ONT_ALIVE_UNKNOWN on a standby, where the
 * primary's sessions are not seen.
 *
 * The pid is looked up in the process array, which is current; only when
 * a backend of this database has it is its start time read, from this
 * transaction's snapshot of the backends' status (as pg_stat_activity
 * shows it).  A backend missing from that snapshot started after it was
 * taken, so it may be the one that registered: alive, never a guess that
 * ends a running job.
 */
OntAlive
ont_session_alive(int32 pid, TimestampTz started)
{
	PGPROC	   *proc;
	Oid			types[2] = {INT4OID, OIDOID};
	Datum		values[2];
	Registration found;

	if (RecoveryInProgress())
		return ONT_ALIVE_UNKNOWN;
	if (pid == MyProcPid)
		return started == MyStartTimestamp ? ONT_ALIVE_YES : ONT_ALIVE_NO;
	proc = BackendPidGetProc(pid);
	if (proc == NULL || proc->databaseId != MyDatabaseId)
		return ONT_ALIVE_NO;
	values[0] = Int32GetDatum(pid);
	values[1] = ObjectIdGetDatum(MyDatabaseId);
	if (as_owner("SELECT a.pid, a.backend_start FROM pg_catalog.pg_stat_get_activity($1) a"
				 " WHERE a.datid OPERATOR(pg_catalog.=) $2",
				 2, types, values, true, &found) == 0)
		return ONT_ALIVE_YES;
	return found.started == started ? ONT_ALIVE_YES : ONT_ALIVE_NO;
}

/*
 * Register process_id of table as run by this session (its row is locked
 * by the caller, who may update it).  A no-op when this session already
 * runs it; 55P03 when another live session does.
 */
static void
refuse_if_run_elsewhere(const OntTable *table, int64 process_id,
						const Registration *reg)
{
	if (ont_session_alive(reg->pid, reg->started) == ONT_ALIVE_NO)
		return;
	ereport(ERROR,
			(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
			 errmsg("process " INT64_FORMAT " is run by another session", process_id),
			 errdetail("The session with pid %d, connected since %s, registered process "
					   INT64_FORMAT " of %s and is still connected.",
					   reg->pid, timestamptz_to_str(reg->started), process_id,
					   table->qualified),
			 errhint("Stop it with ontstatus.stop_processes(), or wait until it ends.")));
}

static bool
is_this_session(const Registration *reg)
{
	return reg->pid == MyProcPid && reg->started == MyStartTimestamp;
}

void
ont_watch(const OntTable *table, int64 process_id)
{
	Oid			types[4] = {REGCLASSOID, INT8OID, INT4OID, TIMESTAMPTZOID};
	Datum		values[4];
	Registration reg;

	if (!ont_watching())
		return;
	if (read_registration(table->relid, process_id, true, &reg))
	{
		if (is_this_session(&reg))
			return;
		refuse_if_run_elsewhere(table, process_id, &reg);
	}
	values[0] = ObjectIdGetDatum(table->relid);
	values[1] = Int64GetDatum(process_id);
	values[2] = Int32GetDatum(MyProcPid);
	values[3] = TimestampTzGetDatum(MyStartTimestamp);
	(void) as_owner("INSERT INTO %s (process_table, process_id, backend_pid, backend_start)"
					" VALUES ($1, $2, $3, $4) ON CONFLICT (process_table, process_id) DO UPDATE"
					" SET backend_pid = EXCLUDED.backend_pid, backend_start = EXCLUDED.backend_start",
					4, types, values, false, NULL);
}

/* The watch of process_id of table ends, whoever ran it: it has finished. */
void
ont_unwatch(const OntTable *table, int64 process_id)
{
	Oid			types[2] = {REGCLASSOID, INT8OID};
	Datum		values[2];

	values[0] = ObjectIdGetDatum(table->relid);
	values[1] = Int64GetDatum(process_id);
	(void) as_owner("DELETE FROM %s WHERE process_table OPERATOR(pg_catalog.=) $1"
					" AND process_id OPERATOR(pg_catalog.=) $2", 2, types, values, false, NULL);
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
	Registration reg;

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
	if (!read_registration(call->relid, call->process_id, true, &reg) ||
		ont_session_alive(reg.pid, reg.started) != ONT_ALIVE_NO)
		return;
	if (status && (strcmp(status, "PROCESSING") == 0 || ont_is_abort(status)))
	{
		ont_finish(&table, call->process_id,
				   ont_is_abort(status) ? "KILLED" : "ERROR",
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
	Oid			types[1] = {REGCLASSOID};
	Datum		values[1];
	char		nulls[1] = {' '};
	Oid			owner;
	char	   *table_name = watch_table(&owner);
	MemoryContext callcxt = CurrentMemoryContext;
	MemoryContext oldcxt;
	uint64		n;
	ReapCall   *calls;
	Registration *regs;

	if (table_name == NULL || RecoveryInProgress())
		return;
	values[0] = only ? ObjectIdGetDatum(only->relid) : (Datum) 0;
	nulls[0] = only ? ' ' : 'n';
	ont_spi_connect();
	oldcxt = MemoryContextSwitchTo(callcxt);
	ont_spi_execute(psprintf("SELECT CAST(process_table AS pg_catalog.oid), process_id,"
							 " backend_pid, backend_start FROM %s"
							 " WHERE $1 IS NULL OR process_table OPERATOR(pg_catalog.=) $1"
							 " ORDER BY 1, 2", table_name),
					1, types, values, nulls, true);
	n = SPI_processed;
	calls = palloc0(sizeof(ReapCall) * (n + 1));
	regs = palloc0(sizeof(Registration) * (n + 1));
	for (uint64 i = 0; i < n; i++)
	{
		bool		isnull;
		HeapTuple	tuple = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;

		calls[i].relid = DatumGetObjectId(SPI_getbinval(tuple, desc, 1, &isnull));
		calls[i].process_id = DatumGetInt64(SPI_getbinval(tuple, desc, 2, &isnull));
		regs[i].pid = DatumGetInt32(SPI_getbinval(tuple, desc, 3, &isnull));
		regs[i].started = DatumGetTimestampTz(SPI_getbinval(tuple, desc, 4, &isnull));
	}
	MemoryContextSwitchTo(oldcxt);
	ont_spi_finish();

	for (uint64 i = 0; i < n; i++)
	{
		ErrorData  *edata;

		/* the live ones are left alone without waiting for their rows */
		if (ont_session_alive(regs[i].pid, regs[i].started) != ONT_ALIVE_NO)
			continue;
		edata = ont_try(reap_one, &calls[i], CurrentMemoryContext);
		if (edata)
			FreeErrorData(edata);
		else if (calls[i].ended && rsinfo)
		{
			Datum		id = Int64GetDatum(calls[i].process_id);
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
	OntTable	table;
	char	   *status;
	Registration reg;

	ont_enter("ontstatus.watch_process()");
	ont_prevent_writes("ontstatus.watch_process()");
	ont_resolve_table(NULL, &table);

	/*
	 * Another live session's process is refused before its row is locked:
	 * that session's next step would wait for the lock (ont_watch checks
	 * again under it).
	 */
	if (ont_watching() && read_registration(table.relid, process_id, false, &reg) &&
		!is_this_session(&reg))
		refuse_if_run_elsewhere(&table, process_id, &reg);
	/* the caller must be able to update the row; it must be running */
	status = ont_read_status(&table, process_id, true);
	if (status == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("process " INT64_FORMAT " does not exist", process_id),
				 errdetail("No row of %s has that process_id.", table.qualified)));
	if (strcmp(status, "PROCESSING") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("process " INT64_FORMAT " is %s, not PROCESSING", process_id, status),
				 errdetail("Only a running process is watched.")));
	ont_watch(&table, process_id);
	PG_RETURN_VOID();
}

/* reap_processes() returns setof bigint */
Datum
ontstatus_reap_processes(PG_FUNCTION_ARGS)
{
	ont_enter("ontstatus.reap_processes()");
	ont_prevent_writes("ontstatus.reap_processes()");
	ont_materialize(fcinfo, true);
	ont_reap(NULL, fcinfo);
	return (Datum) 0;
}
