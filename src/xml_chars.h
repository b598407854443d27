/*-------------------------------------------------------------------------
 *
 * xml_chars.h
 *	  XML 1.0's characters, decided once for everything that reads the
 *	  bytes of a request besides libxml2: the guards' pre-scan
 *	  (request_guards.c), the fast path (request_fast_path.c) and the
 *	  grammar's trimming of values (request_parser.c).
 *
 * Decided as libxml2 decides them, which is the reference:
 * - white space (S) is #x20, #x9, #xD and #xA;
 * - a line end, CR LF or a lone CR, is read as LF before anything else
 *   (XML 1.0, 2.11): in text it is delivered as LF, in markup it is white
 *   space like any other, and in an attribute value it is normalised again
 *   to a space, with tab and LF (3.3.3);
 * - a Char is #x9, #xA, #xD, #x20-#xD7FF, #xE000-#xFFFD or
 *   #x10000-#x10FFFF; anything else anywhere in a document is an error;
 * - a name (Name) starts with a letter, '_' or ':' and goes on with those,
 *   digits, '-' and '.'; a name in a namespace-aware document (NCName,
 *   the parts of a QName) has no ':'.  Only ASCII is classed here: a
 *   reader meeting any other byte in a name decides for itself (the fast
 *   path declines, the pre-scan gives up);
 * - a character reference (&#...; or &#x...;) names a code point in
 *   decimal or hexadecimal; seven decimal or six hexadecimal digits are
 *   as many as any Char needs.
 *
 * Header only, libc only: test/fuzz and bench link the readers alone.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ONTSTATUS_XML_CHARS_H
#define ONTSTATUS_XML_CHARS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Classes of a byte (ASCII only: bytes >= 0x80 are in none of them). */
#define XC_SPACE		0x01	/* S: #x20 #x9 #xD #xA */
#define XC_NAME_START	0x02	/* NameStartChar: letters, '_', ':' */
#define XC_NAME			0x04	/* NameChar: and digits, '-', '.' */
#define XC_COLON		0x08	/* ':', in Name but not in NCName */
#define XC_TEXT_STOP	0x10	/* in character data: '<' and '&' (markup), */
								/* ']' (of "]]>"), CR (a line end), controls */
#define XC_VALUE_STOP	0x20	/* in an attribute value: '<', '&', quotes, */
								/* tab, LF and CR (normalised), controls */

#define XC_IS_LETTER(c) (((c) >= 'a' && (c) <= 'z') || ((c) >= 'A' && (c) <= 'Z'))
#define XC_IS_DIGIT(c)	((c) >= '0' && (c) <= '9')
#define XC_CLASS(c) \
	((((c) == 0x20 || (c) == 0x09 || (c) == 0x0D || (c) == 0x0A) ? XC_SPACE : 0) | \
	 ((XC_IS_LETTER(c) || (c) == '_' || (c) == ':') ? XC_NAME_START | XC_NAME : 0) | \
	 ((XC_IS_DIGIT(c) || (c) == '-' || (c) == '.') ? XC_NAME : 0) | \
	 ((c) == ':' ? XC_COLON : 0) | \
	 (((c) == '<' || (c) == '&' || (c) == ']' || (c) == 0x0D || \
	   ((c) < 0x20 && (c) != 0x09 && (c) != 0x0A)) ? XC_TEXT_STOP : 0) | \
	 (((c) == '<' || (c) == '&' || (c) == '"' || (c) == '\'' || (c) < 0x20) ? \
	  XC_VALUE_STOP : 0))
#define XC_CLASS4(c) XC_CLASS(c), XC_CLASS((c) + 1), XC_CLASS((c) + 2), XC_CLASS((c) + 3)
#define XC_CLASS16(c) XC_CLASS4(c), XC_CLASS4((c) + 4), XC_CLASS4((c) + 8), XC_CLASS4((c) + 12)
#define XC_CLASS64(c) XC_CLASS16(c), XC_CLASS16((c) + 16), XC_CLASS16((c) + 32), XC_CLASS16((c) + 48)

/* Computed by the compiler: no initialisation, nothing shared to race on. */
static const unsigned char xml_byte_class[256] = {
	XC_CLASS64(0), XC_CLASS64(64)
	/* bytes >= 0x80: zero */
};

static inline bool
xml_is_space(unsigned char c)
{
	return (xml_byte_class[c] & XC_SPACE) != 0;
}

/* An ASCII NameStartChar (':' included) */
static inline bool
xml_is_name_start(unsigned char c)
{
	return (xml_byte_class[c] & XC_NAME_START) != 0;
}

/* An ASCII NameChar (':' included) */
static inline bool
xml_is_name_char(unsigned char c)
{
	return (xml_byte_class[c] & XC_NAME) != 0;
}

/* The same without ':': a name in a namespace-aware document */
static inline bool
xml_is_ncname_start(unsigned char c)
{
	return (xml_byte_class[c] & (XC_NAME_START | XC_COLON)) == XC_NAME_START;
}

