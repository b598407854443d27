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
 * libxml2 is used through SAX2 callbacks: no tree is built.  The handlers
 * follow the few element paths a request can hold (a stack of roles, one
 * per open element, looked up in the grammar table below) and collect the
 * text of the fields they know; all else is skipped.  This takes half the
 * time of building a tree, and the parser's own checks - well-formedness,
 * namespaces, nesting depth, the size of text - are the same.
 *
 * What the parser refuses or ignores, and why:
 * - No DTD is ever read: a DOCTYPE is refused before parsing, and should
 *   libxml2 meet one the pre-scan missed, it stops the parse at once
 *   (SOAP-style messages never carry one), so there is no entity expansion
 *   and nothing is fetched.  XML_PARSE_NONET forbids the network besides,
 *   and without XML_PARSE_HUGE libxml2 limits nesting depth and text node
 *   sizes.
 * - An empty (or blank) filter element means "no filter": the i2b2
 *   specification's own example sends <process_id/>.
 * - The same filter twice is an error: silently picking one would answer a
 *   question the client did not ask.
 * - Unknown elements are ignored, as JAXB does in the Java cell.
 * - An element with more than ONT_MAX_ATTRIBUTES attributes is refused
 *   before libxml2 sees it: libxml2 checks attributes for duplicates in
 *   quadratic time, and a 1 MB start tag of short attributes keeps it busy
 *   for minutes.  i2b2 elements carry a handful (namespace declarations
 *   included).  The pre-scan that counts them follows XML's lexical
 *   structure as libxml2 does (see "The attribute pre-scan" below), so that
 *   no comment, PI, CDATA section or stray quote can hide a start tag.
 * - So is a request with more than ONT_MAX_NAMESPACES namespace
 *   declarations: libxml2 looks prefixes up in linear time, and thousands
 *   of declarations in scope make 1 MB of prefixed names cost it seconds.
 * - So is nesting deeper than ONT_MAX_DEPTH, by the start-element handler:
 *   libxml2's own limit (256 levels) says so in words that differ between
 *   versions and advise an option the client cannot set.
 * - Text that is not UTF-8, or holds a NUL, is refused: the backend always
 *   converts requests to UTF-8, and the pre-scan relies on it.
 * - libxml2's own errors and warnings go to a handler of the parse, never
 *   to the client or the log: what the caller sees is the parser's message,
 *   with libxml2's first error reduced to printable ASCII.
 * - A document that is not well-formed is reported as such, even when a
 *   bad value came before the point where it breaks: as a tree parser would.
 *
 *-------------------------------------------------------------------------
 */
/* memmem: glibc declares it for _GNU_SOURCE (musl and the BSDs as well) */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "libxml_compat.h"
#include "request_events.h"
#include "request_parser.h"

#define ONT_STRINGIFY(x) ONT_STRINGIFY2(x)
#define ONT_STRINGIFY2(x) #x

/* What an open element is to us. */
typedef enum Role
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
} Role;

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

typedef struct GrammarRule
{
	Role		parent;
	const char *name;			/* local name */
	const char *ns;				/* NULL: the parent's namespace */
	Role		role;			/* what the element is */
	int			field;			/* R_FIELD: which */
	unsigned	flags;			/* G_... */
} GrammarRule;

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

/* Our roles nest at most 5 deep (request/message_body/ops/range/time). */
#define MAX_FRAMES 8

typedef struct Frame
{
	Role		role;
	int			field;			/* R_FIELD: which */
	const char *ns;				/* namespace its children may be in */
	const GrammarRule *rule;	/* the rule it matched, if any */
} Frame;

struct ParseCtx
{
	OntRequest *req;
	OntParseState *state;
	OntAllocFn	alloc;
	void	   *alloc_arg;

	int			depth;			/* open elements */
	Frame		frames[MAX_FRAMES];

	/* each known element is read the first time only */
	bool		seen[NUM_RULES];
	int			ops_count;		/* get_ont_process_status elements */

	/* the text of the field being read */
	char	   *text;
	size_t		text_len;
	size_t		text_cap;

	/* the first error libxml2 reported, as it reported it */
	bool		has_xml_error;
	int			xml_error_line;
	char		xml_error[160];

	bool		stopped;		/* a handler cut the reading short */
};

#define DOCTYPE_MSG "request refused: DOCTYPE is not allowed"
#define DOCTYPE_DETAIL "Requests must not contain a DOCTYPE declaration."

