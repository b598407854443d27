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
 * Characters XML 1.0 cannot carry at all (C0 controls other than tab, LF
 * and CR; U+FFFE and U+FFFF) are written as U+FFFD REPLACEMENT CHARACTER,
 * as the reference &#xFFFD; so that it works in every server encoding.  CR
 * is written as &#xD; so that a parser's end-of-line handling does not turn
 * it into LF.  Everything else comes back exactly as stored.
 *
 *-------------------------------------------------------------------------
 */
#include "ontstatus.h"

#include "mb/pg_wchar.h"
#include "pgtime.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/memutils.h"

/*
 * Prefixes as the Java cell writes them: ns5 for the hive envelope, ns4 for
 * the ONT cell's body.
 */
#define HIVE_PREFIX "ns5"
#define CELL_PREFIX "ns4"

#define APPEND_LITERAL(out, lit) appendBinaryStringInfo((out), (lit), sizeof(lit) - 1)

/* the longest escape of one input byte: "&#xFFFD;" for a control char */
#define MAX_ESCAPE_GROWTH 8
/* the longest xs:dateTime we write: -YYYYYY-MM-DDThh:mm:ss.mmm+hh:mm */
#define MAX_DATETIME_LEN 40

/* bytes that need attention when escaping (see append_escaped) */
static bool special_byte[256];
static bool special_byte_ready = false;

static void
init_special_bytes(void)
{
	for (int c = 0; c < 0x20; c++)
		special_byte[c] = (c != '\t' && c != '\n');
	special_byte['<'] = special_byte['>'] = special_byte['&'] = true;
	special_byte['"'] = true;
	special_byte[0xEF] = true;	/* may start U+FFFE / U+FFFF in UTF-8 */
	special_byte_ready = true;
}

/*
 * Write s, escaped, at p, which has room for len * MAX_ESCAPE_GROWTH bytes.
 * Returns the new end.
 */
static char *
put_escaped(char *p, const char *s, size_t len, bool utf8)
{
	const unsigned char *in = (const unsigned char *) s;
	const unsigned char *end = in + len;

	while (in < end)
	{
		const unsigned char *run = in;
		size_t		n;

		while (in < end && !special_byte[*in])
			in++;
		n = in - run;
		memcpy(p, run, n);
		p += n;
		if (in == end)
			break;

		switch (*in)
		{
			case '<':
				memcpy(p, "&lt;", 4);
				p += 4;
				break;
			case '>':
				memcpy(p, "&gt;", 4);
				p += 4;
				break;
			case '&':
				memcpy(p, "&amp;", 5);
				p += 5;
				break;
			case '"':
				memcpy(p, "&quot;", 6);
				p += 6;
				break;
			case '\r':
				memcpy(p, "&#xD;", 5);
				p += 5;
				break;
			case 0xEF:
				if (utf8 && end - in >= 3 && in[1] == 0xBF &&
					(in[2] == 0xBE || in[2] == 0xBF))
				{
					memcpy(p, "&#xFFFD;", 8);
					p += 8;
					in += 2;
				}
				else
					*p++ = (char) *in;
				break;
			default:			/* a C0 control character */
				memcpy(p, "&#xFFFD;", 8);
				p += 8;
				break;
		}
		in++;
	}
	return p;
}

static void
append_escaped(StringInfo out, const char *s, size_t len)
{
	enlargeStringInfo(out, len * MAX_ESCAPE_GROWTH);
	out->len = put_escaped(out->data + out->len, s, len,
						   GetDatabaseEncoding() == PG_UTF8) - out->data;
	out->data[out->len] = '\0';
}

