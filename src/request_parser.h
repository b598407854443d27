/*-------------------------------------------------------------------------
 *
 * request_parser.h
 *	  The get_ont_process_status request as parsed from XML.
 *
 * The interface of the request's guards and readers, shared by the backend
 * (request.c) and the harnesses (test/fuzz, bench/request_parse.c).  This
 * header and the files behind it (request_guards.c, request_fast_path.c,
 * request_libxml2.c, request_parser.c) deliberately depend on libxml2 and
 * the C library only, never on the backend: the fuzzer in test/fuzz links
 * them alone.  Everything the parser allocates comes from the caller's
 * allocator, every error is returned as data, and the parser never
 * longjmps.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ONTSTATUS_REQUEST_PARSER_H
#define ONTSTATUS_REQUEST_PARSER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ONT_HIVE_NS "http://www.i2b2.org/xsd/hive/msg/1.1/"
#define ONT_CELL_NS "http://www.i2b2.org/xsd/cell/ont/1.1/"

/* Kinds of failure; the backend maps each to an SQLSTATE. */
typedef enum OntParseError
{
	ONT_OK = 0,
	ONT_ERR_XML,				/* not well-formed, or refused (DOCTYPE) */
	ONT_ERR_NO_REQUEST,			/* no get_ont_process_status element */
	ONT_ERR_AMBIGUOUS,			/* the same filter given twice */
	ONT_ERR_SYNTAX,				/* a number that is not a number */
	ONT_ERR_RANGE,				/* a number beyond its type */
	ONT_ERR_VALUE,				/* a well-formed but unacceptable value */
	ONT_ERR_DATETIME_FORMAT,	/* not an xs:dateTime */
	ONT_ERR_DATETIME_RANGE,		/* an xs:dateTime with a field out of range */
	ONT_ERR_TOO_LARGE,			/* longer than the caller allows */
	ONT_ERR_NOMEM				/* the allocator said no */
} OntParseError;

/* An xs:dateTime, checked field by field but not yet placed in time. */
typedef struct OntDateTime
{
	int			year;
	int			month;
	int			day;
	int			hour;
	int			minute;
	int			second;
	int			usec;			/* fraction, truncated to microseconds */
	bool		has_offset;
	int			offset_seconds; /* east of UTC, as written (+05:30 = 19800) */
} OntDateTime;

/* The four time bounds, in the order the request lists them. */
typedef enum OntTimeBound
{
	ONT_STARTED_FROM = 0,		/* process_start_date/start_time */
	ONT_STARTED_TO,				/* process_start_date/end_time */
	ONT_ENDED_FROM,				/* process_end_date/start_time */
	ONT_ENDED_TO,				/* process_end_date/end_time */
	ONT_NUM_TIME_BOUNDS
} OntTimeBound;

#define ONT_ERRMSG_LEN 512

/*
 * The parsed request.  Strings are UTF-8 and NUL-terminated; NULL means the
 * element was absent (or, for a filter, empty: "no filter").
 */
typedef struct OntRequest
{
	/* message_header fields the response echoes */
	bool		enveloped;		/* full i2b2 request, not a bare element */
	char	   *sending_app_name;
	char	   *sending_app_version;
	char	   *sending_facility;
	char	   *security_domain;
	char	   *security_username;
	char	   *session_id;
	char	   *message_num;
	char	   *project_id;

	/* filters */
	bool		has_process_id;
	int64_t		process_id;
	char	   *process_type_cd;
	char	   *process_status_cd;
	bool		has_time[ONT_NUM_TIME_BOUNDS];
	OntDateTime time[ONT_NUM_TIME_BOUNDS];
	int32_t		max_return_records; /* 0 when absent */

	/* the first error met; header fields parsed before it stay valid */
	OntParseError error;
	char		errmsg[ONT_ERRMSG_LEN];
	char		errdetail[ONT_ERRMSG_LEN];
	bool		errdetail_is_libxml2;	/* errdetail is libxml2's own text */
} OntRequest;

/* Returns NULL when out of memory; the parser then fails cleanly. */
typedef void *(*OntAllocFn) (void *arg, size_t size);

