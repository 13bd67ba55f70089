#!/usr/bin/env bash
# redistmp.sh: a throwaway Redis on loopback, for tests and the local stack.
#
#   redistmp.sh start DIR [PORT]   start redis-server with its files in DIR
#                                  (append-only file on, so a restart keeps
#                                  the queue); prints REDIS_URL=redis://...
#   redistmp.sh stop DIR           stop it (its files stay until DIR goes)
set -euo pipefail

cmd=${1:?usage: redistmp.sh start|stop DIR [PORT]}
dir=${2:?usage: redistmp.sh start|stop DIR [PORT]}
case $cmd in
start)
	port=${3:-$((20000 + RANDOM % 20000))}
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	redis-server --bind 127.0.0.1 --port "$port" --dir "$dir" --daemonize yes \
		--pidfile "$dir/redis.pid" --logfile "$dir/redis.log" --save '' \
		--appendonly yes --protected-mode yes >/dev/null
	for _ in $(seq 1 50); do
		redis-cli -p "$port" ping >/dev/null 2>&1 && break
		sleep 0.1
	done
	redis-cli -p "$port" ping >/dev/null
	echo "$port" >"$dir/port"
	echo "REDIS_URL=redis://127.0.0.1:$port"
	;;
stop)
	if [ -f "$dir/redis.pid" ]; then
		pid=$(cat "$dir/redis.pid")
		kill "$pid" 2>/dev/null || true
		for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		rm -f "$dir/redis.pid"
	fi
	;;
*)
	echo "usage: redistmp.sh start|stop DIR [PORT]" >&2
	exit 2
	;;
esac
