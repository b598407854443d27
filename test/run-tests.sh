#!/usr/bin/env bash
# Runs the whole suite against a throwaway PostgreSQL 15 cluster: the
# pg_regress suite (sql/ -> expected/), then the XML Schema check of a
# response.  Expects the extension to be installed (make test does that).
# Prints "N passed, N failed" last and exits non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."

exec pg_virtualenv -t -v 15 bash -c '
	passed=0 failed=0
	make installcheck WERROR=-Werror 2>&1 | tee test/results/installcheck.log
	if [ "${PIPESTATUS[0]}" -ne 0 ]; then
		[ -f test/results/regression.diffs ] && cat test/results/regression.diffs
	fi
	passed=$((passed + $(grep -cE "^(ok|test) .* ok( |$)|^ok [0-9]" test/results/installcheck.log)))
	failed=$((failed + $(grep -cE "FAILED|failed \(ignored\)" test/results/installcheck.log)))
	if test/xsd-check.sh; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
	echo
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
'