/* <name>value</name>, or nothing at all when value is NULL */
static void
append_element(StringInfo out, const char *name, const char *value)
{
	size_t		nlen;

	if (value == NULL)
		return;
	nlen = strlen(name);
	appendStringInfoChar(out, '<');
	appendBinaryStringInfo(out, name, nlen);
	appendStringInfoChar(out, '>');
	append_escaped(out, value, strlen(value));
	APPEND_LITERAL(out, "</");
	appendBinaryStringInfo(out, name, nlen);
	appendStringInfoChar(out, '>');
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

/*
 * xs:dateTime with milliseconds and an offset, from broken-down fields and
 * PostgreSQL's zone offset (seconds west of Greenwich).
 */
static char *
put_datetime(char *p, const struct pg_tm *tm, fsec_t fsec, int tz)
{
	int			east = -tz;
	int			year = tm->tm_year;

	/* xs:dateTime (XML Schema 1.0) has no year 0: 1 BC is -0001 */
	if (year <= 0)
	{
		*p++ = '-';
		year = 1 - year;
	}
	p = put_digits(p, year, year > 9999 ? (year > 99999 ? 6 : 5) : 4);
	*p++ = '-';
	p = put_digits(p, tm->tm_mon, 2);
	*p++ = '-';
	p = put_digits(p, tm->tm_mday, 2);
	*p++ = 'T';
	p = put_digits(p, tm->tm_hour, 2);
	*p++ = ':';
	p = put_digits(p, tm->tm_min, 2);
	*p++ = ':';
	p = put_digits(p, tm->tm_sec, 2);
	*p++ = '.';
	p = put_digits(p, (int) (fsec / 1000), 3);
	if (east == 0)
		*p++ = 'Z';
	else
	{
		*p++ = east < 0 ? '-' : '+';
		east = abs(east);
		p = put_digits(p, east / 3600, 2);
		*p++ = ':';
		p = put_digits(p, (east / 60) % 60, 2);
	}
	return p;
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

static int
zone_offset(struct pg_tm *tm)
{
	pg_time_t	mytime;
	pg_time_t	prevtime;
	pg_time_t	beforetime;
	pg_time_t	aftertime;

	mytime = (pg_time_t) (date2j(tm->tm_year, tm->tm_mon, tm->tm_mday) - UNIX_EPOCH_JDATE)
		* SECS_PER_DAY + tm->tm_hour * SECS_PER_HOUR + tm->tm_min * SECS_PER_MINUTE + tm->tm_sec;
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
			return DetermineTimeZoneOffset(tm, session_timezone);
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
	return DetermineTimeZoneOffset(tm, session_timezone);
}

/*
 * A timestamp column value (a wall-clock time in the session's zone, since
 * the query casts timestamptz columns to timestamp) with the zone's offset
 * at that time.  Returns NULL for infinity, which xs:dateTime cannot say.
 */
static char *
put_timestamp(char *p, Timestamp ts)
{
	struct pg_tm tm;
	fsec_t		fsec;
	int			tz;

	if (TIMESTAMP_NOT_FINITE(ts))
		return NULL;
	if (timestamp2tm(ts, NULL, &tm, &fsec, NULL, NULL) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("timestamp out of range")));
	tz = zone_offset(&tm);

	/*
	 * Local mean time before standard zones has offsets in seconds, which
	 * xs:dateTime cannot write; give that instant in UTC instead.
	 */
	if (tz % SECS_PER_MINUTE != 0)
	{
		if (timestamp2tm(ts + (int64) tz * USECS_PER_SEC, NULL, &tm, &fsec,
						 NULL, NULL) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
					 errmsg("timestamp out of range")));
		tz = 0;
	}
	return put_datetime(p, &tm, fsec, tz);
}

static void
append_now(StringInfo out)
{
	struct pg_tm tm;
	fsec_t		fsec;
	int			tz;

	if (timestamp2tm(GetCurrentTimestamp(), &tz, &tm, &fsec, NULL, NULL) != 0)
		elog(ERROR, "current time out of range");
	enlargeStringInfo(out, MAX_DATETIME_LEN);
	out->len = put_datetime(out->data + out->len, &tm, fsec, tz) - out->data;
	out->data[out->len] = '\0';
}

/*
 * Root, message_header and response_header, as the ONT cell builds them,
 * with the request's sending application and facility as receivers.  The
 * request's password is never echoed (the Java cell does echo it).
 */
