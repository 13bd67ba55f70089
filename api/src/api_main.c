/*
 * api_main.c
 *	  pprl-api: start the REST API (api_app.c), serve until SIGTERM or
 *	  SIGINT, stop cleanly (requests in flight finish).
 */
#include <signal.h>
#include <stdio.h>

#include <jansson.h>

#include "api_app.h"
#include "service/settings.h"

/* Start, serve until a termination signal, stop. */
int
main(void)
{
	sigset_t	sigs;
	int			sig;
	ApiApp		app;

	/* Block the signals before any thread starts; main waits for them. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	api_app_start(&app);
	sigwait(&sigs, &sig);
	svc_log("info", "stopping", json_pack("{s:i}", "signal", sig));
	api_app_stop(&app);
	return 0;
}
