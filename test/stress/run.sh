#!/usr/bin/env bash
# make stress: the long runs.  Concurrency (pgbench, 4 clients, 60 s) and
# memory (100,000 calls twice in one session) against a throwaway cluster,
# big responses (up to and past 1 GB, 1.2 GB of memory) against a
# cluster of their own, whose log must show no crash, then FUZZ_SECONDS
# (default 60) of libFuzzer on the request parser, against Debian 12's
# libxml2 2.9.14 and again against libxml2 2.15, and last the pg_regress
# and isolation suites against a server under valgrind (make valgrind, on
# the matrix's PostgreSQL 18+cassert: after make matrix, from its cache).
# Prints "N passed, N failed" last; exits non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/../.."
passed=0 failed=0

pg_virtualenv -t -v 15 bash -c 'test/stress/concurrency.sh && test/stress/memory.sh'
case $? in
	0) passed=$((passed + 2)) ;;
	*) failed=$((failed + 1)) ;;
esac

if pg_virtualenv -t -v 15 test/stress/big_response.sh; then
	passed=$((passed + 1))
else
	failed=$((failed + 1))
fi

if test/fuzz/run.sh; then passed=$((passed + 1)); else failed=$((failed + 1)); fi

# the same fuzzing against libxml2 2.15, whose parser reads quoted values
# and character references differently: the pre-scan must hold on both
# (built once into the matrix's cache, in about a minute, if not there yet)
cache=${ONTSTATUS_PG_CACHE:-/var/cache/ontstatus-pg}
if test/matrix/build-libxml2.sh 2.15 &&
	XML2_CONFIG=$(cd "$cache" && pwd)/libxml2-2.15/bin/xml2-config test/fuzz/run.sh; then
	passed=$((passed + 1))
else
	failed=$((failed + 1))
fi

# the suite under valgrind's memcheck (test/valgrind/run.sh; about 8
# minutes, plus 3 to 4 to build 18+cassert where make matrix has not)
if test/valgrind/run.sh; then passed=$((passed + 1)); else failed=$((failed + 1)); fi

echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
