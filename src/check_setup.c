/*-------------------------------------------------------------------------
 *
 * check_setup.c
 *	  ontstatus.check_setup(project_id, role_name): what is wrong with a
 *	  site's set-up, and the SQL that fixes it.
 *
 * Every finding is a row (area, status, detail, hint): status ok, warn or
 * fail; detail what was found, with names and numbers; hint the statements
 * a DBA would run, else a sentence.  Nothing it checks raises: a missing or
 * unreadable lookup table, a missing schema or role are findings.
 *
 * The tables are found by the code the requests and the lifecycle use
 * (ont_resolve_table), run in a subtransaction so that its error becomes
 * a finding.  For a project, every (domain, owner) of the lookup table's
 * rows for that project and its parents is resolved as a request from
 * that domain and user would be.
 *
 * Another role is checked as its own sessions see the site, and never
 * with the caller's rights.  A caller who may act as role_name anyway (a
 * superuser or a member) runs the whole check as role_name, in a
 * security-restricted operation, with role_name's own settings and
 * "$user", as VACUUM and ANALYZE run what a table's owner planted: a
 * function, operator or view role_name put on its path runs with
 * role_name's rights only.  Any other caller gets the check with its own
 * settings and rights, a row saying so, and role_name's privileges asked
 * from the catalog as has_table_privilege asks.  Every query is
 * schema-qualified, operators included, and every check runs in a
 * subtransaction: what a role planted can make a check fail, never raise.
 * A hint is SQL that fixes the finding, naming only objects role_name
 * can use, or NULL.
 *
 * Why C and not a PL/pgSQL function a DBA could read with \sf: the check
 * must run as another role without letting that role's objects run with
 * the caller's rights, which takes SetUserIdAndSecContext with
 * SECURITY_RESTRICTED_OPERATION (a SQL function can only SET ROLE, and
 * the role's planted code, running after it, could RESET ROLE back to the
 * session's superuser); and each
 * check must be a subtransaction that a planted object cannot escape.  The
 * table a request reads is answered by the requests' own C code, which SQL
 * can call as ontstatus.resolve_table().
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "ontstatus.h"

#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type_d.h"
#include "commands/dbcommands.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "parser/parse_coerce.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/tuplestore.h"
#include "utils/varlena.h"

#include <libxml/parser.h>
#include <libxml/xmlversion.h>

PG_FUNCTION_INFO_V1(ontstatus_check_setup);

/* rows past which the README's indexes pay */
#define INDEX_ADVICE_ROWS 5000

/* the majors tested at every change: test/matrix/tested-majors, via the Makefile */
#ifndef ONT_TESTED_MAJORS
#error "ONT_TESTED_MAJORS (test/matrix/tested-majors) is defined by the Makefile"
#endif

typedef struct Findings
{
	ReturnSetInfo *rsinfo;
	Oid			role;			/* InvalidOid: the role does not exist */
	const char *role_name;		/* quoted, for hints */
	char	   *server_zone;	/* TimeZone of the configuration files */
} Findings;

static void
finding(Findings *f, const char *area, const char *status, const char *detail,
		const char *hint)
{
	Datum		values[4];
	bool		nulls[4] = {false, false, false, hint == NULL};

	values[0] = CStringGetTextDatum(area);
	values[1] = CStringGetTextDatum(status);
	values[2] = CStringGetTextDatum(detail);
	values[3] = hint ? CStringGetTextDatum(hint) : (Datum) 0;
	tuplestore_putvalues(f->rsinfo->setResult, f->rsinfo->setDesc, values, nulls);
}

/* one text value of a one-row query, NULL when no row or NULL */
static char *
query_text(const char *sql, int nargs, Oid *types, Datum *values)
{
	char	   *result = NULL;

	ont_spi_execute(sql, nargs, types, values, NULL, true);
	if (SPI_processed > 0)
		result = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	return result;
}

/* ont_resolve_table's call through ont_try */
typedef struct ResolveCall
{
	const OntRequest *req;
	OntTable   *table;
} ResolveCall;

static void
resolve_call(void *arg)
{
	ResolveCall *call = (ResolveCall *) arg;

	ont_resolve_table(call->req, call->table);
}

/*
 * Resolve the table as a request (req) or the lifecycle (req NULL) would,
 * in a subtransaction: true and *table, or false and *error, the message
 * (and detail) of what went wrong.
 */
static bool
try_resolve(const OntRequest *req, OntTable *table, char **error)
{
	ResolveCall call = {req, table};
	ErrorData  *edata = ont_try(resolve_call, &call, CurrentMemoryContext);

	if (edata == NULL)
		return true;
	*error = edata->detail ? psprintf("%s (%s)", edata->message, edata->detail) :
		pstrdup(edata->message);
	return false;
}

/*
 * The schemas of this database that hold an ont_process_status, quoted:
 * every one, or (readable_by valid) only those whose table that role may
 * read, which alone a hint may name.
 */
