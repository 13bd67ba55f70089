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

# The schema with pg_pprl: a project's party tables are linkable datasets.
pid=$(printf 'a%.0s' $(seq 48))
out=$(q "
	INSERT INTO projects (project_id, result_token_sha256, schema, result_type)
	VALUES ('$pid', sha256('result'), '{}', 'groups');
	SELECT service_add_party_tables('$pid', 2);
	INSERT INTO enc_${pid}_0 SELECT i, decode(repeat(lpad(to_hex(i % 15 + 1), 2, '0'), 64), 'hex')::clk, '{1}'
	  FROM generate_series(0, 99) i;
	INSERT INTO enc_${pid}_1 SELECT * FROM enc_${pid}_0;
	SELECT count(*) FROM pprl_greedy_groups(ARRAY['enc_${pid}_0', 'enc_${pid}_1']::regclass[], 1.0);")
check "party tables link with pprl_greedy_groups" test "$(echo "$out" | tail -1)" = 200
check "party tables stand alone" test "$(q "SELECT count(*) FROM pg_inherits WHERE inhrelid = 'enc_${pid}_0'::regclass")" = 0
check "duplicate row_id rejected" bash -c "! \"$PSQL\" -X -At -v ON_ERROR_STOP=1 -c \"INSERT INTO enc_${pid}_0 VALUES (1, 'AQ==', NULL)\" >/dev/null 2>&1"
check "bad project id rejected" bash -c "! \"$PSQL\" -X -At -v ON_ERROR_STOP=1 -c \"SELECT service_add_party_tables('x; DROP TABLE projects', 2)\" >/dev/null 2>&1"
q "SELECT service_drop_party_tables('$pid'); DELETE FROM projects WHERE project_id = '$pid';" >/dev/null
check "drop removes the party tables" test "$(q "SELECT count(*) FROM pg_class WHERE relname LIKE 'enc_$pid%'")" = 0
check "plain tokens are not stored" test "$(q "SELECT count(*) FROM information_schema.columns WHERE column_name LIKE '%token' AND table_schema = 'public'")" = 0

# An upgrade across 005: partitions (as 001-004 made them) become tables of
# their own with every row; a claim left 'in_progress' is released.
q 'CREATE DATABASE upgrade' >/dev/null
mkdir "$tmp/old"
cp migrations/00[1-4]_*.sql "$tmp/old/"
PGDATABASE=upgrade migrations/migrate.sh "$tmp/old" >/dev/null
PGDATABASE=upgrade q "
	INSERT INTO projects (project_id, result_token_sha256, schema, result_type)
	VALUES ('$pid', sha256('result'), '{}', 'groups');
	INSERT INTO dataproviders (project_id, dp_index, update_token_sha256, uploaded)
	VALUES ('$pid', 0, sha256('t0'), 'done'), ('$pid', 1, sha256('t1'), 'in_progress');
	SELECT service_add_project_partitions('$pid', 2);
	INSERT INTO encodings SELECT '$pid', d, i, decode(repeat(lpad(to_hex(i % 15 + 1), 2, '0'), 64), 'hex')::clk, '{1}'
	  FROM generate_series(0, 1) d, generate_series(0, 99) i;" >/dev/null
check "upgrade applies 005" bash -c "PGDATABASE=upgrade migrations/migrate.sh | grep -q 005_"
check "upgrade keeps every row" test "$(PGDATABASE=upgrade q "SELECT (SELECT count(*) FROM enc_${pid}_0) + (SELECT count(*) FROM enc_${pid}_1)")" = 200
check "upgrade: no partitions left" test "$(PGDATABASE=upgrade q "SELECT count(*) FROM pg_class WHERE relname = 'encodings' OR relispartition")" = 0
check "upgrade: columns are (row_id, clk, blocks)" test "$(PGDATABASE=upgrade q "SELECT string_agg(attname, ',' ORDER BY attnum) FROM pg_attribute WHERE attrelid = 'enc_${pid}_1'::regclass AND attnum > 0 AND NOT attisdropped")" = "row_id,clk,blocks"
check "upgrade: the tables still link" test "$(PGDATABASE=upgrade q "SELECT count(*) FROM pprl_greedy_groups(ARRAY['enc_${pid}_0', 'enc_${pid}_1']::regclass[], 1.0)")" = 200
check "upgrade: a stale claim is released" test "$(PGDATABASE=upgrade q "SELECT uploaded FROM dataproviders WHERE dp_index = 1")" = not_started

summary migrations
