#!/usr/bin/env bash
# test-stack.sh: the local multi-node stack (make up / make down) as the
# README runs it: a primary, WORKERS hot-standby replicas streaming through
# slots, a worker per replica; the black-box service suite against it (runs
# computed on the replicas), then make down leaves nothing behind.
# Prints "stack: N passed, N failed"; non-zero status on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

export PPRL_STACK_DIR
PPRL_STACK_DIR=$(mktemp -d /tmp/pprl-stacktest.XXXXXX)
rmdir "$PPRL_STACK_DIR"
export PPRL_PORT=$((20000 + RANDOM % 20000))
# shellcheck disable=SC1091
. scripts/lib-test.sh
trap 'scripts/stack.sh down >/dev/null 2>&1 || true' EXIT

# Small tasks, so that every run of the suite is cut into several parts
# that the two workers share.
export PPRL_TASK_COMPARISONS=${PPRL_TASK_COMPARISONS:-100000}
WORKERS=2 scripts/stack.sh up >"$PPRL_STACK_DIR.up.log" 2>&1 || { cat "$PPRL_STACK_DIR.up.log"; exit 1; }
set -a
# shellcheck disable=SC1091
. "$PPRL_STACK_DIR/stack.env"
set +a
rm -f "$PPRL_STACK_DIR.up.log"
# psql_at [CONNINFO] -c SQL: one value (the primary when no conninfo is given).
psql_at() {
	if [ "$1" = -c ]; then psql -X -At -d postgres "$@"; else psql -X -At -d "$@"; fi
}
qcheck "two slots, both streaming" test "$(psql_at -c "SELECT count(*) FROM pg_replication_slots WHERE active")" = 2
for i in 0 1; do
	url=REPLICA_${i}_URL
	qcheck "replica $i is a hot standby" test "$(psql_at "${!url}" -c 'SELECT pg_is_in_recovery()')" = t
	qcheck "replica $i has the feedback and delay settings" test \
		"$(psql_at "${!url}" -c "SELECT current_setting('hot_standby_feedback') || current_setting('max_standby_streaming_delay')")" = "on-1"
	qcheck "replica $i refuses writes" bash -c "! psql -X -d '${!url}' -c 'CREATE TABLE x (a int)'"
done
if python3 scripts/test_service.py "$SERVER" "$(cd .. && pwd)/shared/data"; then
	qcheck "service tests against the stack" true
else
	qcheck "service tests against the stack" false
fi
if make -s e2e SERVER="$SERVER"; then
	qcheck "end-to-end suite (make e2e) against the stack" true
else
	qcheck "end-to-end suite (make e2e) against the stack" false
fi
done_0=$(grep -c '"job done"' "$PPRL_STACK_DIR/worker-0.log" || true)
done_1=$(grep -c '"job done"' "$PPRL_STACK_DIR/worker-1.log" || true)
echo "jobs done per worker: $done_0 and $done_1"
echo "tasks per worker: $(psql_at -c "SELECT string_agg(worker || ' ' || n, ', ' ORDER BY worker) FROM (SELECT worker, count(*) AS n FROM run_tasks GROUP BY 1) t")"
qcheck "both workers took jobs" test "$done_0" -gt 0 -a "$done_1" -gt 0
qcheck "runs were cut into several tasks" test "$(psql_at -c "SELECT max(parts) > 1 FROM runs")" = t
qcheck "both workers computed tasks of one run" test \
	"$(psql_at -c "SELECT count(*) FROM (SELECT run_id FROM run_tasks GROUP BY 1 HAVING count(DISTINCT worker) = 2) t")" -gt 0
qcheck "every completed run's tasks are done once" test \
	"$(psql_at -c "SELECT count(*) FROM runs r JOIN run_tasks t USING (run_id) WHERE r.state = 'completed' AND t.state <> 'done'")" = 0
qcheck "the parts' objects are removed after the merge" test \
	"$(find "$PPRL_STACK_DIR/objects" -path '*/parts/*' -type f | wc -l)" = 0
# Scaling down stops a worker, removes its replica and drops its slot;
# scaling up again makes a fresh replica streaming through a new slot.
scripts/stack.sh scale 1 >/dev/null
qcheck "scaled to 1: one slot left" test "$(psql_at -c "SELECT string_agg(slot_name, ',') FROM pg_replication_slots")" = worker_0
qcheck "scaled to 1: the replica is gone" test ! -e "$PPRL_STACK_DIR/replica-1"
scripts/stack.sh scale 2 >/dev/null
for _ in $(seq 1 50); do
	[ "$(psql_at -c "SELECT count(*) FROM pg_replication_slots WHERE active")" = 2 ] && break
	sleep 0.2
done
qcheck "scaled to 2: two slots streaming" test "$(psql_at -c "SELECT count(*) FROM pg_replication_slots WHERE active")" = 2
# The primary pod's slot janitor drops slots of replicas that are gone.
psql_at -c "SELECT pg_create_physical_replication_slot('worker_5'), pg_create_physical_replication_slot('worker_1x')" >/dev/null
PPRL_WORKER_REPLICAS=2 deploy/slot-janitor.sh --once >/dev/null
qcheck "slot janitor: slots beyond the workers dropped, others kept" test \
	"$(psql_at -c "SELECT string_agg(slot_name, ',' ORDER BY slot_name) FROM pg_replication_slots")" = worker_0,worker_1,worker_1x
psql_at -c "SELECT pg_drop_replication_slot('worker_1x')" >/dev/null
rid=$(python3 - "$SERVER" <<'PY'
import random, sys
sys.path.insert(0, "scripts")
import pprl_testlib as t
t.setup(sys.argv[1])
rng = random.Random(5)
a = t.rand_clks(300, 128, rng)
p = t.project("groups")
t.upload_json(p, 0, {"clks": t.b64(a)})
t.upload_json(p, 1, {"clks": t.b64(a[::-1])})
rid, st = t.run(p, 0.99)
s, res, _ = t.result(p, rid)
print(rid if st["state"] == "completed" and len(res["groups"]) == 300 else "bad")
PY
)
qcheck "a run after scaling completes" test "$rid" != bad
scripts/stack.sh down >/dev/null
trap - EXIT
qcheck "make down removes the state" test ! -e "$PPRL_STACK_DIR"
# (the bracket keeps pgrep from matching this check's own command line)
qcheck "and stops every process" bash -c "! pgrep -f '[/]${PPRL_STACK_DIR#/}'"
summary stack
