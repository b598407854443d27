/*-------------------------------------------------------------------------
 *
 * status_query.c
 *	  The one query every SQL function runs, and the one row reader.
 *
 * The statement is built from the filters that are present, with every value
 * an SPI parameter and every name schema-qualified: the table (already
 * quoted by schema_resolution.c), the types of the casts and the operators.
 * A hostile search_path can therefore not redirect it.  The casts map each
 * DDL variant of ont_process_status (serial, integer or numeric process_id;
 * integer or numeric crc_upload_id; text or varchar message; timestamp,
 * timestamptz or date dates) onto the row type ontstatus.process_status_row.
 *
 * Plans are prepared once per backend for each table (by OID) and filter
 * shape and kept (SPI_keepplan); the plan cache revalidates them when the
 * table or anything they depend on changes, and a different table is a
 * different entry.  Rows go straight from the executor to the caller's callback
 * through a DestReceiver: no tuple is copied on the way.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "ontstatus.h"

#include "access/htup_details.h"
#include "catalog/pg_type_d.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "nodes/params.h"
#include "tcop/dest.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"

/* the most parameters a query can have: id, two codes, four times, limit */
#define ONT_MAX_PARAMS 8

/* filter bits of a query's shape */
#define SHAPE_PROCESS_ID		0x01
#define SHAPE_TYPE_CD			0x02
#define SHAPE_STATUS_CD			0x04
#define SHAPE_TIME(b)			(0x08 << (b))

static const char *const select_list = "SELECT " ONT_SQL_ROW " FROM ";

/* column and operator of each time bound, indexed by OntTimeBound */
static const struct
{
	const char *column;
	const char *op;
}			time_bounds[ONT_NUM_TIME_BOUNDS] = {
	[ONT_STARTED_FROM] = {"start_date", ">="},
	[ONT_STARTED_TO] = {"start_date", "<="},
	[ONT_ENDED_FROM] = {"end_date", ">="},
	[ONT_ENDED_TO] = {"end_date", "<="},
};

/*
 * Kept plans, by table OID and filter shape (as ri_triggers.c keeps its
 * plans by constraint).  A plan is never freed: an outer call may still be
 * running it (the table can be a view whose rows come from a function that
 * calls ontstatus itself), and there are at most 128 shapes per table.
 */
typedef struct PlanKey
{
	Oid			relid;
	int			shape;
} PlanKey;

typedef struct PlanEntry
{
	PlanKey		key;
	char	   *table;			/* the quoted name the plan was made from */
	SPIPlanPtr	plan;
} PlanEntry;

static HTAB *plan_cache = NULL;

typedef struct QueryParams
{
	int			shape;
	int			nargs;
	Oid			types[ONT_MAX_PARAMS];
	Datum		values[ONT_MAX_PARAMS];
} QueryParams;

/* Feeds each result row to the caller's callback, without copying it. */
typedef struct RowReceiver
{
	DestReceiver pub;
	OntRowCallback callback;
	void	   *arg;
	uint64		rows;
} RowReceiver;

static void
add_param(QueryParams *p, int bit, Oid type, Datum value)
{
	Assert(p->nargs < ONT_MAX_PARAMS);
	p->shape |= bit;
	p->types[p->nargs] = type;
	p->values[p->nargs] = value;
	p->nargs++;
}

/* The parameters of q, in the order build_sql numbers them. */
static void
collect_params(const OntStatusQuery *q, QueryParams *p)
{
	memset(p, 0, sizeof(*p));
	if (q->has_process_id)
		add_param(p, SHAPE_PROCESS_ID, INT8OID, Int64GetDatum(q->process_id));
	if (q->process_type_cd)
		add_param(p, SHAPE_TYPE_CD, TEXTOID, CStringGetTextDatum(q->process_type_cd));
	if (q->process_status_cd)
		add_param(p, SHAPE_STATUS_CD, TEXTOID, CStringGetTextDatum(q->process_status_cd));
	for (int b = 0; b < ONT_NUM_TIME_BOUNDS; b++)
		if (q->has_time[b])
			add_param(p, SHAPE_TIME(b), TIMESTAMPTZOID, TimestampTzGetDatum(q->time[b]));
	/* the row limit is always the last parameter */
	p->types[p->nargs] = INT8OID;
	p->values[p->nargs] = Int64GetDatum((int64) q->max_rows);
	p->nargs++;
}

/* The statement for a table and shape; $n as collect_params numbers them. */
static char *
build_sql(const char *table, int shape)
{
	StringInfoData sql;
	int			n = 0;

	initStringInfo(&sql);
	appendStringInfo(&sql, "%s%s t", select_list, table);

#define CONDITION(bit, column, op) \
	if (shape & (bit)) \
		appendStringInfo(&sql, "%s t.%s OPERATOR(pg_catalog.%s) $%d", \
						 n == 0 ? " WHERE" : " AND", (column), (op), n + 1), n++

	CONDITION(SHAPE_PROCESS_ID, "process_id", "=");
	CONDITION(SHAPE_TYPE_CD, "process_type_cd", "=");
	CONDITION(SHAPE_STATUS_CD, "process_status_cd", "=");
	for (int b = 0; b < ONT_NUM_TIME_BOUNDS; b++)
		CONDITION(SHAPE_TIME(b), time_bounds[b].column, time_bounds[b].op);
#undef CONDITION

	/*
	 * Rows of one process_id have no order among themselves to keep; asked
	 * for anyway, the sort key would be an extra (junk) column the executor
	 * sets up and strips on every call.
	 */
	if (!(shape & SHAPE_PROCESS_ID))
		appendStringInfoString(&sql, " ORDER BY t.process_id");
	appendStringInfo(&sql, " LIMIT $%d", n + 1);
	return sql.data;
}

