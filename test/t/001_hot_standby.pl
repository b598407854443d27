# All three functions on a hot standby: read-only, no temporary objects, no
# writes, no transaction id.  A primary and a streaming standby.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(allows_streaming => 1);
$primary->start;
$primary->safe_psql('postgres', q{
	CREATE EXTENSION ontstatus;
	CREATE SCHEMA i2b2metadata;
	SET search_path = i2b2metadata;
} . slurp_file('test/fixtures/ont_process_status.sql') . q{
	-- rows as the ONT cell writes them: progress in process_step_cd, end_date
	-- set by every update, message '' from the insert
	INSERT INTO i2b2metadata.ont_process_status
		(process_id, process_type_cd, start_date, end_date, process_step_cd, process_status_cd,
		 crc_upload_id, status_cd, message, entry_date, change_date, changedby_char)
	VALUES (26, 'ONT_UPDATE_CRC_CONCEPT', '2010-04-05', '2010-04-05 00:10', 'ONT_SENTTO_CRCLOADER', 'COMPLETED',
	        624, 'U', '', '2010-04-05', '2010-04-05 00:10', 'demo'),
	       (27, 'ONT_PATIENT_COUNT_UPDATE', '2011-01-01', '2011-01-01 00:05', 'PROCESSED 1/2', 'PROCESSING',
	        NULL, 'U', '', '2011-01-01', '2011-01-01 00:05', 'demo');
	CREATE SCHEMA i2b2hive;
	CREATE TABLE i2b2hive.ont_db_lookup (c_domain_id varchar(255), c_project_path varchar(255),
		c_owner_id varchar(255), c_db_fullschema varchar(255));
	INSERT INTO i2b2hive.ont_db_lookup VALUES ('i2b2demo', 'Demo/', '@', 'i2b2metadata');
	ALTER DATABASE postgres SET search_path = i2b2metadata, public;
});
$primary->backup('backup');

my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'backup', has_streaming => 1);
$standby->start;
$primary->wait_for_catchup($standby);

is($standby->safe_psql('postgres', 'SELECT pg_is_in_recovery()'), 't', 'the standby is in recovery');

my $request = q{<ns6:request xmlns:ns6="http://www.i2b2.org/xsd/hive/msg/1.1/"><message_header><security><domain>i2b2demo</domain><username>demo</username><password>x</password></security><project_id>Demo</project_id></message_header><message_body><get_ont_process_status><process_type_cd>ONT_UPDATE_CRC_CONCEPT</process_type_cd></get_ont_process_status></message_body></ns6:request>};

my $response = $standby->safe_psql('postgres',
	"SELECT ontstatus.get_ont_process_status('$request')");
like($response, qr{<status type="DONE">Ontology processing completed</status>}, 'get_ont_process_status answers DONE on the standby');
like($response, qr{<process_id>26</process_id>}, 'with the row, found through ont_db_lookup');

# an ERROR response needs the subtransaction that catches the error: fine
# on a standby too
$response = $standby->safe_psql('postgres',
	q{SELECT ontstatus.get_ont_process_status('<get_ont_process_status><process_id>x</process_id></get_ont_process_status>')});
like($response, qr{<status type="ERROR">invalid process_id}, 'an ERROR response on the standby');

is($standby->safe_psql('postgres',
	q{SELECT string_agg(process_id::text, ',') FROM ontstatus.process_status('<get_ont_process_status/>')}),
	'26,27', 'process_status on the standby');
is($standby->safe_psql('postgres',
	q{SELECT string_agg(process_id::text, ',') FROM ontstatus.find_process_status(process_status_cd => 'PROCESSING')}),
	'27', 'find_process_status on the standby');

# the DBA reports, read-only too
is($standby->safe_psql('postgres',
	q{SELECT string_agg(process_type_cd || ':' || process_status_cd || ':' || processes, ',') FROM ontstatus.process_summary()}),
	'ONT_PATIENT_COUNT_UPDATE:PROCESSING:1,ONT_UPDATE_CRC_CONCEPT:COMPLETED:1', 'process_summary on the standby');
is($standby->safe_psql('postgres',
	q{SELECT process_id || ' ' || process_status_cd || ' ' || progress_done || '/' || progress_total FROM ontstatus.running_processes()}),
	'27 PROCESSING 1/2', 'running_processes on the standby, progress from process_step_cd');

