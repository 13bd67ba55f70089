#!/usr/bin/env bash
# test-adversarial.sh: the API under hostile clients (make check-adversarial):
# a throwaway PostgreSQL with the migrations, a Redis and the file object
# store; scripts/test_adversarial.py starts the API and the workers itself
# (it kills and restarts them) and attacks it on loopback, from several
# 127.0.0.x source addresses.  ONLY="case ..." runs some cases only.
# Prints "adversarial: N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=lib-test.sh
. scripts/lib-test.sh

tmp=$(mktemp -d /tmp/pprl-adversarial.XXXXXX)
cleanup() {
	pkill -f "$tmp" 2>/dev/null || true
	scripts/redistmp.sh stop "$tmp/redis"
	scripts/pgtmp.sh stop "$tmp/cluster"
	[ -n "${KEEP_TMP:-}" ] || rm -rf "$tmp"
}
trap cleanup EXIT
start_cluster "$tmp"
eval "export $(scripts/redistmp.sh start "$tmp/redis")"
export PGDATABASE=postgres
migrations/migrate.sh >/dev/null
export DATABASE_URL="host=$PGHOST port=$PGPORT user=$PGUSER dbname=postgres"
export OBJECT_STORE_URL="file://$tmp/objects" ADV_TMP="$tmp" ADV_PORT=$((20000 + RANDOM % 20000))
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
status=0
# shellcheck disable=SC2086
python3 scripts/test_adversarial.py ${ONLY:-} || status=$?
if [ "$status" -ne 0 ]; then
	echo "== api.log (last lines)"; tail -20 "$tmp/api.log"
	for f in "$tmp"/worker-*.log; do echo "== $f"; tail -10 "$f"; done
fi
exit "$status"
