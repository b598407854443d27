#!/usr/bin/env bash
# Runs the whole suite against a throwaway PostgreSQL 15 cluster: the
# pg_regress suite (sql/ -> expected/), then the XML Schema check of
# responses.  Expects the extension to be installed (make test does that).
# Prints "N passed, N failed" last and exits non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p test/results

exec pg_virtualenv -t -v 15 bash -c '
	passed=0 failed=0 skipped=0
	make installcheck 2>&1 | tee test/results/installcheck.log
	rc=${PIPESTATUS[0]}
	ok=$(grep -cE "^(ok|test) .*\.\.\. ok" test/results/installcheck.log)
	bad=$(grep -cE "^(not ok|test) .*(FAILED|failed)" test/results/installcheck.log)
	if [ "$rc" -ne 0 ]; then
		[ -f test/regression.diffs ] && cat test/regression.diffs
		[ "$bad" -eq 0 ] && bad=1
	fi
	passed=$((passed + ok)) failed=$((failed + bad))

	test/xsd-check.sh
	case $? in
		0) passed=$((passed + 1)) ;;
		2) skipped=$((skipped + 1)) ;;
		*) failed=$((failed + 1)) ;;
	esac

	echo
	echo "$passed passed, $failed failed, $skipped skipped"
	[ "$failed" -eq 0 ]
'
