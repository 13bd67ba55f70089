#!/usr/bin/env bash
# test-s3.sh: the S3 object store against a real S3 (radosgw on loopback,
# scripts/rgwtmp.sh): the store's own cases (build/store_test s3: path and
# virtual-host addressing, prefixes, multipart, aborts, a wrong secret,
# the gateway restarting mid-put and dying mid-read), then the whole
# black-box API suite with the service on S3 (OBJECT_STORE=s3).
# Prints "N passed, N failed" lines; non-zero status on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

tmp=$(mktemp -d /tmp/pprl-s3test.XXXXXX)
cleanup() {
	scripts/rgwtmp.sh stop "$tmp/rgw"
	rm -rf "$tmp"
}
trap cleanup EXIT
start=$(date +%s)
scripts/rgwtmp.sh start "$tmp/rgw" >/dev/null
echo "radosgw up in $(($(date +%s) - start)) s"
set -a
# shellcheck disable=SC1091
. "$tmp/rgw/s3.env"
set +a
# virtual-host addressing: <bucket>.localhost resolves to loopback in libcurl
export S3_VIRTUAL_ENDPOINT=http://localhost:${S3_ENDPOINT##*:}
(cd api && ../build/store_test s3 "$tmp/rgw") | sed 's/^/store_test s3: /'
cleanup
trap - EXIT
OBJECT_STORE=s3 scripts/test-api.sh
