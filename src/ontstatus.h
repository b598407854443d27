/*-------------------------------------------------------------------------
 *
 * ontstatus.h
 *	  Declarations shared by the backend side of ontstatus.
 *
 * The flow of every SQL function is the same: a request (from XML or from
 * SQL arguments) becomes an OntStatusQuery, schema_resolution.c names the
 * table, status_query.c runs the one query and hands each row to a callback,
 * which either writes XML (response_writer.c) or stores a tuple.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ONTSTATUS_H
#define ONTSTATUS_H

#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/guc.h"
#include "utils/timestamp.h"
#include "utils/xml.h"

#include "request_parser.h"

/*
 * PostgreSQL 18 marks functions that do not return with the prefix
 * pg_noreturn; before it, with the suffix pg_attribute_noreturn(), which
 * with GCC and Clang is an attribute that may stand first as well.
 */
#ifndef pg_noreturn
#define pg_noreturn pg_attribute_noreturn()
#endif

/* What max_return_records = 0 (or absent) means, as in the Java cell. */
#define ONT_DEFAULT_MAX_ROWS 1000

/* Columns of ontstatus.process_status_row, in order. */
typedef enum OntColumn
{
	ONT_COL_PROCESS_ID = 0,
	ONT_COL_PROCESS_TYPE_CD,
	ONT_COL_PROCESS_STEP_CD,
	ONT_COL_START_DATE,
	ONT_COL_END_DATE,
	ONT_COL_PROCESS_STATUS_CD,
	ONT_COL_CRC_UPLOAD_ID,
	ONT_COL_MESSAGE,
	ONT_NUM_COLUMNS
} OntColumn;

/*
 * The columns of ont_process_status (alias t) as the row type has them,
 * whatever the table's DDL variant: serial, integer or numeric ids,
 * varchar or text codes, timestamp, timestamptz or date dates.  The one
 * definition the query, the reports and the lifecycle's RETURNING share.
 */
#define ONT_SQL_PROCESS_ID		"CAST(t.process_id AS pg_catalog.int8)"
#define ONT_SQL_TYPE_CD			"CAST(t.process_type_cd AS pg_catalog.text)"
#define ONT_SQL_STEP_CD			"CAST(t.process_step_cd AS pg_catalog.text)"
#define ONT_SQL_START_DATE		"CAST(t.start_date AS pg_catalog.timestamp)"
#define ONT_SQL_END_DATE		"CAST(t.end_date AS pg_catalog.timestamp)"
#define ONT_SQL_STATUS_CD		"CAST(t.process_status_cd AS pg_catalog.text)"
#define ONT_SQL_CRC_UPLOAD_ID	"CAST(t.crc_upload_id AS pg_catalog.int8)"
#define ONT_SQL_MESSAGE			"CAST(t.message AS pg_catalog.text)"

/*
 * The running processes (PROCESSING, and ABORT in any case, as the cell's
 * worker reads it: ont_is_running in SQL) and when a row last changed:
 * what running_processes and check_setup both judge by.
 */
#define ONT_SQL_IS_RUNNING \
	"(t.process_status_cd OPERATOR(pg_catalog.=) 'PROCESSING'" \
	" OR pg_catalog.upper(t.process_status_cd) OPERATOR(pg_catalog.=) 'ABORT')"
#define ONT_SQL_LAST_CHANGE \
	"GREATEST(CAST(t.change_date AS pg_catalog.timestamp)," \
	" CAST(t.entry_date AS pg_catalog.timestamp), " ONT_SQL_START_DATE ")"

/* ontstatus.process_status_row, in order (OntColumn) */
#define ONT_SQL_ROW \
	ONT_SQL_PROCESS_ID ", " ONT_SQL_TYPE_CD ", " ONT_SQL_STEP_CD ", " \
	ONT_SQL_START_DATE ", " ONT_SQL_END_DATE ", " ONT_SQL_STATUS_CD ", " \
	ONT_SQL_CRC_UPLOAD_ID ", " ONT_SQL_MESSAGE

/*
 * The one request model every SQL function is reduced to.  Strings are in
 * the server encoding; NULL or has_* = false means "no filter".
 */
typedef struct OntStatusQuery
{
	bool		has_process_id;
	int64		process_id;
	char	   *process_type_cd;
	char	   *process_status_cd;
	bool		has_time[ONT_NUM_TIME_BOUNDS];
	TimestampTz time[ONT_NUM_TIME_BOUNDS];
	int32		max_rows;		/* > 0 */
} OntStatusQuery;

