/*
 * enc_hash.c
 *	  The hashing of clkhash's encodings, on OpenSSL's libcrypto: HKDF
 *	  (RFC 5869) for the per-feature keys; doubleHash, where bit i of a
 *	  token's k is (HMAC-SHA1 + i * HMAC-MD5) mod l, both digests read as
 *	  big-endian integers (with prevent_singularity, an HMAC-MD5 that is 0
 *	  mod l is redone over the token plus chr(j) for j = 0, 1, ...); and
 *	  blakeHash, where the bits are the little-endian 16-bit words, mod l,
 *	  of keyed BLAKE2b-512 digests salted with "0", "1", ... (32 words each).
 *	  A thread's cache keeps each token's hash (doubleHash's two values,
 *	  blakeHash's first digest) by schema, feature and token, so a token
 *	  seen before costs a lookup, not two MACs.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/params.h>

#include "enc_impl.h"

/* Set bit i (clkhash's order: bit 0 is the high bit of byte 0). */
static void
set_bit(uint8_t *bits, int i)
{
	bits[i >> 3] |= (uint8_t) (0x80 >> (i & 7));
}

/* A big-endian integer of n bytes modulo l. */
static unsigned
mod_be(const uint8_t *p, size_t n, unsigned l)
{
	unsigned long long r = 0;

	for (size_t i = 0; i < n; i++)
		r = ((r << 8) | p[i]) % l;
	return (unsigned) r;
}

/*
 * HKDF extract-then-expand with SHA-256 or SHA-512 (RFC 5869): out_len
 * bytes of key material, info of any length; 0 on success.
 */
int
enc_hkdf(int sha512, const uint8_t *ikm, size_t ikm_len, const uint8_t *salt, size_t salt_len,
		 const uint8_t *info, size_t info_len, uint8_t *out, size_t out_len)
{
	const EVP_MD *md = sha512 ? EVP_sha512() : EVP_sha256();
	unsigned	hlen = (unsigned) EVP_MD_get_size(md);
	uint8_t		prk[EVP_MAX_MD_SIZE],
				t[EVP_MAX_MD_SIZE],
				zero[EVP_MAX_MD_SIZE] = {0};
	unsigned	tlen = 0,
				plen;
	size_t		done = 0;
	uint8_t    *block;

	if (out_len > 255 * (size_t) hlen)
		return -1;
	if (!HMAC(md, salt_len ? salt : zero, salt_len ? (int) salt_len : (int) hlen, ikm, ikm_len, prk, &plen))
		return -1;
	if (!(block = malloc(EVP_MAX_MD_SIZE + info_len + 1)))
		return -1;
	for (uint8_t c = 1; done < out_len; c++)
	{
		size_t		bl = 0;

		memcpy(block, t, tlen);
		bl += tlen;
		if (info_len > 0)
			memcpy(block + bl, info, info_len);
		bl += info_len;
		block[bl++] = c;
		if (!HMAC(md, prk, (int) plen, block, bl, t, &tlen))
			break;
		memcpy(out + done, t, out_len - done < tlen ? out_len - done : tlen);
		done += tlen;
	}
	free(block);
	OPENSSL_cleanse(prk, sizeof(prk));
	OPENSSL_cleanse(t, sizeof(t));
	return done >= out_len ? 0 : -1;
}

static EVP_MAC *blake_mac;
static pthread_once_t blake_once = PTHREAD_ONCE_INIT;

/* Fetch OpenSSL's BLAKE2b MAC once per process. */
static void
blake_fetch(void)
{
	blake_mac = EVP_MAC_fetch(NULL, "BLAKE2BMAC", NULL);
}

#define CACHE_SLOTS (1 << 16)
#define CACHE_TOKEN 40			/* longer tokens are not cached */

/* One cached token hash. */
typedef struct CacheEntry
{
	uint64_t	schema;			/* 0: empty */
	int32_t		feature;
	uint8_t		len;
	char		tok[CACHE_TOKEN];
	uint8_t		digest[64];		/* blakeHash: salt "0"; doubleHash: h1, h2 */
} CacheEntry;

