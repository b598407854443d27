#!/usr/bin/env bash
# make matrix: the whole suite (pg_regress, isolation, TAP) on each
# supported configuration, built and tested on every change: PostgreSQL 13,
# 15 and 18 with Debian 12's libxml2 2.9.14, and PostgreSQL 18 with libxml2
# 2.15 ("18+libxml2-2.15"), the parser of current distributions, and
# PostgreSQL 18 with assertions and USE_VALGRIND ("18+cassert"), where a
# failed Assert() in the server or in ontstatus fails the run
# (ONTSTATUS_PG_MAJORS).  15 is Debian 12's own; 13, 18, 18+cassert and
# libxml2 2.15 are built once from Debian's source packages into
# /var/cache/ontstatus-pg (build-pg.sh, build-libxml2.sh).  Each
# configuration gets a copy of the tree, a -Werror build and install
# against its pg_config (and its libxml2), and a throwaway server of its
# own; any server log of the suite (that server's, the TAP nodes') that
# shows a backend terminated by a signal or an assertion's "TRAP:" fails it.
# 17, 19 and "18-sid" (PostgreSQL 18 with pg_cron as sid ships them) run on
# their Debian release's own packages in a chroot (debian-release.sh); the
# source-built 13 gets Debian 11's pg_cron (pg-cron.sh).  A TAP file that
# skips itself is counted as skipped.
# Prints "N passed, N failed, N skipped" last; exits non-zero on any failure.
set -uo pipefail
# started by make matrix, by .ci/run or by hand: the builds below are this
# script's own makes, not sub-makes of whatever started it
unset MAKELEVEL MAKEFLAGS MFLAGS MAKEOVERRIDES GNUMAKEFLAGS
cd "$(dirname "$0")/../.."
top=$(pwd)
# shellcheck source=test/matrix/config-lib.sh
. test/matrix/config-lib.sh
majors=${ONTSTATUS_PG_MAJORS:-"$(sed -n '/^[0-9]/p' test/matrix/tested-majors) 18-sid 18+libxml2-2.15 18+cassert"}
cache=${ONTSTATUS_PG_CACHE:-/var/cache/ontstatus-pg}
mkdir -p "$cache" && cache=$(cd "$cache" && pwd)
logs=$top/test/results/matrix
xsd_dir=$(cd "${ONTSTATUS_XSD_DIR:-$top/../shared/i2b2-xsd}" 2>/dev/null && pwd || echo /nonexistent)
mkdir -p "$logs"
passed=0 failed=0 skipped=0

run_as() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

