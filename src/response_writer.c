/*-------------------------------------------------------------------------
 *
 * response_writer.c
 *	  Write the i2b2 response message, streaming into one StringInfo.
 *
 * No DOM is built: the envelope is fixed text, values are escaped as they
 * are appended, and each row is written as soon as the query hands it over.
 * The buffer starts with room for a varlena header, so the finished buffer
 * is itself the xml datum the function returns: nothing is copied at the
 * end.  Rows are written without printf: one capacity check per row, then
 * plain stores.
 *
 * Every write is checked, in overflow-safe size_t arithmetic, against the
 * largest response a varlena can hold (RESPONSE_MAX_LEN, 1 GB); a response
 * that would pass it ends in a clean "response is too large" error
 * (SQLSTATE 54000) before anything is written past the buffer.
 *
 * Characters XML 1.0 cannot carry at all (C0 controls other than tab, LF
 * and CR; U+FFFE and U+FFFF) are written as U+FFFD REPLACEMENT CHARACTER,
 * as the reference &#xFFFD; so that it works in every server encoding.  CR
 * is written as &#xD; so that a parser's end-of-line handling does not turn
 * it into LF.  Everything else comes back exactly as stored.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "ontstatus.h"

#include "access/xact.h"
#include "mb/pg_wchar.h"
#include "pgtime.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/memutils.h"

/*
 * Prefixes as the Java cell writes them: ns5 for the hive envelope, ns4 for
 * the ONT cell's body.
 */
/* A response being written. */
struct OntResponse
{
	StringInfoData buf;			/* becomes the xml datum itself */
	int32		max_rows;		/* the most rows the query may return */
	int64		rows;			/* rows written so far */
	int			rows_start;		/* offset of the first row in buf; 0 while
								 * the header is written */
};

#define HIVE_PREFIX "ns5"
#define CELL_PREFIX "ns4"

/*
 * The longest response, in bytes, the varlena header included: the buffer
 * with its terminating NUL must be one palloc chunk (MaxAllocSize, 1 GB - 1),
 * and its length is the size of the xml datum.  Every size below is checked
 * against what is left of this before a byte is written.
 */
#define RESPONSE_MAX_LEN ((size_t) MaxAllocSize - 1)

/* what reserve grows the buffer by ahead of need, at most */
#define GROW_AHEAD_MAX ((size_t) 64 * 1024 * 1024)

/* an ERROR response gives back a buffer larger than this */
#define ERROR_BUFFER_KEEP (1024 * 1024)

#define APPEND_LITERAL(resp, lit) append_bytes((resp), (lit), sizeof(lit) - 1)

/*
 * The longest escape of one input byte: "&#xFFFD;" for a control character.
 * Every replacement is at most this long and stands for at least one input
 * byte (escape_table's text cannot hold more), so escaping len bytes writes
 * at most len * MAX_ESCAPE_GROWTH.
 */
#define MAX_ESCAPE_GROWTH 8
#define REPLACEMENT_REF "&#xFFFD;"

/* the longest xs:dateTime we write: -YYYYYY-MM-DDThh:mm:ss.mmm+hh:mm */
#define MAX_DATETIME_LEN 40

/*
 * How each byte is written: len 0 for itself; otherwise len bytes of text.
 * Control characters but tab and newline, which XML 1.0 cannot carry, are
 * replaced; CR is kept as a reference, which a parser does not normalise.
 * 0xEF is special only as the start of U+FFFE or U+FFFF in UTF-8
 * (escape_byte); its entry is the byte itself.  A constant, so that no
 * writer depends on another having run first.
 */
#define ESC(rep) {sizeof(rep) - 1, rep}
#define CTRL ESC(REPLACEMENT_REF)

StaticAssertDecl(sizeof(REPLACEMENT_REF) - 1 <= MAX_ESCAPE_GROWTH &&
				 sizeof("&quot;") - 1 <= MAX_ESCAPE_GROWTH,
				 "an escape is longer than MAX_ESCAPE_GROWTH");