#define NO_REQUEST_DETAIL \
	"Expected an i2b2 request message (root element \"request\" in namespace " \
	ONT_HIVE_NS ") or a get_ont_process_status element in namespace " \
	ONT_CELL_NS " or in no namespace."

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
 * The attribute pre-scan.
 *
 * libxml2 checks the attributes of a start tag for duplicates in quadratic
 * time, before any SAX callback can stop it, and cannot be interrupted: a
 * start tag with too many attributes must be refused before libxml2 sees
 * the request.  So the scan must find every start tag libxml2 will parse,
 * including those it parses after an error (it goes on after most), and
 * must stay linear.  It makes up to two passes over the bytes:
 *
 * 1. A lexical pass (scan_lexical) that reads the request as libxml2 does:
 *    text up to '<'; comments, processing instructions and CDATA sections,
 *    whose content it skips; end tags; and start tags, in which it counts
 *    the '=' outside quoted values.  It skips content only where it can
 *    vouch that every libxml2 skips the same bytes, and gives up ("unsure")
 *    on anything else: a '<' in a quoted value (up to 2.12 libxml2 ends the
 *    value and the tag there; from 2.13 on it reads on to the quote), a
 *    character reference in a quoted value that libxml2 refuses as zero
 *    (from 2.13 on it ends the value there and reads the rest of the quoted
 *    text as more attributes of the tag), "--" inside a comment, a
 *    processing instruction with a '>' before its "?>" (libxml2 ends a
 *    faulty XML declaration at the first '>') or with a target libxml2
 *    might not take for a name, a character that is not an XML Char in
 *    skipped content (libxml2 stops there and reads on as text), skipped
 *    content or a quoted value too long for libxml2 to read in one piece.
 *    None of these occurs in a well-formed request.  A DOCTYPE before the
 *    root element is refused outright, as the parser would refuse it.
 *
 * 2. When the lexical pass is unsure, a coarse pass (scan_coarse) that
 *    depends on no lexical state, only on what every libxml2 does within a
 *    start tag: the tag begins at a '<'; between attributes it ends at '<'
 *    or '>' (neither can be part of a name); a quoted value begins at a
 *    quote and ends at the same quote or earlier - at a '<' up to 2.12, at
 *    a refused character reference ("&#...") from 2.13 on, where the tag
 *    may read on; and every attribute has its '=' outside quoted values.
 *    So the pass follows every tag that could begin at every '<' at once,
 *    as a small automaton whose states are "between attributes", "in a
 *    "-quoted value" and "in a '-quoted value", each with the most '='
 *    any reading in that state has counted: readings in the same state at
 *    the same byte go on alike, so the most is all that needs keeping, and
 *    the pass is linear.  libxml2's reading of any start tag - after errors
 *    too, on any version - is one of the readings followed, cut short
 *    perhaps, so no tag of libxml2's has more attributes than the pass
 *    counts.  It also counts readings libxml2 never makes (text taken for
 *    a tag), which only makes it stricter, and only for a request that is
 *    not well-formed (or very unusual) anyway; and it refuses "<!DOCTYPE"
 *    anywhere, as it cannot tell where one would count.
 *
 * Both read bytes.  That is sound because the request is first checked to
 * be UTF-8 without NUL (the backend always passes UTF-8): then '<', '=' and
 * the quotes are those characters wherever their bytes occur, and libxml2,
 * told to ignore the declared encoding, reads it as UTF-8 too rather than
 * switching to UTF-16 or EBCDIC on the strength of its first bytes.
 *
 * The analysis is of libxml2 2.9.14 (Debian 12's) and 2.15.4; where their
 * rules differ, the stricter reading is taken, and the fuzz harness
 * (test/fuzz) checks the pre-scan against whichever it is built with.  From
 * 2.12 on, libxml2 checks duplicates with a hash table, so the limit no
 * longer guards against slowness there but is kept as a sanity limit.
 */
typedef enum ScanResult
{
	SCAN_OK,
	SCAN_TOO_MANY,				/* a start tag with too many attributes */
	SCAN_DOCTYPE,				/* a DOCTYPE declaration */
	SCAN_UNSURE					/* the lexical pass cannot vouch for its result */
} ScanResult;

/*
 * libxml2 cuts a comment, PI, CDATA section or attribute value longer than
 * XML_MAX_TEXT_LENGTH short, and refuses a PI target longer than
 * XML_MAX_NAME_LENGTH (and then reads on as text); the lexical pass skips
 * only half as much, so that no detail of how libxml2 counts matters.
 */
#define SCAN_MAX_SKIP (XML_MAX_TEXT_LENGTH / 2)
#define SCAN_MAX_NAME (XML_MAX_NAME_LENGTH / 2)

#define Max3(a, b, c) ((a) > (b) ? ((a) > (c) ? (a) : (c)) : ((b) > (c) ? (b) : (c)))

static bool
is_utf8(const unsigned char *p, const unsigned char *end)
{
	while (p < end)
	{
		int			n;
		uint64_t	w;

		/* eight ASCII bytes, none of them NUL, at a time */
		if (end - p >= 8)
		{
			memcpy(&w, p, 8);
			if ((w & UINT64_C(0x8080808080808080)) == 0 &&
				((w - UINT64_C(0x0101010101010101)) & UINT64_C(0x8080808080808080)) == 0)
			{
				p += 8;
				continue;
			}
		}
		if (*p != 0 && *p < 0x80)
			p++;
		else if ((n = ont_utf8_len(p, end)) == 0)
			return false;
		else
			p += n;
	}
	return true;
}

/*
 * Length of the XML Char at p (in text already known to be UTF-8), or 0
 * when it is none: a C0 control other than tab, LF and CR, U+FFFE, U+FFFF.
 */
static int
xml_char_len(const unsigned char *p, const unsigned char *end)
{
	if (p[0] < 0x20)
		return (p[0] == '\t' || p[0] == '\n' || p[0] == '\r') ? 1 : 0;
	if (p[0] == 0xEF && p[1] == 0xBF && (p[2] == 0xBE || p[2] == 0xBF))
		return 0;
	return ont_utf8_len(p, end);
}

/*
 * The content of a comment, p just past "<!--".  libxml2 lets "--" end a
 * comment only when '>' follows, but its fast path reads on past "--->"
 * while its slow path stops there: any "--" but the final one is unsure.
 * Returns where the comment ends, end if it does not, NULL when unsure.
 */
static const unsigned char *
skip_comment(const unsigned char *p, const unsigned char *end)
{
	const unsigned char *start = p;
	int			n;

	while (p < end)
	{
		if (p - start > SCAN_MAX_SKIP)
			return NULL;
		if (p[0] == '-' && end - p >= 2 && p[1] == '-')
			return (end - p >= 3 && p[2] == '>') ? p + 3 : NULL;
		if ((n = xml_char_len(p, end)) == 0)
			return NULL;
		p += n;
	}
	return end;
}

/* The content of a CDATA section, p just past "<![CDATA[". */
static const unsigned char *
skip_cdata(const unsigned char *p, const unsigned char *end)
{
	const unsigned char *start = p;
	int			n;

	while (p < end)
	{
		if (p - start > SCAN_MAX_SKIP)
			return NULL;
		if (p[0] == ']' && end - p >= 3 && p[1] == ']' && p[2] == '>')
			return p + 3;
		if ((n = xml_char_len(p, end)) == 0)
			return NULL;
		p += n;
	}
	return end;
}

static bool
is_ascii_name_start(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		c == '_' || c == ':';
}

static bool
is_ascii_name_char(unsigned char c)
{
	return is_ascii_name_start(c) || (c >= '0' && c <= '9') ||
		c == '-' || c == '.';
}

/*
 * A processing instruction, p just past "<?" at the first character of its
 * target, which the caller has checked to be an ASCII name start.  The
 * first '>' must be that of "?>": at the start of the document libxml2
 * reads "<?xml " as the XML declaration, which ends at the first '>' when
 * it is faulty, while a PI ends at "?>".
 */
static const unsigned char *
skip_pi(const unsigned char *p, const unsigned char *end)
{
	const unsigned char *start = p;
	int			n;

	/* bytes that could belong to the target, a bound on its length */
	while (p < end && (is_ascii_name_char(*p) || *p >= 0x80))
		if (++p - start > SCAN_MAX_NAME)
			return NULL;

	for (p = start; p < end; p += n)
	{
		if (p - start > SCAN_MAX_SKIP)
			return NULL;
		if (*p == '>')
			return p[-1] == '?' ? p + 1 : NULL;
		if ((n = xml_char_len(p, end)) == 0)
			return NULL;
	}
	return end;
}

/*
 * Is the "&#" at p (within a quoted value ending before end) a character
 * reference every libxml2 reads as part of the value?  From 2.13 on, one it
 * takes for zero ("&#0;", "&#;", "&#x" followed by no hex digit, a stray
 * "&# ") ends the value there.  Vouched for: up to 7 decimal or 6 hex
 * digits (the most a character needs, well within what libxml2 reads),
 * then ';', and not zero.
 */
static bool
is_safe_char_ref(const unsigned char *p, const unsigned char *end)
{
	bool		hex = false;
	int			ndigits = 0;
	bool		nonzero = false;

	p += 2;
	if (p < end && *p == 'x')
	{
		hex = true;
		p++;
	}
	for (; p < end; p++, ndigits++)
	{
		bool		digit = (*p >= '0' && *p <= '9');

		if (hex && !digit)
			digit = (*p >= 'a' && *p <= 'f') || (*p >= 'A' && *p <= 'F');
		if (!digit)
			break;
		nonzero |= (*p != '0');
	}
	return p < end && *p == ';' && nonzero && ndigits <= (hex ? 6 : 7);
}

/*
 * A start tag, *pp just past its '<'.  Counts the '=' outside quoted
 * values; the tag ends at '>' or at the next '<' (where libxml2 gives up on
 * it too), and *pp is left there.
 */
static ScanResult
scan_start_tag(const unsigned char **pp, const unsigned char *end)
{
	const unsigned char *p = *pp;
	int			count = 0;

	for (; p < end; p++)
	{
		if (*p == '>')
		{
			p++;
			break;
		}
		if (*p == '<')
			break;
		if (*p == '=' && ++count > ONT_MAX_ATTRIBUTES)
			return SCAN_TOO_MANY;
		if (*p == '"' || *p == '\'')
		{
			const unsigned char *close = memchr(p + 1, *p, end - p - 1);
			const unsigned char *stop = close ? close : end;
			const unsigned char *amp;

			/*
			 * '<' is not allowed in an attribute value; libxml2 up to 2.12
			 * ends the value and the tag there, and reads the '<' as
			 * markup, while 2.13 on reads on to the quote.  Nor does
			 * libxml2 read a value longer than XML_MAX_TEXT_LENGTH to its
			 * end.
			 */
			if (stop - p - 1 > SCAN_MAX_SKIP ||
				memchr(p + 1, '<', stop - p - 1) != NULL)
				return SCAN_UNSURE;
			for (amp = p + 1;
				 (amp = memchr(amp, '&', stop - amp)) != NULL; amp++)
				if (stop - amp > 1 && amp[1] == '#' &&
					!is_safe_char_ref(amp, stop))
					return SCAN_UNSURE;
			p = stop;
			if (close == NULL)
				break;
		}
	}
	*pp = p;
	return SCAN_OK;
}

static ScanResult
scan_lexical(const unsigned char *p, const unsigned char *end)
{
	bool		prolog = true;	/* no start tag yet */

	while (p < end && (p = memchr(p, '<', end - p)) != NULL)
	{
		size_t		left = end - p;

		if (left >= 4 && memcmp(p, "<!--", 4) == 0)
			p = skip_comment(p + 4, end);
		else if (left >= 9 && memcmp(p, "<![CDATA[", 9) == 0)
			p = skip_cdata(p + 9, end);
		else if (left >= 2 && p[1] == '?')
		{
			if (left == 2)
				break;
			if (is_ascii_name_start(p[2]))
				p = skip_pi(p + 2, end);
			else if (p[2] >= 0x80)
				p = NULL;		/* libxml2 decides whether that is a name */
			else
				p += 2;			/* not a PI: libxml2 reads on as text */
		}
		else if (left >= 9 && memcmp(p, "<!DOCTYPE", 9) == 0 && prolog)
			return SCAN_DOCTYPE;
		else if (left >= 2 && p[1] == '/')
		{
			/* an end tag, up to '>' (or the next '<', where libxml2 is) */
			for (p += 2; p < end && *p != '>' && *p != '<'; p++)
				;
			if (p < end && *p == '>')
				p++;
		}
		else
		{
			/* a start tag, or something libxml2 reads as text after '<' */
			ScanResult	r;

			prolog = false;
			p++;
			if ((r = scan_start_tag(&p, end)) != SCAN_OK)
				return r;
		}
		if (p == NULL)
			return SCAN_UNSURE;
	}
	return SCAN_OK;
}

static ScanResult
scan_coarse(const unsigned char *p, const unsigned char *end)
{
	/*
	 * The most '=' counted by a reading between attributes, in a "-quoted
	 * and in a '-quoted value; -1 when no reading is in that state.
	 */
	int			out = -1;
	int			dq = -1;
	int			sq = -1;
	int			t;

	for (; p < end; p++)
	{
		switch (*p)
		{
			case '<':
				if (end - p >= 9 && memcmp(p, "<!DOCTYPE", 9) == 0)
					return SCAN_DOCTYPE;
				/* a tag between attributes ends; a new one may begin */
				out = 0;
				break;
			case '>':
				out = -1;
				break;
			case '"':
				t = out, out = dq, dq = t;
				break;
			case '\'':
				t = out, out = sq, sq = t;
				break;
			case '&':
				/* a value may end at a character reference (2.13 on) */
				out = Max3(out, dq, sq);
				break;
			case '=':
				if (out >= 0 && ++out > ONT_MAX_ATTRIBUTES)
					return SCAN_TOO_MANY;
				break;
		}
	}
	return SCAN_OK;
}

/*
 * Does the request hold more than ONT_MAX_NAMESPACES namespace
 * declarations?  libxml2 before 2.12 looks a prefix up by walking every
 * declaration in scope, up to 256 elements deep: 25,600 declarations and
 * then 1 MB of prefixed attributes cost it 0.6 s, 10 MB (with the size
 * limit raised) 14 s.  Every declaration is spelled "xmlns", so counting
 * that word anywhere bounds them without any lexical state.
 */
static bool
too_many_namespaces(const char *buf, size_t len)
{
	const char *p = buf;
	const char *end = buf + len;
	int			count = 0;

	/* fewer than 505 bytes cannot hold 101 of them */
	if (len < 5 * (ONT_MAX_NAMESPACES + 1))
		return false;
	while ((p = memmem(p, end - p, "xmlns", 5)) != NULL)
	{
		if (++count > ONT_MAX_NAMESPACES)
			return true;
		p++;
	}
	return false;
}


static ScanResult
prescan(const char *buf, size_t len)
{
	const unsigned char *p = (const unsigned char *) buf;
	ScanResult	r = scan_lexical(p, p + len);

	if (r == SCAN_UNSURE)
		r = scan_coarse(p, p + len);
	return r;
}

/*
 * Replace the first error with a fault of the document itself (DOCTYPE,
 * not well-formed), which matters more than any value in it - but not when
 * the parse was stopped on purpose (out of memory, a value too long).
 */
static void
override_error(OntRequest *req, OntParseError code, const char *detail,
			   const char *msg)
{
	if (req->error == ONT_ERR_NOMEM || req->error == ONT_ERR_TOO_LARGE)
		return;
	req->error = ONT_OK;
	set_error(req, code, detail, "%s", msg);
}

static bool
str_is(const xmlChar *s, const char *t)
{
	return s != NULL && strcmp((const char *) s, t) == 0;
}

/* The rule an element matches under its parent, or NULL. */
static const GrammarRule *
find_rule(const Frame *parent, const xmlChar *name, const xmlChar *uri)
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

/* Cut the reading short: libxml2's parse, or the fast path's. */
static void
stop_reading(ParseCtx *pc)
{
	pc->stopped = true;
	if (pc->state->ctxt)
		xmlStopParser((xmlParserCtxtPtr) pc->state->ctxt);
}

/* Out of memory: the parse is cut short, so no other verdict stands. */
static void
stop_on_nomem(ParseCtx *pc)
{
	pc->req->error = ONT_OK;
	set_error(pc->req, ONT_ERR_NOMEM, NULL, "out of memory");
	stop_reading(pc);
}

/* The attribute max_return_records, from SAX2's attribute array. */
static void
read_max_return_records(ParseCtx *pc, int nb_attributes, const xmlChar **attributes)
{
	OntRequest *req = pc->req;

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
			set_error(req, err, "max_return_records must be an integer.",
					  "invalid max_return_records: \"%s\"",
					  quote_value(trim(buf), q, sizeof(q)));
		else if (err == ONT_ERR_RANGE)
			set_error(req, err, "max_return_records must fit in an integer.",
					  "max_return_records out of range: \"%s\"",
					  quote_value(trim(buf), q, sizeof(q)));
		else if (v < 0)
			set_error(req, ONT_ERR_VALUE,
					  "max_return_records must be zero (the default of 1000) or positive.",
					  "max_return_records must not be negative: %lld", (long long) v);
		else
			req->max_return_records = (int32_t) v;
	}
}

