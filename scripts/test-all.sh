#!/usr/bin/env bash
# test-all.sh: make test's runner.  Runs each suite (a make target) in order,
# its output shown and kept in build/test-logs/<suite>.log, stops at the first
# that fails, and ends with a summary counted from what ran: the suites, and
# the checks they reported ("N passed, N failed" lines, pg_regress's "All N
# tests passed", prove's "Tests=N").
#
#   test-all.sh SUITE...
set -uo pipefail
cd "$(dirname "$0")/.."

logs=build/test-logs
mkdir -p "$logs"
suites_passed=0
checks_passed=0
checks_failed=0
ran=()
# Add a log's reported checks to the totals (plain grep and sed: no gawk needed).
count() {
	local n
	while read -r p f; do
		checks_passed=$((checks_passed + p))
		checks_failed=$((checks_failed + f))
	done < <(grep -oE '[0-9]+ passed, [0-9]+ failed' "$1" | sed -E 's/ passed, / /; s/ failed//')
	for n in $(grep -oE 'All [0-9]+ tests passed' "$1" | grep -oE '[0-9]+') \
		$(grep -oE 'Files=[0-9]+, Tests=[0-9]+' "$1" | sed -E 's/.*Tests=//'); do
		checks_passed=$((checks_passed + n))
	done
}
# The closing line.
report() {
	echo "test: $suites_passed passed, $1 failed (suites: ${ran[*]}); checks: $checks_passed passed, $checks_failed failed"
}
for suite in "$@"; do
	start=$(date +%s)
	echo "== $suite"
	make --no-print-directory "$suite" 2>&1 | tee "$logs/$suite.log"
	rc=${PIPESTATUS[0]}
	count "$logs/$suite.log"
	ran+=("$suite")
	echo "== $suite: $([ "$rc" -eq 0 ] && echo passed || echo FAILED) in $(($(date +%s) - start)) s"
	if [ "$rc" -ne 0 ]; then
		report 1
		exit 1
	fi
	suites_passed=$((suites_passed + 1))
done
report 0