static const struct
{
	uint8		len;
	char		text[MAX_ESCAPE_GROWTH + 1];
}			escape_table[256] = {
	[0x00] = CTRL, [0x01] = CTRL, [0x02] = CTRL, [0x03] = CTRL,
	[0x04] = CTRL, [0x05] = CTRL, [0x06] = CTRL, [0x07] = CTRL,
	[0x08] = CTRL, [0x0B] = CTRL, [0x0C] = CTRL, [0x0E] = CTRL,
	[0x0F] = CTRL, [0x10] = CTRL, [0x11] = CTRL, [0x12] = CTRL,
	[0x13] = CTRL, [0x14] = CTRL, [0x15] = CTRL, [0x16] = CTRL,
	[0x17] = CTRL, [0x18] = CTRL, [0x19] = CTRL, [0x1A] = CTRL,
	[0x1B] = CTRL, [0x1C] = CTRL, [0x1D] = CTRL, [0x1E] = CTRL,
	[0x1F] = CTRL,
	['\r'] = ESC("&#xD;"),
	['<'] = ESC("&lt;"),
	['>'] = ESC("&gt;"),
	['&'] = ESC("&amp;"),
	['"'] = ESC("&quot;"),
	[0xEF] = ESC("\xEF"),
};

/*
 * Whether any of the eight bytes in w may need escaping: one below 0x20
 * (tab and LF too, which are then looked at one by one), one with the high
 * bit set (0xEF among them), or one of " & < >.  Or-ing 0x04 maps '"'
 * (0x22) onto '&' (0x26) and no other byte onto it; or-ing 0x02 maps '<'
 * onto '>' in the same way; a byte equal to the target is then a zero byte.
 * The subtraction's borrows can only mark a byte above one already marked,
 * so nothing that needs escaping goes unseen.
 */
#define BYTES(b) (UINT64CONST(0x0101010101010101) * (b))

static inline bool
may_need_escape(uint64 w)
{
	uint64		quot_amp = (w | BYTES(0x04)) ^ BYTES('&');
	uint64		lt_gt = (w | BYTES(0x02)) ^ BYTES('>');

	return (((w - BYTES(0x20)) | w |
			 ((quot_amp - BYTES(1)) & ~quot_amp) |
			 ((lt_gt - BYTES(1)) & ~lt_gt)) & BYTES(0x80)) != 0;
}

/*
 * The first byte from in on that needs escaping (escape_table[*in].len >
 * 0), or end: eight bytes at a time while none of them may, then one by one
 * through the eight that may.  Most values need no escaping at all.
 */
static inline const unsigned char *
plain_run_end(const unsigned char *in, const unsigned char *end)
{
	for (;;)
	{
		const unsigned char *stop;

		while (end - in >= 8)
		{
			uint64		w;

			memcpy(&w, in, sizeof(w));
			if (may_need_escape(w))
				break;
			in += 8;
		}
		stop = end - in > 8 ? in + 8 : end;
		while (in < stop && escape_table[*in].len == 0)
			in++;
		if (in < stop || in == end)
			return in;
	}
}

/*
 * The replacement of the special byte at in (escape_table[*in].len > 0),
 * which may look at the bytes up to end: sets *rep and *rep_len and returns
 * how many input bytes it replaces.  put_escaped and escaped_length both
 * decide here, so the length counted is the length written.
 */
static inline int
escape_byte(const unsigned char *in, const unsigned char *end, bool utf8,
			const char **rep, int *rep_len)
{
	if (*in == 0xEF && utf8 && end - in >= 3 && in[1] == 0xBF &&
		(in[2] == 0xBE || in[2] == 0xBF))
	{
		*rep = REPLACEMENT_REF;
		*rep_len = sizeof(REPLACEMENT_REF) - 1;
		return 3;
	}
	*rep = escape_table[*in].text;
	*rep_len = escape_table[*in].len;
	return 1;
}

/*
 * Write the bytes from in to end, escaped, at p, which has room for their
 * escaped_length (at most (end - in) * MAX_ESCAPE_GROWTH).  Returns the new
 * end.
 */
static inline char *
put_escaped(char *p, const unsigned char *in, const unsigned char *end,
			bool utf8)
{
	while (in < end)
	{
		const unsigned char *run = in;
		const char *rep;
		int			rep_len;

		in = plain_run_end(in, end);
		memcpy(p, run, in - run);
		p += in - run;
		if (in == end)
			break;
		in += escape_byte(in, end, utf8, &rep, &rep_len);
		memcpy(p, rep, rep_len);
		p += rep_len;
	}
	return p;
}