for config in $majors; do
	major=${config%%+*}
	# 17, 18-sid and 19: Debian 13's, sid's and experimental's own
	# packages, in a chroot (debian-release.sh), which prints the result
	# line counted here
	case $config in
		17|19|18-sid) echo "== $config"
			ONTSTATUS_PG_CACHE=$cache test/matrix/debian-release.sh "$config"
			read -r p f s < <(sed -nE 's/.*: ([0-9]+) passed, ([0-9]+) failed(, ([0-9]+) skipped)?.*/\1 \2 \4/p' \
				"$logs/result-$config.line" 2>/dev/null)
			passed=$((passed + ${p:-0}))
			failed=$((failed + ${f:-1}))
			skipped=$((skipped + ${s:-0}))
			continue ;;
	esac
	# a configuration with its own libxml2: ontstatus is built against it
	xml2_make=()
	xml2_prefix=""
	name="PostgreSQL $major"
	case $config in
		*+libxml2-*) xml2_prefix=$cache/libxml2-${config#*+libxml2-}
			xml2_make=(XML2_CONFIG="$xml2_prefix/bin/xml2-config") ;;
		*+cassert) name="$name (assertions, USE_VALGRIND)" ;;
	esac
	echo "== $config"
	start=$(date +%s)
	if [ "$config" = 15 ] && [ -x /usr/lib/postgresql/15/bin/pg_config ]; then
		pgc=/usr/lib/postgresql/15/bin/pg_config
	elif ONTSTATUS_PG_CACHE=$cache test/matrix/build-pg.sh "$config"; then
		pgc=$cache/$config/bin/pg_config
		echo "$config: built or found in $cache/$config ($(($(date +%s) - start)) s)"
		# pg_cron where Debian has a build that fits (13); the cached tree
		# keeps it
		if ! test/matrix/pg-cron.sh "$pgc"; then
			echo "matrix: pg_cron could not be installed for $config"
			failed=$((failed + 1))
		fi
	else
		echo "matrix: $config could not be built ($(($(date +%s) - start)) s)"
		failed=$((failed + 1))
		continue
	fi
	[ -n "$xml2_prefix" ] && name="$name + libxml2 $(cat "$xml2_prefix/.version")"
	# the servers run as postgres: a cache under a directory postgres cannot
	# enter (/root, say) is refused here, not as a riddle from make later
	if ! run_as test -x "$pgc"; then
		echo "matrix: $pgc cannot be run by $( [ "$(id -u)" -eq 0 ] && echo postgres || id -un): choose an ONTSTATUS_PG_CACHE every user can enter"
		failed=$((failed + 1))
		continue
	fi
	bindir=$("$pgc" --bindir)
	suite_start=$(date +%s)

	work=$(mktemp -d)
	cp -a "$top" "$work/ontstatus"
	(cd "$work/ontstatus" && rm -rf test/results tmp_check test/isolation &&
		make -s clean PG_CONFIG="$pgc" >/dev/null 2>&1)
	if ! make -s -C "$work/ontstatus" PG_CONFIG="$pgc" "${xml2_make[@]}" WERROR=-Werror all >"$logs/build-$config.log" 2>&1 ||
		! make -s -C "$work/ontstatus" PG_CONFIG="$pgc" "${xml2_make[@]}" install >>"$logs/build-$config.log" 2>&1; then
		echo "matrix: the build against $name failed:"
		tail -20 "$logs/build-$config.log"
		failed=$((failed + 1))
		rm -rf "$work"
		continue
	fi
	# the server and ontstatus must load the same libxml2, and not the system's
	if [ -n "$xml2_prefix" ]; then
		for bin in "$bindir/postgres" "$("$pgc" --pkglibdir)/ontstatus.so"; do
			# the whole output first: grep -q would close the pipe on ldd
			libs=$(ldd "$bin")
			if ! grep -q "=> $xml2_prefix/lib/libxml2" <<<"$libs"; then
				echo "matrix: $bin does not load libxml2 from $xml2_prefix/lib:"
				grep libxml2 <<<"$libs"
				failed=$((failed + 1))
				rm -rf "$work"
				continue 2
			fi
		done
	fi
	chown -R postgres: "$work" 2>/dev/null || true

	# a server of this version on a port of its own, its socket in the work dir
	port=$(config_port "$config")
	log=$logs/installcheck-$config.log
	run_as bash -c '
		set -u
		export PATH="'"$bindir"':$PATH" PGHOST="'"$work"'" PGPORT='"$port"' PGUSER=postgres
		initdb -D "'"$work"'/data" -U postgres --no-sync >/dev/null &&
		pg_ctl -D "'"$work"'/data" -l "'"$work"'/server.log" -w \
			-o "-p '"$port"' -k '"$work"' -c listen_addresses=" start >/dev/null || exit 1
		cd "'"$work"'/ontstatus"
		make installcheck PG_CONFIG="'"$pgc"'" '"${xml2_make[*]}"' 2>&1
		rc=$?
		if [ $rc -ne 0 ]; then
			for f in test/regression.diffs test/isolation/output_iso/regression.diffs tmp_check/log/regress_log_*; do
				[ -f "$f" ] && { echo "=== $f"; head -200 "$f"; }
			done
		fi
		# the XML Schema check of real responses, against this server too
		ONTSTATUS_XSD_DIR="'"$xsd_dir"'" test/xsd-check.sh 2>&1
		case $? in
			0) echo "xsd-check .. ok" ;;
			2) echo "xsd-check .. skipped" ;;
			*) echo "xsd-check .. FAILED"; rc=1 ;;
		esac
		# every SQL example of README.md and docs/, against this server too
		if test/doctest/run.sh >doctest.log 2>&1; then
			echo "doctest .. ok"
		else
			echo "doctest .. FAILED"; grep -v "^ok - " doctest.log; rc=1
		fi
		# a crash, or a failed assertion ("TRAP:" and an abort, which the
		# postmaster reports as a signal, unless it failed one itself), in
		# any server log: this server and the TAP nodes
		crashed=$(grep -ls -e "terminated by signal" -e "TRAP:" "'"$work"'/server.log" tmp_check/log/*.log)
		if [ -n "$crashed" ]; then
			echo "=== a backend crashed or failed an assertion: $crashed"
			grep -h -B2 -A5 -e "terminated by signal" -e "TRAP:" $crashed | head -100
			rc=1
		fi
		# a server that does not stop (seen after a failed assertion) must
		# not outlive its directory, holding the port
		pg_ctl -D "'"$work"'/data" -m fast stop >/dev/null ||
			{ echo "=== the server did not stop: stopped in immediate mode"; rc=1
			pg_ctl -D "'"$work"'/data" -m immediate stop >/dev/null; }
		exit $rc
	' >"$log" 2>&1
	rc=$?
	cp "$work/server.log" "$logs/server-$config.log" 2>/dev/null

	read -r p f s < <(suite_counts "$log" "$rc")
	[ "$rc" -ne 0 ] && tail -60 "$log"
	echo "$name: $p passed, $f failed$([ "$s" -gt 0 ] && echo ", $s skipped") (suite $(($(date +%s) - suite_start)) s, in all $(($(date +%s) - start)) s)"
	passed=$((passed + p))
	failed=$((failed + f))
	skipped=$((skipped + s))
	rm -rf "$work"
done

echo
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
