/*-------------------------------------------------------------------------
 *
 * response_writer.c
 *	  Write the i2b2 response message, streaming into one StringInfo.
 *
 * No DOM is built: the envelope is fixed text, values are escaped as they
 * are appended, and each row is written as soon as the query hands it over.
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

/*
 * Prefixes as the Java cell writes them: ns5 for the hive envelope, ns4 for
 * the ONT cell's body.
 */
#define HIVE_PREFIX "ns5"
#define CELL_PREFIX "ns4"

/* Append s, escaped for element content and attribute values alike. */
static void
append_escaped(StringInfo out, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *) s;
	const unsigned char *end = p + len;
	const unsigned char *run = p;
	bool		utf8 = (GetDatabaseEncoding() == PG_UTF8);

	for (; p < end; p++)
	{
		const char *rep;

		if (*p >= 0x20 && *p != '<' && *p != '>' && *p != '&' && *p != '"')
		{
			/* U+FFFE and U+FFFF are EF BF BE and EF BF BF in UTF-8 */
			if (!(utf8 && *p == 0xEF && end - p >= 3 && p[1] == 0xBF &&
				  (p[2] == 0xBE || p[2] == 0xBF)))
				continue;
			appendBinaryStringInfo(out, (const char *) run, p - run);
			appendStringInfoString(out, "&#xFFFD;");
			p += 2;
			run = p + 1;
			continue;
		}
		switch (*p)
		{
			case '<':
				rep = "&lt;";
				break;
			case '>':
				rep = "&gt;";
				break;
			case '&':
				rep = "&amp;";
				break;
			case '"':
				rep = "&quot;";
				break;
			case '\t':
			case '\n':
				continue;
			case '\r':
				rep = "&#xD;";
				break;
			default:
				rep = "&#xFFFD;";
				break;
		}
		appendBinaryStringInfo(out, (const char *) run, p - run);
		appendStringInfoString(out, rep);
		run = p + 1;
	}
	appendBinaryStringInfo(out, (const char *) run, p - run);
}

/* <name>value</name>, or nothing at all when value is NULL */
static void
append_element(StringInfo out, const char *name, const char *value)
{
	if (value == NULL)
		return;
	appendStringInfo(out, "<%s>", name);
	append_escaped(out, value, strlen(value));
	appendStringInfo(out, "</%s>", name);
}

/*
 * xs:dateTime with milliseconds and an offset, from broken-down fields and
 * PostgreSQL's zone offset (seconds west of Greenwich).
 */
static void
append_datetime_fields(StringInfo out, struct pg_tm *tm, fsec_t fsec, int tz)
{
	int			east = -tz;

	/* xs:dateTime (XML Schema 1.0) has no year 0: 1 BC is -0001 */
	if (tm->tm_year > 0)
		appendStringInfo(out, "%04d", tm->tm_year);
	else
		appendStringInfo(out, "-%04d", 1 - tm->tm_year);
	appendStringInfo(out, "-%02d-%02dT%02d:%02d:%02d.%03d",
					 tm->tm_mon, tm->tm_mday, tm->tm_hour, tm->tm_min,
					 tm->tm_sec, (int) (fsec / 1000));
	if (east == 0)
		appendStringInfoChar(out, 'Z');
	else
		appendStringInfo(out, "%c%02d:%02d", east < 0 ? '-' : '+',
						 abs(east) / 3600, (abs(east) / 60) % 60);
}

/*
 * A timestamp column value (a wall-clock time in the session's zone, since
 * the query casts timestamptz columns to timestamp) with the zone's offset
 * at that time.  Returns false for infinity, which xs:dateTime cannot say.
 */
static bool
append_timestamp(StringInfo out, Timestamp ts)
{
	struct pg_tm tm;
	fsec_t		fsec;
	int			tz;

	if (TIMESTAMP_NOT_FINITE(ts))
		return false;
	if (timestamp2tm(ts, NULL, &tm, &fsec, NULL, NULL) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("timestamp out of range")));
	tz = DetermineTimeZoneOffset(&tm, session_timezone);

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
	append_datetime_fields(out, &tm, fsec, tz);
	return true;
}