/*
 * The length of the bytes from in to end once escaped, or some length
 * above RESPONSE_MAX_LEN as soon as it is clear that it is more than that.
 * The count stops below RESPONSE_MAX_LEN + MaxAllocSize + MAX_ESCAPE_GROWTH
 * (a run of plain bytes is shorter than one varlena), so it cannot wrap even
 * in a 32-bit size_t.
 */
static size_t
escaped_length(const unsigned char *in, const unsigned char *end, bool utf8)
{
	size_t		total = 0;

	while (in < end && total <= RESPONSE_MAX_LEN)
	{
		const unsigned char *run = in;
		const char *rep;
		int			rep_len;

		in = plain_run_end(in, end);
		total += in - run;
		if (in == end)
			break;
		in += escape_byte(in, end, utf8, &rep, &rep_len);
		total += rep_len;
	}
	return total;
}

/* a + b and a * b in size_t, or SIZE_MAX (too large in any case) on overflow */
static inline size_t
size_add_sat(size_t a, size_t b)
{
	return a > SIZE_MAX - b ? SIZE_MAX : a + b;
}

static inline size_t
size_mul_sat(size_t a, size_t b)
{
	return b != 0 && a > SIZE_MAX / b ? SIZE_MAX : a * b;
}

/* how many more bytes the response may take */
static inline size_t
room_left(const OntResponse *resp)
{
	return RESPONSE_MAX_LEN - (size_t) resp->buf.len;
}

/*
 * The room that extra bytes and len bytes at s escaped need: with the worst
 * case for the value when that fits in what is left (no pass over the
 * value), else with its exact length.
 */
static size_t
escaped_need(const OntResponse *resp, size_t extra, const char *s, size_t len,
			 bool utf8)
{
	size_t		worst = size_add_sat(extra, size_mul_sat(len, MAX_ESCAPE_GROWTH));

	if (worst <= room_left(resp))
		return worst;
	return size_add_sat(extra, escaped_length((const unsigned char *) s,
											  (const unsigned char *) s + len,
											  utf8));
}

static void reserve(OntResponse *resp, size_t need);

static void
append_bytes(OntResponse *resp, const char *s, size_t len)
{
	StringInfo	out = &resp->buf;

	reserve(resp, len);
	memcpy(out->data + out->len, s, len);
	out->len += len;
	out->data[out->len] = '\0';
}

static void
append_escaped(OntResponse *resp, const char *s, size_t len)
{
	StringInfo	out = &resp->buf;
	bool		utf8 = (GetDatabaseEncoding() == PG_UTF8);

	reserve(resp, escaped_need(resp, 0, s, len, utf8));
	out->len = put_escaped(out->data + out->len, (const unsigned char *) s,
						   (const unsigned char *) s + len, utf8) - out->data;
	out->data[out->len] = '\0';
}

/*
 * <name>value</name>, or nothing at all when value is NULL: room for the
 * whole element made once, then plain stores.
 */
static void
append_element(OntResponse *resp, const char *name, const char *value)
{
	StringInfo	out = &resp->buf;
	bool		utf8 = (GetDatabaseEncoding() == PG_UTF8);
	size_t		nlen;
	size_t		vlen;
	char	   *p;

	if (value == NULL)
		return;
	nlen = strlen(name);
	vlen = strlen(value);
	/* the tags: <name></name> */
	reserve(resp, escaped_need(resp, 2 * nlen + 5, value, vlen, utf8));
	p = out->data + out->len;
	*p++ = '<';
	memcpy(p, name, nlen);
	p += nlen;
	*p++ = '>';
	p = put_escaped(p, (const unsigned char *) value,
					(const unsigned char *) value + vlen, utf8);
	*p++ = '<';
	*p++ = '/';
	memcpy(p, name, nlen);
	p += nlen;
	*p++ = '>';
	out->len = p - out->data;
	out->data[out->len] = '\0';
}

static inline char *
put_int8(char *p, int64 value)
{
#if PG_VERSION_NUM >= 140000
	return p + pg_lltoa(value, p);
#else
	pg_lltoa(value, p);
	return p + strlen(p);
#endif
}

static inline char *
put_digits(char *p, int value, int width)
{
	for (int i = width - 1; i >= 0; i--)
	{
		p[i] = '0' + value % 10;
		value /= 10;
	}
	return p + width;
}

