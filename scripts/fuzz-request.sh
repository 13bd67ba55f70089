#!/usr/bin/env bash
# fuzz-request.sh: libFuzzer over the whole request path (build/fuzz_request,
# api/fuzz/fuzz_request.c) against a throwaway PostgreSQL with the
# migrations, a Redis and the file object store, for FUZZ_SECONDS (default
# 20).  Seeds: a valid request of every route.  A finding leaves its input
# in build/ (crash-*, timeout-*) to replay with build/fuzz_request FILE.
# Prints "fuzz_request: N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=lib-test.sh
. scripts/lib-test.sh

tmp=$(mktemp -d /tmp/pprl-fuzzreq.XXXXXX)
trap 'scripts/redistmp.sh stop "$tmp/redis"; scripts/pgtmp.sh stop "$tmp/cluster"; rm -rf "$tmp"' EXIT
start_cluster "$tmp"
eval "export $(scripts/redistmp.sh start "$tmp/redis")"
export PGDATABASE=postgres
migrations/migrate.sh >/dev/null
export DATABASE_URL="host=$PGHOST port=$PGPORT user=$PGUSER dbname=postgres"
export OBJECT_STORE_URL="file://$tmp/objects"
# Seeds: [method][route][token][framing] header bytes 0xFF body (see fuzz_request.c).
corpus=$tmp/corpus
mkdir -p "$corpus"
seed() { printf "$1" >"$corpus/$2"; }
seed '\x00\x00\x00\x00\xff' healthz
seed '\x00\x03\x00\x00\xff' status
seed '\x01\x05\x10\x00\xff{"schema": {}, "result_type": "groups", "number_parties": 2}' project
seed '\x00\x06\x01\x00\xff' describe
seed '\x01\x07\x12\x00\xff{"clks": ["AQI=", "AwQ="]}' upload_clks
seed '\x01\x07\x13\x01\xff{"clknblocks": [["AQI=", "1"]]}' upload_chunked
seed '\x01\x07\x12\x00\xff{"encodings": ["AQI="], "blocks": {"0": ["x"]}}' upload_enc
seed '\x01\x08\x22\x00\xff\x01\x02\x03\x04' upload_bin
seed '\x01\x0a\x11\x00\xff{"threshold": 0.8}' run
seed '\x00\x0c\x01\x00aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\xff' run_status
seed '\x03\x06\x01\x00\xff' delete
seed '\x01\x05\x10\x03Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\xff{}' smuggle
seed '\x00\x80\x00\x02/api/v1/projects/%%2e%%2e/x?y=1\xff' rawpath
status=0
build/fuzz_request -max_total_time="${FUZZ_SECONDS:-20}" -max_len=65536 -timeout=30 -rss_limit_mb=4096 \
	-artifact_prefix=build/ -print_final_stats=1 "$corpus" >"$tmp/fuzz.log" 2>&1 || status=$?
grep -E 'stat::number_of_executed_units|fuzz_request:' "$tmp/fuzz.log" || true
if [ "$status" -ne 0 ]; then
	grep -v '"msg":"request"' "$tmp/fuzz.log" | tail -40
	echo "fuzz_request: 0 passed, 1 failed"
	exit 1
fi
echo "fuzz_request: 1 passed, 0 failed"
