#!/usr/bin/env bash
# test-faults.sh: fault tests on the local multi-node stack (make check-faults):
# two workers on replicas, the object store on radosgw (so it can go down),
# runs cut into many small tasks; scripts/test_faults.py breaks things in
# the middle of runs.  Prints "faults: N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."

export PPRL_STACK_DIR
PPRL_STACK_DIR=$(mktemp -d /tmp/pprl-faulttest.XXXXXX)
rmdir "$PPRL_STACK_DIR"
export PPRL_PORT=$((20000 + RANDOM % 20000))
# many tasks per run; a dead worker's job reclaimed after 5 s; stalled runs
# queued again after 8 s; a run given up after 8 failed jobs in a row; a replica waited for 60 s
export PPRL_TASK_COMPARISONS=200000 PPRL_CLAIM_IDLE_SECONDS=5 PPRL_STALL_SECONDS=8 \
	PPRL_MAX_ATTEMPTS=8 PPRL_REPLAY_WAIT_SECONDS=60 S3_ATTEMPTS=4
trap 'scripts/stack.sh down >/dev/null 2>&1 || true' EXIT
OBJECT_STORE=s3 WORKERS=2 scripts/stack.sh up >"$PPRL_STACK_DIR.up.log" 2>&1 ||
	{ cat "$PPRL_STACK_DIR.up.log"; exit 1; }
rm -f "$PPRL_STACK_DIR.up.log"
set -a
# shellcheck disable=SC1091
. "$PPRL_STACK_DIR/stack.env"
set +a
status=0
python3 scripts/test_faults.py "$SERVER" "$(cd .. && pwd)/shared/data" || status=$?
if [ "$status" -ne 0 ]; then
	for f in "$PPRL_STACK_DIR"/worker-*.log; do echo "== $f"; tail -15 "$f"; done
fi
exit "$status"
