/*
 * The ONT cell's own path to ontstatus: PgJDBC and JAXB.
 *
 * A request is marshalled with JAXB classes that xjc generated from i2b2's
 * XSDs, sent with PreparedStatement.setString to
 * SELECT ontstatus.get_ont_process_status(?), read back with getString(1)
 * and unmarshalled with the same classes, as i2b2's Java clients do.  Every
 * field of every ontology_process_status is compared with the table row
 * read through JDBC.  test/java/run.sh generates the classes, creates the
 * fixture and runs this program once per JVM time zone.
 *
 *   java -Duser.timezone=ZONE OntStatusJdbcTest --table-zone=America/New_York
 *
 * --table-zone is the zone the table's timestamp columns are written in (the
 * cell's JVM zone).  When the JVM runs in that zone this program is the cell:
 * it first writes rows the way the cell does (setTimestamp with
 * java.sql.Timestamp instants).  In any other zone it is another Java client
 * of the same table, which names the cell's zone with
 * ontstatus.table_time_zone in the connection's options.
 *
 * Connection: PGHOST, PGPORT, ONTSTATUS_JDBC_DB, ONTSTATUS_JDBC_USER,
 * ONTSTATUS_JDBC_PASSWORD.  Prints PASS/FAIL per check; exits 1 on any
 * failure.
 */

import java.io.StringReader;
import java.io.StringWriter;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.sql.Types;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.GregorianCalendar;
import java.util.List;
import java.util.Objects;
import java.util.Properties;

import javax.xml.bind.JAXBContext;
import javax.xml.bind.JAXBElement;
import javax.xml.bind.Marshaller;
import javax.xml.bind.Unmarshaller;
import javax.xml.bind.ValidationEvent;
import javax.xml.datatype.DatatypeConstants;
import javax.xml.datatype.DatatypeFactory;
import javax.xml.datatype.XMLGregorianCalendar;
import javax.xml.transform.stream.StreamSource;

import org.i2b2.xsd.cell.ont._1.GetCategoriesType;
import org.i2b2.xsd.cell.ont._1.GetOntProcessStatusType;
import org.i2b2.xsd.cell.ont._1.OntologyProcessStatusListType;
import org.i2b2.xsd.cell.ont._1.OntologyProcessStatusType;
import org.i2b2.xsd.hive.msg._1.ApplicationType;
import org.i2b2.xsd.hive.msg._1.BodyType;
import org.i2b2.xsd.hive.msg._1.FacilityType;
import org.i2b2.xsd.hive.msg._1.MessageControlIdType;
import org.i2b2.xsd.hive.msg._1.MessageHeaderType;
import org.i2b2.xsd.hive.msg._1.MessageTypeType;
import org.i2b2.xsd.hive.msg._1.PasswordType;
import org.i2b2.xsd.hive.msg._1.ProcessingIdType;
import org.i2b2.xsd.hive.msg._1.RequestHeaderType;
import org.i2b2.xsd.hive.msg._1.RequestMessageType;
import org.i2b2.xsd.hive.msg._1.ResponseMessageType;
import org.i2b2.xsd.hive.msg._1.SecurityType;
import org.i2b2.xsd.hive.msg._1.StatusType;

public final class OntStatusJdbcTest {

	static final String CALL = "SELECT ontstatus.get_ont_process_status(?)";
	static final String ROWS = "SELECT process_id, process_type_cd, process_step_cd, start_date, end_date,"
			+ " process_status_cd, crc_upload_id, message FROM ont_process_status";

	/* what the cell writes, as instants (new java.util.Date() in the cell) */
	static final String CELL_MARK = "ontstatus-jdbc-test";
	static final String CELL_USER = "démo_用户";
	static final String NON_ASCII_TYPE = "ONT_ÄNDERUNG_✓_日本";
	static final Object[][] CELL_ROWS = {
		/* type, step, status, start, end, crc_upload_id, message */
		{ "ONT_PATIENT_COUNT_UPDATE", "PROCESSED 2210/4000", "PROCESSING",
		  Instant.parse("2024-07-03T23:59:59.500Z"), Instant.parse("2024-07-04T03:02:01.999Z"), null,
		  "" },
		{ "ONT_UPDATE_CRC_CONCEPT", "ONT_BUILD_PDO_START", "PROCESSING",
		  Instant.parse("2024-01-15T17:45:12.345Z"), null, null,
		  "Grüße aus Zürich – 日本語 – Ελληνικά – 😀 e\u0301 <tag attr=\"v\"> & 'x'\ttab\r\nCRLF" },
		{ "ONT_UPDATE_CRC_CONCEPT", "ONT_SENTTO_CRCLOADER", "COMPLETED",
		  Instant.parse("2023-11-05T05:30:00.001Z"), Instant.parse("2023-11-05T07:15:30.250Z"), 4711,
		  "done" },
	};

	static int passed, failed;
	static String scenario = "";

	static final JAXBContext JAXB;
	static final DatatypeFactory DTF;
	static {
		try {
			JAXB = JAXBContext.newInstance("org.i2b2.xsd.hive.msg._1:org.i2b2.xsd.cell.ont._1");
			DTF = DatatypeFactory.newInstance();
		} catch (Exception e) {
			throw new ExceptionInInitializerError(e);
		}
	}
	static final org.i2b2.xsd.hive.msg._1.ObjectFactory HIVE = new org.i2b2.xsd.hive.msg._1.ObjectFactory();
	static final org.i2b2.xsd.cell.ont._1.ObjectFactory ONT = new org.i2b2.xsd.cell.ont._1.ObjectFactory();