static List *
candidate_schemas(Oid readable_by)
{
	List	   *result = NIL;

	ont_spi_execute("SELECT pg_catalog.quote_ident(n.nspname), CAST(c.oid AS pg_catalog.int8)"
					" FROM pg_catalog.pg_class c"
					" JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace"
					" WHERE c.relname OPERATOR(pg_catalog.=) 'ont_process_status'"
					" AND c.relkind OPERATOR(pg_catalog.=) ANY (CAST('{r,p,v,f}' AS pg_catalog.\"char\"[]))"
					" ORDER BY 1",
					0, NULL, NULL, NULL, true);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		Oid			relid = (Oid) strtoul(SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2),
										  NULL, 10);

		if (!OidIsValid(readable_by) || ont_role_can_read(readable_by, relid))
			result = lappend(result, SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1));
	}
	return result;
}

/*
 * The one schema a hint may send role_name to: the only candidate it can
 * read; NULL when there is none, or several (which is the project's is not
 * the check's to guess).
 */
static char *
hint_schema(Findings *f)
{
	List	   *readable;

	if (!OidIsValid(f->role))
		return NULL;
	readable = candidate_schemas(f->role);
	return list_length(readable) == 1 ? (char *) linitial(readable) : NULL;
}

static char *
join_names(List *names)
{
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	foreach(lc, names)
		appendStringInfo(&buf, "%s%s", buf.len ? ", " : "", (char *) lfirst(lc));
	return buf.len ? buf.data : "(none)";
}

/* libxml2's runtime version, "20914", as its build's "2.9.14" */
static char *
dotted(const char *version)
{
	int			v = atoi(version);

	return psprintf("%d.%d.%d", v / 10000, (v / 100) % 100, v % 100);
}

/* versions: the extension's, PostgreSQL's, libxml2's */
static void
check_versions(Findings *f)
{
	char	   *installed = query_text("SELECT extversion FROM pg_catalog.pg_extension"
									   " WHERE extname OPERATOR(pg_catalog.=) 'ontstatus'",
									   0, NULL, NULL);
	char	   *available = query_text("SELECT default_version FROM pg_catalog.pg_available_extensions"
									   " WHERE name OPERATOR(pg_catalog.=) 'ontstatus'",
									   0, NULL, NULL);
	int			major = PG_VERSION_NUM / 10000;
	bool		tested = false;
	char	   *list = pstrdup(ONT_TESTED_MAJORS);
	StringInfoData listed;

	if (installed && available && strcmp(installed, available) != 0)
		finding(f, "versions", "warn",
				psprintf("ontstatus %s is installed; %s is available", installed, available),
				"ALTER EXTENSION ontstatus UPDATE;");
	else
		finding(f, "versions", "ok",
				psprintf("ontstatus %s, the version this server has", installed ? installed : "?"),
				NULL);

	initStringInfo(&listed);
	for (char *tok = strtok(list, " "); tok; tok = strtok(NULL, " "))
	{
		tested |= atoi(tok) == major;
		appendStringInfo(&listed, "%s%s", listed.len ? ", " : "", tok);
	}
	finding(f, "versions", tested ? "ok" : "warn",
			psprintf("PostgreSQL %s (major %d) %s", PG_VERSION, major,
					 tested ? "is one ontstatus is tested on" :
					 psprintf("is not one ontstatus is tested on (%s): run its suite (make test with this server's pg_config) before relying on it",
							  listed.data)),
			NULL);
	finding(f, "versions", "ok",
			psprintf("libxml2 %s (built against %s)", dotted(xmlParserVersion),
					 LIBXML_DOTTED_VERSION),
			NULL);
}

/* the lookup row fixed to name schema; NULL when no schema may be named */
static char *
lookup_update_hint(const char *lookup, const char *domain, const char *path,
				   const char *owner, const char *schema)
{
	if (schema == NULL)
		return NULL;
	return psprintf("UPDATE %s SET c_db_fullschema = %s WHERE c_domain_id = %s"
					" AND c_project_path = %s AND c_owner_id = %s;",
					lookup, quote_literal_cstr(schema), quote_literal_cstr(domain),
					quote_literal_cstr(path), quote_literal_cstr(owner));
}

/*
 * The tables requests for project_id read: one row per (domain, owner) of
 * the lookup rows at the project's levels and the hive's "@".  Adds each
 * table found to *tables.
 */
