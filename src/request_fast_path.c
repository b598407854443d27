/*-------------------------------------------------------------------------
 *
 * request_fast_path.c
 *	  A strict reader for the requests i2b2 clients send, without libxml2.
 *
 * Every client sends the same few kilobytes of plain XML: an optional XML
 * declaration, elements with a few attributes, namespace declarations and
 * prefixes, text with the odd predefined entity or character reference,
 * perhaps comments and white space.  For that shape this file delivers the
 * same events libxml2's SAX2 parse delivers (request_events.h) - elements
 * with their namespace URIs and attributes, text, ends - to the one request
 * grammar in request_parser.c, in a fraction of libxml2's time: no parser
 * context, no dictionary, no copies.
 *
 * It judges nothing.  Whatever it is not certain to read exactly as libxml2
 * does, it declines, and request_parser.c then starts over with libxml2,
 * which stays the reference and the judge of every refusal.  So a request
 * it reads to the end is well-formed and namespace-well-formed by libxml2's
 * lights, and the only errors left are those the grammar raised about
 * values, the same whoever read them.  Declined, among others: a DOCTYPE,
 * CDATA, a processing instruction (the XML declaration aside, and that only
 * as version 1.0, encoding UTF-8, standalone yes or no), a carriage return
 * anywhere (libxml2 normalises line ends), a name that is not ASCII or
 * longer than FAST_MAX_NAME, an entity other than the five predefined, a
 * character reference to something that is not an XML Char, '&', '<' or a
 * tab or newline in an attribute value (libxml2 normalises those), two
 * attributes of one element with the same local name, a namespace name
 * that is not a plain absolute "scheme://host/path" URI (libxml2 checks
 * URIs), the xml and xmlns prefixes used or declared, an undeclared prefix,
 * text outside the root element, a request over FAST_MAX_BYTES - and
 * anything malformed.  test/fuzz/fuzz_fast_path.c checks, input by input,
 * that what this file reads libxml2 reads the same.
 *
 * Like request_parser.c it uses libc only (and libxml2's xmlChar type), so
 * the fuzz harnesses link it alone.  The guards the caller does not run
 * for a request read here to the end, whose verdicts this file knows: the
 * UTF-8 check's (plain_char_len declines any byte that is not), the
 * attribute pre-scan's (read_start_tag counts what it counts) and the
 * namespace count's (count_xmlns).
 *
 *-------------------------------------------------------------------------
 */
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "request_events.h"

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
	ParseCtx   *pc;
	const bool *stopped;		/* the grammar's: a handler cut us short */
	Binding		bindings[ONT_MAX_NAMESPACES + 1];
	int			nbindings;
	OpenElement open[FAST_MAX_OPEN];
	int			depth;
	/* NUL-terminated copies of names and URIs the grammar compares */
	char		arena[FAST_ARENA];
	size_t		arena_used;
	/* occurrences of "xmlns" in the bytes read: the namespace guard's count */
	int			xmlns;
} Reader;

/*
 * Classes of ASCII bytes, looked up rather than computed: the reader
 * spends most of its time asking them.
 */
#define C_SPACE		0x01		/* ' ', tab, newline (not '\r': declined) */
#define C_NAME_START 0x02		/* ASCII letters, '_' */
#define C_NAME		0x04		/* and digits, '-', '.' */
#define C_TEXT		0x08		/* character data taken as it is */
#define C_VALUE		0x10		/* attribute value bytes taken as they are */

static unsigned char byte_class[256];
static bool byte_class_ready = false;

static void
init_byte_class(void)
{
	for (int c = 0x20; c < 0x80; c++)
	{
		/* 'x' goes the slow way, where "xmlns" is counted */
		if (c != '<' && c != '&' && c != ']' && c != 'x')
			byte_class[c] |= C_TEXT;
		if (c != '<' && c != '&' && c != 'x')
			byte_class[c] |= C_VALUE;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_')
			byte_class[c] |= C_NAME_START | C_NAME;
		if ((c >= '0' && c <= '9') || c == '-' || c == '.')
			byte_class[c] |= C_NAME;
	}
	byte_class['\t'] |= C_SPACE | C_TEXT;
	byte_class['\n'] |= C_SPACE | C_TEXT;
	byte_class[' '] |= C_SPACE;
	/* set last: the flag may be read without a lock by another thread */
	byte_class_ready = true;
}