	static ZoneId tableZone;
	static ZoneId jvmZone;

	public static void main(String[] args) throws Exception {
		String tz = null;
		for (String a : args)
			if (a.startsWith("--table-zone="))
				tz = a.substring("--table-zone=".length());
		if (tz == null) {
			System.err.println("usage: OntStatusJdbcTest --table-zone=ZONE");
			System.exit(64);
		}
		tableZone = ZoneId.of(tz);
		jvmZone = ZoneId.systemDefault();
		String tag = "[JVM " + jvmZone + "] ";

		try (Connection c = connect(null)) {
			say(tag + "client stack: Java " + System.getProperty("java.version") + " ("
					+ System.getProperty("java.vm.name") + "), PgJDBC " + c.getMetaData().getDriverVersion()
					+ ", JAXB API " + JAXBContext.class.getPackage().getSpecificationVersion() + ", JAXB runtime "
					+ pkgVersion(JAXB.getClass()) + " (" + JAXB.getClass().getName() + ")");
			say(tag + "server: " + one(c, "SELECT current_setting('server_version')") + ", ontstatus "
					+ one(c, "SELECT extversion FROM pg_extension WHERE extname = 'ontstatus'")
					+ ", database TimeZone " + databaseTimeZone(c) + ", table zone " + tableZone);
		} catch (SQLException e) {
			say(tag + "FAIL cannot connect: " + e);
			System.exit(1);
		}

		try {
			if (jvmZone.equals(tableZone))
				cellRun();
			else
				otherClientRun();
		} catch (SQLException e) {
			check("connect and set up the session", false, e.toString());
		}

		for (String r : repeated)
			say(tag + "note: repeated autumn hour (a timestamp column cannot tell its two instants apart): " + r);
		say(tag + passed + " checks passed, " + failed + " failed");
		System.exit(failed == 0 ? 0 : 1);
	}

	/* ---------------------------------------------------------------- */
	/* scenarios                                                         */
	/* ---------------------------------------------------------------- */

	/* the JVM runs in the table's zone: this is the ONT cell */
	static void cellRun() throws Exception {
		scenario = "cell (JVM " + jvmZone + ", no settings)";
		try (Connection c = connect(null)) {
			String session = one(c, "SHOW TimeZone");
			String dbZone = databaseTimeZone(c);
			check("pgjdbc set the session TimeZone to the JVM zone, not the database's",
					jvmZone.getId().equals(session) && !session.equals(dbZone),
					"session TimeZone " + session + ", JVM " + jvmZone + ", database " + dbZone);

			step("writeCellRows", () -> writeCellRows(c));
			step("compareAll", () -> compareAll(c, tableZone, true));
			step("cellRowsByIdRoundTrip", () -> cellRowsByIdRoundTrip(c, true));
			step("nonAscii", () -> nonAscii(c));
			step("timeRanges", () -> timeRanges(c, tableZone));
			step("maxReturnRecords", () -> maxReturnRecords(c));
			step("preparedRepeatedly", () -> preparedRepeatedly(c));
			step("errors", () -> errors(c));
		}

		scenario = "pool session in UTC (JVM " + jvmZone + ", options -c ontstatus.table_time_zone="
				+ tableZone + ", then SET TimeZone = 'UTC')";
		try (Connection c = connect("-c ontstatus.table_time_zone=" + tableZone)) {
			try (Statement s = c.createStatement()) {
				s.execute("SET TimeZone = 'UTC'");
			}
			String session = one(c, "SHOW TimeZone");
			String setting = one(c, "SELECT current_setting('ontstatus.table_time_zone', true)");
			check("the session runs in UTC and the connection's options named the table's zone",
					"UTC".equals(session) && tableZone.getId().equals(setting),
					"TimeZone " + session + ", ontstatus.table_time_zone " + setting);
			step("compareAll", () -> compareAll(c, tableZone, false));
			step("cellRowsByIdRoundTrip", () -> cellRowsByIdRoundTrip(c, true));
			step("timeRanges", () -> timeRanges(c, tableZone));
			check("ontstatus gave the caller's TimeZone back",
					"UTC".equals(one(c, "SHOW TimeZone")), "TimeZone " + one(c, "SHOW TimeZone"));
		}

		scenario = "control: pool session in UTC without the setting";
		try (Connection c = connect(null)) {
			try (Statement s = c.createStatement()) {
				s.execute("SET TimeZone = 'UTC'");
			}
			/* documented: the session's zone is taken as the table's; the
			 * instants are then off by the cell's offset, and the checks
			 * above would have seen it */
			step("compareAll", () -> compareAll(c, ZoneOffset.UTC, false));
			step("cellRowsByIdRoundTrip", () -> cellRowsByIdRoundTrip(c, false));
		}
	}