static void
check_lookup(Findings *f, const char *project_id, Oid lookup_relid,
			 const char *lookup, List **tables)
{
	Oid			types[1] = {TEXTARRAYOID};
	Datum		values[1];
	List	   *candidates = candidate_schemas(InvalidOid);
	char	   *schema = hint_schema(f);
	Oid			nspid = get_rel_namespace(lookup_relid);
	char	   *sql;
	int			rows;
	SPITupleTable *tt;

	/* role_name must be able to read the lookup table, or it fails closed */
	if (OidIsValid(f->role) && !ont_role_can_read(f->role, lookup_relid))
		finding(f, "privileges", "fail",
				psprintf("role %s cannot read the lookup table %s: every request naming a project gets an ERROR response (permission denied)",
						 f->role_name, lookup),
				psprintf("GRANT USAGE ON SCHEMA %s TO %s; GRANT SELECT ON %s TO %s;",
						 quote_identifier(get_namespace_name(nspid)), f->role_name,
						 lookup, f->role_name));
	else if (OidIsValid(f->role))
		finding(f, "privileges", "ok",
				psprintf("role %s can read the lookup table %s", f->role_name, lookup), NULL);

	if (!ont_role_can_read(GetUserId(), lookup_relid))
	{
		finding(f, "table", "fail",
				psprintf("the lookup table %s cannot be read by role %s: the table requests for project %s read cannot be known here; run ontstatus.check_setup() as a superuser, or as a role that may read the lookup table",
						 lookup, GetUserNameFromId(GetUserId(), false), project_id),
				NULL);
		return;
	}

	values[0] = PointerGetDatum(ont_project_levels(project_id));
	sql = psprintf("SELECT DISTINCT CAST(l.c_domain_id AS pg_catalog.text),"
				   " CAST(l.c_owner_id AS pg_catalog.text)"
				   " FROM %s l WHERE pg_catalog.lower(l.c_project_path) OPERATOR(pg_catalog.=)"
				   " ANY (SELECT pg_catalog.lower(p) FROM pg_catalog.unnest($1) AS p)"
				   " ORDER BY 1, 2", lookup);
	ont_spi_execute(sql, 1, types, values, NULL, true);
	rows = SPI_processed;
	tt = SPI_tuptable;
	if (rows == 0)
	{
		/* the row to add names the site's domain: the only one it has */
		char	   *domain = query_text(psprintf("SELECT pg_catalog.min(CAST(l.c_domain_id AS pg_catalog.text))"
												 " FROM %s l HAVING pg_catalog.count(DISTINCT l.c_domain_id) OPERATOR(pg_catalog.=) 1",
												 lookup),
										0, NULL, NULL);

		finding(f, "table", "fail",
				psprintf("no row of %s maps project %s (nor its parents, nor the hive's \"@\"): requests for it get an ERROR response (could not locate hive)",
						 lookup, project_id),
				schema == NULL || domain == NULL ? NULL :
				psprintf("INSERT INTO %s (c_domain_id, c_project_path, c_owner_id, c_db_fullschema, c_db_datasource, c_db_servertype, c_db_nicename) VALUES (%s, %s, '@', %s, 'java:/OntologyDemoDS', 'POSTGRESQL', 'Metadata');",
						 lookup, quote_literal_cstr(domain),
						 quote_literal_cstr(psprintf("%s/", project_id)),
						 quote_literal_cstr(schema)));
		return;
	}

	for (int i = 0; i < rows; i++)
	{
		char	   *domain = SPI_getvalue(tt->vals[i], tt->tupdesc, 1);
		char	   *owner = SPI_getvalue(tt->vals[i], tt->tupdesc, 2);
		OntRequest	req;
		OntTable   *table = palloc0(sizeof(OntTable));
		char	   *error;
		char	   *who;

		memset(&req, 0, sizeof(req));
		req.security_domain = domain;
		req.security_username = owner && strcmp(owner, "@") != 0 ? owner : NULL;
		req.project_id = (char *) project_id;
		who = psprintf("domain %s, %s", domain ? domain : "(null)",
					   req.security_username ? psprintf("user %s", owner) : "any user");
		if (try_resolve(&req, table, &error))
		{
			finding(f, "table", "ok",
					psprintf("requests for project %s (%s) read %s", project_id, who,
							 table->qualified),
					NULL);
			*tables = lappend(*tables, table);
		}
		else
		{
			/* the row that matched, to name it in the hint */
			OntLookupRow row;
			bool		matched = ont_lookup_row(lookup, &req, &row);

			finding(f, "table", "fail",
					psprintf("requests for project %s (%s) fail: %s; schemas of this database that hold ont_process_status: %s",
							 project_id, who, error, join_names(candidates)),
					matched ? lookup_update_hint(lookup, domain ? domain : "", row.path,
												 row.owner, schema) :
					NULL);
		}
	}
}

/*
 * The ont_process_status the role's settings name even where it lacks the
 * USAGE that would let its sessions find it: in the schema ontstatus.schema
 * names, else in the first schema of its search_path ("$user" its own)
 * that holds one.  Read from the catalog; InvalidOid when none.
 */
static Oid
table_named_by_settings(Findings *f)
{
	const char *path = GetConfigOption("search_path", true, false);
	char	   *raw;
	List	   *names;
	ListCell   *lc;

	if (ontstatus_schema && ontstatus_schema[0])
		path = ontstatus_schema;
	if (path == NULL || !OidIsValid(f->role))
		return InvalidOid;
	raw = pstrdup(path);
	if (!SplitIdentifierString(raw, ',', &names))
		return InvalidOid;
	foreach(lc, names)
	{
		char	   *name = (char *) lfirst(lc);
		Oid			nspid;
		Oid			relid;

		if (strcmp(name, "$user") == 0)
			name = GetUserNameFromId(f->role, false);
		nspid = get_namespace_oid(name, true);
		relid = OidIsValid(nspid) ? get_relname_relid("ont_process_status", nspid) : InvalidOid;
		if (OidIsValid(relid))
			return relid;
	}
	return InvalidOid;
}