static void
append_now(StringInfo out)
{
	struct pg_tm tm;
	fsec_t		fsec;
	int			tz;

	if (timestamp2tm(GetCurrentTimestamp(), &tz, &tm, &fsec, NULL, NULL) != 0)
		elog(ERROR, "current time out of range");
	append_datetime_fields(out, &tm, fsec, tz);
}

static void
append_int8(StringInfo out, int64 value)
{
	char		buf[MAXINT8LEN + 1];

	pg_lltoa(value, buf);
	appendStringInfoString(out, buf);
}

/*
 * Root, message_header and response_header, as the ONT cell builds them,
 * with the request's sending application and facility as receivers.  The
 * request's password is never echoed (the Java cell does echo it).
 */
static void
write_head(StringInfo out, const OntRequest *req, const char *status_type,
		   const char *status_text)
{
	appendStringInfoString(out,
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
		appendStringInfoString(out, "<receiving_application>");
		append_element(out, "application_name", req->sending_app_name);
		append_element(out, "application_version", req->sending_app_version);
		appendStringInfoString(out, "</receiving_application>\n");
	}
	if (req->sending_facility)
	{
		appendStringInfoString(out, "<receiving_facility>");
		append_element(out, "facility_name", req->sending_facility);
		appendStringInfoString(out, "</receiving_facility>\n");
	}
	appendStringInfoString(out, "<datetime_of_message>");
	append_now(out);
	appendStringInfoString(out, "</datetime_of_message>\n");
	if (req->security_domain || req->security_username)
	{
		appendStringInfoString(out, "<security>");
		append_element(out, "domain", req->security_domain);
		append_element(out, "username", req->security_username);
		appendStringInfoString(out, "</security>\n");
	}
	appendStringInfoString(out, "<message_control_id>");
	append_element(out, "session_id", req->session_id);
	append_element(out, "message_num", req->message_num);
	appendStringInfoString(out,
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
	appendStringInfo(out,
					 "</message_header>\n"
					 "<response_header>\n"
					 "<result_status><status type=\"%s\">", status_type);
	append_escaped(out, status_text, strlen(status_text));
	appendStringInfoString(out,
						   "</status></result_status>\n"
						   "</response_header>\n");
}

void
ont_write_response_start(StringInfo out, const OntRequest *req)
{
	write_head(out, req, "DONE", "Ontology processing completed");
	appendStringInfoString(out,
						   "<message_body>\n"
						   "<" CELL_PREFIX ":ontology_process_status_list>\n");
}

/* One ontology_process_status; children in the XSD's order, NULLs left out */
void
ont_write_row(StringInfo out, Datum *values, bool *nulls)
{
	static const char *const names[ONT_NUM_COLUMNS] = {
		"process_id", "process_type_cd", "process_step_cd", "start_date",
		"end_date", "process_status_cd", "crc_upload_id", "message"
	};

	appendStringInfoString(out, "<ontology_process_status>");
	for (int i = 0; i < ONT_NUM_COLUMNS; i++)
	{
		int			mark = out->len;

		if (nulls[i])
			continue;
		appendStringInfo(out, "<%s>", names[i]);
		switch ((OntColumn) i)
		{
			case ONT_COL_PROCESS_ID:
			case ONT_COL_CRC_UPLOAD_ID:
				append_int8(out, DatumGetInt64(values[i]));
				break;
			case ONT_COL_START_DATE:
			case ONT_COL_END_DATE:
				if (!append_timestamp(out, DatumGetTimestamp(values[i])))
				{
					/* infinity: leave the element out, as for NULL */
					out->len = mark;
					out->data[mark] = '\0';
					continue;
				}
				break;
			default:
				{
					text	   *t = DatumGetTextPP(values[i]);

					append_escaped(out, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
				}
				break;
		}
		appendStringInfo(out, "</%s>", names[i]);
	}
	appendStringInfoString(out, "</ontology_process_status>\n");
}

void
ont_write_response_end(StringInfo out)
{
	appendStringInfoString(out,
						   "</" CELL_PREFIX ":ontology_process_status_list>\n"
						   "</message_body>\n"
						   "</" HIVE_PREFIX ":response>");
}

void
ont_write_error_response(StringInfo out, const OntRequest *req,
						 const char *message)
{
	write_head(out, req, "ERROR", message);
	appendStringInfoString(out, "<message_body/>\n"
						   "</" HIVE_PREFIX ":response>");
}
