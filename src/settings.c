/*-------------------------------------------------------------------------
 *
 * settings.c
 *	  ontstatus's settings (GUCs): their variables, checks and definition.
 *
 * Every setting in one place, as pg_stat_statements keeps its own; the
 * modules that use a setting read its variable and nothing else, so this
 * file depends on PostgreSQL alone.
 *
 * The settings are defined when the library is loaded (_PG_init), except
 * in one case PostgreSQL does not allow: a library first loaded while a
 * parallel query runs (a PARALLEL SAFE function of the user's calling
 * ours) is in parallel mode, where the values the session already gave
 * our settings could not be applied: each would be lost, with a WARNING,
 * for the rest of the session.  Then the definition waits for the first
 * call outside parallel mode (ont_begin_call calls ont_define_settings),
 * and the values are kept; sql/parallel.sql shows both.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "ontstatus.h"

#include "access/parallel.h"
#include "access/xact.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/varlena.h"
#if PG_VERSION_NUM >= 160000
#include "utils/guc_hooks.h"
#else
#include "commands/variable.h"
#endif

char	   *ontstatus_schema = NULL;
char	   *ontstatus_lookup_table = NULL;
char	   *ontstatus_table_time_zone = NULL;
int			ontstatus_max_request_bytes = 1024 * 1024;
bool		ontstatus_fast_path = true;

static bool settings_defined = false;

/*
 * Is value empty, or between min and max dot-separated names in SQL syntax?
 * The settings that name objects all take them so: folded to lower case
 * unless quoted.
 */
static bool
check_names(const char *value, int min, int max)
{
	char	   *raw;
	List	   *names;
	bool		ok;

	if (value == NULL || value[0] == '\0')
		return true;
	raw = pstrdup(value);
	ok = SplitIdentifierString(raw, '.', &names) &&
		list_length(names) >= min && list_length(names) <= max;
	pfree(raw);
	return ok;
}

/* ontstatus.lookup_table: a table, maybe qualified */
static bool
check_lookup_table(char **newval, void **extra pg_attribute_unused(),
				   GucSource source pg_attribute_unused())
{
	if (check_names(*newval, 1, 2))
		return true;
	GUC_check_errdetail("The value must be a table name, optionally qualified by its schema, or empty.");
	return false;
}

/* ontstatus.schema: one schema */
static bool
check_schema(char **newval, void **extra pg_attribute_unused(),
			 GucSource source pg_attribute_unused())
{
	if (check_names(*newval, 1, 1))
		return true;
	GUC_check_errdetail("The value must be one schema name in SQL syntax (quoted, \"Odd.Schema\", when it holds a dot or capitals), or empty.");
	return false;
}

/*
 * ontstatus.table_time_zone: empty (the session's zone), or anything SET
 * TimeZone accepts, checked by TimeZone's own hook so that a value
 * accepted here cannot fail later.
 */
static bool
check_table_time_zone(char **newval, void **extra pg_attribute_unused(),
					  GucSource source)
{
	char	   *value;
	void	   *zone_extra = NULL;
	bool		ok;

	if (*newval == NULL || (*newval)[0] == '\0')
		return true;

	/* check_timezone may replace the string; keep ours intact */
	value = pstrdup(*newval);
	ok = check_timezone(&value, &zone_extra, source);
	if (zone_extra)
#if PG_VERSION_NUM >= 160000
		guc_free(zone_extra);
#else
		free(zone_extra);
#endif
	if (!ok && GUC_check_errdetail_string == NULL)
		GUC_check_errdetail("The value must be a time zone that SET TimeZone accepts, such as America/New_York, or empty for the session's own.");
	return ok;
}

/* Define the settings, once; never in parallel mode (see above). */
void
ont_define_settings(void)
{
	if (settings_defined || IsInParallelMode())
		return;
	settings_defined = true;

	DefineCustomStringVariable("ontstatus.schema",
							   "Schema that holds the ont_process_status table.",
							   "A schema name in SQL syntax (folded to lower case unless quoted); when empty, the first ont_process_status on search_path is used.",
							   &ontstatus_schema,
							   "",
							   PGC_USERSET,
							   0,
							   check_schema, NULL, NULL);

	DefineCustomStringVariable("ontstatus.lookup_table",
							   "Table that maps i2b2 projects to metadata schemas (the hive's ont_db_lookup).",
							   "Used when a request names a project and the caller can read the table; empty disables the lookup.",
							   &ontstatus_lookup_table,
							   "i2b2hive.ont_db_lookup",
							   PGC_USERSET,
							   0,
							   check_lookup_table, NULL, NULL);

	DefineCustomStringVariable("ontstatus.table_time_zone",
							   "Time zone in which ont_process_status's timestamp columns are written: the ONT cell's JVM zone.",
							   "Any value TimeZone accepts; empty means the session's TimeZone.",
							   &ontstatus_table_time_zone,
							   "",
							   PGC_USERSET,
							   0,
							   check_table_time_zone, NULL, NULL);

	/*
	 * SUSET: the limit protects the server from its callers, so they must
	 * not be able to raise it.
	 */
	DefineCustomIntVariable("ontstatus.max_request_bytes",
							"Largest request, in bytes, that ontstatus parses.",
							"Checked before any parsing.",
							&ontstatus_max_request_bytes,
							1024 * 1024,
							1024,
							MaxAllocSize / 2,
							PGC_SUSET,
							GUC_UNIT_BYTE,
							NULL, NULL, NULL);

	/*
	 * USERSET: either reader gives the same answer (test/fuzz proves it
	 * input by input); off is for measuring the difference, or for ruling
	 * the fast path out.
	 */
	DefineCustomBoolVariable("ontstatus.fast_path",
							 "Reads requests of the common shape without libxml2.",
							 "Off sends every request through libxml2, which reads anything else anyway.",
							 &ontstatus_fast_path,
							 true,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);

#if PG_VERSION_NUM >= 150000
	MarkGUCPrefixReserved("ontstatus");
#else
	EmitWarningsOnPlaceholders("ontstatus");
#endif
}