/* "00" to "99": a time's fields are written two digits at a time */
static const char two_digits[201] =
"00010203040506070809101112131415161718192021222324252627282930313233343536373839"
"40414243444546474849505152535455565758596061626364656667686970717273747576777879"
"8081828384858687888990919293949596979899";

static inline char *
put_two_digits(char *p, int value)
{
	memcpy(p, &two_digits[value * 2], 2);
	return p + 2;
}

/*
 * The session zone's offset at a wall-clock time, as DetermineTimeZoneOffset
 * computes it (seconds west of Greenwich), for a run of nearby times.
 * PostgreSQL finds the zone's next transition after (time - 1 day) and
 * picks the offset before or after it; the transition is looked up again
 * only when a time leaves the stretch it covers, so rows of one day or one
 * season cost a few comparisons.  Times near a transition, where a local
 * time is ambiguous or does not exist, are left to PostgreSQL.
 */
static struct
{
	bool		valid;
	pg_tz	   *tz;
	pg_time_t	from;			/* the stretch covers [from, boundary) */
	pg_time_t	boundary;
	long int	before_gmtoff;
	long int	after_gmtoff;
	bool		no_boundary;	/* no transition ahead: one offset for ever */
}			zone_cache;

/* ts, a valid wall-clock timestamp, as a day number and microseconds */
static inline void
split_timestamp(Timestamp ts, int64 *day, int64 *time)
{
	*day = ts / USECS_PER_DAY;
	*time = ts - *day * USECS_PER_DAY;
	if (*time < 0)
	{
		*time += USECS_PER_DAY;
		(*day)--;
	}
}

static int
zone_offset(Timestamp ts)
{
	int64		day;
	int64		time;
	pg_time_t	mytime;
	pg_time_t	prevtime;
	pg_time_t	beforetime;
	pg_time_t	aftertime;

	/* the seconds DetermineTimeZoneOffset computes from the broken-down time */
	split_timestamp(ts, &day, &time);
	mytime = (pg_time_t) (day + POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY
		+ time / USECS_PER_SEC;
	prevtime = mytime - SECS_PER_DAY;

	if (!zone_cache.valid || zone_cache.tz != session_timezone ||
		prevtime < zone_cache.from ||
		(!zone_cache.no_boundary && prevtime >= zone_cache.boundary))
	{
		int			before_isdst;
		int			after_isdst;
		int			res;

		zone_cache.valid = false;
		res = pg_next_dst_boundary(&prevtime, &zone_cache.before_gmtoff, &before_isdst,
								   &zone_cache.boundary, &zone_cache.after_gmtoff,
								   &after_isdst, session_timezone);
		if (res < 0)
			goto ask_postgresql;
		zone_cache.tz = session_timezone;
		zone_cache.from = prevtime;
		zone_cache.no_boundary = (res == 0);
		zone_cache.valid = true;
	}
	if (zone_cache.no_boundary)
		return -(int) zone_cache.before_gmtoff;

	beforetime = mytime - zone_cache.before_gmtoff;
	aftertime = mytime - zone_cache.after_gmtoff;
	if (beforetime < zone_cache.boundary && aftertime < zone_cache.boundary)
		return -(int) zone_cache.before_gmtoff;
	if (beforetime > zone_cache.boundary && aftertime > zone_cache.boundary)
		return -(int) zone_cache.after_gmtoff;

ask_postgresql:
	{
		struct pg_tm tm;
		fsec_t		fsec;

		if (timestamp2tm(ts, NULL, &tm, &fsec, NULL, NULL) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
					 errmsg("timestamp out of range")));
		return DetermineTimeZoneOffset(&tm, session_timezone);
	}
}

/*
 * The date of the last time written, as text.  Turning a day number into a
 * calendar date costs more than all the rest of a time, and the rows of one
 * response are often of a few days.
 */
static struct
{
	int64		day;
	int			len;			/* 0: nothing cached yet */
	char		text[16];		/* -YYYYYY-MM-DD at the longest */
}			last_date;

