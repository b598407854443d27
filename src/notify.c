/*-------------------------------------------------------------------------
 *
 * notify.c
 *	  NOTIFY ontstatus: the lifecycle's changes, and the Java cell's own
 *	  writes through an optional trigger, announced alike.
 *
 * The payload is one JSON object, built here and only here:
 *
 *	  {"process_id" : 27, "process_type_cd" : "...", "process_step_cd" : "...",
 *	   "process_status_cd" : "...", "schema" : "i2b2metadata"}
 *
 * (the layout of json_build_object's output, which 1.0 sent).  The lifecycle
 * announces the rows its statements return; the trigger, added to the
 * i2b2 table only by enable_notify, announces every insert and update.  A
 * change the lifecycle makes is thus sent twice with the same payload, and
 * NOTIFY folds the two into one.
 *
 * An announcement is a courtesy: it must never make the write it announces
 * fail.  A payload too long for NOTIFY, or a notification queue close to
 * full (which would fail the commit), skips the announcement with a
 * WARNING instead.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "ontstatus.h"

#include "commands/async.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

PG_FUNCTION_INFO_V1(ontstatus_notify_change);
PG_FUNCTION_INFO_V1(ontstatus_enable_notify);
PG_FUNCTION_INFO_V1(ontstatus_disable_notify);

#define ONT_CHANNEL "ontstatus"

/* async.c's NOTIFY_PAYLOAD_MAX_LENGTH, which it does not export */
#define ONT_PAYLOAD_MAX (BLCKSZ - NAMEDATALEN - 128)

/* above this share of the queue, skip rather than risk failing the commit */
#define ONT_QUEUE_MAX_USAGE 0.9

static void
append_member(StringInfo buf, const char *name, const char *value, bool quote,
			  bool last)
{
	appendStringInfo(buf, "\"%s\" : ", name);
	if (value == NULL)
		appendStringInfoString(buf, "null");
	else if (quote)
		escape_json(buf, value);
	else
		appendStringInfoString(buf, value);
	appendStringInfoString(buf, last ? "}" : ", ");
}

/*
 * Is s a number in JSON's grammar?  A numeric process_id prints NaN or
 * Infinity too, which JSON has no number for.
 */
static bool
is_json_number(const char *s)
{
	const char *digits;

	if (*s == '-')
		s++;
	if (*s == '0')
		s++;
	else if (*s >= '1' && *s <= '9')
		while (*s >= '0' && *s <= '9')
			s++;
	else
		return false;
	if (*s == '.')
	{
		digits = ++s;
		while (*s >= '0' && *s <= '9')
			s++;
		if (s == digits)
			return false;
	}
	if (*s == 'e' || *s == 'E')
	{
		s++;
		if (*s == '+' || *s == '-')
			s++;
		digits = s;
		while (*s >= '0' && *s <= '9')
			s++;
		if (s == digits)
			return false;
	}
	return *s == '\0';
}

/*
 * Announce one process.  Values are text as the columns print (NULL for
 * NULL); process_id is a number when it is one, else a string ("NaN").
 */
static void
notify_process(const char *schema, const char *process_id, const char *type,
			   const char *step, const char *status)
{
	StringInfoData buf;
	double		usage;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '{');
	append_member(&buf, "process_id", process_id,
				  process_id && !is_json_number(process_id), false);
	append_member(&buf, "process_type_cd", type, true, false);
	append_member(&buf, "process_step_cd", step, true, false);
	append_member(&buf, "process_status_cd", status, true, false);
	append_member(&buf, "schema", schema, true, true);

	if (buf.len >= ONT_PAYLOAD_MAX)
	{
		ereport(WARNING,
				(errmsg("process %s was not announced", process_id ? process_id : "(null)"),
				 errdetail("The notification payload would exceed %d bytes.", ONT_PAYLOAD_MAX)));
		return;
	}
	usage = DatumGetFloat8(DirectFunctionCall1(pg_notification_queue_usage, (Datum) 0));
	if (usage > ONT_QUEUE_MAX_USAGE)
	{
		ereport(WARNING,
				(errmsg("process %s was not announced", process_id ? process_id : "(null)"),
				 errdetail("The notification queue is %.0f%% full.", usage * 100),
				 errhint("A session that listens without reading holds the queue.")));
		return;
	}
	Async_Notify(ONT_CHANNEL, buf.data);
	pfree(buf.data);
}

