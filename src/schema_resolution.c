/*-------------------------------------------------------------------------
 *
 * schema_resolution.c
 *	  Which ont_process_status table a request reads.
 *
 * As the i2b2 ONT cell does it: when the request names a project and the
 * hive's lookup table (ontstatus.lookup_table, i2b2hive.ont_db_lookup by
 * default) exists and the caller may read it, the project's row there names
 * the schema.  Otherwise - no project_id, or no lookup table at all, or a
 * call from find_process_status - the schema is ontstatus.schema when set,
 * else the first ont_process_status on search_path.
 *
 * The lookup follows the cell's rules with its one quirk mended: the
 * project path is walked from the full path up through every parent
 * ("Demo2/Team/" then "Demo2/"), then to the hive's "@" row; at each level
 * a row for the requesting user wins over an '@' (anyone) row; domain and
 * owner compare case-insensitively.  It is a single prepared query, kept
 * for the backend's life but executed in the caller's snapshot, so a change
 * to the lookup table is seen by the very next call.
 *
 * c_db_fullschema is data, never SQL: it must be a plain identifier
 * (optionally followed by the '.' the cell appends), is folded as the
 * parser folds an unquoted identifier, and must name an existing schema.
 *
 * The result is the table's OID and its quoted, schema-qualified name:
 * nothing after this point depends on search_path.  A request that names
 * a project while the lookup table exists but cannot be read fails: it
 * never falls back to another schema.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "ontstatus.h"

#include "catalog/namespace.h"
#include "catalog/pg_namespace_d.h"
#include "catalog/pg_type_d.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "parser/scansup.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/varlena.h"

#define ONT_TABLE_NAME "ont_process_status"

/*
 * Kept lookup plans, one per lookup table (by its quoted qualified name,
 * which is all the query text depends on).  As status_query.c's, a plan is
 * never freed: the lookup table can be a view whose rows come from a
 * function that calls ontstatus under another ontstatus.lookup_table, so
 * an outer call may still be running the plan a nested call would replace.
 */
#define LOOKUP_KEY_SIZE (2 * (2 * NAMEDATALEN + 2) + 2)

typedef struct LookupPlan
{
	char		table[LOOKUP_KEY_SIZE];
	SPIPlanPtr	plan;
} LookupPlan;

static HTAB *lookup_plans = NULL;

/* the schema ontstatus.schema names, as a plain name; NULL when empty */
static char *
schema_setting(void)
{
	char	   *raw;
	List	   *names;

	if (ontstatus_schema == NULL || ontstatus_schema[0] == '\0')
		return NULL;
	raw = pstrdup(ontstatus_schema);
	if (!SplitIdentifierString(raw, '.', &names) || list_length(names) != 1)
		elog(ERROR, "invalid ontstatus.schema \"%s\"", ontstatus_schema);	/* the hook prevents it */
	return linitial(names);
}

/* May role read the relation: USAGE on its schema and SELECT on it? */
bool
ont_role_can_read(Oid role, Oid relid)
{
	Oid			nspid = get_rel_namespace(relid);

#if PG_VERSION_NUM >= 160000
	if (object_aclcheck(NamespaceRelationId, nspid, role, ACL_USAGE) != ACLCHECK_OK)
		return false;
#else
	if (pg_namespace_aclcheck(nspid, role, ACL_USAGE) != ACLCHECK_OK)
		return false;
#endif
	return pg_class_aclcheck(relid, role, ACL_SELECT) == ACLCHECK_OK;
}

/*
 * The table ontstatus.lookup_table names: its OID, and in *qualified its
 * quoted, qualified name; InvalidOid when the setting is empty or names no
 * table (then there is no lookup).  Never raises.
 */