	/* the JVM runs in another zone: a second Java client of the cell's table */
	static void otherClientRun() throws Exception {
		scenario = "other client (JVM " + jvmZone + ", options -c ontstatus.table_time_zone=" + tableZone + ")";
		try (Connection c = connect("-c ontstatus.table_time_zone=" + tableZone)) {
			String session = one(c, "SHOW TimeZone");
			String setting = one(c, "SELECT current_setting('ontstatus.table_time_zone', true)");
			check("the session runs in the JVM zone, the table's zone comes from the connection's options",
					jvmZone.getId().equals(session) && tableZone.getId().equals(setting),
					"TimeZone " + session + ", ontstatus.table_time_zone " + setting);
			step("compareAll", () -> compareAll(c, tableZone, false));
			step("cellRowsByIdRoundTrip", () -> cellRowsByIdRoundTrip(c, true));
			step("nonAscii", () -> nonAscii(c));
			step("timeRanges", () -> timeRanges(c, tableZone));
			step("errors", () -> errors(c));
		}

		scenario = "control: other client without the setting";
		try (Connection c = connect(null)) {
			step("compareAll", () -> compareAll(c, jvmZone, false));
			step("cellRowsByIdRoundTrip", () -> cellRowsByIdRoundTrip(c, false));
		}
	}

	/* ---------------------------------------------------------------- */
	/* checks                                                            */
	/* ---------------------------------------------------------------- */

	/* rows written as the cell writes them: timestamps bound as instants
	 * (pgjdbc sends them in the JVM zone; the column keeps the wall clock) */
	static void writeCellRows(Connection c) throws SQLException {
		try (PreparedStatement ps = c.prepareStatement(
				"INSERT INTO ont_process_status (process_type_cd, process_step_cd, process_status_cd,"
						+ " start_date, end_date, crc_upload_id, message, entry_date, change_date, status_cd, changedby_char)"
						+ " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'U', ?)")) {
			for (Object[] r : CELL_ROWS) {
				ps.setString(1, (String) r[0]);
				ps.setString(2, (String) r[1]);
				ps.setString(3, (String) r[2]);
				ps.setTimestamp(4, new Timestamp(((Instant) r[3]).toEpochMilli()));
				if (r[4] == null)
					ps.setNull(5, Types.TIMESTAMP);
				else
					ps.setTimestamp(5, new Timestamp(((Instant) r[4]).toEpochMilli()));
				if (r[5] == null)
					ps.setNull(6, Types.INTEGER);
				else
					ps.setInt(6, (Integer) r[5]);
				ps.setString(7, (String) r[6]);
				ps.setTimestamp(8, new Timestamp(((Instant) r[3]).toEpochMilli()));
				ps.setTimestamp(9, new Timestamp(System.currentTimeMillis()));
				ps.setString(10, CELL_MARK);
				ps.executeUpdate();
			}
		}
		check("wrote " + CELL_ROWS.length + " rows as the cell does (setTimestamp, setString)", true, "");
	}

	static List<Long> cellRowIds(Connection c) throws SQLException {
		List<Long> ids = new ArrayList<>();
		try (PreparedStatement ps = c.prepareStatement(
				"SELECT process_id FROM ont_process_status WHERE rtrim(changedby_char) = ? ORDER BY process_id")) {
			ps.setString(1, CELL_MARK);
			try (ResultSet rs = ps.executeQuery()) {
				while (rs.next())
					ids.add(rs.getLong(1));
			}
		}
		return ids;
	}

