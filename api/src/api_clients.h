/*
 * api_clients.h
 *	  What each client (by address, see http_client) may do at once or per
 *	  minute: a token bucket for project creation and a count of uploads in
 *	  flight.  One table per API process, of bounded size: when it is full
 *	  the least recently seen idle client is forgotten.
 */
#ifndef API_CLIENTS_H
#define API_CLIENTS_H

typedef struct ApiClients ApiClients;

extern ApiClients *api_clients_new(int capacity);
extern void api_clients_free(ApiClients *t);
extern int	api_clients_take(ApiClients *t, const char *client, int per_minute, int *retry_after);
extern int	api_clients_upload_begin(ApiClients *t, const char *client, int max);
extern void api_clients_upload_end(ApiClients *t, const char *client);

#endif							/* API_CLIENTS_H */
