#!/usr/bin/env bash
# Validates the ontology_process_status_list of real responses against the
# i2b2 schema ONT_RESP.xsd with xmllint.  Runs against the server named by
# the PG* environment (test/run-tests.sh runs it inside pg_virtualenv).
#
# The XSD is read from ../shared/i2b2-xsd (or $ONTSTATUS_XSD_DIR) and never
# copied into the project.  Without it the check says SKIPPED and exits 2.
set -euo pipefail
cd "$(dirname "$0")/.."

xsd_dir=${ONTSTATUS_XSD_DIR:-../shared/i2b2-xsd}
if [ ! -f "$xsd_dir/ONT_RESP.xsd" ]; then
	echo "xsd-check: SKIPPED: $xsd_dir/ONT_RESP.xsd not found"
	exit 2
fi

db=ontstatus_xsd
work=$(mktemp -d)
trap 'rm -rf "$work"; dropdb --if-exists "$db" 2>/dev/null || true' EXIT
dropdb --if-exists "$db" 2>/dev/null
createdb "$db"
psql -qX -v ON_ERROR_STOP=1 -d "$db" <<'SQL'
CREATE EXTENSION ontstatus;
CREATE SCHEMA i2b2metadata;
SET search_path = i2b2metadata;
\i test/fixtures/ont_process_status.sql
-- rows without NULLs, with the text a response must escape
INSERT INTO i2b2metadata.ont_process_status
    (process_type_cd, start_date, end_date, process_step_cd, process_status_cd, crc_upload_id, message)
VALUES
 ('ONT_UPDATE_CRC_CONCEPT', '2010-04-05 00:00', '2010-04-05 00:10', 'ONT_SENTTO_CRCLOADER', 'COMPLETED', 624, 'done'),
 ('ONT_PATIENT_COUNT_UPDATE', '2011-01-01 00:00:00.123456', '2011-01-01 01:00', 'ONT_PATIENT_COUNT_UPDATE',
  'KILLED', 0, 'PROCESSED 120/4000 <a> & "b" ' || chr(7) || chr(13) || ' Grüße – 日本 ✓'),
 ('ONT_ADD_CONCEPT', '1999-12-31 23:59:59.999', '2000-01-01 00:00', 'ONT_SENTTO_FRC', 'ERROR', 2147483647, '');
SQL

request='<ns6:request xmlns:ns6="http://www.i2b2.org/xsd/hive/msg/1.1/" xmlns:ns4="http://www.i2b2.org/xsd/cell/ont/1.1/">
<message_header><security><domain>i2b2demo</domain><username>demo</username><password>demouser</password></security><project_id>Demo</project_id></message_header>
<message_body><ns4:get_ont_process_status max_return_records="100"><process_id/></ns4:get_ont_process_status></message_body></ns6:request>'

failed=0
for tz in America/New_York Asia/Kolkata UTC; do
	body="$work/body-${tz//\//_}.xml"
	echo "SET ontstatus.schema = 'i2b2metadata';
	      SELECT (xpath('/*/message_body/*', ontstatus.get_ont_process_status(:'req')))[1]" |
		PGTZ=$tz psql -qXAt -v ON_ERROR_STOP=1 -d "$db" -v req="$request" >"$body"
	rows=$(grep -c "<ontology_process_status>" "$body" || true)
	if [ "$rows" -ne 3 ]; then
		echo "xsd-check: FAILED: expected 3 rows in the $tz response, got $rows"; failed=1; continue
	fi
	if xmllint --noout --schema "$xsd_dir/ONT_RESP.xsd" "$body" 2>"$work/err"; then
		echo "xsd-check: $tz response validates against ONT_RESP.xsd"
	else
		echo "xsd-check: FAILED: $tz response does not validate:"; cat "$work/err"; failed=1
	fi
done

# the check itself must be able to fail: a list with the elements of a row
# out of the XSD's order is refused
sed 's|<process_type_cd>\([^<]*\)</process_type_cd><process_step_cd>\([^<]*\)</process_step_cd>|<process_step_cd>\2</process_step_cd><process_type_cd>\1</process_type_cd>|' \
	"$work/body-UTC.xml" >"$work/broken.xml"
if cmp -s "$work/body-UTC.xml" "$work/broken.xml"; then
	echo "xsd-check: FAILED: could not build the out-of-order list"; failed=1
elif xmllint --noout --schema "$xsd_dir/ONT_RESP.xsd" "$work/broken.xml" 2>/dev/null; then
	echo "xsd-check: FAILED: a list with elements out of order was accepted"; failed=1
else
	echo "xsd-check: a list with elements out of order is refused, as it should be"
fi

exit $failed