struct EncCache
{
	CacheEntry *slots;
};

/* A cache for one thread. */
EncCache *
enc_cache_new(void)
{
	EncCache   *c = calloc(1, sizeof(EncCache));

	if (c && !(c->slots = calloc(CACHE_SLOTS, sizeof(CacheEntry))))
	{
		free(c);
		return NULL;
	}
	return c;
}

/* Free a cache (and wipe the keyed digests it holds). */
void
enc_cache_free(EncCache *c)
{
	if (!c)
		return;
	OPENSSL_cleanse(c->slots, CACHE_SLOTS * sizeof(CacheEntry));
	free(c->slots);
	free(c);
}

/* The slot for (schema, feature, token) and whether it holds it. */
static CacheEntry *
cache_slot(EncCache *c, uint64_t schema, int feature, const char *tok, size_t len, int *hit)
{
	uint64_t	h = 1469598103934665603ULL;
	CacheEntry *e;

	/* the feature as bytes of its own, so it never cancels a token byte */
	for (int i = 0; i < 4; i++)
		h = (h ^ (uint8_t) (feature >> (8 * i))) * 1099511628211ULL;
	for (size_t i = 0; i < len; i++)
		h = (h ^ (uint8_t) tok[i]) * 1099511628211ULL;
	/* FNV-1a's low bits are weak for short tokens: mix the high ones down */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	e = &c->slots[h & (CACHE_SLOTS - 1)];
	*hit = e->schema == schema && e->feature == feature && e->len == len && memcmp(e->tok, tok, len) == 0;
	return e;
}

/* Fill a slot after computing its hash. */
static void
cache_fill(CacheEntry *e, uint64_t schema, int feature, const char *tok, size_t len, const uint8_t *digest)
{
	e->schema = schema;
	e->feature = feature;
	e->len = (uint8_t) len;
	memcpy(e->tok, tok, len);
	memcpy(e->digest, digest, 64);
}

/*
 * Precompute a feature's hashing states: for doubleHash, the SHA-1 and MD5
 * states after the HMAC key's inner and outer pads (RFC 2104: a key
 * longer than the 64-byte block is hashed first); for blakeHash, keyed
 * BLAKE2b contexts for the first salts (-2: a key over 64 bytes, which
 * Python's blake2b refuses).  A token then costs a state copy, not a key
 * setup.  0 on success.
 */
int
enc_hash_prepare(EncFeature *f)
{
	if (f->hash == HASH_DOUBLE)
	{
		for (int h = 0; h < 2; h++)
		{
			uint8_t		ipad[64],
						opad[64];
			EVP_MD_CTX *in = EVP_MD_CTX_new(),
					   *out = EVP_MD_CTX_new();
			const EVP_MD *md = h == 0 ? EVP_sha1() : EVP_md5();

			f->hmac_in[h] = in;
			f->hmac_out[h] = out;
			uint8_t		hashed[EVP_MAX_MD_SIZE];
			const uint8_t *key = f->key[h];
			size_t		klen = f->key_len;
			unsigned	hlen = 0;

			/* RFC 2104: a key longer than the block is replaced by its hash */
			if (klen > 64)
			{
				if (!EVP_Digest(key, klen, hashed, &hlen, md, NULL))
					return -1;
				key = hashed;
				klen = hlen;
			}
			memset(ipad, 0x36, sizeof(ipad));
			memset(opad, 0x5c, sizeof(opad));
			for (size_t i = 0; i < klen; i++)
			{
				ipad[i] ^= key[i];
				opad[i] ^= key[i];
			}
			OPENSSL_cleanse(hashed, sizeof(hashed));
			if (!in || !out || !EVP_DigestInit_ex(in, md, NULL) || !EVP_DigestUpdate(in, ipad, 64) ||
				!EVP_DigestInit_ex(out, md, NULL) || !EVP_DigestUpdate(out, opad, 64))
				return -1;
			OPENSSL_cleanse(ipad, sizeof(ipad));
			OPENSSL_cleanse(opad, sizeof(opad));
		}
		return 0;
	}
	if (f->key_len > ENC_MAX_BLAKE_KEY)
		return -2;
	pthread_once(&blake_once, blake_fetch);
	for (int m = 0; m < ENC_BLAKE_SALTS; m++)
	{
		EVP_MAC_CTX *ctx = blake_mac ? EVP_MAC_CTX_new(blake_mac) : NULL;
		char		salt[16] = {0};
		size_t		saltlen = (size_t) snprintf(salt, sizeof(salt), "%d", m),
					dlen = 64;
		OSSL_PARAM	params[3];

		f->blake[m] = ctx;
		params[0] = OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_SALT, salt, saltlen);
		params[1] = OSSL_PARAM_construct_size_t(OSSL_MAC_PARAM_SIZE, &dlen);
		params[2] = OSSL_PARAM_construct_end();
		if (!ctx || !EVP_MAC_init(ctx, f->key[0], f->key_len, params))
			return -1;
	}
	return 0;
}

