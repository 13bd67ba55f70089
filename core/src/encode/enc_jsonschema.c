/*
 * enc_jsonschema.c
 *	  JSON Schema validation of a linkage schema against clkhash's master
 *	  schemas (enc_master.c), with the rules of the Python jsonschema
 *	  package that clkhash calls: the keywords those master schemas use
 *	  (type, enum, const, required, properties, additionalProperties, items,
 *	  oneOf, minimum, exclusiveMinimum, $ref to #/definitions/...), draft 4
 *	  (v1) or draft 7 (v2, v3).  As jsonschema does: a float with no
 *	  fractional part is an integer in draft 7 but not in draft 4; booleans
 *	  are never numbers; enum and const compare numbers by value (1 == 1.0)
 *	  and booleans only with booleans; keywords beside a $ref are ignored.
 *	  Depth is bounded (the master schemas are shallow; a document's depth
 *	  is bounded by theirs, except under unconstrained values, never visited).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "enc_impl.h"

#define JS_MAX_DEPTH 64

typedef struct JsCtx
{
	json_t	   *root;			/* the master schema, for $ref */
	int			draft;			/* 4 or 7 */
	char	   *err;
	size_t		errlen;
	int			err_depth;		/* path depth of the error kept */
} JsCtx;

static int	js_check(JsCtx *c, json_t *schema, json_t *doc, char *path, size_t plen, int depth);

/* How many components a location "a/b/0" has (0 for the top level). */
static int
js_path_depth(const char *path)
{
	int			n = path[0] != '\0';

	for (const char *q = path; *q; q++)
		n += *q == '/';
	return n;
}

/*
 * Keep "path: reason" as the error when it is deeper in the document than
 * the one kept (the most specific); extra ranks a missing or extra key one
 * level below its object.
 */
static int
js_fail(JsCtx *c, const char *path, int extra, const char *reason, const char *arg)
{
	int			depth = extra + js_path_depth(path);

	if (depth > c->err_depth)
	{
		snprintf(c->err, c->errlen, "%s: %s%s", path[0] ? path : "(top level)", reason, arg);
		c->err_depth = depth;
	}
	return -1;
}

/* An enum or const failed: say what is allowed. */
static int
js_fail_allowed(JsCtx *c, const char *path, json_t *allowed)
{
	char	   *text = json_dumps(allowed, JSON_COMPACT | JSON_ENCODE_ANY);
	char		buf[96];

	snprintf(buf, sizeof(buf), "%s", text ? text : "?");
	free(text);
	return js_fail(c, path, 0, json_is_array(allowed) ? "must be one of " : "must be ", buf);
}

/* Whether a JSON value is of a JSON Schema type name, by the draft's rules. */
static int
js_type_is(const JsCtx *c, json_t *v, const char *t)
{
	if (strcmp(t, "object") == 0)
		return json_is_object(v);
	if (strcmp(t, "array") == 0)
		return json_is_array(v);
	if (strcmp(t, "string") == 0)
		return json_is_string(v);
	if (strcmp(t, "boolean") == 0)
		return json_is_boolean(v);
	if (strcmp(t, "null") == 0)
		return json_is_null(v);
	if (strcmp(t, "number") == 0)
		return json_is_number(v);
	if (strcmp(t, "integer") == 0)
		return json_is_integer(v) ||
			(c->draft >= 6 && json_is_real(v) && isfinite(json_real_value(v)) &&
			 floor(json_real_value(v)) == json_real_value(v));
	return 0;
}

