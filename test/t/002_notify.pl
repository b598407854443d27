# LISTEN ontstatus: every lifecycle call announces the process at commit.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use JSON::PP;
use IPC::Run;

my $node = PostgreSQL::Test::Cluster->new('notify');
$node->init;
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION ontstatus;
	CREATE SCHEMA i2b2metadata;
	SET search_path = i2b2metadata;
} . slurp_file('test/fixtures/ont_process_status.sql') . q{
	ALTER DATABASE postgres SET search_path = i2b2metadata, public;
});

# psql prints the notifications a session receives, its own included
my ($stdout, $stderr);
$node->psql('postgres', q{
	LISTEN ontstatus;
	SELECT ontstatus.start_process('ONT_PATIENT_COUNT_UPDATE', changed_by => 'demo');
	SELECT ontstatus.report_progress(1, 1, 2);
	SELECT ontstatus.start_process('ONT_PATIENT_COUNT_UPDATE', changed_by => 'demo');
	SELECT ontstatus.finish_process(1, 'KILLED', process_step_cd => 'PROCESSED 1/2');
}, stdout => \$stdout, stderr => \$stderr);

my @payloads = ($stdout =~ /Asynchronous notification "ontstatus" with payload "(.*?)" received/g);
is(scalar @payloads, 5, 'five notifications: start, progress, abort and start, kill')
  or diag("stdout: $stdout\nstderr: $stderr");
like($payloads[0], qr/^\{"process_id" : 1, "process_type_cd" : "ONT_PATIENT_COUNT_UPDATE", "process_step_cd" : "ONT_PATIENT_COUNT_UPDATE", "process_status_cd" : "PROCESSING", "schema" : "i2b2metadata"\}$/,
	'start: process_id, type, first step, status and schema');
like($payloads[1], qr/"process_id" : 1, .*"process_step_cd" : "PROCESSED 1\/2", "process_status_cd" : "PROCESSING"/,
	'progress: the step the Workbench reads');
like($payloads[2], qr/"process_id" : 1, .*"process_step_cd" : "ONT_PATIENT_COUNT_UPDATE", "process_status_cd" : "ABORT"/,
	'the running one aborted by a new patient count start');
like($payloads[3], qr/"process_id" : 2, .*"process_status_cd" : "PROCESSING"/, 'the new one');
like($payloads[4], qr/"process_id" : 1, .*"process_step_cd" : "PROCESSED 1\/2", "process_status_cd" : "KILLED"/, 'killed');

# a CRC sync start aborts nothing: one notification, its own
$node->psql('postgres', q{
	LISTEN ontstatus;
	SELECT ontstatus.start_process('ONT_UPDATE_CRC_CONCEPT', changed_by => 'demo');
}, stdout => \$stdout, stderr => \$stderr);
@payloads = ($stdout =~ /Asynchronous notification "ontstatus" with payload "(.*?)" received/g);
is(scalar @payloads, 1, 'a CRC sync start: one notification')
  or diag("stdout: $stdout\nstderr: $stderr");
like($payloads[0], qr/^\{"process_id" : 3, "process_type_cd" : "ONT_UPDATE_CRC_CONCEPT", "process_step_cd" : "ONT_BUILD_PDO_START", "process_status_cd" : "PROCESSING", "schema" : "i2b2metadata"\}$/,
	'the CRC sync, with its first step');

# stop_processes: the aborted row is announced, nothing is started; a second
# stop finds nothing to abort and announces nothing
$node->psql('postgres', q{
	LISTEN ontstatus;
	SELECT 'stopped ' || id FROM ontstatus.stop_processes() AS id;
	SELECT 'stopped again: ' || count(*) FROM ontstatus.stop_processes();
}, stdout => \$stdout, stderr => \$stderr);
@payloads = ($stdout =~ /Asynchronous notification "ontstatus" with payload "(.*?)" received/g);
is(scalar @payloads, 1, 'stop_processes: one notification, for the one running patient count')
  or diag("stdout: $stdout\nstderr: $stderr");