/* Free a feature's precomputed states. */
void
enc_hash_release(EncFeature *f)
{
	for (int h = 0; h < 2; h++)
	{
		EVP_MD_CTX_free(f->hmac_in[h]);
		EVP_MD_CTX_free(f->hmac_out[h]);
		f->hmac_in[h] = f->hmac_out[h] = NULL;
	}
	for (int m = 0; m < ENC_BLAKE_SALTS; m++)
	{
		EVP_MAC_CTX_free(f->blake[m]);
		f->blake[m] = NULL;
	}
}

/*
 * HMAC of msg followed by suffix (slen bytes, may be 0) with hash h of the
 * feature (0: SHA-1, 1: MD5), from the pads' states.
 */
static int
hmac(const EncFeature *f, int h, const uint8_t *msg, size_t len, const uint8_t *suffix, size_t slen,
	 uint8_t *d, unsigned *n)
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	uint8_t		inner[EVP_MAX_MD_SIZE];
	unsigned	ilen;
	int			ok;

	ok = c && EVP_MD_CTX_copy_ex(c, f->hmac_in[h]) && EVP_DigestUpdate(c, msg, len) &&
		(slen == 0 || EVP_DigestUpdate(c, suffix, slen)) &&
		EVP_DigestFinal_ex(c, inner, &ilen) && EVP_MD_CTX_copy_ex(c, f->hmac_out[h]) &&
		EVP_DigestUpdate(c, inner, ilen) && EVP_DigestFinal_ex(c, d, n);
	EVP_MD_CTX_free(c);
	return ok ? 0 : -1;
}

/*
 * doubleHash's two values of a token.  With prevent_singularity an
 * HMAC-MD5 that is 0 mod l is redone over the token followed by
 * chr(j).encode() (UTF-8) for j = 0, 1, ... until it is not, as clkhash does.
 */
static int
double_values(const EncFeature *f, const char *tok, size_t len, unsigned l, unsigned *h1, unsigned *h2)
{
	uint8_t		d1[EVP_MAX_MD_SIZE],
				d2[EVP_MAX_MD_SIZE];
	unsigned	n1,
				n2;

	if (hmac(f, 0, (const uint8_t *) tok, len, NULL, 0, d1, &n1) != 0 ||
		hmac(f, 1, (const uint8_t *) tok, len, NULL, 0, d2, &n2) != 0)
		return -1;
	*h1 = mod_be(d1, n1, l);
	*h2 = mod_be(d2, n2, l);
	for (int j = 0; f->prevent_singularity && *h2 == 0; j++)
	{
		uint8_t		chr[3];
		size_t		extra = j < 0x80 ? 1 : j < 0x800 ? 2 : 3;

		if (j >= 0xD800)		/* a surrogate: Python cannot encode chr(j) (never reached: l^-j) */
			return -1;
		if (extra == 1)
			chr[0] = (uint8_t) j;
		else if (extra == 2)
		{
			chr[0] = (uint8_t) (0xC0 | (j >> 6));
			chr[1] = (uint8_t) (0x80 | (j & 0x3F));
		}
		else
		{
			chr[0] = (uint8_t) (0xE0 | (j >> 12));
			chr[1] = (uint8_t) (0x80 | ((j >> 6) & 0x3F));
			chr[2] = (uint8_t) (0x80 | (j & 0x3F));
		}
		if (hmac(f, 1, (const uint8_t *) tok, len, chr, extra, d2, &n2) != 0)
			return -1;
		*h2 = mod_be(d2, n2, l);
	}
	return 0;
}

