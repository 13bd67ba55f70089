#!/usr/bin/env bash
# test-api.sh: black-box tests of build/pprl-api and build/pprl-worker
# against a real PostgreSQL (throwaway cluster with pg_pprl and the
# migrations), a real Redis and the file object store, or with
# OBJECT_STORE=s3 a real S3 (radosgw from scripts/rgwtmp.sh).  Covers startup
# failures (missing or doubled settings, database unreachable: non-zero
# exit), the project routes and their status codes, problem JSON,
# oversized headers, redacted logs and clean shutdown here; uploads, runs
# and results through scripts/test_service.py; then a streamed upload of
# PPRL_BIG_UPLOAD_MB (default 2048; 256 on S3, whose test store lives in
# RAM) with the server's RSS measured.
# Prints "N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=lib-test.sh
. scripts/lib-test.sh

tmp=$(mktemp -d /tmp/pprl-apitest.XXXXXX)
api_pid=
worker_pid=
cleanup() {
	[ -n "$api_pid" ] && kill "$api_pid" 2>/dev/null || true
	[ -n "$worker_pid" ] && kill "$worker_pid" 2>/dev/null || true
	scripts/redistmp.sh stop "$tmp/redis"
	scripts/rgwtmp.sh stop "$tmp/rgw"
	scripts/pgtmp.sh stop "$tmp/cluster"
	[ -n "${KEEP_TMP:-}" ] || rm -rf "$tmp"
}
trap cleanup EXIT
start_cluster "$tmp"
eval "export $(scripts/redistmp.sh start "$tmp/redis")"
PGDATABASE=postgres migrations/migrate.sh >/dev/null
# The object store's settings, passed to every daemon and to pprl-store.
if [ "${OBJECT_STORE:-file}" = s3 ]; then
	scripts/rgwtmp.sh start "$tmp/rgw" >/dev/null
	set -a
	# shellcheck disable=SC1091
	. "$tmp/rgw/s3.env"
	set +a
	export OBJECT_STORE_URL=s3://$S3_BUCKET/service
	store_env=(OBJECT_STORE_URL="$OBJECT_STORE_URL" S3_ENDPOINT="$S3_ENDPOINT" S3_REGION="$S3_REGION"
		S3_ACCESS_KEY_ID="$S3_ACCESS_KEY_ID" S3_SECRET_ACCESS_KEY_FILE="$tmp/rgw/secret"
		S3_STS_ROLE_ARN="$S3_STS_ROLE_ARN")
	(umask 077 && printf '%s\n' "$S3_SECRET_ACCESS_KEY" >"$tmp/rgw/secret")
	big_default=256
else
	export OBJECT_STORE_URL=file://$tmp/objects
	store_env=(OBJECT_STORE_URL="$OBJECT_STORE_URL")
	big_default=2048
fi
echo "object store: $OBJECT_STORE_URL"
dburl="host=$PGHOST port=$PGPORT user=postgres dbname=postgres"
port=$((20000 + RANDOM % 20000))
base=http://127.0.0.1:$port

check "missing DATABASE_URL exits non-zero" \
	bash -c "! env -i OBJECT_STORE_URL=file://$tmp/o build/pprl-api 2>$tmp/e1.log"
check "names the missing setting" grep -q 'DATABASE_URL (or DATABASE_URL_FILE) must be set' "$tmp/e1.log"
echo "$dburl" >"$tmp/dburl"
check "both NAME and NAME_FILE exits non-zero" \
	bash -c "! env -i DATABASE_URL='$dburl' DATABASE_URL_FILE=$tmp/dburl OBJECT_STORE_URL=file://$tmp/o build/pprl-api 2>$tmp/e2.log"
check "says both are set" grep -q 'both DATABASE_URL and DATABASE_URL_FILE are set' "$tmp/e2.log"
start=$(date +%s)
check "unreachable database exits non-zero" \
	bash -c "! env -i DATABASE_URL='host=127.0.0.1 port=1 user=x password=hunter2 connect_timeout=1' PPRL_DB_WAIT_SECONDS=2 OBJECT_STORE_URL=file://$tmp/o build/pprl-api 2>$tmp/e3.log"
