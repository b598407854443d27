#!/usr/bin/env bash
# make valgrind: the pg_regress suite and the isolation test against a
# server that runs under valgrind's memcheck, on PostgreSQL 18 built with
# assertions and USE_VALGRIND (the matrix's "18+cassert", built once into
# $ONTSTATUS_PG_CACHE by test/matrix/build-pg.sh).  With USE_VALGRIND,
# PostgreSQL's memory contexts tell valgrind which palloc'd chunks are in
# use, so a read of a freed or never-written chunk, or uninitialised bytes
# sent to a client, are errors as for malloc.  The TAP tests are not run:
# their nodes are started by PostgreSQL::Test::Cluster, not under valgrind
# (the matrix runs them on 18+cassert).
#
# Every valgrind error (one log per process, each error between
# VALGRINDERROR-BEGIN and -END) whose stack has a frame of ontstatus (a
# function of ontstatus.so, a file of src/, or the name ontstatus) fails
# the run and is printed whole; the others (PostgreSQL's, libxml2's) are
# counted only.  A failed test, a crash or a failed assertion ("TRAP:") fails it
# too.  The logs stay in test/results/valgrind (logs/PID.log, one per
# process; ontstatus-errors.txt, each distinct stack through ontstatus).
# Prints "valgrind: N passed, N failed" last; exits non-zero on any failure.
set -uo pipefail
unset MAKELEVEL MAKEFLAGS MFLAGS MAKEOVERRIDES GNUMAKEFLAGS
cd "$(dirname "$0")/../.." || exit 1
top=$(pwd)
t0=$(date +%s)
config=18+cassert
cache=${ONTSTATUS_PG_CACHE:-/var/cache/ontstatus-pg}
mkdir -p "$cache" && cache=$(cd "$cache" && pwd)
prefix=$cache/$config
pgc=$prefix/bin/pg_config
results=$top/test/results/valgrind
# a port of its own: the matrix's servers are on 54300 + major, +50 with a
# libxml2 of its own, +100 with assertions (54418 for 18+cassert)
port=${VALGRIND_PORT:-54518}
# start-up and shutdown under valgrind: seconds here, but every
# instruction is interpreted, so a loaded machine may need minutes
start_timeout=${VALGRIND_START_TIMEOUT:-600}

run_as() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
finish() {
	echo
	echo "valgrind: $1 passed, $2 failed ($(($(date +%s) - t0)) s)"
	[ "$2" -eq 0 ]
	exit
}

if ! command -v valgrind >/dev/null; then
	echo "valgrind: installing valgrind"
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	export DEBIAN_FRONTEND=noninteractive
	if ! { $sudo apt-get update -qq &&
		$sudo apt-get install -y -qq --no-install-recommends valgrind >/dev/null; }; then
		echo "valgrind: could not install valgrind"
		finish 0 1
	fi
fi

build_start=$(date +%s)
if ! ONTSTATUS_PG_CACHE=$cache test/matrix/build-pg.sh "$config"; then
	echo "valgrind: PostgreSQL $config could not be built"
	finish 0 1
fi
if ! run_as test -x "$pgc"; then
	echo "valgrind: $pgc cannot be run by postgres: choose an ONTSTATUS_PG_CACHE every user can enter"
	finish 0 1
fi
bindir=$("$pgc" --bindir)
echo "valgrind: PostgreSQL $config in $prefix ($(valgrind --version); build or cache $(($(date +%s) - build_start)) s)"

rm -rf "$results"
mkdir -p "$results"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -a "$top" "$work/ontstatus"
(cd "$work/ontstatus" && rm -rf test/results tmp_check test/isolation &&
	make -s clean PG_CONFIG="$pgc" >/dev/null 2>&1)
if ! make -s -C "$work/ontstatus" PG_CONFIG="$pgc" WERROR=-Werror all >"$results/build.log" 2>&1 ||
	! make -s -C "$work/ontstatus" PG_CONFIG="$pgc" install >>"$results/build.log" 2>&1; then
	echo "valgrind: the build against PostgreSQL $config failed:"
	tail -20 "$results/build.log"
	finish 0 1
fi
so=$("$pgc" --pkglibdir)/ontstatus.so