/*
 * The ont_process_status table a call works on, resolved once by
 * ont_resolve_table: its OID (the key of kept plans and locks) and its
 * names, plain for messages and NOTIFY, quoted and qualified for SQL text.
 */
typedef struct OntTable
{
	Oid			relid;
	char	   *schema;
	char	   *qualified;
} OntTable;

/*
 * ontstatus.c: every entry point's prologue and epilogue.  ont_begin_call
 * refuses a parallel query, makes sure the settings exist and, as flags
 * ask, refuses to write where writing is not allowed, enters the table's
 * time zone and resolves the lifecycle's table (ontstatus.schema, else
 * search_path); ont_end_call leaves the zone.  An error in between leaves
 * it by transaction abort.
 */
#define ONT_CALL_WRITES		0x01	/* refused read-only and on a standby */
#define ONT_CALL_ZONE		0x02	/* in the table's time zone until the end */
#define ONT_CALL_TABLE		0x04	/* call->table: the lifecycle's table */

typedef struct OntCall
{
	const char *name;			/* "ontstatus.start_process()", for messages */
	OntTable	table;			/* with ONT_CALL_TABLE */
	int			zone;			/* GUC level of the table's zone, 0: none */
} OntCall;

extern void ont_begin_call(OntCall *call, const char *name, int flags);
extern void ont_end_call(OntCall *call);

/* Receives each result row; values are of the row type's column types. */
typedef void (*OntRowCallback) (void *arg, Datum *values, bool *nulls);



/* function_support.c */
extern void ont_materialize(FunctionCallInfo fcinfo, bool scalar);
extern void ont_prevent_writes(const char *function);
extern ErrorData *ont_try(void (*body) (void *arg), void *arg, MemoryContext errcxt);

/* settings.c */
extern char *ontstatus_schema;
extern char *ontstatus_lookup_table;
extern char *ontstatus_table_time_zone;
extern int	ontstatus_max_request_bytes;
extern bool ontstatus_fast_path;
extern void ont_define_settings(void);

/* table_zone.c */
extern int	ont_enter_table_zone(void);
extern void ont_leave_table_zone(int nestlevel);

/* request.c */
extern bool ont_request_from_text(const char *buf, size_t len, OntRequest *req);
pg_noreturn extern void ont_request_raise(const OntRequest *req);
extern void ont_query_from_request(const OntRequest *req, OntStatusQuery *q);
extern int32 ont_max_rows(int64 requested);

/* process_model.c: the i2b2 process model */
#define ONT_STATUS_PROCESSING	"PROCESSING"
#define ONT_STATUS_ABORT		"ABORT"
#define ONT_STATUS_COMPLETED	"COMPLETED"
#define ONT_STATUS_ERROR		"ERROR"
#define ONT_STATUS_KILLED		"KILLED"
/* the one type whose start (and stop) aborts the running ones */
#define ONT_PATIENT_COUNT		"ONT_PATIENT_COUNT_UPDATE"
extern bool ont_is_processing(const char *status);
extern bool ont_is_abort(const char *status);
extern bool ont_is_running(const char *status);
extern void ont_check_final_status(const char *final);
extern void ont_check_step(const char *step);
extern const char *ont_first_step(const char *type);
extern char *ont_format_progress(int64 done, int64 total);
extern bool ont_progress_valid(int64 done, int64 total);
extern bool ont_parse_progress(const char *step, int32 *done, int32 *total);
extern bool ont_progress_in_message(const char *message, int64 *done, int64 *total);

/* lifecycle.c: the rows as the cell writes them, on a resolved table */
extern int64 ont_start(const OntTable *table, const char *type, const char *step,
					   char *message, const char *changed_by);
extern char *ont_read_status(const OntTable *table, int64 process_id, bool lock);
extern char *ont_progress(const OntTable *table, int64 process_id, const char *step,
						  char *message);
extern void ont_finish(const OntTable *table, int64 process_id, const char *final,
					   char *message, const char *step);
extern void ont_reap(const OntTable *only, FunctionCallInfo fcinfo);

/*
 * run_process.c: SQL steps run as an i2b2 process, one transaction a step;
 * by CALL run_process in its own session, or by submit_process's worker
 * (submit_process.c), which differ only in how they commit.
 */