check "after a bounded wait" test $(($(date +%s) - start)) -le 10
check "password never logged" bash -c "! grep -q hunter2 $tmp/e3.log"
check "bad number setting exits non-zero" \
	bash -c "! env -i DATABASE_URL='$dburl' PPRL_API_THREADS=many OBJECT_STORE_URL=file://$tmp/o build/pprl-api 2>/dev/null"

check "unparsable REDIS_URL exits non-zero" \
	bash -c "! env -i DATABASE_URL='$dburl' REDIS_URL=http://x OBJECT_STORE_URL=file://$tmp/o build/pprl-api 2>/dev/null"

env -i PATH="$PATH" DATABASE_URL_FILE="$tmp/dburl" "${store_env[@]}" \
	REDIS_URL="$REDIS_URL" PPRL_API_LISTEN="127.0.0.1:$port" PPRL_MAX_HEADER_BYTES=8192 \
	build/pprl-api 2>"$tmp/api.log" &
api_pid=$!
env -i PATH="$PATH" DATABASE_URL="$dburl" "${store_env[@]}" \
	REDIS_URL="$REDIS_URL" build/pprl-worker 2>"$tmp/worker.log" &
worker_pid=$!
for _ in $(seq 1 50); do curl -s -o /dev/null "$base/healthz" && break; sleep 0.1; done

# status code and body of a request
req() { curl -s -o "$tmp/body" -w '%{http_code}' "$@"; }
# whether URL answers CODE within SECONDS (readiness is checked once a second)
answers_within() {
	local url=$1 code=$2 secs=$3
	for _ in $(seq 1 $((secs * 10))); do
		[ "$(req "$url")" = "$code" ] && return 0
		sleep 0.1
	done
	return 1
}
check "/healthz 200" test "$(req "$base/healthz")" = 200
check "/readyz 200" test "$(req "$base/readyz")" = 200
check "/api/v1/status 200" test "$(req "$base/api/v1/status")" = 200
check "status body" grep -q '"status":"ok","project_count":0,"rate":0' "$tmp/body"
check "/api/v1/version 200" test "$(req "$base/api/v1/version")" = 200
check "version names the service" grep -q '"entityservice"' "$tmp/body"
check "unknown path 404" test "$(req "$base/api/v1/nothing")" = 404
check "404 is problem JSON" grep -q '"title":"Not Found","status":404' "$tmp/body"
check "problem content type" bash -c "curl -s -o /dev/null -w '%{content_type}' $base/nope | grep -q application/problem+json"
check "POST /status is 405" test "$(req -X POST "$base/api/v1/status")" = 405
big=$(head -c 20000 /dev/zero | tr '\0' 'a')
code=$(curl -s -o /dev/null -w '%{http_code}' -H "X-Big: $big" "$base/healthz" || true)
echo "oversized headers: HTTP $code"
check "oversized headers 431" test "$code" = 431
{ printf 'X-Big: '; head -c 200000 /dev/zero | tr '\0' 'a'; echo; } >"$tmp/huge.hdr"
code=$(curl -s -o "$tmp/body" -w '%{http_code}' -H "@$tmp/huge.hdr" "$base/healthz" || true)
check "far larger headers 431, saying why" bash -c "test $code = 431 && grep -qi 'too big\|PPRL_MAX_HEADER_BYTES' $tmp/body"
check "still serving after that" test "$(req "$base/healthz")" = 200
check "metrics count requests" bash -c "curl -s $base/metrics | grep -q 'pprl_http_requests_total{route=\"/healthz\",status=\"200\"}'"
check "X-Request-Id echoed" bash -c "curl -si -H 'X-Request-Id: req-42' $base/healthz | grep -qi '^X-Request-Id: req-42'"
check "request logged with its id" bash -c "sleep 0.2; grep -q '\"request_id\":\"req-42\".*\"msg\":\"request\"' $tmp/api.log"
check "structured log lines" bash -c "head -1 $tmp/api.log | grep -q '^{.*\"msg\":\"configuration\"'"
# Projects: create, list, describe, delete; tokens and status codes.
json() { python3 -c "import json,sys; d=json.load(open('$tmp/body')); print($1)"; }
check "create project 201" test "$(req -X POST -H 'Content-Type: application/json' \
	-d '{"schema": {}, "result_type": "groups", "name": "n1"}' "$base/api/v1/projects")" = 201
