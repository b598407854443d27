/*-------------------------------------------------------------------------
 *
 * lifecycle.c
 *	  Start, report on and finish processes in ont_process_status as the
 *	  ONT cell does, and tell listeners.
 *
 * start_process follows the cell: every PROCESSING row of the type becomes
 * ABORT, then a new PROCESSING row is inserted.  Starts of one type are
 * serialised by a transaction-scoped advisory lock on the type (other types
 * never wait), so concurrent starts leave exactly one PROCESSING row.
 * report_progress and finish_process lock the row they change.  Codes are
 * checked against the ones the cell writes.  Every change is announced
 * with NOTIFY ontstatus, '<json>', delivered at commit.
 *
 * enable_notify/disable_notify add and drop a trigger that announces the
 * changes the Java cell writes itself, in the same form.
 *
 * These functions write: they refuse, cleanly, in a read-only transaction
 * and on a standby.
 *
 *-------------------------------------------------------------------------
 */
#include "ontstatus.h"

#include "access/xact.h"
#include "catalog/pg_type_d.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "tcop/utility.h"
#include "catalog/namespace.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/varlena.h"

PG_FUNCTION_INFO_V1(ontstatus_start_process);
PG_FUNCTION_INFO_V1(ontstatus_report_progress);
PG_FUNCTION_INFO_V1(ontstatus_finish_process);
PG_FUNCTION_INFO_V1(ontstatus_enable_notify);
PG_FUNCTION_INFO_V1(ontstatus_disable_notify);

/* the class of our advisory locks: "ONTS" */
#define ONT_LOCK_CLASS 1330533459	/* 0x4f4e5453, "ONTS" */

static const char *const process_types[] = {
	"ONT_UPDATE_CRC_CONCEPT", "ONT_SYNCALL_CRC_CONCEPT", "ONT_ADD_CONCEPT",
	"ONT_EDIT_CONCEPT", "ONT_DELETE_CONCEPT", "ONT_PATIENT_COUNT_UPDATE", NULL
};
static const char *const process_steps[] = {
	"ONT_BUILD_PDO_START", "ONT_SENTTO_FRC", "ONT_SENTTO_CRCLOADER",
	"ONT_PATIENT_COUNT_UPDATE", NULL
};
static const char *const final_statuses[] = {"COMPLETED", "ERROR", "KILLED", NULL};

/* the row's columns after a change, for NOTIFY (%s: the table) */
#define RETURNING \
	" RETURNING CAST(t.process_id AS pg_catalog.int8), CAST(t.process_type_cd AS pg_catalog.text)," \
	" CAST(t.process_step_cd AS pg_catalog.text), CAST(t.process_status_cd AS pg_catalog.text)"

static void
check_code(const char *value, const char *const *allowed, const char *what)
{
	StringInfoData list;

	for (int i = 0; allowed[i]; i++)
		if (strcmp(value, allowed[i]) == 0)
			return;
	initStringInfo(&list);
	for (int i = 0; allowed[i]; i++)
		appendStringInfo(&list, "%s%s", i ? ", " : "", allowed[i]);
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown %s: \"%s\"", what, value),
			 errdetail("Allowed: %s.", list.data)));
}

static void
prevent_writes(const char *function)
{
	PreventCommandIfReadOnly(function);
	PreventCommandDuringRecovery(function);
}

static char *
text_arg(FunctionCallInfo fcinfo, int n)
{
	return PG_ARGISNULL(n) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(n));
}

/*
 * NOTIFY ontstatus for every row the last statement returned (RETURNING
 * process_id, type, step, status).
 */
static void
notify_rows(const char *table)
{
	char	   *copy = pstrdup(table);
	List	   *names;
	char	   *schema;
	SPITupleTable *tt = SPI_tuptable;
	uint64		n = SPI_processed;
	Oid			types[5] = {INT8OID, TEXTOID, TEXTOID, TEXTOID, TEXTOID};

	/* the schema part of the quoted qualified name, as a plain name */
	if (!SplitIdentifierString(copy, '.', &names) || list_length(names) != 2)
		elog(ERROR, "unexpected table name %s", table);
	schema = linitial(names);

	for (uint64 i = 0; i < n; i++)
	{
		Datum		values[5];
		char		nulls[5];
		bool		isnull;

		for (int c = 0; c < 4; c++)
		{
			values[c] = SPI_getbinval(tt->vals[i], tt->tupdesc, c + 1, &isnull);
			nulls[c] = isnull ? 'n' : ' ';
		}
		values[4] = CStringGetTextDatum(schema);
		nulls[4] = ' ';
		if (SPI_execute_with_args("SELECT pg_catalog.pg_notify('ontstatus', CAST(pg_catalog.json_build_object("
								  "'process_id', $1, 'process_type_cd', $2, 'process_step_cd', $3,"
								  " 'process_status_cd', $4, 'schema', $5) AS pg_catalog.text))",
								  5, types, values, nulls, false, 0) != SPI_OK_SELECT)
			elog(ERROR, "pg_notify failed");
	}
}

