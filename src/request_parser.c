/*-------------------------------------------------------------------------
 *
 * request_parser.c
 *	  The request grammar: the events of a reading of get_ont_process_status
 *	  turned into an OntRequest, its values judged.
 *
 * The module below both readers of a request - libxml2's SAX2 parse
 * (request_libxml2.c) and the fast path (request_fast_path.c) - and the
 * guards before them (request_guards.c): it calls none of them, and they
 * deliver to it the same events (request_events.h).  Like them it does not
 * include postgres.h on purpose: it is linked alone into the libFuzzer
 * harness (test/fuzz), so it uses libc only (and libxml2's xmlChar type and
 * limits), allocates through the caller's allocator and reports errors as
 * data.  The backend side (request.c) maps errors to SQLSTATEs.
 *
 * The events are followed through the few element paths a request can
 * hold (a stack of roles, one per open element, looked up in the grammar
 * table below), and the text of the fields we know is collected; all else
 * is skipped.  No tree is built.
 *
 * What the grammar refuses or ignores, and why:
 * - An empty (or blank) filter element means "no filter": the i2b2
 *   specification's own example sends <process_id/>.
 * - The same filter twice is an error: silently picking one would answer a
 *   question the client did not ask.
 * - Unknown elements are ignored, as JAXB does in the Java cell.
 * - Nesting deeper than ONT_MAX_DEPTH is refused, by the start event:
 *   libxml2's own limit (256 levels) says so in words that differ between
 *   versions and advise an option the client cannot set.
 * - A value longer than libxml2 lets a text node be is refused.
 * - Every message quotes values as printable ASCII only.
 * What the guards refuse before any reading (size, encoding, attributes,
 * namespaces, DOCTYPE) is described in request_guards.c, what libxml2's
 * reading refuses (well-formedness) in request_libxml2.c.
 *
 *-------------------------------------------------------------------------
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <libxml/parserInternals.h>

#include "request_events.h"
#include "request_parser.h"
#include "xml_chars.h"

/* The text fields we collect. */
typedef enum Field
{
	F_APP_NAME = 0,
	F_APP_VERSION,
	F_FACILITY,
	F_DOMAIN,
	F_USERNAME,
	F_SESSION_ID,
	F_MESSAGE_NUM,
	F_PROJECT_ID,
	F_PROCESS_ID,
	F_TYPE_CD,
	F_STATUS_CD,
	F_TIME,						/* + OntTimeBound */
	NUM_FIELDS = F_TIME + ONT_NUM_TIME_BOUNDS
} Field;

/*
 * The request grammar: every element we read, one rule each, under its
 * parent.  An element matches a rule by its local name and namespace: it
 * may be unqualified or in the rule's namespace, which is the parent's
 * unless the rule names one (children of i2b2 elements are unqualified,
 * but some clients qualify them with the parent's namespace); G_QUALIFIED
 * refuses the unqualified form.  An element is read the first time only: a
 * repeated filter is an error (G_FILTER), any other repeat is ignored, as
 * is any element no rule names.  What classify() does beyond this table is
 * the root element and get_ont_process_status.  The rules of one parent
 * are listed together (find_rule looks at that group only).
 */
#define G_FILTER	0x01		/* a second one is ambiguous: an error */
#define G_QUALIFIED 0x02		/* must be in the namespace, not unqualified */

typedef struct OntGrammarRule GrammarRule;

struct OntGrammarRule
{
	OntRole		parent;
	const char *name;			/* local name */
	const char *ns;				/* NULL: the parent's namespace */
	OntRole		role;			/* what the element is */
	int			field;			/* R_FIELD: which */
	unsigned	flags;			/* G_... */
};

