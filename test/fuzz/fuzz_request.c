/*
 * fuzz_request.c
 *	  libFuzzer harness for the request parser: the guards
 *	  (src/request_guards.c), the fast path (src/request_fast_path.c),
 *	  libxml2's reading (src/request_libxml2.c) and the grammar behind both
 *	  (src/request_parser.c), through the calls the backend makes
 *	  (src/request_parser.h).
 *
 * The parser is linked alone, outside the backend, exactly as the extension
 * uses it.  Each input is parsed twice: once with a working allocator, once
 * with one that fails at an allocation chosen from the input, so that the
 * out-of-memory paths are fuzzed too.  Besides the sanitizers' own checks,
 * the harness aborts when the parser breaks its contract:
 *   - success and failure agree with req.error;
 *   - an error always has a message, printable ASCII only;
 *   - every string it returns is NUL-terminated, times are in range;
 *   - nothing of libxml2 is left in the parse state;
 *   - no error or warning of libxml2 reaches its global handler (in the
 *     backend, pg_xml_init's, which would pass warnings to the client and
 *     the log with the request quoted);
 *   - the guards run once per reading, whoever reads: one guard pass
 *     (ont_guard_passes) for each;
 *   - the byte searches of xml_chars.h (sixteen bytes at a time) find what
 *     its byte classes find one byte at a time, from each of the first 64
 *     offsets of the input;
 *   - the guards' one pass comes to the verdict of the guards run one by
 *     one over the whole request (ont_guard_request_reference, built with
 *     ONT_GUARD_REFERENCE): the same refusal, the same message, the same
 *     word on the characters;
 *   - the fast path reads every request it does not decline exactly as
 *     libxml2 does: the same verdict, the same error and message, every
 *     field the same; a declined reading leaves nothing in the request;
 *     and the parse as used (the guards, the fast path, then libxml2)
 *     agrees with the guards and libxml2 alone on every input.  Every
 *     input with line ends is checked so a second and third time with
 *     them as CR LF and as CR, which XML reads as LF: the fast path reads
 *     those (normalising them as libxml2 does) and must agree again;
 *   - the attribute pre-scan lets no start tag through that libxml2 reads
 *     with more than ONT_MAX_ATTRIBUTES attributes: every input the parser
 *     does not refuse before parsing is parsed again by libxml2 in recovery
 *     mode, which reports every start tag it reads, even after errors, and
 *     the largest is checked.  A start tag of 101 attributes is too long
 *     for the fuzzer to build, so run.sh also builds this harness with
 *     ONT_MAX_ATTRIBUTES at 2: a comment, PI or CDATA section that fools
 *     the pre-scan then shows in a few dozen bytes.
 * Leaks (ours or libxml2's) are reported by LeakSanitizer.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/libxml_compat.h"
#include "../../src/request_events.h"
#include "../../src/request_parser.h"
#include "../../src/xml_chars.h"
#include "escape_trap.h"

typedef struct Arena
{
	void	  **ptrs;
	size_t		n;
	size_t		cap;
	long		fail_at;		/* fail the n-th allocation; -1: never */
} Arena;

static void *
arena_alloc(void *arg, size_t size)
{
	Arena	   *a = (Arena *) arg;
	void	   *p;

	if (a->fail_at >= 0 && (long) a->n >= a->fail_at)
		return NULL;
	if (a->n == a->cap)
	{
		a->cap = a->cap ? a->cap * 2 : 16;
		a->ptrs = realloc(a->ptrs, a->cap * sizeof(void *));
		if (a->ptrs == NULL)
			abort();
	}
	p = malloc(size ? size : 1);
	if (p == NULL)
		abort();
	a->ptrs[a->n++] = p;
	return p;
}

static void
arena_free(Arena *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->ptrs[i]);
	free(a->ptrs);
	memset(a, 0, sizeof(*a));
}

static void
silent(void *ctx, OntXmlErrorPtr err)
{
	(void) ctx;
	(void) err;
}


/* the most attributes (namespace declarations included) of any start tag */
static int	max_attributes;

