/*-------------------------------------------------------------------------
 *
 * progress.c
 *	  What a valid "PROCESSED <done>/<total>" is, and reading one.
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
