#!/usr/bin/env bash
# stack.sh: the whole service on this machine, on loopback (make up / make down).
#
# The stack installs the build as the container images do (deploy/install.sh
# into $PPRL_STACK_DIR/root) and starts the primary, the replicas, the
# workers and the API through the images' entrypoints (deploy/entrypoint-*.sh),
# so the stack tests them.
#
#   stack.sh up     the primary PostgreSQL with pg_pprl and the migrations,
#                   WORKERS (default 2) hot-standby replicas streaming from
#                   it through slots, Redis, the object store (file:// by
#                   default; OBJECT_STORE=s3 starts a single-node Ceph
#                   radosgw instead), the API and one worker per replica
#                   (matching on its replica, writing to the primary);
#                   waits for /readyz; last line SERVER=http://...
#   stack.sh down   stop everything and remove its state
#   stack.sh env    print the running stack's settings (for tests)
#   stack.sh scale N   run N workers: start missing ones (replica + worker),
#                   stop the others (SIGTERM, the job handed back), remove
#                   their replicas and drop their slots
#   stack.sh worker I  start worker I again (after it died or was killed)
#
# State lives in PPRL_STACK_DIR (default /tmp/pprl-stack-$UID).  The API
# listens on PPRL_PORT (default 8851, or a free port when that is taken).
set -euo pipefail
cd "$(dirname "$0")/.."

dir=${PPRL_STACK_DIR:-/tmp/pprl-stack-$(id -u)}

# Whether something listens on a loopback TCP port.
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# A free loopback port, preferring $1.
free_port() {
	local p=$1
	while port_busy "$p"; do p=$((20000 + RANDOM % 20000)); done
	echo "$p"
}

# Start a daemon in the background with its log; record its pid.
spawn() {
	local name=$1
	shift
	nohup "$@" >>"$dir/$name.log" 2>&1 &
	echo $! >"$dir/$name.pid"
}

# Load the running stack's settings.
load_env() {
	[ -f "$dir/stack.env" ] || { echo "stack.sh: not up (no $dir/stack.env)" >&2; exit 1; }
	set -a
	# shellcheck disable=SC1091
	. "$dir/stack.env"
	set +a
}

# Worker i: a hot standby of the primary streaming through slot worker_i,
# and the worker beside it (matching there, writing to the primary).
start_worker() {
	local i=$1 rurl
	rurl="host=$dir/replica-$i/sock port=$PGPORT user=$PGUSER dbname=postgres"
	if [ ! -d "$dir/replica-$i" ]; then
		scripts/pgtmp.sh replica "$dir/pg" "$dir/replica-$i" "worker_$i" >/dev/null
		sed -i "/^REPLICA_${i}_URL=/d" "$dir/stack.env"
		echo "REPLICA_${i}_URL=$rurl" >>"$dir/stack.env"
	fi
	PRIMARY_URL="$DATABASE_URL" DATABASE_URL="$rurl" PPRL_WORKER_NAME="worker-$i" \
		spawn "worker-$i" "$dir/root/usr/local/bin/entrypoint-worker.sh"
}

# Stop worker i (SIGTERM: it hands its job back), then its replica, and drop
# its slot so the primary keeps no WAL for it.
stop_worker() {
	local i=$1 pid
	if [ -f "$dir/worker-$i.pid" ]; then
		pid=$(cat "$dir/worker-$i.pid")
		kill -TERM "$pid" 2>/dev/null || true
		for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$pid" 2>/dev/null || true
		rm -f "$dir/worker-$i.pid"
	fi
	scripts/pgtmp.sh drop-replica "$dir/pg" "$dir/replica-$i" "worker_$i"
	sed -i "/^REPLICA_${i}_URL=/d" "$dir/stack.env"
}

# Scale to n workers: start the missing ones, stop (and unslot) the rest.
scale() {
	local n=$1 i
	case $n in '' | *[!0-9]*) echo "stack.sh: scale takes a number of workers" >&2; exit 2 ;; esac
	load_env
	for ((i = 0; i < n; i++)); do
		[ -f "$dir/worker-$i.pid" ] && kill -0 "$(cat "$dir/worker-$i.pid")" 2>/dev/null || start_worker "$i"
	done
	for f in "$dir"/replica-*; do
		[ -d "$f" ] || continue
		i=${f##*-}
		[ "$i" -ge "$n" ] && stop_worker "$i"
	done
	echo "workers: $n"
}