/* the table the lifecycle, find_process_status and the reports read */
static void
check_default_table(Findings *f, bool lookup_exists, List **tables)
{
	OntTable   *table = palloc0(sizeof(OntTable));
	char	   *error;
	const char *how = ontstatus_schema && ontstatus_schema[0] ?
		psprintf("ontstatus.schema = %s", ontstatus_schema) : "search_path";

	if (try_resolve(NULL, table, &error))
	{
		finding(f, "table", "ok",
				psprintf("%s read %s for role %s (through %s)",
						 lookup_exists ? "the lifecycle, find_process_status and the reports" :
						 "requests, the lifecycle, find_process_status and the reports",
						 table->qualified, f->role_name, how),
				NULL);
		*tables = lappend(*tables, table);
	}
	else
	{
		List	   *candidates = candidate_schemas(InvalidOid);
		Oid			named = table_named_by_settings(f);
		char	   *schema = hint_schema(f);
		char	   *hint = NULL;

		/* its settings name a table it may not reach: grant it, else point */
		if (OidIsValid(named) && !ont_role_can_read(f->role, named))
		{
			const char *nsp = quote_identifier(get_namespace_name(get_rel_namespace(named)));

			hint = psprintf("GRANT USAGE ON SCHEMA %s TO %s; GRANT SELECT ON %s.ont_process_status TO %s;",
							nsp, f->role_name, nsp, f->role_name);
		}
		else if (schema)
			hint = psprintf("ALTER ROLE %s SET ontstatus.schema = %s;", f->role_name,
							quote_literal_cstr(schema));
		finding(f, "table", "fail",
				psprintf("for role %s, through %s: %s; schemas of this database that hold ont_process_status: %s",
						 f->role_name, how, error, join_names(candidates)),
				hint);
	}
}

/* the columns ontstatus reads and writes, and whether they cast */
static void
check_shape(Findings *f, const OntTable *table)
{
	static const struct
	{
		const char *column;
		Oid			target;
	}			columns[] = {
		{"process_id", INT8OID}, {"process_type_cd", TEXTOID},
		{"process_step_cd", TEXTOID}, {"start_date", TIMESTAMPOID},
		{"end_date", TIMESTAMPOID}, {"process_status_cd", TEXTOID},
		{"crc_upload_id", INT8OID}, {"message", TEXTOID},
		{"entry_date", TIMESTAMPTZOID}, {"change_date", TIMESTAMPTZOID},
		{"status_cd", TEXTOID}, {"changedby_char", TEXTOID},
	};
	StringInfoData missing;
	StringInfoData unusable;

	initStringInfo(&missing);
	initStringInfo(&unusable);
	for (size_t i = 0; i < lengthof(columns); i++)
	{
		AttrNumber	attnum = get_attnum(table->relid, columns[i].column);
		Oid			type;

		if (attnum == InvalidAttrNumber)
		{
			appendStringInfo(&missing, "%s%s", missing.len ? ", " : "", columns[i].column);
			continue;
		}
		type = get_atttype(table->relid, attnum);
		if (!can_coerce_type(1, &type, (Oid *) &columns[i].target, COERCION_EXPLICIT))
			appendStringInfo(&unusable, "%s%s (%s)", unusable.len ? ", " : "",
							 columns[i].column, format_type_be(type));
	}
	if (missing.len || unusable.len)
		finding(f, "shape", "fail",
				psprintf("%s: %s%s%s%s; compare the table with i2b2's DDL of ont_process_status: a renamed column must get its name back, a missing one be added, as the site's history requires", table->qualified,
						 missing.len ? "missing column(s) " : "", missing.data,
						 missing.len && unusable.len ? "; " : "",
						 unusable.len ? psprintf("column(s) of a type ontstatus cannot read: %s", unusable.data) : ""),
				NULL);
	else
		finding(f, "shape", "ok",
				psprintf("%s has the columns ontstatus reads and writes, of usable types",
						 table->qualified),
				NULL);
}

/* the sequence process_id's default draws from, InvalidOid when none */
static Oid
id_sequence(const OntTable *table)
{
	Oid			types[1] = {OIDOID};
	Datum		values[1] = {ObjectIdGetDatum(table->relid)};
	char	   *seq = query_text("SELECT CAST(d.refobjid AS pg_catalog.int8)"
								 " FROM pg_catalog.pg_attrdef ad"
								 " JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) ad.adrelid"
								 "  AND a.attnum OPERATOR(pg_catalog.=) ad.adnum"
								 " JOIN pg_catalog.pg_depend d ON d.classid OPERATOR(pg_catalog.=) CAST('pg_catalog.pg_attrdef' AS pg_catalog.regclass)"
								 "  AND d.objid OPERATOR(pg_catalog.=) ad.oid"
								 "  AND d.refclassid OPERATOR(pg_catalog.=) CAST('pg_catalog.pg_class' AS pg_catalog.regclass)"
								 " JOIN pg_catalog.pg_class s ON s.oid OPERATOR(pg_catalog.=) d.refobjid AND s.relkind OPERATOR(pg_catalog.=) 'S'"
								 " WHERE ad.adrelid OPERATOR(pg_catalog.=) $1"
								 " AND a.attname OPERATOR(pg_catalog.=) 'process_id' LIMIT 1",
								 1, types, values);

	return seq ? (Oid) strtoul(seq, NULL, 10) : InvalidOid;
}