	/* every field of every row of a no-filter request against the table */
	static void compareAll(Connection c, ZoneId zone, boolean cellView) throws Exception {
		RequestMessageType req = request(new GetOntProcessStatusType(), 100);
		Instant before = Instant.now().truncatedTo(ChronoUnit.MILLIS);
		ResponseMessageType resp = call(c, req);
		Instant after = Instant.now();

		checkDone(resp, "no-filter request");
		checkHeader(req, resp);
		XMLGregorianCalendar dom = resp.getMessageHeader() == null ? null
				: resp.getMessageHeader().getDatetimeOfMessage();
		Instant domInstant = dom == null ? null : dom.toGregorianCalendar().toInstant();
		check("datetime_of_message is the call's instant",
				domInstant != null && !domInstant.isBefore(before.minusSeconds(1)) && !domInstant.isAfter(after.plusSeconds(1)),
				"datetime_of_message " + (dom == null ? "absent" : dom.toXMLFormat()) + ", call at " + before);

		List<OntologyProcessStatusType> got = list(resp);
		List<String> problems = new ArrayList<>();
		int rows = 0, nulls = 0, instants = 0;
		try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(ROWS + " ORDER BY process_id")) {
			while (rs.next()) {
				if (rows >= got.size()) {
					problems.add("row " + rs.getLong(1) + " missing from the response");
					rows++;
					continue;
				}
				OntologyProcessStatusType x = got.get(rows++);
				String id = "process_id " + rs.getLong("process_id") + ": ";
				eq(problems, id + "process_id", Long.toString(rs.getLong("process_id")), x.getProcessId());
				nulls += text(problems, id, "process_type_cd", rs.getString("process_type_cd"), x.getProcessTypeCd());
				nulls += text(problems, id, "process_step_cd", rs.getString("process_step_cd"), x.getProcessStepCd());
				nulls += text(problems, id, "process_status_cd", rs.getString("process_status_cd"), x.getProcessStatusCd());
				Object crc = rs.getObject("crc_upload_id");
				nulls += text(problems, id, "crc_upload_id", crc == null ? null : crc.toString(), x.getCrcUploadId());
				nulls += text(problems, id, "message", rs.getString("message"), x.getMessage());
				for (String col : new String[] { "start_date", "end_date" }) {
					LocalDateTime ldt = rs.getObject(col, LocalDateTime.class);
					XMLGregorianCalendar xc = col.equals("start_date") ? x.getStartDate() : x.getEndDate();
					if (ldt == null) {
						nulls++;
						if (xc != null)
							problems.add(id + col + " is NULL but the response has " + xc.toXMLFormat());
						continue;
					}
					instants++;
					instant(problems, id + col, ldt, zone, xc);
					/* what the cell itself reads: pgjdbc takes the column in the JVM zone */
					if (cellView && xc != null) {
						long jdbc = rs.getTimestamp(col).getTime();
						long xml = xc.toGregorianCalendar().getTimeInMillis();
						if (jdbc == xml && inRepeatedHour(Instant.ofEpochMilli(xml), jvmZone))
							noteRepeated(ldt + " in " + jvmZone + ": the response's " + xc.toXMLFormat()
									+ " is what the cell's own getTimestamp() reads");
						else if (jdbc != xml)
							problems.add(id + col + ": getTimestamp() gives " + Instant.ofEpochMilli(jdbc)
									+ ", the response " + Instant.ofEpochMilli(xml));
					}
				}
			}
		}
		if (got.size() > rows)
			problems.add("the response has " + got.size() + " rows, the table " + rows);
		check("every field of every row equals the table; instants in " + zone
				+ (cellView ? ", also as getTimestamp() reads them" : ""),
				problems.isEmpty() && rows > 0,
				rows + " rows, " + nulls + " NULL columns absent, " + instants + " instants" + detail(problems));
	}

	/* the rows the cell wrote, asked for by process_id: the instants the
	 * cell bound come back (or, expectWrong, demonstrably do not) */
	static void cellRowsByIdRoundTrip(Connection c, boolean expectRight) throws Exception {
		List<Long> ids = cellRowIds(c);
		if (ids.size() != CELL_ROWS.length) {
			check("the rows the cell wrote are in the table", false,
					ids.size() + " found, " + CELL_ROWS.length + " expected (the cell's JVM run writes them first)");
			return;
		}
		List<String> problems = new ArrayList<>();
		long maxShift = 0;
		for (int i = 0; i < CELL_ROWS.length; i++) {
			Object[] r = CELL_ROWS[i];
			GetOntProcessStatusType q = new GetOntProcessStatusType();
			q.setProcessId(Long.toString(ids.get(i)));
			ResponseMessageType resp = call(c, request(q, 100));
			List<OntologyProcessStatusType> got = list(resp);
			if (got.size() != 1) {
				problems.add("process_id " + ids.get(i) + ": " + got.size() + " rows");
				continue;
			}
			OntologyProcessStatusType x = got.get(0);
			String id = "process_id " + ids.get(i) + ": ";
			eq(problems, id + "process_type_cd", r[0], x.getProcessTypeCd());
			eq(problems, id + "process_step_cd", r[1], x.getProcessStepCd());
			eq(problems, id + "process_status_cd", r[2], x.getProcessStatusCd());
			eq(problems, id + "crc_upload_id", r[5] == null ? null : r[5].toString(), x.getCrcUploadId());
			eq(problems, id + "message", r[6], x.getMessage());
			Instant[] want = { (Instant) r[3], (Instant) r[4] };
			XMLGregorianCalendar[] have = { x.getStartDate(), x.getEndDate() };
			for (int k = 0; k < 2; k++) {
				String col = k == 0 ? "start_date" : "end_date";
				if (want[k] == null) {
					if (have[k] != null)
						problems.add(id + col + " written NULL, response has " + have[k].toXMLFormat());
					continue;
				}
				if (have[k] == null) {
					problems.add(id + col + " absent");
					continue;
				}
				Instant h = have[k].toGregorianCalendar().toInstant();
				long shift = Math.abs(Duration.between(want[k], h).getSeconds());
				maxShift = Math.max(maxShift, shift);
				if (!h.equals(want[k]) && inRepeatedHour(want[k], tableZone)
						&& LocalDateTime.ofInstant(h, tableZone).equals(LocalDateTime.ofInstant(want[k], tableZone)))
					noteRepeated("bound " + want[k] + " in the repeated hour comes back as " + h);
				else if (!h.equals(want[k]))
					problems.add(id + col + ": written " + want[k] + ", response " + have[k].toXMLFormat() + " = " + h);
			}
		}
		if (expectRight)
			check("the instants and texts the cell bound come back by process_id", problems.isEmpty(),
					CELL_ROWS.length + " rows (non-ASCII, emoji, CR LF, empty message, NULL end_date)" + detail(problems));
		else
			check("without the setting the instants are off (why ontstatus.table_time_zone exists)",
					!problems.isEmpty() && maxShift > 0, "largest shift " + maxShift / 60 + " min");
	}

	/* non-ASCII in the request (a filter value and the user name) and in the rows */
	static void nonAscii(Connection c) throws Exception {
		GetOntProcessStatusType q = new GetOntProcessStatusType();
		q.setProcessTypeCd(NON_ASCII_TYPE);
		RequestMessageType req = request(q, 100);
		ResponseMessageType resp = call(c, req);
		checkDone(resp, "non-ASCII filter");
		List<OntologyProcessStatusType> got = list(resp);
		List<String> problems = new ArrayList<>();
		int expected = 0;
		try (PreparedStatement ps = c.prepareStatement(ROWS + " WHERE process_type_cd = ? ORDER BY process_id")) {
			ps.setString(1, NON_ASCII_TYPE);
			try (ResultSet rs = ps.executeQuery()) {
				while (rs.next()) {
					if (expected < got.size()) {
						OntologyProcessStatusType x = got.get(expected);
						eq(problems, "process_id", Long.toString(rs.getLong("process_id")), x.getProcessId());
						eq(problems, "process_type_cd", rs.getString("process_type_cd"), x.getProcessTypeCd());
						eq(problems, "process_step_cd", rs.getString("process_step_cd"), x.getProcessStepCd());
						eq(problems, "message", rs.getString("message"), x.getMessage());
					}
					expected++;
				}
			}
		}
		if (got.size() != expected)
			problems.add(got.size() + " rows, the table has " + expected);
		String user = resp.getMessageHeader() == null || resp.getMessageHeader().getSecurity() == null ? null
				: resp.getMessageHeader().getSecurity().getUsername();
		eq(problems, "security/username echoed", CELL_USER, user);
		check("non-ASCII round trip: filter " + NON_ASCII_TYPE + ", user " + CELL_USER + ", row texts",
				problems.isEmpty() && expected > 0, expected + " rows" + detail(problems));
	}

	/* request instants (XMLGregorianCalendar, in an offset that is neither
	 * the JVM's nor the table's) against the table's wall clock */
	static void timeRanges(Connection c, ZoneId zone) throws Exception {
		ZoneOffset tokyo = ZoneOffset.ofHours(9);
		/* both bounds inclusive and met exactly: the fixture's 2024-03-10 03:30
		 * (New York, just after the spring change) and the first cell row's end */
		Instant lo = LocalDateTime.parse("2024-03-10T03:30:00").atZone(tableZone).toInstant();
		Instant hi = (Instant) CELL_ROWS[0][4];
		GetOntProcessStatusType q = new GetOntProcessStatusType();
		GetOntProcessStatusType.ProcessStartDate sd = new GetOntProcessStatusType.ProcessStartDate();
		sd.setStartTime(xmlTime(lo, tokyo));
		sd.setEndTime(xmlTime(Instant.parse("2100-01-01T00:00:00Z"), tokyo));
		q.setProcessStartDate(sd);
		GetOntProcessStatusType.ProcessEndDate ed = new GetOntProcessStatusType.ProcessEndDate();
		ed.setStartTime(xmlTime(Instant.parse("1900-01-01T00:00:00Z"), ZoneOffset.UTC));
		ed.setEndTime(xmlTime(hi, tokyo));
		q.setProcessEndDate(ed);
		ResponseMessageType resp = call(c, request(q, 100));
		checkDone(resp, "time range request");

		List<String> want = new ArrayList<>();
		try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(ROWS + " ORDER BY process_id")) {
			while (rs.next()) {
				LocalDateTime sdt = rs.getObject("start_date", LocalDateTime.class);
				LocalDateTime edt = rs.getObject("end_date", LocalDateTime.class);
				if (sdt == null || edt == null)
					continue;
				Instant si = sdt.atZone(zone).toInstant(), ei = edt.atZone(zone).toInstant();
				if (!si.isBefore(lo) && !ei.isAfter(hi))
					want.add(Long.toString(rs.getLong("process_id")));
			}
		}
		List<String> have = new ArrayList<>();
		for (OntologyProcessStatusType x : list(resp))
			have.add(x.getProcessId());
		check("start/end date ranges given as +09:00 instants select the rows of the table's wall clock in " + zone,
				want.equals(have) && !want.isEmpty(), "expected " + want + ", got " + have);
	}

	static void maxReturnRecords(Connection c) throws Exception {
		ResponseMessageType resp = call(c, request(new GetOntProcessStatusType(), 2));
		List<String> want = new ArrayList<>();
		try (Statement s = c.createStatement();
				ResultSet rs = s.executeQuery("SELECT process_id FROM ont_process_status ORDER BY process_id LIMIT 2")) {
			while (rs.next())
				want.add(Long.toString(rs.getLong(1)));
		}
		List<String> have = new ArrayList<>();
		for (OntologyProcessStatusType x : list(resp))
			have.add(x.getProcessId());
		check("max_return_records=\"2\": the first 2 rows by process_id", want.equals(have), "got " + have);
	}

	/* one PreparedStatement, executed past pgjdbc's prepareThreshold (5):
	 * the server-side prepared statement gives the same body */
	static void preparedRepeatedly(Connection c) throws Exception {
		String xml = marshal(request(new GetOntProcessStatusType(), 100));
		String first = null;
		int same = 0, n = 8;
		try (PreparedStatement ps = c.prepareStatement(CALL)) {
			for (int i = 0; i < n; i++) {
				ps.setString(1, xml);
				try (ResultSet rs = ps.executeQuery()) {
					rs.next();
					String r = rs.getString(1);
					String body = r.substring(r.indexOf("<message_body>"));
					if (first == null)
						first = body;
					if (body.equals(first))
						same++;
				}
			}
		}
		check("the same PreparedStatement " + n + " times (server-side prepared from the 5th): same message_body",
				same == n, same + " of " + n + " equal");
	}

	/* requests ontstatus refuses: ERROR responses JAXB reads, no rows */
	static void errors(Connection c) throws Exception {
		GetOntProcessStatusType q = new GetOntProcessStatusType();
		q.setProcessId("twenty-six");
		errorResponse(c, "process_id \"twenty-six\"", marshal(request(q, 100)), true);

		errorResponse(c, "max_return_records=\"-1\"",
				marshal(request(new GetOntProcessStatusType(), -1)), true);

		RequestMessageType other = request(new GetOntProcessStatusType(), 100);
		other.getMessageBody().getAny().clear();
		other.getMessageBody().getAny().add(ONT.createGetCategories(new GetCategoriesType()));
		errorResponse(c, "a get_categories message", marshal(other), true);

		errorResponse(c, "text that is not XML", "get me the status – bitte ✓", false);
	}

	static void errorResponse(Connection c, String what, String requestXml, boolean hasHeader) throws Exception {
		List<String> problems = new ArrayList<>();
		ResponseMessageType resp;
		try {
			resp = unmarshal(send(c, requestXml));
		} catch (Exception e) {
			check("ERROR response for " + what, false, e.toString());
			return;
		}
		StatusType st = status(resp);
		if (st == null || !"ERROR".equals(st.getType()))
			problems.add("status " + (st == null ? "absent" : st.getType()));
		else if (st.getValue() == null || st.getValue().trim().isEmpty())
			problems.add("no error text");
		BodyType body = resp.getMessageBody();
		if (body != null && !body.getAny().isEmpty())
			problems.add("message_body holds " + body.getAny().size() + " elements");
		if (hasHeader) {
			MessageHeaderType h = resp.getMessageHeader();
			if (h == null || h.getMessageControlId() == null
					|| !"ontstatus-jdbc-session".equals(h.getMessageControlId().getSessionId()))
				problems.add("the request's message_control_id is not echoed");
		}
		check("ERROR response for " + what + ": status ERROR, no rows", problems.isEmpty(),
				(st == null ? "" : "\"" + abbreviate(st.getValue()) + "\"") + detail(problems));
	}

	/* ---------------------------------------------------------------- */
	/* i2b2 messages                                                     */
	/* ---------------------------------------------------------------- */

	/* the request a Java i2b2 client builds (the Workbench's header) */
	static RequestMessageType request(GetOntProcessStatusType q, int maxReturnRecords) throws Exception {
		q.setMaxReturnRecords(maxReturnRecords);
		MessageHeaderType h = new MessageHeaderType();
		h.setI2B2VersionCompatible(new BigDecimal("1.1"));
		h.setHl7VersionCompatible(new BigDecimal("2.4"));
		h.setSendingApplication(app("i2b2 Ontology", "1.7"));
		FacilityType f = new FacilityType();
		f.setFacilityName("i2b2 Hive");
		h.setSendingFacility(f);
		h.setReceivingApplication(app("Ontology Cell", "1.7"));
		FacilityType rf = new FacilityType();
		rf.setFacilityName("i2b2 Hive");
		h.setReceivingFacility(rf);
		h.setDatetimeOfMessage(DTF.newXMLGregorianCalendar(new GregorianCalendar()));
		SecurityType sec = new SecurityType();
		sec.setDomain("i2b2demo");
		sec.setUsername(CELL_USER);
		PasswordType pw = new PasswordType();
		pw.setValue("SessionKey:ontstatus-jdbc-token");
		pw.setIsToken(true);
		pw.setTokenMsTimeout(1800000);
		sec.setPassword(pw);
		h.setSecurity(sec);
		MessageTypeType mt = new MessageTypeType();
		mt.setMessageCode("EQQ");
		mt.setEventType("Q04");
		mt.setMessageStructure("EQQ_Q04");
		h.setMessageType(mt);
		MessageControlIdType mc = new MessageControlIdType();
		mc.setSessionId("ontstatus-jdbc-session");
		mc.setMessageNum("mNum-42");
		mc.setInstanceNum(0);
		h.setMessageControlId(mc);
		ProcessingIdType p = new ProcessingIdType();
		p.setProcessingId("P");
		p.setProcessingMode("I");
		h.setProcessingId(p);
		h.setAcceptAcknowledgementType("AL");
		h.setApplicationAcknowledgementType("AL");
		h.setCountryCode("US");
		h.setProjectId("Demo");

		RequestHeaderType rh = new RequestHeaderType();
		rh.setResultWaittimeMs(180000);
		BodyType body = new BodyType();
		body.getAny().add(ONT.createGetOntProcessStatus(q));

		RequestMessageType req = new RequestMessageType();
		req.setMessageHeader(h);
		req.setRequestHeader(rh);
		req.setMessageBody(body);
		return req;
	}

	static ApplicationType app(String name, String version) {
		ApplicationType a = new ApplicationType();
		a.setApplicationName(name);
		a.setApplicationVersion(version);
		return a;
	}

	static String marshal(RequestMessageType req) throws Exception {
		Marshaller m = JAXB.createMarshaller();
		m.setProperty(Marshaller.JAXB_ENCODING, "UTF-8");
		StringWriter w = new StringWriter();
		m.marshal(HIVE.createRequest(req), w);
		return w.toString();
	}

	/* strict: any conversion problem (an unreadable date, say) is an error,
	 * not a silently null field */
	static ResponseMessageType unmarshal(String xml) throws Exception {
		Unmarshaller u = JAXB.createUnmarshaller();
		List<ValidationEvent> events = new ArrayList<>();
		u.setEventHandler(ev -> {
			events.add(ev);
			return false;
		});
		try {
			JAXBElement<ResponseMessageType> e = u.unmarshal(new StreamSource(new StringReader(xml)),
					ResponseMessageType.class);
			if (!"response".equals(e.getName().getLocalPart())
					|| !"http://www.i2b2.org/xsd/hive/msg/1.1/".equals(e.getName().getNamespaceURI()))
				throw new IllegalStateException("root element " + e.getName());
			return e.getValue();
		} catch (Exception e) {
			throw new IllegalStateException("JAXB cannot read the response: " + events + " " + e, e);
		}
	}

	static String send(Connection c, String requestXml) throws SQLException {
		try (PreparedStatement ps = c.prepareStatement(CALL)) {
			ps.setString(1, requestXml);
			try (ResultSet rs = ps.executeQuery()) {
				if (!rs.next())
					throw new SQLException("no row");
				return rs.getString(1);
			}
		}
	}

	static ResponseMessageType call(Connection c, RequestMessageType req) throws Exception {
		return unmarshal(send(c, marshal(req)));
	}

	static StatusType status(ResponseMessageType r) {
		if (r.getResponseHeader() == null || r.getResponseHeader().getResultStatus() == null)
			return null;
		return r.getResponseHeader().getResultStatus().getStatus();
	}

	/* the list as i2b2's JAXBUnWrapHelper finds it: a JAXBElement in the body */
	static List<OntologyProcessStatusType> list(ResponseMessageType r) {
		if (r.getMessageBody() == null)
			return new ArrayList<>();
		for (Object o : r.getMessageBody().getAny()) {
			if (o instanceof JAXBElement && ((JAXBElement<?>) o).getValue() instanceof OntologyProcessStatusListType)
				return ((OntologyProcessStatusListType) ((JAXBElement<?>) o).getValue()).getOntologyProcessStatus();
			throw new IllegalStateException("message_body holds " + o.getClass().getName()
					+ ", not an ontology_process_status_list JAXB knows");
		}
		return new ArrayList<>();
	}

	static void checkDone(ResponseMessageType resp, String what) {
		StatusType st = status(resp);
		if (st == null || !"DONE".equals(st.getType()))
			check("status DONE for the " + what, false,
					st == null ? "no status" : st.getType() + ": " + st.getValue());
	}

	static void checkHeader(RequestMessageType req, ResponseMessageType resp) {
		List<String> problems = new ArrayList<>();
		MessageHeaderType q = req.getMessageHeader(), h = resp.getMessageHeader();
		if (h == null) {
			check("response message_header", false, "absent");
			return;
		}
		eq(problems, "sending_application", "Ontology Cell", h.getSendingApplication() == null ? null
				: h.getSendingApplication().getApplicationName());
		eq(problems, "receiving_application", q.getSendingApplication().getApplicationName() + "/"
				+ q.getSendingApplication().getApplicationVersion(),
				h.getReceivingApplication() == null ? null : h.getReceivingApplication().getApplicationName() + "/"
						+ h.getReceivingApplication().getApplicationVersion());
		eq(problems, "security/domain", "i2b2demo", h.getSecurity() == null ? null : h.getSecurity().getDomain());
		eq(problems, "security/username", CELL_USER, h.getSecurity() == null ? null : h.getSecurity().getUsername());
		if (h.getSecurity() != null && h.getSecurity().getPassword() != null)
			problems.add("the password is echoed");
		eq(problems, "session_id", "ontstatus-jdbc-session",
				h.getMessageControlId() == null ? null : h.getMessageControlId().getSessionId());
		eq(problems, "message_num", "mNum-42",
				h.getMessageControlId() == null ? null : h.getMessageControlId().getMessageNum());
		eq(problems, "instance_num", "1",
				h.getMessageControlId() == null ? null : Integer.toString(h.getMessageControlId().getInstanceNum()));
		eq(problems, "project_id", "Demo", h.getProjectId());
		check("message_header: the cell's, request values echoed, password not", problems.isEmpty(), detail(problems));
	}

	/* ---------------------------------------------------------------- */
	/* comparisons                                                       */
	/* ---------------------------------------------------------------- */

	/* wall clocks of the hour the autumn change repeats, seen in this run */
	static final List<String> repeated = new ArrayList<>();

	/* a timestamp column against an xs:dateTime: the same wall clock to the
	 * millisecond, the zone's offset at that time, the same instant.  A wall
	 * clock of the repeated autumn hour names two instants; the column cannot
	 * say which, and either offset is accepted (README, Limitations) */
	static void instant(List<String> problems, String what, LocalDateTime col, ZoneId zone, XMLGregorianCalendar x) {
		if (x == null) {
			problems.add(what + " absent, the column is " + col);
			return;
		}
		LocalDateTime wall = col.truncatedTo(ChronoUnit.MILLIS);
		if (x.getTimezone() == DatatypeConstants.FIELD_UNDEFINED) {
			problems.add(what + " " + x.toXMLFormat() + " has no offset");
			return;
		}
		if (x.getFractionalSecond() == null || x.getFractionalSecond().scale() != 3)
			problems.add(what + " " + x.toXMLFormat() + " is not written with milliseconds");
		LocalDateTime xw = LocalDateTime.of(x.getYear(), x.getMonth(), x.getDay(), x.getHour(), x.getMinute(),
				x.getSecond(), (x.getMillisecond() == DatatypeConstants.FIELD_UNDEFINED ? 0 : x.getMillisecond()) * 1_000_000);
		List<ZoneOffset> valid = zone.getRules().getValidOffsets(wall);
		ZoneOffset offset = valid.isEmpty() ? null : valid.get(0);
		if (valid.size() > 1) {
			for (ZoneOffset o : valid)
				if (o.getTotalSeconds() == x.getTimezone() * 60)
					offset = o;
			noteRepeated(wall + " in " + zone + " written " + x.toXMLFormat());
		}
		Instant got = x.toGregorianCalendar().toInstant();
		if (offset == null || !xw.equals(wall) || x.getTimezone() * 60 != offset.getTotalSeconds()
				|| !got.equals(wall.toInstant(offset)))
			problems.add(what + ": column " + col + " in " + zone + " is "
					+ (offset == null ? "no valid time" : wall.atOffset(offset).toString())
					+ ", the response " + x.toXMLFormat() + " (" + got + ")");
	}

	static boolean inRepeatedHour(Instant i, ZoneId zone) {
		return zone.getRules().getValidOffsets(LocalDateTime.ofInstant(i, zone)).size() > 1;
	}

	static void noteRepeated(String s) {
		if (!repeated.contains(s))
			repeated.add(s);
	}

	static int text(List<String> problems, String id, String col, String expected, String got) {
		eq(problems, id + col, expected, got);
		return expected == null ? 1 : 0;
	}

	static void eq(List<String> problems, String what, Object expected, Object got) {
		if (!Objects.equals(expected, got))
			problems.add(what + ": expected " + show(expected) + ", got " + show(got));
	}

	static String show(Object o) {
		if (o == null)
			return "(absent)";
		return "\"" + o.toString().replace("\r", "\\r").replace("\n", "\\n").replace("\t", "\\t") + "\"";
	}

	static XMLGregorianCalendar xmlTime(Instant i, ZoneOffset off) {
		GregorianCalendar g = GregorianCalendar.from(i.atOffset(off).toZonedDateTime());
		return DTF.newXMLGregorianCalendar(g);
	}

	/* ---------------------------------------------------------------- */
	/* plumbing                                                          */
	/* ---------------------------------------------------------------- */

	static Connection connect(String options) throws SQLException {
		String host = env("PGHOST", "localhost");
		if (host.startsWith("/"))
			host = "localhost";
		String url = "jdbc:postgresql://" + host + ":" + env("PGPORT", "5432") + "/" + env("ONTSTATUS_JDBC_DB", "postgres");
		Properties p = new Properties();
		p.setProperty("user", env("ONTSTATUS_JDBC_USER", env("PGUSER", "postgres")));
		p.setProperty("password", env("ONTSTATUS_JDBC_PASSWORD", env("PGPASSWORD", "")));
		p.setProperty("ApplicationName", "ontstatus-jdbc-test");
		if (options != null)
			p.setProperty("options", options);
		return DriverManager.getConnection(url, p);
	}

	static String env(String name, String dflt) {
		String v = System.getenv(name);
		return v == null || v.isEmpty() ? dflt : v;
	}

	static String one(Connection c, String sql) throws SQLException {
		try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
			return rs.next() ? rs.getString(1) : null;
		}
	}

	static String databaseTimeZone(Connection c) throws SQLException {
		String cfg = one(c, "SELECT array_to_string(setconfig, ',') FROM pg_db_role_setting"
				+ " WHERE setrole = 0 AND setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database())");
		if (cfg != null)
			for (String kv : cfg.split(","))
				if (kv.toLowerCase().startsWith("timezone="))
					return kv.substring("timezone=".length());
		return one(c, "SELECT boot_val FROM pg_settings WHERE name = 'TimeZone'") + " (boot)";
	}

	static String pkgVersion(Class<?> k) {
		Package p = k.getPackage();
		String v = p == null ? null : p.getImplementationVersion();
		if (v == null && p != null)
			v = p.getSpecificationVersion();
		return v == null ? "?" : v;
	}

	static String detail(List<String> problems) {
		if (problems.isEmpty())
			return "";
		StringBuilder b = new StringBuilder();
		int n = 0;
		for (String s : problems) {
			if (n++ == 12) {
				b.append("\n      … ").append(problems.size() - 12).append(" more");
				break;
			}
			b.append("\n      ").append(s);
		}
		return b.toString();
	}

	static String abbreviate(String s) {
		s = s.replace('\n', ' ');
		return s.length() > 90 ? s.substring(0, 87) + "…" : s;
	}

	interface Step {
		void run() throws Exception;
	}

	/* an exception in a check is that check's failure; the others still run */
	static void step(String name, Step st) {
		try {
			st.run();
		} catch (Exception e) {
			StringWriter w = new StringWriter();
			e.printStackTrace(new java.io.PrintWriter(w));
			check(name, false, "exception: " + w.toString().trim().replace("\n", "\n      "));
		}
	}

	static void say(String s) {
		System.out.println("java-jdbc: " + s);
	}

	static void check(String name, boolean ok, String detail) {
		if (ok)
			passed++;
		else
			failed++;
		say((ok ? "PASS " : "FAIL ") + scenario + ": " + name + (detail.isEmpty() ? "" : " — " + detail));
	}
}