pid=$(json "d['project_id']")
result=$(json "d['result_token']")
check "48-hex project id and tokens" bash -c "[[ '$pid' =~ ^[0-9a-f]{48}\$ && '$result' =~ ^[0-9a-f]{48}\$ ]]"
check "two update tokens" test "$(json "len(d['update_tokens'])")" = 2
check "tokens stored only hashed" test "$(PGDATABASE=postgres "$PSQL" -X -At -c "SELECT count(*) FROM projects WHERE result_token_sha256 = sha256('$result'::bytea)")" = 1
check "partitions created" test "$(PGDATABASE=postgres "$PSQL" -X -At -c "SELECT count(*) FROM pg_class WHERE relkind = 'r' AND relname LIKE 'enc_${pid}_%'")" = 2
check "list includes it (no auth)" bash -c "curl -s $base/api/v1/projects | grep -q $pid"
# The result token with its last character changed.
last=${result: -1}
wrong=${result%?}$([ "$last" = 0 ] && echo 1 || echo 0)
check "describe with token 200" test "$(req -H "Authorization: $result" "$base/api/v1/projects/$pid")" = 200
check "description fields" test "$(json "(d['result_type'], d['number_parties'], d['name'], d['uses_blocking'], d['parties_contributed'], d['error'])")" = "('groups', 2, 'n1', False, 0, False)"
check "describe without token 400" test "$(req "$base/api/v1/projects/$pid")" = 400
check "describe with wrong token 403" test "$(req -H "Authorization: $wrong" "$base/api/v1/projects/$pid")" = 403
check "403 detail as upstream" grep -q "Invalid access token or project doesn't exist" "$tmp/body"
check "unknown project 403" test "$(req -H "Authorization: $result" "$base/api/v1/projects/$(printf 'f%.0s' $(seq 48))")" = 403
check "malformed project id 403" test "$(req -H "Authorization: $result" "$base/api/v1/projects/xyz")" = 403
for body in '{"result_type": "groups"}' '{"schema": {}, "result_type": "matching"}' \
	'{"schema": {}, "result_type": "groups", "number_parties": 1}' \
	'{"schema": {}, "result_type": "permutations", "number_parties": 3}' \
	'{"schema": {}, "result_type": "groups", "number_parties": "2"}' \
	'{"schema": {}' '[]' '{"schema": {}, "result_type": "groups", "schema": {}}'; do
	check "bad body 400: $body" test "$(req -X POST -d "$body" "$base/api/v1/projects")" = 400
done
check "3-party groups 201" test "$(req -X POST -d '{"schema": {}, "result_type": "groups", "number_parties": 3}' "$base/api/v1/projects")" = 201
check "three update tokens" test "$(json "len(d['update_tokens'])")" = 3
head -c 2000000 /dev/zero | tr '\0' ' ' >"$tmp/big.json"
check "oversized body 413" test "$(req -X POST --data-binary @"$tmp/big.json" "$base/api/v1/projects")" = 413
check "PUT /projects 405" test "$(req -X PUT -d '{}' "$base/api/v1/projects")" = 405
check "delete with wrong token 403" test "$(req -X DELETE -H "Authorization: $wrong" "$base/api/v1/projects/$pid")" = 403
check "delete 204" test "$(req -X DELETE -H "Authorization: $result" "$base/api/v1/projects/$pid")" = 204
check "deleted project is 403" test "$(req -H "Authorization: $result" "$base/api/v1/projects/$pid")" = 403
check "its partitions are gone" test "$(PGDATABASE=postgres "$PSQL" -X -At -c "SELECT count(*) FROM pg_class WHERE relname LIKE 'enc_${pid}%'")" = 0