static inline bool
xml_is_ncname_char(unsigned char c)
{
	return (xml_byte_class[c] & (XC_NAME | XC_COLON)) == XC_NAME;
}

/*
 * Length of the UTF-8 sequence at p, or 0 when it is NUL or not UTF-8:
 * overlong forms, surrogates and code points beyond U+10FFFF are refused,
 * as PostgreSQL's own check refuses them, so that nothing the server takes
 * for UTF-8 is refused here.
 */
static inline int
xml_utf8_len(const unsigned char *p, const unsigned char *end)
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

/*
 * Sixteen bytes at a time, where the compiler has generic vectors (gcc and
 * clang: SSE2 on x86-64, NEON on arm64, plain code elsewhere) and the
 * machine is little-endian (lane i is byte i of a word); one byte at a
 * time elsewhere, or when built with XML_NO_VECTORS.
 */
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && \
	__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ && !defined(XML_NO_VECTORS)
#define XML_VECTORS 1
#if defined(__x86_64__) && defined(__SSE2__)
#include <emmintrin.h>
#endif
typedef signed char XmlByteVector __attribute__((vector_size(16)));
typedef unsigned char XmlUnsignedVector __attribute__((vector_size(16)));

/*
 * Vectors of comparisons' results (lanes of 0 or -1): as the bits of a
 * number, the first lane the lowest, and whether any lane is set.  On
 * x86-64 one instruction (SSE2's pmovmskb, part of the architecture); else
 * the bits gathered from the lanes' high bits by a multiplication.
 */
#if defined(__x86_64__) && defined(__SSE2__)
static inline unsigned
xml_vector_bits(XmlByteVector m)
{
	return (unsigned) _mm_movemask_epi8((__m128i) m);
}

static inline bool
xml_vector_any(XmlByteVector m)
{
	return _mm_movemask_epi8((__m128i) m) != 0;
}
#else
static inline unsigned
xml_vector_bits(XmlByteVector m)
{
	const uint64_t high = UINT64_C(0x8080808080808080);
	const uint64_t gather = UINT64_C(0x0002040810204081);
	uint64_t	w[2];

	memcpy(w, &m, sizeof(w));
	return (unsigned) (((w[0] & high) * gather) >> 56) |
		((unsigned) (((w[1] & high) * gather) >> 56) << 8);
}

static inline bool
xml_vector_any(XmlByteVector m)
{
	uint64_t	w[2];

	memcpy(w, &m, sizeof(w));
	return (w[0] | w[1]) != 0;
}
#endif

/* the lanes of v in class cls (a *_STOP class), computed */
static inline XmlByteVector
xml_vector_class(XmlByteVector v, unsigned char cls)
{
	/* C0 controls: 0 to 0x1F, bytes >= 0x80 being negative */
	XmlByteVector c0 = (v >= 0) & (v < 0x20);

	if (cls == XC_TEXT_STOP)
		return (v == '<') | (v == '&') | (v == ']') |
			(c0 & (v != '\t') & (v != '\n'));
	return (v == '<') | (v == '&') | (v == '"') | (v == '\'') | c0;
}
#endif

/*
 * The first byte from p on (before end) that is in class cls (one of the
 * *_STOP classes), or end: text and values run to a few dozen bytes
 * between stops.
 */
static inline const unsigned char *
xml_find_class(const unsigned char *p, const unsigned char *end,
			   unsigned char cls)
{
#ifdef XML_VECTORS
	for (; end - p >= 16; p += 16)
	{
		XmlByteVector v;
		unsigned	bits;

		memcpy(&v, p, sizeof(v));
		if ((bits = xml_vector_bits(xml_vector_class(v, cls))) != 0)
			return p + __builtin_ctz(bits);
	}
#endif
	for (; p < end; p++)
		if (xml_byte_class[*p] & cls)
			return p;
	return end;
}

/* The first byte from p on (before end) that is no NCName char, or end. */
static inline const unsigned char *
xml_ncname_end(const unsigned char *p, const unsigned char *end)
{
#ifdef XML_VECTORS
	for (; end - p >= 16; p += 16)
	{
		XmlUnsignedVector v;
		XmlByteVector name;
		unsigned	bits;

		memcpy(&v, p, sizeof(v));
		/* letters, either case; digits; '_', '-', '.' */
		name = (XmlByteVector) (((v | 0x20) - 'a') < 26) |
			(XmlByteVector) ((v - '0') < 10) |
			(XmlByteVector) ((v == '_') | (v == '-') | (v == '.'));
		if ((bits = xml_vector_bits(~name)) != 0)
			return p + __builtin_ctz(bits);
	}
#endif
	for (; p < end; p++)
		if (!xml_is_ncname_char(*p))
			return p;
	return end;
}

