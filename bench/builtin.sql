-- The same job as ontstatus.get_ont_process_status, written in SQL with
-- PostgreSQL's built-in XML support, as a capable DBA would write it:
-- XMLTABLE reads the request, dynamic SQL adds only the filters present (so
-- every filter can use an index), xmlelement/xmlforest/xmlagg build the
-- response.  It is the baseline of make bench, nothing more: it has none of
-- ontstatus' hardening (DOCTYPE, size limits, control characters).
CREATE SCHEMA IF NOT EXISTS bench;

CREATE FUNCTION bench.get_ont_process_status_sql(request text) RETURNS xml
LANGUAGE plpgsql STABLE AS $fn$
DECLARE
  doc xml := XMLPARSE(DOCUMENT request);
  hdr record;
  f record;
  sql text := 'SELECT process_id, process_type_cd, process_step_cd, start_date, end_date,'
              ' process_status_cd, crc_upload_id, message FROM ont_process_status WHERE true';
  body xml;
BEGIN
  SELECT * INTO hdr
  FROM XMLTABLE(XMLNAMESPACES('http://www.i2b2.org/xsd/hive/msg/1.1/' AS hive),
                '/hive:request/message_header' PASSING doc
                COLUMNS app_name text PATH 'sending_application/application_name',
                        app_version text PATH 'sending_application/application_version',
                        facility text PATH 'sending_facility/facility_name',
                        domain text PATH 'security/domain',
                        username text PATH 'security/username',
                        session_id text PATH 'message_control_id/session_id',
                        message_num text PATH 'message_control_id/message_num',
                        project_id text PATH 'project_id');
  SELECT * INTO f
  FROM XMLTABLE(XMLNAMESPACES('http://www.i2b2.org/xsd/cell/ont/1.1/' AS ont),
                '//ont:get_ont_process_status' PASSING doc
                COLUMNS max_return_records int PATH '@max_return_records',
                        process_id bigint PATH 'process_id[. != ""]',
                        process_type_cd text PATH 'process_type_cd[. != ""]',
                        process_status_cd text PATH 'process_status_cd[. != ""]',
                        started_from timestamptz PATH 'process_start_date/start_time[. != ""]',
                        started_to timestamptz PATH 'process_start_date/end_time[. != ""]',
                        ended_from timestamptz PATH 'process_end_date/start_time[. != ""]',
                        ended_to timestamptz PATH 'process_end_date/end_time[. != ""]');
  IF f.process_id IS NOT NULL THEN sql := sql || ' AND process_id = $1'; END IF;
  IF f.process_type_cd IS NOT NULL THEN sql := sql || ' AND process_type_cd = $2'; END IF;
  IF f.process_status_cd IS NOT NULL THEN sql := sql || ' AND process_status_cd = $3'; END IF;
  IF f.started_from IS NOT NULL THEN sql := sql || ' AND start_date >= $4'; END IF;
  IF f.started_to IS NOT NULL THEN sql := sql || ' AND start_date <= $5'; END IF;
  IF f.ended_from IS NOT NULL THEN sql := sql || ' AND end_date >= $6'; END IF;
  IF f.ended_to IS NOT NULL THEN sql := sql || ' AND end_date <= $7'; END IF;
  sql := 'SELECT xmlelement(name "ns4:ontology_process_status_list", xmlagg('
         ' xmlelement(name ontology_process_status, xmlforest('
         '  s.process_id, s.process_type_cd, s.process_step_cd,'
         '  to_char(s.start_date::timestamptz, ''YYYY-MM-DD"T"HH24:MI:SS.MSTZH:TZM'') AS start_date,'
         '  to_char(s.end_date::timestamptz, ''YYYY-MM-DD"T"HH24:MI:SS.MSTZH:TZM'') AS end_date,'
         '  s.process_status_cd, s.crc_upload_id, s.message)) ORDER BY s.process_id))'
         ' FROM (' || sql || ' ORDER BY process_id LIMIT $8) s';
  EXECUTE sql INTO body
    USING f.process_id, f.process_type_cd, f.process_status_cd, f.started_from, f.started_to,
          f.ended_from, f.ended_to, coalesce(nullif(f.max_return_records, 0), 1000);

  RETURN xmlelement(name "ns5:response",
    xmlattributes('http://www.i2b2.org/xsd/hive/msg/1.1/' AS "xmlns:ns5",
                  'http://www.i2b2.org/xsd/cell/ont/1.1/' AS "xmlns:ns4"),
    xmlelement(name message_header,
      xmlelement(name i2b2_version_compatible, '1.1'),
      xmlelement(name hl7_version_compatible, '2.4'),
      xmlelement(name sending_application,
        xmlelement(name application_name, 'Ontology Cell'),
        xmlelement(name application_version, '1.700')),
      xmlelement(name sending_facility, xmlelement(name facility_name, 'i2b2 Hive')),
      xmlelement(name receiving_application,
        xmlforest(hdr.app_name AS application_name, hdr.app_version AS application_version)),
      xmlelement(name receiving_facility, xmlforest(hdr.facility AS facility_name)),
      xmlelement(name datetime_of_message,
                 to_char(clock_timestamp(), 'YYYY-MM-DD"T"HH24:MI:SS.MSTZH:TZM')),
      xmlelement(name security, xmlforest(hdr.domain, hdr.username)),
      xmlelement(name message_control_id,
        xmlforest(hdr.session_id, hdr.message_num, 1 AS instance_num)),
      xmlelement(name processing_id,
        xmlelement(name processing_id, 'P'), xmlelement(name processing_mode, 'I')),
      xmlelement(name accept_acknowledgement_type, 'AL'),
      xmlelement(name application_acknowledgement_type, 'AL'),
      xmlelement(name country_code, 'US'),
      xmlforest(hdr.project_id)),
    xmlelement(name response_header,
      xmlelement(name result_status,
        xmlelement(name status, xmlattributes('DONE' AS type), 'Ontology processing completed'))),
    xmlelement(name message_body,
      coalesce(body, xmlelement(name "ns4:ontology_process_status_list"))));
END
$fn$;
