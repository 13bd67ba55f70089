/*
 * encode.h
 *	  CLK encoding compatible with clkhash's linkage schemas: a schema is
 *	  parsed once (with the secret, into per-feature keys by HKDF), then
 *	  records (one string per feature, in schema order) become CLKs.  Plain
 *	  C11 with OpenSSL's libcrypto and jansson, no PostgreSQL dependency, so
 *	  the SQL functions, the `pprl` command line and the tests share it.
 *	  A schema is read-only once built: threads may encode with it at once.
 */
#ifndef ENCODE_H
#define ENCODE_H

#include <stddef.h>
#include <stdint.h>

typedef struct EncSchema EncSchema;
typedef struct EncCache EncCache;

/* Why a record could not be encoded: the feature (0-based) and a message. */
typedef struct EncError
{
	int			feature;		/* -1: not about one feature */
	char		msg[256];
} EncError;

extern EncSchema *enc_schema_parse(const char *json, size_t len, const uint8_t *secret,
								   size_t secret_len, char *err, size_t errlen);
extern void enc_schema_free(EncSchema *s);
extern int	enc_schema_features(const EncSchema *s);
extern const char *enc_schema_identifier(const EncSchema *s, int feature);
extern int	enc_schema_ignored(const EncSchema *s, int feature);
extern int	enc_schema_bytes(const EncSchema *s);

/* Whether len bytes are UTF-8 as Python's strict decoder takes them (what clkhash can read). */
extern int	enc_utf8_valid(const char *s, size_t len);

extern int	enc_validate(const EncSchema *s, int feature, const char *value, size_t len, EncError *e);
extern int	enc_record(const EncSchema *s, const char *const *values, const size_t *lens,
					   uint8_t *out, EncCache *cache, EncError *e);

/*
 * A cache of token hashes (one per thread: not shared): tokens repeat
 * across records (common bigrams, digits in place), so each is hashed
 * once.  Optional: enc_record takes NULL.
 */
extern EncCache *enc_cache_new(void);
extern void enc_cache_free(EncCache *c);

#endif							/* ENCODE_H */