static void
count_attributes(void *ctx, const xmlChar *localname, const xmlChar *prefix,
				 const xmlChar *URI, int nb_namespaces,
				 const xmlChar **namespaces, int nb_attributes,
				 int nb_defaulted, const xmlChar **attributes)
{
	(void) ctx;
	(void) localname;
	(void) prefix;
	(void) URI;
	(void) namespaces;
	(void) nb_defaulted;
	(void) attributes;
	if (nb_namespaces + nb_attributes > max_attributes)
		max_attributes = nb_namespaces + nb_attributes;
}

/*
 * Parse in recovery mode, where libxml2 goes on calling SAX handlers after
 * errors (it goes on parsing after them in any mode), and return the
 * largest number of attributes it read in one start tag.
 */
static int
libxml2_max_attributes(const uint8_t *data, size_t size)
{
	xmlParserCtxtPtr ctxt = xmlNewParserCtxt();
	xmlSAXHandlerPtr sax;

	if (ctxt == NULL)
		abort();
	sax = ctxt->sax;
	memset(sax, 0, sizeof(*sax));
	sax->initialized = XML_SAX2_MAGIC;
	sax->startElementNs = count_attributes;
	sax->serror = silent;
	max_attributes = 0;
	(void) xmlCtxtReadMemory(ctxt, (const char *) data, (int) size, NULL, NULL,
							 ONT_XML_PARSE_OPTIONS | XML_PARSE_RECOVER);
	xmlFreeParserCtxt(ctxt);
	return max_attributes;
}

/*
 * A reading as the backend makes it: the guards once, the fast path, and
 * libxml2 when the fast path declines.  *fast says whether the fast path
 * read it.
 */
static bool
read_as_used(const uint8_t *data, size_t size, OntRequest *req,
			 OntParseState *st, Arena *a, OntGuardVerdict *v, bool *fast)
{
	unsigned long passes = ont_guard_passes();
	bool		ok;

	memset(st, 0, sizeof(*st));
	*fast = false;
	if (!ont_guard_request((const char *) data, size, req, v))
		ok = false;
	else if (ont_read_request_fast((const char *) data, size, v, req,
								   arena_alloc, a) == ONT_FAST_READ)
	{
		*fast = true;
		ok = req->error == ONT_OK;
	}
	else
		ok = ont_read_request_libxml2((const char *) data, size, v, req, st,
									  arena_alloc, a);
	if (ont_guard_passes() - passes != 1)
	{
		fprintf(stderr, "%lu guard passes over one reading\n",
				ont_guard_passes() - passes);
		abort();
	}
	return ok;
}

static bool
same_string(const char *a, const char *b)
{
	return (a == NULL) == (b == NULL) && (a == NULL || strcmp(a, b) == 0);
}

/* Did two readings of one request come to the same OntRequest? */
static bool
same_request(const OntRequest *a, const OntRequest *b)
{
	if (a->error != b->error || strcmp(a->errmsg, b->errmsg) != 0 ||
		strcmp(a->errdetail, b->errdetail) != 0 || a->enveloped != b->enveloped ||
		!same_string(a->sending_app_name, b->sending_app_name) ||
		!same_string(a->sending_app_version, b->sending_app_version) ||
		!same_string(a->sending_facility, b->sending_facility) ||
		!same_string(a->security_domain, b->security_domain) ||
		!same_string(a->security_username, b->security_username) ||
		!same_string(a->session_id, b->session_id) ||
		!same_string(a->message_num, b->message_num) ||
		!same_string(a->project_id, b->project_id) ||
		!same_string(a->process_type_cd, b->process_type_cd) ||
		!same_string(a->process_status_cd, b->process_status_cd) ||
		a->has_process_id != b->has_process_id ||
		(a->has_process_id && a->process_id != b->process_id) ||
		a->max_return_records != b->max_return_records)
		return false;
	for (int i = 0; i < ONT_NUM_TIME_BOUNDS; i++)
		if (a->has_time[i] != b->has_time[i] ||
			(a->has_time[i] && memcmp(&a->time[i], &b->time[i], sizeof(OntDateTime)) != 0))
			return false;
	return true;
}