# An output valgrind itself changes, let through with the reason; the test
# still runs under memcheck, and any other difference in it fails.
#   run_process, "memory stays flat over 2,000 steps" (within_1mb): it reads
#   the backend's RssAnon from /proc/self/status, which under valgrind is
#   valgrind's memory too: memcheck holds freed blocks back from reuse (up to
#   --freelist-vol, 20 MB) to catch their use, and keeps the code it has
#   translated.  Measured here: +4.8 MB from step 10 to step 2,000 under
#   valgrind, 4.7 MB of it by step 500, nearly flat after (+0.9 MB with
#   --freelist-vol=0); the same steps outside valgrind stay within 1 MB.
tolerated_test=run_process
tolerated_diff=$'-       2 | t\n+       2 | f'

mkdir -p "$work/vg"
chown -R postgres: "$work"
echo "valgrind: starting the server under memcheck (port $port)"
suite_start=$(date +%s)
run_as bash -c '
	set -u
	export PATH="'"$bindir"':$PATH" PGHOST="'"$work"'" PGPORT='"$port"' PGUSER=postgres
	initdb -D "'"$work"'/data" -U postgres --no-sync >"'"$work"'/initdb.log" 2>&1 ||
		{ cat "'"$work"'/initdb.log"; exit 1; }
	# --num-callers: a stack must reach from the error up to the ontstatus
	# frame that called into the executor or libxml2, often more than the
	# 12 frames valgrind keeps by default.  test/valgrind/postgresql.supp:
	# errors of PostgreSQL itself that its valgrind.supp does not cover.
	valgrind --tool=memcheck --trace-children=yes --leak-check=no \
		--gen-suppressions=all --suppressions="'"$prefix"'/valgrind.supp" \
		--suppressions="'"$work"'/ontstatus/test/valgrind/postgresql.supp" \
		--error-markers=VALGRINDERROR-BEGIN,VALGRINDERROR-END \
		--log-file="'"$work"'/vg/%p.log" --read-var-info=no --num-callers=40 \
		postgres -D "'"$work"'/data" -p '"$port"' -k "'"$work"'" -c listen_addresses= \
		>"'"$work"'/server.log" 2>&1 &
	vgpid=$!
	waited=0
	until pg_isready -q; do
		if ! kill -0 $vgpid 2>/dev/null || [ $waited -ge '"$start_timeout"' ]; then
			echo "the server did not start under valgrind in $waited s:"
			tail -30 "'"$work"'/server.log"
			kill $vgpid 2>/dev/null
			exit 1
		fi
		sleep 2
		waited=$((waited + 2))
	done
	echo "server ready under valgrind in $waited s"
	cd "'"$work"'/ontstatus"
	# the Makefile'\''s REGRESS, then its ISOLATION, each whatever the other
	# did; TAP_TESTS emptied: the TAP nodes would not run under valgrind
	rc=0
	make installcheck PG_CONFIG="'"$pgc"'" TAP_TESTS= ISOLATION= 2>&1 || rc=1
	cp test/regression.diffs "'"$work"'/regress.diffs" 2>/dev/null
	make installcheck PG_CONFIG="'"$pgc"'" TAP_TESTS= REGRESS= 2>&1 || rc=1
	cp test/isolation/output_iso/regression.diffs "'"$work"'/isolation.diffs" 2>/dev/null
	pg_ctl -D "'"$work"'/data" -m fast -w -t '"$start_timeout"' stop >/dev/null ||
		{ echo "the server did not stop: immediate shutdown"; kill -QUIT $vgpid; rc=1; }
	wait $vgpid
	exit $rc
