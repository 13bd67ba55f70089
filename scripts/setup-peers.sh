#!/usr/bin/env bash
# setup-peers.sh: the peers pg_pprl is tested against (clkhash 0.18.3,
# anonlink 0.15.3, blocklib), pinned in scripts/peers-requirements.txt, in a
# project-local virtual environment:
#
#     build/peers/bin/python        the peers' Python (scripts/peers.sh prints it)
#
# Never installs anything system-wide.  Works as root (CI) and as an ordinary
# user; idempotent, and quick when already done: pip runs only when the venv
# is new or the requirements file changed (its sha256 is kept in
# build/peers/.requirements.sha256).  Needs python3 with the venv module
# (Debian: python3-venv, installed by scripts/setup-debian.sh) and PyPI.
#
#   scripts/setup-peers.sh            create or update build/peers
#   PYTHON=python3.11 scripts/...     use another interpreter for a new venv
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
VENV=$ROOT/build/peers
REQ=$ROOT/scripts/peers-requirements.txt
STAMP=$VENV/.requirements.sha256
# Debian's interpreter first (the one python3-venv is for), not whatever
# python3 comes first on PATH.
PYTHON=${PYTHON:-$( [ -x /usr/bin/python3 ] && echo /usr/bin/python3 || command -v python3 || true)}

want=$(sha256sum "$REQ" | cut -d' ' -f1)
if [ -x "$VENV/bin/python" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ] &&
	"$VENV/bin/python" -c 'import sys' 2>/dev/null; then
	echo "setup-peers: $VENV up to date"
	exit 0
fi

if [ -z "$PYTHON" ]; then
	echo "setup-peers: no python3 found (scripts/setup-debian.sh installs it)" >&2
	exit 1
fi
# A venv whose interpreter is gone or broken (moved, Python upgraded) is made anew.
if [ -e "$VENV" ] && ! "$VENV/bin/python" -c 'import sys' 2>/dev/null; then
	rm -rf "$VENV"
fi
if [ ! -x "$VENV/bin/python" ]; then
	mkdir -p "$ROOT/build"
	if ! "$PYTHON" -m venv "$VENV"; then
		rm -rf "$VENV"
		echo "setup-peers: '$PYTHON -m venv' failed; on Debian it needs the python3-venv package" \
			"(scripts/setup-debian.sh installs it)" >&2
		exit 1
	fi
fi

rm -f "$STAMP"
# The user's pip configuration must not turn this into a --user install.
export PIP_USER=0 PIP_REQUIRE_VIRTUALENV=0 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
# --use-pep517: Metaphone is an sdist; build it the way newer pips must.
"$VENV/bin/python" -m pip install -q --use-pep517 -r "$REQ"
# The peers import, and anonlink's C extension runs with this numpy.
"$VENV/bin/python" - <<'PY'
import bitarray, clkhash.clk, clkhash.schema, blocklib
from anonlink.candidate_generation import find_candidate_pairs
from anonlink.similarities import dice_coefficient
a = [bitarray.bitarray('1100' * 16), bitarray.bitarray('1010' * 16)]
scores, _, _ = find_candidate_pairs([a, a], dice_coefficient, 0.9)
assert len(scores) == 2 and all(s == 1.0 for s in scores), scores
PY
echo "$want" >"$STAMP"
echo "setup-peers: $VENV ready ($("$VENV/bin/python" -c 'import sys; print("Python %d.%d.%d" % sys.version_info[:3])'))"