like($payloads[0], qr/^\{"process_id" : 2, "process_type_cd" : "ONT_PATIENT_COUNT_UPDATE", "process_step_cd" : "ONT_PATIENT_COUNT_UPDATE", "process_status_cd" : "ABORT", "schema" : "i2b2metadata"\}$/,
	'stop_processes announces the aborted row');
like($stdout, qr/^stopped 2$/m, 'and returns its process_id');
like($stdout, qr/^stopped again: 0$/m, 'a second stop aborts nothing');
is($node->safe_psql('postgres', q{
	SELECT string_agg(process_id || ' ' || process_status_cd, ',' ORDER BY process_id)
	FROM i2b2metadata.ont_process_status}),
	'1 KILLED,2 ABORT,3 PROCESSING', 'the CRC sync was not stopped, and nothing was started');

# enable_notify: the Java cell's own writes are announced in the same form,
# and a lifecycle call is announced once, not twice
$node->safe_psql('postgres', q{SELECT ontstatus.enable_notify()});
$node->psql('postgres', q{
	LISTEN ontstatus;
	UPDATE i2b2metadata.ont_process_status
	SET process_status_cd = 'KILLED', process_step_cd = 'PROCESSED 0/2', end_date = localtimestamp,
	    change_date = localtimestamp, status_cd = 'U'
	WHERE process_id = 2;
	INSERT INTO i2b2metadata.ont_process_status
		(process_type_cd, process_step_cd, start_date, process_status_cd, changedby_char, message, entry_date, status_cd)
	VALUES ('ONT_PATIENT_COUNT_UPDATE', 'ONT_PATIENT_COUNT_UPDATE', localtimestamp, 'PROCESSING', 'demo', '', localtimestamp, 'C');
	SELECT ontstatus.report_progress(4, 5, 9);
}, stdout => \$stdout, stderr => \$stderr);
@payloads = ($stdout =~ /Asynchronous notification "ontstatus" with payload "(.*?)" received/g);
is(scalar @payloads, 3, 'a direct update, a direct insert, one progress report')
  or diag("stdout: $stdout\nstderr: $stderr");
like($payloads[0], qr/^\{"process_id" : 2, "process_type_cd" : "ONT_PATIENT_COUNT_UPDATE", "process_step_cd" : "PROCESSED 0\/2", "process_status_cd" : "KILLED", "schema" : "i2b2metadata"\}$/,
	'the trigger sends what the lifecycle functions send');
like($payloads[1], qr/^\{"process_id" : 4, "process_type_cd" : "ONT_PATIENT_COUNT_UPDATE", "process_step_cd" : "ONT_PATIENT_COUNT_UPDATE", "process_status_cd" : "PROCESSING", "schema" : "i2b2metadata"\}$/,
	'the insert');
