#!/usr/bin/env bash
# pgtmp.sh: a throwaway PostgreSQL 15 cluster on a private socket.
#
#   pgtmp.sh start DIR [EXTENSION_DESTDIR]   initdb + start (through the primary image's
#                                            deploy/entrypoint-primary.sh); prints
#                                            PGHOST/PGPORT/PGUSER
#   pgtmp.sh start-staged DIR                install pg_pprl into DIR/stage, then
#                                            start a cluster in DIR/pg that loads it
#   pgtmp.sh replica PRIMARY_DIR DIR SLOT    a hot standby of the cluster in
#                                            PRIMARY_DIR (its DIR/pg when staged),
#                                            streaming through the physical slot
#                                            SLOT, started by the worker image's
#                                            deploy/entrypoint-replica.sh; prints
#                                            PGHOST/PGPORT/PGUSER
#   pgtmp.sh drop-replica PRIMARY_DIR DIR SLOT  stop that standby, remove DIR and
#                                            drop its slot on the primary (so the
#                                            primary stops keeping WAL for it)
#   pgtmp.sh stop DIR                        stop the cluster in DIR (or DIR/pg), remove DIR
#
# PostgreSQL refuses to run as root, so under root the cluster runs as an
# unprivileged OS user (PPRL_PG_OS_USER, default "postgres", created when
# missing); an ordinary user runs it as themselves.  The server listens on
# a Unix socket inside DIR only (no TCP), with trust auth for the bootstrap
# superuser "postgres"; PPRL_PGTMP_CONF adds postgresql.conf lines (separated
# by \n) to a new cluster.  EXTENSION_DESTDIR, when given, is where a staged
# `make install DESTDIR=...` put pg_pprl (Debian's extension_destdir), so
# tests need no write access to the system's PostgreSQL directories.
set -euo pipefail

PG_BINDIR=${PG_BINDIR:-$("${PG_CONFIG:-pg_config}" --bindir)}
PORT=${PPRL_PG_PORT:-5432}

# Run a command as the cluster's OS user.
as_owner() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u "$OWNER" -- "$@"
	else
		"$@"
	fi
}

# Pick the OS user that owns the cluster, creating it under root if needed.
pick_owner() {
	if [ "$(id -u)" -eq 0 ]; then
		OWNER=${PPRL_PG_OS_USER:-postgres}
		id "$OWNER" >/dev/null 2>&1 || useradd --system --no-create-home "$OWNER"
	else
		OWNER=$(id -un)
	fi
}

# Start the server in DIR through an image's entrypoint (deploy/, copied
# where the cluster's OS user can run it) and wait until it answers.
run_entrypoint() {
	local dir=$1 script=$2 top
	shift 2
	top=$(cd "$(dirname "$0")/.." && pwd)
	cp "$top/deploy/$script" "$dir/"
	[ "$(id -u)" -eq 0 ] && chown -R "$OWNER" "$dir"
	chmod 700 "$dir"
	as_owner env "$@" PG_BINDIR="$PG_BINDIR" PPRL_PG_PORT="$PORT" PPRL_PG_SOCKET_DIR="$dir/sock" \
		PPRL_PG_LISTEN='' nohup "$dir/$script" >"$dir/server.log" 2>&1 </dev/null &
	for _ in $(seq 1 600); do
		as_owner "$PG_BINDIR/pg_isready" -q -h "$dir/sock" -p "$PORT" && break
		kill -0 $! 2>/dev/null || break
		sleep 0.1
	done
	as_owner "$PG_BINDIR/pg_isready" -q -h "$dir/sock" -p "$PORT" || { cat "$dir/server.log" >&2; exit 1; }
}

start() {
	local dir=$1 destdir=${2:-} conf
	pick_owner
	mkdir -p "$dir/sock"
	conf="fsync = off\nmax_parallel_workers_per_gather = 2\nlc_messages = 'C'"
	[ -n "$destdir" ] && conf+="\nextension_destdir = '$destdir'"
	# more settings from the caller (benchmarks: shared_buffers and such)
	[ -n "${PPRL_PGTMP_CONF:-}" ] && conf+="\n$PPRL_PGTMP_CONF"
	run_entrypoint "$dir" entrypoint-primary.sh PGDATA="$dir/data" PPRL_PG_CONF="$conf"
	echo "PGHOST=$dir/sock PGPORT=$PORT PGUSER=postgres"
}

# Stage-install the extension under DIR (readable by the cluster's OS user
# whatever the umask) and start a cluster that loads it from there.
start_staged() {
	local dir=$1 top
	top=$(cd "$(dirname "$0")/.." && pwd)
	mkdir -p "$dir"
	chmod 755 "$dir"
	make -s -C "$top/pg_pprl" install DESTDIR="$dir/stage" PG_CONFIG="${PG_CONFIG:-pg_config}" >/dev/null
	chmod -R a+rX "$dir/stage"
	start "$dir/pg" "$dir/stage"
}

# A hot standby: pg_basebackup over the primary's socket with a physical
# slot (created if missing, so a re-created standby reuses it), the
# settings long match queries need (no cancellation by replay conflicts,
# feedback so the primary keeps the rows they read), then started.
replica() {
	local primary=$1 dir=$2 slot=$3
	[ -d "$primary/pg/sock" ] && primary=$primary/pg
	pick_owner
	mkdir -p "$dir/sock"
	run_entrypoint "$dir" entrypoint-replica.sh PGDATA="$dir/data" PRIMARY_HOST="$primary/sock" \
		PRIMARY_PORT="$PORT" REPLICA_SLOT="$slot"
	echo "PGHOST=$dir/sock PGPORT=$PORT PGUSER=postgres"
}

drop_replica() {
	local primary=$1 dir=$2 slot=$3
	[ -d "$primary/pg/sock" ] && primary=$primary/pg
	[ -d "$dir" ] && stop "$dir"
	pick_owner
	as_owner "$PG_BINDIR/psql" -X -q -h "$primary/sock" -p "$PORT" -U postgres -d postgres -c \
		"SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = '$slot'" >/dev/null
}

stop() {
	local dir=$1 data
	pick_owner
	for data in "$dir/data" "$dir/pg/data"; do
		if [ -f "$data/postmaster.pid" ]; then
			as_owner "$PG_BINDIR/pg_ctl" -D "$data" -m fast -w stop >/dev/null || true
		fi
	done
	rm -rf "$dir"
}

case "${1:-}" in
start) start "$2" "${3:-}" ;;
start-staged) start_staged "$2" ;;
replica) replica "$2" "$3" "$4" ;;
drop-replica) drop_replica "$2" "$3" "$4" ;;
stop) stop "$2" ;;
*) echo "usage: $0 start DIR [EXTENSION_DESTDIR] | start-staged DIR | replica PRIMARY_DIR DIR SLOT | drop-replica PRIMARY_DIR DIR SLOT | stop DIR" >&2; exit 2 ;;
esac