/* The root element is neither an i2b2 request nor get_ont_process_status. */
static void
refuse_root(ParseCtx *pc, const xmlChar *name, const xmlChar *uri)
{
	char		q[48];
	char		qns[48];

	if (uri)
		set_error(pc->req, ONT_ERR_NO_REQUEST, NO_REQUEST_DETAIL,
				  "request has no get_ont_process_status element: the root element is \"%s\" in namespace \"%s\"",
				  quote_value((const char *) name, q, sizeof(q)),
				  quote_value((const char *) uri, qns, sizeof(qns)));
	else
		set_error(pc->req, ONT_ERR_NO_REQUEST, NO_REQUEST_DETAIL,
				  "request has no get_ont_process_status element: the root element is \"%s\"",
				  quote_value((const char *) name, q, sizeof(q)));
}

/*
 * What a new element is, given its parent: a lookup in the grammar, but
 * for the root element, which must be known, and get_ont_process_status,
 * which is counted (a second one is ambiguous) and carries an attribute.
 */
static Frame
classify(ParseCtx *pc, const xmlChar *name, const xmlChar *uri,
		 int nb_attributes, const xmlChar **attributes)
{
	static const Frame document = {R_DOCUMENT, 0, NULL, NULL};
	Frame		none = {R_IGNORE, 0, NULL, NULL};
	const Frame *parent;
	const GrammarRule *rule;

	if (pc->depth > MAX_FRAMES)
		return none;
	parent = pc->depth == 0 ? &document : &pc->frames[pc->depth - 1];
	if ((rule = find_rule(parent, name, uri)) == NULL)
	{
		if (pc->depth == 0)
			refuse_root(pc, name, uri);
		return none;
	}
	if (rule->role == R_OPS)
	{
		if (pc->ops_count++ > 0)
		{
			set_error(pc->req, ONT_ERR_AMBIGUOUS,
					  "A request carries one get_ont_process_status element.",
					  "ambiguous request: more than one get_ont_process_status element");
			return none;
		}
		read_max_return_records(pc, nb_attributes, attributes);
	}
	else if (pc->seen[rule - grammar])
	{
		/* a filter within a filter is named by its path */
		bool		nested = parent->rule && (parent->rule->flags & G_FILTER);

		if (rule->flags & G_FILTER)
			set_error(pc->req, ONT_ERR_AMBIGUOUS,
					  "Each filter may appear at most once in a request.",
					  "ambiguous request: more than one %s%s%s element",
					  nested ? parent->rule->name : "", nested ? "/" : "",
					  rule->name);
		return none;
	}
	pc->seen[rule - grammar] = true;
	if (rule->role == R_REQUEST)
		pc->req->enveloped = true;
	if (rule->role == R_FIELD)
		pc->text_len = 0;
	return (Frame) {rule->role, rule->field, rule->ns ? rule->ns : parent->ns, rule};
}

