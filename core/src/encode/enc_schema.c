/*
 * enc_schema.c
 *	  A clkhash linkage schema read into the encoder's model, with clear
 *	  errors naming the offending key, and the per-feature keys derived
 *	  from the secret.  enc_upgrade.c first validates it against clkhash's
 *	  master schema of its version and upgrades v1 and v2 to v3 as clkhash
 *	  does; this reads the v3 result, with clkhash's own checks beyond the
 *	  master schema and the encoder's bounds.  Keys: HKDF (SHA-256 or
 *	  SHA-512) of the secret, salt and info, 2 x features keys of keySize
 *	  bytes, feature i taking keys 2i and 2i+1 (ignored features included).
 */
#include <ctype.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "enc_impl.h"

/* Schema ids: a token cache never mixes two schemas' keys. */
static uint64_t next_id;

/* Error text into err; returns NULL for the caller's convenience. */
static void *
schema_error(char *err, size_t errlen, const char *fmt, const char *a, const char *b)
{
	snprintf(err, errlen, fmt, a, b);
	return NULL;
}

/*
 * Decode base64 as Python's base64.b64decode does (binascii, not strict):
 * characters outside the standard alphabet are skipped, decoding stops at
 * complete padding, and a final quad of 1 data character, or of 2 or 3
 * without their padding, is an error.  Returns the length (out has room
 * for strlen(in) * 3 / 4 + 3 bytes), or -1 with why set.
 */
static long
b64_decode(const char *in, uint8_t *out, const char **why)
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	int			quad = 0,
				pads = 0;
	unsigned	left = 0;
	long		n = 0;

	/* Python turns the whole string into ASCII bytes first */
	for (const char *p = in; *p; p++)
		if ((unsigned char) *p >= 0x80)
			return *why = "string argument should contain only ASCII characters", -1;
	for (const char *p = in; *p; p++)
	{
		const char *hit;
		unsigned	v;

		if (*p == '=')
		{
			if (quad >= 2 && quad + ++pads >= 4)
				return n;
			continue;
		}
		if (!(hit = strchr(alphabet, *p)))
			continue;
		v = (unsigned) (hit - alphabet);
		pads = 0;
		if (quad == 0)
			left = v;
		else if (quad == 1)
		{
			out[n++] = (uint8_t) (left << 2 | v >> 4);
			left = v & 0x0f;
		}
		else if (quad == 2)
		{
			out[n++] = (uint8_t) (left << 4 | v >> 2);
			left = v & 0x03;
		}
		else
			out[n++] = (uint8_t) (left << 6 | v);
		quad = (quad + 1) % 4;
	}
	if (quad == 1)
		return *why = "invalid base64: the number of data characters cannot be 1 more than a multiple of 4", -1;
	if (quad != 0)
		return *why = "incorrect base64 padding", -1;
	return n;
}

/*
 * An integer member, or def when absent; -2 when present but not an
 * integer (a whole real counts) or beyond +-2^62.
 */
static long long
int_member(json_t *o, const char *key, long long def)
{
	json_t	   *v = json_object_get(o, key);
	double		r;

	if (!v)
		return def;
	if (json_is_integer(v))
	{
		long long	i = json_integer_value(v);

		return i > -4611686018427387904LL && i < 4611686018427387904LL ? i : -2;
	}
	if (!json_is_real(v))
		return -2;
	r = json_real_value(v);
	return r == floor(r) && fabs(r) < 4611686018427387904.0 ? (long long) r : -2;
}

/*
 * A member Python uses where only an int works (a float fails, or gives
 * other tokens): a JSON integer, or with bools true and false as 1 and 0;
 * def when absent; -2 otherwise (also beyond +-2^31).
 */
static long long
exact_int_member(json_t *o, const char *key, long long def, bool bools)
{
	json_t	   *v = json_object_get(o, key);

	if (!v)
		return def;
	if (bools && json_is_boolean(v))
		return json_is_true(v);
	if (!json_is_integer(v) || json_integer_value(v) < -2147483647LL || json_integer_value(v) > 2147483647LL)
		return -2;
	return json_integer_value(v);
}