static char *
put_date(char *p, int64 day)
{
	if (last_date.len == 0 || last_date.day != day)
	{
		char	   *d = last_date.text;
		int			year;
		int			month;
		int			mday;

		j2date((int) (day + POSTGRES_EPOCH_JDATE), &year, &month, &mday);
		/* xs:dateTime (XML Schema 1.0) has no year 0: 1 BC is -0001 */
		if (year <= 0)
		{
			*d++ = '-';
			year = 1 - year;
		}
		d = put_digits(d, year, year > 9999 ? (year > 99999 ? 6 : 5) : 4);
		*d++ = '-';
		d = put_two_digits(d, month);
		*d++ = '-';
		d = put_two_digits(d, mday);
		last_date.day = day;
		last_date.len = d - last_date.text;
	}
	memcpy(p, last_date.text, last_date.len);
	return p + last_date.len;
}

/*
 * xs:dateTime with milliseconds and an offset: local, a valid wall-clock
 * time, and tz, its zone's offset (seconds west of Greenwich).  Local mean
 * time before standard zones has offsets in seconds, which xs:dateTime cannot
 * write; that instant is given in UTC instead.
 */
static char *
put_datetime(char *p, Timestamp local, int tz)
{
	int64		day;
	int64		time;
	int			secs;
	int			millis;
	int			east;

	if (tz % SECS_PER_MINUTE != 0)
	{
		local += (int64) tz * USECS_PER_SEC;
		tz = 0;
		if (!IS_VALID_TIMESTAMP(local))
			ereport(ERROR,
					(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
					 errmsg("timestamp out of range")));
	}
	split_timestamp(local, &day, &time);
	p = put_date(p, day);
	secs = (int) (time / USECS_PER_SEC);
	millis = (int) (time % USECS_PER_SEC) / 1000;
	*p++ = 'T';
	p = put_two_digits(p, secs / SECS_PER_HOUR);
	*p++ = ':';
	p = put_two_digits(p, secs / SECS_PER_MINUTE % 60);
	*p++ = ':';
	p = put_two_digits(p, secs % 60);
	*p++ = '.';
	*p++ = '0' + millis / 100;
	p = put_two_digits(p, millis % 100);
	east = -tz;
	if (east == 0)
		*p++ = 'Z';
	else
	{
		*p++ = east < 0 ? '-' : '+';
		east = abs(east);
		p = put_two_digits(p, east / SECS_PER_HOUR);
		*p++ = ':';
		p = put_two_digits(p, east / SECS_PER_MINUTE % 60);
	}
	return p;
}

/*
 * A timestamp column value (a wall-clock time in the session's zone, since
 * the query casts timestamptz columns to timestamp) with the zone's offset
 * at that time.  Returns NULL for infinity, which xs:dateTime cannot say.
 */
static char *
put_timestamp(char *p, Timestamp ts)
{
	if (TIMESTAMP_NOT_FINITE(ts))
		return NULL;
	if (!IS_VALID_TIMESTAMP(ts))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("timestamp out of range")));
	return put_datetime(p, ts, zone_offset(ts));
}

/*
 * datetime_of_message: the start of the current statement, not the current
 * time, so that every response of one statement carries the same time and
 * get_ont_process_status is the STABLE function it is declared to be.
 */
static void
append_message_time(OntResponse *resp)
{
	StringInfo	out = &resp->buf;
	struct pg_tm tm;
	fsec_t		fsec;
	int			tz;
	TimestampTz now = GetCurrentStatementStartTimestamp();

	if (timestamp2tm(now, &tz, &tm, &fsec, NULL, NULL) != 0)
		elog(ERROR, "statement start time out of range");
	reserve(resp, MAX_DATETIME_LEN);
	/* the wall-clock time is the instant less the offset west */
	out->len = put_datetime(out->data + out->len,
							now - (int64) tz * USECS_PER_SEC, tz) - out->data;
	out->data[out->len] = '\0';
}

/*
 * Root, message_header and response_header, as the ONT cell builds them,
 * with the request's sending application and facility as receivers.  The
 * request's password is never echoed (the Java cell does echo it).
 */