static inline bool
is_space(unsigned char c)
{
	return (byte_class[c] & C_SPACE) != 0;
}

static inline bool
is_name_start(unsigned char c)
{
	return (byte_class[c] & C_NAME_START) != 0;
}

static inline bool
is_name_char(unsigned char c)
{
	return (byte_class[c] & C_NAME) != 0;
}

static int
skip_spaces(Reader *r)
{
	const unsigned char *start = r->p;

	while (r->p < r->end && is_space(*r->p))
		r->p++;
	return (int) (r->p - start);
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

static bool
span_is(const unsigned char *s, int len, const char *t)
{
	return (size_t) len == strlen(t) && memcmp(s, t, len) == 0;
}

/* An ASCII NCName, at most FAST_MAX_NAME bytes; its length, 0 if none. */
static int
read_ncname(Reader *r)
{
	const unsigned char *start = r->p;

	if (r->p >= r->end || !is_name_start(*r->p))
		return 0;
	while (r->p < r->end && is_name_char(*r->p))
		r->p++;
	if (r->p - start > FAST_MAX_NAME)
		return 0;
	return (int) (r->p - start);
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

/*
 * Length of the character at p if it is an XML Char libxml2 passes through
 * unchanged; 0 otherwise (NUL and the other C0 controls but tab and
 * newline, U+FFFE, U+FFFF, and bytes that are not UTF-8: the caller leaves
 * checking the encoding to this reader for the requests it reads).
 */
static int
plain_char_len(const unsigned char *p, const unsigned char *end)
{
	if (*p < 0x80)
		return (*p >= 0x20 || *p == '\t' || *p == '\n') ? 1 : 0;
	if (*p == 0xEF && end - p >= 3 && p[1] == 0xBF &&
		(p[2] == 0xBE || p[2] == 0xBF))
		return 0;
	return ont_utf8_len(p, end);
}

/*
 * Count "xmlns" at p, as the namespace guard counts it in the raw bytes.
 * Every byte of a request read here is in a name, text, a value or a
 * comment, and the word cannot straddle two of them (it is all letters,
 * and each ends at a byte that is not), so counting within each as it is
 * read gives the guard's count; the caller then need not run it.
 */
static inline void
count_xmlns(Reader *r, const unsigned char *p)
{
	if (r->end - p >= 5 && memcmp(p, "xmlns", 5) == 0)
		r->xmlns++;
}

static void
count_xmlns_in(Reader *r, const unsigned char *s, int len)
{
	for (int i = 0; i + 5 <= len; i++)
		if (s[i] == 'x' && memcmp(s + i, "xmlns", 5) == 0)
			r->xmlns++;
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
	while (i < len && (is_name_char(s[i]) || s[i] == '+') && s[i] != '_')
		i++;
	if (len - i < 3 || memcmp(s + i, "://", 3) != 0)
		return false;
	i += 3;
	for (host = i; i < len && (is_name_char(s[i]) && s[i] != '_'); i++)
		;
	if (i == host)
		return false;
	if (i == len)
		return true;
	if (s[i] != '/')
		return false;
	for (; i < len; i++)
		if (!is_name_char(s[i]) && s[i] != '/' && s[i] != '~')
			return false;
	return true;
}

/* The URI a prefix ("" for the default namespace) is bound to, or NULL. */
static const char *
lookup_prefix(const Reader *r, const unsigned char *prefix, int prefix_len)
{
	for (int i = r->nbindings - 1; i >= 0; i--)
		if (r->bindings[i].prefix_len == prefix_len &&
			memcmp(r->bindings[i].prefix, prefix, prefix_len) == 0)
			return r->bindings[i].uri;
	return NULL;
}

/* A quoted attribute value, r->p at its quote. */
static bool
read_att_value(Reader *r, const unsigned char **value, int *len)
{
	unsigned char quote;
	const unsigned char *start;

	if (r->p >= r->end || (*r->p != '"' && *r->p != '\''))
		return false;
	quote = *r->p++;
	start = r->p;
	while (r->p < r->end && *r->p != quote)
	{
		int			n;

		if (byte_class[*r->p] & C_VALUE)
		{
			r->p++;
			continue;
		}
		if (*r->p == 'x')
		{
			count_xmlns(r, r->p);
			r->p++;
			continue;
		}
		/* libxml2 expands '&' and turns tab and newline into spaces */
		if (*r->p < 0x80 || (n = plain_char_len(r->p, r->end)) == 0)
			return false;
		r->p += n;
	}
	if (r->p >= r->end)
		return false;
	*value = start;
	*len = (int) (r->p - start);
	r->p++;
	return true;
}

static void
end_element(Reader *r)
{
	OpenElement *e = &r->open[--r->depth];

	r->nbindings = e->nbindings;
	r->arena_used = e->arena_used;
	ont_event_end(r->pc);
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
	count_xmlns_in(r, tag, e->qname_len);
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
		count_xmlns_in(r, a.name.prefix ? a.name.prefix : a.name.local,
					   (int) (r->p - (a.name.prefix ? a.name.prefix : a.name.local)));
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
					memcmp(attrs[i].name.local, a.name.local, a.name.local_len) == 0)
					return false;
			attrs[nattrs++] = a;
			continue;
		}

		/* a namespace declaration: one per prefix in a tag */
		for (int i = e->nbindings; i < r->nbindings; i++)
			if (r->bindings[i].prefix_len == a.name.prefix_len &&
				memcmp(r->bindings[i].prefix, a.name.prefix, a.name.prefix_len) == 0)
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
	 * What the attribute pre-scan counts, which the caller does not run
	 * for a request read here: more is refused by it, so libxml2's to read.
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
	ont_event_start(r->pc, (const xmlChar *) local, (const xmlChar *) uri,
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
	if (r->end - name < e->qname_len || memcmp(name, e->qname, e->qname_len) != 0)
		return false;
	r->p += e->qname_len;
	if (r->p < r->end && (is_name_char(*r->p) || *r->p == ':'))
		return false;
	count_xmlns_in(r, name, e->qname_len);
	skip_spaces(r);
	if (!looking_at(r, ">"))
		return false;
	r->p++;
	end_element(r);
	return true;
}

/* A comment, r->p at its "<!--": no "--" inside, every character plain. */
static bool
skip_comment(Reader *r)
{
	r->p += 4;
	while (r->p < r->end)
	{
		int			n;

		if (*r->p == '-' && r->end - r->p >= 2 && r->p[1] == '-')
		{
			if (r->end - r->p >= 3 && r->p[2] == '>')
			{
				r->p += 3;
				return true;
			}
			return false;
		}
		if (*r->p == 'x')
			count_xmlns(r, r->p);
		if ((n = plain_char_len(r->p, r->end)) == 0)
			return false;
		r->p += n;
	}
	return false;
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
	uint32_t	c = 0;
	int			ndigits = 0;
	bool		hex;
	unsigned char utf8[4];
	int			n;

	for (size_t i = 0; i < sizeof(predefined) / sizeof(predefined[0]); i++)
	{
		size_t		len = strlen(predefined[i].ref);

		if ((size_t) (r->end - r->p) >= len &&
			memcmp(r->p, predefined[i].ref, len) == 0)
		{
			r->p += len;
			ont_event_text(r->pc, (const xmlChar *) predefined[i].ch, 1);
			return true;
		}
	}
	if (!looking_at(r, "&#"))
		return false;
	r->p += 2;
	hex = looking_at(r, "x");
	if (hex)
		r->p++;
	for (; r->p < r->end && *r->p != ';'; r->p++)
	{
		unsigned char d = *r->p;
		int			v;

		if (d >= '0' && d <= '9')
			v = d - '0';
		else if (hex && d >= 'a' && d <= 'f')
			v = d - 'a' + 10;
		else if (hex && d >= 'A' && d <= 'F')
			v = d - 'A' + 10;
		else
			return false;
		if (++ndigits > (hex ? 6 : 7))
			return false;
		c = c * (hex ? 16 : 10) + v;
	}
	if (r->p >= r->end || ndigits == 0)
		return false;
	r->p++;
	/* Char ::= #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF] */
	if (!(c == 0x9 || c == 0xA || c == 0xD || (c >= 0x20 && c <= 0xD7FF) ||
		  (c >= 0xE000 && c <= 0xFFFD) || (c >= 0x10000 && c <= 0x10FFFF)))
		return false;
	if (c < 0x80)
	{
		utf8[0] = (unsigned char) c;
		n = 1;
	}
	else if (c < 0x800)
	{
		utf8[0] = 0xC0 | (c >> 6);
		utf8[1] = 0x80 | (c & 0x3F);
		n = 2;
	}
	else if (c < 0x10000)
	{
		utf8[0] = 0xE0 | (c >> 12);
		utf8[1] = 0x80 | ((c >> 6) & 0x3F);
		utf8[2] = 0x80 | (c & 0x3F);
		n = 3;
	}
	else
	{
		utf8[0] = 0xF0 | (c >> 18);
		utf8[1] = 0x80 | ((c >> 12) & 0x3F);
		utf8[2] = 0x80 | ((c >> 6) & 0x3F);
		utf8[3] = 0x80 | (c & 0x3F);
		n = 4;
	}
	ont_event_text(r->pc, utf8, n);
	return true;
}

/* Character data up to the next '<' or '&': plain characters, no "]]>". */
static bool
read_text(Reader *r)
{
	const unsigned char *start = r->p;

	while (r->p < r->end && *r->p != '<' && *r->p != '&')
	{
		int			n;

		if (byte_class[*r->p] & C_TEXT)
		{
			r->p++;
			continue;
		}
		if (*r->p == ']')
		{
			if (r->end - r->p >= 3 && r->p[1] == ']' && r->p[2] == '>')
				return false;
			r->p++;
			continue;
		}
		if (*r->p == 'x')
		{
			count_xmlns(r, r->p);
			r->p++;
			continue;
		}
		if ((n = plain_char_len(r->p, r->end)) == 0)
			return false;
		r->p += n;
	}
	ont_event_text(r->pc, start, (int) (r->p - start));
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

bool
ont_fast_read(const char *buf, size_t len, ParseCtx *pc)
{
	Reader		r;
	bool		seen_root = false;

	if (len > FAST_MAX_BYTES)
		return false;
	if (!byte_class_ready)
		init_byte_class();
	r.p = (const unsigned char *) buf;
	r.end = r.p + len;
	r.pc = pc;
	r.stopped = ont_event_stopped_flag(pc);
	r.nbindings = 0;
	r.depth = 0;
	r.arena_used = 0;
	r.xmlns = 0;

	if (looking_at(&r, "<?xml") && r.end - r.p > 5 && is_space(r.p[5]) &&
		!read_xml_declaration(&r))
		return false;

	for (;;)
	{
		bool		ok;

		if (r.depth == 0)
		{
			/* before and after the root element: white space, comments */
			skip_spaces(&r);
			/* more is the namespace guard's to refuse */
			if (r.p == r.end)
				return seen_root && r.xmlns <= ONT_MAX_NAMESPACES;
			if (looking_at(&r, "<!--"))
				ok = skip_comment(&r);
			else if (seen_root || *r.p != '<' || r.end - r.p < 2 ||
					 !is_name_start(r.p[1]))
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
		else if (r.end - r.p >= 2 && is_name_start(r.p[1]))
			ok = read_start_tag(&r);
		else
			return false;
		if (!ok)
			return false;
		if (*r.stopped)
			return true;
	}
}
