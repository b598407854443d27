/*-------------------------------------------------------------------------
 *
 * request_fast_path.c
 *	  A strict reader for the requests i2b2 clients send, without libxml2.
 *
 * Every client sends the same few kilobytes of plain XML: an optional XML
 * declaration, elements with a few attributes, namespace declarations and
 * prefixes, text with the odd predefined entity or character reference,
 * perhaps comments and white space, and line ends of LF or, from Windows,
 * CR LF.  For that shape this file delivers the same events libxml2's SAX2
 * parse delivers (request_events.h) - elements with their namespace URIs
 * and attributes, text, ends - to the one request grammar in
 * request_parser.c, in a fraction of libxml2's time: no parser context, no
 * dictionary, no copies.
 *
 * It judges nothing.  Whatever it is not certain to read exactly as libxml2
 * does, it declines, and the caller then reads the request with libxml2
 * (request_libxml2.c), which stays the reference and the judge of every
 * refusal.  So a request it reads to the end is well-formed and
 * namespace-well-formed by libxml2's lights, and the only errors left are
 * those the grammar raised about values, the same whoever read them.
 * Declined, among others: a DOCTYPE, CDATA, a processing instruction (the
 * XML declaration aside, and that only as version 1.0, encoding UTF-8,
 * standalone yes or no), a name that is not ASCII or longer than
 * FAST_MAX_NAME, an entity other than the five predefined, a character
 * reference to something that is not an XML Char, '&', '<' or a tab, LF
 * or CR in an attribute value (libxml2 normalises those), two attributes
 * of one element with the same local name, a namespace name that is not a
 * plain absolute "scheme://host/path" URI (libxml2 checks URIs), the xml
 * and xmlns prefixes used or declared, an undeclared prefix, text outside
 * the root element, a request over FAST_MAX_BYTES, a request with a
 * character that is not an XML Char anywhere - and anything malformed.
 * Line ends are read as XML reads them (xml_chars.h): CR LF and a lone CR
 * are white space in markup and LF in text.  test/fuzz/fuzz_request.c
 * checks, input by input, that what this file reads libxml2 reads the
 * same.
 *
 * It reads only requests the guards (request_guards.c) passed, and relies
 * on what they learnt: the text is UTF-8 without NUL, and, when their
 * verdict says so, every character is an XML Char - so it never looks at
 * a character other than ASCII.  It checks none of the guards' limits
 * itself, but for the room it has (ONT_MAX_ATTRIBUTES attributes of a
 * tag, ONT_MAX_NAMESPACES declarations in scope), where it declines.
 *
 * Like the rest of the parser it uses libc only (and libxml2's xmlChar
 * type), so the fuzz harness links it alone.
 *
 *-------------------------------------------------------------------------
 */
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "request_events.h"
#include "request_parser.h"
#include "xml_chars.h"

/* i2b2 requests are a few KB; anything larger is for libxml2 */
#define FAST_MAX_BYTES (64 * 1024)
#define FAST_MAX_NAME 128
/* deeper than the grammar lets a request go: it stops the reading first */
#define FAST_MAX_OPEN (ONT_MAX_DEPTH + 1)
#define FAST_ARENA 8192

static const char XML_NS[] = "http://www.w3.org/XML/1998/namespace";
static const char XMLNS_NS[] = "http://www.w3.org/2000/xmlns/";

/* A namespace declaration in scope; prefix "" is the default namespace. */
typedef struct Binding
{
	const unsigned char *prefix;
	int			prefix_len;
	const char *uri;			/* NUL-terminated; "" undeclares the default */
} Binding;

typedef struct OpenElement
{
	const unsigned char *qname; /* as written, for the end tag */
	int			qname_len;
	int			nbindings;		/* bindings in scope before it */
	size_t		arena_used;		/* arena before it */
} OpenElement;

/* A name as written: prefix (len 0: none) and local part. */
typedef struct QName
{
	const unsigned char *prefix;
	int			prefix_len;
	const unsigned char *local;
	int			local_len;
} QName;

typedef struct FastAttr
{
	QName		name;
	const unsigned char *value;
	int			value_len;
} FastAttr;

typedef struct Reader
{
	const unsigned char *p;
	const unsigned char *end;
	OntReading *rd;
	const bool *stopped;		/* the grammar's: it cut the reading short */
	Binding		bindings[ONT_MAX_NAMESPACES + 1];
	int			nbindings;
	OpenElement open[FAST_MAX_OPEN];
	int			depth;
	/* NUL-terminated copies of names and URIs the grammar compares */
	char		arena[FAST_ARENA];
	size_t		arena_used;
} Reader;

