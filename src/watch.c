/*-------------------------------------------------------------------------
 *
 * watch.c
 *	  The session registry: who runs the processes ontstatus runs, so that
 *	  a job whose session is gone is seen as dead, not PROCESSING for ever.
 *	  (watch_process and the reap, which end such jobs, are the
 *	  lifecycle's: lifecycle.c.)
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
#include "miscadmin.h"
#include "storage/proc.h"
#include "storage/procarray.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#define WATCH_TABLE "process_watch"

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
		 OntRegistration *reg)
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
bool
ont_read_registration(Oid relid, int64 process_id, bool lock, OntRegistration *reg)
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
	OntRegistration found;

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

/* 55P03 unless the session registered (reg) for the process is gone */
void
ont_refuse_if_run_elsewhere(const OntTable *table, int64 process_id,
						const OntRegistration *reg)
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

/* Did this session make the registration? */
bool
ont_is_this_session(const OntRegistration *reg)
{
	return reg->pid == MyProcPid && reg->started == MyStartTimestamp;
}

/*
 * Register process_id of table as run by this session (its row is locked
 * by the caller, who may update it).  A no-op when this session already
 * runs it; 55P03 when another live session does.
 */
void
ont_watch(const OntTable *table, int64 process_id)
{
	ont_watch_for(table, process_id, MyProcPid, MyStartTimestamp);
}

/*
 * Register process_id of table as run by the backend (pid, started): this
 * session, or the background worker submit_process started for it.
 */
void
ont_watch_for(const OntTable *table, int64 process_id, int32 pid,
			  TimestampTz started)
{
	Oid			types[4] = {REGCLASSOID, INT8OID, INT4OID, TIMESTAMPTZOID};
	Datum		values[4];
	OntRegistration reg;

	if (!ont_watching())
		return;
	if (ont_read_registration(table->relid, process_id, true, &reg))
	{
		if (reg.pid == pid && reg.started == started)
			return;
		ont_refuse_if_run_elsewhere(table, process_id, &reg);
	}
	values[0] = ObjectIdGetDatum(table->relid);
	values[1] = Int64GetDatum(process_id);
	values[2] = Int32GetDatum(pid);
	values[3] = TimestampTzGetDatum(started);
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

/*
 * The registrations (of relid only, unless InvalidOid), in *n, in the
 * caller's memory context; as of the caller's snapshot, unlocked.
 */
OntRegistration *
ont_list_registrations(Oid only, uint64 *n)
{
	Oid			types[1] = {REGCLASSOID};
	Datum		values[1] = {ObjectIdGetDatum(only)};
	char		nulls[1] = {OidIsValid(only) ? ' ' : 'n'};
	Oid			owner;
	char	   *table_name = watch_table(&owner);
	MemoryContext callcxt = CurrentMemoryContext;
	OntRegistration *regs;

	*n = 0;
	if (table_name == NULL)
		return NULL;
	ont_spi_connect();
	ont_spi_execute(psprintf("SELECT CAST(process_table AS pg_catalog.oid), process_id,"
							 " backend_pid, backend_start FROM %s"
							 " WHERE $1 IS NULL OR process_table OPERATOR(pg_catalog.=) $1"
							 " ORDER BY 1, 2", table_name),
					1, types, values, nulls, true);
	*n = SPI_processed;
	regs = MemoryContextAllocZero(callcxt, sizeof(OntRegistration) * (*n + 1));
	for (uint64 i = 0; i < *n; i++)
	{
		bool		isnull;
		HeapTuple	tuple = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;

		regs[i].relid = DatumGetObjectId(SPI_getbinval(tuple, desc, 1, &isnull));
		regs[i].process_id = DatumGetInt64(SPI_getbinval(tuple, desc, 2, &isnull));
		regs[i].pid = DatumGetInt32(SPI_getbinval(tuple, desc, 3, &isnull));
		regs[i].started = DatumGetTimestampTz(SPI_getbinval(tuple, desc, 4, &isnull));
	}
	ont_spi_finish();
	return regs;
}
