/*-------------------------------------------------------------------------
 *
 * request_events.h
 *	  What the two readers of a request deliver to the request grammar.
 *
 * A request is read either by libxml2's SAX2 parser (request_parser.c) or
 * by the fast path (request_fast_path.c); both deliver the same events -
 * an element starts, with its namespace URI and its attributes in SAX2's
 * layout; text; an element ends - to the one grammar in request_parser.c,
 * which extracts the fields and judges their values.  Private to those two
 * files (and, like them, free of the backend: test/fuzz links them alone).
 *
 *-------------------------------------------------------------------------
 */
#ifndef ONTSTATUS_REQUEST_EVENTS_H
#define ONTSTATUS_REQUEST_EVENTS_H

#include <stdbool.h>
#include <stddef.h>

#include <libxml/xmlstring.h>

/* test/fuzz builds with a low limit, where a miscount shows in small inputs */
#ifndef ONT_MAX_ATTRIBUTES
#define ONT_MAX_ATTRIBUTES 100
#endif
#define ONT_MAX_NAMESPACES 100
#define ONT_MAX_DEPTH 200

typedef struct ParseCtx ParseCtx;

/*
 * An element starts: its local name and namespace URI (NULL: none), and
 * its attributes other than namespace declarations, five pointers each as
 * SAX2 gives them: local name, prefix, URI, value, end of value.  Names and
 * URIs are NUL-terminated; values are not.
 */
extern void ont_event_start(ParseCtx *pc, const xmlChar *localname,
							const xmlChar *uri, int nb_attributes,
							const xmlChar **attributes);
extern void ont_event_end(ParseCtx *pc);
extern void ont_event_text(ParseCtx *pc, const xmlChar *ch, int len);

/* Has a handler cut the reading short (a limit, out of memory)? */
extern bool ont_event_stopped(const ParseCtx *pc);

/*
 * The fast path: true when it has read the whole request (or a handler
 * stopped it), every event delivered; false when it declines, with events
 * perhaps delivered, and the caller starts again with libxml2.
 */
extern bool ont_fast_read(const char *buf, size_t len, ParseCtx *pc);

#endif							/* ONTSTATUS_REQUEST_EVENTS_H */
