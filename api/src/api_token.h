/*
 * api_token.h
 *	  Access tokens: 48 lowercase hex characters (192 bits from the OS
 *	  CSPRNG), as the Anonlink Entity Service issues them.  The server keeps
 *	  only their SHA-256 and compares in constant time.
 */
#ifndef API_TOKEN_H
#define API_TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define API_TOKEN_HEX 48
#define API_TOKEN_SHA256 32

extern int	api_token_random(uint8_t *buf, size_t n);
extern int	api_token_new(char out[API_TOKEN_HEX + 1]);
extern bool api_token_well_formed(const char *s, size_t len);
extern void api_token_hash(const char *s, size_t len, uint8_t out[API_TOKEN_SHA256]);
extern void api_token_hash_hex(const char *s, size_t len, char out[2 * API_TOKEN_SHA256 + 1]);
extern bool api_token_matches(const char *presented, size_t len,
							  const uint8_t stored[API_TOKEN_SHA256]);

#endif							/* API_TOKEN_H */