static const GrammarRule grammar[] = {
	/* parent, element, namespace (NULL: the parent's), role, field, flags */
	{R_DOCUMENT, "request", ONT_HIVE_NS, R_REQUEST, 0, G_QUALIFIED},
	{R_DOCUMENT, "get_ont_process_status", ONT_CELL_NS, R_OPS, 0, 0},
	{R_REQUEST, "message_header", NULL, R_HEADER, 0, 0},
	{R_REQUEST, "message_body", NULL, R_BODY, 0, 0},
	{R_HEADER, "sending_application", NULL, R_APP, 0, 0},
	{R_HEADER, "sending_facility", NULL, R_FACILITY, 0, 0},
	{R_HEADER, "security", NULL, R_SECURITY, 0, 0},
	{R_HEADER, "message_control_id", NULL, R_CONTROL, 0, 0},
	{R_HEADER, "project_id", NULL, R_FIELD, F_PROJECT_ID, 0},
	{R_APP, "application_name", NULL, R_FIELD, F_APP_NAME, 0},
	{R_APP, "application_version", NULL, R_FIELD, F_APP_VERSION, 0},
	{R_FACILITY, "facility_name", NULL, R_FIELD, F_FACILITY, 0},
	{R_SECURITY, "domain", NULL, R_FIELD, F_DOMAIN, 0},
	{R_SECURITY, "username", NULL, R_FIELD, F_USERNAME, 0},
	{R_CONTROL, "session_id", NULL, R_FIELD, F_SESSION_ID, 0},
	{R_CONTROL, "message_num", NULL, R_FIELD, F_MESSAGE_NUM, 0},
	{R_BODY, "get_ont_process_status", ONT_CELL_NS, R_OPS, 0, 0},
	{R_OPS, "process_id", NULL, R_FIELD, F_PROCESS_ID, G_FILTER},
	{R_OPS, "process_type_cd", NULL, R_FIELD, F_TYPE_CD, G_FILTER},
	{R_OPS, "process_status_cd", NULL, R_FIELD, F_STATUS_CD, G_FILTER},
	{R_OPS, "process_start_date", NULL, R_START_DATE, 0, G_FILTER},
	{R_OPS, "process_end_date", NULL, R_END_DATE, 0, G_FILTER},
	{R_START_DATE, "start_time", NULL, R_FIELD, F_TIME + ONT_STARTED_FROM, G_FILTER},
	{R_START_DATE, "end_time", NULL, R_FIELD, F_TIME + ONT_STARTED_TO, G_FILTER},
	{R_END_DATE, "start_time", NULL, R_FIELD, F_TIME + ONT_ENDED_FROM, G_FILTER},
	{R_END_DATE, "end_time", NULL, R_FIELD, F_TIME + ONT_ENDED_TO, G_FILTER},
};

#define NUM_RULES (sizeof(grammar) / sizeof(grammar[0]))

/* OntReading has room for one "seen" flag a rule */
typedef char grammar_rules_counted[NUM_RULES == ONT_GRAMMAR_RULES ? 1 : -1];

#define NO_REQUEST_MSG "request has no get_ont_process_status element"
#define NO_REQUEST_EXPECTED \
	"expected an i2b2 request message (root element \"request\" in namespace " \
	ONT_HIVE_NS ") or a get_ont_process_status element in namespace " \
	ONT_CELL_NS " or in no namespace."

/*
 * Record the first error only; later ones are consequences.  Always returns
 * false so that callers can "return ont_request_error(...)".
 */
bool
ont_request_error(OntRequest *req, OntParseError code, const char *detail,
				  const char *fmt,...)
{
	va_list		ap;

	if (req->error != ONT_OK)
		return false;
	req->error = code;
	req->errdetail_is_libxml2 = false;
	va_start(ap, fmt);
	vsnprintf(req->errmsg, sizeof(req->errmsg), fmt, ap);
	va_end(ap);
	snprintf(req->errdetail, sizeof(req->errdetail), "%s", detail ? detail : "");
	return false;
}