static void
connect_spi(void)
{
	int			rc;

	if ((rc = SPI_connect()) != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed: %s", SPI_result_code_string(rc));
}

static int
run(const char *sql, int nargs, Oid *types, Datum *values, const char *nulls)
{
	int			rc = SPI_execute_with_args(sql, nargs, types, values, nulls, false, 0);

	if (rc < 0)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(rc));
	return rc;
}

/*
 * The row's status, locked for update, copied out of SPI's memory; an
 * error when there is no row.
 */
static char *
lock_row(const char *table, int64 process_id)
{
	Oid			types[1] = {INT8OID};
	Datum		values[1] = {Int64GetDatum(process_id)};
	char	   *status;

	run(psprintf("SELECT CAST(t.process_status_cd AS pg_catalog.text) FROM %s t"
				 " WHERE t.process_id OPERATOR(pg_catalog.=) $1 FOR UPDATE", table),
		1, types, values, NULL);
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("process " INT64_FORMAT " does not exist", process_id),
				 errdetail("No row of %s has that process_id.", table)));
	status = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	if (status == NULL)
		status = "";
	/* in the caller's context: report_progress returns it after SPI_finish */
	return strcpy(SPI_palloc(strlen(status) + 1), status);
}

/* start_process(process_type_cd, process_step_cd, message) returns bigint */
Datum
ontstatus_start_process(PG_FUNCTION_ARGS)
{
	char	   *type = text_arg(fcinfo, 0);
	char	   *step = text_arg(fcinfo, 1);
	char	   *message = text_arg(fcinfo, 2);
	char	   *table;
	Oid			types[3] = {TEXTOID, TEXTOID, TEXTOID};
	Datum		values[3];
	char		nulls[3] = {' ', ' ', ' '};
	bool		isnull;
	int64		process_id;

	prevent_writes("ontstatus.start_process()");
	if (type == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("process_type_cd must not be null")));
	check_code(type, process_types, "process_type_cd");
	if (step)
		check_code(step, process_steps, "process_step_cd");

	/*
	 * The lock serialises starts of this type; a snapshot taken before it
	 * was granted could miss the PROCESSING row a concurrent start just
	 * committed, so REPEATABLE READ would break "one PROCESSING row".
	 */
	if (IsolationUsesXactSnapshot() && !IsolationIsSerializable())
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("ontstatus.start_process() cannot run in a REPEATABLE READ transaction"),
				 errdetail("It must see the rows committed by concurrent starts of the same type."),
				 errhint("Use READ COMMITTED (the default) or SERIALIZABLE.")));

	table = ont_resolve_table(NULL);
	values[0] = CStringGetTextDatum(type);
	values[1] = step ? CStringGetTextDatum(step) : (Datum) 0;
	nulls[1] = step ? ' ' : 'n';
	values[2] = message ? CStringGetTextDatum(message) : (Datum) 0;
	nulls[2] = message ? ' ' : 'n';

	connect_spi();
	run("SELECT pg_catalog.pg_advisory_xact_lock(" CppAsString2(ONT_LOCK_CLASS)
		", pg_catalog.hashtext($1))", 1, types, values, nulls);
	run(psprintf("UPDATE %s t SET process_status_cd = 'ABORT', end_date = pg_catalog.now(),"
				 " change_date = pg_catalog.now(), status_cd = 'U'"
				 " WHERE t.process_type_cd OPERATOR(pg_catalog.=) $1"
				 " AND t.process_status_cd OPERATOR(pg_catalog.=) 'PROCESSING'" RETURNING,
				 table),
		1, types, values, nulls);
	notify_rows(table);
	run(psprintf("INSERT INTO %s AS t (process_type_cd, process_step_cd, process_status_cd,"
				 " start_date, entry_date, status_cd, changedby_char, message)"
				 " VALUES ($1, $2, 'PROCESSING', pg_catalog.now(), pg_catalog.now(), 'C',"
				 " CAST(session_user AS pg_catalog.text), $3)" RETURNING, table),
		3, types, values, nulls);
	process_id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
											 SPI_tuptable->tupdesc, 1, &isnull));
	notify_rows(table);
	SPI_finish();
	PG_RETURN_INT64(process_id);
}

/*
 * Start a change of one process: refuse writes where they cannot happen,
 * find the table, connect SPI and lock the row.  Returns the row's status.
 */
static char *
open_process(FunctionCallInfo fcinfo, const char *function, char **table,
			 int64 *process_id)
{
	prevent_writes(function);
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("process_id must not be null")));
	*process_id = PG_GETARG_INT64(0);
	*table = ont_resolve_table(NULL);
	connect_spi();
	return lock_row(*table, *process_id);
}

/*
 * UPDATE the process with the given SET list ($2 and $3 are the texts a and
 * b, either may be NULL), stamp it changed, and announce it.
 */
