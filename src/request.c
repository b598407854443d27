/*-------------------------------------------------------------------------
 *
 * request.c
 *	  From request text to OntRequest and OntStatusQuery, inside the backend.
 *
 * The request's guards and readers (request_parser.h: request_guards.c,
 * request_fast_path.c, request_libxml2.c, and the grammar in
 * request_parser.c) know XML and nothing of PostgreSQL; this file supplies
 * what they cannot: the size limit, the conversion between the server
 * encoding and UTF-8, libxml2 set-up through pg_xml_init, SQLSTATEs, and
 * the placing of request times in the session's time zone.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "ontstatus.h"

#include "mb/pg_wchar.h"
#include "pgtime.h"
#include "utils/datetime.h"
#include "utils/xml.h"

static void *
palloc_no_oom(void *arg pg_attribute_unused(), size_t size)
{
	return palloc_extended(size, MCXT_ALLOC_NO_OOM);
}

static char *
to_server_encoding(char *s)
{
	return s ? pg_any_to_server(s, strlen(s), PG_UTF8) : NULL;
}

/*
 * Read a request with libxml2, set up as the backend requires, its objects
 * freed even when an error escapes (out of memory in libxml2's error
 * handler, for instance).
 *
 * The reader gives libxml2 its own error handler for the parse, so what
 * libxml2 says about the request never reaches pg_xml_init's handler, which
 * would report warnings to the client and the log with the request quoted:
 * only the parser's cleaned messages leave.  What still reaches
 * pg_xml_init's handler is raised without a parser context, in practice
 * libxml2 failing to allocate; the parse cannot be trusted then, and that
 * is raised here as an error of the server, not of the request.  So on the
 * way out no libxml2 error is pending unless an error is being thrown,
 * which is what pg_xml_done asserts.
 */
static bool
read_with_libxml2(const char *utf8, size_t len, const OntGuardVerdict *verdict,
				  OntRequest *req)
{
	PgXmlErrorContext *xmlerrcxt;
	OntParseState *state;
	bool		ok;

	/*
	 * The reader records its libxml2 objects in *state, which PG_CATCH
	 * reads after a longjmp.  A local of this function changed after
	 * setjmp would be indeterminate there unless volatile; the state lives
	 * in palloc'd memory instead, and the pointer to it is set before
	 * PG_TRY and never changed.
	 */
	state = palloc0(sizeof(OntParseState));
	xmlerrcxt = pg_xml_init(PG_XML_STRICTNESS_WELLFORMED);
	PG_TRY();
	{
		ok = ont_read_request_libxml2(utf8, len, verdict, req, state,
									  palloc_no_oom, NULL);
		if (pg_xml_error_occurred(xmlerrcxt))
			ereport(ERROR,
					(errcode(ERRCODE_OUT_OF_MEMORY),
					 errmsg("out of memory"),
					 errdetail("libxml2 failed while parsing the request.")));
	}
	PG_CATCH();
	{
		ont_parse_cleanup(state);
		pg_xml_done(xmlerrcxt, true);
		PG_RE_THROW();
	}
	PG_END_TRY();
	pg_xml_done(xmlerrcxt, false);
	pfree(state);
	return ok;
}

/*
 * Run the parser: the guards, once; then the fast path, which needs
 * nothing of libxml2; when it declines (or ontstatus.fast_path is off),
 * libxml2.  Which of them read the request, and how many guard passes it
 * took (one, whoever read it), DEBUG2 says.
 */
static bool
parse_request(const char *utf8, size_t len, OntRequest *req)
{
	OntGuardVerdict verdict;
	unsigned long passes = ont_guard_passes();
	bool		ok;

	if (!ont_guard_request(utf8, len, req, &verdict))
	{
		elog(DEBUG2, "request of %zu bytes refused before parsing", len);
		ok = false;
	}
	else if (ontstatus_fast_path &&
			 ont_read_request_fast(utf8, len, &verdict, req, palloc_no_oom,
								   NULL) == ONT_FAST_READ)
	{
		elog(DEBUG2, "request of %zu bytes read by the fast path", len);
		ok = req->error == ONT_OK;
	}
	else
	{
		elog(DEBUG2, "request of %zu bytes read by libxml2", len);
		ok = read_with_libxml2(utf8, len, &verdict, req);
	}
	elog(DEBUG2, "guard passes over the request: %lu",
		 ont_guard_passes() - passes);
	return ok;
}

/*
 * Parse a request.  Never raises an error for bad input: returns false with
 * req->error set, and whatever header fields were read before the problem
 * (in the server encoding), so that an ERROR response can still echo them.
 */
bool
ont_request_from_text(const char *buf, size_t len, OntRequest *req)
{
	const char *utf8;
	bool		ok;

	if (ontstatus_max_request_bytes > 0 &&
		len > (size_t) ontstatus_max_request_bytes)
	{
		memset(req, 0, sizeof(*req));
		req->error = ONT_ERR_TOO_LARGE;
		snprintf(req->errmsg, sizeof(req->errmsg), "request is too large");
		snprintf(req->errdetail, sizeof(req->errdetail),
				 "The request is %zu bytes; ontstatus.max_request_bytes is %d.",
				 len, ontstatus_max_request_bytes);
		return false;
	}

	/* as xml.c does: libxml2 gets UTF-8 and is told so */
	utf8 = (const char *) pg_do_encoding_conversion((unsigned char *) buf, len,
													GetDatabaseEncoding(),
													PG_UTF8);
	if (utf8 != buf)
		len = strlen(utf8);

	ok = parse_request(utf8, len, req);

	/*
	 * Convert every string to the server encoding.  A character the server
	 * encoding lacks raises an error; the fields are detached first so that
	 * an ERROR response echoes only fields already converted.
	 */
	{
		char	  **fields[] = {
			&req->sending_app_name, &req->sending_app_version,
			&req->sending_facility, &req->security_domain,
			&req->security_username, &req->session_id, &req->message_num,
			&req->project_id, &req->process_type_cd, &req->process_status_cd
		};
		char	   *utf8v[lengthof(fields)];

		for (size_t i = 0; i < lengthof(fields); i++)
		{
			utf8v[i] = *fields[i];
			*fields[i] = NULL;
		}
		for (size_t i = 0; i < lengthof(fields); i++)
			*fields[i] = to_server_encoding(utf8v[i]);
	}
	return ok;
}

