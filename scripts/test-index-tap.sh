#!/usr/bin/env bash
# test-index-tap.sh: pg_pprl's TAP tests (PostgreSQL's Perl test framework,
# PostgreSQL::Test::Cluster) against a staged install: the pprl index on a
# streaming hot standby and after a crash (`make check-tap`).
#
# PostgreSQL refuses to run as root, so under root the tests run as an
# unprivileged OS user (PPRL_PG_OS_USER, default "postgres"), in a
# directory it can write; an ordinary user runs them as themselves.
set -euo pipefail
cd "$(dirname "$0")/.."
PG_CONFIG=${PG_CONFIG:-$(ls /usr/lib/postgresql/15/bin/pg_config 2>/dev/null || echo pg_config)}
pgxs=$(cd "$(dirname "$("$PG_CONFIG" --pgxs)")/../.." && pwd)
bindir=$("$PG_CONFIG" --bindir)
perl -MIPC::Run -e 1 2>/dev/null || { echo "check-tap: IPC::Run missing (apt-get install libipc-run-perl)"; exit 1; }

tmp=$(mktemp -d /tmp/pprl-tap.XXXXXX)
chmod 755 "$tmp"
trap 'rm -rf "$tmp"' EXIT
make -s -C pg_pprl install DESTDIR="$tmp/stage" PG_CONFIG="$PG_CONFIG" >/dev/null
cp -r pg_pprl/test/t "$tmp/t"
chmod -R a+rX "$tmp"
run=()
if [ "$(id -u)" = 0 ]; then
	user=${PPRL_PG_OS_USER:-postgres}
	id "$user" >/dev/null 2>&1 || useradd --system --home-dir /nonexistent --shell /usr/sbin/nologin "$user"
	chown -R "$user" "$tmp"
	run=(runuser -u "$user" --)
fi
status=0
(cd "$tmp" && "${run[@]}" env PATH="$bindir:$PATH" TESTDIR="$tmp" \
	PG_REGRESS="$pgxs/src/test/regress/pg_regress" \
	PPRL_EXTENSION_DESTDIR="$tmp/stage" \
	prove -I "$pgxs/src/test/perl" t/*.pl) || status=$?
if [ "$status" != 0 ]; then
	for f in "$tmp"/tmp_check/log/*; do
		echo "== $f"; tail -40 "$f"
	done
fi
exit "$status"
