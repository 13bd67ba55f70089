#!/usr/bin/env bash
# test-deploy.sh: the images' start-up path as the chart wires it, on
# loopback without containers (make check-deploy).  The build is laid out by
# deploy/install.sh; the primary, one worker pod (replica + worker) and the
# API start through their entrypoints with the chart's settings: passwords
# only in files (POSTGRES_PASSWORD_FILE, PRIMARY_PASSWORD_FILE,
# PGPASSWORD_FILE), scram-sha-256 over TCP, the replica's slot named from
# its StatefulSet pod name, the migrations from the installed migrate.sh,
# the slot janitor over TCP.  Then the end-to-end suite (generated data, as
# the helm test Job runs it) against the API, and no password in any log.
# Prints "deploy: N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."
PG_BINDIR=$("${PG_CONFIG:-pg_config}" --bindir)

tmp=$(mktemp -d /tmp/pprl-deploytest.XXXXXX)
chmod 755 "$tmp"
# shellcheck disable=SC1091
. scripts/lib-test.sh
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	sleep 1
	for d in "$tmp/replica" "$tmp/primary"; do
		[ -f "$d/pgdata/postmaster.pid" ] && as_pg "$PG_BINDIR/pg_ctl" -D "$d/pgdata" -m fast -w stop >/dev/null 2>&1
	done
	[ -f "$tmp/redis/redis.pid" ] && scripts/redistmp.sh stop "$tmp/redis"
	rm -rf "$tmp"
}
trap cleanup EXIT
[ -n "${KEEP:-}" ] && trap - EXIT

# PostgreSQL runs as an unprivileged user, as in the images.
if [ "$(id -u)" -eq 0 ]; then
	PGOS=${PPRL_PG_OS_USER:-postgres}
	id "$PGOS" >/dev/null 2>&1 || useradd --system --no-create-home "$PGOS"
	as_pg() { runuser -u "$PGOS" -- "$@"; }
else
	PGOS=$(id -un)
	as_pg() { "$@"; }
fi

make -s all >/dev/null
deploy/install.sh "$tmp/root" api worker primary
chmod -R a+rX "$tmp/root"
bin=$tmp/root/usr/local/bin
password=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
mkdir -p "$tmp/secrets" "$tmp/primary/run" "$tmp/replica/run"
printf '%s' "$password" >"$tmp/secrets/postgres-password"
[ "$(id -u)" -eq 0 ] && chown -R "$PGOS" "$tmp/secrets" "$tmp/primary" "$tmp/replica"
chmod 700 "$tmp/secrets"
chmod 600 "$tmp/secrets/postgres-password"
port=$((20000 + RANDOM % 20000))
rport=$((port + 1))

# Wait until a server answers on a socket directory.
wait_pg() {
	for _ in $(seq 1 300); do
		as_pg "$PG_BINDIR/pg_isready" -q -h "$1" -p "$2" && return 0
		sleep 0.2
	done
	return 1
}

# --- the primary ---------------------------------------------------------------
as_pg env PGDATA="$tmp/primary/pgdata" POSTGRES_PASSWORD_FILE="$tmp/secrets/postgres-password" \
	PPRL_PG_LISTEN=127.0.0.1 PPRL_PG_PORT="$port" PPRL_PG_SOCKET_DIR="$tmp/primary/run" PG_BINDIR="$PG_BINDIR" \
	PPRL_PG_CONF="fsync = off\nextension_destdir = '$tmp/root'" \
	"$bin/entrypoint-primary.sh" >"$tmp/primary.log" 2>&1 &
pids+=($!)
qcheck "primary: up through its entrypoint" wait_pg "$tmp/primary/run" "$port"
qcheck "primary: a wrong password is refused over TCP" bash -c \
	"! PGPASSWORD=wrong psql -X -h 127.0.0.1 -p $port -U postgres -d postgres -c 'SELECT 1'"
export PGHOST=127.0.0.1 PGPORT=$port PGUSER=postgres PGDATABASE=postgres PGPASSWORD=$password
qcheck "migrations: the installed migrate.sh applies the schema" "$tmp/root/usr/local/share/pprl/migrations/migrate.sh"
unset PGPASSWORD