static void
write_head(OntResponse *resp, const OntRequest *req, bool done,
		   const char *status_text)
{
	StringInfo	out = &resp->buf;


	/* room for the varlena header of the xml datum this buffer becomes */
	if (out->len == 0)
	{
		reserve(resp, VARHDRSZ);
		memset(out->data, ' ', VARHDRSZ);
		out->len = VARHDRSZ;
		out->data[out->len] = '\0';
	}

	APPEND_LITERAL(resp,
				   "<" HIVE_PREFIX ":response xmlns:" HIVE_PREFIX "=\"" ONT_HIVE_NS "\""
				   " xmlns:" CELL_PREFIX "=\"" ONT_CELL_NS "\">\n"
				   "<message_header>\n"
				   "<i2b2_version_compatible>1.1</i2b2_version_compatible>\n"
				   "<hl7_version_compatible>2.4</hl7_version_compatible>\n"
				   "<sending_application><application_name>Ontology Cell</application_name>"
				   "<application_version>1.700</application_version></sending_application>\n"
				   "<sending_facility><facility_name>i2b2 Hive</facility_name></sending_facility>\n");
	if (req->sending_app_name || req->sending_app_version)
	{
		APPEND_LITERAL(resp, "<receiving_application>");
		append_element(resp, "application_name", req->sending_app_name);
		append_element(resp, "application_version", req->sending_app_version);
		APPEND_LITERAL(resp, "</receiving_application>\n");
	}
	if (req->sending_facility)
	{
		APPEND_LITERAL(resp, "<receiving_facility>");
		append_element(resp, "facility_name", req->sending_facility);
		APPEND_LITERAL(resp, "</receiving_facility>\n");
	}
	APPEND_LITERAL(resp, "<datetime_of_message>");
	append_message_time(resp);
	APPEND_LITERAL(resp, "</datetime_of_message>\n");
	if (req->security_domain || req->security_username)
	{
		APPEND_LITERAL(resp, "<security>");
		append_element(resp, "domain", req->security_domain);
		append_element(resp, "username", req->security_username);
		APPEND_LITERAL(resp, "</security>\n");
	}
	APPEND_LITERAL(resp, "<message_control_id>");
	append_element(resp, "session_id", req->session_id);
	append_element(resp, "message_num", req->message_num);
	APPEND_LITERAL(resp,
				   "<instance_num>1</instance_num></message_control_id>\n"
				   "<processing_id><processing_id>P</processing_id>"
				   "<processing_mode>I</processing_mode></processing_id>\n"
				   "<accept_acknowledgement_type>AL</accept_acknowledgement_type>\n"
				   "<application_acknowledgement_type>AL</application_acknowledgement_type>\n"
				   "<country_code>US</country_code>\n");
	if (req->project_id)
	{
		append_element(resp, "project_id", req->project_id);
		APPEND_LITERAL(resp, "\n");
	}
	if (done)
		APPEND_LITERAL(resp,
					   "</message_header>\n"
					   "<response_header>\n"
					   "<result_status><status type=\"DONE\">");
	else
		APPEND_LITERAL(resp,
					   "</message_header>\n"
					   "<response_header>\n"
					   "<result_status><status type=\"ERROR\">");
	append_escaped(resp, status_text, strlen(status_text));
	APPEND_LITERAL(resp,
				   "</status></result_status>\n"
				   "</response_header>\n");
}

OntResponse *
ont_response_create(void)
{
	OntResponse *resp = palloc0(sizeof(OntResponse));

	initStringInfo(&resp->buf);
	return resp;
}

void
ont_write_response_start(OntResponse *resp, const OntRequest *req,
						 int32 max_rows)
{
	resp->rows = 0;
	resp->rows_start = 0;
	resp->max_rows = max_rows;
	write_head(resp, req, true, "Ontology processing completed");
	APPEND_LITERAL(resp,
				   "<message_body>\n"
				   "<" CELL_PREFIX ":ontology_process_status_list>\n");
	resp->rows_start = resp->buf.len;
}

/*
 * The response would pass RESPONSE_MAX_LEN: a clean error, raised before
 * anything of the piece that does not fit is written, so the buffer is
 * still a valid StringInfo.  54000 is among the codes that
 * get_ont_process_status answers with an ERROR response.
 */
pg_noreturn static void response_too_large(const OntResponse *resp);

