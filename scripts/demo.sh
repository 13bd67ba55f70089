#!/usr/bin/env bash
# demo.sh: the main job on the embedded default (one machine): start the
# whole service on loopback (PostgreSQL with pg_pprl and two hot-standby
# replicas, Redis, the file object store, the API and a worker per replica),
# have two parties encode their records (pprl encode, clkhash-compatible) and
# upload the CLKs through the REST API, link them at Dice 0.8, and print
# precision and recall against the truth; then stop it all.  Uses FEBRL4's
# records in ../shared/data when present (else its precomputed CLKs, else
# generated data with planted matches).  `demo.sh sql`
# does the same link straight in SQL on a throwaway cluster.
set -euo pipefail
cd "$(dirname "$0")/.."

PG_CONFIG=${PG_CONFIG:-$(ls /usr/lib/postgresql/15/bin/pg_config 2>/dev/null || echo pg_config)}
export PG_CONFIG
DATA=${SHARED_DATA:-../shared/data}/febrl4-clks

tmp=$(mktemp -d /tmp/pprl-demo.XXXXXX)
chmod 755 "$tmp"
if [ "${1:-}" = sql ]; then
	trap 'scripts/pgtmp.sh stop "$tmp"' EXIT
	pgenv=$(scripts/pgtmp.sh start-staged "$tmp")
	eval "export $pgenv"
	psql=("$("$PG_CONFIG" --bindir)/psql" -X -d postgres)
	"${psql[@]}" -qc "CREATE EXTENSION pg_pprl"
	if [ -r "$DATA/clks_a.json" ]; then
		"${psql[@]}" -v synthetic=false -v datadir="$(cd "$DATA" && pwd)" -f scripts/demo.sql
	else
		"${psql[@]}" -v synthetic=true -f scripts/demo.sql
	fi
	exit 0
fi

export PPRL_STACK_DIR=$tmp/stack PPRL_PORT=${PPRL_PORT:-$((20000 + RANDOM % 20000))}
trap 'scripts/stack.sh down >/dev/null; rm -rf "$tmp"' EXIT
server=$(scripts/stack.sh up | tail -1)
echo "demo: service up, $server"
python3 scripts/demo_api.py "${server#SERVER=}" "${SHARED_DATA:-../shared/data}" build/pprl