typedef struct OntRun OntRun;
struct OntRun
{
	const char *name;			/* "ontstatus.run_process()", for messages */
	MemoryContext cxt;			/* survives the commits */
	MemoryContext step_cxt;		/* one step's bookkeeping: reset after it */
	OntTable	table;			/* resolved at the start, names in cxt */
	OntTable	now;			/* the same table under its names now, in
								 * step_cxt: set by read_status */
	int64		id;
	char	   *type;
	char	   *changed_by;
	int			n;
	char	  **steps;
	int			current;		/* the step being run, 1-based */

	/*
	 * Commit, and begin the next transaction; a commit that fails is
	 * aborted and its error returned (copied into cxt), NULL otherwise.
	 */
	ErrorData  *(*commit) (OntRun *rs);
};
extern void ont_run_init(OntRun *rs, const char *name, FunctionCallInfo fcinfo);
extern void ont_run_start(OntRun *rs);
extern void ont_run_steps(OntRun *rs);

/* watch.c: who runs the processes ontstatus runs */
typedef enum OntAlive
{
	ONT_ALIVE_UNKNOWN,			/* on a standby */
	ONT_ALIVE_NO,
	ONT_ALIVE_YES
} OntAlive;
/* a registration: the session that runs a process */
typedef struct OntRegistration
{
	Oid			relid;
	int64		process_id;
	int32		pid;
	TimestampTz started;
} OntRegistration;
extern bool ont_watching(void);
extern bool ont_read_registration(Oid relid, int64 process_id, bool lock,
								  OntRegistration *reg);
extern OntRegistration *ont_list_registrations(Oid only, uint64 *n);
extern bool ont_is_this_session(const OntRegistration *reg);
extern void ont_refuse_if_run_elsewhere(const OntTable *table, int64 process_id,
										const OntRegistration *reg);
extern void ont_watch(const OntTable *table, int64 process_id);
extern void ont_watch_for(const OntTable *table, int64 process_id, int32 pid,
						  TimestampTz started);
extern void ont_unwatch(const OntTable *table, int64 process_id);
extern OntAlive ont_session_alive(int32 pid, TimestampTz started);

/* notify.c */
extern void ont_notify_returned(const OntTable *table);

/* spi_exec.c */
extern void ont_spi_connect(void);
extern void ont_spi_finish(void);
extern int	ont_spi_execute(const char *sql, int nargs, Oid *types, Datum *values,
							const char *nulls, bool read_only);
/* completes one row (values and nulls of the statement's columns) */
typedef void (*OntRowFixup) (void *arg, Datum *values, bool *nulls);
extern void ont_spi_rows_to_result(FunctionCallInfo fcinfo, int skip, int newer,
								   int extra, OntRowFixup fixup, void *arg);

/* schema_resolution.c */
extern void ont_resolve_table(const OntRequest *req, OntTable *table);
extern void ont_table_in_schema(const char *schema, OntTable *table);
extern void ont_table_refresh(OntTable *table);
extern Oid	ont_lookup_table(char **qualified);

/* the lookup table's row that answers a request */
typedef struct OntLookupRow
{
	char	   *schema;			/* c_db_fullschema, as stored */
	char	   *path;			/* c_project_path */
	char	   *owner;			/* c_owner_id */
} OntLookupRow;
extern bool ont_lookup_row(const char *table, const OntRequest *req, OntLookupRow *row);
extern bool ont_role_can_read(Oid role, Oid relid);
extern ArrayType *ont_project_levels(const char *project_id);

/* status_query.c */
extern uint64 ont_run_query(const OntTable *table, const OntStatusQuery *q,
							OntRowCallback callback, void *arg);

/* A response being written; only response_writer.c sees inside. */
typedef struct OntResponse OntResponse;

/* response_writer.c */
extern OntResponse *ont_response_create(void);
extern void ont_write_response_start(OntResponse *resp, const OntRequest *req,
									 int32 max_rows);
extern void ont_write_row(OntResponse *resp, Datum *values, bool *nulls);
extern void ont_write_response_end(OntResponse *resp);
extern void ont_write_error_response(OntResponse *resp, const OntRequest *req,
									 const char *message);
extern xmltype *ont_response_datum(OntResponse *resp);

#endif							/* ONTSTATUS_H */
