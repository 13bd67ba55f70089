#!/bin/sh
# entrypoint-worker.sh: the sync worker beside its replica (the worker pod's
# second container, and every worker of the local stack).  Configuration is
# the environment (see docs/workers.md); the worker itself waits for its
# databases (PPRL_DB_WAIT_SECONDS) and Redis, and exits non-zero on a bad
# setting.  PPRL_BIN_DIR: where pprl-worker is (the image's /usr/local/bin,
# or the build directory of a checkout).
set -eu
# the database password from a file (a mounted Secret), for libpq
if [ -n "${PGPASSWORD_FILE:-}" ]; then
	PGPASSWORD=$(cat "$PGPASSWORD_FILE")
	export PGPASSWORD
	unset PGPASSWORD_FILE
fi
bin=${PPRL_BIN_DIR:-$(cd "$(dirname "$0")/../build" 2>/dev/null && pwd || echo /usr/local/bin)}
exec "$bin/pprl-worker"
