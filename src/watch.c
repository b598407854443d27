/*-------------------------------------------------------------------------
 *
 * watch.c
 *	  Who runs the processes ontstatus runs: a job whose session is gone
 *	  is seen as dead, not PROCESSING for ever.
 *
 * run_process registers the process it starts, and watch_process one a
 * procedure drives by hand: a row of ontstatus.process_watch (table OID,
 * process_id, backend pid and start) and a session-level lock of our own
 * on (database, table OID, process_id).  The row is committed with the
 * start, so it outlives the session, even a crash of the server; the lock
 * does not.  A process is alive while its lock is held: any session can
 * tell by trying to take it (and giving it back at once), with no
 * shared_preload_libraries and nothing on the read path of the requests.
 * On a standby the primary's locks are not visible: there nobody knows.
 *
 * The lock is an advisory lock whose fourth field is ONT_WATCH_LOCK, a
 * value the SQL advisory lock functions never use (they use 1 and 2), so
 * no pg_advisory_lock call can take or fake it; pg_locks shows it as an
 * advisory lock with objsubid ONT_WATCH_LOCK.  Its key holds the low 32
 * bits of process_id: two processes of one table whose ids differ by a
 * multiple of 2^32 would share a lock.
 *
 * The registrations are written as the table's owner (the extension's
 * owner), never with the caller's rights, so that no role can register,
 * or remove, somebody else's process: the caller must be able to update
 * the process's row, which the lifecycle checks first.
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
#include "storage/lock.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

PG_FUNCTION_INFO_V1(ontstatus_watch_process);
PG_FUNCTION_INFO_V1(ontstatus_reap_processes);

#define ONT_WATCH_LOCK 0x4F53	/* "OS": not 1 or 2, the SQL functions' */

#define WATCH_TABLE "process_watch"

static void
watch_tag(LOCKTAG *tag, Oid relid, int64 process_id)
{
	SET_LOCKTAG_ADVISORY(*tag, MyDatabaseId, (uint32) relid,
						 (uint32) (process_id & 0xFFFFFFFF), ONT_WATCH_LOCK);
}

/*
 * ontstatus.process_watch, quoted, and its owner in *owner; NULL when it
 * is not there (version 1.1's objects on this library: then nothing is
 * watched, and the lifecycle works as in 1.1).
 */
static char *
watch_table(Oid *owner)
{
	Oid			nspid = get_namespace_oid("ontstatus", true);
	Oid			relid = OidIsValid(nspid) ? get_relname_relid(WATCH_TABLE, nspid) : InvalidOid;
	HeapTuple	tuple;

	if (!OidIsValid(relid))
		return NULL;
	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for relation %u", relid);
	*owner = ((Form_pg_class) GETSTRUCT(tuple))->relowner;
	ReleaseSysCache(tuple);
	return quote_qualified_identifier("ontstatus", WATCH_TABLE);
}

/* Does the watch table exist (version 1.2's objects)? */
bool
ont_watching(void)
{
	Oid			owner;

	return watch_table(&owner) != NULL;
}

/*
 * Run sql (%s: the watch table) as the watch table's owner; nothing when
 * the table is not there.
 */
static void
as_owner(const char *sql, int nargs, Oid *types, Datum *values, bool read_only)
{
	Oid			owner;
	char	   *table = watch_table(&owner);
	Oid			save_userid;
	int			save_sec_context;

	if (table == NULL)
		return;
	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	SetUserIdAndSecContext(owner, save_sec_context | SECURITY_LOCAL_USERID_CHANGE);
	PG_TRY();
	{
		ont_spi_connect();
		ont_spi_execute(psprintf(sql, table), nargs, types, values, NULL, read_only);
		ont_spi_finish();
	}
	PG_FINALLY();
	{
		SetUserIdAndSecContext(save_userid, save_sec_context);
	}
	PG_END_TRY();
}

/*
 * Register process_id of table as run by this session: the lock first (a
 * lock this session already holds is no error), then the row.
 */
void
ont_watch(const OntTable *table, int64 process_id)
{
	LOCKTAG		tag;
	Oid			types[4] = {OIDOID, INT8OID, INT4OID, TIMESTAMPTZOID};
	Datum		values[4];

	if (!ont_watching())
		return;
	watch_tag(&tag, table->relid, process_id);
	(void) LockAcquire(&tag, ExclusiveLock, true, false);
	values[0] = ObjectIdGetDatum(table->relid);
	values[1] = Int64GetDatum(process_id);
	values[2] = Int32GetDatum(MyProcPid);
	values[3] = TimestampTzGetDatum(MyStartTimestamp);
	as_owner("INSERT INTO %s (table_oid, process_id, backend_pid, backend_start)"
			 " VALUES ($1, $2, $3, $4) ON CONFLICT (table_oid, process_id) DO UPDATE"
			 " SET backend_pid = EXCLUDED.backend_pid, backend_start = EXCLUDED.backend_start",
			 4, types, values, false);
}