static void
report_difference(const char *what, const OntRequest *ref, const OntRequest *other)
{
	fprintf(stderr, "%s: libxml2 says error %d \"%s\", the other error %d \"%s\"\n",
			what, ref->error, ref->errmsg, other->error, other->errmsg);
	abort();
}

/* xml_chars.h's searches against its classes, byte by byte. */
static void
check_searches(const uint8_t *data, size_t size)
{
	static const unsigned char classes[] = {XC_TEXT_STOP, XC_VALUE_STOP};
	const uint8_t *end = data + size;

	for (size_t i = 0; i < size && i < 64; i++)
	{
		const uint8_t *p = data + i;
		const uint8_t *q;

		for (size_t c = 0; c < sizeof(classes); c++)
		{
			for (q = p; q < end && !(xml_byte_class[*q] & classes[c]); q++)
				;
			if (xml_find_class(p, end, classes[c]) != q)
				abort();
		}
		for (q = p; q < end && xml_is_ncname_char(*q); q++)
			;
		if (xml_ncname_end(p, end) != q)
			abort();
	}
}

/* The guards' one pass against the guards one by one. */
static void
check_guards(const uint8_t *data, size_t size)
{
	OntRequest	req;
	OntRequest	ref;
	OntGuardVerdict v;
	OntGuardVerdict vref;
	bool		passed = ont_guard_request((const char *) data, size, &req, &v);
	bool		ref_passed = ont_guard_request_reference((const char *) data, size,
														 &ref, &vref);

	/* a request that passes is left alone: compare refusals only */
	if (passed != v.passed || ref_passed != vref.passed || passed != ref_passed ||
		(passed && v.all_chars != vref.all_chars) ||
		(!passed && (req.error != ref.error || strcmp(req.errmsg, ref.errmsg) != 0 ||
					 strcmp(req.errdetail, ref.errdetail) != 0)))
	{
		fprintf(stderr, "the guards' pass says %d (chars %d) \"%s\", one by one %d (chars %d) \"%s\"\n",
				passed, v.all_chars, passed ? "" : req.errmsg, ref_passed,
				vref.all_chars, ref.errmsg);
		abort();
	}
}

/*
 * The differential check: the guards and libxml2 alone are the reference;
 * the fast path, where it does not decline, and the parse as used must
 * agree with it.
 */
static void
check_fast_path(const uint8_t *data, size_t size)
{
	static const OntRequest empty;
	OntRequest	ref;
	OntRequest	other;
	OntParseState st = {NULL, false, NULL};
	OntGuardVerdict v;
	Arena		a_ref = {NULL, 0, 0, -1};
	Arena		a_other = {NULL, 0, 0, -1};
	bool		fast;

	if (ont_guard_request((const char *) data, size, &ref, &v))
		(void) ont_read_request_libxml2((const char *) data, size, &v, &ref, &st,
										arena_alloc, &a_ref);
	if (st.ctxt != NULL)
		abort();
	if (v.passed)
	{
		if (ont_read_request_fast((const char *) data, size, &v, &other,
								  arena_alloc, &a_other) == ONT_FAST_READ)
		{
			if (!same_request(&ref, &other))
				report_difference("the fast path read the request otherwise", &ref, &other);
		}
		else if (memcmp(&other, &empty, sizeof(other)) != 0)
		{
			fprintf(stderr, "the fast path declined, and left something in the request\n");
			abort();
		}
		arena_free(&a_other);
		a_other.fail_at = -1;
	}
	(void) read_as_used(data, size, &other, &st, &a_other, &v, &fast);
	if (!same_request(&ref, &other))
		report_difference("the parse as used read the request otherwise", &ref, &other);
	arena_free(&a_other);
	arena_free(&a_ref);
}

/*
 * The input with its line ends written otherwise: every LF as CR LF
 * (crlf) or as CR (not crlf).  XML reads both as the LF they replace.
 */