/* what role_name may do with the table: read (fail), the lifecycle (warn) */
static void
check_privileges(Findings *f, const OntTable *table)
{
	Oid			nspid = get_rel_namespace(table->relid);
	const char *schema = quote_identifier(get_namespace_name(nspid));
	Oid			seq;
	StringInfoData lacks;
	StringInfoData hint;

	if (!OidIsValid(f->role))
		return;
	if (!ont_role_can_read(f->role, table->relid))
		finding(f, "privileges", "fail",
				psprintf("role %s cannot read %s: requests get an ERROR response, the other functions raise 42501",
						 f->role_name, table->qualified),
				psprintf("GRANT USAGE ON SCHEMA %s TO %s; GRANT SELECT ON %s TO %s;",
						 schema, f->role_name, table->qualified, f->role_name));
	else
		finding(f, "privileges", "ok",
				psprintf("role %s can read %s", f->role_name, table->qualified), NULL);

	initStringInfo(&lacks);
	initStringInfo(&hint);
	if (pg_class_aclcheck(table->relid, f->role, ACL_INSERT) != ACLCHECK_OK ||
		pg_class_aclcheck(table->relid, f->role, ACL_UPDATE) != ACLCHECK_OK)
	{
		appendStringInfo(&lacks, "INSERT and UPDATE on %s", table->qualified);
		appendStringInfo(&hint, "GRANT SELECT, INSERT, UPDATE ON %s TO %s;",
						 table->qualified, f->role_name);
	}
	seq = id_sequence(table);
	if (!OidIsValid(seq))
		appendStringInfo(&lacks, "%sa default for process_id (no sequence: start_process cannot insert)",
						 lacks.len ? "; " : "");
	else if (pg_class_aclcheck(seq, f->role, ACL_USAGE) != ACLCHECK_OK)
	{
		char	   *seqname = quote_qualified_identifier(get_namespace_name(get_rel_namespace(seq)),
														 get_rel_name(seq));

		appendStringInfo(&lacks, "%sUSAGE on the process_id sequence %s", lacks.len ? "; " : "", seqname);
		appendStringInfo(&hint, "%sGRANT USAGE ON SEQUENCE %s TO %s;", hint.len ? " " : "",
						 seqname, f->role_name);
	}
	if (lacks.len)
		finding(f, "privileges", "warn",
				psprintf("role %s cannot run the lifecycle or run_process on %s: it lacks %s (fine for a role that only reads)",
						 f->role_name, table->qualified, lacks.data),
				hint.len ? hint.data : NULL);
	else
		finding(f, "privileges", "ok",
				psprintf("role %s can run the lifecycle on %s", f->role_name, table->qualified),
				NULL);
}

/* the README's indexes, on a table with a history */
static void
check_indexes(Findings *f, const OntTable *table)
{
	Oid			types[1] = {OIDOID};
	Datum		values[1] = {ObjectIdGetDatum(table->relid)};
	char	   *rows;
	char	   *type_idx;
	char	   *date_idx;
	StringInfoData hint;

	if (get_rel_relkind(table->relid) != RELKIND_RELATION &&
		get_rel_relkind(table->relid) != RELKIND_PARTITIONED_TABLE)
	{
		finding(f, "indexes", "ok",
				psprintf("%s is not a table: its indexes are those of the tables it reads",
						 table->qualified),
				NULL);
		return;
	}
	if (!ont_role_can_read(GetUserId(), table->relid))
	{
		finding(f, "indexes", "ok",
				psprintf("%s cannot be read in this session: its size is not known here",
						 table->qualified),
				NULL);
		return;
	}
	rows = query_text(psprintf("SELECT pg_catalog.count(*) FROM (SELECT FROM %s LIMIT %d) AS s",
							   table->qualified, INDEX_ADVICE_ROWS + 1),
					  0, NULL, NULL);
	type_idx = query_text("SELECT pg_catalog.count(*) FROM pg_catalog.pg_index i"
						  " JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) i.indrelid"
						  "  AND a.attnum OPERATOR(pg_catalog.=) i.indkey[0]"
						  " WHERE i.indrelid OPERATOR(pg_catalog.=) $1 AND a.attname OPERATOR(pg_catalog.=) 'process_type_cd'",
						  1, types, values);
	date_idx = query_text("SELECT pg_catalog.count(*) FROM pg_catalog.pg_index i"
						  " JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) i.indrelid"
						  "  AND a.attnum OPERATOR(pg_catalog.=) i.indkey[0]"
						  " WHERE i.indrelid OPERATOR(pg_catalog.=) $1 AND a.attname OPERATOR(pg_catalog.=) 'start_date'",
						  1, types, values);
	initStringInfo(&hint);
	if (strcmp(type_idx, "0") == 0)
		appendStringInfo(&hint, "CREATE INDEX ON %s (process_type_cd, process_status_cd, process_id);",
						 table->qualified);
	if (strcmp(date_idx, "0") == 0)
		appendStringInfo(&hint, "%sCREATE INDEX ON %s (start_date);", hint.len ? " " : "",
						 table->qualified);
	if (atoi(rows) > INDEX_ADVICE_ROWS && hint.len)
		finding(f, "indexes", "warn",
				psprintf("%s has more than %d rows and lacks the index(es) on %s that filters by type, status and start date need",
						 table->qualified, INDEX_ADVICE_ROWS,
						 strcmp(type_idx, "0") == 0 && strcmp(date_idx, "0") == 0 ?
						 "(process_type_cd, process_status_cd, process_id) and (start_date)" :
						 strcmp(type_idx, "0") == 0 ? "(process_type_cd, process_status_cd, process_id)" :
						 "(start_date)"),
				hint.data);
	else
		finding(f, "indexes", "ok",
				psprintf("%s: %s rows, %s", table->qualified,
						 atoi(rows) > INDEX_ADVICE_ROWS ? psprintf("more than %d", INDEX_ADVICE_ROWS) : rows,
						 hint.len ? "too few to need the README's indexes yet" :
						 "the README's indexes are there"),
				NULL);
}