up() {
	if [ -f "$dir/stack.env" ]; then
		echo "stack.sh: already up (state in $dir); run make down first" >&2
		exit 1
	fi
	mkdir -p "$dir"
	chmod 755 "$dir"
	make -s all >/dev/null
	# laid out as in the images (deploy/install.sh), and run from there
	deploy/install.sh "$dir/root" api worker primary
	chmod -R a+rX "$dir/root"
	local pgenv
	pgenv=$(scripts/pgtmp.sh start "$dir/pg" "$dir/root")
	eval "export $pgenv"
	PGDATABASE=postgres "$dir/root/usr/local/share/pprl/migrations/migrate.sh" >/dev/null
	scripts/redistmp.sh start "$dir/redis" >"$dir/redis.env"
	local store_lines
	case "${OBJECT_STORE:-file}" in
	file) store_lines="OBJECT_STORE_URL=file://$dir/objects" ;;
	s3)
		scripts/rgwtmp.sh start "$dir/rgw" >/dev/null
		# The secret goes to the daemons as a file (the NAME_FILE form).
		(umask 077 && sed -n 's/^S3_SECRET_ACCESS_KEY=//p' "$dir/rgw/s3.env" >"$dir/rgw/secret")
		store_lines=$(grep -v '^S3_SECRET_ACCESS_KEY=' "$dir/rgw/s3.env")
		store_lines+=$'\n'"S3_SECRET_ACCESS_KEY_FILE=$dir/rgw/secret"
		store_lines+=$'\n'"OBJECT_STORE_URL=s3://pprl/service"
		;;
	*)
		echo "stack.sh: OBJECT_STORE must be file or s3" >&2
		exit 2
		;;
	esac
	local port
	port=$(free_port "${PPRL_PORT:-8851}")
	{
		echo "PGHOST=$PGHOST"
		echo "PGPORT=$PGPORT"
		echo "PGUSER=$PGUSER"
		echo "PGDATABASE=postgres"
		echo "DATABASE_URL=host=$PGHOST port=$PGPORT user=$PGUSER dbname=postgres"
		cat "$dir/redis.env"
		echo "$store_lines"
		echo "PPRL_API_LISTEN=127.0.0.1:$port"
		echo "SERVER=http://127.0.0.1:$port"
		# worker settings given to make up, kept for workers started later
		env | grep -E '^(PPRL_(TASK_COMPARISONS|MAX_TASKS|STALL_SECONDS|MAX_ATTEMPTS|CLAIM_IDLE_SECONDS|REPLAY_WAIT_SECONDS)|S3_ATTEMPTS)=' || true
	} >"$dir/stack.env"
	set -a
	# shellcheck disable=SC1091
	. "$dir/stack.env"
	set +a
	spawn api "$dir/root/usr/local/bin/entrypoint-api.sh"
	local i workers=${WORKERS:-2}
	case $workers in '' | *[!0-9]*) echo "stack.sh: WORKERS must be a number" >&2; exit 2 ;; esac
	for ((i = 0; i < workers; i++)); do
		start_worker "$i"
	done
	for _ in $(seq 1 100); do
		curl -sf -o /dev/null "$SERVER/readyz" && break
		sleep 0.2
	done
	if ! curl -sf -o /dev/null "$SERVER/readyz"; then
		echo "stack.sh: the API did not become ready; its log:" >&2
		tail -20 "$dir/api.log" >&2
		exit 1
	fi
	echo "SERVER=$SERVER"
}

down() {
	local f pid
	for f in "$dir"/*.pid; do
		[ -f "$f" ] || continue
		pid=$(cat "$f")
		kill -TERM "$pid" 2>/dev/null || true
		for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$pid" 2>/dev/null || true
		rm -f "$f"
	done
	[ -d "$dir/redis" ] && scripts/redistmp.sh stop "$dir/redis"
	for f in "$dir"/replica-*; do
		[ -d "$f" ] && scripts/pgtmp.sh stop "$f"
	done
	[ -d "$dir/pg" ] && scripts/pgtmp.sh stop "$dir/pg"
	[ -d "$dir/rgw" ] && scripts/rgwtmp.sh stop "$dir/rgw"
	rm -rf "$dir"
	echo "stack down"
}

case "${1:-}" in
up) up ;;
down) down ;;
env) cat "$dir/stack.env" ;;
scale) scale "${2:-}" ;;
worker) load_env && start_worker "${2:?usage: stack.sh worker I}" ;;
*) echo "usage: $0 up|down|env|scale N|worker I" >&2; exit 2 ;;
esac