Oid
ont_lookup_table(char **qualified)
{
	char	   *raw;
	List	   *names;
	Oid			nspid;
	Oid			relid;

	*qualified = NULL;
	if (ontstatus_lookup_table == NULL || ontstatus_lookup_table[0] == '\0')
		return InvalidOid;
	raw = pstrdup(ontstatus_lookup_table);
	if (!SplitIdentifierString(raw, '.', &names))
		return InvalidOid;		/* the check hook makes this unreachable */

	if (list_length(names) == 2)
	{
		nspid = get_namespace_oid(linitial(names), true);
		if (!OidIsValid(nspid))
			return InvalidOid;
		relid = get_relname_relid(lsecond(names), nspid);
	}
	else
	{
		relid = RelnameGetRelid(linitial(names));
		nspid = OidIsValid(relid) ? get_rel_namespace(relid) : InvalidOid;
	}
	if (OidIsValid(relid))
		*qualified = quote_qualified_identifier(get_namespace_name(nspid), get_rel_name(relid));
	return relid;
}

/*
 * The lookup table as a quoted qualified name, or NULL when it is not set
 * or does not exist: then there is no lookup, and the table is found as
 * for find_process_status.  A lookup table the caller may not read is an
 * error, not "no lookup": answering from ontstatus.schema or search_path
 * could give the rows of another project's table.
 */
static char *
lookup_table_name(const OntRequest *req)
{
	char	   *qualified;
	Oid			relid = ont_lookup_table(&qualified);
	Oid			nspid;

	if (!OidIsValid(relid))
		return NULL;
	nspid = get_rel_namespace(relid);
	if (!ont_role_can_read(GetUserId(), relid))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for the project lookup table %s", qualified),
				 errdetail("The request names project %s, whose schema is found in that table (ontstatus.lookup_table). Grant role %s USAGE on schema %s and SELECT on the table, or, on a site with a single project, set ontstatus.lookup_table to ''.",
						   req->project_id, GetUserNameFromId(GetUserId(), false),
						   quote_identifier(get_namespace_name(nspid)))));
	return qualified;
}

/*
 * The levels a project_id is looked up at, most specific first: "A/B/C/",
 * "A/B/", "A/", then the hive's "@".  A project_id of "@" is the hive only.
 */
ArrayType *
ont_project_levels(const char *project_id)
{
	List	   *segments = NIL;
	List	   *levels = NIL;
	char	   *copy = pstrdup(project_id);
	char	   *tok;
	char	   *save;
	Datum	   *elems;
	ListCell   *lc;
	int			n = 0;

	if (strcmp(project_id, "@") != 0)
	{
		for (tok = strtok_r(copy, "/", &save); tok; tok = strtok_r(NULL, "/", &save))
			segments = lappend(segments, tok);
		for (int len = list_length(segments); len > 0; len--)
		{
			StringInfoData path;

			initStringInfo(&path);
			for (int i = 0; i < len; i++)
				appendStringInfo(&path, "%s/", (char *) list_nth(segments, i));
			levels = lappend(levels, path.data);
		}
	}
	levels = lappend(levels, "@");

	elems = palloc(sizeof(Datum) * list_length(levels));
	foreach(lc, levels)
		elems[n++] = CStringGetTextDatum((char *) lfirst(lc));
	return construct_array(elems, n, TEXTOID, -1, false, TYPALIGN_INT);
}

/*
 * c_db_fullschema as a schema OID: one trailing '.' removed, a plain
 * identifier required, folded as an unquoted identifier.
 */
static Oid
lookup_schema(const char *value, const OntRequest *req)
{
	int			len = strlen(value);
	char	   *folded;
	Oid			nspid;

	if (len > 0 && value[len - 1] == '.')
		len--;
	for (int i = 0; i < len; i++)
	{
		unsigned char c = (unsigned char) value[i];
		bool		ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			c == '_' || IS_HIGHBIT_SET(c) ||
			(i > 0 && ((c >= '0' && c <= '9') || c == '$'));

		if (!ok)
			len = -1;
	}
	if (len <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_SCHEMA_NAME),
				 errmsg("invalid schema name \"%s\" in ont_db_lookup for project \"%s\"",
						value, req->project_id),
				 errdetail("c_db_fullschema must be a plain SQL identifier, optionally followed by a dot.")));

	folded = downcase_truncate_identifier(value, len, false);
	nspid = get_namespace_oid(folded, true);
	if (!OidIsValid(nspid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_SCHEMA),
				 errmsg("schema \"%s\" does not exist", folded),
				 errdetail("ont_db_lookup maps hive %s, project %s to it.",
						   req->security_domain ? req->security_domain : "",
						   req->project_id)));
	return nspid;
}

