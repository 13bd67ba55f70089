#!/bin/sh
# entrypoint-worker.sh: the sync worker beside its replica (the worker pod's
# second container, and every worker of the local stack).  Configuration is
# the environment (see docs/workers.md); the worker itself waits for its
# databases (PPRL_DB_WAIT_SECONDS) and Redis, and exits non-zero on a bad
# setting.  PPRL_BIN_DIR: where pprl-worker is (default: beside this
# script, as installed by deploy/install.sh, else a checkout's build/).
set -eu
# the database password from a file (a mounted Secret), for libpq
if [ -n "${PGPASSWORD_FILE:-}" ]; then
	PGPASSWORD=$(cat "$PGPASSWORD_FILE")
	export PGPASSWORD
	unset PGPASSWORD_FILE
fi
here=$(cd "$(dirname "$0")" && pwd)
bin=${PPRL_BIN_DIR:-$here}
[ -x "$bin/pprl-worker" ] || bin=$here/../build
exec "$bin/pprl-worker"
