/*
 * token.c
 *	  Token generation (getrandom), hashing (OpenSSL SHA-256) and
 *	  constant-time verification (CRYPTO_memcmp).
 */
#include <errno.h>
#include <sys/random.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "service/token.h"

/* Fill buf with n bytes from the OS CSPRNG; -1 when it cannot. */
int
svc_token_random(uint8_t *buf, size_t n)
{
	size_t		got = 0;

	while (got < n)
	{
		ssize_t		r = getrandom(buf + got, n - got, 0);

		if (r < 0)
		{
			if (errno == EINTR)
				continue;
			return -1;
		}
		got += (size_t) r;
	}
	return 0;
}

/* A new token: 24 random bytes as 48 lowercase hex characters, NUL-ended. */
int
svc_token_new(char out[SVC_TOKEN_HEX + 1])
{
	static const char hex[] = "0123456789abcdef";
	uint8_t		raw[SVC_TOKEN_HEX / 2];

	if (svc_token_random(raw, sizeof(raw)) != 0)
		return -1;
	for (size_t i = 0; i < sizeof(raw); i++)
	{
		out[2 * i] = hex[raw[i] >> 4];
		out[2 * i + 1] = hex[raw[i] & 0xf];
	}
	out[SVC_TOKEN_HEX] = '\0';
	OPENSSL_cleanse(raw, sizeof(raw));
	return 0;
}

/* Whether s is exactly 48 lowercase hex characters. */
bool
svc_token_well_formed(const char *s, size_t len)
{
	if (len != SVC_TOKEN_HEX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* SHA-256 of a token's characters: what the database stores. */
void
svc_token_hash(const char *s, size_t len, uint8_t out[SVC_TOKEN_SHA256])
{
	unsigned int n = SVC_TOKEN_SHA256;

	EVP_Digest(s, len, out, &n, EVP_sha256(), NULL);
}

/*
 * Whether a presented token is the one whose hash is stored.  The hash is
 * always computed and compared in constant time, so timing reveals nothing
 * about how much of a guess was right.
 */
bool
svc_token_matches(const char *presented, size_t len, const uint8_t stored[SVC_TOKEN_SHA256])
{
	uint8_t		h[SVC_TOKEN_SHA256];
	bool		same;

	svc_token_hash(presented, len, h);
	same = CRYPTO_memcmp(h, stored, SVC_TOKEN_SHA256) == 0;
	return same && svc_token_well_formed(presented, len);
}

/*
 * SHA-256 of a token as 64 lowercase hex characters: the form bound as a
 * query parameter (decode($n, 'hex')) when a token is stored or looked up.
 */
void
svc_token_hash_hex(const char *s, size_t len, char out[2 * SVC_TOKEN_SHA256 + 1])
{
	static const char digits[] = "0123456789abcdef";
	uint8_t		h[SVC_TOKEN_SHA256];

	svc_token_hash(s, len, h);
	for (int i = 0; i < SVC_TOKEN_SHA256; i++)
	{
		out[2 * i] = digits[h[i] >> 4];
		out[2 * i + 1] = digits[h[i] & 0xf];
	}
	out[2 * SVC_TOKEN_SHA256] = '\0';
}