static void
write_head(StringInfo out, const OntRequest *req, bool done,
		   const char *status_text)
{
	if (!special_byte_ready)
		init_special_bytes();

	/* room for the varlena header of the xml datum this buffer becomes */
	if (out->len == 0)
		appendStringInfoSpaces(out, VARHDRSZ);

	APPEND_LITERAL(out,
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
		APPEND_LITERAL(out, "<receiving_application>");
		append_element(out, "application_name", req->sending_app_name);
		append_element(out, "application_version", req->sending_app_version);
		APPEND_LITERAL(out, "</receiving_application>\n");
	}
	if (req->sending_facility)
	{
		APPEND_LITERAL(out, "<receiving_facility>");
		append_element(out, "facility_name", req->sending_facility);
		APPEND_LITERAL(out, "</receiving_facility>\n");
	}
	APPEND_LITERAL(out, "<datetime_of_message>");
	append_now(out);
	APPEND_LITERAL(out, "</datetime_of_message>\n");
	if (req->security_domain || req->security_username)
	{
		APPEND_LITERAL(out, "<security>");
		append_element(out, "domain", req->security_domain);
		append_element(out, "username", req->security_username);
		APPEND_LITERAL(out, "</security>\n");
	}
	APPEND_LITERAL(out, "<message_control_id>");
	append_element(out, "session_id", req->session_id);
	append_element(out, "message_num", req->message_num);
	APPEND_LITERAL(out,
				   "<instance_num>1</instance_num></message_control_id>\n"
				   "<processing_id><processing_id>P</processing_id>"
				   "<processing_mode>I</processing_mode></processing_id>\n"
				   "<accept_acknowledgement_type>AL</accept_acknowledgement_type>\n"
				   "<application_acknowledgement_type>AL</application_acknowledgement_type>\n"
				   "<country_code>US</country_code>\n");
	if (req->project_id)
	{
		append_element(out, "project_id", req->project_id);
		appendStringInfoChar(out, '\n');
	}
	if (done)
		APPEND_LITERAL(out,
					   "</message_header>\n"
					   "<response_header>\n"
					   "<result_status><status type=\"DONE\">");
	else
		APPEND_LITERAL(out,
					   "</message_header>\n"
					   "<response_header>\n"
					   "<result_status><status type=\"ERROR\">");
	append_escaped(out, status_text, strlen(status_text));
	APPEND_LITERAL(out,
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
	StringInfo	out = &resp->buf;

	write_head(out, req, true, "Ontology processing completed");
	APPEND_LITERAL(out,
				   "<message_body>\n"
				   "<" CELL_PREFIX ":ontology_process_status_list>\n");
	resp->max_rows = max_rows;
	resp->rows = 0;
	resp->rows_start = out->len;
}

/*
 * Make room for need more bytes.  Once a row has been written, grow the
 * buffer at once to what every row the query may still return would take
 * at the average size so far (within bounds): one allocation instead of a
 * chain of doublings, each copying all that came before.  Pages that end
 * up unused are never touched, so they cost address space, not memory.
 */
static void
reserve(OntResponse *resp, size_t need)
{
	StringInfo	out = &resp->buf;
	double		want;

	if ((size_t) out->len + need < (size_t) out->maxlen)
		return;
	want = (double) out->len + need;
	if (resp->rows > 0)
	{
		double		avg = (double) (out->len - resp->rows_start) / resp->rows;

		want += avg * 1.1 * Max(resp->max_rows - resp->rows, 0) + 256;
		/* never more than 64 MB ahead of what is known to be needed */
		want = Min(want, (double) out->len + need + 64.0 * 1024 * 1024);
	}
	want = Min(want, (double) (MaxAllocSize - 1));
	enlargeStringInfo(out, (int) (want - out->len));
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
 * then store without further checks.
 */
void
ont_write_row(OntResponse *resp, Datum *values, bool *nulls)
{
	StringInfo	out = &resp->buf;
	bool		utf8 = (GetDatabaseEncoding() == PG_UTF8);
	text	   *texts[ONT_NUM_COLUMNS];
	size_t		need = sizeof(ROW_OPEN) + sizeof(ROW_CLOSE);
	char	   *p;

	for (int i = 0; i < ONT_NUM_COLUMNS; i++)
	{
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
				need += VARSIZE_ANY_EXHDR(texts[i]) * MAX_ESCAPE_GROWTH;
				break;
		}
	}
	reserve(resp, need);

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
				p = put_escaped(p, VARDATA_ANY(texts[i]),
								VARSIZE_ANY_EXHDR(texts[i]), utf8);
				break;
		}
		memcpy(p, row_tags[i].close, row_tags[i].close_len);
		p += row_tags[i].close_len;
	}
	memcpy(p, ROW_CLOSE, sizeof(ROW_CLOSE) - 1);
	p += sizeof(ROW_CLOSE) - 1;
	out->len = p - out->data;
	out->data[out->len] = '\0';
	resp->rows++;
}

void
ont_write_response_end(OntResponse *resp)
{
	APPEND_LITERAL(&resp->buf,
				   "</" CELL_PREFIX ":ontology_process_status_list>\n"
				   "</message_body>\n"
				   "</" HIVE_PREFIX ":response>");
}

void
ont_write_error_response(OntResponse *resp, const OntRequest *req,
						 const char *message)
{
	StringInfo	out = &resp->buf;

	resetStringInfo(out);
	write_head(out, req, false, message);
	APPEND_LITERAL(out, "<message_body/>\n"
				   "</" HIVE_PREFIX ":response>");
}

/*
 * The finished buffer as the xml datum: its first VARHDRSZ bytes were kept
 * free for the header by write_head.
 */
xmltype *
ont_response_datum(OntResponse *resp)
{
	SET_VARSIZE(resp->buf.data, resp->buf.len);
	return (xmltype *) resp->buf.data;
}
