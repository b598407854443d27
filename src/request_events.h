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

/*
 * Length of the UTF-8 sequence at p, or 0 when it is NUL or not UTF-8:
 * overlong forms, surrogates and code points beyond U+10FFFF are refused,
 * as PostgreSQL's own check refuses them, so that nothing the server takes
 * for UTF-8 is refused here.
 */
static inline int
ont_utf8_len(const unsigned char *p, const unsigned char *end)
{
	unsigned char lo = 0x80;
	unsigned char hi = 0xBF;
	int			n;

	if (p[0] == 0)
		return 0;
	if (p[0] < 0x80)
		return 1;
	if (p[0] < 0xC2)
		return 0;
	if (p[0] < 0xE0)
		n = 2;
	else if (p[0] < 0xF0)
	{
		n = 3;
		if (p[0] == 0xE0)
			lo = 0xA0;
		else if (p[0] == 0xED)
			hi = 0x9F;
	}
	else if (p[0] < 0xF5)
	{
		n = 4;
		if (p[0] == 0xF0)
			lo = 0x90;
		else if (p[0] == 0xF4)
			hi = 0x8F;
	}
	else
		return 0;
	if (end - p < n || p[1] < lo || p[1] > hi)
		return 0;
	for (int i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xBF)
			return 0;
	return n;
}

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

/*
 * Has a handler cut the reading short (a limit, out of memory)?  The flag
 * itself, so that a reader can look at it after every event for nothing.
 */
extern const bool *ont_event_stopped_flag(const ParseCtx *pc);

/*
 * The fast path: true when it has read the whole request (or a handler
 * stopped it), every event delivered; false when it declines, with events
 * perhaps delivered, and the caller starts again with libxml2.
 */
extern bool ont_fast_read(const char *buf, size_t len, ParseCtx *pc);

#endif							/* ONTSTATUS_REQUEST_EVENTS_H */
