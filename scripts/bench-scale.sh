#!/usr/bin/env bash
# bench-scale.sh: the scale-out part of make bench: a local stack with file
# object store, then scripts/bench_scale.py runs one linkage on 1 and on 2
# replica workers.  Each worker is held to one core (no parallel workers in
# its queries, PGOPTIONS), as a one-CPU worker pod would be, so the figure
# shows what a second worker adds.  BENCH_SCALE_N (default 60000) per party.
set -euo pipefail
cd "$(dirname "$0")/.."
export PPRL_STACK_DIR
PPRL_STACK_DIR=$(mktemp -d /tmp/pprl-benchscale.XXXXXX)
rmdir "$PPRL_STACK_DIR"
export PPRL_PORT=$((20000 + RANDOM % 20000))
export PGOPTIONS="-c max_parallel_workers_per_gather=0"
trap 'scripts/stack.sh down >/dev/null 2>&1 || true' EXIT
WORKERS=2 scripts/stack.sh up >/dev/null
set -a
# shellcheck disable=SC1091
. "$PPRL_STACK_DIR/stack.env"
set +a
unset PGOPTIONS
python3 scripts/bench_scale.py "$SERVER" "${BENCH_SCALE_N:-60000}"
