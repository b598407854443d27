/*-------------------------------------------------------------------------
 *
 * schema_resolution.c
 *	  Which ont_process_status table a request reads.
 *
 * The table is the one in the schema named by ontstatus.schema when that is
 * set, otherwise the first ont_process_status on the session's search_path
 * (i2b2's database roles have search_path set to their own schema).  The
 * result is a schema-qualified, quoted name: the query never depends on
 * search_path after this point.
 *
 *-------------------------------------------------------------------------
 */
#include "ontstatus.h"

#include "catalog/namespace.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#define ONT_TABLE_NAME "ont_process_status"

/*
 * req is the parsed request, or NULL for find_process_status; it is not
 * consulted yet, but project-aware resolution will start from it.
 */
char *
ont_resolve_table(const OntRequest *req pg_attribute_unused())
{
	Oid			nspid;
	Oid			relid;

	if (ontstatus_schema != NULL && ontstatus_schema[0] != '\0')
	{
		nspid = get_namespace_oid(ontstatus_schema, true);
		if (!OidIsValid(nspid))
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_SCHEMA),
					 errmsg("schema \"%s\" does not exist", ontstatus_schema),
					 errdetail("The setting ontstatus.schema names it.")));
		relid = get_relname_relid(ONT_TABLE_NAME, nspid);
		if (!OidIsValid(relid))
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_TABLE),
					 errmsg("relation \"%s.%s\" does not exist",
							ontstatus_schema, ONT_TABLE_NAME),
					 errdetail("The setting ontstatus.schema names schema \"%s\".",
							   ontstatus_schema)));
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
		nspid = get_rel_namespace(relid);
	}

	return quote_qualified_identifier(get_namespace_name(nspid), ONT_TABLE_NAME);
}
