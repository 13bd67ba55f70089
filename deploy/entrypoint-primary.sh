#!/usr/bin/env bash
# entrypoint-primary.sh: the primary PostgreSQL with pg_pprl (the primary's
# container, and the primary of the local stack and of every test cluster,
# which run this same script).
#
# On first start (PGDATA empty) it runs initdb and adds the settings the
# service needs (replication for the workers' replicas); then it runs
# postgres in the foreground.  The service schema is applied separately by
# migrations/migrate.sh (a Job in the chart).
#
#   PGDATA                  data directory (required)
#   POSTGRES_PASSWORD[_FILE] the superuser's password; required when the
#                           server listens on TCP (host connections then use
#                           scram-sha-256, replication included); without it
#                           only the Unix socket is trusted
#   PPRL_PG_PORT            port (5432)
#   PPRL_PG_SOCKET_DIR      Unix socket directory (/var/run/postgresql)
#   PPRL_PG_LISTEN          listen_addresses ('*'; empty for sockets only)
#   PPRL_PG_CONF            more postgresql.conf lines, added on first start
set -euo pipefail

: "${PGDATA:?PGDATA is required}"
PG_BINDIR=${PG_BINDIR:-$(pg_config --bindir 2>/dev/null || echo /usr/lib/postgresql/15/bin)}
if [ -n "${POSTGRES_PASSWORD_FILE:-}" ]; then
	POSTGRES_PASSWORD=$(cat "$POSTGRES_PASSWORD_FILE")
fi
listen=${PPRL_PG_LISTEN-*}

if [ ! -s "$PGDATA/PG_VERSION" ]; then
	if [ -n "${POSTGRES_PASSWORD:-}" ]; then
		pwfile=$(mktemp)
		printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
		"$PG_BINDIR/initdb" -D "$PGDATA" -U postgres --pwfile="$pwfile" --auth-local=trust \
			--auth-host=scram-sha-256 -E UTF8 --locale=C --no-sync
		rm -f "$pwfile"
		{
			echo "host all all all scram-sha-256"
			echo "host replication all all scram-sha-256"
		} >>"$PGDATA/pg_hba.conf"
	elif [ -n "$listen" ]; then
		echo "entrypoint-primary.sh: POSTGRES_PASSWORD (or _FILE) is required to listen on TCP" >&2
		exit 2
	else
		"$PG_BINDIR/initdb" -D "$PGDATA" -U postgres --auth=trust -E UTF8 --locale=C --no-sync
	fi
	{
		echo "# entrypoint-primary.sh"
		echo "port = ${PPRL_PG_PORT:-5432}"
		echo "unix_socket_directories = '${PPRL_PG_SOCKET_DIR:-/var/run/postgresql}'"
		echo "listen_addresses = '$listen'"
		# one slot and one WAL sender per worker replica, with room to scale
		echo "wal_level = replica"
		echo "max_wal_senders = 32"
		echo "max_replication_slots = 32"
		[ -n "${PPRL_PG_CONF:-}" ] && printf '%b\n' "$PPRL_PG_CONF"
	} >>"$PGDATA/postgresql.conf"
fi
exec "$PG_BINDIR/postgres" -D "$PGDATA"
