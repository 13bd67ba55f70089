# lib-test.sh: shared by the shell test scripts (source it).
#
# The shell tests' one harness.
#
# check NAME CMD...   run CMD, count it as passed or failed, name failures
# qcheck NAME CMD...  the same, with CMD's output discarded
# lcheck NAME CMD...  the same, with CMD's output shown only when it fails
# summary LABEL       print "LABEL: N passed, N failed"; status 1 on failure
# start_cluster DIR   a throwaway cluster with pg_pprl staged under DIR
#                     (exports PGHOST, PGPORT, PGUSER; stopped on exit)

PG_CONFIG=${PG_CONFIG:-$(ls /usr/lib/postgresql/15/bin/pg_config 2>/dev/null || echo pg_config)}
export PG_CONFIG
PSQL="$("$PG_CONFIG" --bindir)/psql"
export PSQL
passed=0
failed=0

# Record a check: name, then the command's success.
check() {
	local name=$1
	shift
	if "$@"; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		echo "FAIL: $name"
	fi
}

# Run a command with its output discarded.
quietly() {
	"$@" >/dev/null 2>&1
}

# A check whose command's output is not wanted.
qcheck() {
	local name=$1
	shift
	check "$name" quietly "$@"
}

# A check whose command's output matters only when it fails.
lcheck() {
	local name=$1 out
	shift
	out=$(mktemp)
	if "$@" >"$out" 2>&1; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		echo "FAIL: $name"
		sed 's/^/  /' "$out" | head -20
	fi
	rm -f "$out"
}

# The closing line, and the script's status.
summary() {
	echo "$1: $passed passed, $failed failed"
	[ "$failed" -eq 0 ]
}

# Start a staged cluster in DIR/cluster; DIR itself must be traversable by
# the cluster's OS user.
start_cluster() {
	local pgenv
	chmod 755 "$1"
	pgenv=$(scripts/pgtmp.sh start-staged "$1/cluster")
	eval "export $pgenv"
}
