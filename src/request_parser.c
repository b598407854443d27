/*-------------------------------------------------------------------------
 *
 * request_parser.c
 *	  Turn the XML of a get_ont_process_status request into an OntRequest.
 *
 * This file does not include postgres.h on purpose: it is linked alone into
 * the libFuzzer harness (test/fuzz), so it uses libxml2 and libc only,
 * allocates through the caller's allocator and reports errors as data.  The
 * backend side (request.c) wraps it in pg_xml_init/PG_TRY and maps errors
 * to SQLSTATEs.
 *
 * What the parser refuses or ignores, and why:
 * - No DTD is ever read: a DOCTYPE stops the parse at once (SOAP-style
 *   messages never carry one), so there is no entity expansion and nothing
 *   is fetched.  XML_PARSE_NONET forbids the network besides, and without
 *   XML_PARSE_HUGE libxml2 limits nesting depth and text node sizes.
 * - An empty (or blank) filter element means "no filter": the i2b2
 *   specification's own example sends <process_id/>.
 * - The same filter twice is an error: silently picking one would answer a
 *   question the client did not ask.
 * - Unknown elements are ignored, as JAXB does in the Java cell.
 * - An element with more than ONT_MAX_ATTRIBUTES attributes is refused
 *   before libxml2 sees it: libxml2 checks attributes for duplicates in
 *   quadratic time, and a 1 MB start tag of short attributes keeps it busy
 *   for minutes.  i2b2 elements carry a handful (namespace declarations
 *   included).
 *
 *-------------------------------------------------------------------------
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "request_parser.h"

#define ONT_MAX_ATTRIBUTES 100
#define ONT_STRINGIFY(x) ONT_STRINGIFY2(x)
#define ONT_STRINGIFY2(x) #x

typedef struct ParseCtx
{
	OntRequest *req;
	OntAllocFn	alloc;
	void	   *alloc_arg;
} ParseCtx;

static bool set_error(OntRequest *req, OntParseError code,
					  const char *detail, const char *fmt,...)
			__attribute__((format(printf, 4, 5)));

/*
 * Record the first error only; later ones are consequences.  Always returns
 * false so that callers can "return set_error(...)".
 */
static bool
set_error(OntRequest *req, OntParseError code, const char *detail,
		  const char *fmt,...)
{
	va_list		ap;

	if (req->error != ONT_OK)
		return false;
	req->error = code;
	va_start(ap, fmt);
	vsnprintf(req->errmsg, sizeof(req->errmsg), fmt, ap);
	va_end(ap);
	snprintf(req->errdetail, sizeof(req->errdetail), "%s", detail ? detail : "");
	return false;
}

/*
 * Copy a client-supplied value into an error message: at most 40 bytes,
 * printable ASCII only, so that a message is valid in any server encoding
 * and can never carry markup or control characters into a log.
 */
static const char *
quote_value(const char *s, char *out, size_t outlen)
{
	size_t		n = 0;
	size_t		max = outlen - 4;

	if (max > 40)
		max = 40;
	for (; *s && n < max; s++)
		out[n++] = (*s >= 0x20 && *s < 0x7f) ? *s : '?';
	if (*s)
	{
		memcpy(out + n, "...", 3);
		n += 3;
	}
	out[n] = '\0';
	return out;
}

static bool
is_xml_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Does node's namespace match ns?  NULL ns means "no namespace". */
static bool
ns_is(xmlNodePtr node, const char *ns)
{
	if (node->ns == NULL || node->ns->href == NULL)
		return ns == NULL;
	return ns != NULL && strcmp((const char *) node->ns->href, ns) == 0;
}

/*
 * Children of i2b2 elements are unqualified, but some clients qualify them
 * with the parent's namespace; both are accepted.
 */
static bool
is_child(xmlNodePtr node, const char *name, const char *parent_ns)
{
	return node->type == XML_ELEMENT_NODE &&
		strcmp((const char *) node->name, name) == 0 &&
		(ns_is(node, NULL) || ns_is(node, parent_ns));
}

/*
 * The character data directly inside an element, as one allocated string.
 * Returns NULL (with the error set) only when out of memory.
 */
