/*-------------------------------------------------------------------------
 *
 * request_libxml2.c
 *	  The request read by libxml2's SAX2 parser: the reference reader, for
 *	  every request the fast path declines.
 *
 * libxml2 is used through SAX2 callbacks: no tree is built.  The callbacks
 * deliver libxml2's events to the grammar (request_parser.c) as the fast
 * path delivers its own (request_events.h), and stop libxml2 when the
 * grammar cuts the reading short.  This takes half the time of building a
 * tree, and the parser's own checks - well-formedness, namespaces, nesting
 * depth, the size of text - are the same.  It reads only requests the
 * guards (request_guards.c) passed: no start tag with too many attributes
 * or too many namespace declarations reaches libxml2.
 *
 * What this reading refuses, and why:
 * - No DTD is ever read: a DOCTYPE is refused by the guards, and should
 *   libxml2 meet one they missed, it stops the parse at once (SOAP-style
 *   messages never carry one), so there is no entity expansion and
 *   nothing is fetched.  XML_PARSE_NONET forbids the network besides, and
 *   without XML_PARSE_HUGE libxml2 limits nesting depth and text node
 *   sizes (ONT_XML_PARSE_OPTIONS, libxml_compat.h: no NOENT, DTDLOAD,
 *   DTDATTR or HUGE).
 * - libxml2's own errors and warnings go to a handler of the parse, never
 *   to the client or the log: what the caller sees is the parser's message,
 *   with libxml2's first error reduced to printable ASCII.
 * - A document that is not well-formed is reported as such, even when a
 *   bad value came before the point where it breaks: as a tree parser would.
 *
 * This file does not include postgres.h on purpose: it is linked alone
 * into the libFuzzer harness (test/fuzz).  The backend (request.c) wraps
 * it in pg_xml_init/PG_TRY and frees the state on its error path.
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <string.h>

#include "libxml_compat.h"
#include "request_events.h"
#include "request_parser.h"

/* One reading by libxml2: the grammar's, and libxml2's first error. */
typedef struct SaxReading
{
	OntReading	rd;
	OntParseState *state;

	/* the first error libxml2 reported, as it reported it */
	bool		has_xml_error;
	int			xml_error_line;
	char		xml_error[160];
} SaxReading;

static SaxReading *
sax_reading(void *ctx)
{
	return (SaxReading *) ((OntParseState *) ((xmlParserCtxtPtr) ctx)->_private)->reading;
}

/* The grammar cut the reading short: so does libxml2. */
static inline void
stop_if_stopped(void *ctx, const SaxReading *sr)
{
	if (sr->rd.stopped)
		xmlStopParser((xmlParserCtxtPtr) ctx);
}

static void
sax_start_element(void *ctx, const xmlChar *localname, const xmlChar *prefix,
				  const xmlChar *URI, int nb_namespaces,
				  const xmlChar **namespaces, int nb_attributes,
				  int nb_defaulted, const xmlChar **attributes)
{
	SaxReading *sr = sax_reading(ctx);

	(void) prefix;
	(void) nb_namespaces;
	(void) namespaces;
	(void) nb_defaulted;
	ont_event_start(&sr->rd, localname, URI, nb_attributes, attributes);
	stop_if_stopped(ctx, sr);
}

static void
sax_end_element(void *ctx, const xmlChar *localname, const xmlChar *prefix,
				const xmlChar *URI)
{
	SaxReading *sr = sax_reading(ctx);

	(void) localname;
	(void) prefix;
	(void) URI;
	ont_event_end(&sr->rd);
	stop_if_stopped(ctx, sr);
}

static void
sax_characters(void *ctx, const xmlChar *ch, int len)
{
	SaxReading *sr = sax_reading(ctx);

	ont_event_text(&sr->rd, ch, len);
	stop_if_stopped(ctx, sr);
}

/*
 * libxml2's structured error handler for this parse.  Every error and
 * warning libxml2 raises about the document comes here rather than to the
 * handler pg_xml_init installed, which would send warnings (an XML 1.1
 * declaration, an odd xml:space value) straight to the client and the
 * server log, the offending line of the request quoted, and would keep
 * errors with the request text for an xml_ereport nobody calls.  The first
 * error is kept for the cleaned message ont_read_request_libxml2 builds:
 * it names the fault, later ones its consequences, which libxml2 versions
 * report differently (2.9 adds "Premature end of data" to a mismatched end
 * tag, 2.15 does not).  Warnings are dropped, as the request is read the
 * same either way.  No allocation, no longjmp: libxml2 is in the middle of
 * parsing.
 */