/* U+FFFE and U+FFFF, the two non-Chars UTF-8 can spell in three bytes */
static inline bool
xml_is_fffe_ffff(const unsigned char *p, const unsigned char *end)
{
	return p[0] == 0xEF && end - p >= 3 && p[1] == 0xBF &&
		(p[2] == 0xBE || p[2] == 0xBF);
}

/*
 * Length of the Char at p, or 0 when there is none: a C0 control other
 * than tab, LF and CR, U+FFFE, U+FFFF, or bytes that are not UTF-8
 * (surrogates and code points beyond U+10FFFF included).
 */
static inline int
xml_char_len(const unsigned char *p, const unsigned char *end)
{
	if (p[0] < 0x20)
		return (p[0] == '\t' || p[0] == '\n' || p[0] == '\r') ? 1 : 0;
	if (xml_is_fffe_ffff(p, end))
		return 0;
	return xml_utf8_len(p, end);
}

/* Is the code point c a Char? */
static inline bool
xml_is_char(uint32_t c)
{
	return c == 0x9 || c == 0xA || c == 0xD || (c >= 0x20 && c <= 0xD7FF) ||
		(c >= 0xE000 && c <= 0xFFFD) || (c >= 0x10000 && c <= 0x10FFFF);
}

/* The most digits a character reference needs for any Char */
#define XML_CHAR_REF_DEC_DIGITS 7
#define XML_CHAR_REF_HEX_DIGITS 6

/*
 * The character reference at p ("&#"), ending before end: its length up
 * to and with the ';', and its code point in *c; 0 when it is not one of
 * 1 to 7 decimal or 1 to 6 hexadecimal digits ("&#x", lowercase x, as XML
 * spells it) followed by ';'.  Whether the code point is acceptable (a
 * Char, not zero) is the caller's to judge.
 */
static inline int
xml_char_ref(const unsigned char *p, const unsigned char *end, uint32_t *c)
{
	const unsigned char *q = p + 2;
	bool		hex = false;
	int			ndigits = 0;
	uint32_t	v = 0;

	if (q < end && *q == 'x')
	{
		hex = true;
		q++;
	}
	for (; q < end; q++, ndigits++)
	{
		unsigned char d = *q;
		int			dv;

		if (XC_IS_DIGIT(d))
			dv = d - '0';
		else if (hex && d >= 'a' && d <= 'f')
			dv = d - 'a' + 10;
		else if (hex && d >= 'A' && d <= 'F')
			dv = d - 'A' + 10;
		else
			break;
		if (ndigits == (hex ? XML_CHAR_REF_HEX_DIGITS : XML_CHAR_REF_DEC_DIGITS))
			return 0;
		v = v * (hex ? 16 : 10) + (uint32_t) dv;
	}
	if (ndigits == 0 || q >= end || *q != ';')
		return 0;
	*c = v;
	return (int) (q + 1 - p);
}

/*
 * The content of a comment, p just past "<!--", read no further than
 * limit bytes: where the comment ends (just past "-->", *closed set), end
 * when it does not end (*closed clear), NULL when the content is not
 * plain: a "--" not followed by '>' (libxml2 lets "--" end a comment only
 * before '>', but its fast path reads on past "--->" while its slow path
 * stops there), a character that is not a Char, or more than limit bytes.
 */
static inline const unsigned char *
xml_comment_end(const unsigned char *p, const unsigned char *end, size_t limit,
				bool *closed)
{
	const unsigned char *start = p;
	int			n;

	*closed = false;
	while (p < end)
	{
		if ((size_t) (p - start) > limit)
			return NULL;
		if (p[0] == '-' && end - p >= 2 && p[1] == '-')
		{
			if (end - p < 3 || p[2] != '>')
				return NULL;
			*closed = true;
			return p + 3;
		}
		if (p[0] >= 0x20 && p[0] < 0x80)
			n = 1;
		else if ((n = xml_char_len(p, end)) == 0)
			return NULL;
		p += n;
	}
	return end;
}

/* Encode a code point (a Char) as UTF-8 into out; its length. */
static inline int
xml_utf8_encode(uint32_t c, unsigned char *out)
{
	if (c < 0x80)
	{
		out[0] = (unsigned char) c;
		return 1;
	}
	if (c < 0x800)
	{
		out[0] = (unsigned char) (0xC0 | (c >> 6));
		out[1] = (unsigned char) (0x80 | (c & 0x3F));
		return 2;
	}
	if (c < 0x10000)
	{
		out[0] = (unsigned char) (0xE0 | (c >> 12));
		out[1] = (unsigned char) (0x80 | ((c >> 6) & 0x3F));
		out[2] = (unsigned char) (0x80 | (c & 0x3F));
		return 3;
	}
	out[0] = (unsigned char) (0xF0 | (c >> 18));
	out[1] = (unsigned char) (0x80 | ((c >> 12) & 0x3F));
	out[2] = (unsigned char) (0x80 | ((c >> 6) & 0x3F));
	out[3] = (unsigned char) (0x80 | (c & 0x3F));
	return 4;
}

#endif							/* ONTSTATUS_XML_CHARS_H */
