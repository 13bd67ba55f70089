/*
 * token.h
 *	  Access tokens: 48 lowercase hex characters (192 bits from the OS
 *	  CSPRNG), as the Anonlink Entity Service issues them.  The server keeps
 *	  only their SHA-256 and compares in constant time.
 */
#ifndef SVC_TOKEN_H
#define SVC_TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SVC_TOKEN_HEX 48
#define SVC_TOKEN_SHA256 32

extern int	svc_token_random(uint8_t *buf, size_t n);
extern int	svc_token_new(char out[SVC_TOKEN_HEX + 1]);
extern bool svc_token_well_formed(const char *s, size_t len);
extern void svc_token_hash(const char *s, size_t len, uint8_t out[SVC_TOKEN_SHA256]);
extern void svc_token_hash_hex(const char *s, size_t len, char out[2 * SVC_TOKEN_SHA256 + 1]);
extern bool svc_token_matches(const char *presented, size_t len,
							  const uint8_t stored[SVC_TOKEN_SHA256]);

#endif							/* SVC_TOKEN_H */