# --- a worker pod: replica (slot from the pod name) and worker -----------------
as_pg env PGDATA="$tmp/replica/pgdata" PRIMARY_HOST=127.0.0.1 PRIMARY_PORT="$port" \
	PRIMARY_PASSWORD_FILE="$tmp/secrets/postgres-password" HOSTNAME=pprl-pg-pprl-worker-0 \
	PPRL_PG_LISTEN='' PPRL_PG_PORT="$rport" PPRL_PG_SOCKET_DIR="$tmp/replica/run" PG_BINDIR="$PG_BINDIR" \
	"$bin/entrypoint-replica.sh" >"$tmp/replica.log" 2>&1 &
pids+=($!)
qcheck "replica: up through its entrypoint (pg_basebackup over TCP)" wait_pg "$tmp/replica/run" "$rport"
pw() { PGPASSWORD=$password psql -X -At "$@"; }
qcheck "replica: streams through slot worker_0 (named from the pod)" test \
	"$(pw -c "SELECT slot_name || ' ' || active FROM pg_replication_slots")" = "worker_0 true"
qcheck "replica: a hot standby" test "$(as_pg psql -X -At -h "$tmp/replica/run" -p "$rport" -U postgres -d postgres \
	-c 'SELECT pg_is_in_recovery()')" = t
chmod 755 "$tmp/replica" "$tmp/replica/run"
scripts/redistmp.sh start "$tmp/redis" >"$tmp/redis.env"
# shellcheck disable=SC1091
. "$tmp/redis.env"
export REDIS_URL OBJECT_STORE_URL=file://$tmp/objects PGPASSWORD_FILE=$tmp/secrets/postgres-password
chmod 755 "$tmp/secrets"
DATABASE_URL="host=$tmp/replica/run port=$rport user=postgres dbname=postgres" \
	PRIMARY_URL="host=127.0.0.1 port=$port user=postgres dbname=postgres" PPRL_WORKER_NAME=pprl-pg-pprl-worker-0 \
	PPRL_HEARTBEAT_FILE="$tmp/heartbeat" PPRL_TASK_COMPARISONS=100000 \
	"$bin/entrypoint-worker.sh" >"$tmp/worker.log" 2>&1 &
pids+=($!)
api_port=$((port + 2))
DATABASE_URL="host=127.0.0.1 port=$port user=postgres dbname=postgres" PPRL_API_LISTEN=127.0.0.1:$api_port \
	"$bin/entrypoint-api.sh" >"$tmp/api.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do curl -sf -o /dev/null "http://127.0.0.1:$api_port/readyz" && break; sleep 0.2; done
qcheck "api: ready through its entrypoint (password from PGPASSWORD_FILE)" curl -sf "http://127.0.0.1:$api_port/readyz"
unset PGPASSWORD_FILE

# --- the helm test: the end-to-end suite on generated data ---------------------
if python3 "$tmp/root/usr/local/share/pprl/tests/test_e2e.py" "http://127.0.0.1:$api_port" >"$tmp/e2e.log" 2>&1; then
	qcheck "end-to-end suite from the installed copy" true
else
	qcheck "end-to-end suite from the installed copy" false
	tail -5 "$tmp/e2e.log"
fi
qcheck "worker: its heartbeat file is fresh" test -n "$(find "$tmp/heartbeat" -mmin -1 2>/dev/null)"

# --- the slot janitor over TCP -------------------------------------------------
pw -c "SELECT pg_create_physical_replication_slot('worker_3')" >/dev/null
PGPASSWORD_FILE=$tmp/secrets/postgres-password PPRL_WORKER_REPLICAS=1 "$bin/slot-janitor.sh" --once >/dev/null
qcheck "slot janitor: worker_3 dropped, worker_0 kept" test \
	"$(pw -c "SELECT string_agg(slot_name, ',' ORDER BY 1) FROM pg_replication_slots")" = worker_0

qcheck "no password in any log" bash -c "! grep -rqF '$password' $tmp/*.log"
summary deploy
