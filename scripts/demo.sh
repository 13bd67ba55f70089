#!/usr/bin/env bash
# demo.sh: the main job on the embedded default (one machine): start a
# throwaway PostgreSQL with pg_pprl, link two parties' CLKs at Dice 0.8 and
# print precision and recall against the truth.  Uses the FEBRL4 CLKs in
# ../shared/data when present, otherwise generates data with planted matches.
set -euo pipefail
cd "$(dirname "$0")/.."

PG_CONFIG=${PG_CONFIG:-$(ls /usr/lib/postgresql/15/bin/pg_config 2>/dev/null || echo pg_config)}
export PG_CONFIG
DATA=${SHARED_DATA:-../shared/data}/febrl4-clks

tmp=$(mktemp -d /tmp/pprl-demo.XXXXXX)
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
