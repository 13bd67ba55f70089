/*
 * pidx_handler.c
 *	  The pprl index access method's handler, options and opclass check.
 */
#include "postgres.h"

#include "access/amvalidate.h"
#include "access/htup_details.h"
#include "access/reloptions.h"
#include "catalog/pg_amop.h"
#include "catalog/pg_amproc.h"
#include "catalog/pg_opclass.h"
#include "catalog/pg_type.h"
#include "commands/vacuum.h"
#include "nodes/makefuncs.h"
#include "utils/builtins.h"
#include "utils/regproc.h"
#include "utils/syscache.h"

#include "index/pidx.h"

PG_FUNCTION_INFO_V1(pprl_index_handler);

/* amoptions: a pprl index has no storage parameters; refuse any. */
static bytea *
pidx_options(Datum reloptions, bool validate)
{
	if (validate && reloptions != (Datum) 0)
	{
		List	   *opts = untransformRelOptions(reloptions);

		if (opts != NIL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unrecognized parameter \"%s\"",
							((DefElem *) linitial(opts))->defname),
					 errdetail("pprl indexes take no storage parameters.")));
	}
	return NULL;
}

/* Report an invalid opclass member (validation goes on to find them all). */
static bool
invalid_member(const char *opfamily, const char *what)
{
	ereport(INFO,
			(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
			 errmsg("pprl operator family \"%s\" %s", opfamily, what)));
	return false;
}

/*
 * amvalidate: strategy 1 must be a boolean search operator and strategy 2
 * an ORDER BY operator returning float8, both on the opclass's type; no
 * support functions.
 */
static bool
pidx_validate(Oid opclassoid)
{
	HeapTuple	classtup = SearchSysCache1(CLAOID, ObjectIdGetDatum(opclassoid));
	Form_pg_opclass classform;
	Oid			opcintype;
	char	   *family;
	CatCList   *oprlist;
	CatCList   *proclist;
	bool		result = true;
	bool		has_match = false;

	if (!HeapTupleIsValid(classtup))
		elog(ERROR, "cache lookup failed for operator class %u", opclassoid);
	classform = (Form_pg_opclass) GETSTRUCT(classtup);
	opcintype = classform->opcintype;
	family = NameStr(classform->opcname);
	oprlist = SearchSysCacheList1(AMOPSTRATEGY, ObjectIdGetDatum(classform->opcfamily));
	proclist = SearchSysCacheList1(AMPROCNUM, ObjectIdGetDatum(classform->opcfamily));

	if (proclist->n_members > 0)
		result = invalid_member(family, "has support functions, but pprl uses none");
	for (int i = 0; i < oprlist->n_members; i++)
	{
		Form_pg_amop op = (Form_pg_amop) GETSTRUCT(&oprlist->members[i]->tuple);

		if (op->amoplefttype != opcintype || op->amoprighttype != opcintype)
			result = invalid_member(family, "has an operator on other types than the opclass's");
		else if (op->amopstrategy == PIDX_STRATEGY_MATCH)
		{
			has_match = true;
			if (op->amoppurpose != AMOP_SEARCH ||
				!check_amop_signature(op->amopopr, BOOLOID, opcintype, opcintype))
				result = invalid_member(family, "has a strategy 1 that is not a boolean search operator");
		}
		else if (op->amopstrategy == PIDX_STRATEGY_DISTANCE)
		{
			if (op->amoppurpose != AMOP_ORDER ||
				!check_amop_signature(op->amopopr, FLOAT8OID, opcintype, opcintype) ||
				!opfamily_can_sort_type(op->amopsortfamily, FLOAT8OID))
				result = invalid_member(family, "has a strategy 2 that is not an ORDER BY operator returning float8");
		}
		else
			result = invalid_member(family, "has an operator with a strategy other than 1 or 2");
	}
	if (!has_match)
		result = invalid_member(family, "lacks the % operator (strategy 1)");

	ReleaseCatCacheList(proclist);
	ReleaseCatCacheList(oprlist);
	ReleaseSysCache(classtup);
	return result;
}

/* The access method's handler: what it can do and its callbacks. */
Datum
pprl_index_handler(PG_FUNCTION_ARGS)
{
	IndexAmRoutine *am = makeNode(IndexAmRoutine);

	(void) fcinfo;
	am->amstrategies = PIDX_NSTRATEGIES;
	am->amsupport = 0;
	am->amoptsprocnum = 0;
	am->amcanorder = false;
	am->amcanorderbyop = true;
	am->amcanbackward = false;
	am->amcanunique = false;
	am->amcanmulticol = false;
	am->amoptionalkey = true;	/* ORDER BY without WHERE */
	am->amsearcharray = false;
	am->amsearchnulls = false;
	am->amstorage = false;
	am->amclusterable = false;
	am->ampredlocks = false;
	am->amcanparallel = false;
	am->amcaninclude = false;
	am->amusemaintenanceworkmem = true;
	am->amparallelvacuumoptions = VACUUM_OPTION_PARALLEL_BULKDEL;
	am->amkeytype = InvalidOid;

	am->ambuild = pidx_build;
	am->ambuildempty = pidx_buildempty;
	am->aminsert = pidx_insert;
	am->ambulkdelete = pidx_bulkdelete;
	am->amvacuumcleanup = pidx_vacuumcleanup;
	am->amcanreturn = NULL;
	am->amcostestimate = pidx_costestimate;
	am->amoptions = pidx_options;
	am->amproperty = NULL;
	am->ambuildphasename = NULL;
	am->amvalidate = pidx_validate;
	am->amadjustmembers = NULL;
	am->ambeginscan = pidx_beginscan;
	am->amrescan = pidx_rescan;
	am->amgettuple = pidx_gettuple;
	am->amgetbitmap = pidx_getbitmap;
	am->amendscan = pidx_endscan;
	am->ammarkpos = NULL;
	am->amrestrpos = NULL;
	am->amestimateparallelscan = NULL;
	am->aminitparallelscan = NULL;
	am->amparallelrescan = NULL;

	PG_RETURN_POINTER(am);
}