/*
 * TimeZone as the configuration files set it (postgresql.conf and
 * postgresql.auto.conf, as pg_file_settings shows them), into
 * f->server_zone; NULL when they do not set it, or the caller may not read
 * pg_file_settings.  Read as the caller, before a check as another role.
 */
typedef struct ZoneCall
{
	char	   *zone;
} ZoneCall;

static void
zone_call(void *arg)
{
	ZoneCall   *call = (ZoneCall *) arg;

	call->zone = query_text("SELECT s.setting FROM pg_catalog.pg_file_settings s"
							" WHERE pg_catalog.lower(s.name) OPERATOR(pg_catalog.=) 'timezone'"
							" AND s.error IS NULL ORDER BY s.applied DESC, s.seqno DESC LIMIT 1",
							0, NULL, NULL);
}

static void
read_configured_zone(Findings *f)
{
	ZoneCall	call = {NULL};
	ErrorData  *edata = ont_try(zone_call, &call, CurrentMemoryContext);

	if (edata)
		FreeErrorData(edata);
	f->server_zone = call.zone;
}

/* the zone the table's times are read and written in */
static void
check_time_zone(Findings *f)
{
	const char *session = GetConfigOption("TimeZone", false, false);
	char	   *server = f->server_zone;

	if (ontstatus_table_time_zone && ontstatus_table_time_zone[0])
		finding(f, "time zone", "ok",
				psprintf("the table's times are read and written in %s (ontstatus.table_time_zone); the TimeZone of role %s is %s",
						 ontstatus_table_time_zone, f->role_name, session),
				NULL);
	else if (server && pg_strcasecmp(server, session) != 0)
		finding(f, "time zone", "warn",
				psprintf("ontstatus.table_time_zone is unset, and the TimeZone of role %s, %s, differs from the server's configured %s: sessions in different zones read and write the table's times as different wall clocks",
						 f->role_name, session, server),
				psprintf("ALTER DATABASE %s SET ontstatus.table_time_zone = %s; -- the ONT cell's JVM zone, if it is not the server's",
						 quote_identifier(get_database_name(MyDatabaseId)),
						 quote_literal_cstr(server)));
	else
		finding(f, "time zone", "ok",
				psprintf("ontstatus.table_time_zone is unset: the table's times are read and written in the TimeZone of each session, for role %s %s%s",
						 f->role_name, session, server ? ", the server's configured zone" : ""),
				NULL);
}

/* the notify trigger, and the running processes */
static void
check_table_use(Findings *f, const OntTable *table)
{
	int			zone;
	uint64		running = 0;
	StringInfoData stuck;

	finding(f, "notifications", "ok",
			OidIsValid(get_trigger_oid(table->relid, "ontstatus_notify", true)) ?
			psprintf("enable_notify's trigger is on %s: the ONT cell's own writes are announced too", table->qualified) :
			psprintf("no notify trigger on %s: LISTEN ontstatus hears ontstatus's own writes only", table->qualified),
			NULL);

	if (!ont_role_can_read(GetUserId(), table->relid))
		return;
	/* as running_processes judges "stuck": no change for an hour */
	zone = ont_enter_table_zone();
	ont_spi_execute(psprintf("SELECT " ONT_SQL_PROCESS_ID ", " ONT_SQL_STATUS_CD ","
							 " " ONT_SQL_LAST_CHANGE
							 " OPERATOR(pg_catalog.<) (CAST(pg_catalog.now() AS pg_catalog.timestamp) OPERATOR(pg_catalog.-) CAST('1 hour' AS pg_catalog.interval))"
							 " FROM %s t WHERE " ONT_SQL_IS_RUNNING " ORDER BY 1",
							 table->qualified),
					0, NULL, NULL, NULL, true);
	ont_leave_table_zone(zone);
	initStringInfo(&stuck);
	running = SPI_processed;
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		char	   *is_stuck = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 3);

		if (is_stuck && strcmp(is_stuck, "t") == 0)
			appendStringInfo(&stuck, "%s%s (%s)", stuck.len ? ", " : "",
							 SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1),
							 SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2));
	}
	if (stuck.len)
		finding(f, "processes", "warn",
				psprintf("%s: %lu running, of which not changed for over an hour: %s; see ontstatus.running_processes(): a worker that died leaves its row PROCESSING (or ABORT) for ever unless ontstatus registered it (alive), and such a row is ended with ontstatus.finish_process(id, 'ERROR', 'the worker died'), or 'KILLED' for ABORT",
						 table->qualified, (unsigned long) running, stuck.data),
				NULL);
	else
		finding(f, "processes", "ok",
				psprintf("%s: %lu running, none unchanged for over an hour", table->qualified,
						 (unsigned long) running),
				NULL);
}

/*
 * One check of one table, in a subtransaction: a table whose reading fails
 * (a renamed status column under the process query, a view whose function
 * raises, a lookup table of another shape) is a finding, never an error.
 */
