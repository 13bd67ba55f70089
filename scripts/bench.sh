#!/usr/bin/env bash
# bench.sh: comparisons per second of 1024-bit CLKs, per kernel path, side
# by side with baselines measured in the same run (`make bench`).
#
#   1. build/kernel_bench: the C kernels alone, one core, tiled and pairwise,
#      every path this CPU supports against the portable path and the
#      1000M comparisons/s goal for AVX-512.
#   2. build/solver_bench: radix ordering and greedy solving of random
#      candidates (2 and 3 datasets), pairs per second.
#   3. pg_pprl/bench/sql_bench.sql in a throwaway PostgreSQL cluster: the %
#      operator and dice() per pprl.simd path against the plain-SQL
#      equivalent on bit(1024), one backend, no parallel workers.
#   4. pg_pprl/bench/match_bench.sql in the same cluster: pprl_greedy_groups
#      on 100,000 x 100,000 CLKs with parallel workers and on one core,
#      beside plain SQL (measured on a sample, extrapolated).
#   7. scripts/bench-index.sh: the pprl index against sequential scans, one
#      query CLK against 1,000,000 stored CLKs (threshold 0.8 and 0.95,
#      top-10), build time serial and parallel, pruning by the popcount bound.
#   8. core/bench/prune_stats.c: how much exact bounds beyond the popcount
#      bound (segment popcounts, prefixes, union signatures) would prune on
#      real CLKs (FEBRL4 A x B), the measurement behind the index's design.
#   6. scripts/bench-encode.sh: CLK encoding on 100,000 FEBRL-like records,
#      clkhash 0.18.3 (the peers' venv, set up first by scripts/setup-peers.sh)
#      and `pprl encode` on 1 and 2 threads, in the same run, same CLKs checked.
#   9. scripts/bench-http.sh: the REST server's requests/s and latency on
#      /healthz and /api/v1/status, and upload MB/s, quiet and under 1,000
#      slowloris connections, side by side.
#   5. scripts/bench-scale.sh: the service's scale-out, one linkage through
#      the REST API on 1 and on 2 replica workers (one core each), with the
#      work balance across workers.
#
# Either part fails (non-zero exit) when kernel paths disagree with each
# other or with the baseline; being slower than a goal is only reported.
# Environment: BENCH_SECONDS (per figure, default 1), BENCH_NA/BENCH_NB
# (SQL table sizes, default 2000 each), BENCH_MATCH_N (default 100000), BENCH_SCALE_N
# (scale-out, default 60000).  Works as root (the cluster then
# runs as an unprivileged OS user, see pgtmp.sh) and as an ordinary user.
set -euo pipefail
cd "$(dirname "$0")/.."

PG_CONFIG=${PG_CONFIG:-$(ls /usr/lib/postgresql/15/bin/pg_config 2>/dev/null || echo pg_config)}
export PG_CONFIG
CC=${CC:-cc}
SECONDS_PER_FIGURE=${BENCH_SECONDS:-1.0}

echo "== kernels (build/kernel_bench) =="
mkdir -p build
make -s -C core bench-bin
build/kernel_bench "$SECONDS_PER_FIGURE"

echo
echo "== candidate ordering and greedy solving (build/solver_bench) =="
build/solver_bench

echo
echo "== SQL (pg_pprl/bench/sql_bench.sql, throwaway cluster) =="
tmp=$(mktemp -d /tmp/pprl-bench.XXXXXX)
trap 'scripts/pgtmp.sh stop "$tmp"' EXIT
pgenv=$(scripts/pgtmp.sh start-staged "$tmp")
eval "export $pgenv"
"$("$PG_CONFIG" --bindir)/psql" -X -q -v ON_ERROR_STOP=1 -d postgres \
	-v na="${BENCH_NA:-2000}" -v nb="${BENCH_NB:-2000}" \
	-v min_seconds="$SECONDS_PER_FIGURE" \
	-f pg_pprl/bench/sql_bench.sql

echo
echo "== linking ${BENCH_MATCH_N:-100000} x ${BENCH_MATCH_N:-100000} CLKs end to end (pg_pprl/bench/match_bench.sql) =="
"$("$PG_CONFIG" --bindir)/psql" -X -q -v ON_ERROR_STOP=1 -d postgres \
	-v n="${BENCH_MATCH_N:-100000}" -f pg_pprl/bench/match_bench.sql

echo
echo "== scale-out: one run on 1 and on 2 replica workers (scripts/bench-scale.sh) =="
scripts/bench-scale.sh

echo
echo "== CLK encoding (scripts/bench-encode.sh) =="
scripts/setup-peers.sh
scripts/bench-encode.sh

echo
echo "== the pprl index: 1,000,000 stored CLKs, index against sequential scan (scripts/bench-index.sh) =="
scripts/bench-index.sh

echo
echo "== pruning bounds on real CLKs, FEBRL4 A x B (core/bench/prune_stats.c) =="
if [ -f "${SHARED_DATA:-../shared/data}/febrl4/clkhash/clks_a.json" ]; then
	build/prune_stats "${SHARED_DATA:-../shared/data}/febrl4/clkhash/clks_a.json" \
		"${SHARED_DATA:-../shared/data}/febrl4/clkhash/clks_b.json"
else
	echo "prune_stats: ../shared/data absent, skipped"
fi

echo
echo "== the REST server under load and under 1,000 slow connections (scripts/bench-http.sh) =="
scripts/bench-http.sh
