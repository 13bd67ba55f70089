#!/bin/sh
# entrypoint-api.sh: the REST server (the API pod, and the local stack's API).
# Configuration is the environment (see docs/service.md); PPRL_BIN_DIR: where
# pprl-api is (the image's /usr/local/bin, or the build directory of a checkout).
set -eu
# the database password from a file (a mounted Secret), for libpq
if [ -n "${PGPASSWORD_FILE:-}" ]; then
	PGPASSWORD=$(cat "$PGPASSWORD_FILE")
	export PGPASSWORD
	unset PGPASSWORD_FILE
fi
bin=${PPRL_BIN_DIR:-$(cd "$(dirname "$0")/../build" 2>/dev/null && pwd || echo /usr/local/bin)}
exec "$bin/pprl-api"