static char *
element_text(ParseCtx *pc, xmlNodePtr elem)
{
	size_t		len = 0;
	char	   *result;
	char	   *p;

	for (xmlNodePtr c = elem->children; c; c = c->next)
		if ((c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) &&
			c->content)
			len += strlen((const char *) c->content);

	result = pc->alloc(pc->alloc_arg, len + 1);
	if (result == NULL)
	{
		set_error(pc->req, ONT_ERR_NOMEM, NULL, "out of memory");
		return NULL;
	}
	p = result;
	for (xmlNodePtr c = elem->children; c; c = c->next)
		if ((c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) &&
			c->content)
		{
			size_t		l = strlen((const char *) c->content);

			memcpy(p, c->content, l);
			p += l;
		}
	*p = '\0';
	return result;
}

/* Trim XML white space in place; returns the start of the trimmed text. */
static char *
trim(char *s)
{
	char	   *end;

	while (is_xml_space(*s))
		s++;
	end = s + strlen(s);
	while (end > s && is_xml_space(end[-1]))
		end--;
	*end = '\0';
	return s;
}

/*
 * Strict decimal integer: optional sign, at least one digit, nothing else.
 */
static OntParseError
parse_int64(const char *s, int64_t min, int64_t max, int64_t *result)
{
	bool		neg = false;
	uint64_t	acc = 0;
	uint64_t	limit;

	if (*s == '+' || *s == '-')
		neg = (*s++ == '-');
	if (*s == '\0')
		return ONT_ERR_SYNTAX;
	limit = neg ? (uint64_t) (-(min + 1)) + 1 : (uint64_t) max;
	for (; *s; s++)
	{
		if (*s < '0' || *s > '9')
			return ONT_ERR_SYNTAX;
		if (acc > (limit - (uint64_t) (*s - '0')) / 10)
		{
			/* keep scanning: "99999999999999999999x" is a syntax error */
			for (s++; *s; s++)
				if (*s < '0' || *s > '9')
					return ONT_ERR_SYNTAX;
			return ONT_ERR_RANGE;
		}
		acc = acc * 10 + (uint64_t) (*s - '0');
	}
	*result = neg ? (int64_t) (0 - acc) : (int64_t) acc;
	return ONT_OK;
}

