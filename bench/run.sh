#!/usr/bin/env bash
# make bench: ontstatus against the same job in SQL with PostgreSQL's
# built-in XML (bench/builtin.sql) and against a plain SELECT of the same
# rows, on tables of 10k, 100k and 1M rows, with pgbench -M prepared -c 2
# -j 2; the fast path against libxml2 alone (ontstatus.fast_path), and one
# call in the backend with the Workbench's envelope (bench/request_micro.sql).  Runs are interleaved (every variant of a case back to back, the
# whole set repeated BENCH_REPS times) and medians are reported.  Then the
# memory one 1000-row call takes (bench/memory.sql) and the plans with and
# without the recommended indexes (bench/explain.sql).
#
#   BENCH_SECONDS  length of one pgbench run (default 5)
#   BENCH_REPS     repetitions of the whole set (default 3)
#   BENCH_SIZES    table sizes to run (default "10k 100k 1m")
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
seconds=${BENCH_SECONDS:-5}
reps=${BENCH_REPS:-3}
sizes=${BENCH_SIZES:-"10k 100k 1m"}

if [ -z "${PGHOST:-}" ] || [ -z "${BENCH_IN_VIRTUALENV:-}" ]; then
	exec env BENCH_IN_VIRTUALENV=1 pg_virtualenv -t -v 15 \
		-o shared_buffers=512MB -o max_connections=20 "$0" "$@"
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
db=ontstatus_bench
createdb "$db"
echo "== loading 10k, 100k and 1M rows"
PGOPTIONS="-c bench.fixture=$top/test/fixtures/ont_process_status.sql" \
	psql -qX -d "$db" -f bench/setup.sql >/dev/null

envelope_head='<ns6:request xmlns:ns4="http://www.i2b2.org/xsd/cell/ont/1.1/" xmlns:ns6="http://www.i2b2.org/xsd/hive/msg/1.1/"><message_header><i2b2_version_compatible>1.1</i2b2_version_compatible><hl7_version_compatible>2.4</hl7_version_compatible><sending_application><application_name>i2b2 Ontology</application_name><application_version>1.7</application_version></sending_application><sending_facility><facility_name>i2b2 Hive</facility_name></sending_facility><datetime_of_message>2010-04-06T10:31:08.390-04:00</datetime_of_message><security><domain>i2b2demo</domain><username>demo</username><password is_token="true">SessionKey:abc</password></security><message_control_id><session_id>GCHTJ4Vc3KmqKwO5Cosf</session_id><message_num>dW9J8w1gLFqnR5Fuz5ov</message_num><instance_num>0</instance_num></message_control_id><project_id>Demo</project_id></message_header><request_header><result_waittime_ms>180000</result_waittime_ms></request_header><message_body>'
envelope_tail='</message_body></ns6:request>'
# pgbench takes every ":name" for a variable: write the XML's colons as
# chr(58), which the planner folds into the prepared statement's constant
colons() { printf '%s' "$1" | sed "s/:/' || chr(58) || '/g"; }
envelope_head=$(colons "$envelope_head")
envelope_tail=$(colons "$envelope_tail")
cols='process_id, process_type_cd, process_step_cd, start_date, end_date, process_status_cd, crc_upload_id, message'

# scripts: $shape_$variant.sql; by_id draws a random existing id
for variant in ontstatus builtin; do
	fn=ontstatus.get_ont_process_status
	[ $variant = builtin ] && fn=bench.get_ont_process_status_sql
	cat >"$work/by_id_$variant.sql" <<SQL
\\set id random(1, :rows)
SELECT $fn('$envelope_head$(colons '<ns4:get_ont_process_status><process_id>')' || :id || '$(colons '</process_id></ns4:get_ont_process_status>')$envelope_tail');
SQL
	cat >"$work/type_status_$variant.sql" <<SQL
SELECT $fn('$envelope_head$(colons '<ns4:get_ont_process_status max_return_records="1000"><process_type_cd>ONT_EDIT_CONCEPT</process_type_cd><process_status_cd>ERROR</process_status_cd></ns4:get_ont_process_status>')$envelope_tail');
SQL
	cat >"$work/rows_1000_$variant.sql" <<SQL
SELECT $fn('$envelope_head$(colons '<ns4:get_ont_process_status max_return_records="1000"/>')$envelope_tail');
SQL
done
cat >"$work/by_id_select.sql" <<SQL
\\set id random(1, :rows)
SELECT $cols FROM ont_process_status WHERE process_id = :id ORDER BY process_id LIMIT 1000;
SQL
cat >"$work/type_status_select.sql" <<SQL
SELECT $cols FROM ont_process_status WHERE process_type_cd = 'ONT_EDIT_CONCEPT' AND process_status_cd = 'ERROR' ORDER BY process_id LIMIT 1000;
SQL
cat >"$work/rows_1000_select.sql" <<SQL
SELECT $cols FROM ont_process_status ORDER BY process_id LIMIT 1000;
SQL