/* The kept plan for this table and shape, prepared on first use. */
static SPIPlanPtr
get_plan(const OntTable *table, const QueryParams *p)
{
	PlanKey		key;
	PlanEntry  *e;
	bool		found;
	SPIPlanPtr	plan;
	char	   *sql;

	if (plan_cache == NULL)
	{
		HASHCTL		ctl;

		memset(&ctl, 0, sizeof(ctl));
		ctl.keysize = sizeof(PlanKey);
		ctl.entrysize = sizeof(PlanEntry);
		plan_cache = hash_create("ontstatus plans", 64, &ctl, HASH_ELEM | HASH_BLOBS);
	}

	memset(&key, 0, sizeof(key));
	key.relid = table->relid;
	key.shape = p->shape;
	e = (PlanEntry *) hash_search(plan_cache, &key, HASH_FIND, NULL);

	/*
	 * The plan names the table by its schema and name; if the OID now
	 * belongs to another table (dropped, and the OID reused), make a new
	 * plan and leave the old one alone.
	 */
	if (e && strcmp(e->table, table->qualified) == 0)
		return e->plan;

	/*
	 * A generic plan serves a lookup by process_id, or no filter, equally
	 * well for every value.  For codes and times the right plan depends on
	 * the values (ONT_EDIT_CONCEPT/ERROR is rare, COMPLETED is most rows),
	 * and a generic plan can walk the whole primary key to find 100 rows:
	 * plan those with their values each time.
	 */
	sql = build_sql(table->qualified, p->shape);
	plan = SPI_prepare_cursor(sql, p->nargs, (Oid *) p->types,
							  (p->shape & ~SHAPE_PROCESS_ID) ? CURSOR_OPT_CUSTOM_PLAN : 0);
	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));

	/* enter it once nothing can fail */
	sql = MemoryContextStrdup(TopMemoryContext, table->qualified);
	SPI_keepplan(plan);
	e = (PlanEntry *) hash_search(plan_cache, &key, HASH_ENTER, &found);
	e->table = sql;
	e->plan = plan;
	return plan;
}

static bool
receive_row(TupleTableSlot *slot, DestReceiver *self)
{
	RowReceiver *r = (RowReceiver *) self;

	slot_getallattrs(slot);
	r->callback(r->arg, slot->tts_values, slot->tts_isnull);
	r->rows++;
	return true;
}

static void
receiver_startup(DestReceiver *self pg_attribute_unused(),
				 int operation pg_attribute_unused(),
				 TupleDesc typeinfo pg_attribute_unused())
{
}

static void
receiver_noop(DestReceiver *self pg_attribute_unused())
{
}

/*
 * Run the query for q against table and pass every row to callback, in
 * process_id order.  Returns the row count.  Reads only, in the snapshot
 * of the calling statement.
 */
uint64
ont_run_query(const OntTable *table, const OntStatusQuery *q,
			  OntRowCallback callback, void *arg)
{
	QueryParams p;
	SPIPlanPtr	plan;
	RowReceiver receiver;
	int			rc;

	collect_params(q, &p);

	ont_spi_connect();
	plan = get_plan(table, &p);

	memset(&receiver, 0, sizeof(receiver));
	receiver.pub.receiveSlot = receive_row;
	receiver.pub.rStartup = receiver_startup;
	receiver.pub.rShutdown = receiver_noop;
	receiver.pub.rDestroy = receiver_noop;
	receiver.pub.mydest = DestNone;
	receiver.callback = callback;
	receiver.arg = arg;

#if PG_VERSION_NUM >= 140000
	{
		SPIExecuteOptions options;
		ParamListInfo params = makeParamList(p.nargs);

		for (int i = 0; i < p.nargs; i++)
		{
			params->params[i].value = p.values[i];
			params->params[i].isnull = false;
			params->params[i].pflags = PARAM_FLAG_CONST;
			params->params[i].ptype = p.types[i];
		}
		memset(&options, 0, sizeof(options));
		options.params = params;
		options.read_only = true;
		options.dest = &receiver.pub;
		rc = SPI_execute_plan_extended(plan, &options);
		/* SPI says SELECT only when it keeps the rows itself */
		if (rc == SPI_OK_UTILITY)
			rc = SPI_OK_SELECT;
	}
#else
	rc = SPI_execute_plan(plan, p.values, NULL, true, 0);
	if (rc == SPI_OK_SELECT)
		for (uint64 i = 0; i < SPI_processed; i++)
		{
			Datum		values[ONT_NUM_COLUMNS];
			bool		nulls[ONT_NUM_COLUMNS];

			heap_deform_tuple(SPI_tuptable->vals[i], SPI_tuptable->tupdesc,
							  values, nulls);
			callback(arg, values, nulls);
			receiver.rows++;
		}
#endif
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_plan failed: %s", SPI_result_code_string(rc));

	ont_spi_finish();
	return receiver.rows;
}
