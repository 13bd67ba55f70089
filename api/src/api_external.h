/*
 * api_external.h
 *	  External uploads (upstream's object-store upload flow): a party asks
 *	  for temporary credentials that write only under its own folder of the
 *	  S3 store, puts its encodings there itself, then posts a pointer to
 *	  them on .../clks.  This module gives the credentials and reads and
 *	  checks the pointer; api_upload.c imports the objects it names.
 */
#ifndef API_EXTERNAL_H
#define API_EXTERNAL_H

#include <stddef.h>

#include "api_ctx.h"
#include "http_server.h"

#define API_POINTER_MAX_BODY 65536	/* a pointer body is a few hundred bytes */
#define API_KEY_MAX 512

/* The objects a pointer upload names, as store keys. */
typedef struct ApiPointer
{
	char		enc_key[API_KEY_MAX];
	int			enc_json;		/* the name ends in .json: {"clks": [...]} etc. */
	char		blocks_key[API_KEY_MAX];	/* "" when there is no blocks file */
} ApiPointer;

extern int	api_send_grant(HttpRequest *r, ApiCtx *ctx, const char *key, StoreGrantKind kind,
						   const char *who, int status, const char *where, const char *disabled);
extern int	api_pointer_resolve(ObjectStore *s, const char *pid, int dp_index, const char *body,
								size_t len, ApiPointer *p, char *err, size_t errlen);

#endif							/* API_EXTERNAL_H */
