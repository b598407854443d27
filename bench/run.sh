#!/usr/bin/env bash
# make bench: ontstatus against the same job in SQL with PostgreSQL's
# built-in XML (bench/builtin.sql), against a plain SELECT of the same rows
# and against sending its own response precomputed (the transfer limit), on
# tables of 10k, 100k and 1M rows, with pgbench -M prepared -c 2 -j 2 over
# TCP; the requests are the i2b2 Workbench's envelope stored in a table
# (bench/setup.sql).  Runs are interleaved (every variant of a case back to
# back, the whole set repeated BENCH_REPS times) and medians are reported;
# the ratios to the SELECT are measured a second way (one client over the
# Unix socket) and the run fails when the two disagree by more than 25%.
# Then the fast path against libxml2 alone (ontstatus.fast_path), one call
# in the backend with the Workbench's envelope (bench/request_micro.sql),
# the parser alone, the memory one 1000-row call takes (bench/memory.sql)
# and the plans with and without the recommended indexes
# (bench/explain.sql).  docs/performance.md says how to rerun any of it by
# hand.
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

cols='process_id, process_type_cd, process_step_cd, start_date, end_date, process_status_cd, crc_upload_id, message'

# scripts: $shape_$variant.sql.  The requests are stored text (bench/setup.sql),
# read by the query as a client's parameter would arrive; by_id draws one of
# 1000 stored requests, and the SELECT asks for the same process id.
for variant in ontstatus builtin; do
	fn=ontstatus.get_ont_process_status
	[ $variant = builtin ] && fn=bench.get_ont_process_status_sql
	cat >"$work/by_id_$variant.sql" <<SQL
\\set k random(1, 1000)
SELECT $fn(body) FROM request WHERE shape = 'by_id' AND k = :k;
SQL
	for shape in type_status rows_1000; do
		echo "SELECT $fn(body) FROM request WHERE shape = '$shape' AND k = 1;" >"$work/${shape}_$variant.sql"
	done
done
cat >"$work/by_id_select.sql" <<SQL
\\set k random(1, 1000)
\\set id 1 + :k * 7919 % :rows
SELECT $cols FROM ont_process_status WHERE process_id = :id;
SQL
cat >"$work/type_status_select.sql" <<SQL
SELECT $cols FROM ont_process_status WHERE process_type_cd = 'ONT_EDIT_CONCEPT' AND process_status_cd = 'ERROR' ORDER BY process_id LIMIT 1000;
SQL
cat >"$work/rows_1000_select.sql" <<SQL
SELECT $cols FROM ont_process_status ORDER BY process_id LIMIT 1000;
SQL
for shape in by_id type_status rows_1000; do
	echo "SELECT body FROM precomputed WHERE shape = '$shape';" >"$work/${shape}_precomputed.sql"
	echo "SELECT body_xml FROM precomputed WHERE shape = '$shape';" >"$work/${shape}_precomputed_xml.sql"
done

# sanity: for each request, ontstatus and the built-in version return the
# same rows, some rows, and the precomputed response is ontstatus' own
for size in $sizes; do
	PGOPTIONS="-c search_path=bench$size" psql -qXAt -d "$db" -v ON_ERROR_STOP=1 <<'SQL' >"$work/check"
SELECT bool_and(n_ont = n_builtin AND n_ont > 0 AND same)
FROM (SELECT (SELECT count(*) FROM unnest(xpath('//ontology_process_status', ontstatus.get_ont_process_status(r.body)))) AS n_ont,
             (SELECT count(*) FROM unnest(xpath('//ontology_process_status', bench.get_ont_process_status_sql(r.body)))) AS n_builtin,
             regexp_replace(ontstatus.get_ont_process_status(r.body)::text, '<datetime_of_message>[^<]*', '')
               = regexp_replace(p.body, '<datetime_of_message>[^<]*', '') AS same
      FROM request r JOIN precomputed p USING (shape) WHERE r.k = 1) s;
SQL
	grep -q '^t$' "$work/check" || { echo "bench: variants disagree on bench$size"; exit 1; }
done

echo "== the cluster: PostgreSQL $(psql -XAt -d "$db" -c 'SHOW server_version'), connected over $(psql -XAt -d "$db" -c "SELECT CASE WHEN inet_server_addr() IS NULL THEN 'a Unix socket' ELSE 'TCP to ' || host(inet_server_addr()) END || CASE WHEN (SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()) THEN ' with SSL' ELSE ' without SSL' END"); settings not at their defaults:"
psql -XAt -d "$db" -c "SELECT string_agg(name || '=' || setting, ' ' ORDER BY name) FROM pg_settings WHERE source NOT IN ('default', 'override', 'client', 'session') AND name NOT IN ('config_file', 'data_directory', 'hba_file', 'ident_file', 'external_pid_file', 'cluster_name', 'unix_socket_directories', 'port', 'ssl_cert_file', 'ssl_key_file')" | fold -s -w 100 | sed 's/^/   /'

