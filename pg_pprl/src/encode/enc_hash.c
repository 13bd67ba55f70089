/*
 * enc_hash.c
 *	  The hashing of clkhash's encodings, on OpenSSL's libcrypto: HKDF
 *	  (RFC 5869) for the per-feature keys; doubleHash, where bit i of a
 *	  token's k is (HMAC-SHA1 + i * HMAC-MD5) mod l, both digests read as
 *	  big-endian integers (with prevent_singularity, an HMAC-MD5 that is 0
 *	  mod l is redone over the token plus chr(j) for j = 0, 1, ...); and
 *	  blakeHash, where the bits are the little-endian 16-bit words, mod l,
 *	  of keyed BLAKE2b-512 digests salted with "0", "1", ... (32 words each).
 */
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
 * HKDF extract-then-expand with SHA-256 or SHA-512: out_len bytes of key
 * material; 0 on success.
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

	if (out_len > 255 * (size_t) hlen)
		return -1;
	if (!HMAC(md, salt_len ? salt : zero, salt_len ? (int) salt_len : (int) hlen, ikm, ikm_len, prk, &plen))
		return -1;
	for (uint8_t c = 1; done < out_len; c++)
	{
		uint8_t		block[EVP_MAX_MD_SIZE + 1024 + 1];
		size_t		bl = 0;

		if (info_len > 1024)
			return -1;
		memcpy(block, t, tlen);
		bl += tlen;
		memcpy(block + bl, info, info_len);
		bl += info_len;
		block[bl++] = c;
		if (!HMAC(md, prk, (int) plen, block, bl, t, &tlen))
			return -1;
		memcpy(out + done, t, out_len - done < tlen ? out_len - done : tlen);
		done += tlen;
	}
	return 0;
}

/* doubleHash of one token into k bits. */
static int
double_hash(const EncFeature *f, const char *tok, size_t len, int k, uint8_t *bits, int l)
{
	uint8_t		d1[EVP_MAX_MD_SIZE],
				d2[EVP_MAX_MD_SIZE];
	unsigned	n1,
				n2,
				h1,
				h2;

	if (!HMAC(EVP_sha1(), f->key[0], (int) f->key_len, (const uint8_t *) tok, len, d1, &n1) ||
		!HMAC(EVP_md5(), f->key[1], (int) f->key_len, (const uint8_t *) tok, len, d2, &n2))
		return -1;
	h1 = mod_be(d1, n1, (unsigned) l);
	h2 = mod_be(d2, n2, (unsigned) l);
	for (int j = 0; f->prevent_singularity && h2 == 0; j++)
	{
		uint8_t		again[4096 + 4];
		size_t		extra = j < 0x80 ? 1 : j < 0x800 ? 2 : 3;	/* chr(j) in UTF-8 */

		if (len > 4096)
			return -1;
		memcpy(again, tok, len);
		if (extra == 1)
			again[len] = (uint8_t) j;
		else if (extra == 2)
		{
			again[len] = (uint8_t) (0xC0 | (j >> 6));
			again[len + 1] = (uint8_t) (0x80 | (j & 0x3F));
		}
		else
		{
			again[len] = (uint8_t) (0xE0 | (j >> 12));
			again[len + 1] = (uint8_t) (0x80 | ((j >> 6) & 0x3F));
			again[len + 2] = (uint8_t) (0x80 | (j & 0x3F));
		}
		if (!HMAC(EVP_md5(), f->key[1], (int) f->key_len, again, len + extra, d2, &n2))
			return -1;
		h2 = mod_be(d2, n2, (unsigned) l);
	}
	for (long i = 0; i < k; i++)
		set_bit(bits, (int) ((h1 + (unsigned long long) i * h2) % (unsigned) l));
	return 0;
}

/* blakeHash of one token into k bits (l a power of two). */
static int
blake_hash(const EncFeature *f, const char *tok, size_t len, int k, uint8_t *bits, int l)
{
	EVP_MAC    *mac = EVP_MAC_fetch(NULL, "BLAKE2BMAC", NULL);
	int			rc = 0;

	if (!mac)
		return -1;
	for (int m = 0; m * 32 < k && rc == 0; m++)
	{
		EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(mac);
		char		salt[16] = {0};
		size_t		saltlen = (size_t) snprintf(salt, sizeof(salt), "%d", m);
		size_t		dlen = 64,
					outl = 0;
		uint8_t		d[64];
		OSSL_PARAM	params[3];

		params[0] = OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_SALT, salt, saltlen);
		params[1] = OSSL_PARAM_construct_size_t(OSSL_MAC_PARAM_SIZE, &dlen);
		params[2] = OSSL_PARAM_construct_end();
		if (!ctx || !EVP_MAC_init(ctx, f->key[0], f->key_len, params) ||
			!EVP_MAC_update(ctx, (const uint8_t *) tok, len) || !EVP_MAC_final(ctx, d, &outl, sizeof(d)))
			rc = -1;
		for (int i = 0; rc == 0 && i < 32 && m * 32 + i < k; i++)
			set_bit(bits, (d[2 * i] | (d[2 * i + 1] << 8)) & (l - 1));
		EVP_MAC_CTX_free(ctx);
	}
	EVP_MAC_free(mac);
	return rc;
}

/* Set a token's k bits in a filter of l bits; 0 on success. */
int
enc_hash_token(const EncFeature *f, const char *tok, size_t len, int k, uint8_t *bits, int l)
{
	return f->hash == HASH_DOUBLE ? double_hash(f, tok, len, k, bits, l) : blake_hash(f, tok, len, k, bits, l);
}
