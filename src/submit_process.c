/*-------------------------------------------------------------------------
 *
 * submit_process.c
 *	  ontstatus.submit_process(process_type_cd, steps, changed_by): a run of
 *	  run_process's kind in a background worker, so that the job outlives
 *	  the session that submitted it.  The i2b2 cell's own model: start,
 *	  return the id, poll.
 *
 * The submitting transaction starts the process exactly as run_process
 * does (ont_run_start: the dead runs reaped, the PROCESSING row with
 * "PROCESSED 0/n") and registers a dynamic background worker; no
 * shared_preload_libraries is needed.  It hands the worker, through a
 * dynamic shared memory segment, what the run needs: the database, the
 * submitting role (the current user: its privileges, never the worker
 * owner's), the table's OID, the process, the steps, and the settings the
 * steps and the bookkeeping depend on (search_path, TimeZone, DateStyle,
 * IntervalStyle and ontstatus's own), as they are at submit.
 *
 * The worker connects as that role, copies what it was handed and says so
 * (its pid and start time in the segment); only then does submit_process
 * register the process as run by the worker (watch.c: alive while that
 * backend lives) and return.  So there is no moment at which the process
 * is registered to nobody, or to the submitting session: the submitter may
 * disconnect at once.  A worker that could not start or connect (no free
 * slot, a role that may not log in) is an error of submit_process, which
 * rolls the start back with the transaction: no PROCESSING row is left.
 *
 * The worker then waits for the submitting (sub)transaction to end: if it
 * rolled back, the row and the registration are gone and the worker exits;
 * if it committed, the worker runs the steps through run_process's own
 * code (ont_run_steps), committing each step itself.  A stop (ABORT) ends
 * the run KILLED between steps; a failing step is recorded as ERROR and
 * ends the worker with that error in the server log; a terminated worker
 * leaves its registration to a dead backend, so the row is reaped as any
 * dead run.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "ontstatus.h"

#include "access/xact.h"
#include "catalog/pg_authid.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/dsm.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lmgr.h"
#include "storage/proc.h"
#include "storage/procarray.h"
#include "storage/spin.h"
#include "tcop/tcopprot.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

PG_FUNCTION_INFO_V1(ontstatus_submit_process);

PGDLLEXPORT void ontstatus_submit_worker_main(Datum main_arg);

/* the settings a submitted run keeps from its submitter */
static const char *const kept_settings[] = {
	"search_path", "TimeZone", "DateStyle", "IntervalStyle",
	"default_transaction_isolation",
	"ontstatus.schema", "ontstatus.lookup_table", "ontstatus.table_time_zone"
};

/*
 * The segment: the submitter writes everything but the worker's part;
 * data holds type, changed_by, the steps and (name, value) of each kept
 * setting, each NUL-terminated.
 */
typedef struct SubmittedRun
{
	Oid			database;
	Oid			role;
	Oid			relid;
	int64		process_id;
	TransactionId xid;			/* the submitting (sub)transaction */
	int			submitter_pid;
	bool		has_changed_by;
	int			nsteps;

	/* the worker's part, under mutex */
	slock_t		mutex;
	bool		ready;			/* connected, and everything copied */
	int			worker_pid;
	TimestampTz worker_start;

	char		data[FLEXIBLE_ARRAY_MEMBER];
} SubmittedRun;

/* --------------------------------------------------------------------
 * The submitting session
 * --------------------------------------------------------------------
 */

static Size
append(char *data, Size off, const char *s)
{
	Size		len = strlen(s) + 1;

	if (data)
		memcpy(data + off, s, len);
	return off + len;
}

/* everything but type, changed_by and the steps' text, written to data */
static Size
write_data(const OntRun *rs, const char **values, char *data)
{
	Size		off = 0;

	off = append(data, off, rs->type);
	off = append(data, off, rs->changed_by ? rs->changed_by : "");
	for (int i = 0; i < rs->n; i++)
		off = append(data, off, rs->steps[i]);
	for (size_t i = 0; i < lengthof(kept_settings); i++)
	{
		off = append(data, off, kept_settings[i]);
		off = append(data, off, values[i]);
	}
	return off;
}

/*
 * Before PostgreSQL 17 a background worker can connect only as a role
 * that may log in; say so before anything is started.
 */
static void
check_role_can_connect(const char *name pg_attribute_unused())
{
#if PG_VERSION_NUM < 170000
	HeapTuple	tuple = SearchSysCache1(AUTHOID, ObjectIdGetDatum(GetUserId()));
	bool		can_login;

	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for role %u", GetUserId());
	can_login = ((Form_pg_authid) GETSTRUCT(tuple))->rolcanlogin;
	ReleaseSysCache(tuple);
	if (!can_login)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("%s cannot run a job as role \"%s\"", name,
						GetUserNameFromId(GetUserId(), false)),
				 errdetail("The job runs in a background worker connected as the current role, and before PostgreSQL 17 a background worker can connect only as a role with LOGIN."),
				 errhint("Submit it as a role with LOGIN, or CALL ontstatus.run_process() instead.")));