/*
 * A comparison's n, resolution or fractional_precision.  A JSON integer
 * is its value.  A whole real (2.0) is taken, but clkhash cannot use it
 * (' ' * 1.0 and range(-2.0, ...) fail; 10 ** 2.0 makes tokens like
 * '1200.0'), so every value that gets tokenized is refused with the
 * reason kept in f->lazy_error, as clkhash refuses it when it hashes.
 * def when absent, -2 otherwise.
 */
static long long
lazy_int_member(EncFeature *f, json_t *o, const char *key, long long def, const char *name)
{
	json_t	   *v = json_object_get(o, key);
	long long	i = exact_int_member(o, key, def, false);

	if (i != -2 || !json_is_real(v) || json_real_value(v) != floor(json_real_value(v)) ||
		fabs(json_real_value(v)) > 1e6)
		return i;
	snprintf(f->lazy_error, sizeof(f->lazy_error), "%s is %g, not an integer, which clkhash cannot hash with",
			 name, json_real_value(v));
	return (long long) json_real_value(v);
}

/* An integer's minimum or maximum: any 64-bit integer (or whole real within); *ok false otherwise. */
static long long
bound_member(json_t *o, const char *key, bool *ok)
{
	json_t	   *v = json_object_get(o, key);
	double		r;

	if (!v)
		return 0;
	if (json_is_integer(v))
		return json_integer_value(v);
	r = json_is_real(v) ? json_real_value(v) : 0.5;
	if (r == floor(r) && fabs(r) < 9.2e18)
		return (long long) r;
	*ok = false;
	return 0;
}

/* A member that must fit an int: its value, def when absent, -2 otherwise. */
static int
small_member(json_t *o, const char *key, int def)
{
	long long	v = int_member(o, key, def);

	return v >= -2 && v <= 0x7fffffff ? (int) v : -2;
}

