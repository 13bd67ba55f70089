#!/usr/bin/env bash
# helm-check.sh: the chart's checks without a cluster (make helm-check).
#
# With real Helm (v3.17.3, pinned; scripts/setup-helm.sh puts it in
# build/tools/bin): `helm lint` and `helm template` of helm/pg-pprl for three
# value sets (default: values.yaml plus the least it needs,
# helm/ci/default-required.yaml; minimal-values.yaml; production-values.yaml).
# Each render is linted (yamllint), every object is validated against the
# Kubernetes schemas (npm kubernetes-models), and the render, normalised by
# scripts/helm-normalize.py (objects sorted by kind and name, generated
# secrets and their checksums masked), is compared with its golden copy in
# helm/ci/golden.  Values without a safe default must fail with the chart's
# own message, and every program the chart and the Dockerfiles name must be
# where deploy/install.sh puts it.  UPDATE_GOLDEN=1 rewrites the golden
# copies.  Prints "helm-check: N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."
chart=helm/pg-pprl
build=build/helm
mkdir -p "$build"
# shellcheck source=lib-test.sh
. scripts/lib-test.sh

helm=build/tools/bin/helm
if [ ! -x "$helm" ]; then
	echo "helm-check: $helm is missing: run scripts/setup-helm.sh (scripts/setup-debian.sh does)"
	echo "helm-check: 0 passed, 1 failed"
	exit 1
fi
render() { "$helm" template pprl "$chart" "$@"; }
echo "helm-check: rendering with helm $("$helm" version --short)"
(cd helm/tools/validate && npm ci --no-audit --no-fund --silent >/dev/null)

for case in default minimal production; do
	case $case in
	default) args=(-f helm/ci/default-required.yaml) ;;
	*) args=(-f "$chart/$case-values.yaml") ;;
	esac
	out="$build/$case.yaml"
	lcheck "$case: helm lint" "$helm" lint --strict "$chart" "${args[@]}"
	lcheck "$case: renders" bash -c "$(declare -f render); helm=$helm chart=$chart; render ${args[*]} >$out"
	lcheck "$case: yamllint" yamllint -c helm/ci/yamllint.yaml "$out"
	lcheck "$case: every object valid for Kubernetes" bash -c "node helm/tools/validate/validate.mjs $out"
	python3 scripts/helm-normalize.py <"$out" >"$build/$case.norm.yaml"
	if [ "${UPDATE_GOLDEN:-}" = 1 ]; then
		mkdir -p helm/ci/golden
		cp "$build/$case.norm.yaml" "helm/ci/golden/$case.yaml"
	fi
	lcheck "$case: equals the golden render" diff -u "helm/ci/golden/$case.yaml" "$build/$case.norm.yaml"
done

# Required values fail with the chart's message.
must_fail() {
	local want=$1
	shift
	! render "$@" >/dev/null 2>"$build/err.log" && grep -qF "$want" "$build/err.log"
}
lcheck "no bucket: the chart's message" must_fail "objectStore.s3.bucket is required" --set secrets.existingSecret=s
lcheck "external S3 without a Secret: the chart's message" must_fail "credentials go in an existing Secret" \
	--set objectStore.s3.bucket=b
lcheck "external Redis without a URL: the chart's message" must_fail "redis.external.url is required" \
	-f helm/ci/default-required.yaml --set redis.provisioned=false
lcheck "ingress without a host: the chart's message" must_fail "api.ingress.host is required" \
	-f helm/ci/default-required.yaml --set api.ingress.enabled=true
# The render reacts to values (a guard against a renderer that ignores them).
lcheck "workers.replicaCount reaches the StatefulSet" bash -c \
	"$(declare -f render); helm=$helm chart=$chart; render -f helm/ci/default-required.yaml --set workers.replicaCount=7 | grep -q 'replicas: 7'"
# Every program and file the chart and the Dockerfiles name under /usr/local
# is where deploy/install.sh (which the images and the local stack use) puts it.
rm -rf "$build/root"
deploy/install.sh "$build/root" api worker primary
missing_paths() {
	local p bad=0
	for p in $(grep -ho '/usr/local/[A-Za-z0-9/._-]*' "$build"/*.norm.yaml deploy/docker/Dockerfile.* | sort -u); do
		[ -e "$build/root$p" ] || { echo "not installed: $p"; bad=1; }
	done
	return $bad
}
lcheck "paths in the chart and Dockerfiles are installed by deploy/install.sh" missing_paths
summary helm-check