bool
ont_request_error_detail(OntRequest *req, OntParseError code, const char *msg,
						 const char *detail_fmt,...)
{
	va_list		ap;

	if (req->error != ONT_OK)
		return false;
	req->error = code;
	req->errdetail_is_libxml2 = false;
	snprintf(req->errmsg, sizeof(req->errmsg), "%s", msg);
	va_start(ap, detail_fmt);
	vsnprintf(req->errdetail, sizeof(req->errdetail), detail_fmt, ap);
	va_end(ap);
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

/* Trim XML white space in place; returns the start of the trimmed text. */
static char *
trim(char *s)
{
	char	   *end;

	while (xml_is_space((unsigned char) *s))
		s++;
	end = s + strlen(s);
	while (end > s && xml_is_space((unsigned char) end[-1]))
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
 * Replace the first error with a fault of the document itself (DOCTYPE,
 * not well-formed), which matters more than any value in it - but not when
 * the reading was stopped on purpose (out of memory, a value too long).
 */
bool
ont_request_override_error(OntRequest *req, OntParseError code,
						   const char *detail, const char *msg)
{
	if (req->error == ONT_ERR_NOMEM || req->error == ONT_ERR_TOO_LARGE)
		return false;
	req->error = ONT_OK;
	ont_request_error(req, code, detail, "%s", msg);
	return true;
}

static bool
str_is(const xmlChar *s, const char *t)
{
	return s != NULL && strcmp((const char *) s, t) == 0;
}

/* The rule an element matches under its parent, or NULL. */
static const GrammarRule *
find_rule(const OntFrame *parent, const xmlChar *name, const xmlChar *uri)
{
	/* the rules of each parent, found once: most elements have none */
	static unsigned char first[R_FIELD + 1];
	static unsigned char count[R_FIELD + 1];
	static bool indexed = false;

	if (!indexed)
	{
		for (size_t i = NUM_RULES; i-- > 0;)
		{
			first[grammar[i].parent] = (unsigned char) i;
			count[grammar[i].parent]++;
		}
		indexed = true;
	}
	for (size_t i = first[parent->role]; i < (size_t) first[parent->role] + count[parent->role]; i++)
	{
		const GrammarRule *g = &grammar[i];
		const char *ns = g->ns ? g->ns : parent->ns;

		if (g->parent == parent->role &&
			name[0] == (xmlChar) g->name[0] && str_is(name, g->name) &&
			(uri == NULL ? !(g->flags & G_QUALIFIED) :
			 ns != NULL && str_is(uri, ns)))
			return g;
	}
	return NULL;
}

/*
 * Cut the reading short: the reader (libxml2's parse, or the fast path)
 * sees the flag after the event and delivers nothing more.
 */
static void
stop_reading(OntReading *rd)
{
	rd->stopped = true;
}

/* Out of memory: the reading is cut short, so no other verdict stands. */
static void
stop_on_nomem(OntReading *rd)
{
	rd->req->error = ONT_OK;
	ont_request_error(rd->req, ONT_ERR_NOMEM, NULL, "out of memory");
	stop_reading(rd);
}

/* The attribute max_return_records, from SAX2's attribute array. */
static void
read_max_return_records(OntReading *rd, int nb_attributes, const xmlChar **attributes)
{
	OntRequest *req = rd->req;

	/* five pointers an attribute: localname, prefix, URI, value, end */
	for (int i = 0; i < nb_attributes; i++)
	{
		const xmlChar **a = attributes + i * 5;
		char		buf[64];
		char		q[48];
		size_t		len;
		int64_t		v;
		OntParseError err;

		if (a[2] != NULL || !str_is(a[0], "max_return_records"))
			continue;
		/* attribute values are short; anything long is garbage anyway */
		len = a[4] - a[3];
		if (len > sizeof(buf) - 1)
			len = sizeof(buf) - 1;
		memcpy(buf, a[3], len);
		buf[len] = '\0';
		err = parse_int64(trim(buf), INT32_MIN, INT32_MAX, &v);
		if (len == sizeof(buf) - 1 && err == ONT_OK)
			err = ONT_ERR_RANGE;
		if (err == ONT_ERR_SYNTAX)
			ont_request_error(req, err, "max_return_records must be an integer.",
							  "invalid max_return_records: \"%s\"",
							  quote_value(trim(buf), q, sizeof(q)));
		else if (err == ONT_ERR_RANGE)
			ont_request_error(req, err, "max_return_records must fit in an integer.",
							  "value \"%s\" is out of range for max_return_records",
							  quote_value(trim(buf), q, sizeof(q)));
		else if (v < 0)
			ont_request_error(req, ONT_ERR_VALUE,
							  "max_return_records must be zero (the default of 1000 rows) or positive.",
							  "invalid max_return_records: \"%lld\"", (long long) v);
		else
			req->max_return_records = (int32_t) v;
	}
}

/* The root element is neither an i2b2 request nor get_ont_process_status. */
static void
refuse_root(OntReading *rd, const xmlChar *name, const xmlChar *uri)
{
	char		q[48];
	char		qns[48];

	if (uri)
		ont_request_error_detail(rd->req, ONT_ERR_NO_REQUEST, NO_REQUEST_MSG,
								 "The root element is \"%s\" in namespace \"%s\"; "
								 NO_REQUEST_EXPECTED,
								 quote_value((const char *) name, q, sizeof(q)),
								 quote_value((const char *) uri, qns, sizeof(qns)));
	else
		ont_request_error_detail(rd->req, ONT_ERR_NO_REQUEST, NO_REQUEST_MSG,
								 "The root element is \"%s\", in no namespace; "
								 NO_REQUEST_EXPECTED,
								 quote_value((const char *) name, q, sizeof(q)));
}

/*
 * What a new element is, given its parent: a lookup in the grammar, but
 * for the root element, which must be known, and get_ont_process_status,
 * which is counted (a second one is ambiguous) and carries an attribute.
 */
static OntFrame
classify(OntReading *rd, const xmlChar *name, const xmlChar *uri,
		 int nb_attributes, const xmlChar **attributes)
{
	static const OntFrame document = {R_DOCUMENT, 0, NULL, NULL};
	OntFrame		none = {R_IGNORE, 0, NULL, NULL};
	const OntFrame *parent;
	const GrammarRule *rule;

	if (rd->depth > ONT_MAX_FRAMES)
		return none;
	parent = rd->depth == 0 ? &document : &rd->frames[rd->depth - 1];
	if ((rule = find_rule(parent, name, uri)) == NULL)
	{
		if (rd->depth == 0)
			refuse_root(rd, name, uri);
		return none;
	}
	if (rule->role == R_OPS)
	{
		if (rd->ops_count++ > 0)
		{
			ont_request_error(rd->req, ONT_ERR_AMBIGUOUS,
							  "A request carries one get_ont_process_status element.",
							  "request has more than one get_ont_process_status element");
			return none;
		}
		read_max_return_records(rd, nb_attributes, attributes);
	}
	else if (rd->seen[rule - grammar])
	{
		/* a filter within a filter is named by its path */
		bool		nested = parent->rule && (parent->rule->flags & G_FILTER);

		if (rule->flags & G_FILTER)
			ont_request_error(rd->req, ONT_ERR_AMBIGUOUS,
							  "Each filter may appear at most once in a request.",
							  "request has more than one \"%s%s%s\" element",
							  nested ? parent->rule->name : "", nested ? "/" : "",
							  rule->name);
		return none;
	}
	rd->seen[rule - grammar] = true;
	if (rule->role == R_REQUEST)
		rd->req->enveloped = true;
	if (rule->role == R_FIELD)
		rd->text_len = 0;
	return (OntFrame) {rule->role, rule->field, rule->ns ? rule->ns : parent->ns, rule};
}

/* A value element has ended: check and keep its text. */
static void
finish_field(OntReading *rd, Field f, char *text)
{
	OntRequest *req = rd->req;
	char	   *value;
	char		q[48];
	OntParseError err;

	switch (f)
	{
		case F_APP_NAME:
			req->sending_app_name = text;
			return;
		case F_APP_VERSION:
			req->sending_app_version = text;
			return;
		case F_FACILITY:
			req->sending_facility = text;
			return;
		case F_DOMAIN:
			req->security_domain = text;
			return;
		case F_USERNAME:
			req->security_username = text;
			return;
		case F_SESSION_ID:
			req->session_id = text;
			return;
		case F_MESSAGE_NUM:
			req->message_num = text;
			return;
		case F_PROJECT_ID:
			req->project_id = text;
			return;
		case F_TYPE_CD:
		case F_STATUS_CD:
			/* blank means no filter; otherwise the code exactly as sent */
			for (value = text; xml_is_space((unsigned char) *value); value++)
				;
			if (*value != '\0')
				*(f == F_TYPE_CD ? &req->process_type_cd : &req->process_status_cd) = text;
			return;
		case F_PROCESS_ID:
			value = trim(text);
			if (*value == '\0')
				return;
			err = parse_int64(value, INT64_MIN, INT64_MAX, &req->process_id);
			if (err == ONT_ERR_SYNTAX)
				ont_request_error(req, err, "process_id must be an integer.",
								  "invalid process_id: \"%s\"", quote_value(value, q, sizeof(q)));
			else if (err == ONT_ERR_RANGE)
				ont_request_error(req, err, "process_id must fit in a bigint.",
								  "value \"%s\" is out of range for process_id", quote_value(value, q, sizeof(q)));
			else
				req->has_process_id = true;
			return;
		default:
			{
				OntTimeBound b = (OntTimeBound) (f - F_TIME);
				const char *path = b == ONT_STARTED_FROM ? "process_start_date/start_time" :
				b == ONT_STARTED_TO ? "process_start_date/end_time" :
				b == ONT_ENDED_FROM ? "process_end_date/start_time" :
				"process_end_date/end_time";

				value = trim(text);
				if (*value == '\0')
					return;
				err = ont_parse_datetime(value, &req->time[b]);
				if (err == ONT_ERR_DATETIME_FORMAT)
					ont_request_error(req, err,
									  "Times must be xs:dateTime values: YYYY-MM-DDThh:mm:ss[.fraction][Z|(+|-)hh:mm].",
									  "invalid %s: \"%s\"", path, quote_value(value, q, sizeof(q)));
				else if (err != ONT_OK)
					ont_request_error(req, err,
									  "A month, day, hour, minute, second or offset is out of range.",
									  "value \"%s\" is out of range for %s", quote_value(value, q, sizeof(q)), path);
				else
					req->has_time[b] = true;
			}
			return;
	}
}

/*
 * Append to the text of the field being read, growing its buffer.  A value
 * may be as long as libxml2 lets a text node be in a tree (without
 * XML_PARSE_HUGE); SAX would hand over more, in pieces.
 */
static bool
append_text(OntReading *rd, const xmlChar *s, int len)
{
	if (rd->text_len + len > XML_MAX_TEXT_LENGTH)
	{
		ont_request_error(rd->req, ONT_ERR_TOO_LARGE,
						  "An i2b2 request holds short values; longer ones are refused as they are read.",
						  "request has a value longer than %d bytes",
						  XML_MAX_TEXT_LENGTH);
		stop_reading(rd);
		return true;
	}
	if (rd->text == NULL || rd->text_len + len + 1 > rd->text_cap)
	{
		size_t		cap = rd->text_cap ? rd->text_cap : 64;
		char	   *grown;

		while (cap < rd->text_len + len + 1)
			cap *= 2;
		/* the old buffer belongs to the allocator's owner, who frees it */
		if ((grown = rd->alloc(rd->alloc_arg, cap)) == NULL)
			return false;
		if (rd->text_len > 0)
			memcpy(grown, rd->text, rd->text_len);
		rd->text = grown;
		rd->text_cap = cap;
	}
	memcpy(rd->text + rd->text_len, s, len);
	rd->text_len += len;
	return true;
}

/* A reading starts afresh: nothing of an earlier one (declined) is kept. */
void
ont_reading_start(OntReading *rd, OntRequest *req, OntAllocFn alloc,
				  void *alloc_arg)
{
	memset(req, 0, sizeof(*req));
	memset(rd, 0, sizeof(*rd));
	rd->req = req;
	rd->alloc = alloc;
	rd->alloc_arg = alloc_arg;
}

/*
 * The events of a reading, from libxml2's SAX2 callbacks
 * (request_libxml2.c) or from the fast path (request_fast_path.c), which
 * deliver them alike.
 */
void
ont_event_start(OntReading *rd, const xmlChar *localname, const xmlChar *uri,
				int nb_attributes, const xmlChar **attributes)
{
	OntFrame	frame;

	/*
	 * Deeper than any request, and below libxml2's own limit (256 levels),
	 * whose message differs between versions and advises an option the
	 * client cannot set.
	 */
	if (rd->depth >= ONT_MAX_DEPTH)
	{
		ont_request_error(rd->req, ONT_ERR_TOO_LARGE,
						  "An i2b2 request nests elements a few levels deep; more than "
						  ONT_STRINGIFY(ONT_MAX_DEPTH) " levels are refused.",
						  "request nests elements more than %d levels deep",
						  ONT_MAX_DEPTH);
		stop_reading(rd);
		return;
	}
	frame = classify(rd, localname, uri, nb_attributes, attributes);
	if (frame.role == R_FIELD)
	{
		rd->text = NULL;
		rd->text_len = rd->text_cap = 0;
	}
	if (rd->depth < ONT_MAX_FRAMES)
		rd->frames[rd->depth] = frame;
	rd->depth++;
}

void
ont_event_end(OntReading *rd)
{
	OntFrame   *frame;

	rd->depth--;
	if (rd->depth >= ONT_MAX_FRAMES)
		return;
	frame = &rd->frames[rd->depth];
	if (frame->role != R_FIELD)
		return;
	/* an empty element has no text yet: make "" */
	if (!append_text(rd, (const xmlChar *) "", 0))
	{
		stop_on_nomem(rd);
		return;
	}
	rd->text[rd->text_len] = '\0';
	finish_field(rd, (Field) frame->field, rd->text);
	rd->text = NULL;
	rd->text_len = rd->text_cap = 0;
}

/* Character data directly inside a value element is its text. */
void
ont_event_text(OntReading *rd, const xmlChar *ch, int len)
{
	if (!ont_reading_keeps_text(rd))
		return;
	if (!append_text(rd, ch, len))
		stop_on_nomem(rd);
}

/*
 * The reading of a well-formed document has ended, or the grammar cut it
 * short: a document without get_ont_process_status is no request.
 */
bool
ont_reading_finish(OntReading *rd)
{
	if (rd->ops_count == 0)
		ont_request_error(rd->req, ONT_ERR_NO_REQUEST,
						  "The request's message_body holds no get_ont_process_status element in namespace "
						  ONT_CELL_NS ".",
						  NO_REQUEST_MSG);
	return rd->req->error == ONT_OK;
}
