#!/usr/bin/env bash
# The tested majors said once: test/matrix/tested-majors is what check_setup
# is built with and what the matrix runs by default; the README's
# supported-versions table must say "supported, tested" for exactly those
# majors.  Exits non-zero, saying what differs, when they disagree.
set -euo pipefail
cd "$(dirname "$0")/.."
list=$(sed -n '/^[0-9]/p' test/matrix/tested-majors | tr -s ' ' '\n' | sort -n | tr '\n' ' ')
readme=$(sed -n '/^### Supported versions/,/^##[^#]/p' README.md |
	awk -F'|' '$4 ~ /supported, tested/ { gsub(/ /, "", $2); print $2 }' | sort -nu | tr '\n' ' ')
# run.sh's default (it reads tested-majors and adds its extra configurations),
# whatever ONTSTATUS_PG_MAJORS this shell has
matrix=$(env -u ONTSTATUS_PG_MAJORS bash -c 'source <(sed -n "/^majors=/p" test/matrix/run.sh); echo "$majors"' |
	tr -s ' ' '\n' | sed 's/+.*//' | sort -nu | tr '\n' ' ')
rc=0
if [ "$list" != "$readme" ]; then
	echo "not ok - README's supported-versions table says tested: $readme; test/matrix/tested-majors: $list"
	rc=1
fi
if [ "$list" != "$matrix" ]; then
	echo "not ok - make matrix runs by default: $matrix; test/matrix/tested-majors: $list"
	rc=1
fi
[ $rc -eq 0 ] && echo "ok - tested majors: $list(test/matrix/tested-majors, README, make matrix)"
exit $rc
