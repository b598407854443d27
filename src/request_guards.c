/*-------------------------------------------------------------------------
 *
 * request_guards.c
 *	  The guards: what refuses a request before either reader sees it, run
 *	  once per request, whoever reads it.
 *
 * Before the fast path (request_fast_path.c) or libxml2
 * (request_libxml2.c) reads a request, ont_guard_request judges its bytes:
 * - its size: libxml2 takes an int;
 * - UTF-8 without NUL: the backend always converts requests to UTF-8, and
 *   the pre-scan and the fast path rely on it;
 * - no start tag with more than ONT_MAX_ATTRIBUTES attributes: libxml2
 *   checks attributes for duplicates in quadratic time, and a 1 MB start
 *   tag of short attributes keeps it busy for minutes (i2b2 elements carry
 *   a handful, namespace declarations included).  The pre-scan that counts
 *   them follows XML's lexical structure as libxml2 does (see "The
 *   attribute pre-scan" below), so that no comment, PI, CDATA section or
 *   stray quote can hide a start tag; it refuses a DOCTYPE besides;
 * - no more than ONT_MAX_NAMESPACES namespace declarations: libxml2 looks
 *   prefixes up in linear time, and thousands of declarations in scope
 *   make 1 MB of prefixed names cost it seconds.
 * A refusal stands whatever the request holds, and no reader runs.  What
 * passes goes to a reader with the verdict (OntGuardVerdict), which also
 * says what the pass learnt of the bytes: whether every character is an
 * XML Char, so that the fast path need not look at them one by one.
 *
 * The guards are one pass over the bytes (scan_bytes): UTF-8 and NUL,
 * Chars, the '=' of the whole request (every attribute the pre-scan counts
 * has one), "xmlns" and "<!DOCTYPE".  With no more '=' in the whole
 * request than a start tag may have and no "<!DOCTYPE" anywhere, the
 * pre-scan cannot refuse it (it refuses nothing else), and it is not run;
 * otherwise it is, and its verdict stands.  test/fuzz compares this
 * verdict with that of the guards run one by one (ONT_GUARD_REFERENCE) on
 * every input.
 *
 * Like the rest of the parser it uses libc only (and libxml2's limits), so
 * the fuzz harness links it alone.
 *
 *-------------------------------------------------------------------------
 */
/* memmem: glibc declares it for _GNU_SOURCE (musl and the BSDs as well) */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include <libxml/parserInternals.h>