/* jsonschema's equality: numbers by value, booleans only with booleans, containers deeply. */
static int
js_equal(json_t *a, json_t *b)
{
	if (json_is_number(a) && json_is_number(b))
		return json_number_value(a) == json_number_value(b) &&
			(!json_is_integer(a) || !json_is_integer(b) || json_integer_value(a) == json_integer_value(b));
	if (json_is_array(a) && json_is_array(b))
	{
		if (json_array_size(a) != json_array_size(b))
			return 0;
		for (size_t i = 0; i < json_array_size(a); i++)
			if (!js_equal(json_array_get(a, i), json_array_get(b, i)))
				return 0;
		return 1;
	}
	if (json_is_object(a) && json_is_object(b))
	{
		const char *k;
		json_t	   *v;

		if (json_object_size(a) != json_object_size(b))
			return 0;
		json_object_foreach(a, k, v)
		{
			json_t	   *w = json_object_get(b, k);

			if (!w || !js_equal(v, w))
				return 0;
		}
		return 1;
	}
	return json_equal(a, b);
}

/* Resolve "#/definitions/name" in the master schema. */
static json_t *
js_ref(JsCtx *c, const char *ref)
{
	if (strncmp(ref, "#/definitions/", 14) != 0)
		return NULL;
	return json_object_get(json_object_get(c->root, "definitions"), ref + 14);
}

/* Append "/name" to the path for a child; returns the old length to restore. */
static size_t
js_push(char *path, size_t plen, const char *name)
{
	size_t		old = strlen(path);

	snprintf(path + old, plen - old, "%s%s", old ? "/" : "", name);
	return old;
}

/* type, enum, const, minimum, exclusiveMinimum: the value's own checks. */
static int
js_check_value(JsCtx *c, json_t *schema, json_t *doc, const char *path)
{
	json_t	   *t = json_object_get(schema, "type"),
			   *e = json_object_get(schema, "enum"),
			   *k = json_object_get(schema, "const"),
			   *min = json_object_get(schema, "minimum"),
			   *xmin = json_object_get(schema, "exclusiveMinimum");

	if (json_is_string(t) && !js_type_is(c, doc, json_string_value(t)))
		return js_fail(c, path, 0, "must be of type ", json_string_value(t));
	if (json_is_array(t))
	{
		int			ok = 0;

		for (size_t i = 0; i < json_array_size(t) && !ok; i++)
			ok = js_type_is(c, doc, json_string_value(json_array_get(t, i)));
		if (!ok)
			return js_fail(c, path, 0, "is not of an allowed type", "");
	}
	if (json_is_array(e))
	{
		int			ok = 0;

		for (size_t i = 0; i < json_array_size(e) && !ok; i++)
			ok = js_equal(doc, json_array_get(e, i));
		if (!ok)
			return js_fail_allowed(c, path, e);
	}
	if (k && !js_equal(doc, k))
		return js_fail_allowed(c, path, k);
	if (json_is_number(doc))
	{
		double		v = json_number_value(doc);
		int			excl4 = c->draft < 6 && json_is_true(xmin);

		if (json_is_number(min) && (excl4 ? !(v > json_number_value(min)) : v < json_number_value(min)))
			return js_fail(c, path, 0, "is below the minimum", "");
		if (c->draft >= 6 && json_is_number(xmin) && !(v > json_number_value(xmin)))
			return js_fail(c, path, 0, "is not above the exclusive minimum", "");
	}
	return 0;
}

/* required, properties, additionalProperties, items: the children. */
static int
js_check_children(JsCtx *c, json_t *schema, json_t *doc, char *path, size_t plen, int depth)
{
	json_t	   *req = json_object_get(schema, "required"),
			   *props = json_object_get(schema, "properties"),
			   *add = json_object_get(schema, "additionalProperties"),
			   *items = json_object_get(schema, "items");

	if (json_is_object(doc))
	{
		const char *key;
		json_t	   *v;

		for (size_t i = 0; json_is_array(req) && i < json_array_size(req); i++)
		{
			const char *r = json_string_value(json_array_get(req, i));

			if (r && !json_object_get(doc, r))
				return js_fail(c, path, 1, "is missing the required key ", r);
		}
		json_object_foreach(doc, key, v)
		{
			json_t	   *ps = json_object_get(props, key);
			size_t		old;
			int			rc = 0;

			if (!ps && json_is_false(add))
				return js_fail(c, path, 1, "has a key that is not allowed: ", key);
			if (!ps && json_is_object(add))
				ps = add;
			if (!ps)
				continue;
			old = js_push(path, plen, key);
			rc = js_check(c, ps, v, path, plen, depth + 1);
			path[old] = '\0';
			if (rc != 0)
				return -1;
		}
	}
	if (json_is_array(doc) && json_is_object(items))
		for (size_t i = 0; i < json_array_size(doc); i++)
		{
			char		num[24];
			size_t		old;
			int			rc;

			snprintf(num, sizeof(num), "%zu", i);
			old = js_push(path, plen, num);
			rc = js_check(c, items, json_array_get(doc, i), path, plen, depth + 1);
			path[old] = '\0';
			if (rc != 0)
				return -1;
		}
	return 0;
}

