# LISTEN ontstatus: every lifecycle call announces the process at commit.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

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
	SELECT ontstatus.start_process('ONT_PATIENT_COUNT_UPDATE', 'ONT_PATIENT_COUNT_UPDATE');
	SELECT ontstatus.report_progress(1, message => 'PROCESSED 1/2');
	SELECT ontstatus.start_process('ONT_PATIENT_COUNT_UPDATE');
	SELECT ontstatus.finish_process(1, 'KILLED');
}, stdout => \$stdout, stderr => \$stderr);

my @payloads = ($stdout =~ /Asynchronous notification "ontstatus" with payload "(.*?)" received/g);
is(scalar @payloads, 5, 'five notifications: start, progress, abort and start, kill')
  or diag("stdout: $stdout\nstderr: $stderr");
like($payloads[0], qr/"process_id" : 1, "process_type_cd" : "ONT_PATIENT_COUNT_UPDATE", "process_step_cd" : "ONT_PATIENT_COUNT_UPDATE", "process_status_cd" : "PROCESSING", "schema" : "i2b2metadata"/,
	'start: process_id, type, step, status and schema');
like($payloads[1], qr/"process_id" : 1, .* "process_status_cd" : "PROCESSING"/, 'progress');
like($payloads[2], qr/"process_id" : 1, .* "process_status_cd" : "ABORT"/, 'the running one aborted by a new start');
like($payloads[3], qr/"process_id" : 2, .* "process_status_cd" : "PROCESSING"/, 'the new one');
like($payloads[4], qr/"process_id" : 1, .* "process_status_cd" : "KILLED"/, 'killed');

# enable_notify: the Java cell's own writes are announced in the same form,
# and a lifecycle call is announced once, not twice
$node->safe_psql('postgres', q{SELECT ontstatus.enable_notify()});
$node->psql('postgres', q{
	LISTEN ontstatus;
	UPDATE i2b2metadata.ont_process_status SET process_status_cd = 'COMPLETED' WHERE process_id = 2;
	INSERT INTO i2b2metadata.ont_process_status (process_type_cd, process_status_cd) VALUES ('ONT_ADD_CONCEPT', 'PROCESSING');
	SELECT ontstatus.report_progress(3, message => 'PROCESSED 5/9');
}, stdout => \$stdout, stderr => \$stderr);
@payloads = ($stdout =~ /Asynchronous notification "ontstatus" with payload "(.*?)" received/g);
is(scalar @payloads, 3, 'a direct update, a direct insert, one progress report')
  or diag("stdout: $stdout\nstderr: $stderr");
like($payloads[0], qr/^\{"process_id" : 2, "process_type_cd" : "ONT_PATIENT_COUNT_UPDATE", "process_step_cd" : null, "process_status_cd" : "COMPLETED", "schema" : "i2b2metadata"\}$/,
	'the trigger sends what the lifecycle functions send');
like($payloads[1], qr/"process_id" : 3, .*"process_status_cd" : "PROCESSING"/, 'the insert');
like($payloads[2], qr/"process_id" : 3, .*"process_status_cd" : "PROCESSING"/, 'the progress report, once');
$node->safe_psql('postgres', q{SELECT ontstatus.disable_notify()});

# a schema name that needs quoting comes out as the plain name
$node->safe_psql('postgres', q{
	CREATE SCHEMA "Odd.Schema";
	CREATE TABLE "Odd.Schema".ont_process_status (LIKE i2b2metadata.ont_process_status INCLUDING ALL);
});
$node->psql('postgres', q{
	SET ontstatus.schema = 'Odd.Schema';
	LISTEN ontstatus;
	SELECT ontstatus.start_process('ONT_DELETE_CONCEPT');
}, stdout => \$stdout, stderr => \$stderr);
like($stdout, qr/"process_type_cd" : "ONT_DELETE_CONCEPT".*"schema" : "Odd\.Schema"/,
	'the schema of a quoted name') or diag("stdout: $stdout\nstderr: $stderr");

# delivered at commit: nothing for a rolled-back start
$node->psql('postgres', q{
	LISTEN ontstatus;
	BEGIN;
	SELECT ontstatus.start_process('ONT_ADD_CONCEPT');
	ROLLBACK;
	SELECT 1;
}, stdout => \$stdout, stderr => \$stderr);
unlike($stdout, qr/Asynchronous notification/, 'no notification for a rolled-back start');

$node->stop;
done_testing();
