/*-------------------------------------------------------------------------
 *
 * process_model.c
 *	  The i2b2 process model, in one place: the types and steps the ONT cell
 *	  writes, its statuses (PROCESSING, ABORT, the final ones) and what a
 *	  valid "PROCESSED <done>/<total>" is.
 *
 * A process runs while it is PROCESSING, or ABORT (in any case, as the
 * cell's worker compares it) until its worker stops; ONT_SQL_IS_RUNNING
 * (ontstatus.h) is the same rule in SQL.  It ends COMPLETED, ERROR or
 * KILLED (an ABORT row only KILLED).  Only a patient-count start aborts.
 *
 * The ONT cell writes a process's progress in process_step_cd as
 * "PROCESSED <done>/<total>", and the i2b2 Workbench reads each count with
 * Java's Integer.parseInt.  One definition serves report_progress, which
 * refuses anything else, and running_processes, which reads by it: 1 to 10
 * ASCII digits each, 0 <= done <= total, 0 < total <= 2147483647.  SQL jobs
 * of version 1.0 wrote it into the message, spaces allowed around the
 * slash; running_processes still reads that form, by the same rule.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "ontstatus.h"

#include "lib/stringinfo.h"

/*
 * The process types the cell writes, with the step it inserts each with;
 * NULL for the concept edits, which it records as COMPLETED at once and
 * which therefore never run.
 */
static const struct
{
	const char *type;
	const char *first_step;
}			process_types[] = {
	{"ONT_UPDATE_CRC_CONCEPT", "ONT_BUILD_PDO_START"},
	{"ONT_SYNCALL_CRC_CONCEPT", "ONT_BUILD_PDO_START"},
	{ONT_PATIENT_COUNT, ONT_PATIENT_COUNT},
	{"ONT_ADD_CONCEPT", NULL},
	{"ONT_EDIT_CONCEPT", NULL},
	{"ONT_DELETE_CONCEPT", NULL},
};

/* the steps the cell writes, besides "PROCESSED <done>/<total>" */
static const char *const process_steps[] = {
	"ONT_BUILD_PDO_START", "ONT_BUILD_PDO", "ONT_SENTTO_FRC",
	"ONT_SENTTO_CRCLOADER", ONT_PATIENT_COUNT, "ERROR", NULL
};

static const char *const final_statuses[] = {
	ONT_STATUS_COMPLETED, ONT_STATUS_ERROR, ONT_STATUS_KILLED, NULL
};

/* PROCESSING, exactly as the cell writes it; false for NULL */
bool
ont_is_processing(const char *status)
{
	return status && strcmp(status, ONT_STATUS_PROCESSING) == 0;
}

/* ABORT in any case, as the cell's worker reads it; false for NULL */
bool
ont_is_abort(const char *status)
{
	return status && pg_strcasecmp(status, ONT_STATUS_ABORT) == 0;
}

/* PROCESSING or ABORT: the process's worker has not ended it */
bool
ont_is_running(const char *status)
{
	return ont_is_processing(status) || ont_is_abort(status);
}

static void
check_code(const char *value, const char *const *allowed, const char *what,
		   const char *more)
{
	StringInfoData list;

	for (int i = 0; allowed[i]; i++)
		if (strcmp(value, allowed[i]) == 0)
			return;
	initStringInfo(&list);
	for (int i = 0; allowed[i]; i++)
		appendStringInfo(&list, "%s%s", i ? ", " : "", allowed[i]);
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown %s \"%s\"", what, value),
			 errdetail("The allowed values are %s%s.", list.data, more ? more : "")));
}

/* an error unless final is a status a process may end with */
void
ont_check_final_status(const char *final)
{
	check_code(final, final_statuses, "final process_status_cd", NULL);
}

/* an error unless step is one the cell writes, or a valid progress */
void
ont_check_step(const char *step)
{
	if (!ont_parse_progress(step, NULL, NULL))
		check_code(step, process_steps, "process_step_cd",
				   ", or PROCESSED <done>/<total> with 0 <= done <= total, 0 < total <= 2147483647");
}

/*
 * The step a process of this type starts with; an error for a type the
 * cell does not write or that never runs.
 */
const char *
ont_first_step(const char *type)
{
	for (size_t i = 0; i < lengthof(process_types); i++)
	{
		if (strcmp(type, process_types[i].type) != 0)
			continue;
		if (process_types[i].first_step == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("process type \"%s\" never runs", type),
					 errdetail("The ONT cell records ONT_ADD_CONCEPT, ONT_EDIT_CONCEPT and ONT_DELETE_CONCEPT as COMPLETED when they happen."),
					 errhint("Start ONT_PATIENT_COUNT_UPDATE, ONT_UPDATE_CRC_CONCEPT or ONT_SYNCALL_CRC_CONCEPT.")));
		return process_types[i].first_step;
	}
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown process_type_cd \"%s\"", type),
			 errdetail("The allowed values are ONT_PATIENT_COUNT_UPDATE, ONT_UPDATE_CRC_CONCEPT and ONT_SYNCALL_CRC_CONCEPT.")));
	return NULL;				/* keep the compiler quiet */
}

/* "PROCESSED <done>/<total>", as the cell writes progress */
char *
ont_format_progress(int64 done, int64 total)
{
	return psprintf("PROCESSED " INT64_FORMAT "/" INT64_FORMAT, done, total);
}

/* Is done/total a progress the Workbench and the reports can read? */
bool
ont_progress_valid(int64 done, int64 total)
{
	return done >= 0 && total > 0 && done <= total && total <= PG_INT32_MAX;
}

/* 1 to 10 ASCII digits, and no more, at *s: advances *s */
static bool
read_count(const char **s, int64 *value)
{
	int			digits = 0;

	*value = 0;
	while (**s >= '0' && **s <= '9')
	{
		if (++digits > 10)
			return false;
		*value = *value * 10 + (*(*s)++ - '0');
	}
	return digits > 0;
}

static bool
is_ascii_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/*
 * Is step "PROCESSED <done>/<total>" as the cell writes it (one space, no
 * other), a valid progress?  Sets *done and *total when it is and they are
 * not NULL.
 */
bool
ont_parse_progress(const char *step, int32 *done, int32 *total)
{
	static const char prefix[] = "PROCESSED ";
	const char *s = step;
	int64		n[2];

	if (strncmp(s, prefix, sizeof(prefix) - 1) != 0)
		return false;
	s += sizeof(prefix) - 1;
	if (!read_count(&s, &n[0]) || *s++ != '/' || !read_count(&s, &n[1]) ||
		*s != '\0' || !ont_progress_valid(n[0], n[1]))
		return false;
	if (done)
		*done = (int32) n[0];
	if (total)
		*total = (int32) n[1];
	return true;
}

/*
 * The first valid "PROCESSED <done> / <total>" anywhere in a message, as
 * SQL jobs of version 1.0 wrote progress: ASCII spaces only, at least one
 * after the word.
 */
bool
ont_progress_in_message(const char *message, int64 *done, int64 *total)
{
	static const char word[] = "PROCESSED";
	const char *p = message;

	while ((p = strstr(p, word)) != NULL)
	{
		const char *s = p + sizeof(word) - 1;

		p++;
		if (!is_ascii_space(*s))
			continue;
		while (is_ascii_space(*s))
			s++;
		if (!read_count(&s, done))
			continue;
		while (is_ascii_space(*s))
			s++;
		if (*s++ != '/')
			continue;
		while (is_ascii_space(*s))
			s++;
		if (read_count(&s, total) && ont_progress_valid(*done, *total))
			return true;
	}
	return false;
}