/* Raise the error ont_request_from_text reported, with a fitting SQLSTATE. */
void
ont_request_raise(const OntRequest *req)
{
	int			sqlstate;

	switch (req->error)
	{
		case ONT_ERR_XML:
			sqlstate = ERRCODE_INVALID_XML_DOCUMENT;
			break;
		case ONT_ERR_SYNTAX:
			sqlstate = ERRCODE_INVALID_TEXT_REPRESENTATION;
			break;
		case ONT_ERR_RANGE:
			sqlstate = ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE;
			break;
		case ONT_ERR_DATETIME_FORMAT:
			sqlstate = ERRCODE_INVALID_DATETIME_FORMAT;
			break;
		case ONT_ERR_DATETIME_RANGE:
			sqlstate = ERRCODE_DATETIME_FIELD_OVERFLOW;
			break;
		case ONT_ERR_TOO_LARGE:
			sqlstate = ERRCODE_PROGRAM_LIMIT_EXCEEDED;
			break;
		case ONT_ERR_NOMEM:
			sqlstate = ERRCODE_OUT_OF_MEMORY;
			break;
		case ONT_ERR_NO_REQUEST:
		case ONT_ERR_AMBIGUOUS:
		case ONT_ERR_VALUE:
		default:
			sqlstate = ERRCODE_INVALID_PARAMETER_VALUE;
			break;
	}
	/*
	 * The parser links without the backend, so it composes its messages
	 * itself (in PostgreSQL's style); only a detail that is libxml2's own
	 * text is reported as internal.
	 */
	ereport(ERROR,
			(errcode(sqlstate),
			 errmsg("%s", req->errmsg),
			 req->errdetail[0] == '\0' ? 0 :
			 req->errdetail_is_libxml2 ?
			 errdetail_internal("%s", req->errdetail) :
			 errdetail("%s", req->errdetail)));
	pg_unreachable();
}

/* absent or 0 means the Java cell's default; negative is refused earlier */
int32
ont_max_rows(int64 requested)
{
	if (requested < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid max_rows: \"" INT64_FORMAT "\"", requested),
				 errdetail("max_rows must be zero (the default of %d rows) or positive.",
						   ONT_DEFAULT_MAX_ROWS)));
	if (requested == 0)
		return ONT_DEFAULT_MAX_ROWS;
	return (int32) Min(requested, PG_INT32_MAX);
}

/*
 * Place an xs:dateTime in time: with an offset it is that instant; without
 * one it is a wall-clock time in the session's TimeZone (the table's zone,
 * when ontstatus.table_time_zone is set: the callers run this inside it).
 * The result is a timestamptz, which the query compares with timestamp,
 * timestamptz or date columns through PostgreSQL's cross-type operators,
 * all in that same zone.
 */
static TimestampTz
datetime_to_timestamptz(const OntDateTime *dt, const char *what)
{
	struct pg_tm tm;
	int			tz;
	TimestampTz result;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = dt->year;
	tm.tm_mon = dt->month;
	tm.tm_mday = dt->day;
	tm.tm_hour = dt->hour;
	tm.tm_min = dt->minute;
	tm.tm_sec = dt->second;

	/* PostgreSQL counts zone offsets in seconds west of Greenwich */
	if (dt->has_offset)
		tz = -dt->offset_seconds;
	else
		tz = DetermineTimeZoneOffset(&tm, session_timezone);

	if (tm2timestamp(&tm, dt->usec, &tz, &result) != 0 ||
		!IS_VALID_TIMESTAMP(result))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("value for %s is out of range", what),
				 errdetail("The time is outside the range of timestamp with time zone.")));
	return result;
}

/* The SQL-level query a parsed request asks for. */
void
ont_query_from_request(const OntRequest *req, OntStatusQuery *q)
{
	static const char *const bound_names[ONT_NUM_TIME_BOUNDS] = {
		"process_start_date/start_time", "process_start_date/end_time",
		"process_end_date/start_time", "process_end_date/end_time"
	};

	memset(q, 0, sizeof(*q));
	/* as in the cell, which filters only on an id > 0 */
	q->has_process_id = req->has_process_id && req->process_id > 0;
	q->process_id = req->process_id;
	q->process_type_cd = req->process_type_cd;
	q->process_status_cd = req->process_status_cd;
	for (int i = 0; i < ONT_NUM_TIME_BOUNDS; i++)
	{
		q->has_time[i] = req->has_time[i];
		if (req->has_time[i])
			q->time[i] = datetime_to_timestamptz(&req->time[i], bound_names[i]);
	}
	q->max_rows = ont_max_rows(req->max_return_records);
}