/* A string member, or NULL. */
static const char *
str_member(json_t *o, const char *key)
{
	json_t	   *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* The format of a feature; 0 or -1 with err. */
static int
read_format(EncFeature *f, json_t *fmt, char *err, size_t errlen)
{
	const char *type = str_member(fmt, "type"),
			   *s;
	bool		ok = true;

	f->max_length = -1;
	if (!type)
		return schema_error(err, errlen, "feature '%s': format.type is missing%s", f->identifier, ""), -1;
	if (strcmp(type, "string") == 0)
	{
		f->format = FMT_STRING;
		/* the master schema allows these four */
		if ((s = str_member(fmt, "encoding")))
			f->encoding = strcmp(s, "ascii") == 0 ? ENCODING_ASCII : strcmp(s, "utf-16") == 0 ? ENCODING_UTF16 :
				strcmp(s, "utf-32") == 0 ? ENCODING_UTF32 : ENCODING_UTF8;
		if ((s = str_member(fmt, "case")))
		{
			if (strcmp(s, "mixed") && strcmp(s, "lower") && strcmp(s, "upper"))
				return schema_error(err, errlen, "feature '%s': format.case must be lower, upper or mixed, not '%s'",
									f->identifier, s), -1;
			f->case_rule = strcmp(s, "lower") == 0 ? 1 : strcmp(s, "upper") == 0 ? 2 : 0;
		}
		f->min_length = small_member(fmt, "minLength", 0);
		f->max_length = small_member(fmt, "maxLength", -1);
		if (f->min_length < 0 || (f->max_length < -1 || f->max_length == 0))
			return schema_error(err, errlen, "feature '%s': format.minLength/maxLength are invalid%s",
								f->identifier, ""), -1;
		if ((s = str_member(fmt, "pattern")))
		{
			char		why[160];

			if (!(f->pattern = enc_pattern_compile(s, why, sizeof(why))))
				return schema_error(err, errlen, "feature '%s': format.pattern is not a valid regular expression: %s",
									f->identifier, why), -1;
		}
	}
	else if (strcmp(type, "integer") == 0)
	{
		f->format = FMT_INTEGER;
		f->has_minimum = json_object_get(fmt, "minimum") != NULL;
		f->has_maximum = json_object_get(fmt, "maximum") != NULL;
		f->minimum = bound_member(fmt, "minimum", &ok);
		if (ok)
			f->maximum = bound_member(fmt, "maximum", &ok);
		if (!ok)
			return schema_error(err, errlen, "feature '%s': format.minimum/maximum must be integers that fit "
								"in 64 bits%s", f->identifier, ""), -1;
	}
	else if (strcmp(type, "date") == 0)
	{
		f->format = FMT_DATE;
		if (!(s = str_member(fmt, "format")))
			return schema_error(err, errlen, "feature '%s': format.format (a strptime date format) is missing%s",
								f->identifier, ""), -1;
		/* a format Python refuses compiles, and each value then fails with Python's reason */
		if (!(f->date = enc_date_compile(s)))
			return -1;
	}
	else if (strcmp(type, "enum") == 0)
	{
		json_t	   *vals = json_object_get(fmt, "values");

		f->format = FMT_ENUM;
		/* no values: every value but the missing-value sentinel is refused, as in clkhash */
		if (!json_is_array(vals))
			return schema_error(err, errlen, "feature '%s': format.values must be an array%s",
								f->identifier, ""), -1;
		f->nenum = (int) json_array_size(vals);
		if (!(f->enum_values = calloc((size_t) f->nenum + 1, sizeof(char *))))
			return -1;
		for (int i = 0; i < f->nenum; i++)
			if (!json_is_string(json_array_get(vals, (size_t) i)) ||
				!(f->enum_values[i] = strdup(json_string_value(json_array_get(vals, (size_t) i)))))
				return schema_error(err, errlen, "feature '%s': format.values must be strings%s", f->identifier, ""), -1;
	}
	else
		return schema_error(err, errlen, "feature '%s': format.type '%s' is not one of string, integer, date, enum",
							f->identifier, type), -1;
	return 0;
}

/* The comparison of a feature (hashing.comparison). */
static int
read_comparison(EncFeature *f, json_t *h, char *err, size_t errlen)
{
	json_t	   *c = json_object_get(h, "comparison");
	const char *type;

	if (!json_is_object(c) || !(type = str_member(c, "type")))
		return schema_error(err, errlen, "feature '%s': hashing.comparison.type is missing%s", f->identifier, ""), -1;
	if (strcmp(type, "ngram") == 0)
	{
		f->comparison = CMP_NGRAM;
		f->n = (int) lazy_int_member(f, c, "n", -1, "hashing.comparison.n");
		f->positional = json_is_true(json_object_get(c, "positional"));
		if (f->n < 0)
			return schema_error(err, errlen, "feature '%s': hashing.comparison.n must be a positive integer%s", f->identifier, ""), -1;
		if (f->n > ENC_MAX_NGRAM)
			return schema_error(err, errlen, "feature '%s': hashing.comparison.n is above " ENC_MAX_NGRAM_TEXT "%s",
								f->identifier, ""), -1;
	}
	else if (strcmp(type, "exact") == 0)
		f->comparison = CMP_EXACT;
	else if (strcmp(type, "numeric") == 0)
	{
		json_t	   *td = json_object_get(c, "thresholdDistance");
		double		scale;

		f->comparison = CMP_NUMERIC;
		f->resolution = (int) lazy_int_member(f, c, "resolution", -1, "hashing.comparison.resolution");
		f->fractional_precision = (int) lazy_int_member(f, c, "fractional_precision", 0,
														 "hashing.comparison.fractional_precision");
		if (!json_is_number(td) || !(json_number_value(td) > 0) || f->resolution < 1 || f->resolution > 10000 ||
			f->fractional_precision < 0 || f->fractional_precision > 15)
			return schema_error(err, errlen, "feature '%s': hashing.comparison needs thresholdDistance > 0, "
								"resolution 1..10000 and fractional_precision 0..15, as JSON integers%s", f->identifier, ""), -1;
		scale = rint(json_number_value(td) * pow(10, f->fractional_precision));
		if (!(scale < 4611686018427387904.0))
			return schema_error(err, errlen, "feature '%s': hashing.comparison.thresholdDistance is too large%s",
								f->identifier, ""), -1;
		f->distance_interval = (long long) scale;
		if (f->distance_interval == 0)
			return schema_error(err, errlen, "feature '%s': not enough fractional_precision for thresholdDistance%s",
								f->identifier, ""), -1;
	}
	else
		return schema_error(err, errlen, "feature '%s': hashing.comparison.type '%s' is not ngram, exact or numeric",
							f->identifier, type), -1;
	return 0;
}

/* The hashing of a non-ignored feature; 0 or -1 with err. */
static int
read_hashing(EncFeature *f, json_t *h, char *err, size_t errlen)
{
	json_t	   *strategy = json_object_get(h, "strategy"),
			   *hash = json_object_get(h, "hash"),
			   *mv = json_object_get(h, "missingValue");
	const char *type;

	if (!json_is_object(h))
		return schema_error(err, errlen, "feature '%s': hashing is missing%s", f->identifier, ""), -1;
	if (read_comparison(f, h, err, errlen) != 0)
		return -1;
	if (!json_is_object(strategy))
		return schema_error(err, errlen, "feature '%s': hashing.strategy is missing%s", f->identifier, ""), -1;
	f->bits_per_token = small_member(strategy, "bitsPerToken", 0);
	f->bits_per_feature = small_member(strategy, "bitsPerFeature", 0);
	if (f->bits_per_token > 65536 || f->bits_per_feature > (1 << 20))
		return schema_error(err, errlen, "feature '%s': hashing.strategy asks for more bits than this "
							"encoder allows (65536 per token, 1048576 per feature)%s", f->identifier, ""), -1;
	if ((f->bits_per_token > 0) == (f->bits_per_feature > 0))
		return schema_error(err, errlen, "feature '%s': hashing.strategy needs exactly one of %s, a positive integer",
							f->identifier, "bitsPerToken or bitsPerFeature"), -1;
	f->hash = HASH_BLAKE;
	if (hash)
	{
		if (!(type = str_member(hash, "type")) || (strcmp(type, "blakeHash") && strcmp(type, "doubleHash")))
			return schema_error(err, errlen, "feature '%s': hashing.hash.type must be blakeHash or doubleHash%s",
								f->identifier, ""), -1;
		f->hash = strcmp(type, "doubleHash") == 0 ? HASH_DOUBLE : HASH_BLAKE;
		f->prevent_singularity = json_is_true(json_object_get(hash, "prevent_singularity"));
		/* clkhash: prevent_singularity only with doubleHash, whatever its value */
		if (f->hash != HASH_DOUBLE && json_object_get(hash, "prevent_singularity"))
			return schema_error(err, errlen, "feature '%s': hashing.hash.prevent_singularity is only for doubleHash%s",
								f->identifier, ""), -1;
	}
	if (mv)
	{
		const char *sentinel = str_member(mv, "sentinel"),
				   *with = str_member(mv, "replaceWith");

		if (!sentinel)
			return schema_error(err, errlen, "feature '%s': hashing.missingValue.sentinel is missing%s", f->identifier, ""), -1;
		f->has_missing = 1;
		f->sentinel = strdup(sentinel);
		f->replace_with = strdup(with ? with : sentinel);
		if (!f->sentinel || !f->replace_with)
			return -1;
	}
	return 0;
}

/* A kdf salt or info: base64 decoded into *out (malloc'd); 0, or -1 with err. */
static int
kdf_bytes(json_t *kdf, const char *key, uint8_t **out, size_t *len, char *err, size_t errlen)
{
	const char *b64 = str_member(kdf, key),
			   *why = "out of memory";
	long		n;

	*out = NULL;
	*len = 0;
	if (!b64)
		return 0;
	if (!(*out = malloc(strlen(b64) * 3 / 4 + 3)) || (n = b64_decode(b64, *out, &why)) < 0)
		return snprintf(err, errlen, "clkConfig.kdf.%s: %s", key, why), -1;
	*len = (size_t) n;
	return 0;
}

/*
 * Derive every feature's pair of keys: HKDF of 2 x features x keySize
 * bytes, as clkhash's hkdf(), kept in s->keys.  (The master schema allows
 * only HKDF.)
 */
static int
derive_keys(EncSchema *s, json_t *kdf, const uint8_t *secret, size_t secret_len, char *err, size_t errlen)
{
	const char *hash = str_member(kdf, "hash");
	long long	key_size = exact_int_member(kdf, "keySize", 64, false);
	uint8_t    *salt = NULL,
			   *info = NULL;
	size_t		salt_len,
				info_len,
				total;
	int			sha512 = hash && strcmp(hash, "SHA512") == 0,
				rc = -1;

	if (key_size < 1)
		return snprintf(err, errlen, "clkConfig.kdf.keySize must be a whole JSON integer (clkhash fails on 64.0)"), -1;
	/* HKDF makes at most 255 digests of output */
	if ( key_size * 2 * s->nfeatures > 255 * (sha512 ? 64 : 32))
		return snprintf(err, errlen, "clkConfig.kdf: HKDF with %s cannot derive 2 x %d keys of %lld bytes "
						"(at most %d bytes in all)", sha512 ? "SHA512" : "SHA256", s->nfeatures, key_size,
						255 * (sha512 ? 64 : 32)), -1;
	total = (size_t) key_size * 2 * (size_t) s->nfeatures;
	if (kdf_bytes(kdf, "salt", &salt, &salt_len, err, errlen) == 0 &&
		kdf_bytes(kdf, "info", &info, &info_len, err, errlen) == 0)
	{
		if (!(s->keys = malloc(total)) ||
			enc_hkdf(sha512, secret, secret_len, salt, salt_len, info, info_len, s->keys, total) != 0)
			snprintf(err, errlen, "clkConfig.kdf: key derivation failed (libcrypto)");
		else
			rc = 0;
	}
	free(salt);
	free(info);
	if (rc != 0)
		return -1;
	s->keys_len = total;
	for (int i = 0; i < s->nfeatures; i++)
	{
		s->f[i].key[0] = s->keys + (size_t) (2 * i) * (size_t) key_size;
		s->f[i].key[1] = s->keys + (size_t) (2 * i + 1) * (size_t) key_size;
		s->f[i].key_len = (size_t) key_size;
	}
	return 0;
}

/* Precompute every feature's hashing states from its keys. */
static int
prepare_hashing(EncSchema *s, char *err, size_t errlen)
{
	for (int i = 0; i < s->nfeatures; i++)
	{
		int			rc = s->f[i].ignored ? 0 : enc_hash_prepare(&s->f[i]);

		if (rc == -2)
			return schema_error(err, errlen, "feature '%s': blakeHash takes keys of at most 64 bytes "
								"(clkConfig.kdf.keySize)%s", s->f[i].identifier, ""), -1;
		if (rc != 0)
			return schema_error(err, errlen, "feature '%s': the hash functions are not available (libcrypto)%s",
								s->f[i].identifier, ""), -1;
	}
	return 0;
}

/* Read the clkConfig and every feature of a parsed schema. */
static EncSchema *
read_schema(json_t *root, const uint8_t *secret, size_t secret_len, char *err, size_t errlen)
{
	json_t	   *cfg = json_object_get(root, "clkConfig"),
			   *features = json_object_get(root, "features"),
			   *kdf;
	long long	l,
				folds;
	EncSchema  *s;

	if (!json_is_object(cfg))
		return schema_error(err, errlen, "clkConfig is missing%s%s", "", "");
	if (!json_is_array(features) || json_array_size(features) == 0 || json_array_size(features) > 1024)
		return schema_error(err, errlen, "features must be an array of 1 to 1024 features%s%s", "", "");
	/* Python needs ints here (bitarray(1024.0) fails); xor_folds may be a bool, as 2 ** True works */
	l = exact_int_member(cfg, "l", -1, false);
	folds = exact_int_member(cfg, "xor_folds", 0, true);
	if (l < 1 || l > 65536)
		return schema_error(err, errlen, "clkConfig.l must be an integer from 1 to 65536 bits%s%s", "", "");
	if (folds < 0 || folds > 8)
		return schema_error(err, errlen, "clkConfig.xor_folds must be an integer from 0 to 8%s%s", "", "");
	if (!json_is_object(kdf = json_object_get(cfg, "kdf")))
		return schema_error(err, errlen, "clkConfig.kdf is missing%s%s", "", "");
	if (!(s = calloc(1, sizeof(EncSchema))))
		return NULL;
	s->id = __atomic_add_fetch(&next_id, 1, __ATOMIC_RELAXED);
	s->l = (int) l;
	s->xor_folds = (int) folds;
	s->nfeatures = (int) json_array_size(features);
	if (!(s->f = calloc((size_t) s->nfeatures, sizeof(EncFeature))))
		return free(s), NULL;
	for (int i = 0; i < s->nfeatures; i++)
	{
		json_t	   *fj = json_array_get(features, (size_t) i),
				   *h = json_object_get(fj, "hashing");
		EncFeature *f = &s->f[i];
		const char *id = str_member(fj, "identifier");
		char		pos[16];

		snprintf(pos, sizeof(pos), "%d", i);
		if (!json_is_object(fj) || !id)
		{
			enc_schema_free(s);
			return schema_error(err, errlen, "feature %s: identifier is missing%s", pos, "");
		}
		f->identifier = strdup(id);
		/* clkhash ignores a feature whose "ignored" is true in Python's sense */
		f->ignored = enc_json_truthy(json_object_get(fj, "ignored"));
		if (f->ignored)
			continue;
		if (!json_is_object(json_object_get(fj, "format")) ||
			read_format(f, json_object_get(fj, "format"), err, errlen) != 0 ||
			read_hashing(f, h, err, errlen) != 0)
		{
			if (!json_is_object(json_object_get(fj, "format")))
				schema_error(err, errlen, "feature '%s': format is missing%s", id, "");
			enc_schema_free(s);
			return NULL;
		}
		if (f->hash == HASH_BLAKE && (s->l << s->xor_folds & ((s->l << s->xor_folds) - 1)) != 0)
		{
			enc_schema_free(s);
			return schema_error(err, errlen, "feature '%s': blakeHash needs l to be a power of two%s", id, "");
		}
	}
	if (derive_keys(s, kdf, secret, secret_len, err, errlen) != 0 || prepare_hashing(s, err, errlen) != 0)
	{
		enc_schema_free(s);
		return NULL;
	}
	return s;
}

/* Parse a schema (JSON text) and derive its keys from the secret; NULL with err. */
EncSchema *
enc_schema_parse(const char *json, size_t len, const uint8_t *secret, size_t secret_len, char *err, size_t errlen)
{
	json_error_t je;
	json_t	   *root = json_loadb(json, len, 0, &je),	/* a repeated key: the last, as Python's json */
			   *v3;
	EncSchema  *s = NULL;

	if (!root)
	{
		snprintf(err, errlen, "the schema is not valid JSON: %s (line %d)", je.text, je.line);
		return NULL;
	}
	if ((v3 = enc_schema_upgrade(root, err, errlen)))
		s = read_schema(v3, secret, secret_len, err, errlen);
	json_decref(v3);
	json_decref(root);
	return s;
}

/* Free a schema and wipe its keys. */
void
enc_schema_free(EncSchema *s)
{
	if (!s)
		return;
	for (int i = 0; s->f && i < s->nfeatures; i++)
	{
		EncFeature *f = &s->f[i];

		free(f->identifier);
		enc_pattern_free(f->pattern);
		enc_date_free(f->date);
		for (int j = 0; j < f->nenum; j++)
			free(f->enum_values[j]);
		free(f->enum_values);
		free(f->sentinel);
		free(f->replace_with);
		enc_hash_release(f);
	}
	if (s->keys)
		OPENSSL_cleanse(s->keys, s->keys_len);
	free(s->keys);
	free(s->f);
	free(s);
}

/* Number of features (columns) a record has. */
int
enc_schema_features(const EncSchema *s)
{
	return s->nfeatures;
}

/* The identifier of a feature. */
const char *
enc_schema_identifier(const EncSchema *s, int feature)
{
	return s->f[feature].identifier;
}

/* Whether a feature is ignored (its value is never read). */
int
enc_schema_ignored(const EncSchema *s, int feature)
{
	return s->f[feature].ignored;
}

/* Bytes of an encoded CLK (l bits, the last byte's unused bits zero, as clkhash's bitarray). */
int
enc_schema_bytes(const EncSchema *s)
{
	return (s->l + 7) / 8;
}