like($payloads[2], qr/^\{"process_id" : 4, .*"process_step_cd" : "PROCESSED 5\/9", "process_status_cd" : "PROCESSING"/,
	'the progress report, once');
$node->safe_psql('postgres', q{SELECT ontstatus.disable_notify()});

# a schema name that needs quoting comes out as the plain name
$node->safe_psql('postgres', q{
	CREATE SCHEMA "Odd.Schema";
	CREATE TABLE "Odd.Schema".ont_process_status (LIKE i2b2metadata.ont_process_status INCLUDING ALL);
});
$node->psql('postgres', q{
	SET ontstatus.schema = '"Odd.Schema"';
	LISTEN ontstatus;
	SELECT ontstatus.start_process('ONT_SYNCALL_CRC_CONCEPT');
}, stdout => \$stdout, stderr => \$stderr);
like($stdout, qr/"process_type_cd" : "ONT_SYNCALL_CRC_CONCEPT".*"schema" : "Odd\.Schema"/,
	'the schema of a quoted name') or diag("stdout: $stdout\nstderr: $stderr");

# delivered at commit: nothing for a rolled-back start
$node->psql('postgres', q{
	LISTEN ontstatus;
	BEGIN;
	SELECT ontstatus.start_process('ONT_UPDATE_CRC_CONCEPT');
	ROLLBACK;
	SELECT 1;
}, stdout => \$stdout, stderr => \$stderr);
like($stdout, qr/^1$/m, 'the start ran, was rolled back, and the session went on')
  or diag("stdout: $stdout\nstderr: $stderr");
unlike($stdout, qr/Asynchronous notification/, 'no notification for a rolled-back start');

# The payload is ids and codes only - never the message or changedby_char -
# because PostgreSQL has no privileges on channels: any role of the database
# can LISTEN, whatever it may read.  A role with no grant at all hears it.
$node->safe_psql('postgres', q{CREATE ROLE eavesdropper LOGIN});
my $payload_of = sub {
	my ($out) = @_;
	return [ map { decode_json($_) } ($out =~ /Asynchronous notification "ontstatus" with payload "(.*?)" received/g) ];
};
$node->psql('postgres', q{
	LISTEN ontstatus;
	SELECT ontstatus.start_process('ONT_UPDATE_CRC_CONCEPT', message => 'secret message', changed_by => 'secret user');
	SELECT ontstatus.finish_process(currval(pg_get_serial_sequence('i2b2metadata.ont_process_status', 'process_id')),
		'ERROR', 'secret failure');
}, stdout => \$stdout, stderr => \$stderr);
my $seen = $payload_of->($stdout);
is(scalar @$seen, 2, 'a start and a finish with messages: two notifications')
  or diag("stdout: $stdout\nstderr: $stderr");
is(join(',', map { join('|', sort keys %$_) } @$seen),
	join(',', ('process_id|process_status_cd|process_step_cd|process_type_cd|schema') x 2),
	'every payload is valid JSON with exactly id, type, step, status and schema');
unlike($stdout, qr/secret/, 'no message and no changedby_char in any payload');

# a role without any privilege on the table hears the changes too: the
# README says so, and that a listener must re-read through the functions
my ($out2, $err2);
my $h = IPC::Run::start(
	[ 'psql', '-XAtq', '-U', 'eavesdropper', '-d', $node->connstr('postgres'), '-f', '-' ],
	'<', \my $in2, '>', \$out2, '2>', \$err2, IPC::Run::timeout(60));
$in2 = "LISTEN ontstatus;\nSELECT 'listening';\n";
$h->pump until $out2 =~ /listening/;
$node->safe_psql('postgres', q{SELECT ontstatus.start_process('ONT_SYNCALL_CRC_CONCEPT')});
$in2 .= "SELECT 'after';\n";
$h->pump until $out2 =~ /after/;
$in2 .= "\\q\n";
$h->finish;
like($out2, qr/Asynchronous notification "ontstatus" with payload "\{"process_id" : \d+, "process_type_cd" : "ONT_SYNCALL_CRC_CONCEPT"/,
	'a role with no privilege on the table receives the notification')
  or diag("stdout: $out2\nstderr: $err2");
isnt(scalar $node->psql('postgres', 'SELECT count(*) FROM i2b2metadata.ont_process_status',
		extra_params => [ '-U', 'eavesdropper' ]),
	0, 'while it cannot read the table');

# a numeric process_id of NaN: the payload stays valid JSON (a string)
$node->safe_psql('postgres', q{
	CREATE SCHEMA nan_ids;
	CREATE TABLE nan_ids.ont_process_status (process_id numeric PRIMARY KEY,
		process_type_cd text, process_step_cd text, process_status_cd text);
	SELECT ontstatus.enable_notify('nan_ids');
});
$node->psql('postgres', q{
	LISTEN ontstatus;
	INSERT INTO nan_ids.ont_process_status VALUES ('NaN', 'ONT_ADD_CONCEPT', 'ONT_SENTTO_FRC', 'COMPLETED');
	INSERT INTO nan_ids.ont_process_status VALUES (12.50, 'ONT_ADD_CONCEPT', 'ONT_SENTTO_FRC', 'COMPLETED');
}, stdout => \$stdout, stderr => \$stderr);
$seen = eval { $payload_of->($stdout) };
is($@, '', 'the payloads of numeric ids NaN and 12.50 are valid JSON')
  or diag("stdout: $stdout\nstderr: $stderr");
like($stdout, qr/"process_id" : "NaN", /, 'NaN as a string');
like($stdout, qr/"process_id" : 12\.50, /, '12.50 as a number');
is(scalar @{ $seen || [] }, 2, 'both announced');

$node->stop;
done_testing();
