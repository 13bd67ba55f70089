/*
 * enc_upgrade.c
 *	  A linkage schema checked and upgraded as clkhash.schema.from_json_dict
 *	  does it: the top level must be an object with a known version; it is
 *	  validated against its version's master schema, upgraded v1 -> v2 -> v3
 *	  with clkhash's own rules (_convert_v1_to_v2, _convert_v2_to_v3), and
 *	  the result validated against the v3 master schema.  The encoder then
 *	  reads only v3.  Python's truthiness decides "ignored", as in clkhash.
 *	  New objects come from json_pack("{}"), never json_object(): inside a
 *	  PostgreSQL backend that name is the server's own SQL function.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "enc_impl.h"

/* Python's bool() of a JSON value. */
int
enc_json_truthy(json_t *v)
{
	if (!v || json_is_null(v) || json_is_false(v))
		return 0;
	if (json_is_true(v))
		return 1;
	if (json_is_number(v))
		return json_number_value(v) != 0;
	if (json_is_string(v))
		return json_string_length(v) > 0;
	if (json_is_array(v))
		return json_array_size(v) > 0;
	return json_object_size(v) > 0;
}

/* Validate doc against the master schema of a version; 0, or -1 with err. */
static int
validate_version(json_t *doc, int version, char *err, size_t errlen)
{
	int			draft = 7;
	const char *text = enc_master_schema(version, &draft);
	json_t	   *master = text ? json_loads(text, 0, NULL) : NULL;
	char		why[256];
	int			rc;

	if (!master)
		return snprintf(err, errlen, "the master schema of version %d cannot be loaded", version), -1;
	rc = enc_jsonschema_validate(master, draft, doc, why, sizeof(why));
	json_decref(master);
	if (rc != 0)
	{
		int			i,
					used = 0;
		const char *id;

		/* "features/3/..." gets the feature's identifier */
		if (sscanf(why, "features/%d%n", &i, &used) == 1 && used > 0 &&
			(id = json_string_value(json_object_get(json_array_get(json_object_get(doc, "features"), (size_t) i),
													"identifier"))))
			snprintf(err, errlen, "not a valid version %d schema: features/%d ('%s')%s", version, i, id, why + used);
		else
			snprintf(err, errlen, "not a valid version %d schema: %s", version, why);
	}
	return rc;
}

/* int(round(weight * k)) as Python computes it; 0 or -1 when it cannot be an int64. */
static int
v1_bits(json_t *weight, long long k, json_t **out)
{
	double		r;

	if (json_is_integer(weight))
	{
		long long	p;

		if (__builtin_mul_overflow(json_integer_value(weight), k, &p))
			return -1;
		*out = json_integer(p);
		return 0;
	}
	r = rint(json_number_value(weight) * (double) k);	/* round half to even, as round() */
	if (!(fabs(r) < 9.2e18))
		return -1;
	*out = json_integer((long long) r);
	return 0;
}

/* clkhash's _convert_v1_to_v2 on a validated v1 schema; a new tree, or NULL with err. */
static json_t *
v1_to_v2(json_t *v1, char *err, size_t errlen)
{
	json_t	   *cfg = json_object_get(v1, "clkConfig"),
			   *k = json_object_get(cfg, "k"),
			   *folds = json_object_get(cfg, "xor_folds"),
			   *out = json_pack("{}"),
			   *ncfg = json_pack("{}"),
			   *features = json_array(),
			   *f;
	size_t		i;

	json_object_set(ncfg, "l", json_object_get(cfg, "l"));
	json_object_set_new(ncfg, "xor_folds", folds ? json_incref(folds) : json_integer(0));
	json_object_set(ncfg, "kdf", json_object_get(cfg, "kdf"));
	json_object_set_new(out, "version", json_integer(2));
	json_object_set_new(out, "clkConfig", ncfg);
	json_object_set_new(out, "features", features);
	json_array_foreach(json_object_get(v1, "features"), i, f)
	{
		json_t	   *h = json_object_get(f, "hashing"),
				   *w = json_object_get(h, "weight"),
				   *x,
				   *bits = NULL;

		if (enc_json_truthy(json_object_get(f, "ignored")))
		{
			json_array_append(features, f);
			continue;
		}
		if (!json_is_object(h))
			return json_decref(out), snprintf(err, errlen, "feature %zu: hashing is missing", i), NULL;
		if (w && json_is_number(w) && json_number_value(w) == 0)
		{
			x = json_pack("{}");
			json_object_set(x, "identifier", json_object_get(f, "identifier"));
			json_object_set_new(x, "ignored", json_true());
			json_array_append_new(features, x);
			continue;
		}
		/* no weight: 1.0, and round(1.0 * k) is k */
		if (!w)
			bits = json_integer(json_integer_value(k));
		else if (v1_bits(w, json_integer_value(k), &bits) != 0)
			return json_decref(out), snprintf(err, errlen, "feature %zu: hashing.weight times k is too large", i), NULL;
		x = json_deep_copy(f);
		h = json_object_get(x, "hashing");
		json_object_del(h, "weight");
		json_object_set_new(h, "strategy", json_pack("{s:o}", "k", bits));
		json_object_set(h, "hash", json_object_get(cfg, "hash"));
		json_array_append_new(features, x);
	}
	return out;
}