static void
sax_error(void *ctx, OntXmlErrorPtr err)
{
	SaxReading *sr = sax_reading(ctx);

	if (err == NULL || err->level < XML_ERR_ERROR || sr->has_xml_error)
		return;
	sr->has_xml_error = true;
	sr->xml_error_line = err->line;
	snprintf(sr->xml_error, sizeof(sr->xml_error), "%s",
			 err->message ? err->message : "unknown error");
}

/*
 * SAX hook for <!DOCTYPE: refuse before the internal subset is even read,
 * so no entity is declared, let alone expanded.
 */
static void
refuse_doctype(void *ctx, const xmlChar *name, const xmlChar *external_id,
			   const xmlChar *system_id)
{
	xmlParserCtxtPtr ctxt = (xmlParserCtxtPtr) ctx;
	OntParseState *state = (OntParseState *) ctxt->_private;

	(void) name;
	(void) external_id;
	(void) system_id;
	state->saw_doctype = true;
	xmlStopParser(ctxt);
}

void
ont_parse_cleanup(OntParseState *state)
{
	if (state->ctxt)
		xmlFreeParserCtxt((xmlParserCtxtPtr) state->ctxt);
	state->ctxt = NULL;
}

/* libxml2's first error, as the request's detail: "line N: message", cleaned. */
static void
refuse_not_well_formed(SaxReading *sr, bool well_formed)
{
	char		msg[sizeof(sr->xml_error)];
	char		full[ONT_ERRMSG_LEN];
	size_t		n;

	/*
	 * libxml2's messages end in a newline and may quote names from the
	 * document; keep printable ASCII only, as the grammar quotes values.
	 */
	snprintf(msg, sizeof(msg), "%s",
			 sr->has_xml_error ? sr->xml_error : "unknown error");
	for (n = 0; msg[n]; n++)
		if (msg[n] < 0x20 || msg[n] >= 0x7f)
			msg[n] = ' ';
	while (n > 0 && msg[n - 1] == ' ')
		msg[--n] = '\0';
	snprintf(full, sizeof(full), "line %d: %s",
			 sr->has_xml_error ? sr->xml_error_line : 0, msg);
	if (ont_request_override_error(sr->rd.req, ONT_ERR_XML, full,
								   well_formed ? "request is not namespace-well-formed XML" :
								   "request is not well-formed XML"))
		sr->rd.req->errdetail_is_libxml2 = true;
}

bool
ont_read_request_libxml2(const char *buf, size_t len,
						 const OntGuardVerdict *verdict, OntRequest *req,
						 OntParseState *state, OntAllocFn alloc, void *alloc_arg)
{
	SaxReading	sr;
	xmlParserCtxtPtr ctxt;
	xmlSAXHandlerPtr sax;
	bool		well_formed;

	memset(state, 0, sizeof(*state));
	if (!verdict->passed)
		return false;			/* refused: *req says why */
	memset(&sr, 0, sizeof(sr));
	ont_reading_start(&sr.rd, req, alloc, alloc_arg);
	sr.state = state;
	state->reading = &sr;

	ctxt = xmlNewParserCtxt();
	if (ctxt == NULL)
		return ont_request_error(req, ONT_ERR_NOMEM, NULL, "out of memory");
	state->ctxt = ctxt;
	ctxt->_private = state;

	/* our handlers only: no tree, no entity lookups, no DTD */
	sax = ctxt->sax;
	memset(sax, 0, sizeof(*sax));
	sax->initialized = XML_SAX2_MAGIC;
	sax->startElementNs = sax_start_element;
	sax->endElementNs = sax_end_element;
	sax->characters = sax_characters;
	sax->ignorableWhitespace = sax_characters;
	sax->cdataBlock = sax_characters;
	sax->internalSubset = refuse_doctype;
	sax->serror = sax_error;

	/* the guards passed it: its length fits in an int */
	(void) xmlCtxtReadMemory(ctxt, buf, (int) len, NULL, NULL,
							 ONT_XML_PARSE_OPTIONS);

	/*
	 * A parse the grammar stopped (a limit, out of memory) met no fault of
	 * well-formedness before (libxml2 calls no handler after one), though
	 * from 2.13 on libxml2 marks the stop itself as one: the grammar's
	 * error, or an earlier one of a value, is the verdict then, as on 2.9
	 * and with the fast path.  A namespace fault does not stop the
	 * handlers, and still counts.
	 */
	well_formed = ctxt->wellFormed || sr.rd.stopped;
	if (state->saw_doctype)
		ont_request_override_error(req, ONT_ERR_XML, ONT_DOCTYPE_DETAIL,
								   ONT_DOCTYPE_MSG);
	else if (!well_formed || !ctxt->nsWellFormed)
		refuse_not_well_formed(&sr, well_formed);
	else
		(void) ont_reading_finish(&sr.rd);

	ont_parse_cleanup(state);
	state->reading = NULL;
	return req->error == ONT_OK;
}
