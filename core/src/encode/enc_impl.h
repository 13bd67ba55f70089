/*
 * enc_impl.h
 *	  The encoder's internal model of a schema (always clkhash's v3 shape:
 *	  v1 and v2 schemas are upgraded while parsing) and the pieces the
 *	  encoder's files share.
 */
#ifndef ENC_IMPL_H
#define ENC_IMPL_H

#include <jansson.h>

#include "pprl/encode.h"
#include "enc_date.h"

#define ENC_MAX_BLAKE_KEY 64	/* BLAKE2b keys: at most 64 bytes (Python refuses more) */
#define ENC_BLAKE_SALTS 4		/* keyed BLAKE2b states kept: k up to 128 */
#define ENC_MAX_NGRAM 64		/* n-gram size: a value's tokens take about n times its length */
#define ENC_MAX_NGRAM_TEXT "64"

typedef enum EncFormat
{
	FMT_STRING, FMT_INTEGER, FMT_DATE, FMT_ENUM
} EncFormat;

typedef enum EncEncoding
{
	ENCODING_UTF8, ENCODING_ASCII, ENCODING_UTF16, ENCODING_UTF32
} EncEncoding;

typedef enum EncComparison
{
	CMP_NGRAM, CMP_EXACT, CMP_NUMERIC
} EncComparison;

typedef enum EncHash
{
	HASH_BLAKE, HASH_DOUBLE
} EncHash;

/* One feature (column) of the schema. */
typedef struct EncFeature
{
	char	   *identifier;
	int			ignored;
	/* format */
	EncFormat	format;
	EncEncoding encoding;		/* of tokens before hashing (Python's str.encode) */
	int			case_rule;		/* 0 mixed, 1 lower, 2 upper */
	long		min_length;
	long		max_length;		/* -1: none */
	void	   *pattern;		/* enc_pattern_compile's, or NULL */
	int			has_minimum,
				has_maximum;
	long long	minimum,
				maximum;
	EncDateFormat *date;		/* a date's format, compiled (enc_date.c) */
	char	  **enum_values;
	int			nenum;
	/* hashing */
	EncComparison comparison;
	int			n;				/* n-gram */
	int			positional;
	long long	distance_interval;	/* numeric */
	int			resolution;
	int			fractional_precision;
	char		lazy_error[96];	/* non-empty: every tokenized value fails with it */
	int			bits_per_token;	/* one of the two strategies */
	int			bits_per_feature;
	EncHash		hash;
	int			prevent_singularity;
	int			has_missing;
	char	   *sentinel;
	char	   *replace_with;
	const uint8_t *key[2];		/* into the schema's keys */
	size_t		key_len;
	/* precomputed by enc_hash_prepare: HMAC inner/outer states, BLAKE2b keyed */
	void	   *hmac_in[2];		/* EVP_MD_CTX *: SHA-1 (key 0), MD5 (key 1) */
	void	   *hmac_out[2];
	void	   *blake[ENC_BLAKE_SALTS];	/* EVP_MAC_CTX *: salts "0".. */
} EncFeature;

struct EncSchema
{
	uint64_t	id;				/* unique per parsed schema, for caches */
	int			l;				/* CLK length in bits */
	int			xor_folds;
	int			nfeatures;
	EncFeature *f;
	uint8_t    *keys;			/* every feature's keys, from HKDF */
	size_t		keys_len;
};

/* A token list: n tokens, each a (pointer, length) into a shared buffer. */
typedef struct EncTokens
{
	char	   *buf;
	size_t		len,
				cap;
	size_t	   *off;
	size_t	   *tlen;
	int			n,
				ncap;
} EncTokens;

/* enc_value.c */
extern int	enc_prepare(const EncFeature *f, const char *value, size_t len, char **out,
						size_t *outlen, EncError *e, int feature);
extern int	enc_tokenize(const EncFeature *f, const char *value, size_t len, EncTokens *t);
extern void enc_tokens_free(EncTokens *t);
extern const char *enc_token_bytes(const EncFeature *f, const char *tok, size_t len, char **buf,
								   size_t *cap, size_t *outlen);

/* enc_upgrade.c, enc_jsonschema.c, enc_master.c: a schema as clkhash reads it */
extern json_t *enc_schema_upgrade(json_t *root, char *err, size_t errlen);
extern int	enc_json_truthy(json_t *v);
extern int	enc_jsonschema_validate(json_t *master, int draft, json_t *doc, char *err, size_t errlen);
extern const char *enc_master_schema(int version, int *draft);

/* enc_pattern.c: Python re patterns through PCRE2 */
extern void *enc_pattern_compile(const char *py, char *err, size_t errlen);
extern int	enc_pattern_match(const void *pattern, const char *s, size_t len);
extern void enc_pattern_free(void *pattern);

/* enc_number.c, enc_unicode.c: values read as Python reads them */
extern size_t enc_utf8_decode(const char *s, size_t len, uint32_t *cp);
extern int	enc_py_int(const char *s, size_t len, char **canon, long long *v, int *fits);
extern int	enc_py_float(const char *s, size_t len, double *d);
extern int	enc_unicode_digit(uint32_t cp);
extern int	enc_unicode_space(uint32_t cp);
extern int	enc_unicode_case_changes(uint32_t cp, int upper);

/* enc_hash.c */
extern int	enc_hkdf(int sha512, const uint8_t *ikm, size_t ikm_len, const uint8_t *salt,
					 size_t salt_len, const uint8_t *info, size_t info_len, uint8_t *out, size_t out_len);
extern int	enc_hash_prepare(EncFeature *f);
extern void enc_hash_release(EncFeature *f);
extern int	enc_hash_token(const EncSchema *s, int feature, const char *tok, size_t len, int k,
						   uint8_t *bits, int l, EncCache *cache);

#endif							/* ENC_IMPL_H */