' >"$results/installcheck.log" 2>&1
rc=$?
suite_seconds=$(($(date +%s) - suite_start))
cp "$work/server.log" "$results/server.log" 2>/dev/null
cp "$work"/*.diffs "$results/" 2>/dev/null
cp -r "$work/vg" "$results/logs"
log=$results/installcheck.log
grep -E "^server ready|^the server" "$log"

passed=$(grep -cE "^ok +[0-9]+ +[-+] " "$log")
failed=0
for t in $(sed -nE 's/^not ok +[0-9]+ +[-+] +([^ ]+).*/\1/p' "$log"); do
	# the diff of that test alone: its changed lines, without the headers
	diff=$(awk -v t="$t" '/^diff /{ on = ($0 ~ "/" t "\\.out ") } on' "$results"/*.diffs 2>/dev/null |
		grep -E '^[-+]' | grep -vE '^(---|\+\+\+) ')
	if [ "$t" = "$tolerated_test" ] && [ "$diff" = "$tolerated_diff" ]; then
		echo "valgrind: $t differs only in its memory check (valgrind's own memory; see test/valgrind/run.sh): counted as passed"
		passed=$((passed + 1))
	else
		echo "valgrind: $t FAILED:"
		awk -v t="$t" '/^diff /{ on = ($0 ~ "/" t "\\.out ") } on' "$results"/*.diffs 2>/dev/null | head -100
		failed=$((failed + 1))
	fi
done
[ "$rc" -ne 0 ] && [ "$failed" -eq 0 ] && [ "$(grep -cE "^not ok +[0-9]+ " "$log")" -eq 0 ] && { tail -40 "$log"; failed=1; }
echo "valgrind: the suite: $passed passed, $failed failed ($suite_seconds s under valgrind)"

crashed=$(grep -ls -e "terminated by signal" -e "TRAP:" "$results/server.log")
if [ -n "$crashed" ]; then
	echo "valgrind: a backend crashed or failed an assertion:"
	grep -B2 -A5 -e "terminated by signal" -e "TRAP:" "$results/server.log" | head -60
	failed=$((failed + 1))
fi

# ontstatus's frames: the functions of ontstatus.so (not the _init and the
# like every library has) and the files of src/
nm --defined-only "$so" | awk '$2 ~ /^[tTwW]$/ && $3 !~ /^_/ && $3 != "frame_dummy" && $3 !~ /register_tm_clones$/ { print $3 }' >"$work/symbols"
(cd src && ls -- *.c *.h) >"$work/files"
if perl -e '
	my ($symfile, $filefile, $allfile, @logs) = @ARGV;
	my (%sym, %file);
	open my $s, "<", $symfile or die; while (<$s>) { chomp; $sym{$_} = 1 } close $s;
	open my $f, "<", $filefile or die; while (<$f>) { chomp; $file{$_} = 1 } close $f;
	my ($total, $ours, @order, %seen, %first) = (0, 0);
	for my $log (@logs) {
		open my $l, "<", $log or die "$log: $!";
		my ($in, @block) = (0);
		while (my $line = <$l>) {
			if ($line =~ /VALGRINDERROR-BEGIN/) { $in = 1; @block = (); next }
			if ($line =~ /VALGRINDERROR-END/) {
				$in = 0;
				$total++;
				my $through = 0;
				for (@block) {
					next unless /(?:at|by) 0x[0-9A-Fa-f]+: (\S+) \((.*)\)$/;
					my ($fn, $where) = ($1, $2);
					my $base = $where =~ /^(?:.*\/)?([^\/:]+):\d+$/ ? $1 : "";
					$through = 1 if $sym{$fn} || $file{$base} || $where =~ /ontstatus/ || $fn =~ /ontstatus/;
				}
				if ($through) {
					# the same error (its kind and stack, not where the
					# memory came from) from many backends: shown once
					$ours++;
					my $key = "";
					for (@block) {
						(my $k = $_) =~ s/^==\d+== ?//;
						last if $k =~ /^\s*(Address|Uninitialised value|Block was)/;
						$k =~ s/0x[0-9A-Fa-f]+/0x/g;
						$key .= $k;
					}
					push @order, $key unless $seen{$key}++;
					$first{$key} //= "$log\n" . join("", @block);
				}
				next;
			}
			push @block, $line if $in;
		}
	}
	print "valgrind: $total error blocks, $ours through ontstatus",
		($total - $ours ? " (" . ($total - $ours) . " not through ontstatus, not shown)" : ""), "\n";
	# every one into ontstatus-errors.txt, the first 20 on the terminal
	open my $all, ">", $allfile or die "$allfile: $!";
	print $all "--- $seen{$_} time(s), first in $first{$_}" for @order;
	close $all;
	print "--- $seen{$_} time(s), first in $first{$_}" for grep { defined } @order[0 .. 19];
	print "--- and ", @order - 20, " other stacks: $allfile\n" if @order > 20;
	exit($ours ? 1 : 0);
' "$work/symbols" "$work/files" "$results/ontstatus-errors.txt" "$results"/logs/*.log; then
	passed=$((passed + 1))
else
	echo "valgrind: errors through ontstatus (above; all logs in test/results/valgrind/logs)"
	failed=$((failed + 1))
fi
finish "$passed" "$failed"