/*
 * Announce every row the last SPI statement returned: process_id, type,
 * step and status, in that order (the lifecycle's RETURNING).  Leaves
 * SPI_tuptable and SPI_processed as it found them.
 */
void
ont_notify_returned(const OntTable *table)
{
	SPITupleTable *tt = SPI_tuptable;

	for (uint64 i = 0; i < SPI_processed; i++)
		notify_process(table->schema,
					   SPI_getvalue(tt->vals[i], tt->tupdesc, 1),
					   SPI_getvalue(tt->vals[i], tt->tupdesc, 2),
					   SPI_getvalue(tt->vals[i], tt->tupdesc, 3),
					   SPI_getvalue(tt->vals[i], tt->tupdesc, 4));
}

/* a column of the row as text, NULL when it is NULL or the table lacks it */
static char *
column_text(HeapTuple tuple, TupleDesc desc, const char *name)
{
	int			attnum = SPI_fnumber(desc, name);

	return attnum > 0 ? SPI_getvalue(tuple, desc, attnum) : NULL;
}

/*
 * notify_change(): the trigger enable_notify adds, AFTER INSERT OR UPDATE
 * FOR EACH ROW, so that the cell's own writes are announced too.
 */
Datum
ontstatus_notify_change(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	HeapTuple	tuple;
	TupleDesc	desc;

	if (!CALLED_AS_TRIGGER(fcinfo) ||
		!TRIGGER_FIRED_AFTER(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("ontstatus.notify_change() must be an AFTER ... FOR EACH ROW trigger")));

	tuple = TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event) ?
		trigdata->tg_newtuple : trigdata->tg_trigtuple;
	desc = RelationGetDescr(trigdata->tg_relation);
	notify_process(get_namespace_name(RelationGetNamespace(trigdata->tg_relation)),
				   column_text(tuple, desc, "process_id"),
				   column_text(tuple, desc, "process_type_cd"),
				   column_text(tuple, desc, "process_step_cd"),
				   column_text(tuple, desc, "process_status_cd"));
	return PointerGetDatum(NULL);
}

/*
 * The table enable_notify/disable_notify work on: ont_process_status in
 * the given schema, or where find_process_status finds it.
 */
static void
trigger_table(FunctionCallInfo fcinfo, OntTable *table)
{
	if (PG_ARGISNULL(0))
		ont_resolve_table(NULL, table);
	else
		ont_table_in_schema(NameStr(*PG_GETARG_NAME(0)), table);
}

static void
run_utility(const char *sql)
{
	ont_spi_connect();
	if (ont_spi_execute(sql, 0, NULL, NULL, NULL, false) != SPI_OK_UTILITY)
		elog(ERROR, "unexpected result of %s", sql);
	ont_spi_finish();
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
	OntTable	table;
	OntCall		call;

	ont_begin_call(&call, "ontstatus.enable_notify()", ONT_CALL_WRITES);
	trigger_table(fcinfo, &table);
#if PG_VERSION_NUM >= 140000
	run_utility(psprintf("CREATE OR REPLACE TRIGGER ontstatus_notify"
						 " AFTER INSERT OR UPDATE ON %s FOR EACH ROW"
						 " EXECUTE FUNCTION ontstatus.notify_change()", table.qualified));
#else

	/*
	 * CREATE OR REPLACE TRIGGER is 14's: drop the one there is (asking the
	 * catalog, so that no NOTICE says it was not there) and create it, in
	 * the caller's transaction, so that nobody sees the table without it.
	 */
	if (OidIsValid(get_trigger_oid(table.relid, "ontstatus_notify", true)))
		run_utility(psprintf("DROP TRIGGER ontstatus_notify ON %s", table.qualified));
	run_utility(psprintf("CREATE TRIGGER ontstatus_notify"
						 " AFTER INSERT OR UPDATE ON %s FOR EACH ROW"
						 " EXECUTE FUNCTION ontstatus.notify_change()", table.qualified));
#endif
	ont_end_call(&call);
	PG_RETURN_VOID();
}

/* disable_notify(schema): drop that trigger again, if it is there */
Datum
ontstatus_disable_notify(PG_FUNCTION_ARGS)
{
	OntTable	table;
	OntCall		call;

	ont_begin_call(&call, "ontstatus.disable_notify()", ONT_CALL_WRITES);
	trigger_table(fcinfo, &table);
	run_utility(psprintf("DROP TRIGGER IF EXISTS ontstatus_notify ON %s", table.qualified));
	ont_end_call(&call);
	PG_RETURN_VOID();
}