/* A value element has ended: check and keep its text. */
static void
finish_field(ParseCtx *pc, Field f, char *text)
{
	OntRequest *req = pc->req;
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
			for (value = text; is_xml_space(*value); value++)
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
				set_error(req, err, "process_id must be an integer.",
						  "invalid process_id: \"%s\"", quote_value(value, q, sizeof(q)));
			else if (err == ONT_ERR_RANGE)
				set_error(req, err, "process_id must fit in a bigint.",
						  "process_id out of range: \"%s\"", quote_value(value, q, sizeof(q)));
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
					set_error(req, err,
							  "Times must be xs:dateTime values: YYYY-MM-DDThh:mm:ss[.fraction][Z|(+|-)hh:mm].",
							  "invalid %s: \"%s\"", path, quote_value(value, q, sizeof(q)));
				else if (err != ONT_OK)
					set_error(req, err,
							  "A month, day, hour, minute, second or offset is out of range.",
							  "%s out of range: \"%s\"", path, quote_value(value, q, sizeof(q)));
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
append_text(ParseCtx *pc, const xmlChar *s, int len)
{
	if (pc->text_len + len > XML_MAX_TEXT_LENGTH)
	{
		set_error(pc->req, ONT_ERR_TOO_LARGE, NULL,
				  "request refused: a value is longer than %d bytes",
				  XML_MAX_TEXT_LENGTH);
		stop_reading(pc);
		return true;
	}
	if (pc->text == NULL || pc->text_len + len + 1 > pc->text_cap)
	{
		size_t		cap = pc->text_cap ? pc->text_cap : 64;
		char	   *grown;

		while (cap < pc->text_len + len + 1)
			cap *= 2;
		/* the old buffer belongs to the allocator's owner, who frees it */
		if ((grown = pc->alloc(pc->alloc_arg, cap)) == NULL)
			return false;
		if (pc->text_len > 0)
			memcpy(grown, pc->text, pc->text_len);
		pc->text = grown;
		pc->text_cap = cap;
	}
	memcpy(pc->text + pc->text_len, s, len);
	pc->text_len += len;
	return true;
}

/*
 * The events of a reading, from libxml2's SAX2 callbacks below or from the
 * fast path (request_fast_path.c), which delivers them alike.
 */
void
ont_event_start(ParseCtx *pc, const xmlChar *localname, const xmlChar *uri,
				int nb_attributes, const xmlChar **attributes)
{
	Frame		frame;

	/*
	 * Deeper than any request, and below libxml2's own limit (256 levels),
	 * whose message differs between versions and advises an option the
	 * client cannot set.
	 */
	if (pc->depth >= ONT_MAX_DEPTH)
	{
		set_error(pc->req, ONT_ERR_TOO_LARGE,
				  "An i2b2 request nests elements a few levels deep; more than "
				  ONT_STRINGIFY(ONT_MAX_DEPTH) " levels are refused.",
				  "request refused: elements are nested more than %d levels deep",
				  ONT_MAX_DEPTH);
		stop_reading(pc);
		return;
	}
	frame = classify(pc, localname, uri, nb_attributes, attributes);
	if (frame.role == R_FIELD)
	{
		pc->text = NULL;
		pc->text_len = pc->text_cap = 0;
	}
	if (pc->depth < MAX_FRAMES)
		pc->frames[pc->depth] = frame;
	pc->depth++;
}

void
ont_event_end(ParseCtx *pc)
{
	Frame	   *frame;

	pc->depth--;
	if (pc->depth >= MAX_FRAMES)
		return;
	frame = &pc->frames[pc->depth];
	if (frame->role != R_FIELD)
		return;
	/* an empty element has no text yet: make "" */
	if (!append_text(pc, (const xmlChar *) "", 0))
	{
		stop_on_nomem(pc);
		return;
	}
	pc->text[pc->text_len] = '\0';
	finish_field(pc, (Field) frame->field, pc->text);
	pc->text = NULL;
	pc->text_len = pc->text_cap = 0;
}

/* Character data directly inside a value element is its text. */
void
ont_event_text(ParseCtx *pc, const xmlChar *ch, int len)
{
	if (pc->depth == 0 || pc->depth > MAX_FRAMES ||
		pc->frames[pc->depth - 1].role != R_FIELD)
		return;
	if (!append_text(pc, ch, len))
		stop_on_nomem(pc);
}

const bool *
ont_event_stopped_flag(const ParseCtx *pc)
{
	return &pc->stopped;
}

static ParseCtx *
parse_ctx(void *ctx)
{
	return (ParseCtx *) ((OntParseState *) ((xmlParserCtxtPtr) ctx)->_private)->owner;
}

static void
sax_start_element(void *ctx, const xmlChar *localname, const xmlChar *prefix,
				  const xmlChar *URI, int nb_namespaces,
				  const xmlChar **namespaces, int nb_attributes,
				  int nb_defaulted, const xmlChar **attributes)
{
	(void) prefix;
	(void) nb_namespaces;
	(void) namespaces;
	(void) nb_defaulted;
	ont_event_start(parse_ctx(ctx), localname, URI, nb_attributes, attributes);
}

static void
sax_end_element(void *ctx, const xmlChar *localname, const xmlChar *prefix,
				const xmlChar *URI)
{
	(void) localname;
	(void) prefix;
	(void) URI;
	ont_event_end(parse_ctx(ctx));
}

static void
sax_characters(void *ctx, const xmlChar *ch, int len)
{
	ont_event_text(parse_ctx(ctx), ch, len);
}

/*
 * libxml2's structured error handler for this parse.  Every error and
 * warning libxml2 raises about the document comes here rather than to the
 * handler pg_xml_init installed, which would send warnings (an XML 1.1
 * declaration, an odd xml:space value) straight to the client and the
 * server log, the offending line of the request quoted, and would keep
 * errors with the request text for an xml_ereport nobody calls.  The first
 * error is kept for the cleaned message ont_parse_request builds: it names
 * the fault, later ones its consequences, which libxml2 versions report
 * differently (2.9 adds "Premature end of data" to a mismatched end tag,
 * 2.15 does not).  Warnings are dropped, as the request is read the same
 * either way.  No allocation, no longjmp: libxml2 is in the middle of
 * parsing.
 */
static void
sax_error(void *ctx, OntXmlErrorPtr err)
{
	ParseCtx   *pc = parse_ctx(ctx);

	if (err == NULL || err->level < XML_ERR_ERROR || pc->has_xml_error)
		return;
	pc->has_xml_error = true;
	pc->xml_error_line = err->line;
	snprintf(pc->xml_error, sizeof(pc->xml_error), "%s",
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

/*
 * The guards that refuse a request before libxml2 sees it: UTF-8, the
 * attribute pre-scan and the namespace count.  True, with the error set, when one
 * refuses it.
 */
static bool
refuse_by_guards(const char *buf, size_t len, OntRequest *req)
{
	/* the backend always passes UTF-8; the pre-scan relies on it */
	if (!is_utf8((const unsigned char *) buf, (const unsigned char *) buf + len))
	{
		set_error(req, ONT_ERR_XML,
				  "The parser reads UTF-8 text, without NUL characters.",
				  "request is not well-formed XML: not UTF-8 text");
		return true;
	}
	switch (prescan(buf, len))
	{
		case SCAN_TOO_MANY:
			set_error(req, ONT_ERR_TOO_LARGE,
					  "An element of an i2b2 request carries a few attributes; more than "
					  ONT_STRINGIFY(ONT_MAX_ATTRIBUTES) " are refused before parsing.",
					  "request refused: an element has more than %d attributes",
					  ONT_MAX_ATTRIBUTES);
			return true;
		case SCAN_DOCTYPE:
			set_error(req, ONT_ERR_XML, DOCTYPE_DETAIL, DOCTYPE_MSG);
			return true;
		case SCAN_OK:
		case SCAN_UNSURE:
			break;
	}
	if (too_many_namespaces(buf, len))
	{
		set_error(req, ONT_ERR_TOO_LARGE,
				  "An i2b2 request declares a few XML namespaces; more than "
				  ONT_STRINGIFY(ONT_MAX_NAMESPACES) " (occurrences of \"xmlns\") are refused before parsing.",
				  "request refused: more than %d namespace declarations",
				  ONT_MAX_NAMESPACES);
		return true;
	}
	return false;
}

/* A reading starts afresh: nothing of a declined fast reading is kept. */
static void
start_reading(ParseCtx *pc, OntRequest *req, OntParseState *state,
			  OntAllocFn alloc, void *alloc_arg)
{
	memset(req, 0, sizeof(*req));
	memset(pc, 0, sizeof(*pc));
	pc->req = req;
	pc->state = state;
	pc->alloc = alloc;
	pc->alloc_arg = alloc_arg;
	state->owner = pc;
}

bool
ont_parse_request(const char *buf, size_t len, OntRequest *req,
				  OntParseState *state, OntAllocFn alloc, void *alloc_arg)
{
	return ont_parse_request_mode(buf, len, req, state, alloc, alloc_arg,
								  ONT_PARSE_ANY);
}

bool
ont_parse_request_mode(const char *buf, size_t len, OntRequest *req,
					   OntParseState *state, OntAllocFn alloc, void *alloc_arg,
					   OntParseMode mode)
{
	ParseCtx	pc;
	xmlParserCtxtPtr ctxt;
	xmlSAXHandlerPtr sax;
	bool		well_formed;

	memset(state, 0, sizeof(*state));
	start_reading(&pc, req, state, alloc, alloc_arg);

	if (len > INT_MAX)
		return set_error(req, ONT_ERR_TOO_LARGE, NULL, "request is too large");

	/*
	 * The fast path reads the common shape of a request, or declines; then
	 * libxml2 reads it from the start, as the reference it is.  The guards
	 * hold for both, and come first: their refusal stands whatever the
	 * request holds.  For a request the fast path reads, their verdicts
	 * are known without running them - it declines text that is not UTF-8
	 * or holds a NUL, a
	 * DOCTYPE and a start tag of more than ONT_MAX_ATTRIBUTES attributes
	 * and namespace declarations, which is what the pre-scan counts, and
	 * everything that would leave the pre-scan unsure; and it counts
	 * "xmlns" as the namespace guard does, declining more.  Unless a
	 * handler cut the reading short (nesting too deep, a value too long):
	 * then the rest, unread, is the guards' to judge.
	 */
	if (mode != ONT_PARSE_LIBXML2)
	{
		if (ont_fast_read(buf, len, &pc))
		{
			if (pc.stopped && refuse_by_guards(buf, len, req))
			{
				/* refused: by the guards alone, as below */
				start_reading(&pc, req, state, alloc, alloc_arg);
				(void) refuse_by_guards(buf, len, req);
				return false;
			}
			state->fast_path = true;
			if (pc.ops_count == 0)
				set_error(req, ONT_ERR_NO_REQUEST, NO_REQUEST_DETAIL,
						  "request has no get_ont_process_status element in its message_body");
			return req->error == ONT_OK;
		}
		start_reading(&pc, req, state, alloc, alloc_arg);
	}

	if (refuse_by_guards(buf, len, req))
		return false;
	/* declined, and no guard refused it: libxml2's to read */
	if (mode == ONT_PARSE_FAST)
	{
		state->declined = true;
		return false;
	}

	ctxt = xmlNewParserCtxt();
	if (ctxt == NULL)
		return set_error(req, ONT_ERR_NOMEM, NULL, "out of memory");
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

	(void) xmlCtxtReadMemory(ctxt, buf, (int) len, NULL, NULL,
							 ONT_XML_PARSE_OPTIONS);

	/*
	 * A parse a handler stopped (a limit, out of memory) met no fault of
	 * well-formedness before (libxml2 calls no handler after one), though
	 * from 2.13 on libxml2 marks the stop itself as one: the handler's
	 * error, or an earlier one of a value, is the verdict then, as on 2.9
	 * and with the fast path.  A namespace fault does not stop the
	 * handlers, and still counts.
	 */
	well_formed = ctxt->wellFormed || pc.stopped;
	if (state->saw_doctype)
		override_error(req, ONT_ERR_XML, DOCTYPE_DETAIL, DOCTYPE_MSG);
	else if (!well_formed || !ctxt->nsWellFormed)
	{
		char		msg[sizeof(pc.xml_error)];
		char		full[ONT_ERRMSG_LEN];
		size_t		n;

		/*
		 * libxml2's messages end in a newline and may quote names from the
		 * document; keep printable ASCII only, like quote_value.
		 */
		snprintf(msg, sizeof(msg), "%s",
				 pc.has_xml_error ? pc.xml_error : "unknown error");
		for (n = 0; msg[n]; n++)
			if (msg[n] < 0x20 || msg[n] >= 0x7f)
				msg[n] = ' ';
		while (n > 0 && msg[n - 1] == ' ')
			msg[--n] = '\0';
		snprintf(full, sizeof(full), "request is not %swell-formed XML: line %d: %s",
				 well_formed ? "namespace-" : "",
				 pc.has_xml_error ? pc.xml_error_line : 0, msg);
		override_error(req, ONT_ERR_XML, NULL, full);
	}
	else if (pc.ops_count == 0)
		set_error(req, ONT_ERR_NO_REQUEST, NO_REQUEST_DETAIL,
				  "request has no get_ont_process_status element in its message_body");

	ont_parse_cleanup(state);
	return req->error == ONT_OK;
}