/*
 * The kept plan of the lookup in table (sql), prepared the first time.
 * The plan cache revalidates it when the table changes.
 */
static SPIPlanPtr
lookup_plan(const char *table, const char *sql, Oid *types)
{
	LookupPlan *entry;
	SPIPlanPtr	plan;
	bool		found;

	if (strlen(table) >= LOOKUP_KEY_SIZE)
		elog(ERROR, "lookup table name too long: %s", table);	/* quoting bounds it */
	if (lookup_plans == NULL)
	{
		HASHCTL		ctl;

		memset(&ctl, 0, sizeof(ctl));
		ctl.keysize = LOOKUP_KEY_SIZE;
		ctl.entrysize = sizeof(LookupPlan);
		lookup_plans = hash_create("ontstatus lookup plans", 8, &ctl,
#if PG_VERSION_NUM >= 140000
								   HASH_ELEM | HASH_STRINGS
#else
								   HASH_ELEM
#endif
			);
	}
	entry = (LookupPlan *) hash_search(lookup_plans, table, HASH_FIND, NULL);
	if (entry)
		return entry->plan;

	plan = SPI_prepare(sql, 3, types);
	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
	/* enter it once nothing can fail */
	SPI_keepplan(plan);
	entry = (LookupPlan *) hash_search(lookup_plans, table, HASH_ENTER, &found);
	entry->plan = plan;
	return plan;
}

/*
 * The row of the lookup table (quoted name) that answers req: the project
 * path walked up level by level, at each level the user's row before an
 * '@' row.  True and *row (in the caller's context) when one matches.
 */
bool
ont_lookup_row(const char *table, const OntRequest *req, OntLookupRow *row)
{
	StringInfoData sql;
	Oid			types[3] = {TEXTOID, TEXTOID, TEXTARRAYOID};
	Datum		values[3];
	char		nulls[3] = {' ', ' ', ' '};
	int			rc;
	bool		found;
	SPIPlanPtr	plan;

	initStringInfo(&sql);
	appendStringInfo(&sql,
					 "WITH levels(path, rank) AS ("
					 " SELECT pg_catalog.lower(p), o"
					 " FROM pg_catalog.unnest($3) WITH ORDINALITY AS u(p, o))"
					 " SELECT CAST(l.c_db_fullschema AS pg_catalog.text),"
					 " CAST(l.c_project_path AS pg_catalog.text),"
					 " CAST(l.c_owner_id AS pg_catalog.text)"
					 " FROM %s l JOIN levels v"
					 " ON pg_catalog.lower(l.c_project_path) OPERATOR(pg_catalog.=) v.path"
					 " WHERE pg_catalog.lower(l.c_domain_id) OPERATOR(pg_catalog.=) pg_catalog.lower($1)"
					 " AND (pg_catalog.lower(l.c_owner_id) OPERATOR(pg_catalog.=) pg_catalog.lower($2)"
					 " OR l.c_owner_id OPERATOR(pg_catalog.=) '@')"
					 " ORDER BY v.rank, l.c_owner_id OPERATOR(pg_catalog.=) '@'"
					 " LIMIT 1", table);

	if (req->security_domain)
		values[0] = CStringGetTextDatum(req->security_domain);
	else
		nulls[0] = 'n';
	if (req->security_username)
		values[1] = CStringGetTextDatum(req->security_username);
	else
		nulls[1] = 'n';
	values[2] = PointerGetDatum(ont_project_levels(req->project_id));

	ont_spi_connect();
	plan = lookup_plan(table, sql.data, types);
	rc = SPI_execute_plan(plan, values, nulls, true, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_plan failed: %s", SPI_result_code_string(rc));
	found = SPI_processed > 0;
	if (found)
	{
		char	   *fields[3];

		for (int i = 0; i < 3; i++)
		{
			char	   *value = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, i + 1);

			fields[i] = SPI_palloc(value ? strlen(value) + 1 : 1);
			strcpy(fields[i], value ? value : "");
		}
		row->schema = fields[0];
		row->path = fields[1];
		row->owner = fields[2];
	}
	ont_spi_finish();
	return found;
}

