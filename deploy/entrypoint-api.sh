#!/bin/sh
# entrypoint-api.sh: the REST server (the API pod, and the local stack's API).
# Configuration is the environment (see docs/service.md); PPRL_BIN_DIR: where
# pprl-api is (default: beside this script, as installed by deploy/install.sh,
# else a checkout's build/).
set -eu
# the database password from a file (a mounted Secret), for libpq
if [ -n "${PGPASSWORD_FILE:-}" ]; then
	PGPASSWORD=$(cat "$PGPASSWORD_FILE")
	export PGPASSWORD
	unset PGPASSWORD_FILE
fi
here=$(cd "$(dirname "$0")" && pwd)
bin=${PPRL_BIN_DIR:-$here}
[ -x "$bin/pprl-api" ] || bin=$here/../build
exec "$bin/pprl-api"
