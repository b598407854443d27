/*-------------------------------------------------------------------------
 *
 * request_parser.h
 *	  The get_ont_process_status request as parsed from XML.
 *
 * This header and request_parser.c deliberately depend on libxml2 and the
 * C library only, never on the backend: the fuzzer in test/fuzz links them
 * alone.  Everything the parser allocates comes from the caller's allocator,
 * every error is returned as data, and the parser never longjmps.
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

#define ONT_ERRMSG_LEN 256

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
} OntRequest;

/* Returns NULL when out of memory; the parser then fails cleanly. */
typedef void *(*OntAllocFn) (void *arg, size_t size);

/*
 * libxml2 objects of one parse.  Kept by the caller so that a caller whose
 * allocator or error handler may longjmp can free them on its error path;
 * such a caller must keep the state where a longjmp leaves it intact (not
 * in a non-volatile local of the function that called setjmp).
 */
typedef struct OntParseState
{
	void	   *ctxt;			/* xmlParserCtxtPtr */
	bool		saw_doctype;
	void	   *owner;			/* the parse in progress (private) */
	bool		fast_path;		/* read by the fast path, not libxml2 */
	bool		declined;		/* ONT_PARSE_FAST: the fast path declined */
} OntParseState;

/*
 * Who reads the request.  The fast path (request_fast_path.c) reads the
 * common shape of a request without libxml2 and declines anything else;
 * libxml2 reads everything and is the reference.  ONT_PARSE_ANY is the
 * fast path, then libxml2 when it declines.  ONT_PARSE_FAST never calls
 * libxml2: when the fast path declines it returns false with
 * state->declined set and nothing in *req, so that a caller can set
 * libxml2 up (pg_xml_init) only when it is needed, and the differential
 * fuzzer can compare the two.  ONT_PARSE_LIBXML2 is libxml2 alone.
 */
typedef enum OntParseMode
{
	ONT_PARSE_ANY,
	ONT_PARSE_FAST,
	ONT_PARSE_LIBXML2
} OntParseMode;

/*
 * Parse len bytes of UTF-8 XML into *req.  Returns true on success; on
 * failure req->error, req->errmsg and req->errdetail say why.  Always frees
 * what it created in *state before returning.
 */
extern bool ont_parse_request(const char *buf, size_t len, OntRequest *req,
							  OntParseState *state,
							  OntAllocFn alloc, void *alloc_arg);
extern bool ont_parse_request_mode(const char *buf, size_t len, OntRequest *req,
								   OntParseState *state,
								   OntAllocFn alloc, void *alloc_arg,
								   OntParseMode mode);

/* Free whatever *state still holds; safe to call more than once. */
extern void ont_parse_cleanup(OntParseState *state);

/* Parse one xs:dateTime (trimmed); exposed for tests of the parser alone. */
extern OntParseError ont_parse_datetime(const char *s, OntDateTime *dt);

#endif							/* ONTSTATUS_REQUEST_PARSER_H */