declare -A rows=([10k]=10000 [100k]=100000 [1m]=1000000)
variants="ontstatus builtin select precomputed precomputed_xml"
# one pgbench run: size shape variant clients mode [socket directory];
# prints "tps latency".  Over the socket as root, pgbench runs as the
# cluster's owner, whom peer authentication lets in as himself.
# BENCH_PGOPTIONS adds settings to the run's sessions.
as_owner=()
if [ "$(id -u)" = 0 ]; then
	as_owner=(runuser -u "$(stat -c %U "$(psql -XAt -d "$db" -c 'SHOW data_directory')")" --)
	chmod a+rx "$work"
fi
pgb() {
	local out tps lat fails run=()
	[ -n "${6:-}" ] && run=("${as_owner[@]}")
	out=$("${run[@]}" env PGOPTIONS="-c search_path=bench$1 ${BENCH_PGOPTIONS:-}" PGHOST="${6:-$PGHOST}" pgbench -n -M "$5" \
		-c "$4" -j "$4" -T "$seconds" -D rows="${rows[$1]}" -f "$work/${2}_$3.sql" "$db" 2>&1)
	tps=$(echo "$out" | sed -n 's/^tps = \([0-9.]*\) (without.*/\1/p')
	lat=$(echo "$out" | sed -n 's/^latency average = \([0-9.]*\) ms/\1/p')
	fails=$(echo "$out" | sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p')
	if [ -z "$tps" ] || [ "${fails:-0}" != 0 ]; then
		echo "bench: pgbench failed for $1 $2 $3:" >&2; echo "$out" | tail -5 >&2; return 1
	fi
	echo "$tps $lat"
}
echo "== pgbench -M prepared -c 2 -j 2, ${seconds}s a run, ${reps} repetitions, interleaved"
for rep in $(seq 1 "$reps"); do
	for size in $sizes; do
		for shape in by_id type_status rows_1000; do
			for variant in $variants; do
				r=$(pgb "$size" $shape $variant 2 prepared)
				echo "$size $shape $variant $rep $r" >>"$work/results"
				printf '.'
			done
		done
	done
done
echo

median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
# the median of field f of the lines "size shape variant rep tps latency"
# of a results file: mf file size shape variant f
mf() { awk -v s="$2" -v h="$3" -v v="$4" -v f="$5" '$1==s && $2==h && $3==v {print $f}' "$1" | median; }
m() { mf "$work/results" "$@"; }
ratio() { printf %.2f "$(echo "$1 / $2" | bc -l)"; }

printf '\n%-6s %-12s %9s %9s %9s %9s %9s %8s %8s %8s %8s   %s\n' size request \
	ontstatus built-in SELECT "pre text" "pre xml" "vs built" "vs SEL" "vs pre" "vs p.xml" \
	"latency ms: ontstatus / built-in / SELECT / pre text / pre xml"
for size in $sizes; do
	for shape in by_id type_status rows_1000; do
		a=$(m "$size" $shape ontstatus 5); b=$(m "$size" $shape builtin 5)
		c=$(m "$size" $shape select 5); d=$(m "$size" $shape precomputed 5)
		e=$(m "$size" $shape precomputed_xml 5)
		printf '%-6s %-12s %9.0f %9.0f %9.0f %9.0f %9.0f %7.1fx %7.2fx %7.2fx %7.2fx   %s / %s / %s / %s / %s\n' \
			"$size" $shape "$a" "$b" "$c" "$d" "$e" "$(echo "$a / $b" | bc -l)" "$(echo "$a / $c" | bc -l)" \
			"$(echo "$a / $d" | bc -l)" "$(echo "$a / $e" | bc -l)" \
			"$(m "$size" $shape ontstatus 6)" "$(m "$size" $shape builtin 6)" "$(m "$size" $shape select 6)" \
			"$(m "$size" $shape precomputed 6)" "$(m "$size" $shape precomputed_xml 6)"
		echo "$size $shape $a $b $c $d $e" >>"$work/medians"
	done
done

# A second, simpler measurement of the ratios to the SELECT: one client
# over the server's Unix socket instead of two over TCP, the same scripts.
# Both should tell the same story; when they do not, the table above was
# distorted by something one of them has and the other has not (a client
# starved of CPU by the two backends, the TCP stack), and the single client
# is the one to trust, as it measures the cost of a call alone.
zsize=$(echo "$sizes" | tr ' ' '\n' | grep -x 100k || echo "$sizes" | awk '{print $1}')
socket=$(psql -XAt -d "$db" -c 'SHOW unix_socket_directories' | cut -d, -f1)
echo
echo "== check: the same ratios from one client over the Unix socket ($zsize, ${reps} repetitions)"
: >"$work/single"
for rep in $(seq 1 "$reps"); do
	for shape in by_id rows_1000; do
		for variant in ontstatus select; do
			r=$(pgb "$zsize" $shape $variant 1 prepared "$socket")
			echo "$zsize $shape $variant $rep $r" >>"$work/single"
		done
	done
done
disagree=0
for shape in by_id rows_1000; do
	one=$(echo "$(mf "$work/single" "$zsize" $shape ontstatus 5) / $(mf "$work/single" "$zsize" $shape select 5)" | bc -l)
	two=$(echo "$(m "$zsize" $shape ontstatus 5) / $(m "$zsize" $shape select 5)" | bc -l)
	if [ "$(echo "$one / $two <= 1.25 && $two / $one <= 1.25" | bc -l)" = 1 ]; then
		verdict=agree
	else
		verdict="DISAGREE by more than 25%: trust the single client"; disagree=1
	fi
	printf '%-12s ontstatus / SELECT: %.2fx with two clients, %.2fx with one: %s\n' $shape "$two" "$one" "$verdict"
done

# the targets, on the 100k table
if [[ " $sizes " == *" 100k "* ]]; then
	echo
	echo "== targets (100k table)"
	target() { if [ "$(echo "$2" | bc -l)" = 1 ]; then echo "  met:    $1"; else echo "  MISSED: $1"; fi; }
	read -r _ _ a b c d e < <(grep '^100k by_id ' "$work/medians")
	target "by id >= 5x built-in ($(ratio "$a" "$b")x)" "$a >= 5 * $b"
	target "by id >= 0.6x SELECT ($(ratio "$a" "$c")x)" "$a >= 0.6 * $c"
	read -r _ _ a b c d e < <(grep '^100k rows_1000 ' "$work/medians")
	target "1000 rows >= 0.8x the same response precomputed as text ($(ratio "$a" "$d")x; as xml $(ratio "$a" "$e")x; xml itself $(ratio "$e" "$d")x text)" "$a >= 0.8 * $d"
fi

# Page faults per call, the cost that differs most between machines and
# days: a large response is written into fresh memory (ontstatus' buffer,
# the output function's copies, the protocol buffer), which glibc gives
# back to the kernel after the call and faults in again on the next one.
# One psql session runs each request 200 times, each result read whole and
# discarded, between two readings of the backend's minor fault count.
echo
echo "== page faults per call in the backend ($zsize, 200 calls each)"
for shape in by_id rows_1000; do
	for variant in ontstatus select precomputed precomputed_xml; do
		{
			echo "SET search_path = bench$zsize;"
			echo "SELECT split_part(pg_read_file('/proc/self/stat'), ' ', 10) AS f0 \\gset"
			for i in $(seq 1 200); do
				sed -e 's/;$//' -e 's/:k/1/g' -e "s/:id/$((1 + 7919 % ${rows[$zsize]}))/g" -e '/^\\set/d' \
					"$work/${shape}_$variant.sql"
				echo '\g /dev/null'
			done
			echo "SELECT round((split_part(pg_read_file('/proc/self/stat'), ' ', 10)::bigint - :f0) / 200.0, 1);"
		} >"$work/faults.sql"
		printf '%-12s %-16s %8s faults a call\n' $shape $variant "$(psql -qXAt -d "$db" -f "$work/faults.sql" | tail -1)"
	done
done

# One setting against another, over the wire, interleaved: for each shape
# named, pgbench with PGOPTIONS "-c NAME=A" and "-c NAME=B" (an empty value:
# the setting left unset), reps times; the medians and B/A.
#   compare_setting NAME A B "shape ..."
compare_setting() {
	local name=$1 a=$2 b=$3 shapes=$4 rep shape v r va vb
	: >"$work/setting"
	for rep in $(seq 1 "$reps"); do
		for shape in $shapes; do
			for v in "$a" "$b"; do
				r=$(BENCH_PGOPTIONS="${v:+-c $name=$v}" pgb "$zsize" "$shape" ontstatus 2 prepared)
				echo "$zsize $shape ${v:-unset} $rep $r" >>"$work/setting"
			done
		done
	done
	for shape in $shapes; do
		va=$(mf "$work/setting" "$zsize" "$shape" "${a:-unset}" 5)
		vb=$(mf "$work/setting" "$zsize" "$shape" "${b:-unset}" 5)
		printf '%-12s %s %10.0f tps   %s %10.0f tps   %s/%s %.3f\n' "$shape" "${a:-unset}" "$va" \
			"${b:-unset}" "$vb" "${b:-unset}" "${a:-unset}" "$(echo "$vb / $va" | bc -l)"
	done
}
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
if [ "$disagree" != 0 ]; then
	echo "bench: the two measurements of the ratios to the SELECT disagree (see \"check\" above)"
	exit 1
fi