# nothing is written and no transaction id is taken, even in a transaction
# that also hits an error response
is($standby->safe_psql('postgres', q{
	BEGIN;
	SELECT ontstatus.get_ont_process_status('garbage') IS NOT NULL;
	SELECT count(*) FROM ontstatus.process_status('<get_ont_process_status/>');
	SELECT pg_current_xact_id_if_assigned() IS NULL;
	COMMIT;}), "t\n2\nt", 'no transaction id on the standby');

# the lifecycle functions write: refused on the standby, cleanly
# (a CRC sync: a type that runs, so that the refusal is the standby's)
my ($ret, $out, $err) = $standby->psql('postgres',
	q{SELECT ontstatus.start_process('ONT_UPDATE_CRC_CONCEPT')});
isnt($ret, 0, 'start_process fails on the standby');
like($err, qr/cannot execute ontstatus.start_process\(\) (during recovery|in a read-only transaction)/,
	'with a clear error');
($ret, $out, $err) = $standby->psql('postgres',
	q{SELECT ontstatus.report_progress(27, 2, 2)});
isnt($ret, 0, 'report_progress fails on the standby');
like($err, qr/cannot execute ontstatus.report_progress\(\) (during recovery|in a read-only transaction)/,
	'with a clear error');
($ret, $out, $err) = $standby->psql('postgres',
	q{SELECT * FROM ontstatus.stop_processes()});
isnt($ret, 0, 'stop_processes fails on the standby');
like($err, qr/cannot execute ontstatus.stop_processes\(\) (during recovery|in a read-only transaction)/,
	'with a clear error');

($ret, $out, $err) = $standby->psql('postgres',
	q{SELECT * FROM ontstatus.reap_processes()});
isnt($ret, 0, 'reap_processes fails on the standby');
like($err, qr/cannot execute ontstatus.reap_processes\(\) (during recovery|in a read-only transaction)/,
	'with a clear error');
($ret, $out, $err) = $standby->psql('postgres',
	q{SELECT ontstatus.watch_process(27)});
isnt($ret, 0, 'watch_process fails on the standby');
like($err, qr/cannot execute ontstatus.watch_process\(\) (during recovery|in a read-only transaction)/,
	'with a clear error');
($ret, $out, $err) = $standby->psql('postgres',
	q{SELECT ontstatus.submit_process('ONT_PATIENT_COUNT_UPDATE', ARRAY['SELECT 1'])});
isnt($ret, 0, 'submit_process fails on the standby');
like($err, qr/cannot execute ontstatus.submit_process\(\) (during recovery|in a read-only transaction)/,
	'with a clear error, before any worker is started');

# a process the primary registered: on the standby nobody knows whether
# its session lives (the primary's locks are not seen), so alive is NULL
$primary->safe_psql('postgres', q{
	INSERT INTO ontstatus.process_watch
	SELECT 'i2b2metadata.ont_process_status'::regclass, 27, 1, now();});
$primary->wait_for_catchup($standby);
is($standby->safe_psql('postgres',
	q{SELECT process_id || ' ' || coalesce(alive::text, 'null') FROM ontstatus.running_processes()}),
	'27 null', 'alive is NULL on the standby, never a guess');
is($primary->safe_psql('postgres',
	q{SELECT process_id || ' ' || coalesce(alive::text, 'null') FROM ontstatus.running_processes()}),
	'27 false', 'and false on the primary, where the session (pid 1) holds no lock');
$primary->safe_psql('postgres', q{DELETE FROM ontstatus.process_watch});

# the standby sees the primary's progress as it replays it
$primary->safe_psql('postgres', q{
	UPDATE i2b2metadata.ont_process_status SET process_status_cd = 'COMPLETED', process_step_cd = 'PROCESSED 2/2',
		end_date = '2011-01-01 00:10', change_date = '2011-01-01 00:10', status_cd = 'U'
	WHERE process_id = 27;});
$primary->wait_for_catchup($standby);
is($standby->safe_psql('postgres',
	q{SELECT process_status_cd || ' ' || process_step_cd || ' ' || end_date FROM ontstatus.process_status('<get_ont_process_status><process_id>27</process_id></get_ont_process_status>')}),
	'COMPLETED PROCESSED 2/2 2011-01-01 00:10:00', 'a replayed update is seen');
is($standby->safe_psql('postgres',
	q{SELECT count(*) FROM ontstatus.running_processes()}),
	'0', 'and nothing runs any more');

$standby->stop;
$primary->stop;
done_testing();