static void
response_too_large(const OntResponse *resp)
{
	size_t		max_xml = RESPONSE_MAX_LEN - VARHDRSZ;

	if (resp->rows_start == 0)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("response is too large"),
				 errdetail("The message header, which repeats values of the request, would exceed the maximum response size of %zu bytes.",
						   max_xml)));
	else if (resp->rows == 0)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("response is too large"),
				 errdetail("The first row alone would exceed the maximum response size of %zu bytes.",
						   max_xml)));
	else
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("response is too large"),
				 errdetail_plural("The response would exceed the maximum response size of %zu bytes after %lld row; ask for fewer rows with max_return_records.",
								  "The response would exceed the maximum response size of %zu bytes after %lld rows; ask for fewer rows with max_return_records.",
								  (unsigned long) resp->rows,
								  max_xml, (long long) resp->rows)));
}

/*
 * Make room for need more bytes (and the terminating NUL), or fail with
 * response_too_large when the response cannot take them.  Once a row has
 * been written, grow the buffer at once to what every row the query may
 * still return would take at the average size so far (within bounds): one
 * allocation instead of a chain of doublings, each copying all that came
 * before.  Pages that end up unused are never touched, so they cost address
 * space, not memory.
 *
 * Overflow: out->len <= RESPONSE_MAX_LEN always (it only grows by what was
 * reserved here), so room_left cannot wrap; need is compared with it before
 * it is added; and want - out->len <= RESPONSE_MAX_LEN < INT_MAX is what
 * enlargeStringInfo is asked for, which it accepts (its own limit is
 * MaxAllocSize - out->len) and will not round past MaxAllocSize.
 */
static void
reserve(OntResponse *resp, size_t need)
{
	StringInfo	out = &resp->buf;
	size_t		want;

	if (need < (size_t) out->maxlen - (size_t) out->len)
		return;
	if (need > room_left(resp))
		response_too_large(resp);
	want = (size_t) out->len + need;
	if (resp->rows > 0 && resp->max_rows > resp->rows)
	{
		size_t		avg = ((size_t) out->len - resp->rows_start) / resp->rows;
		size_t		ahead;

		/* 10% more than the average per row, for every row still to come */
		ahead = size_mul_sat(avg + avg / 10 + 1,
							 (size_t) (resp->max_rows - resp->rows));
		ahead = Min(ahead, GROW_AHEAD_MAX);
		want += Min(ahead, RESPONSE_MAX_LEN - want);
	}
	enlargeStringInfo(out, (int) (want - (size_t) out->len));
}

/* element names of the row's children, in the XSD's order, with lengths */
#define TAG(name) {"<" name ">", "</" name ">", sizeof(name) + 1, sizeof(name) + 2}
static const struct
{
	const char *open;
	const char *close;
	int			open_len;
	int			close_len;
}			row_tags[ONT_NUM_COLUMNS] = {
	TAG("process_id"), TAG("process_type_cd"), TAG("process_step_cd"),
	TAG("start_date"), TAG("end_date"), TAG("process_status_cd"),
	TAG("crc_upload_id"), TAG("message")
};

#define ROW_OPEN "<ontology_process_status>"
#define ROW_CLOSE "</ontology_process_status>\n"

/*
 * One ontology_process_status; children in the XSD's order, NULLs left out.
 * The room a row can need is known before it is written: ensure it once,
 * then store without further checks.  That room is the worst case (every
 * byte of a text escaped to MAX_ESCAPE_GROWTH bytes) when the response can
 * take it, else the exact escaped length of the texts (one more pass over
 * them), so that a row that fits is never refused.
 */
