#!/usr/bin/env bash
# peers.sh: print the path of the peers' Python (build/peers/bin/python, made by
# scripts/setup-peers.sh, with clkhash, anonlink and blocklib pinned), or fail
# with a message saying to run scripts/setup-peers.sh when it is missing or
# older than scripts/peers-requirements.txt.
#
#   "$(scripts/peers.sh)" scripts/test_encode_diff.py build/pprl
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
VENV=$ROOT/build/peers
if [ ! -x "$VENV/bin/python" ] || [ ! -f "$VENV/.requirements.sha256" ]; then
	echo "peers: $VENV is missing: run scripts/setup-peers.sh" >&2
	exit 1
fi
if [ "$(cat "$VENV/.requirements.sha256")" != "$(sha256sum "$ROOT/scripts/peers-requirements.txt" | cut -d' ' -f1)" ]; then
	echo "peers: $VENV is older than scripts/peers-requirements.txt: run scripts/setup-peers.sh" >&2
	exit 1
fi
echo "$VENV/bin/python"