/* The watch of process_id of table ends: the row, and this session's lock. */
void
ont_unwatch(const OntTable *table, int64 process_id)
{
	LOCKTAG		tag;
	Oid			types[2] = {OIDOID, INT8OID};
	Datum		values[2];

	values[0] = ObjectIdGetDatum(table->relid);
	values[1] = Int64GetDatum(process_id);
	as_owner("DELETE FROM %s WHERE table_oid OPERATOR(pg_catalog.=) $1"
			 " AND process_id OPERATOR(pg_catalog.=) $2", 2, types, values, false);
	watch_tag(&tag, table->relid, process_id);
#if PG_VERSION_NUM >= 170000
	if (LockHeldByMe(&tag, ExclusiveLock, false))
#else
	if (LockHeldByMe(&tag, ExclusiveLock))
#endif
		(void) LockRelease(&tag, ExclusiveLock, true);
}

/*
 * Is the session that registered process_id of relid still connected?
 * ONT_ALIVE_UNKNOWN on a standby, where the primary's locks are not seen.
 */
OntAlive
ont_alive(Oid relid, int64 process_id)
{
	LOCKTAG		tag;
	LockAcquireResult result;

	if (RecoveryInProgress())
		return ONT_ALIVE_UNKNOWN;
	watch_tag(&tag, relid, process_id);
	result = LockAcquire(&tag, ExclusiveLock, true, true);
	if (result == LOCKACQUIRE_NOT_AVAIL)
		return ONT_ALIVE_YES;
	(void) LockRelease(&tag, ExclusiveLock, true);
	/* this session's own run is alive; a lock we only just got is nobody's */
	return result == LOCKACQUIRE_ALREADY_HELD ? ONT_ALIVE_YES : ONT_ALIVE_NO;
}

/* one dead process ended, through ont_try */
typedef struct ReapCall
{
	Oid			relid;
	int64		process_id;
	const char *session;
	bool		ended;
} ReapCall;

static void
reap_one(void *arg)
{
	ReapCall   *call = (ReapCall *) arg;
	OntTable	table;
	char	   *status;

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
	if (status && (strcmp(status, "PROCESSING") == 0 || pg_strcasecmp(status, "ABORT") == 0))
	{
		ont_finish(&table, call->process_id,
				   strcmp(status, "PROCESSING") == 0 ? "ERROR" : "KILLED",
				   psprintf("the session running this process (%s) ended before it finished",
							call->session),
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
	Oid			types[1] = {OIDOID};
	Datum		values[1];
	char		nulls[1] = {' '};
	Oid			owner;
	char	   *table_name = watch_table(&owner);
	MemoryContext callcxt = CurrentMemoryContext;
	MemoryContext oldcxt;
	uint64		n;
	ReapCall   *calls;

	if (table_name == NULL || RecoveryInProgress())
		return;
	values[0] = only ? ObjectIdGetDatum(only->relid) : (Datum) 0;
	nulls[0] = only ? ' ' : 'n';
	ont_spi_connect();
	oldcxt = MemoryContextSwitchTo(callcxt);
	ont_spi_execute(psprintf("SELECT table_oid, process_id, backend_pid, backend_start FROM %s"
							 " WHERE $1 IS NULL OR table_oid OPERATOR(pg_catalog.=) $1"
							 " ORDER BY table_oid, process_id", table_name),
					1, types, values, nulls, true);
	n = SPI_processed;
	calls = palloc0(sizeof(ReapCall) * (n + 1));
	for (uint64 i = 0; i < n; i++)
	{
		bool		isnull;
		HeapTuple	tuple = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;

		calls[i].relid = DatumGetObjectId(SPI_getbinval(tuple, desc, 1, &isnull));
		calls[i].process_id = DatumGetInt64(SPI_getbinval(tuple, desc, 2, &isnull));
		calls[i].session = psprintf("pid %s, connected since %s",
									SPI_getvalue(tuple, desc, 3), SPI_getvalue(tuple, desc, 4));
	}
	MemoryContextSwitchTo(oldcxt);
	ont_spi_finish();

	for (uint64 i = 0; i < n; i++)
	{
		ErrorData  *edata;

		if (ont_alive(calls[i].relid, calls[i].process_id) != ONT_ALIVE_NO)
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

	ont_enter("ontstatus.watch_process()");
	ont_prevent_writes("ontstatus.watch_process()");
	ont_resolve_table(NULL, &table);
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