#include "request_events.h"
#include "request_parser.h"
#include "xml_chars.h"

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
	while (p < end && (xml_is_name_char(*p) || *p >= 0x80))
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
	uint32_t	c;

	return xml_char_ref(p, end, &c) > 0 && c != 0;
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
	bool		closed;			/* (an unclosed comment ends at the end) */

	while (p < end && (p = memchr(p, '<', end - p)) != NULL)
	{
		size_t		left = end - p;

		if (left >= 4 && memcmp(p, "<!--", 4) == 0)
			p = xml_comment_end(p + 4, end, SCAN_MAX_SKIP, &closed);
		else if (left >= 9 && memcmp(p, "<![CDATA[", 9) == 0)
			p = skip_cdata(p + 9, end);
		else if (left >= 2 && p[1] == '?')
		{
			if (left == 2)
				break;
			if (xml_is_name_start(p[2]))
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
 * The pass over the bytes: what the guards need to know, and what the
 * fast path may rely on.
 */
typedef struct ByteScan
{
	bool		utf8;			/* UTF-8 without NUL (if false, the rest is unknown) */
	bool		all_chars;		/* every character is an XML Char */
	size_t		equals;			/* '=' */
	size_t		xmlns;			/* occurrences of "xmlns" */
	bool		doctype;		/* "<!DOCTYPE" */
} ByteScan;

/* An ASCII byte other than NUL, p at it. */
static inline void
scan_ascii(ByteScan *s, const unsigned char *buf, const unsigned char *p,
		   const unsigned char *end)
{
	switch (*p)
	{
		case '=':
			s->equals++;
			break;
		case 'x':
			if (end - p >= 5 && memcmp(p, "xmlns", 5) == 0)
				s->xmlns++;
			break;
		case '!':
			if (p > buf && p[-1] == '<' && end - p >= 8 &&
				memcmp(p + 1, "DOCTYPE", 7) == 0)
				s->doctype = true;
			break;
		case '\t':
		case '\n':
		case '\r':
			break;
		default:
			if (*p < 0x20)
				s->all_chars = false;
			break;
	}
}

/*
 * The bytes from p up to stop (or a little past it, to the end of a UTF-8
 * sequence that starts before it) one at a time; where it stopped, or NULL
 * when they are not UTF-8 or hold a NUL.
 */
static const unsigned char *
scan_slowly(ByteScan *s, const unsigned char *buf, const unsigned char *p,
			const unsigned char *stop, const unsigned char *end)
{
	while (p < stop)
	{
		int			n;

		if (*p == 0)
			return NULL;
		if (*p < 0x80)
		{
			scan_ascii(s, buf, p, end);
			p++;
			continue;
		}
		if ((n = xml_utf8_len(p, end)) == 0)
			return NULL;
		if (xml_is_fffe_ffff(p, end))
			s->all_chars = false;
		p += n;
	}
	return p;
}

#ifdef XML_VECTORS
/*
 * Sixteen bytes at a time (xml_chars.h): in a block of ASCII without a
 * control but tab, LF and CR, the '=' are counted lane by lane, and the
 * few 'x' and '!' looked at where they are; any other block is read one
 * byte at a time.
 */

/* the lanes of a vector of counts, added up */
static inline size_t
vector_sum(XmlUnsignedVector v)
{
	unsigned char b[16];
	size_t		sum = 0;

	memcpy(b, &v, sizeof(b));
	for (int i = 0; i < 16; i++)
		sum += b[i];
	return sum;
}

static bool
scan_bytes(const unsigned char *buf, size_t len, ByteScan *s)
{
	const unsigned char *p = buf;
	const unsigned char *end = buf + len;
	XmlUnsignedVector equals = {0};
	int			blocks = 0;

	memset(s, 0, sizeof(*s));
	s->all_chars = true;
	while (end - p >= 16)
	{
		XmlByteVector v;
		XmlByteVector odd;
		XmlByteVector marks;

		memcpy(&v, p, sizeof(v));
		/* bytes >= 0x80 are negative: below 0x20 too */
		odd = (v < 0x20) & (v != '\t') & (v != '\n') & (v != '\r');
		marks = (v == 'x') | (v == '!');
		if (xml_vector_any(odd | marks))
		{
			if (xml_vector_any(odd))
			{
				if ((p = scan_slowly(s, buf, p, p + 16, end)) == NULL)
					return false;
				continue;
			}
			for (unsigned bits = xml_vector_bits(marks); bits != 0; bits &= bits - 1)
				scan_ascii(s, buf, p + __builtin_ctz(bits), end);
		}
		/* a lane counts up to 255 blocks' '=' (-1 each) */
		equals -= (XmlUnsignedVector) (v == '=');
		if (++blocks == 255)
		{
			s->equals += vector_sum(equals);
			equals = (XmlUnsignedVector) {0};
			blocks = 0;
		}
		p += 16;
	}
	s->equals += vector_sum(equals);
	if (scan_slowly(s, buf, p, end, end) == NULL)
		return false;
	s->utf8 = true;
	return true;
}
#else
static bool
scan_bytes(const unsigned char *buf, size_t len, ByteScan *s)
{
	memset(s, 0, sizeof(*s));
	s->all_chars = true;
	if (scan_slowly(s, buf, buf, buf + len, buf + len) == NULL)
		return false;
	s->utf8 = true;
	return true;
}
#endif

static unsigned long guard_passes = 0;

unsigned long
ont_guard_passes(void)
{
	return guard_passes;
}

/*
 * The refusals: *req holds the error and nothing else.  (A request that
 * passes is left alone: its reader starts *req afresh.)
 */
static bool
refuse_too_large(OntRequest *req)
{
	memset(req, 0, sizeof(*req));
	return ont_request_error(req, ONT_ERR_TOO_LARGE,
							 "libxml2 reads documents of at most 2 GB.",
							 "request is too large");
}

static bool
refuse_not_utf8(OntRequest *req)
{
	memset(req, 0, sizeof(*req));
	return ont_request_error(req, ONT_ERR_XML,
							 "The request is not UTF-8 text, or contains a NUL character.",
							 "request is not well-formed XML");
}

/* The pre-scan's verdict, if it refuses the request. */
static bool
refuse_by_prescan(ScanResult r, OntRequest *req)
{
	switch (r)
	{
		case SCAN_TOO_MANY:
			memset(req, 0, sizeof(*req));
			ont_request_error(req, ONT_ERR_TOO_LARGE,
							  "An element of an i2b2 request carries a few attributes; more than "
							  ONT_STRINGIFY(ONT_MAX_ATTRIBUTES) " are refused before parsing.",
							  "request has an element with more than %d attributes",
							  ONT_MAX_ATTRIBUTES);
			return true;
		case SCAN_DOCTYPE:
			memset(req, 0, sizeof(*req));
			ont_request_error(req, ONT_ERR_XML, ONT_DOCTYPE_DETAIL, ONT_DOCTYPE_MSG);
			return true;
		case SCAN_OK:
		case SCAN_UNSURE:
			break;
	}
	return false;
}

static bool
refuse_namespaces(OntRequest *req)
{
	memset(req, 0, sizeof(*req));
	return ont_request_error(req, ONT_ERR_TOO_LARGE,
							 "An i2b2 request declares a few XML namespaces; more than "
							 ONT_STRINGIFY(ONT_MAX_NAMESPACES) " (occurrences of \"xmlns\") are refused before parsing.",
							 "request has more than %d namespace declarations",
							 ONT_MAX_NAMESPACES);
}

bool
ont_guard_request(const char *buf, size_t len, OntRequest *req,
				  OntGuardVerdict *verdict)
{
	ByteScan	s;

	guard_passes++;
	verdict->passed = false;
	verdict->all_chars = false;
	if (len > INT_MAX)
		return refuse_too_large(req);
	if (!scan_bytes((const unsigned char *) buf, len, &s))
		return refuse_not_utf8(req);
	/* the pre-scan refuses nothing else */
	if ((s.equals > ONT_MAX_ATTRIBUTES || s.doctype) &&
		refuse_by_prescan(prescan(buf, len), req))
		return false;
	if (s.xmlns > ONT_MAX_NAMESPACES)
		return refuse_namespaces(req);
	verdict->passed = true;
	verdict->all_chars = s.all_chars;
	return true;
}

#ifdef ONT_GUARD_REFERENCE
/*
 * The guards one by one, each over the whole request, as they were before
 * they became one pass: test/fuzz compares ont_guard_request with this on
 * every input.
 */
static bool
is_utf8(const unsigned char *p, const unsigned char *end)
{
	while (p < end)
	{
		int			n;

		if ((n = xml_utf8_len(p, end)) == 0)
			return false;
		p += n;
	}
	return true;
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


bool
ont_guard_request_reference(const char *buf, size_t len, OntRequest *req,
							OntGuardVerdict *verdict)
{
	const unsigned char *p = (const unsigned char *) buf;
	const unsigned char *end = p + len;

	memset(req, 0, sizeof(*req));
	memset(verdict, 0, sizeof(*verdict));
	if (len > INT_MAX)
		return refuse_too_large(req);
	if (!is_utf8(p, end))
		return refuse_not_utf8(req);
	if (refuse_by_prescan(prescan(buf, len), req))
		return false;
	if (too_many_namespaces(buf, len))
		return refuse_namespaces(req);
	verdict->passed = true;
	verdict->all_chars = true;
	for (int n; p < end; p += n)
		if ((n = xml_char_len(p, end)) == 0)
		{
			verdict->all_chars = false;
			break;
		}
	return true;
}
#endif
