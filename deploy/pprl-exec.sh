#!/bin/sh
# pprl-exec.sh PROGRAM: start one of the project's programs the way every
# image does: the database password read from PGPASSWORD_FILE (a mounted
# Secret) for libpq, the program found in PPRL_BIN_DIR (default: beside this
# script, as deploy/install.sh lays it out, else a checkout's build/), then
# exec'd so it receives the container's signals.  Used by the entrypoints.
set -eu
prog=${1:?usage: pprl-exec.sh PROGRAM}
if [ -n "${PGPASSWORD_FILE:-}" ]; then
	PGPASSWORD=$(cat "$PGPASSWORD_FILE")
	export PGPASSWORD
	unset PGPASSWORD_FILE
fi
here=$(cd "$(dirname "$0")" && pwd)
bin=${PPRL_BIN_DIR:-$here}
[ -x "$bin/$prog" ] || bin=$here/../build
exec "$bin/$prog"
