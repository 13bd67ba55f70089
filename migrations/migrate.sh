#!/usr/bin/env bash
# migrate.sh: apply the numbered SQL files of migrations/ in order, once.
#
#   migrate.sh [DIR]      DIR defaults to this script's folder
#
# Connects with the usual libpq environment (PGHOST, PGPORT, PGUSER,
# PGDATABASE, PGPASSWORD, or DATABASE_URL).  Each file NNN_name.sql runs in
# its own transaction and is recorded in schema_migrations with its SHA-256;
# a file already applied is skipped, and one that changed after it was
# applied stops the run with an error.  The whole run holds an advisory
# lock, so several pods may start it at once: one applies, the others wait
# and then find nothing left to do.  Exit status: 0 on success.
set -euo pipefail

dir=$(cd "${1:-$(dirname "$0")}" && pwd)
PSQL=${PSQL:-psql}
conn=()
[ -n "${DATABASE_URL:-}" ] && conn=(-d "$DATABASE_URL")

script=$(mktemp)
trap 'rm -f "$script"' EXIT
{
	echo '\set ON_ERROR_STOP on'
	echo '\set QUIET on'
	echo 'SET client_min_messages = warning;'
	# One constant key for all runners of this schema.
	echo 'SELECT pg_advisory_lock(7469316152001) AS locked \gset'
	echo 'CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL, sha256 text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now());'
	for f in "$dir"/[0-9][0-9][0-9]_*.sql; do
		[ -e "$f" ] || continue
		base=$(basename "$f" .sql)
		version=$((10#${base%%_*}))
		sum=$(sha256sum "$f" | cut -d' ' -f1)
		cat <<SQL
SELECT coalesce((SELECT sha256 FROM schema_migrations WHERE version = $version), '') AS stored \\gset
SELECT :'stored' = '' AS pending, :'stored' NOT IN ('', '$sum') AS changed \\gset
\\if :changed
DO \$\$ BEGIN RAISE EXCEPTION 'migration $base was changed after it was applied'; END \$\$;
\\endif
\\if :pending
\\echo 'applying $base'
BEGIN;
\\i '$f'
INSERT INTO schema_migrations (version, name, sha256) VALUES ($version, '$base', '$sum');
COMMIT;
\\endif
SQL
	done
	echo 'SELECT pg_advisory_unlock(7469316152001) AS unlocked \gset'
} >"$script"
"$PSQL" -X "${conn[@]}" -f "$script"