/*
 * Run the lookup for req in table.  Returns the schema's OID; raises an
 * error when no row matches.
 */
static Oid
resolve_through_lookup(const char *table, const OntRequest *req)
{
	OntLookupRow row;

	if (!ont_lookup_row(table, req, &row))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("could not locate hive=%s for project %s",
						req->security_domain ? req->security_domain : "",
						req->project_id),
				 errdetail("No row of %s matches the request's domain, project and user, nor the hive's \"@\" project.",
						   table)));
	return lookup_schema(row.schema, req);
}

/*
 * Fill *table with what names the table: its OID and names.  Everything
 * after this works from the OID and the quoted name, never from
 * search_path.
 */
static void
set_table(OntTable *table, Oid nspid, Oid relid)
{
	table->relid = relid;
	table->schema = get_namespace_name(nspid);
	table->qualified = quote_qualified_identifier(table->schema, ONT_TABLE_NAME);
}

/* ont_process_status in the given schema; an error when there is none */
static void
table_in_schema(Oid nspid, const char *schema, OntTable *table,
				const char *detail)
{
	Oid			relid = OidIsValid(nspid) ?
		get_relname_relid(ONT_TABLE_NAME, nspid) : InvalidOid;

	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation \"%s.%s\" does not exist", schema, ONT_TABLE_NAME),
				 detail ? errdetail("%s", detail) : 0));
	set_table(table, nspid, relid);
}

/* ont_process_status in a schema named by the caller (enable_notify) */
void
ont_table_in_schema(const char *schema, OntTable *table)
{
	table_in_schema(get_namespace_oid(schema, true), schema, table, NULL);
}

/*
 * The names of a table resolved earlier, read again from its OID: a job
 * that resolved its table once writes there whatever its steps do to
 * search_path, ontstatus.schema or the names.  An error when the table is
 * gone.
 */
void
ont_table_refresh(OntTable *table)
{
	Oid			nspid = get_rel_namespace(table->relid);
	char	   *relname = get_rel_name(table->relid);

	if (!OidIsValid(nspid) || relname == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation %s no longer exists", table->qualified),
				 errdetail("It was dropped while a process recorded in it was running.")));
	table->schema = get_namespace_name(nspid);
	table->qualified = quote_qualified_identifier(table->schema, relname);
}

/*
 * req is the parsed request, or NULL for find_process_status, which always
 * uses ontstatus.schema or search_path.
 */
void
ont_resolve_table(const OntRequest *req, OntTable *table)
{
	Oid			nspid;
	Oid			relid;
	char	   *lookup;
	char	   *schema;

	if (req && req->project_id && req->project_id[0] != '\0' &&
		(lookup = lookup_table_name(req)) != NULL)
	{
		nspid = resolve_through_lookup(lookup, req);
		table_in_schema(nspid, get_namespace_name(nspid), table,
						psprintf("ont_db_lookup maps project %s to schema \"%s\".",
								 req->project_id, get_namespace_name(nspid)));
	}
	else if ((schema = schema_setting()) != NULL)
	{
		nspid = get_namespace_oid(schema, true);
		if (!OidIsValid(nspid))
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_SCHEMA),
					 errmsg("schema \"%s\" does not exist", schema),
					 errdetail("The setting ontstatus.schema names it.")));
		table_in_schema(nspid, schema, table,
						psprintf("The setting ontstatus.schema names schema \"%s\".",
								 schema));
	}
	else
	{
		relid = RelnameGetRelid(ONT_TABLE_NAME);
		if (!OidIsValid(relid))
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_TABLE),
					 errmsg("relation \"%s\" does not exist", ONT_TABLE_NAME),
					 errdetail("No schema on the search_path holds it, and ontstatus.schema is not set."),
					 errhint("Set ontstatus.schema to the i2b2 metadata schema, e.g. i2b2metadata.")));
		set_table(table, get_rel_namespace(relid), relid);
	}
}