typedef struct CheckCall
{
	Findings   *f;
	const OntTable *table;
	void		(*check) (Findings *f, const OntTable *table);
} CheckCall;

static void
check_call(void *arg)
{
	CheckCall  *call = (CheckCall *) arg;

	call->check(call->f, call->table);
}

static void
check_safely(Findings *f, const OntTable *table, const char *area,
			 void (*check) (Findings *f, const OntTable *table))
{
	CheckCall	call = {f, table, check};
	ErrorData  *edata = ont_try(check_call, &call, CurrentMemoryContext);

	if (edata)
		finding(f, area, "warn",
				psprintf("%s could not be checked: %s", table->qualified, edata->message),
				NULL);
}

/* check_lookup through ont_try: a lookup table of another shape is a finding */
typedef struct LookupCall
{
	Findings   *f;
	const char *project_id;
	Oid			relid;
	const char *lookup;
	List	   *tables;
} LookupCall;

static void
lookup_call(void *arg)
{
	LookupCall *call = (LookupCall *) arg;

	check_lookup(call->f, call->project_id, call->relid, call->lookup, &call->tables);
}

/*
 * Checking another role: its ALTER ROLE / ALTER DATABASE settings that
 * decide which table it reads and in which zone (the database's, then the
 * role's, then the role's in this database), read from the catalog as
 * name = value pairs in the order they apply.
 */
static List *
role_settings(Oid role)
{
	Oid			types[2] = {OIDOID, OIDOID};
	Datum		values[2];
	List	   *pairs = NIL;

	values[0] = ObjectIdGetDatum(MyDatabaseId);
	values[1] = ObjectIdGetDatum(role);
	ont_spi_execute("SELECT pg_catalog.split_part(c, '=', 1),"
					" pg_catalog.substr(c, pg_catalog.strpos(c, '=') OPERATOR(pg_catalog.+) 1)"
					" FROM pg_catalog.pg_db_role_setting s, pg_catalog.unnest(s.setconfig) WITH ORDINALITY AS u(c, o)"
					" WHERE (s.setdatabase OPERATOR(pg_catalog.=) $1 OR s.setdatabase OPERATOR(pg_catalog.=) 0)"
					" AND (s.setrole OPERATOR(pg_catalog.=) $2 OR s.setrole OPERATOR(pg_catalog.=) 0)"
					" AND NOT (s.setdatabase OPERATOR(pg_catalog.=) 0 AND s.setrole OPERATOR(pg_catalog.=) 0)"
					" ORDER BY (s.setrole OPERATOR(pg_catalog.<>) 0), (s.setdatabase OPERATOR(pg_catalog.<>) 0), o",
					2, types, values, NULL, true);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		pairs = lappend(pairs, SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1));
		pairs = lappend(pairs, SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2));
	}
	return pairs;
}

/*
 * Apply those of pairs that decide which table is read and in which zone,
 * for this call (GUC_ACTION_SAVE, rolled back by the caller); a value the
 * setting refuses is skipped, as at the role's own log-in.
 */
static void
apply_settings(List *pairs)
{
	static const char *const names[] = {
		"search_path", "ontstatus.schema", "ontstatus.lookup_table",
		"ontstatus.table_time_zone", "TimeZone"
	};

	for (int i = 0; i + 1 < list_length(pairs); i += 2)
	{
		char	   *name = list_nth(pairs, i);
		char	   *value = list_nth(pairs, i + 1);

		for (size_t n = 0; n < lengthof(names); n++)
			if (name && value && pg_strcasecmp(name, names[n]) == 0)
				(void) set_config_option(names[n], value, PGC_USERSET, PGC_S_SESSION,
										 GUC_ACTION_SAVE, true, DEBUG1, false);
	}
}

/* May the caller act as role anyway (a superuser, or a member that may)? */
static bool
may_act_as(Oid caller, Oid role)
{
	if (has_privs_of_role(caller, role))
		return true;
#if PG_VERSION_NUM >= 160000
	return member_can_set_role(caller, role);
#else
	return is_member_of_role(caller, role);
#endif
}

/* a check of the whole site, through ont_try */
typedef struct SiteCall
{
	Findings   *f;
	void		(*check) (Findings *f, void *arg);
	void	   *arg;
} SiteCall;

static void
site_call(void *arg)
{
	SiteCall   *call = (SiteCall *) arg;

	call->check(call->f, call->arg);
}

/* run check in a subtransaction: an error is a finding (area, what) */
static void
site_safely(Findings *f, const char *area, const char *what,
			void (*check) (Findings *f, void *arg), void *arg)
{
	SiteCall	call = {f, check, arg};
	ErrorData  *edata = ont_try(site_call, &call, CurrentMemoryContext);

	if (edata)
		finding(f, area, "warn", psprintf("%s could not be checked: %s", what, edata->message),
				NULL);
}

static void
versions_check(Findings *f, void *arg pg_attribute_unused())
{
	check_versions(f);
}

static void
time_zone_check(Findings *f, void *arg pg_attribute_unused())
{
	check_time_zone(f);
}

typedef struct DefaultTableArgs
{
	bool		lookup_exists;
	List	   *tables;
} DefaultTableArgs;

