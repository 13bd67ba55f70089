#!/bin/sh
# slot-janitor.sh: drops the replication slots of worker replicas that are
# gone (a sidecar of the primary's pod).  A slot keeps WAL on the primary for
# as long as it exists, so after the workers are scaled down the slots
# worker_<N> with N >= PPRL_WORKER_REPLICAS that no replica streams through
# are dropped.  Runs every PPRL_JANITOR_SECONDS (60); --once runs once.
# Connects with the usual libpq variables (PGHOST, PGPORT, PGUSER,
# PGPASSWORD[_FILE] as PGPASSFILE is not used here).
set -eu
: "${PPRL_WORKER_REPLICAS:?PPRL_WORKER_REPLICAS is required}"
case $PPRL_WORKER_REPLICAS in *[!0-9]* | '') echo "PPRL_WORKER_REPLICAS: a number" >&2; exit 2 ;; esac
if [ -n "${PGPASSWORD_FILE:-}" ]; then
	PGPASSWORD=$(cat "$PGPASSWORD_FILE")
	export PGPASSWORD
fi
while :; do
	psql -X -q -At -d postgres -v keep="$PPRL_WORKER_REPLICAS" <<'SQL' || true
SELECT 'dropped ' || slot_name || ': ' || pg_drop_replication_slot(slot_name)::text
  FROM pg_replication_slots
 WHERE slot_type = 'physical' AND NOT active AND slot_name ~ '^worker_[0-9]+$'
   AND substring(slot_name FROM 8)::int >= :keep;
SQL
	[ "${1:-}" = --once ] && exit 0
	sleep "${PPRL_JANITOR_SECONDS:-60}"
done