/* The keyed BLAKE2b-512 digest of a token with salt str(m). */
static int
blake_digest(const EncFeature *f, const char *tok, size_t len, int m, uint8_t *d)
{
	EVP_MAC_CTX *ctx;
	size_t		outl = 0;
	int			rc = 0;

	if (m < ENC_BLAKE_SALTS)
		ctx = EVP_MAC_CTX_dup(f->blake[m]);
	else
	{
		char		salt[16] = {0};
		size_t		saltlen = (size_t) snprintf(salt, sizeof(salt), "%d", m),
					dlen = 64;
		OSSL_PARAM	params[3];

		params[0] = OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_SALT, salt, saltlen);
		params[1] = OSSL_PARAM_construct_size_t(OSSL_MAC_PARAM_SIZE, &dlen);
		params[2] = OSSL_PARAM_construct_end();
		ctx = EVP_MAC_CTX_new(blake_mac);
		if (ctx && !EVP_MAC_init(ctx, f->key[0], f->key_len, params))
			rc = -1;
	}
	if (!ctx || rc != 0 || !EVP_MAC_update(ctx, (const uint8_t *) tok, len) || !EVP_MAC_final(ctx, d, &outl, 64))
		rc = -1;
	EVP_MAC_CTX_free(ctx);
	return rc;
}

/*
 * Set a token's k bits in a filter of l bits (feature `feature` of s),
 * through the thread's cache when given; 0 on success.
 */
int
enc_hash_token(const EncSchema *s, int feature, const char *tok, size_t len, int k, uint8_t *bits, int l,
			   EncCache *cache)
{
	const EncFeature *f = &s->f[feature];
	CacheEntry *e = NULL;
	uint8_t		d[64];
	int			hit = 0;

	if (cache && len <= CACHE_TOKEN)
		e = cache_slot(cache, s->id, feature, tok, len, &hit);
	if (f->hash == HASH_DOUBLE)
	{
		unsigned	h1,
					h2;

		if (hit)
			memcpy(&h1, e->digest, 4), memcpy(&h2, e->digest + 4, 4);
		else
		{
			if (double_values(f, tok, len, (unsigned) l, &h1, &h2) != 0)
				return -1;
			if (e)
			{
				memset(d, 0, sizeof(d));
				memcpy(d, &h1, 4);
				memcpy(d + 4, &h2, 4);
				cache_fill(e, s->id, feature, tok, len, d);
			}
		}
		for (long i = 0; i < k; i++)
			set_bit(bits, (int) ((h1 + (unsigned long long) i * h2) % (unsigned) l));
		return 0;
	}
	for (int m = 0; m * 32 < k; m++)
	{
		const uint8_t *dig = d;

		if (m > 0)
		{
			/* later digests (k > 32) are cached under the feature tagged with m */
			e = NULL;
			hit = 0;
			if (m < 256 && cache && len <= CACHE_TOKEN)
				e = cache_slot(cache, s->id, feature | (m << 20), tok, len, &hit);
		}
		if (hit)
			dig = e->digest;
		else
		{
			if (blake_digest(f, tok, len, m, d) != 0)
				return -1;
			if (e)
				cache_fill(e, s->id, m > 0 ? feature | (m << 20) : feature, tok, len, d);
		}
		for (int i = 0; i < 32 && m * 32 + i < k; i++)
			set_bit(bits, (dig[2 * i] | (dig[2 * i + 1] << 8)) & (l - 1));
	}
	return 0;
}
