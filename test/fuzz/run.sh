#!/usr/bin/env bash
# Builds the libFuzzer harness for the request parser and fuzzes it for
# FUZZ_SECONDS (default 60), then replays the seed corpus under valgrind.
# Needs clang and libclang-rt-14-dev (installed by test/install-deps.sh
# --fuzz).  A third of the time goes to a second build of the same harness
# with the attribute limit at 2 instead of 100, where any way of hiding a
# start tag from the attribute pre-scan (a comment, PI or CDATA section it
# misreads) shows in a small input; the regression test xml_guards covers
# the same tricks at 1 MB.  The committed seed corpus is copied, so the run
# never writes into the repository; a crash leaves its input in
# test/fuzz/build/ and fails the run.
#
# XML2_CONFIG names the libxml2 to build against (default: the system's
# xml2-config, 2.9.14 on Debian 12); make stress also runs it against the
# matrix's libxml2 2.15 (test/matrix/build-libxml2.sh), linked with an
# rpath so that the harness loads that library and no other.
set -euo pipefail
cd "$(dirname "$0")"
XML2_CONFIG=${XML2_CONFIG:-xml2-config}
xml2_cflags=$($XML2_CONFIG --cflags)
xml2_libs=$($XML2_CONFIG --libs)
xml2_libdir=$($XML2_CONFIG --prefix)/lib
[ "$xml2_libdir" = /usr/lib ] || xml2_libs="-Wl,-rpath,$xml2_libdir $xml2_libs"
echo "fuzz: against libxml2 $($XML2_CONFIG --version) ($XML2_CONFIG)"
seconds=${FUZZ_SECONDS:-60}
prescan_seconds=$(( seconds / 3 > 0 ? seconds / 3 : 1 ))
main_seconds=$(( seconds - prescan_seconds > 0 ? seconds - prescan_seconds : 1 ))
CLANG=${CLANG:-$(command -v clang-14 || command -v clang)}

# the request's guards, readers and grammar, as the extension links them
parser_sources=(../../src/request_guards.c ../../src/request_fast_path.c
	../../src/request_libxml2.c ../../src/request_parser.c)

mkdir -p build
build() {
	# shellcheck disable=SC2086
	$CLANG -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
		-Wall -Werror -DONT_GUARD_REFERENCE "$@" $xml2_cflags -I../../src \
		"${parser_sources[@]}" fuzz_request.c $xml2_libs
}
build -o build/fuzz_request
build -DONT_MAX_ATTRIBUTES=2 -o build/fuzz_prescan

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# fuzz <binary> <seconds> <max_len> <name>
fuzz() {
	local rc
	rm -rf "$work/corpus"
	mkdir "$work/corpus"
	cp corpus/* "$work/corpus/"
	echo "fuzzing the request parser ($4) for ${2}s"
	set +e
	"./build/$1" -max_total_time="$2" -timeout=10 -rss_limit_mb=2048 \
		-max_len="$3" -dict=request.dict -print_final_stats=1 \
		-artifact_prefix="build/$1-" "$work/corpus" 2>"build/$1.log"
	rc=$?
	set -e
	grep -E "^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)|Done [0-9]+ runs" "build/$1.log" || true
	if [ $rc -ne 0 ]; then
		echo "fuzz: FAILED (exit $rc); tail of build/$1.log:"
		tail -40 "build/$1.log"
		exit 1
	fi
}
fuzz fuzz_request "$main_seconds" 65536 "attribute limit 100"
fuzz fuzz_prescan "$prescan_seconds" 4096 "attribute limit 2"
echo "fuzz: no crash, no leak, no contract violation"

# the seed corpus under valgrind, with libxml2 uninstrumented: every object
# freed, errors included
if command -v valgrind >/dev/null; then
	# shellcheck disable=SC2086
	gcc -g -O1 -Wall -Werror $xml2_cflags -I../../src "${parser_sources[@]}" replay.c \
		$xml2_libs -o build/replay
	set +e
	valgrind -q --leak-check=full --show-leak-kinds=definite,indirect,possible \
		--errors-for-leak-kinds=definite,indirect,possible --error-exitcode=1 \
		build/replay corpus/* 2>build/valgrind.log
	rc=$?
	set -e
	cat build/valgrind.log
	if [ $rc -ne 0 ]; then
		echo "valgrind: FAILED"
		exit 1
	fi
	echo "valgrind: the corpus parses without a leak or an invalid access"
fi