static void
update_process(const char *table, const char *set, int64 process_id,
			   const char *a, const char *b)
{
	Oid			types[3] = {INT8OID, TEXTOID, TEXTOID};
	Datum		values[3] = {Int64GetDatum(process_id),
		a ? CStringGetTextDatum(a) : (Datum) 0,
	b ? CStringGetTextDatum(b) : (Datum) 0};
	char		nulls[3] = {' ', a ? ' ' : 'n', b ? ' ' : 'n'};

	run(psprintf("UPDATE %s t SET %s, change_date = pg_catalog.now(), status_cd = 'U'"
				 " WHERE t.process_id OPERATOR(pg_catalog.=) $1" RETURNING, table, set),
		3, types, values, nulls);
	notify_rows(table);
}

/* report_progress(process_id, process_step_cd, message) returns text */
Datum
ontstatus_report_progress(PG_FUNCTION_ARGS)
{
	char	   *step = text_arg(fcinfo, 1);
	char	   *message = text_arg(fcinfo, 2);
	char	   *table;
	char	   *status;
	int64		process_id;

	if (step)
		check_code(step, process_steps, "process_step_cd");
	status = open_process(fcinfo, "ontstatus.report_progress()",
						  &table, &process_id);

	/* an ABORT (or finished) row is left alone: the worker reads the status */
	if (strcmp(status, "PROCESSING") == 0)
		update_process(table,
					   "process_step_cd = COALESCE($2, t.process_step_cd),"
					   " message = COALESCE($3, CAST(t.message AS pg_catalog.text))",
					   process_id, step, message);
	SPI_finish();
	PG_RETURN_TEXT_P(cstring_to_text(status));
}

/* finish_process(process_id, process_status_cd, message) */
Datum
ontstatus_finish_process(PG_FUNCTION_ARGS)
{
	char	   *final = text_arg(fcinfo, 1);
	char	   *message = text_arg(fcinfo, 2);
	char	   *table;
	char	   *status;
	int64		process_id;

	if (final == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("process_status_cd must not be null")));
	check_code(final, final_statuses, "final process_status_cd");
	status = open_process(fcinfo, "ontstatus.finish_process()", &table, &process_id);
	if (strcmp(status, "ABORT") == 0 && strcmp(final, "KILLED") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("process " INT64_FORMAT " was aborted: it can only become KILLED",
						process_id),
				 errdetail("Another start of its type asked it to stop.")));
	if (strcmp(status, "PROCESSING") != 0 && strcmp(status, "ABORT") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("process " INT64_FORMAT " is already %s", process_id, status),
				 errdetail("Only a PROCESSING or ABORT process can be finished.")));

	update_process(table,
				   "process_status_cd = $2, end_date = pg_catalog.now(),"
				   " message = COALESCE($3, CAST(t.message AS pg_catalog.text))",
				   process_id, final, message);
	SPI_finish();
	PG_RETURN_VOID();
}

/*
 * The table enable_notify/disable_notify work on: ont_process_status in
 * the given schema, or where find_process_status finds it.
 */
static char *
notify_table(FunctionCallInfo fcinfo)
{
	char	   *schema;

	if (PG_ARGISNULL(0))
		return ont_resolve_table(NULL);
	schema = NameStr(*PG_GETARG_NAME(0));
	if (!OidIsValid(get_namespace_oid(schema, true)) ||
		!OidIsValid(get_relname_relid("ont_process_status", get_namespace_oid(schema, true))))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation \"%s.ont_process_status\" does not exist", schema)));
	return quote_qualified_identifier(schema, "ont_process_status");
}

static void
run_utility(const char *sql)
{
	int			rc;

	connect_spi();
	if ((rc = SPI_execute(sql, false, 0)) != SPI_OK_UTILITY)
		elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(rc));
	SPI_finish();
}

/*
 * enable_notify(schema): a trigger on the i2b2 table, so that changes the
 * Java cell writes itself are announced too.  The only time ontstatus
 * touches the i2b2 table's definition, and only when asked.  Its payload is
 * the lifecycle functions' own, so a change made through them is announced
 * once (NOTIFY folds identical payloads of one transaction).
 */
Datum
ontstatus_enable_notify(PG_FUNCTION_ARGS)
{
	char	   *table;

	prevent_writes("ontstatus.enable_notify()");
	table = notify_table(fcinfo);
	run_utility(psprintf("CREATE OR REPLACE TRIGGER ontstatus_notify"
						 " AFTER INSERT OR UPDATE ON %s FOR EACH ROW"
						 " EXECUTE FUNCTION ontstatus.notify_change()", table));
	PG_RETURN_VOID();
}

/* disable_notify(schema): drop that trigger again, if it is there */
Datum
ontstatus_disable_notify(PG_FUNCTION_ARGS)
{
	char	   *table;

	prevent_writes("ontstatus.disable_notify()");
	table = notify_table(fcinfo);
	run_utility(psprintf("DROP TRIGGER IF EXISTS ontstatus_notify ON %s", table));
	PG_RETURN_VOID();
}
