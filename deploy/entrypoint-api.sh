#!/bin/sh
# entrypoint-api.sh: the REST server (the API pod, and the local stack's API).
# Configuration is the environment (see docs/service.md), the database
# password from PGPASSWORD_FILE (pprl-exec.sh).
exec "$(dirname "$0")/pprl-exec.sh" pprl-api
