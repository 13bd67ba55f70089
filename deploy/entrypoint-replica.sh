#!/usr/bin/env bash
# entrypoint-replica.sh: a pg_pprl hot-standby replica, the database beside
# each worker (the worker pod's database container, and every replica of the
# local stack, which runs this same script).
#
# On first start (PGDATA empty) it creates the physical replication slot on
# the primary when missing, copies the primary with pg_basebackup through
# that slot (-R: standby.signal and primary_conninfo) and adds the settings
# that long match queries need; then it runs postgres in the foreground.
#
#   PGDATA                 data directory (required)
#   PRIMARY_HOST           the primary: host name or socket directory (required)
#   PRIMARY_PORT           its port (5432)
#   PRIMARY_USER           a user with REPLICATION (postgres)
#   PRIMARY_PASSWORD[_FILE] its password, if the primary asks for one
#   REPLICA_SLOT           the physical slot to stream through (default
#                          worker_<N> for the StatefulSet pod <name>-<N>)
#   PPRL_PG_PORT           this server's port (5432)
#   PPRL_PG_SOCKET_DIR     its Unix socket directory (/var/run/postgresql)
#   PPRL_PG_LISTEN         its listen_addresses ('*'; empty for sockets only)
set -euo pipefail

: "${PGDATA:?PGDATA is required}" "${PRIMARY_HOST:?PRIMARY_HOST is required}"
REPLICA_SLOT=${REPLICA_SLOT:-worker_${HOSTNAME##*-}}
case $REPLICA_SLOT in *[!a-z0-9_]* | '') echo "REPLICA_SLOT: lower-case letters, digits and _ only" >&2; exit 2 ;; esac
PG_BINDIR=${PG_BINDIR:-$(pg_config --bindir 2>/dev/null || echo /usr/lib/postgresql/15/bin)}
if [ -n "${PRIMARY_PASSWORD_FILE:-}" ]; then
	PRIMARY_PASSWORD=$(cat "$PRIMARY_PASSWORD_FILE")
fi
export PGHOST=$PRIMARY_HOST PGPORT=${PRIMARY_PORT:-5432} PGUSER=${PRIMARY_USER:-postgres}
[ -n "${PRIMARY_PASSWORD:-}" ] && export PGPASSWORD=$PRIMARY_PASSWORD

if [ ! -s "$PGDATA/PG_VERSION" ]; then
	"$PG_BINDIR/psql" -X -q -d postgres -v slot="$REPLICA_SLOT" >/dev/null <<'SQL'
SELECT pg_create_physical_replication_slot(:'slot', true)
 WHERE NOT EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = :'slot');
SQL
	"$PG_BINDIR/pg_basebackup" -D "$PGDATA" -X stream -R -S "$REPLICA_SLOT" --checkpoint=fast --no-sync
	{
		echo "# entrypoint-replica.sh"
		echo "port = ${PPRL_PG_PORT:-5432}"
		echo "unix_socket_directories = '${PPRL_PG_SOCKET_DIR:-/var/run/postgresql}'"
		echo "listen_addresses = '${PPRL_PG_LISTEN-*}'"
		echo "hot_standby = on"
		# the primary keeps the rows a long match query here still reads
		echo "hot_standby_feedback = on"
		# replay waits for such a query instead of cancelling it
		echo "max_standby_streaming_delay = -1"
	} >>"$PGDATA/postgresql.conf"
fi
unset PGPASSWORD
exec "$PG_BINDIR/postgres" -D "$PGDATA"
