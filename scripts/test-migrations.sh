#!/usr/bin/env bash
# test-migrations.sh: migrations/migrate.sh on a throwaway cluster.
# Checks: a fresh apply; a second run changes nothing; three runners at
# once apply each file exactly once; a changed applied file is refused; the
# schema works with pg_pprl (partitions per project and party are linkable
# datasets; dropping a project drops them).  Prints "N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=lib-test.sh
. scripts/lib-test.sh

# Run SQL, print the unaligned result.
q() { "$PSQL" -X -At -v ON_ERROR_STOP=1 -c "$1"; }

tmp=$(mktemp -d /tmp/pprl-migrate.XXXXXX)
trap 'scripts/pgtmp.sh stop "$tmp/cluster"; rm -rf "$tmp"' EXIT
start_cluster "$tmp"
export PGDATABASE=postgres
nfiles=$(ls migrations/[0-9][0-9][0-9]_*.sql | wc -l)

check "fresh apply" migrations/migrate.sh >/dev/null
check "all recorded" test "$(q 'SELECT count(*) FROM schema_migrations')" = "$nfiles"
check "second run applies nothing" test -z "$(migrations/migrate.sh)"
check "still recorded once" test "$(q 'SELECT count(*) FROM schema_migrations')" = "$nfiles"

# Three runners at once on a fresh database: each file applied exactly once.
q 'CREATE DATABASE concurrent' >/dev/null
for i in 1 2 3; do PGDATABASE=concurrent migrations/migrate.sh >"$tmp/run$i.log" 2>&1 & done
wait
check "concurrent runners succeed" test "$(cat "$tmp"/run*.log | grep -c ERROR || true)" = 0
check "concurrent: each file applied once" \
	test "$(cat "$tmp"/run*.log | grep -c '^applying' || true)" = "$nfiles"
check "concurrent: recorded once" \
	test "$(PGDATABASE=concurrent q 'SELECT count(*) FROM schema_migrations')" = "$nfiles"

# An applied file that changed is refused.
mkdir "$tmp/changed"
cp migrations/[0-9][0-9][0-9]_*.sql "$tmp/changed/"
echo "-- edited" >>"$tmp/changed/001_service_schema.sql"
check "changed file refused" bash -c "! migrations/migrate.sh '$tmp/changed' >/dev/null 2>&1"
check "refusal names the file" bash -c "migrations/migrate.sh '$tmp/changed' 2>&1 | grep -q 'migration 001_service_schema was changed'"

# The schema with pg_pprl: a project's party partitions are linkable datasets.
pid=$(printf 'a%.0s' $(seq 48))
out=$(q "
	INSERT INTO projects (project_id, result_token_sha256, schema, result_type)
	VALUES ('$pid', sha256('result'), '{}', 'groups');
	SELECT service_add_project_partitions('$pid', 2);
	INSERT INTO encodings SELECT '$pid', d, i, decode(repeat(lpad(to_hex(i % 15 + 1), 2, '0'), 64), 'hex')::clk, '{1}'
	  FROM generate_series(0, 1) d, generate_series(0, 99) i;
	SELECT count(*) FROM pprl_greedy_groups(ARRAY['enc_${pid}_0', 'enc_${pid}_1']::regclass[], 1.0);")
check "partitions link with pprl_greedy_groups" test "$(echo "$out" | tail -1)" = 200
check "wrong party rejected" bash -c "! \"$PSQL\" -X -At -v ON_ERROR_STOP=1 -c \"INSERT INTO encodings VALUES ('$pid', 5, 1, 'AQ==', NULL)\" >/dev/null 2>&1"
check "duplicate row_id rejected" bash -c "! \"$PSQL\" -X -At -v ON_ERROR_STOP=1 -c \"INSERT INTO encodings VALUES ('$pid', 0, 1, 'AQ==', NULL)\" >/dev/null 2>&1"
check "bad project id rejected" bash -c "! \"$PSQL\" -X -At -v ON_ERROR_STOP=1 -c \"SELECT service_add_project_partitions('x; DROP TABLE projects', 2)\" >/dev/null 2>&1"
q "SELECT service_drop_project_partitions('$pid'); DELETE FROM projects WHERE project_id = '$pid';" >/dev/null
check "drop removes partitions" test "$(q "SELECT count(*) FROM pg_class WHERE relname LIKE 'enc_$pid%'")" = 0
check "plain tokens are not stored" test "$(q "SELECT count(*) FROM information_schema.columns WHERE column_name LIKE '%token' AND table_schema = 'public'")" = 0

summary migrations
