#!/bin/sh
# entrypoint-worker.sh: the sync worker beside its replica (the worker pod's
# second container, and every worker of the local stack).  Configuration is
# the environment (see docs/workers.md), the database password from
# PGPASSWORD_FILE (pprl-exec.sh); the worker itself waits for its databases
# (PPRL_DB_WAIT_SECONDS) and Redis, and exits non-zero on a bad setting.
exec "$(dirname "$0")/pprl-exec.sh" pprl-worker
