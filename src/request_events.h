/*-------------------------------------------------------------------------
 *
 * request_events.h
 *	  The request grammar (request_parser.c), as its readers and the guards
 *	  see it: a reading, the events a reader delivers to it, and the
 *	  recording of errors.
 *
 * A request is read either by libxml2's SAX2 parser (request_libxml2.c) or
 * by the fast path (request_fast_path.c); both deliver the same events -
 * an element starts, with its namespace URI and its attributes in SAX2's
 * layout; text; an element ends - to the one grammar, which extracts the
 * fields and judges their values.  The grammar calls neither reader: a
 * reader learns that the grammar cut the reading short (a limit, out of
 * memory) from the reading's stopped flag, after each event.
 *
 * Private to those files and the guards (request_guards.c), which share
 * the limits and the error recording; like them, free of the backend:
 * test/fuzz links them alone.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ONTSTATUS_REQUEST_EVENTS_H
#define ONTSTATUS_REQUEST_EVENTS_H

#include <stdbool.h>
#include <stddef.h>

#include <libxml/xmlstring.h>

#include "request_parser.h"

/* test/fuzz builds with a low limit, where a miscount shows in small inputs */
#ifndef ONT_MAX_ATTRIBUTES
#define ONT_MAX_ATTRIBUTES 100
#endif
#define ONT_MAX_NAMESPACES 100
#define ONT_MAX_DEPTH 200

#define ONT_STRINGIFY(x) ONT_STRINGIFY2(x)
#define ONT_STRINGIFY2(x) #x

/* What an open element is to the grammar. */
typedef enum OntRole
{
	R_IGNORE = 0,				/* unknown, or below what we read */
	R_DOCUMENT,					/* (the parent of the root element) */
	R_REQUEST,					/* the i2b2 envelope */
	R_HEADER,					/* message_header */
	R_APP,						/* message_header/sending_application */
	R_FACILITY,					/* message_header/sending_facility */
	R_SECURITY,					/* message_header/security */
	R_CONTROL,					/* message_header/message_control_id */
	R_BODY,						/* message_body */
	R_OPS,						/* get_ont_process_status */
	R_START_DATE,				/* process_start_date */
	R_END_DATE,					/* process_end_date */
	R_FIELD						/* an element whose text we collect */
} OntRole;

/* the rules of the grammar (request_parser.c checks the number) */
#define ONT_GRAMMAR_RULES 26
/* Our roles nest at most 5 deep (request/message_body/ops/range/time). */
#define ONT_MAX_FRAMES 8

struct OntGrammarRule;

typedef struct OntFrame
{
	OntRole		role;
	int			field;			/* R_FIELD: which */
	const char *ns;				/* namespace its children may be in */
	const struct OntGrammarRule *rule;	/* the rule it matched, if any */
} OntFrame;

/*
 * One reading of a request by the grammar.  A reader keeps it (on its
 * stack) and reads `stopped`; all else is the grammar's.
 */
typedef struct OntReading
{
	OntRequest *req;
	OntAllocFn	alloc;
	void	   *alloc_arg;

	int			depth;			/* open elements */
	OntFrame	frames[ONT_MAX_FRAMES];

	/* each known element is read the first time only */
	bool		seen[ONT_GRAMMAR_RULES];
	int			ops_count;		/* get_ont_process_status elements */

	/* the text of the field being read */
	char	   *text;
	size_t		text_len;
	size_t		text_cap;

	bool		stopped;		/* the grammar cut the reading short */
} OntReading;

/* A reading starts: *req is emptied, nothing of an earlier one is kept. */
extern void ont_reading_start(OntReading *rd, OntRequest *req,
							  OntAllocFn alloc, void *alloc_arg);

/*
 * An element starts: its local name and namespace URI (NULL: none), and
 * its attributes other than namespace declarations, five pointers each as
 * SAX2 gives them: local name, prefix, URI, value, end of value.  Names and
 * URIs are NUL-terminated; values are not.  After any event the reader
 * stops when rd->stopped is set, delivering nothing more.
 */
extern void ont_event_start(OntReading *rd, const xmlChar *localname,
							const xmlChar *uri, int nb_attributes,
							const xmlChar **attributes);
extern void ont_event_end(OntReading *rd);
extern void ont_event_text(OntReading *rd, const xmlChar *ch, int len);

/*
 * Does the grammar keep text now: is an element open whose text it
 * collects?  Text delivered otherwise is ignored, and a reader may leave
 * the event out.
 */
static inline bool
ont_reading_keeps_text(const OntReading *rd)
{
	return rd->depth > 0 && rd->depth <= ONT_MAX_FRAMES &&
		rd->frames[rd->depth - 1].role == R_FIELD;
}

/*
 * A reading of a well-formed document has ended (or was cut short): the
 * grammar's last word (a document without get_ont_process_status); true
 * when the request holds no error.
 */
extern bool ont_reading_finish(OntReading *rd);

/*
 * Record an error: the first one only, later ones are consequences.
 * Always returns false, so that callers can "return ont_request_error(...)".
 */
extern bool ont_request_error(OntRequest *req, OntParseError code,
							  const char *detail, const char *fmt,...)
			__attribute__((format(printf, 4, 5)));

/*
 * The same, for a message without variable text whose detail names what
 * the request held.
 */
extern bool ont_request_error_detail(OntRequest *req, OntParseError code,
									 const char *msg, const char *detail_fmt,...)
			__attribute__((format(printf, 4, 5)));

/*
 * Replace the first error with a fault of the document itself (DOCTYPE,
 * not well-formed), which matters more than any value in it - but not when
 * the reading was cut short on purpose (out of memory, a value too long).
 * True when it did.
 */
extern bool ont_request_override_error(OntRequest *req, OntParseError code,
									   const char *detail, const char *msg);

#ifdef ONT_GUARD_REFERENCE
/*
 * test/fuzz: the guards one by one, each over the whole request, to
 * compare ont_guard_request's one pass with (request_guards.c).
 */
extern bool ont_guard_request_reference(const char *buf, size_t len,
										OntRequest *req,
										OntGuardVerdict *verdict);
#endif

#define ONT_DOCTYPE_MSG "DOCTYPE is not allowed in a request"
#define ONT_DOCTYPE_DETAIL "The request contains a DOCTYPE declaration, which could define entities; requests must not contain one."

#endif							/* ONTSTATUS_REQUEST_EVENTS_H */