/*
 * Reading a request: the guards, then one of two readers.
 *
 *	  OntGuardVerdict v;
 *
 *	  if (!ont_guard_request(buf, len, req, &v))
 *		  refused before parsing: req->error and req->errmsg say why
 *	  else if (ont_read_request_fast(buf, len, &v, req, alloc, arg) == ONT_FAST_READ)
 *		  read by the fast path: req holds the request, or its error
 *	  else
 *		  ok = ont_read_request_libxml2(buf, len, &v, req, &state, alloc, arg);
 *
 * The guards (request_guards.c) judge the request's bytes before either
 * reader sees them: its size, UTF-8 without NUL, the attributes of every
 * start tag (the pre-scan), the number of namespace declarations and
 * DOCTYPE.  They run once per request, whoever reads it; their refusal
 * stands whatever the request holds, and their verdict is passed to the
 * reader, which relies on it (and on what else the pass learnt of the
 * bytes) rather than judging again.  Each call counts one pass
 * (ont_guard_passes), so that the backend and the harnesses can show it.
 *
 * The fast path (request_fast_path.c) reads the common shape of a request
 * without libxml2 and declines anything else; libxml2 (request_libxml2.c)
 * reads everything and is the reference.  Both deliver the same events to
 * the one grammar (request_parser.c), so a request read by either comes to
 * the same OntRequest; test/fuzz checks that on every input.  Declining
 * leaves nothing behind (no libxml2 is set up for it at all), so that a
 * caller can set libxml2 up (pg_xml_init) only when it is needed; and a
 * caller may call either reader alone (libxml2 is the reference the
 * harnesses compare the fast path with).  Each reader starts *req afresh;
 * given a verdict that did not pass, it reads nothing and leaves *req as
 * the guards left it (the fast path returns ONT_FAST_READ, libxml2 false).
 *
 * All three report errors as data and never longjmp; everything they
 * allocate comes from alloc.  Only the libxml2 reader holds objects that
 * must be freed: it frees them before returning, and ont_parse_cleanup
 * frees them on a caller's error path (a longjmp out of alloc).
 */

/* What the guards said of a request, and what their pass learnt of it. */
typedef struct OntGuardVerdict
{
	bool		passed;			/* no guard refused it (else read by neither) */
	bool		all_chars;		/* every character is an XML Char: the fast */
								/* path need not look at them one by one */
} OntGuardVerdict;

/*
 * The guards, once per request: true when none refuses it (*req is left
 * alone: the reader starts it afresh); false, with req->error set and
 * nothing else in *req, when one does.
 */
extern bool ont_guard_request(const char *buf, size_t len, OntRequest *req,
							  OntGuardVerdict *verdict);

/* Guard passes so far in this process: one per ont_guard_request call. */
extern unsigned long ont_guard_passes(void);

typedef enum OntFastResult
{
	ONT_FAST_DECLINED = 0,		/* not read: libxml2's to read */
	ONT_FAST_READ				/* read: *req holds the request or its error */
} OntFastResult;

/*
 * The fast path, for a request the guards passed (verdict->passed).  When
 * it declines, *req is empty: nothing of the attempt is kept.
 */
extern OntFastResult ont_read_request_fast(const char *buf, size_t len,
										   const OntGuardVerdict *verdict,
										   OntRequest *req,
										   OntAllocFn alloc, void *alloc_arg);

/*
 * The libxml2 objects of one reading by libxml2.  Kept by the caller so
 * that a caller whose allocator or error handler may longjmp can free them
 * on its error path; such a caller must keep the state where a longjmp
 * leaves it intact (not in a non-volatile local of the function that
 * called setjmp).
 */
typedef struct OntParseState
{
	void	   *ctxt;			/* xmlParserCtxtPtr */
	bool		saw_doctype;
	void	   *reading;		/* the reading in progress (private) */
} OntParseState;

/*
 * libxml2, for a request the guards passed: true when the request is read
 * and valid; false with req->error, req->errmsg and req->errdetail saying
 * why.  Frees what it created in *state before returning.
 */
extern bool ont_read_request_libxml2(const char *buf, size_t len,
									 const OntGuardVerdict *verdict,
									 OntRequest *req, OntParseState *state,
									 OntAllocFn alloc, void *alloc_arg);

/* Free whatever *state still holds; safe to call more than once. */
extern void ont_parse_cleanup(OntParseState *state);

/* Parse one xs:dateTime (trimmed); exposed for tests of the parser alone. */
extern OntParseError ont_parse_datetime(const char *s, OntDateTime *dt);

#endif							/* ONTSTATUS_REQUEST_PARSER_H */