static int
digits(const char **p, int n)
{
	int			v = 0;

	for (int i = 0; i < n; i++)
	{
		if ((*p)[i] < '0' || (*p)[i] > '9')
			return -1;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	return v;
}

static bool
is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/*
 * Strict xs:dateTime, YYYY-MM-DDThh:mm:ss[.fraction][Z|(+|-)hh:mm], white
 * space around it already trimmed.  Four-digit years only (0001-9999), and
 * no 24:00:00: neither occurs in i2b2 traffic, and refusing them keeps the
 * rules short.  A fraction beyond microseconds is truncated.
 */
OntParseError
ont_parse_datetime(const char *s, OntDateTime *dt)
{
	static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	const char *p = s;
	int			dim;

	memset(dt, 0, sizeof(*dt));
	if ((dt->year = digits(&p, 4)) < 0 || *p++ != '-' ||
		(dt->month = digits(&p, 2)) < 0 || *p++ != '-' ||
		(dt->day = digits(&p, 2)) < 0 || *p++ != 'T' ||
		(dt->hour = digits(&p, 2)) < 0 || *p++ != ':' ||
		(dt->minute = digits(&p, 2)) < 0 || *p++ != ':' ||
		(dt->second = digits(&p, 2)) < 0)
		return ONT_ERR_DATETIME_FORMAT;
	if (*p == '.')
	{
		int			scale = 100000;

		p++;
		if (*p < '0' || *p > '9')
			return ONT_ERR_DATETIME_FORMAT;
		for (; *p >= '0' && *p <= '9'; p++)
		{
			dt->usec += (*p - '0') * scale;
			scale /= 10;
		}
	}
	if (*p == 'Z')
	{
		dt->has_offset = true;
		p++;
	}
	else if (*p == '+' || *p == '-')
	{
		int			sign = (*p++ == '-') ? -1 : 1;
		int			oh,
					om;

		if ((oh = digits(&p, 2)) < 0 || *p++ != ':' || (om = digits(&p, 2)) < 0)
			return ONT_ERR_DATETIME_FORMAT;
		if (om > 59 || oh * 60 + om > 14 * 60)
			return ONT_ERR_DATETIME_RANGE;
		dt->has_offset = true;
		dt->offset_seconds = sign * (oh * 3600 + om * 60);
	}
	if (*p != '\0')
		return ONT_ERR_DATETIME_FORMAT;

	if (dt->year < 1 || dt->month < 1 || dt->month > 12 || dt->day < 1 ||
		dt->hour > 23 || dt->minute > 59 || dt->second > 59)
		return ONT_ERR_DATETIME_RANGE;
	dim = mdays[dt->month - 1] + (dt->month == 2 && is_leap(dt->year));
	if (dt->day > dim)
		return ONT_ERR_DATETIME_RANGE;
	return ONT_OK;
}

/*
 * Each filter may appear once.  seen[] is indexed by the caller's slot.
 */
static bool
first_time(ParseCtx *pc, bool *seen, const char *what)
{
	if (*seen)
		return set_error(pc->req, ONT_ERR_AMBIGUOUS,
						 "Each filter may appear at most once in a request.",
						 "ambiguous request: more than one %s element", what);
	*seen = true;
	return true;
}

/* An optional code filter: blank means no filter, anything else is exact. */
static bool
parse_code(ParseCtx *pc, xmlNodePtr elem, bool *seen, char **result)
{
	char	   *text;
	const char *p;

	if (!first_time(pc, seen, (const char *) elem->name))
		return false;
	if ((text = element_text(pc, elem)) == NULL)
		return false;
	for (p = text; is_xml_space(*p); p++)
		;
	*result = (*p == '\0') ? NULL : text;
	return true;
}

/*
 * The trimmed text of a value element; *text is NULL when it is blank
 * ("no filter").  Returns false only when out of memory.
 */
static bool
value_text(ParseCtx *pc, xmlNodePtr elem, char **text)
{
	char	   *raw = element_text(pc, elem);

	if (raw == NULL)
		return false;
	raw = trim(raw);
	*text = (*raw == '\0') ? NULL : raw;
	return true;
}

static bool
parse_time(ParseCtx *pc, xmlNodePtr elem, const char *path, OntTimeBound b)
{
	OntRequest *req = pc->req;
	char	   *text;
	char		q[48];
	OntParseError err;

	if (!value_text(pc, elem, &text))
		return false;
	if (text == NULL)
		return true;
	err = ont_parse_datetime(text, &req->time[b]);
	if (err == ONT_ERR_DATETIME_FORMAT)
		return set_error(req, err,
						 "Times must be xs:dateTime values: YYYY-MM-DDThh:mm:ss[.fraction][Z|(+|-)hh:mm].",
						 "invalid %s: \"%s\"", path, quote_value(text, q, sizeof(q)));
	if (err != ONT_OK)
		return set_error(req, err,
						 "A month, day, hour, minute, second or offset is out of range.",
						 "%s out of range: \"%s\"", path, quote_value(text, q, sizeof(q)));
	req->has_time[b] = true;
	return true;
}

/* process_start_date or process_end_date: a start_time/end_time pair. */
static bool
parse_range(ParseCtx *pc, xmlNodePtr range, bool *seen, OntTimeBound from)
{
	bool		seen_bound[2] = {false, false};
	char		path[64];

	if (!first_time(pc, seen, (const char *) range->name))
		return false;
	for (xmlNodePtr c = range->children; c; c = c->next)
	{
		int			i;

		if (is_child(c, "start_time", ONT_CELL_NS))
			i = 0;
		else if (is_child(c, "end_time", ONT_CELL_NS))
			i = 1;
		else
			continue;
		snprintf(path, sizeof(path), "%s/%s", range->name, c->name);
		if (!first_time(pc, &seen_bound[i], path) ||
			!parse_time(pc, c, path, (OntTimeBound) (from + i)))
			return false;
	}
	return true;
}

static bool
parse_process_id(ParseCtx *pc, xmlNodePtr elem, bool *seen)
{
	OntRequest *req = pc->req;
	char	   *text;
	char		q[48];
	OntParseError err;

	if (!first_time(pc, seen, "process_id") || !value_text(pc, elem, &text))
		return false;
	if (text == NULL)
		return true;
	err = parse_int64(text, INT64_MIN, INT64_MAX, &req->process_id);
	if (err == ONT_ERR_SYNTAX)
		return set_error(req, err, "process_id must be an integer.",
						 "invalid process_id: \"%s\"", quote_value(text, q, sizeof(q)));
	if (err == ONT_ERR_RANGE)
		return set_error(req, err, "process_id must fit in a bigint.",
						 "process_id out of range: \"%s\"", quote_value(text, q, sizeof(q)));
	req->has_process_id = true;
	return true;
}

static bool
parse_max_return_records(ParseCtx *pc, xmlNodePtr body)
{
	OntRequest *req = pc->req;

	for (xmlAttrPtr a = body->properties; a; a = a->next)
	{
		char		buf[64];
		char		q[48];
		size_t		len = 0;
		int64_t		v;
		OntParseError err;

		if (a->ns != NULL || strcmp((const char *) a->name, "max_return_records") != 0)
			continue;
		/* attribute values are short; anything long is garbage anyway */
		for (xmlNodePtr t = a->children; t; t = t->next)
		{
			size_t		l;

			if (t->type != XML_TEXT_NODE || t->content == NULL)
				continue;
			l = strlen((const char *) t->content);
			if (l > sizeof(buf) - 1 - len)
				l = sizeof(buf) - 1 - len;
			memcpy(buf + len, t->content, l);
			len += l;
		}
		buf[len] = '\0';
		err = parse_int64(trim(buf), INT32_MIN, INT32_MAX, &v);
		if (len == sizeof(buf) - 1 && err == ONT_OK)
			err = ONT_ERR_RANGE;
		if (err == ONT_ERR_SYNTAX)
			return set_error(req, err, "max_return_records must be an integer.",
							 "invalid max_return_records: \"%s\"",
							 quote_value(trim(buf), q, sizeof(q)));
		if (err == ONT_ERR_RANGE)
			return set_error(req, err, "max_return_records must fit in an integer.",
							 "max_return_records out of range: \"%s\"",
							 quote_value(trim(buf), q, sizeof(q)));
		if (v < 0)
			return set_error(req, ONT_ERR_VALUE,
							 "max_return_records must be zero (the default of 1000) or positive.",
							 "max_return_records must not be negative: %lld", (long long) v);
		req->max_return_records = (int32_t) v;
	}
	return true;
}

/* The filters inside get_ont_process_status. */
static bool
parse_body(ParseCtx *pc, xmlNodePtr body)
{
	OntRequest *req = pc->req;
	bool		seen[6] = {false};

	if (!parse_max_return_records(pc, body))
		return false;
	for (xmlNodePtr c = body->children; c; c = c->next)
	{
		bool		ok = true;

		if (is_child(c, "process_id", ONT_CELL_NS))
			ok = parse_process_id(pc, c, &seen[0]);
		else if (is_child(c, "process_type_cd", ONT_CELL_NS))
			ok = parse_code(pc, c, &seen[1], &req->process_type_cd);
		else if (is_child(c, "process_status_cd", ONT_CELL_NS))
			ok = parse_code(pc, c, &seen[2], &req->process_status_cd);
		else if (is_child(c, "process_start_date", ONT_CELL_NS))
			ok = parse_range(pc, c, &seen[3], ONT_STARTED_FROM);
		else if (is_child(c, "process_end_date", ONT_CELL_NS))
			ok = parse_range(pc, c, &seen[4], ONT_ENDED_FROM);
		if (!ok)
			return false;
	}
	return true;
}

/* First child element called name, or NULL. */
static xmlNodePtr
child(xmlNodePtr parent, const char *name, const char *parent_ns)
{
	if (parent == NULL)
		return NULL;
	for (xmlNodePtr c = parent->children; c; c = c->next)
		if (is_child(c, name, parent_ns))
			return c;
	return NULL;
}

/* Text of parent/name, NULL when absent; false only when out of memory. */
static bool
header_field(ParseCtx *pc, xmlNodePtr parent, const char *name, char **result)
{
	xmlNodePtr	elem = child(parent, name, ONT_HIVE_NS);

	if (elem == NULL)
		return true;
	*result = element_text(pc, elem);
	return *result != NULL;
}

static bool
parse_header(ParseCtx *pc, xmlNodePtr header)
{
	OntRequest *req = pc->req;
	xmlNodePtr	app = child(header, "sending_application", ONT_HIVE_NS);
	xmlNodePtr	facility = child(header, "sending_facility", ONT_HIVE_NS);
	xmlNodePtr	security = child(header, "security", ONT_HIVE_NS);
	xmlNodePtr	control = child(header, "message_control_id", ONT_HIVE_NS);

	return header_field(pc, app, "application_name", &req->sending_app_name) &&
		header_field(pc, app, "application_version", &req->sending_app_version) &&
		header_field(pc, facility, "facility_name", &req->sending_facility) &&
		header_field(pc, security, "domain", &req->security_domain) &&
		header_field(pc, security, "username", &req->security_username) &&
		header_field(pc, control, "session_id", &req->session_id) &&
		header_field(pc, control, "message_num", &req->message_num) &&
		header_field(pc, header, "project_id", &req->project_id);
}

static bool
is_ops_element(xmlNodePtr node)
{
	return node->type == XML_ELEMENT_NODE &&
		strcmp((const char *) node->name, "get_ont_process_status") == 0 &&
		(ns_is(node, ONT_CELL_NS) || ns_is(node, NULL));
}

/* Find the get_ont_process_status element and parse what surrounds it. */
static bool
parse_document(ParseCtx *pc, xmlDocPtr doc)
{
	OntRequest *req = pc->req;
	xmlNodePtr	root = xmlDocGetRootElement(doc);
	xmlNodePtr	body = NULL;
	const char *nodetail = "Expected an i2b2 request message (root element \"request\" in namespace "
		ONT_HIVE_NS ") or a get_ont_process_status element in namespace "
		ONT_CELL_NS " or in no namespace.";

	if (root == NULL)
		return set_error(req, ONT_ERR_XML, NULL, "request is not an XML document");

	if (is_ops_element(root))
		body = root;
	else if (strcmp((const char *) root->name, "request") == 0 && ns_is(root, ONT_HIVE_NS))
	{
		xmlNodePtr	header = child(root, "message_header", ONT_HIVE_NS);
		xmlNodePtr	mbody = child(root, "message_body", ONT_HIVE_NS);

		req->enveloped = true;
		if (header && !parse_header(pc, header))
			return false;
		for (xmlNodePtr c = mbody ? mbody->children : NULL; c; c = c->next)
		{
			if (!is_ops_element(c))
				continue;
			if (body != NULL)
				return set_error(req, ONT_ERR_AMBIGUOUS,
								 "A request carries one get_ont_process_status element.",
								 "ambiguous request: more than one get_ont_process_status element");
			body = c;
		}
	}
	else
	{
		char		q[48];
		char		qns[48];

		if (root->ns && root->ns->href)
			return set_error(req, ONT_ERR_NO_REQUEST, nodetail,
							 "request has no get_ont_process_status element: the root element is \"%s\" in namespace \"%s\"",
							 quote_value((const char *) root->name, q, sizeof(q)),
							 quote_value((const char *) root->ns->href, qns, sizeof(qns)));
		return set_error(req, ONT_ERR_NO_REQUEST, nodetail,
						 "request has no get_ont_process_status element: the root element is \"%s\"",
						 quote_value((const char *) root->name, q, sizeof(q)));
	}
	if (body == NULL)
		return set_error(req, ONT_ERR_NO_REQUEST, nodetail,
						 "request has no get_ont_process_status element in its message_body");
	return parse_body(pc, body);
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

/*
 * Does any start tag hold more than ONT_MAX_ATTRIBUTES attributes?  A
 * linear scan that counts '=' outside quoted values between '<' and '>'.
 * It over-counts in comments and CDATA, which only makes it stricter.
 */
static bool
too_many_attributes(const char *buf, size_t len)
{
	enum
	{
		IN_TEXT, IN_TAG, IN_DQ, IN_SQ
	}			state = IN_TEXT;
	int			count = 0;

	for (size_t i = 0; i < len; i++)
	{
		char		c = buf[i];

		switch (state)
		{
			case IN_TEXT:
				if (c == '<')
				{
					state = IN_TAG;
					count = 0;
				}
				break;
			case IN_TAG:
				if (c == '>')
					state = IN_TEXT;
				else if (c == '"')
					state = IN_DQ;
				else if (c == '\'')
					state = IN_SQ;
				else if (c == '=' && ++count > ONT_MAX_ATTRIBUTES)
					return true;
				break;
			case IN_DQ:
				if (c == '"')
					state = IN_TAG;
				break;
			case IN_SQ:
				if (c == '\'')
					state = IN_TAG;
				break;
		}
	}
	return false;
}

void
ont_parse_cleanup(OntParseState *state)
{
	if (state->doc)
		xmlFreeDoc((xmlDocPtr) state->doc);
	state->doc = NULL;
	if (state->ctxt)
		xmlFreeParserCtxt((xmlParserCtxtPtr) state->ctxt);
	state->ctxt = NULL;
}

bool
ont_parse_request(const char *buf, size_t len, OntRequest *req,
				  OntParseState *state, OntAllocFn alloc, void *alloc_arg)
{
	ParseCtx	pc = {req, alloc, alloc_arg};
	xmlParserCtxtPtr ctxt;

	memset(req, 0, sizeof(*req));
	memset(state, 0, sizeof(*state));

	if (len > INT_MAX)
		return set_error(req, ONT_ERR_TOO_LARGE, NULL, "request is too large");
	if (too_many_attributes(buf, len))
		return set_error(req, ONT_ERR_TOO_LARGE,
						 "An element of an i2b2 request carries a few attributes; more than "
						 ONT_STRINGIFY(ONT_MAX_ATTRIBUTES) " are refused before parsing.",
						 "request refused: an element has more than %d attributes",
						 ONT_MAX_ATTRIBUTES);

	ctxt = xmlNewParserCtxt();
	if (ctxt == NULL)
		return set_error(req, ONT_ERR_NOMEM, NULL, "out of memory");
	state->ctxt = ctxt;
	ctxt->_private = state;
	ctxt->sax->internalSubset = refuse_doctype;

	/*
	 * The encoding is forced: the caller has already converted the text to
	 * UTF-8, whatever its XML declaration claims.  No NOENT, DTDLOAD,
	 * DTDATTR or HUGE: see the file header.
	 */
	state->doc = xmlCtxtReadMemory(ctxt, buf, (int) len, NULL, "UTF-8",
								   XML_PARSE_NONET | XML_PARSE_NOWARNING |
								   XML_PARSE_NOERROR);
	if (state->saw_doctype)
		set_error(req, ONT_ERR_XML,
				  "Requests must not contain a DOCTYPE declaration.",
				  "request refused: DOCTYPE is not allowed");
	else if (state->doc == NULL || !ctxt->nsWellFormed)
	{
		xmlErrorPtr err = xmlCtxtGetLastError(ctxt);
		char		msg[160];
		size_t		n;

		/*
		 * libxml2's messages end in a newline and may quote names from the
		 * document; keep printable ASCII only, like quote_value.
		 */
		snprintf(msg, sizeof(msg), "%s",
				 (err && err->message) ? err->message : "unknown error");
		for (n = 0; msg[n]; n++)
			if (msg[n] < 0x20 || msg[n] >= 0x7f)
				msg[n] = ' ';
		while (n > 0 && msg[n - 1] == ' ')
			msg[--n] = '\0';
		set_error(req, ONT_ERR_XML, NULL,
				  "request is not %swell-formed XML: line %d: %s",
				  state->doc ? "namespace-" : "", err ? err->line : 0, msg);
	}
	else
		parse_document(&pc, (xmlDocPtr) state->doc);

	ont_parse_cleanup(state);
	return req->error == ONT_OK;
}
