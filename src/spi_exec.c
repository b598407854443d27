/*-------------------------------------------------------------------------
 *
 * spi_exec.c
 *	  The one way ontstatus runs SQL: SPI, checked.
 *
 * Every statement is schema-qualified text with its values as parameters;
 * every failure of SPI itself is an internal error (the statement's own
 * errors are raised by the executor as usual).  Kept plans are the query's
 * and the lookup's business (status_query.c, schema_resolution.c); they
 * connect and finish through here too.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "ontstatus.h"

#include "access/htup_details.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "utils/tuplestore.h"

void
ont_spi_connect(void)
{
	int			rc;

	if ((rc = SPI_connect()) != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed: %s", SPI_result_code_string(rc));
}

void
ont_spi_finish(void)
{
	int			rc;

	if ((rc = SPI_finish()) != SPI_OK_FINISH)
		elog(ERROR, "SPI_finish failed: %s", SPI_result_code_string(rc));
}

/*
 * Run sql with its parameters (nulls as SPI takes them: 'n' or ' ', or
 * NULL for none); the rows, if any, are in SPI_tuptable.  Returns SPI's
 * code.  The caller's memory context stays current (SPI would leave its
 * procedure context current, where a long run_process would pile up what
 * each step allocates after it).
 */
int
ont_spi_execute(const char *sql, int nargs, Oid *types, Datum *values,
				const char *nulls, bool read_only)
{
	MemoryContext caller = CurrentMemoryContext;
	int			rc;

	if (nargs == 0)
		rc = SPI_execute(sql, read_only, 0);
	else
		rc = SPI_execute_with_args(sql, nargs, types, values, nulls, read_only, 0);
	MemoryContextSwitchTo(caller);
	if (rc < 0)
		elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(rc));
	return rc;
}

/*
 * Put the rows of the last statement into a materialize-mode result whose
 * row type they match column for column, but for the columns an older
 * version's signature lacks: its last newer columns (added since), and
 * before 1.1 also column skip (-1: none).  The statement's last extra
 * columns are for fixup alone, which (when not NULL) completes each row
 * first.
 */
void
ont_spi_rows_to_result(FunctionCallInfo fcinfo, int skip, int newer, int extra,
					   OntRowFixup fixup, void *arg)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	TupleDesc	desc = SPI_tuptable->tupdesc;
	int			natts = desc->natts - extra;
	int			want = rsinfo->setDesc->natts;

	if (want == natts || want == natts - newer)
		skip = -1;
	else if (skip < 0 || want != natts - newer - 1)
		elog(ERROR, "result has %d columns, expected %d", want, natts);

	for (uint64 i = 0; i < SPI_processed; i++)
	{
		Datum	   *v = palloc(sizeof(Datum) * desc->natts);
		bool	   *n = palloc(sizeof(bool) * desc->natts);

		heap_deform_tuple(SPI_tuptable->vals[i], desc, v, n);
		if (fixup)
			fixup(arg, v, n);
		if (skip >= 0)
		{
			memmove(&v[skip], &v[skip + 1], sizeof(Datum) * (natts - skip - 1));
			memmove(&n[skip], &n[skip + 1], sizeof(bool) * (natts - skip - 1));
		}
		/* the result takes its first want columns */
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, n);
		pfree(v);
		pfree(n);
	}
}