#endif
}

/*
 * Wait until the worker is connected and has copied the run; an error if
 * it stopped before (it could not connect: the server log says why).
 */
static void
wait_for_worker(SubmittedRun *run, BackgroundWorkerHandle *handle,
				const char *name)
{
	for (;;)
	{
		bool		ready;
		pid_t		pid;

		SpinLockAcquire(&run->mutex);
		ready = run->ready;
		SpinLockRelease(&run->mutex);
		if (ready)
			return;
		if (GetBackgroundWorkerPid(handle, &pid) == BGWH_STOPPED)
		{
			/* it may have said ready just before it stopped */
			SpinLockAcquire(&run->mutex);
			ready = run->ready;
			SpinLockRelease(&run->mutex);
			if (ready)
				return;
			ereport(ERROR,
					(errcode(ERRCODE_CONNECTION_FAILURE),
					 errmsg("the background worker of %s stopped before it could run process " INT64_FORMAT,
							name, run->process_id),
					 errdetail("Process " INT64_FORMAT " was not started; the server log says why the worker stopped.",
							   run->process_id)));
		}
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 10L, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
}

/*
 * submit_process(process_type_cd text, steps text[], changed_by text)
 * returns bigint
 */
Datum
ontstatus_submit_process(PG_FUNCTION_ARGS)
{
	OntCall		call;
	OntRun		rs;
	const char *values[lengthof(kept_settings)];
	Size		size;
	dsm_segment *seg;
	SubmittedRun *run;
	BackgroundWorker worker;
	BackgroundWorkerHandle *handle;

	ont_begin_call(&call, "ontstatus.submit_process()", ONT_CALL_WRITES);

	/*
	 * A job started from inside a security-restricted operation (an index
	 * expression run by VACUUM, say) would run outside its restrictions.
	 */
	if (InSecurityRestrictedOperation())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("%s cannot run within a security-restricted operation",
						call.name)));
	ont_run_init(&rs, call.name, fcinfo);
	check_role_can_connect(call.name);
	for (size_t i = 0; i < lengthof(kept_settings); i++)
		values[i] = pstrdup(GetConfigOption(kept_settings[i], false, false));

	ont_run_start(&rs);

	size = offsetof(SubmittedRun, data) + write_data(&rs, values, NULL);
	seg = dsm_create(size, 0);
	run = dsm_segment_address(seg);
	memset(run, 0, offsetof(SubmittedRun, data));
	run->database = MyDatabaseId;
	run->role = GetUserId();
	run->relid = rs.table.relid;
	run->process_id = rs.id;
	run->xid = GetCurrentTransactionId();
	run->submitter_pid = MyProcPid;
	run->has_changed_by = rs.changed_by != NULL;
	run->nsteps = rs.n;
	SpinLockInit(&run->mutex);
	(void) write_data(&rs, values, run->data);

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "ontstatus");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "ontstatus_submit_worker_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "ontstatus process " INT64_FORMAT, rs.id);
	snprintf(worker.bgw_type, BGW_MAXLEN, "ontstatus submit_process");
	worker.bgw_main_arg = UInt32GetDatum(dsm_segment_handle(seg));
	worker.bgw_notify_pid = MyProcPid;
	if (!RegisterDynamicBackgroundWorker(&worker, &handle))
		ereport(ERROR,
				(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
				 errmsg("could not start a background worker for process " INT64_FORMAT, rs.id),
				 errdetail("Every background worker slot (max_worker_processes = %d) is in use; process " INT64_FORMAT " was not started.",
						   max_worker_processes, rs.id),
				 errhint("Submit it again later, raise max_worker_processes, or CALL ontstatus.run_process() instead.")));
	wait_for_worker(run, handle, call.name);

	/* from now on the process is the worker's: alive while it runs */
	ont_watch_for(&rs.table, rs.id, run->worker_pid, run->worker_start);
	dsm_detach(seg);
	ont_end_call(&call);
	PG_RETURN_INT64(rs.id);
}

/* --------------------------------------------------------------------
 * The worker
 * --------------------------------------------------------------------
 */

/*
 * Each step's transaction: a snapshot for the bookkeeping's reads and an
 * SPI connection for the step (ont_run_steps runs it in a subtransaction,
 * atomically, as run_process does).
 */
static void
begin_transaction(void)
{
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	ont_spi_connect();
}

static void
end_transaction(void)
{
	ont_spi_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
}

