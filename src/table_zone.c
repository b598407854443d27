/*-------------------------------------------------------------------------
 *
 * table_zone.c
 *	  The time zone of the table's timestamp columns (ontstatus.table_time_zone).
 *
 * ont_process_status stores times as timestamp without time zone: the wall
 * clock of the ONT cell's JVM, whatever zone that runs in.  A DBA session or
 * a cron job usually runs in another zone, and would then read, compare and
 * write a different wall clock.  ontstatus.table_time_zone names the cell's
 * zone; every function that reads or writes the table runs with TimeZone set
 * to it, exactly as a function declared with SET TimeZone = '...' would.
 * Doing it through the GUC, rather than converting here and there, makes
 * every conversion PostgreSQL performs agree: timestamptz arguments against
 * timestamp columns, casts of timestamptz columns, the offsets written in
 * responses, the wall clock the lifecycle writes and the "now" the reports
 * measure ages against.  The caller's TimeZone is restored before the
 * function returns, and by transaction abort on error.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "ontstatus.h"

/*
 * Make the table's zone the session's TimeZone until ont_leave_table_zone.
 * Returns the GUC nesting level to pass to it, or 0 when the setting is
 * empty and nothing changed.
 */
int
ont_enter_table_zone(void)
{
	int			nestlevel;

	if (ontstatus_table_time_zone == NULL || ontstatus_table_time_zone[0] == '\0')
		return 0;
	nestlevel = NewGUCNestLevel();
	(void) set_config_option("TimeZone", ontstatus_table_time_zone,
							 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
							 true, ERROR, false);
	return nestlevel;
}

/* Give the caller its TimeZone back. */
void
ont_leave_table_zone(int nestlevel)
{
	if (nestlevel > 0)
		AtEOXact_GUC(true, nestlevel);
}
