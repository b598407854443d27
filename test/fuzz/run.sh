#!/usr/bin/env bash
# Builds the libFuzzer harness for the request parser and fuzzes it for
# FUZZ_SECONDS (default 60), then replays the seed corpus under valgrind.  Needs clang and libclang-rt-14-dev (installed
# by test/install-deps.sh --fuzz).  The committed seed corpus is copied, so
# the run never writes into the repository; a crash leaves its input in
# test/fuzz/build/ and fails the run.
set -euo pipefail
cd "$(dirname "$0")"
seconds=${FUZZ_SECONDS:-60}
CLANG=${CLANG:-$(command -v clang-14 || command -v clang)}

mkdir -p build
# shellcheck disable=SC2046
$CLANG -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	$(xml2-config --cflags) -I../../src \
	../../src/request_parser.c fuzz_request.c \
	$(xml2-config --libs) -o build/fuzz_request

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp corpus/* "$work/"

echo "fuzzing the request parser for ${seconds}s"
set +e
./build/fuzz_request -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
	-max_len=65536 -dict=request.dict -print_final_stats=1 \
	-artifact_prefix=build/ "$work" 2>build/fuzz.log
rc=$?
set -e
grep -E "^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)|Done [0-9]+ runs" build/fuzz.log || true
if [ $rc -ne 0 ]; then
	echo "fuzz: FAILED (exit $rc); tail of build/fuzz.log:"
	tail -40 build/fuzz.log
	exit 1
fi
echo "fuzz: no crash, no leak, no contract violation"

# the seed corpus under valgrind, with libxml2 uninstrumented: every object
# freed, errors included
if command -v valgrind >/dev/null; then
	# shellcheck disable=SC2046
	gcc -g -O1 $(xml2-config --cflags) -I../../src ../../src/request_parser.c replay.c \
		$(xml2-config --libs) -o build/replay
	valgrind -q --leak-check=full --show-leak-kinds=definite,indirect,possible \
		--errors-for-leak-kinds=definite,indirect,possible --error-exitcode=1 \
		build/replay corpus/* 2>build/valgrind.log
	rc=$?
	cat build/valgrind.log
	if [ $rc -ne 0 ]; then
		echo "valgrind: FAILED"
		exit 1
	fi
	echo "valgrind: the corpus parses without a leak or an invalid access"
fi