# sanity: the variants answer with the same rows
for size in $sizes; do
	PGOPTIONS="-c search_path=bench$size" psql -qXAt -d "$db" -v ON_ERROR_STOP=1 <<'SQL' >"$work/check"
SELECT (SELECT count(*) FROM unnest(xpath('//ontology_process_status', ontstatus.get_ont_process_status(r))))
     = (SELECT count(*) FROM unnest(xpath('//ontology_process_status', bench.get_ont_process_status_sql(r))))
FROM (VALUES ('<ns6:request xmlns:ns6="http://www.i2b2.org/xsd/hive/msg/1.1/"><message_body><ns4:get_ont_process_status xmlns:ns4="http://www.i2b2.org/xsd/cell/ont/1.1/" max_return_records="1000"><process_type_cd>ONT_EDIT_CONCEPT</process_type_cd><process_status_cd>ERROR</process_status_cd></ns4:get_ont_process_status></message_body></ns6:request>')) AS t(r);
SQL
	grep -q '^t$' "$work/check" || { echo "bench: variants disagree on bench$size"; exit 1; }
done

declare -A rows=([10k]=10000 [100k]=100000 [1m]=1000000)
echo "== pgbench -M prepared -c 2 -j 2, ${seconds}s a run, ${reps} repetitions, interleaved"
for rep in $(seq 1 "$reps"); do
	for size in $sizes; do
		for shape in by_id type_status rows_1000; do
			for variant in ontstatus builtin select; do
				out=$(PGOPTIONS="-c search_path=bench$size" pgbench -n -M prepared -c 2 -j 2 \
					-T "$seconds" -D rows="${rows[$size]}" -f "$work/${shape}_$variant.sql" "$db" 2>&1)
				tps=$(echo "$out" | sed -n 's/^tps = \([0-9.]*\) (without.*/\1/p')
				lat=$(echo "$out" | sed -n 's/^latency average = \([0-9.]*\) ms/\1/p')
				fails=$(echo "$out" | sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p')
				if [ -z "$tps" ] || [ "${fails:-0}" != 0 ]; then
					echo "bench: pgbench failed for $size $shape $variant:"; echo "$out" | tail -5; exit 1
				fi
				echo "$size $shape $variant $rep $tps $lat" >>"$work/results"
				printf '.'
			done
		done
	done
done
echo

median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
m() { awk -v s="$1" -v h="$2" -v v="$3" -v f="$4" '$1==s && $2==h && $3==v {print $f}' "$work/results" | median; }

printf '\n%-6s %-12s %12s %12s %12s %10s %10s %10s %10s %10s\n' size request \
	"ontstatus" "built-in" "SELECT" "vs built" "vs SELECT" "lat ont" "lat built" "lat SEL"
printf '%-6s %-12s %12s %12s %12s %10s %10s %10s %10s %10s\n' "" "" "tps" "tps" "tps" "" "" "ms" "ms" "ms"
for size in $sizes; do
	for shape in by_id type_status rows_1000; do
		a=$(m "$size" $shape ontstatus 5); b=$(m "$size" $shape builtin 5); c=$(m "$size" $shape select 5)
		la=$(m "$size" $shape ontstatus 6); lb=$(m "$size" $shape builtin 6); lc=$(m "$size" $shape select 6)
		printf '%-6s %-12s %12.0f %12.0f %12.0f %9.1fx %9.2fx %10.3f %10.3f %10.3f\n' "$size" $shape \
			"$a" "$b" "$c" "$(echo "$a / $b" | bc -l)" "$(echo "$a / $c" | bc -l)" "$la" "$lb" "$lc"
		echo "$size $shape $a $b $c $la $lb $lc" >>"$work/medians"
	done
done

# the issue's targets, on the 100k table (and by-id latency 1M vs 10k)
if [[ " $sizes " == *" 100k "* ]]; then
	echo
	echo "== targets (100k table)"
	target() { if [ "$(echo "$2" | bc -l)" = 1 ]; then echo "  met:    $1"; else echo "  MISSED: $1"; fi; }
	read -r _ _ a b c _ _ _ < <(grep '^100k by_id ' "$work/medians")
	target "by id >= 3x built-in ($(printf %.1f "$(echo "$a/$b" | bc -l)")x)" "$a >= 3 * $b"
	target "by id >= 2/3 of SELECT ($(printf %.2f "$(echo "$a/$c" | bc -l)")x)" "$a >= 2 / 3 * $c"
	read -r _ _ a b c _ _ _ < <(grep '^100k type_status ' "$work/medians")
	target "type+status >= 4x built-in ($(printf %.1f "$(echo "$a/$b" | bc -l)")x)" "$a >= 4 * $b"
	read -r _ _ a b c _ _ _ < <(grep '^100k rows_1000 ' "$work/medians")
	target "1000 rows >= 20x built-in ($(printf %.1f "$(echo "$a/$b" | bc -l)")x)" "$a >= 20 * $b"
	target "1000 rows >= SELECT ($(printf %.2f "$(echo "$a/$c" | bc -l)")x)" "$a >= $c"
	if [[ " $sizes " == *" 1m "* && " $sizes " == *" 10k "* ]]; then
		read -r _ _ _ _ _ l1m _ _ < <(grep '^1m by_id ' "$work/medians")
		read -r _ _ _ _ _ l10k _ _ < <(grep '^10k by_id ' "$work/medians")
		target "by-id latency 1M <= 1.2x 10k ($(printf %.2f "$(echo "$l1m/$l10k" | bc -l)")x)" "$l1m <= 1.2 * $l10k"
	fi
fi

# One setting against another, over the wire, interleaved: for each shape
# named, pgbench with PGOPTIONS "-c NAME=A" and "-c NAME=B" (an empty value:
# the setting left unset), reps times; the medians and B/A.
#   compare_setting NAME A B "shape ..."
compare_setting() {
	local name=$1 a=$2 b=$3 shapes=$4 rep shape v opts out tps va vb
	: >"$work/setting"
	for rep in $(seq 1 "$reps"); do
		for shape in $shapes; do
			for v in "$a" "$b"; do
				opts="-c search_path=bench$zsize"
				[ -n "$v" ] && opts="$opts -c $name=$v"
				out=$(PGOPTIONS="$opts" pgbench -n -M prepared -c 2 -j 2 -T "$seconds" \
					-D rows="${rows[$zsize]}" -f "$work/${shape}_ontstatus.sql" "$db" 2>&1)
				tps=$(echo "$out" | sed -n 's/^tps = \([0-9.]*\) (without.*/\1/p')
				[ -n "$tps" ] || { echo "bench: pgbench failed for $name=$v:"; echo "$out" | tail -5; exit 1; }
				echo "$shape ${v:-unset} $tps" >>"$work/setting"
			done
		done
	done
	for shape in $shapes; do
		va=$(awk -v h="$shape" -v v="${a:-unset}" '$1==h && $2==v {print $3}' "$work/setting" | median)
		vb=$(awk -v h="$shape" -v v="${b:-unset}" '$1==h && $2==v {print $3}' "$work/setting" | median)
		printf '%-12s %s %10.0f tps   %s %10.0f tps   %s/%s %.3f\n' "$shape" "${a:-unset}" "$va" \
			"${b:-unset}" "$vb" "${b:-unset}" "${a:-unset}" "$(echo "$vb / $va" | bc -l)"
	done
}
zsize=$(echo "$sizes" | tr ' ' '\n' | grep -x 100k || echo "$sizes" | awk '{print $1}')

# What ontstatus.table_time_zone costs: every call then runs with TimeZone
# set to it (a GUC save and restore), on the requests above.
echo
echo "== ontstatus.table_time_zone = America/New_York against unset ($zsize, ${reps} repetitions)"
compare_setting ontstatus.table_time_zone "" America/New_York "by_id rows_1000"

# The request's two readers: libxml2 alone (ontstatus.fast_path = off)
# against the fast path
echo
echo "== ontstatus.fast_path off (libxml2) against on ($zsize, ${reps} repetitions)"
compare_setting ontstatus.fast_path off on "by_id type_status rows_1000"

# ... and in the backend, the Workbench's envelope against a bare request
psql -qX -d "$db" -f bench/request_micro.sql

# ... and the parser alone, outside the backend (CPU time)
echo
echo "== the request parser alone: one reading as the backend reads it against libxml2 alone, the guards included (median of 7 runs)"
# shellcheck disable=SC2046
gcc -O2 -Isrc $(xml2-config --cflags) bench/request_parse.c src/request_guards.c \
	src/request_fast_path.c src/request_libxml2.c src/request_parser.c $(xml2-config --libs) \
	-o "$work/request_parse"
"$work/request_parse" bench/workbench_request.xml bench/bare_request.xml

psql -qX -d "$db" -f bench/memory.sql
psql -qX -d "$db" -f bench/run_process_memory.sql
echo
echo "== indexes: the plans ontstatus gets on 100k rows without and with the recommended indexes"
psql -qX -d "$db" -f bench/explain.sql | grep -E "^==|Scan|Sort|Limit|Execution Time|Planning Time|Index Cond|Filter|Rows Removed"

echo
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GB", $2/1048576}' /proc/meminfo), $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1); $(psql -XAt -d "$db" -c 'SELECT version()' | cut -d, -f1)"