static void
default_table_check(Findings *f, void *arg)
{
	DefaultTableArgs *args = (DefaultTableArgs *) arg;

	check_default_table(f, args->lookup_exists, &args->tables);
}

/*
 * check_setup(project_id text DEFAULT NULL, role_name name DEFAULT
 * current_user) returns table (area, status, detail, hint)
 */
Datum
ontstatus_check_setup(PG_FUNCTION_ARGS)
{
	Findings	f;
	char	   *project_id = PG_ARGISNULL(0) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(0));
	Oid			caller = GetUserId();
	const char *role = PG_ARGISNULL(1) ? GetUserNameFromId(caller, false) :
		NameStr(*PG_GETARG_NAME(1));
	char	   *lookup;
	Oid			lookup_relid;
	DefaultTableArgs default_args = {false, NIL};
	List	   *tables = NIL;
	List	   *seen = NIL;
	ListCell   *lc;
	int			nestlevel = 0;
	bool		switched = false;
	Oid			save_userid = InvalidOid;
	int			save_sec_context = 0;

	OntCall		call;

	/* the table and the zone are among what it checks, each on its own */
	ont_begin_call(&call, "ontstatus.check_setup()", 0);
	ont_materialize(fcinfo, false);
	f.rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	f.role = get_role_oid(role, true);
	f.role_name = quote_identifier(role);

	ont_spi_connect();
	read_configured_zone(&f);
	if (OidIsValid(f.role) && f.role != caller && may_act_as(caller, f.role))
	{
		/*
		 * As the role, restricted as a maintenance command on its objects
		 * is: "$user", search_path and the privileges are its own, and what
		 * it planted runs with its rights, never the caller's.  A failed
		 * check's subtransaction, and an error of the transaction, restore
		 * the caller as well.
		 */
		List	   *settings = role_settings(f.role);

		GetUserIdAndSecContext(&save_userid, &save_sec_context);
		SetUserIdAndSecContext(f.role, save_sec_context | SECURITY_LOCAL_USERID_CHANGE |
							   SECURITY_RESTRICTED_OPERATION);
		switched = true;
		nestlevel = NewGUCNestLevel();
		apply_settings(settings);
	}
	else if (OidIsValid(f.role) && f.role != caller)
		finding(&f, "role", "warn",
				psprintf("role %s may not act as role %s (it is neither a superuser nor a member): the tables below are those its own settings find, with its own rights, not those role %s's settings (search_path, \"$user\", ontstatus.schema, ontstatus.lookup_table, TimeZone) find; role %s's privileges on them are checked; run ontstatus.check_setup() as a superuser or a member of role %s to see the site as its sessions do",
						 quote_identifier(GetUserNameFromId(caller, false)), f.role_name,
						 f.role_name, f.role_name, f.role_name),
				NULL);

	site_safely(&f, "versions", "the versions", versions_check, NULL);
	if (!OidIsValid(f.role))
		finding(&f, "privileges", "fail",
				psprintf("role %s does not exist: its privileges cannot be checked", role),
				psprintf("CREATE ROLE %s LOGIN;", f.role_name));

	lookup_relid = ont_lookup_table(&lookup);
	if (project_id && project_id[0] && OidIsValid(lookup_relid))
	{
		LookupCall	call = {&f, project_id, lookup_relid, lookup, NIL};
		ErrorData  *edata = ont_try(lookup_call, &call, CurrentMemoryContext);

		if (edata)
			finding(&f, "table", "fail",
					psprintf("the lookup table %s could not be read: %s; requests read its columns c_domain_id, c_project_path, c_owner_id and c_db_fullschema, as in i2b2's ont_db_lookup",
							 lookup, edata->message),
					NULL);
		tables = call.tables;
	}
	else if (project_id && project_id[0])
		finding(&f, "table", "ok",
				psprintf("no lookup table (ontstatus.lookup_table = '%s' names none): requests for project %s read the table found below, as for any request",
						 ontstatus_lookup_table ? ontstatus_lookup_table : "", project_id),
				NULL);
	else if (!OidIsValid(lookup_relid))
		finding(&f, "table", "ok",
				psprintf("no lookup table (ontstatus.lookup_table = '%s' names none): a single-project site, requests read the table found below",
						 ontstatus_lookup_table ? ontstatus_lookup_table : ""),
				NULL);
	default_args.lookup_exists = OidIsValid(lookup_relid);
	site_safely(&f, "table", "the lifecycle's table", default_table_check, &default_args);
	tables = list_concat(tables, default_args.tables);

	foreach(lc, tables)
	{
		OntTable   *table = (OntTable *) lfirst(lc);

		if (list_member_oid(seen, table->relid))
			continue;
		seen = lappend_oid(seen, table->relid);
		check_safely(&f, table, "shape", check_shape);
		check_safely(&f, table, "privileges", check_privileges);
		check_safely(&f, table, "indexes", check_indexes);
		check_safely(&f, table, "processes", check_table_use);
	}
	site_safely(&f, "time zone", "the time zone", time_zone_check, NULL);
	if (nestlevel > 0)
		AtEOXact_GUC(false, nestlevel);
	if (switched)
		SetUserIdAndSecContext(save_userid, save_sec_context);
	ont_spi_finish();
	ont_end_call(&call);
	return (Datum) 0;
}