/* the worker's commit (OntRun.commit) */
static ErrorData *
worker_commit(OntRun *rs)
{
	MemoryContext cxt = CurrentMemoryContext;
	ErrorData  *volatile edata = NULL;

	ont_spi_finish();
	PopActiveSnapshot();
	PG_TRY();
	{
		CommitTransactionCommand();
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(rs->cxt);
		edata = CopyErrorData();
		FlushErrorState();
		AbortCurrentTransaction();
	}
	PG_END_TRY();
	begin_transaction();
	MemoryContextSwitchTo(cxt);
	return edata;
}

static const char *
next_string(const char **p)
{
	const char *s = *p;

	*p += strlen(s) + 1;
	return s;
}

/* the kept settings, as the submitter had them */
static void
apply_settings(const char **p)
{
	GucContext	context = superuser() ? PGC_SUSET : PGC_USERSET;

	for (size_t i = 0; i < lengthof(kept_settings); i++)
	{
		const char *name = next_string(p);
		const char *value = next_string(p);

		(void) set_config_option(name, value, context, PGC_S_SESSION,
								 GUC_ACTION_SET, true, ERROR, false);
	}

	/*
	 * The submitting transaction could write (or submit_process refused);
	 * so can the run's, whatever the role's default says.
	 */
	(void) set_config_option("default_transaction_read_only", "off", context,
							 PGC_S_SESSION, GUC_ACTION_SET, true, ERROR, false);
}

void
ontstatus_submit_worker_main(Datum main_arg)
{
	dsm_segment *seg;
	SubmittedRun *shared;
	SubmittedRun *run;
	Size		size;
	MemoryContext cxt;
	const char *p;
	OntRun		rs;
	bool		committed;
	PGPROC	   *submitter;

	/* a terminate stops the run where it is, as it stops a backend */
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	cxt = AllocSetContextCreate(TopMemoryContext, "ontstatus submitted run",
								ALLOCSET_DEFAULT_SIZES);
	MemoryContextSwitchTo(cxt);
	CurrentResourceOwner = ResourceOwnerCreate(NULL, "ontstatus submitted run");
	seg = dsm_attach(DatumGetUInt32(main_arg));
	if (seg == NULL)
	{
		/* the submitter gave up, and rolled the start back */
		ereport(LOG,
				(errmsg("ontstatus submit_process worker found no run to do"),
				 errdetail("The session that submitted it stopped waiting for it.")));
		proc_exit(0);
	}
	shared = dsm_segment_address(seg);
	size = dsm_segment_map_length(seg);
	run = palloc(size);
	memcpy(run, shared, size);

	BackgroundWorkerInitializeConnectionByOid(run->database, run->role,
#if PG_VERSION_NUM >= 170000
											  BGWORKER_BYPASS_ROLELOGINCHECK
#else
											  0
#endif
		);

	SpinLockAcquire(&shared->mutex);
	shared->worker_pid = MyProcPid;
	shared->worker_start = MyStartTimestamp;
	shared->ready = true;
	SpinLockRelease(&shared->mutex);
	submitter = BackendPidGetProc(run->submitter_pid);
	if (submitter)
		SetLatch(&submitter->procLatch);
	dsm_detach(seg);

	/* the submission stands or falls with the submitting transaction */
	StartTransactionCommand();
	XactLockTableWait(run->xid, NULL, NULL, XLTW_None);
	committed = TransactionIdDidCommit(run->xid);
	CommitTransactionCommand();
	if (!committed)
	{
		ereport(DEBUG1,
				(errmsg("process " INT64_FORMAT " was not submitted: its transaction rolled back",
						run->process_id)));
		proc_exit(0);
	}

	memset(&rs, 0, sizeof(rs));
	rs.name = "ontstatus.submit_process()";
	rs.cxt = cxt;
	rs.commit = worker_commit;
	rs.id = run->process_id;
	rs.n = run->nsteps;
	rs.steps = palloc(sizeof(char *) * rs.n);
	p = run->data;
	rs.type = (char *) next_string(&p);
	rs.changed_by = (char *) next_string(&p);
	if (!run->has_changed_by)
		rs.changed_by = NULL;
	for (int i = 0; i < rs.n; i++)
		rs.steps[i] = (char *) next_string(&p);

	/* the settings first: a transaction's read-only state is set at its start */
	StartTransactionCommand();
	apply_settings(&p);
	CommitTransactionCommand();
	begin_transaction();
	pgstat_report_activity(STATE_RUNNING, psprintf("ontstatus process " INT64_FORMAT, rs.id));
	MemoryContextSwitchTo(cxt);
	rs.table.relid = run->relid;
	rs.table.qualified = psprintf("with OID %u", run->relid);
	ont_table_refresh(&rs.table);
	ont_run_steps(&rs);
	end_transaction();
	pgstat_report_activity(STATE_IDLE, NULL);
	proc_exit(0);
}