static void
check_line_ends(const uint8_t *data, size_t size, bool crlf)
{
	uint8_t    *copy;
	size_t		n = 0;

	if (memchr(data, '\n', size) == NULL)
		return;
	if ((copy = malloc(2 * size)) == NULL)
		abort();
	for (size_t i = 0; i < size; i++)
	{
		if (data[i] == '\n')
		{
			copy[n++] = '\r';
			if (!crlf)
				continue;
		}
		copy[n++] = data[i];
	}
	check_guards(copy, n);
	check_fast_path(copy, n);
	free(copy);
}

static void
check_string(const char *s)
{
	if (s)
		(void) strlen(s);		/* ASan faults on a missing terminator */
}

static void
check_message(const char *s, size_t cap)
{
	if (memchr(s, '\0', cap) == NULL)
		abort();
	for (; *s; s++)
		if ((unsigned char) *s < 0x20 || (unsigned char) *s > 0x7e)
			abort();
}

static void
check(bool ok, const OntRequest *req, const OntParseState *st)
{
	if (st->ctxt != NULL)
		abort();
	if (ok != (req->error == ONT_OK))
		abort();
	check_message(req->errmsg, sizeof(req->errmsg));
	check_message(req->errdetail, sizeof(req->errdetail));
	if (!ok && req->errmsg[0] == '\0')
		abort();
	check_string(req->sending_app_name);
	check_string(req->sending_app_version);
	check_string(req->sending_facility);
	check_string(req->security_domain);
	check_string(req->security_username);
	check_string(req->session_id);
	check_string(req->message_num);
	check_string(req->project_id);
	check_string(req->process_type_cd);
	check_string(req->process_status_cd);
	if (ok)
	{
		if (req->max_return_records < 0)
			abort();
		for (int i = 0; i < ONT_NUM_TIME_BOUNDS; i++)
		{
			const OntDateTime *t = &req->time[i];

			if (!req->has_time[i])
				continue;
			if (t->year < 1 || t->year > 9999 || t->month < 1 || t->month > 12 ||
				t->day < 1 || t->day > 31 || t->hour > 23 || t->minute > 59 ||
				t->second > 59 || t->usec < 0 || t->usec > 999999 ||
				t->offset_seconds < -14 * 3600 || t->offset_seconds > 14 * 3600)
				abort();
		}
	}
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void) argc;
	(void) argv;
	xmlInitParser();
	xmlSetStructuredErrorFunc(NULL, escaped);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	OntRequest	req;
	OntParseState st;
	OntGuardVerdict v;
	Arena		a = {NULL, 0, 0, -1};
	size_t		allocations;
	OntParseError first_error;
	bool		ok;
	bool		fast;

	ok = read_as_used(data, size, &req, &st, &a, &v, &fast);
	check(ok, &req, &st);
	ont_parse_cleanup(&st);		/* must be harmless a second time */
	allocations = a.n;
	first_error = req.error;
	arena_free(&a);

	check_searches(data, size);
	check_guards(data, size);
	check_fast_path(data, size);
	check_line_ends(data, size, true);
	check_line_ends(data, size, false);

	/* what the guards let through, libxml2 must read within the limit */
	if (v.passed && libxml2_max_attributes(data, size) > ONT_MAX_ATTRIBUTES)
	{
		fprintf(stderr, "the pre-scan let through a start tag with %d attributes\n",
				max_attributes);
		abort();
	}

	/* again, the allocator failing part-way */
	if (allocations > 0)
	{
		uint32_t	h = 2166136261u;

		for (size_t i = 0; i < size; i++)
			h = (h ^ data[i]) * 16777619u;
		a.fail_at = (long) (h % allocations);
		ok = read_as_used(data, size, &req, &st, &a, &v, &fast);
		check(ok, &req, &st);
		/*
		 * A failed allocation is reported as such, unless the parse had
		 * already failed for the reason it failed for before.
		 */
		if (ok || (req.error != ONT_ERR_NOMEM && req.error != first_error))
			abort();
		arena_free(&a);
	}
	return 0;
}
