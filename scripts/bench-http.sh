#!/usr/bin/env bash
# bench-http.sh: the REST server under load and under attack, in one run
# (part of make bench): requests/s and latency percentiles from wrk on
# /healthz (no database) and /api/v1/status (a pooled query), and the MB/s
# of a streamed binary upload, first on a quiet server, then while 1,000
# slowloris connections hold on (scripts/http_attack.py, from 4 loopback
# addresses, reopening every connection the server cuts, as a real attacker
# does), and last what Debian's slowhttptest (1,000 slow-header
# connections, its own probe) says of the server's availability.
#
#   bench-http.sh [TREE]   TREE: a checkout whose build/pprl-api and
#                          migrations/ to measure (default: this one), so
#                          that two servers are measured on the same loads
#
# Environment: BENCH_HTTP_SECONDS (wrk per figure, default 6),
# BENCH_UPLOAD_MB (default 256).  The server runs with its defaults, except
# PPRL_MAX_CONNECTIONS_PER_CLIENT=0: slowhttptest connects from the
# loopback address of the clients measured, and a per-client bound would
# refuse its attack instead of letting it be carried.
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=lib-test.sh
. scripts/lib-test.sh

tree=$(cd "${1:-.}" && pwd)
secs=${BENCH_HTTP_SECONDS:-6}
mb=${BENCH_UPLOAD_MB:-256}
for tool in wrk slowhttptest curl; do
	command -v "$tool" >/dev/null || { echo "bench-http: $tool is missing (scripts/setup-debian.sh)" >&2; exit 2; }
done
tmp=$(mktemp -d /tmp/pprl-benchhttp.XXXXXX)
api_pid=
attack_pid=
cleanup() {
	# shellcheck disable=SC2086
	[ -n "$attack_pid" ] && kill $attack_pid 2>/dev/null || true
	[ -n "$api_pid" ] && kill "$api_pid" 2>/dev/null || true
	scripts/redistmp.sh stop "$tmp/redis"
	scripts/pgtmp.sh stop "$tmp/cluster"
	rm -rf "$tmp"
}
trap cleanup EXIT
start_cluster "$tmp"
eval "export $(scripts/redistmp.sh start "$tmp/redis")"
PGDATABASE=postgres "$tree/migrations/migrate.sh" >/dev/null
port=$((20000 + RANDOM % 20000))
base=http://127.0.0.1:$port
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
env DATABASE_URL="host=$PGHOST port=$PGPORT user=$PGUSER dbname=postgres" REDIS_URL="$REDIS_URL" \
	OBJECT_STORE_URL="file://$tmp/objects" PPRL_API_LISTEN="127.0.0.1:$port" \
	PPRL_MAX_CONNECTIONS_PER_CLIENT=0 "$tree/build/pprl-api" 2>"$tmp/api.log" &
api_pid=$!
for _ in $(seq 1 100); do curl -s -o /dev/null "$base/healthz" && break; sleep 0.1; done

# "req/s p50 p99" of wrk on a path (p50/p99 in ms; "0 - -" when nothing came back).
measure() {
	local out rps p50 p99
	out=$(wrk -t2 -c16 -d"${secs}s" --timeout 5s --latency "$base$1" 2>&1 || true)
	rps=$(awk '/^Requests\/sec/ {printf "%.0f", $2}' <<<"$out")
	p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
	p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
	echo "${rps:-0} ${p50:--} ${p99:--}"
}

# MB/s of one binary upload of $mb MB (1024-byte encodings), or "failed".
upload_rate() {
	local proj pid tok n t0 t1 code
	proj=$(curl -s -m 30 -X POST -H 'Content-Type: application/json' \
		-d '{"schema": {}, "result_type": "groups"}' "$base/api/v1/projects") || { echo failed; return; }
	pid=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["project_id"])' <<<"$proj" 2>/dev/null) || { echo failed; return; }
	tok=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["update_tokens"][0])' <<<"$proj")
	n=$((mb * 1024))
	t0=$(date +%s.%N)
	code=$(head -c $((n * 1024)) /dev/zero | tr '\0' '\125' | curl -s -m 600 -o /dev/null -w '%{http_code}' \
		-X POST -H "Authorization: $tok" -H 'Content-Type: application/octet-stream' \
		-H "Hash-Count: $n" -H 'Hash-Size: 1024' --data-binary @- "$base/api/v1/projects/$pid/binaryclks" || true)
	t1=$(date +%s.%N)
	if [ "$code" = 201 ]; then
		python3 -c "print('%.1f' % ($mb / ($t1 - $t0)))"
	else
		echo "failed ($code)"
	fi
}

echo "server: $tree/build/pprl-api ($(cd "$tree" && git log -1 --format=%h 2>/dev/null || echo '?')); CPU: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores"
read -r q_h_rps q_h_50 q_h_99 < <(measure /healthz)
read -r q_s_rps q_s_50 q_s_99 < <(measure /api/v1/status)
q_up=$(upload_rate)
attack_pids=()
for i in 2 3 4 5; do
	python3 scripts/http_attack.py hold "$base" slowloris 250 $((3 * secs + 120)) --interval 5 \
		--source "127.0.0.$i" >"$tmp/hold-$i.json" &
	attack_pids+=($!)
done
attack_pid="${attack_pids[*]}"
sleep 5
held=$(ls "/proc/$api_pid/fd" | wc -l)
read -r a_h_rps a_h_50 a_h_99 < <(measure /healthz)
read -r a_s_rps a_s_50 a_s_99 < <(measure /api/v1/status)
a_up=$(upload_rate)
held_end=$(ls "/proc/$api_pid/fd" 2>/dev/null | wc -l)
# shellcheck disable=SC2086
kill $attack_pid 2>/dev/null || true
# shellcheck disable=SC2086
wait $attack_pid 2>/dev/null || true
attack_pid=
slowhttptest -H -c 1000 -r 500 -i 5 -l 20 -u "$base/healthz" -p 3 >"$tmp/slow.log" 2>&1 || true
verdict=$(sed 's/\x1b\[[0-9;]*m//g' "$tmp/slow.log" | grep -i 'service available' | tail -1 | sed 's/.*: *//')
printf '%-26s %14s %14s\n' "" "quiet" "1,000 slowloris"
printf '%-26s %14s %14s\n' "/healthz req/s" "$q_h_rps" "$a_h_rps"
printf '%-26s %14s %14s\n' "/healthz p50 / p99" "$q_h_50 / $q_h_99" "$a_h_50 / $a_h_99"
printf '%-26s %14s %14s\n' "/api/v1/status req/s" "$q_s_rps" "$a_s_rps"
printf '%-26s %14s %14s\n' "/api/v1/status p50 / p99" "$q_s_50 / $q_s_99" "$a_s_50 / $a_s_99"
printf '%-26s %14s %14s\n' "upload MB/s ($mb MB)" "$q_up" "$a_up"
printf '%-26s %14s %14s\n' "server descriptors" "-" "$held ... $held_end"
echo "slowhttptest -H -c 1000 (20 s): service available at the end: ${verdict:-?}"
kill "$api_pid" 2>/dev/null || true
wait "$api_pid" 2>/dev/null || true
api_pid=
