#!/bin/sh
# install.sh: install a built checkout (make all) into DESTDIR, as the
# container images lay it out: programs and entrypoints in /usr/local/bin,
# migrations and the end-to-end suite in /usr/local/share/pprl, pg_pprl into
# PostgreSQL 15's directories.  usage: deploy/install.sh DESTDIR [api|worker|primary]...
set -eu
dest=${1:?usage: install.sh DESTDIR [api|worker|primary]...}
shift
top=$(cd "$(dirname "$0")/.." && pwd)
bin=$dest/usr/local/bin
share=$dest/usr/local/share/pprl
mkdir -p "$bin" "$share"
for part in "${@:-api worker primary}"; do
	for what in $part; do
		case $what in
		api)
			install -m 755 "$top/build/pprl-api" "$top/build/pprl-store" "$top/deploy/entrypoint-api.sh" \
				"$top/deploy/pprl-exec.sh" "$bin/"
			mkdir -p "$share/tests"
			install -m 644 "$top/scripts/test_e2e.py" "$top/scripts/pprl_testlib.py" "$share/tests/"
			;;
		worker)
			install -m 755 "$top/build/pprl-worker" "$top/deploy/entrypoint-worker.sh" "$top/deploy/pprl-exec.sh" \
				"$top/deploy/entrypoint-replica.sh" "$bin/"
			make -s -C "$top/pg_pprl" install DESTDIR="$dest" >/dev/null
			;;
		primary)
			install -m 755 "$top/deploy/entrypoint-primary.sh" "$top/deploy/slot-janitor.sh" "$bin/"
			mkdir -p "$share/migrations"
			install -m 644 "$top"/migrations/*.sql "$share/migrations/"
			install -m 755 "$top/migrations/migrate.sh" "$share/migrations/"
			make -s -C "$top/pg_pprl" install DESTDIR="$dest" >/dev/null
			;;
		*) echo "install.sh: unknown part $what" >&2; exit 2 ;;
		esac
	done
done