# Every path of the project's OpenAPI spec is routed (never a 404 here).
for path in $(grep -E '^  /' docs/openapi.yaml | tr -d ' :'); do
	p=${path//\{project_id\}/$(printf 'a%.0s' $(seq 48))}
	p=${p//\{run_id\}/$(printf 'b%.0s' $(seq 48))}
	check "spec path $path is routed" bash -c "test \$(curl -s -o /dev/null -w '%{http_code}' $base/api/v1$p) != 404"
done
check "spec names every route" test "$(grep -cE '^  /' docs/openapi.yaml)" = 11

# Uploads, runs and results, every route and status code.
if python3 scripts/test_service.py "$base" "$(cd .. && pwd)/shared/data"; then
	check "service tests" true
else
	check "service tests" false
fi
if [ "${OBJECT_STORE:-file}" = s3 ]; then
	# External uploads and result addresses: temporary credentials from STS.
	if python3 scripts/test_external.py "$base" "$(cd .. && pwd)/shared/data"; then
		check "external upload tests" true
	else
		check "external upload tests" false
	fi
	scripts/rgwtmp.sh pause "$tmp/rgw"
	check "/readyz 503 when the object store is down (within 8 s)" answers_within "$base/readyz" 503 8
	check "/readyz names the object store" grep -q 'object store unreachable' "$tmp/body"
	scripts/rgwtmp.sh resume "$tmp/rgw"
	check "/readyz 200 once it is back" answers_within "$base/readyz" 200 10
	check "an s3:// store without keys exits non-zero" bash -c "! env -i DATABASE_URL='$dburl' REDIS_URL=$REDIS_URL OBJECT_STORE_URL=s3://pprl build/pprl-api 2>$tmp/e5.log"
	check "and says which keys" grep -q 'S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY must be set' "$tmp/e5.log"
fi
scripts/redistmp.sh stop "$tmp/redis"
check "/readyz 503 when Redis is down (within 5 s)" answers_within "$base/readyz" 503 5
check "/readyz names Redis" grep -q 'Redis unreachable' "$tmp/body"

# A big upload streamed through: the server's memory must stay flat.
mb=${PPRL_BIG_UPLOAD_MB:-$big_default}
scripts/redistmp.sh start "$tmp/redis" "$(cat "$tmp/redis/port")" >/dev/null
check "/readyz 200 once Redis is back (within 5 s)" answers_within "$base/readyz" 200 5
if python3 scripts/test_big_upload.py "$base" "$mb" "$api_pid"; then
	check "big upload with flat memory" true
else
	check "big upload with flat memory" false
fi

kill -TERM "$api_pid" "$worker_pid"
check "SIGTERM stops the API cleanly" wait "$api_pid"
check "SIGTERM stops the worker cleanly" wait "$worker_pid"
api_pid=
worker_pid=
check "stop is logged" grep -q '"msg":"stopping"' "$tmp/api.log"
check "no token in the logs" bash -c "! grep -q '$result' $tmp/api.log $tmp/worker.log"
if [ "${OBJECT_STORE:-file}" = s3 ]; then
	check "no S3 secret in the logs" bash -c "! grep -qF '$S3_SECRET_ACCESS_KEY' $tmp/api.log $tmp/worker.log"
	check "the secret is logged redacted" grep -q '"S3_SECRET_ACCESS_KEY":"<redacted' "$tmp/api.log"
fi
check "worker stop is logged" grep -q '"msg":"stopping"' "$tmp/worker.log"

summary "api (${OBJECT_STORE:-file} store)"
