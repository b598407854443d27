/*-------------------------------------------------------------------------
 *
 * function_support.c
 *	  What several SQL-callable functions need, on the ground floor beside
 *	  spi_exec.c: a set-returning function's result in materialize mode on
 *	  every supported version, the refusal to write where writing is not
 *	  allowed, and a piece of work run in a subtransaction whose error is
 *	  caught.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "ontstatus.h"

#include "access/xact.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "tcop/utility.h"
#include "utils/resowner.h"
#include "utils/tuplestore.h"

/* PostgreSQL 15.0 called InitMaterializedSRF SetSingleFuncCall */
#if PG_VERSION_NUM >= 150000 && !defined(MAT_SRF_USE_EXPECTED_DESC)
#define InitMaterializedSRF SetSingleFuncCall
#endif

/*
 * Set up a set-returning function's result as a tuplestore
 * (materialize mode), on every supported version.  A function returning a
 * set of a scalar (scalar = true) takes the executor's expected descriptor.
 */
void
ont_materialize(FunctionCallInfo fcinfo, bool scalar)
{
#if PG_VERSION_NUM >= 150000
	InitMaterializedSRF(fcinfo, scalar ? MAT_SRF_USE_EXPECTED_DESC : 0);
#else
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	TupleDesc	tupdesc;
	MemoryContext oldcxt;

	if (rsinfo == NULL || !IsA(rsinfo, ReturnSetInfo) ||
		!(rsinfo->allowedModes & SFRM_Materialize) ||
		(scalar && rsinfo->expectedDesc == NULL))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("set-valued function called in context that cannot accept a set")));
	if (scalar)
		tupdesc = rsinfo->expectedDesc;
	else if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	oldcxt = MemoryContextSwitchTo(rsinfo->econtext->ecxt_per_query_memory);
	rsinfo->returnMode = SFRM_Materialize;
	rsinfo->setDesc = CreateTupleDescCopy(tupdesc);
	rsinfo->setResult = tuplestore_begin_heap(true, false, work_mem);
	MemoryContextSwitchTo(oldcxt);
#endif
}

/* refuse, cleanly, in a read-only transaction and on a standby */
void
ont_prevent_writes(const char *function)
{
	PreventCommandIfReadOnly(function);
	PreventCommandDuringRecovery(function);
}

/*
 * Run body(arg) in a subtransaction, as PL/pgSQL runs a block with an
 * EXCEPTION clause: when it fails, everything it did is rolled back (SPI
 * connections of the functions it called, portals, locks, settings) and
 * its error is returned, copied into errcxt; NULL when it returned.  The
 * caller's memory context and resource owner are current again either way.
 * An error caught without a subtransaction could not be cleaned up short of
 * aborting the whole transaction.
 */
ErrorData *
ont_try(void (*body) (void *arg), void *arg, MemoryContext errcxt)
{
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	ErrorData  *volatile edata = NULL;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		body(arg);
		ReleaseCurrentSubTransaction();
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(errcxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
	}
	PG_END_TRY();
	MemoryContextSwitchTo(cxt);
	CurrentResourceOwner = owner;
	return edata;
}