/* clkhash's _convert_v2_to_v3 on a validated v2 schema; a new tree, or NULL with err. */
static json_t *
v2_to_v3(json_t *v2, char *err, size_t errlen)
{
	json_t	   *out = json_deep_copy(v2),
			   *f;
	size_t		i;

	json_object_set_new(out, "version", json_integer(3));
	json_array_foreach(json_object_get(out, "features"), i, f)
	{
		json_t	   *h = json_object_get(f, "hashing"),
				   *st = json_object_get(h, "strategy"),
				   *n = json_object_get(h, "ngram"),
				   *pos = json_object_get(h, "positional");

		if (enc_json_truthy(json_object_get(f, "ignored")))
			continue;
		if (json_object_get(st, "k"))
		{
			json_object_set(st, "bitsPerToken", json_object_get(st, "k"));
			json_object_del(st, "k");
		}
		else if (json_object_get(st, "numBits"))
		{
			json_object_set(st, "bitsPerFeature", json_object_get(st, "numBits"));
			json_object_del(st, "numBits");
		}
		if (!n)
			return json_decref(out), snprintf(err, errlen, "feature %zu: hashing.ngram is missing", i), NULL;
		json_object_set_new(h, "comparison", json_pack("{s:s,s:O,s:O}", "type", "ngram", "n", n,
													   "positional", pos ? pos : json_false()));
		json_object_del(h, "ngram");
		json_object_del(h, "positional");
	}
	return out;
}

/*
 * The schema as clkhash reads it: checked against its version's master
 * schema, upgraded to v3, checked again.  A new reference to a v3 tree, or
 * NULL with err.
 */
json_t *
enc_schema_upgrade(json_t *root, char *err, size_t errlen)
{
	json_t	   *v = json_object_get(root, "version"),
			   *cur,
			   *next;
	int			version;

	if (!json_is_object(root))
		return snprintf(err, errlen, "the top level of the schema must be an object"), NULL;
	if (!v)
		return snprintf(err, errlen, "a format version is expected in the schema"), NULL;
	/* clkhash looks the version up in a dict: 2.0 finds 2 */
	if (!json_is_number(v) || (json_number_value(v) != 1 && json_number_value(v) != 2 && json_number_value(v) != 3))
		return snprintf(err, errlen, "schema version is not supported (1, 2 or 3)"), NULL;
	version = (int) json_number_value(v);
	if (validate_version(root, version, err, errlen) != 0)
		return NULL;
	cur = json_incref(root);
	if (version == 1)
	{
		next = v1_to_v2(cur, err, errlen);
		json_decref(cur);
		if (!(cur = next))
			return NULL;
	}
	if (version <= 2)
	{
		next = v2_to_v3(cur, err, errlen);
		json_decref(cur);
		if (!(cur = next))
			return NULL;
	}
	if (version < 3 && validate_version(cur, 3, err, errlen) != 0)
		return json_decref(cur), NULL;
	return cur;
}