/*
 * The loops over bytes below keep their position in a local: a byte read
 * through r->p might, as far as the compiler knows, be r->p itself, which
 * it would then store and load again at every byte.
 */
static int
skip_spaces(Reader *r)
{
	const unsigned char *start = r->p;
	const unsigned char *p = start;

	while (p < r->end && xml_is_space(*p))
		p++;
	r->p = p;
	return (int) (p - start);
}

/*
 * Does the input at r->p start with the string literal s?  Compared byte
 * by byte, which the compiler unrolls for a literal, rather than by a call
 * of memcmp for two or three bytes.
 */
#define looking_at(r, s) looking_at_n((r), (s), sizeof(s) - 1)

static inline bool
looking_at_n(const Reader *r, const char *s, size_t n)
{
	if ((size_t) (r->end - r->p) < n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (r->p[i] != (unsigned char) s[i])
			return false;
	return true;
}

/*
 * Are the n bytes at a those at b?  Names and prefixes are short: compared
 * in place, eight bytes at a time, rather than by a call of memcmp.
 */
static inline bool
same_bytes(const unsigned char *a, const unsigned char *b, int n)
{
	for (; n >= 8; a += 8, b += 8, n -= 8)
	{
		uint64_t	x;
		uint64_t	y;

		memcpy(&x, a, 8);
		memcpy(&y, b, 8);
		if (x != y)
			return false;
	}
	for (; n > 0; a++, b++, n--)
		if (*a != *b)
			return false;
	return true;
}

/* Is the span s of len bytes the string literal t? */
#define span_is(s, len, t) \
	((size_t) (len) == sizeof(t) - 1 && memcmp((s), (t), sizeof(t) - 1) == 0)

/* An ASCII NCName, at most FAST_MAX_NAME bytes; its length, 0 if none. */
static inline int
read_ncname(Reader *r)
{
	const unsigned char *start = r->p;
	const unsigned char *p = start;

	if (p >= r->end || !xml_is_ncname_start(*p))
		return 0;
	p = xml_ncname_end(p + 1, r->end);
	r->p = p;
	if (p - start > FAST_MAX_NAME)
		return 0;
	return (int) (p - start);
}

static bool
read_qname(Reader *r, QName *q)
{
	const unsigned char *first = r->p;
	int			n = read_ncname(r);

	if (n == 0)
		return false;
	if (r->p < r->end && *r->p == ':')
	{
		r->p++;
		q->prefix = first;
		q->prefix_len = n;
		q->local = r->p;
		if ((q->local_len = read_ncname(r)) == 0)
			return false;
	}
	else
	{
		q->prefix = NULL;
		q->prefix_len = 0;
		q->local = first;
		q->local_len = n;
	}
	/* a second colon: not a QName */
	return !(r->p < r->end && *r->p == ':');
}

static char *
arena_copy(Reader *r, const unsigned char *s, int len)
{
	char	   *out;

	if (r->arena_used + len + 1 > sizeof(r->arena))
		return NULL;
	out = r->arena + r->arena_used;
	memcpy(out, s, len);
	out[len] = '\0';
	r->arena_used += len + 1;
	return out;
}

/*
 * A namespace name libxml2 is sure to take without a word: empty (for the
 * default namespace only), or scheme "://" host, then an optional path of
 * unreserved characters and slashes.  Not the two reserved names.
 */
static bool
plain_namespace_name(const unsigned char *s, int len)
{
	int			i = 0;
	int			host;

	if (span_is(s, len, XML_NS) || span_is(s, len, XMLNS_NS))
		return false;
	if (len == 0 || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
		return false;
	while (i < len && (xml_is_ncname_char(s[i]) || s[i] == '+') && s[i] != '_')
		i++;
	if (len - i < 3 || memcmp(s + i, "://", 3) != 0)
		return false;
	i += 3;
	for (host = i; i < len && (xml_is_ncname_char(s[i]) && s[i] != '_'); i++)
		;
	if (i == host)
		return false;
	if (i == len)
		return true;
	if (s[i] != '/')
		return false;
	for (; i < len; i++)
		if (!xml_is_ncname_char(s[i]) && s[i] != '/' && s[i] != '~')
			return false;
	return true;
}

/* The URI a prefix ("" for the default namespace) is bound to, or NULL. */
static const char *
lookup_prefix(const Reader *r, const unsigned char *prefix, int prefix_len)
{
	for (int i = r->nbindings - 1; i >= 0; i--)
		if (r->bindings[i].prefix_len == prefix_len &&
			same_bytes(r->bindings[i].prefix, prefix, prefix_len))
			return r->bindings[i].uri;
	return NULL;
}

/*
 * A quoted attribute value, r->p at its quote: characters taken as they
 * are, the other quote among them.  libxml2 expands '&' and turns tab, LF
 * and CR into spaces: declined.
 */
static bool
read_att_value(Reader *r, const unsigned char **value, int *len)
{
	unsigned char quote;
	const unsigned char *start;
	const unsigned char *p;

	if (r->p >= r->end || (*r->p != '"' && *r->p != '\''))
		return false;
	quote = *r->p;
	start = r->p + 1;
	for (p = start;; p++)
	{
		if ((p = xml_find_class(p, r->end, XC_VALUE_STOP)) == r->end)
			return false;
		if (*p == quote)
			break;
		if (*p != '"' && *p != '\'')
			return false;
	}
	*value = start;
	*len = (int) (p - start);
	r->p = p + 1;
	return true;
}

static void
end_element(Reader *r)
{
	OpenElement *e = &r->open[--r->depth];

	r->nbindings = e->nbindings;
	r->arena_used = e->arena_used;
	ont_event_end(r->rd);
}

/*
 * A start tag, r->p at its '<': its attributes and namespace declarations
 * checked as libxml2 would, the element's and attributes' namespaces
 * resolved, and the start event delivered.
 */
static bool
read_start_tag(Reader *r)
{
	const unsigned char *tag = ++r->p;
	QName		name;
	FastAttr	attrs[ONT_MAX_ATTRIBUTES];
	int			nattrs = 0;
	const xmlChar *sax[5 * ONT_MAX_ATTRIBUTES];
	OpenElement *e;
	const char *uri;
	char	   *local;
	bool		empty;

	if (r->depth >= FAST_MAX_OPEN || !read_qname(r, &name) ||
		span_is(name.local, name.local_len, "xmlns"))
		return false;
	e = &r->open[r->depth];
	e->qname = tag;
	e->qname_len = (int) (r->p - tag);
	e->nbindings = r->nbindings;
	e->arena_used = r->arena_used;

	for (;;)
	{
		int			spaces = skip_spaces(r);
		FastAttr	a;

		if (looking_at(r, ">") || looking_at(r, "/>"))
		{
			empty = (*r->p == '/');
			r->p += empty ? 2 : 1;
			break;
		}
		if (spaces == 0 || !read_qname(r, &a.name))
			return false;
		skip_spaces(r);
		if (!looking_at(r, "="))
			return false;
		r->p++;
		skip_spaces(r);
		if (!read_att_value(r, &a.value, &a.value_len))
			return false;

		if (a.name.prefix == NULL && span_is(a.name.local, a.name.local_len, "xmlns"))
		{
			/* xmlns="...": the default namespace; "" undeclares it */
			if (a.value_len > 0 && !plain_namespace_name(a.value, a.value_len))
				return false;
			a.name.prefix = a.name.local;
			a.name.prefix_len = 0;
		}
		else if (a.name.prefix != NULL &&
				 span_is(a.name.prefix, a.name.prefix_len, "xmlns"))
		{
			/* xmlns:p="...": never empty, never the xml or xmlns prefix */
			if (span_is(a.name.local, a.name.local_len, "xml") ||
				span_is(a.name.local, a.name.local_len, "xmlns") ||
				!plain_namespace_name(a.value, a.value_len))
				return false;
			a.name.prefix = a.name.local;
			a.name.prefix_len = a.name.local_len;
		}
		else
		{
			/* an attribute; one local name once (libxml2 checks QNames) */
			if (nattrs == ONT_MAX_ATTRIBUTES ||
				span_is(a.name.local, a.name.local_len, "xmlns"))
				return false;
			for (int i = 0; i < nattrs; i++)
				if (attrs[i].name.local_len == a.name.local_len &&
					same_bytes(attrs[i].name.local, a.name.local, a.name.local_len))
					return false;
			attrs[nattrs++] = a;
			continue;
		}

		/* a namespace declaration: one per prefix in a tag */
		for (int i = e->nbindings; i < r->nbindings; i++)
			if (r->bindings[i].prefix_len == a.name.prefix_len &&
				same_bytes(r->bindings[i].prefix, a.name.prefix, a.name.prefix_len))
				return false;
		if (r->nbindings == ONT_MAX_NAMESPACES + 1)
			return false;
		r->bindings[r->nbindings].prefix = a.name.prefix;
		r->bindings[r->nbindings].prefix_len = a.name.prefix_len;
		if ((r->bindings[r->nbindings].uri =
			 arena_copy(r, a.value, a.value_len)) == NULL)
			return false;
		r->nbindings++;
	}

	/*
	 * What the attribute pre-scan counts (an '=' each): the guards refused
	 * more, so this holds for every request read here.
	 */
	if (nattrs + (r->nbindings - e->nbindings) > ONT_MAX_ATTRIBUTES)
		return false;

	/* the element's namespace: its prefix's, else the default one */
	if (name.prefix != NULL &&
		(span_is(name.prefix, name.prefix_len, "xml") ||
		 span_is(name.prefix, name.prefix_len, "xmlns")))
		return false;
	uri = lookup_prefix(r, name.prefix ? name.prefix : name.local,
						name.prefix_len);
	if (name.prefix != NULL && uri == NULL)
		return false;
	if (uri != NULL && *uri == '\0')
		uri = NULL;
	if ((local = arena_copy(r, name.local, name.local_len)) == NULL)
		return false;

	/* the attributes, in SAX2's layout; unprefixed ones have no namespace */
	for (int i = 0; i < nattrs; i++)
	{
		const FastAttr *a = &attrs[i];
		const xmlChar **s = sax + 5 * i;

		s[1] = NULL;
		s[2] = NULL;
		if (a->name.prefix != NULL)
		{
			const char *auri;

			if (span_is(a->name.prefix, a->name.prefix_len, "xml") ||
				(auri = lookup_prefix(r, a->name.prefix, a->name.prefix_len)) == NULL ||
				*auri == '\0' ||
				(s[1] = (const xmlChar *) arena_copy(r, a->name.prefix,
													 a->name.prefix_len)) == NULL)
				return false;
			s[2] = (const xmlChar *) auri;
		}
		if ((s[0] = (const xmlChar *) arena_copy(r, a->name.local,
												 a->name.local_len)) == NULL)
			return false;
		s[3] = a->value;
		s[4] = a->value + a->value_len;
	}

	r->depth++;
	ont_event_start(r->rd, (const xmlChar *) local, (const xmlChar *) uri,
					nattrs, sax);
	if (empty && !*r->stopped)
		end_element(r);
	return true;
}

/* An end tag, r->p at its "</": the open element's name, as written. */
static bool
read_end_tag(Reader *r)
{
	const OpenElement *e = &r->open[r->depth - 1];
	const unsigned char *name = r->p + 2;

	r->p = name;
	if (r->end - name < e->qname_len || !same_bytes(name, e->qname, e->qname_len))
		return false;
	r->p += e->qname_len;
	if (r->p < r->end && xml_is_name_char(*r->p))
		return false;
	skip_spaces(r);
	if (!looking_at(r, ">"))
		return false;
	r->p++;
	end_element(r);
	return true;
}

/* A comment, r->p at its "<!--": no "--" inside. */
static bool
skip_comment(Reader *r)
{
	bool		closed;
	const unsigned char *after = xml_comment_end(r->p + 4, r->end,
												 FAST_MAX_BYTES, &closed);

	if (after == NULL || !closed)
		return false;
	r->p = after;
	return true;
}

/*
 * A reference in text, r->p at its '&': one of the five predefined
 * entities, or a character reference to an XML Char, delivered as the
 * character it stands for.
 */
static bool
read_reference(Reader *r)
{
	static const struct
	{
		const char *ref;
		const char *ch;
	}			predefined[] = {
		{"&lt;", "<"}, {"&gt;", ">"}, {"&amp;", "&"}, {"&quot;", "\""}, {"&apos;", "'"}
	};
	uint32_t	c;
	unsigned char utf8[4];
	int			n;

	for (size_t i = 0; i < sizeof(predefined) / sizeof(predefined[0]); i++)
	{
		size_t		len = strlen(predefined[i].ref);

		if ((size_t) (r->end - r->p) >= len &&
			memcmp(r->p, predefined[i].ref, len) == 0)
		{
			r->p += len;
			ont_event_text(r->rd, (const xmlChar *) predefined[i].ch, 1);
			return true;
		}
	}
	if (!looking_at(r, "&#") || (n = xml_char_ref(r->p, r->end, &c)) == 0 ||
		!xml_is_char(c))
		return false;
	r->p += n;
	n = xml_utf8_encode(c, utf8);
	ont_event_text(r->rd, utf8, n);
	return true;
}

/*
 * Character data up to the next '<' or '&', no "]]>"; a line end (CR LF,
 * or a lone CR) delivered as LF, as XML reads it.
 */
static bool
read_text(Reader *r)
{
	const unsigned char *start = r->p;
	const unsigned char *p = start;
	/* white space between elements, mostly: read, but not delivered */
	bool		keep = ont_reading_keeps_text(r->rd);

	for (; (p = xml_find_class(p, r->end, XC_TEXT_STOP)) < r->end; p++)
	{
		if (*p == '<' || *p == '&')
			break;
		if (*p == ']')
		{
			if (r->end - p >= 3 && p[1] == ']' && p[2] == '>')
				return false;
			continue;
		}
		if (*p != '\r')
			return false;
		if (!keep)
			continue;
		/* the text so far, then LF: the one that follows, or one for CR */
		ont_event_text(r->rd, start, (int) (p - start));
		start = p + 1;
		if ((r->end - p < 2 || p[1] != '\n') && !*r->stopped)
			ont_event_text(r->rd, (const xmlChar *) "\n", 1);
		if (*r->stopped)
		{
			r->p = start;
			return true;
		}
	}
	r->p = p;
	if (keep)
		ont_event_text(r->rd, start, (int) (p - start));
	return true;
}

/* <?xml version="1.0" [encoding="UTF-8"] [standalone="yes|no"]?> */
static bool
read_xml_declaration(Reader *r)
{
	static const char *const names[] = {"version", "encoding", "standalone"};
	int			next = 0;

	r->p += 5;
	for (;;)
	{
		int			spaces = skip_spaces(r);
		const unsigned char *value;
		int			len;
		int			which;

		if (looking_at(r, "?>"))
		{
			r->p += 2;
			return next > 0;
		}
		if (spaces == 0)
			return false;
		for (which = next; which < 3; which++)
			if ((size_t) (r->end - r->p) >= strlen(names[which]) &&
				memcmp(r->p, names[which], strlen(names[which])) == 0)
				break;
		/* version first and required; the others optional, in order */
		if (which == 3 || (next == 0 && which != 0))
			return false;
		r->p += strlen(names[which]);
		skip_spaces(r);
		if (!looking_at(r, "="))
			return false;
		r->p++;
		skip_spaces(r);
		if (!read_att_value(r, &value, &len))
			return false;
		if (which == 0 && !span_is(value, len, "1.0"))
			return false;
		if (which == 1 && !(len == 5 && strncasecmp((const char *) value, "utf-8", 5) == 0))
			return false;
		if (which == 2 && !span_is(value, len, "yes") && !span_is(value, len, "no"))
			return false;
		next = which + 1;
	}
}

/* The reading itself: false when it declines. */
static bool
fast_read(const char *buf, size_t len, OntReading *rd)
{
	Reader		r;
	bool		seen_root = false;

	r.p = (const unsigned char *) buf;
	r.end = r.p + len;
	r.rd = rd;
	r.stopped = &rd->stopped;
	r.nbindings = 0;
	r.depth = 0;
	r.arena_used = 0;

	if (looking_at(&r, "<?xml") && r.end - r.p > 5 && xml_is_space(r.p[5]) &&
		!read_xml_declaration(&r))
		return false;

	for (;;)
	{
		bool		ok;

		if (r.depth == 0)
		{
			/* before and after the root element: white space, comments */
			skip_spaces(&r);
			if (r.p == r.end)
				return seen_root;
			if (looking_at(&r, "<!--"))
				ok = skip_comment(&r);
			else if (seen_root || *r.p != '<' || r.end - r.p < 2 ||
					 !xml_is_ncname_start(r.p[1]))
				return false;
			else
			{
				seen_root = true;
				ok = read_start_tag(&r);
			}
		}
		else if (r.p == r.end)
			return false;
		else if (*r.p == '&')
			ok = read_reference(&r);
		else if (*r.p != '<')
			ok = read_text(&r);
		else if (looking_at(&r, "</"))
			ok = read_end_tag(&r);
		else if (looking_at(&r, "<!--"))
			ok = skip_comment(&r);
		else if (r.end - r.p >= 2 && xml_is_ncname_start(r.p[1]))
			ok = read_start_tag(&r);
		else
			return false;
		if (!ok)
			return false;
		if (*r.stopped)
			return true;
	}
}

OntFastResult
ont_read_request_fast(const char *buf, size_t len,
					  const OntGuardVerdict *verdict, OntRequest *req,
					  OntAllocFn alloc, void *alloc_arg)
{
	OntReading	rd;

	if (!verdict->passed)
		return ONT_FAST_READ;	/* refused: *req says why */
	ont_reading_start(&rd, req, alloc, alloc_arg);
	/* a character that is not a Char is an error libxml2 reports */
	if (len > FAST_MAX_BYTES || !verdict->all_chars || !fast_read(buf, len, &rd))
	{
		/* nothing of the attempt is kept */
		memset(req, 0, sizeof(*req));
		return ONT_FAST_DECLINED;
	}
	(void) ont_reading_finish(&rd);
	return ONT_FAST_READ;
}
