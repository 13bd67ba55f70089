#!/usr/bin/env bash
# bench-index.sh: the pprl index against sequential scans (part of make bench).
#
# 1,000,000 stored CLKs: FEBRL4's dataset A as clkhash encoded it (5,000,
# the known answers) plus distinct FEBRL-like records made from FEBRL4's
# columns (as bench-encode.sh does) and encoded by `pprl encode` with the
# same schema and secret, so popcounts are those of real CLKs.  Queries are
# dataset B's CLKs, each with its true match among the stored ones.  In one
# throwaway cluster, one backend (no parallel query), warm cache:
#   - index build time, serial and with one parallel worker;
#   - WHERE clk % q at thresholds 0.8 and 0.95: ms per query with the index
#     and by a sequential scan, and rows found (must be equal);
#   - ORDER BY clk <-> q LIMIT 10: the same, distances compared;
#   - the threshold query's time beside RDKit's cartridge, which publishes
#     177.6 ms for a threshold count over 1.7M 512-bit fingerprints (2012
#     hardware);
#   - the fraction of entries the popcount bound lets a query skip at 0.7 to
#     0.95 (pprl_index_stats, all 5000 dataset B queries);
#   - which plan the planner picks on its own for each query.
# Exits non-zero when an index scan and a sequential scan disagree.
# Environment: BENCH_INDEX_N (stored CLKs, default 1000000), BENCH_INDEX_Q
# (queries per figure, default 20).  Needs ../shared/data.
set -euo pipefail
cd "$(dirname "$0")/.."
data=${SHARED_DATA:-../shared/data}/febrl4
if [ ! -f "$data/dataset4a.csv" ]; then
	echo "bench-index: $data absent, skipped"
	exit 0
fi
n=${BENCH_INDEX_N:-1000000}
nq=${BENCH_INDEX_Q:-20}
PG_CONFIG=${PG_CONFIG:-$(ls /usr/lib/postgresql/15/bin/pg_config 2>/dev/null || echo pg_config)}
export PG_CONFIG
psql="$("$PG_CONFIG" --bindir)/psql"

tmp=$(mktemp -d /tmp/pprl-benchidx.XXXXXX)
chmod 755 "$tmp"
trap 'scripts/pgtmp.sh stop "$tmp/c" >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT
make -s -C cli >/dev/null

# FEBRL-like records, then their CLKs (binary, 128 bytes each).
python3 scripts/febrl_like.py "$data" "$((n - 5000))" "$tmp/records.csv" 8 syn
build/pprl encode --schema "$data/febrl_schema_v3.json" --secret-file "$data/clkhash/secret.txt" \
	--format binary --threads 2 "$tmp/records.csv" >"$tmp/clks.bin" 2>/dev/null
# COPY text: row_id, base64 CLK; A's known CLKs first, then the synthetic ones.
python3 - "$data/clkhash" "$tmp/clks.bin" "$tmp/stored.tsv" "$tmp/queries.tsv" <<'PY'
import base64, json, sys
ck, binf, stored, queries = sys.argv[1:]
def clks(name):
    return json.load(open(ck + "/" + name))["clks"]
a, b = clks("clks_a.json"), clks("clks_b.json")
with open(stored, "w") as f:
    for i, c in enumerate(a):
        f.write("%d\t%s\n" % (i, c))
    data = open(binf, "rb").read()
    for j in range(len(data) // 128):
        f.write("%d\t%s\n" % (len(a) + j, base64.b64encode(data[j * 128:(j + 1) * 128]).decode()))
with open(queries, "w") as f:
    for i, c in enumerate(b):
        f.write("%d\t%s\n" % (i, c))
PY

PPRL_PGTMP_CONF="shared_buffers = '1GB'\nmax_parallel_workers_per_gather = 0\nmax_parallel_maintenance_workers = 1\nmaintenance_work_mem = '256MB'\nwork_mem = '64MB'\njit = off" \
	scripts/pgtmp.sh start-staged "$tmp/c" >"$tmp/env"
eval "export $(cat "$tmp/env")"
chmod 644 "$tmp/stored.tsv" "$tmp/queries.tsv"
"$psql" -X -q -v ON_ERROR_STOP=1 -d postgres \
	-v stored="$tmp/stored.tsv" -v queries="$tmp/queries.tsv" -v nq="$nq" \
	-f pg_pprl/bench/index_bench.sql