void
ont_write_row(OntResponse *resp, Datum *values, bool *nulls)
{
	StringInfo	out = &resp->buf;
	bool		utf8 = (GetDatabaseEncoding() == PG_UTF8);
	text	   *texts[ONT_NUM_COLUMNS];
	size_t		need = sizeof(ROW_OPEN) + sizeof(ROW_CLOSE);
	size_t		text_need = 0;
	char	   *p;

	/*
	 * need: tags, numbers and dates, a few hundred bytes at most; text_need:
	 * the texts escaped, at worst MAX_ESCAPE_GROWTH times their length
	 */
	for (int i = 0; i < ONT_NUM_COLUMNS; i++)
	{
		texts[i] = NULL;
		if (nulls[i])
			continue;
		need += row_tags[i].open_len + row_tags[i].close_len;
		switch ((OntColumn) i)
		{
			case ONT_COL_PROCESS_ID:
			case ONT_COL_CRC_UPLOAD_ID:
				need += MAXINT8LEN;
				break;
			case ONT_COL_START_DATE:
			case ONT_COL_END_DATE:
				need += MAX_DATETIME_LEN;
				break;
			default:
				texts[i] = DatumGetTextPP(values[i]);
				text_need = size_add_sat(text_need,
										 size_mul_sat(VARSIZE_ANY_EXHDR(texts[i]),
													  MAX_ESCAPE_GROWTH));
				break;
		}
	}
	if (size_add_sat(need, text_need) > room_left(resp))
	{
		/* the worst case does not fit: count what the texts really take */
		text_need = 0;
		for (int i = 0; i < ONT_NUM_COLUMNS; i++)
			if (texts[i] != NULL)
			{
				const unsigned char *s = (const unsigned char *) VARDATA_ANY(texts[i]);

				text_need = size_add_sat(text_need,
										 escaped_length(s, s + VARSIZE_ANY_EXHDR(texts[i]),
														utf8));
			}
	}
	reserve(resp, size_add_sat(need, text_need));

	p = out->data + out->len;
	memcpy(p, ROW_OPEN, sizeof(ROW_OPEN) - 1);
	p += sizeof(ROW_OPEN) - 1;
	for (int i = 0; i < ONT_NUM_COLUMNS; i++)
	{
		char	   *element = p;

		if (nulls[i])
			continue;
		memcpy(p, row_tags[i].open, row_tags[i].open_len);
		p += row_tags[i].open_len;
		switch ((OntColumn) i)
		{
			case ONT_COL_PROCESS_ID:
			case ONT_COL_CRC_UPLOAD_ID:
				p = put_int8(p, DatumGetInt64(values[i]));
				break;
			case ONT_COL_START_DATE:
			case ONT_COL_END_DATE:
				p = put_timestamp(p, DatumGetTimestamp(values[i]));
				if (p == NULL)
				{
					/* infinity: leave the element out, as for NULL */
					p = element;
					continue;
				}
				break;
			default:
				{
					const unsigned char *s = (const unsigned char *) VARDATA_ANY(texts[i]);

					p = put_escaped(p, s, s + VARSIZE_ANY_EXHDR(texts[i]), utf8);
					/* a detoasted copy: give it back now, not per query */
					if ((Pointer) texts[i] != DatumGetPointer(values[i]))
						pfree(texts[i]);
				}
				break;
		}
		memcpy(p, row_tags[i].close, row_tags[i].close_len);
		p += row_tags[i].close_len;
	}
	memcpy(p, ROW_CLOSE, sizeof(ROW_CLOSE) - 1);
	p += sizeof(ROW_CLOSE) - 1;
	out->len = p - out->data;
	Assert(out->len < out->maxlen);
	out->data[out->len] = '\0';
	resp->rows++;
}

void
ont_write_response_end(OntResponse *resp)
{
	APPEND_LITERAL(resp,
				   "</" CELL_PREFIX ":ontology_process_status_list>\n"
				   "</message_body>\n"
				   "</" HIVE_PREFIX ":response>");
}

/*
 * Replace whatever was written, also a response that failed half-way (every
 * failure leaves the buffer a valid StringInfo), with an ERROR response.  A
 * buffer grown for rows, up to 1 GB for a response too large, is given back
 * at once rather than at the end of the statement.
 */
void
ont_write_error_response(OntResponse *resp, const OntRequest *req,
						 const char *message)
{
	StringInfo	out = &resp->buf;

	if (out->maxlen > ERROR_BUFFER_KEEP)
	{
		char	   *large = out->data;

		/* the new one first: out stays valid if this allocation fails */
		out->data = MemoryContextAlloc(GetMemoryChunkContext(large), 1024);
		out->maxlen = 1024;
		pfree(large);
	}
	resetStringInfo(out);
	resp->rows = 0;
	resp->rows_start = 0;
	resp->max_rows = 0;
	write_head(resp, req, false, message);
	APPEND_LITERAL(resp, "<message_body/>\n"
				   "</" HIVE_PREFIX ":response>");
}

/*
 * The finished buffer as the xml datum: its first VARHDRSZ bytes were kept
 * free for the header by write_head, and its length is at most
 * RESPONSE_MAX_LEN, which a varlena can say.
 */
xmltype *
ont_response_datum(OntResponse *resp)
{
	SET_VARSIZE(resp->buf.data, resp->buf.len);
	return (xmltype *) resp->buf.data;
}
