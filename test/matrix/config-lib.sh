# shellcheck shell=bash
# Sourced by run.sh, debian-release.sh and interrupt-check.sh: what every
# matrix configuration shares.
#
#   config_port CONFIG    its server's port: 54300 + major, 50 more with a
#                         libxml2 of its own, 100 more with assertions, 150
#                         more for 18-sid (the source-built 18 has 54318)
#   suite_counts LOG RC   what its suite's log says: "passed failed skipped"
#
# pg_regress says "test x ... ok" before 16 and "ok 1 - x" (TAP) after;
# prove says "test/t/x.pl .. ok", "skipped: why" for a file that skips
# itself, "Failed" or "Dubious"; the XSD check and the doc test print a
# line of their own.  A suite that exited non-zero (RC) without a counted
# failure counts one: a crash or a server that did not stop fails it too.
config_port() {
	local major=${1%%[-+]*}
	case $1 in
		*+libxml2-*) echo $((54350 + major)) ;;
		*+cassert) echo $((54400 + major)) ;;
		*-sid) echo $((54450 + major)) ;;
		*) echo $((54300 + major)) ;;
	esac
}

suite_counts() {
	local log=$1 rc=$2 p f s
	p=$(grep -cE "^(test .*\.\.\. ok|ok +[0-9]+ +[-+] )" "$log")
	f=$(grep -cE "^(test .*\.\.\. (FAILED|failed)|not ok +[0-9]+ )" "$log")
	p=$((p + $(grep -cE "^test/t/.*\.pl \.+ ok" "$log")))
	f=$((f + $(grep -cE "^test/t/.*\.pl \.+ .*(Failed|Dubious)" "$log")))
	s=$(grep -cE "^test/t/.*\.pl \.+ skipped" "$log")
	p=$((p + $(grep -c "^xsd-check \.\. ok" "$log") + $(grep -c "^doctest \.\. ok" "$log")))
	f=$((f + $(grep -c "^xsd-check \.\. FAILED" "$log") + $(grep -c "^doctest \.\. FAILED" "$log")))
	s=$((s + $(grep -c "^xsd-check \.\. skipped" "$log")))
	[ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && f=1
	echo "$p $f $s"
}