/* oneOf: exactly one of the schemas must hold. */
static int
js_check_one_of(JsCtx *c, json_t *one, json_t *doc, char *path, size_t plen, int depth)
{
	int			matches = 0;
	char		best[256] = "";
	int			best_depth = -1,
				ties = 0;

	for (size_t i = 0; i < json_array_size(one); i++)
	{
		char		sub[256] = "";
		JsCtx		trial = {c->root, c->draft, sub, sizeof(sub), -1};

		if (js_check(&trial, json_array_get(one, i), doc, path, plen, depth) == 0)
			matches++;
		else if (trial.err_depth > best_depth)
		{
			best_depth = trial.err_depth;
			ties = 0;
			snprintf(best, sizeof(best), "%s", sub);
		}
		else if (trial.err_depth == best_depth)
			ties++;
	}
	if (matches == 1)
		return 0;
	if (matches > 1)
		return js_fail(c, path, 0, "matches more than one of the allowed forms", "");
	/* none: the one branch that got furthest says best what is wrong */
	if (ties == 0 && best_depth >= 0)
	{
		if (best_depth > c->err_depth)
		{
			snprintf(c->err, c->errlen, "%s", best);
			c->err_depth = best_depth;
		}
		return -1;
	}
	/* several got as far: none is the answer here, ranked as deep as they got */
	{
		int			here = js_path_depth(path);

		return js_fail(c, path, best_depth > here ? best_depth - here : 0, "matches none of the allowed forms", "");
	}
}

/* One schema against one value; path is the value's location ("a/b/0"). */
static int
js_check(JsCtx *c, json_t *schema, json_t *doc, char *path, size_t plen, int depth)
{
	json_t	   *ref,
			   *one;

	if (depth > JS_MAX_DEPTH)
		return js_fail(c, path, 0, "is nested too deeply", "");
	if (json_is_true(schema) || !json_is_object(schema))
		return 0;
	/* draft 4 and 7: keywords beside a $ref are ignored */
	if (json_is_string(ref = json_object_get(schema, "$ref")))
	{
		json_t	   *target = js_ref(c, json_string_value(ref));

		if (!target)
			return js_fail(c, path, 0, "the master schema has an unknown reference ", json_string_value(ref));
		return js_check(c, target, doc, path, plen, depth + 1);
	}
	if (js_check_value(c, schema, doc, path) != 0 ||
		js_check_children(c, schema, doc, path, plen, depth) != 0)
		return -1;
	if (json_is_array(one = json_object_get(schema, "oneOf")) &&
		js_check_one_of(c, one, doc, path, plen, depth) != 0)
		return -1;
	return 0;
}

/*
 * Validate doc against a master schema by the given draft's rules (4 or
 * 7).  0 when valid; -1 with "location: reason" in err.
 */
int
enc_jsonschema_validate(json_t *master, int draft, json_t *doc, char *err, size_t errlen)
{
	char		path[512] = "";
	JsCtx		c = {master, draft, err, errlen, -1};

	return js_check(&c, master, doc, path, sizeof(path), 0);
}
