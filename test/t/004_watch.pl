# A job whose session dies is seen as dead, not PROCESSING for ever:
# run_process and watch_process register the session that runs a process;
# running_processes shows alive, reap_processes ends the dead ones, and the
# next start does it too.  Sessions driven through IPC::Run; a terminated
# backend and an immediate restart.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
# the sessions helper (after the TAP modules, so that those stay the server's own)
use FindBin;
use lib "$FindBin::Bin/../perl";
use OntStatus::Session;

my $node = PostgreSQL::Test::Cluster->new('watch');
$node->init;
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION ontstatus;
	CREATE SCHEMA i2b2metadata;
	SET search_path = i2b2metadata;
} . slurp_file('test/fixtures/ont_process_status.sql') . q{
	ALTER DATABASE postgres SET search_path = i2b2metadata, public;
	CREATE TABLE public.gate (x int);
	CREATE ROLE i2b2_jobs LOGIN;
	ALTER ROLE i2b2_jobs SET search_path = i2b2metadata, public;
	GRANT USAGE ON SCHEMA i2b2metadata TO i2b2_jobs;
	GRANT SELECT, INSERT, UPDATE ON i2b2metadata.ont_process_status TO i2b2_jobs;
	GRANT USAGE ON SEQUENCE i2b2metadata.ont_process_status_process_id_seq TO i2b2_jobs;
	GRANT SELECT ON public.gate TO i2b2_jobs;
});

sub run_query { $node->safe_psql('postgres', shift) }


sub alive_of
{
	my ($id) = @_;
	return run_query(qq{SELECT coalesce(alive::text, 'null') FROM ontstatus.running_processes()
		WHERE process_id = $id});
}

# --- a run whose step waits on the gate: alive, and left alone
my $holder = hold_gate($node, 'postgres');
my $runner = session($node, 'i2b2_jobs');
send_sql($runner, q{CALL ontstatus.run_process('ONT_PATIENT_COUNT_UPDATE',
	ARRAY['SELECT count(*) FROM gate', 'SELECT 1']);});
$node->poll_query_until('postgres', q{SELECT count(*) = 1 FROM pg_stat_activity
	WHERE query LIKE 'CALL ontstatus.run_process%' AND wait_event_type = 'Lock'})
  or die 'the run never waited on the gate';
my $id = run_query('SELECT max(process_id) FROM ont_process_status');
is(alive_of($id), 'true', 'while its session runs it, the process is alive');
is(run_query('SELECT count(*) FROM ontstatus.reap_processes()'), '0', 'reap_processes leaves it alone');
is(run_query(qq{SELECT process_status_cd FROM ont_process_status WHERE process_id = $id}),
	'PROCESSING', 'still PROCESSING');

# --- its backend terminated: dead at once, reaped once, as the cell writes
my $pid = run_query(q{SELECT pid FROM pg_stat_activity WHERE query LIKE 'CALL ontstatus.run_process%'});
is(run_query("SELECT pg_terminate_backend($pid)"), 't', 'terminate the running session');
$node->poll_query_until('postgres', "SELECT NOT EXISTS (SELECT FROM pg_stat_activity WHERE pid = $pid)")
  or die 'the session did not end';
is(alive_of($id), 'false', 'once its session is gone, alive is false');
is(run_query('SELECT string_agg(id::text, \',\') FROM ontstatus.reap_processes() AS id'), $id,
	'reap_processes returns its id');
like(run_query(qq{SELECT concat_ws('|', process_step_cd, process_status_cd, status_cd, end_date = change_date, message)
	FROM ont_process_status WHERE process_id = $id}),
	qr/^PROCESSED 0\/2\|ERROR\|U\|t\|the session running this process \(pid $pid, connected since .+\) ended before it finished$/,
	'the row is ERROR with its last step and a message naming the session');
is(run_query('SELECT count(*) FROM ontstatus.reap_processes()'), '0', 'a second reap changes nothing');
is(run_query(qq{SELECT count(*) FROM ontstatus.running_processes() WHERE process_id = $id}), '0',
	'and it is no longer listed as running');
# (the runner's psql lost its connection and ended; its harness is left alone)
send_sql($holder, "COMMIT; \\echo released");
wait_for($holder, qr/^released$/m);
$holder->{in} .= "\\q\n";
$holder->{h}->finish;

# --- an immediate restart during a run: dead after the restart, and the
# next run_process reaps it before it starts
$holder = hold_gate($node, 'postgres');
$runner = session($node, 'i2b2_jobs');
send_sql($runner, q{CALL ontstatus.run_process('ONT_UPDATE_CRC_CONCEPT',
	ARRAY['SELECT 1', 'SELECT count(*) FROM gate', 'SELECT 1']);});
$node->poll_query_until('postgres', q{SELECT count(*) = 1 FROM pg_stat_activity
	WHERE query LIKE 'CALL ontstatus.run_process%' AND wait_event_type = 'Lock'})
  or die 'the run never waited on the gate';
my $crashed = run_query('SELECT max(process_id) FROM ont_process_status');
$node->stop('immediate');
# (both psql sessions lost their connections; their harnesses are left alone)
$node->start;
is(alive_of($crashed), 'false', 'after an immediate restart the run is not alive');
is(run_query(qq{SELECT process_step_cd || ' ' || process_status_cd FROM ont_process_status WHERE process_id = $crashed}),
	'PROCESSED 1/3 PROCESSING', 'and its row is as the crash left it');
$node->safe_psql('postgres', q{CALL ontstatus.run_process('ONT_UPDATE_CRC_CONCEPT', ARRAY['SELECT 1'])},
	extra_params => [ '-U', 'i2b2_jobs' ]);
like(run_query(qq{SELECT process_step_cd || ' ' || process_status_cd || ' ' || message FROM ont_process_status
	WHERE process_id = $crashed}),
	qr/^PROCESSED 1\/3 ERROR the session running this process/, 'the next run_process reaped it');

# --- watch_process from a procedure driven by hand, then the session ends
my $watched = $node->safe_psql('postgres', q{
	SELECT ontstatus.start_process('ONT_UPDATE_CRC_CONCEPT') AS id \gset
	SELECT ontstatus.watch_process(:id) \gset
	SELECT alive FROM ontstatus.running_processes() WHERE process_id = :id;
	SELECT :id;}, extra_params => [ '-U', 'i2b2_jobs' ]);
my ($alive_then, $wid) = split /\n/, $watched;
is($alive_then, 't', 'watch_process: alive in its own session');
is(alive_of($wid), 'false', 'and dead once that session disconnected');
is(run_query('SELECT string_agg(id::text, \',\') FROM ontstatus.reap_processes() AS id'), $wid, 'reaped');

# finish_process ends the watch
my $finished = $node->safe_psql('postgres', q{
	SELECT ontstatus.start_process('ONT_UPDATE_CRC_CONCEPT') AS id \gset
	SELECT ontstatus.watch_process(:id) \gset
	SELECT ontstatus.finish_process(:id, 'COMPLETED') \gset
	SELECT count(*) FROM ontstatus.process_watch WHERE process_id = :id;},
	extra_params => [ '-U', 'i2b2_jobs' ]);
like($finished, qr/^0$/m, 'finish_process ends the watch');

# --- a row the Java cell writes: alive NULL, never reaped
my $cell = run_query(q{INSERT INTO ont_process_status (process_type_cd, process_step_cd, process_status_cd,
	start_date, entry_date, status_cd, changedby_char, message)
	VALUES ('ONT_SYNCALL_CRC_CONCEPT', 'ONT_BUILD_PDO_START', 'PROCESSING', now(), now(), 'C', 'demo', '')
	RETURNING process_id});
is(alive_of($cell), 'null', "a row the cell writes: alive is NULL");
is(run_query('SELECT count(*) FROM ontstatus.reap_processes()'), '0', 'and it is never reaped');
is(run_query(qq{SELECT process_status_cd FROM ont_process_status WHERE process_id = $cell}), 'PROCESSING',
	'it stays PROCESSING');

# --- nobody can register or remove a process through the table itself
my ($ret, $out, $err) = $node->psql('postgres',
	qq{INSERT INTO ontstatus.process_watch VALUES ('i2b2metadata.ont_process_status'::regclass, $cell, 1, now())},
	extra_params => [ '-U', 'i2b2_jobs' ]);
isnt($ret, 0, 'a role cannot write ontstatus.process_watch itself');
like($err, qr/permission denied/, 'permission denied');
($ret, $out, $err) = $node->psql('postgres', q{SELECT ontstatus.watch_process(999999)},
	extra_params => [ '-U', 'i2b2_jobs' ]);
like($err, qr/process 999999 does not exist/, 'watch_process of an unknown process is an error');

# --- a dump and restore of a database with a live run: the copy's
# registration names the copy's own table and a session that never ran
# there, so it is dead there and reaped; the original run is untouched
$holder = hold_gate($node, 'postgres');
$runner = session($node, 'i2b2_jobs');
send_sql($runner, q{CALL ontstatus.run_process('ONT_UPDATE_CRC_CONCEPT',
	ARRAY['SELECT count(*) FROM gate', 'SELECT 1']);});
$node->poll_query_until('postgres', q{SELECT count(*) = 1 FROM pg_stat_activity
	WHERE query LIKE 'CALL ontstatus.run_process%' AND wait_event_type = 'Lock'})
  or die 'the run never waited on the gate';
my $live = run_query('SELECT max(process_id) FROM ont_process_status');
is(alive_of($live), 'true', 'a run alive before the dump');
my $dumpfile = $node->basedir . '/site.sql';
# (the gate is left out: the run's gate is held, and pg_dump would wait for it)
$node->command_ok([ 'pg_dump', '-T', 'public.gate', '-d', $node->connstr('postgres'), '-f', $dumpfile ], 'pg_dump');
$node->safe_psql('postgres', 'CREATE DATABASE restored');
$node->command_ok([ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr('restored'),
	'-f', $dumpfile ], 'restore into another database');
is($node->safe_psql('restored', qq{SELECT w.process_table = 'i2b2metadata.ont_process_status'::regclass
	FROM ontstatus.process_watch w WHERE w.process_id = $live}),
	't', "the copy's registration names the copy's table");
is($node->safe_psql('restored', qq{SET search_path = i2b2metadata;
	SELECT alive FROM ontstatus.running_processes() WHERE process_id = $live}),
	'f', 'in the copy the run is not alive');
is($node->safe_psql('restored', q{SET search_path = i2b2metadata;
	SELECT string_agg(id::text, ',') FROM ontstatus.reap_processes() AS id}),
	$live, 'and the copy reaps it');
is(alive_of($live), 'true', 'the original run is still alive');
send_sql($holder, "COMMIT; \\echo released");
wait_for($holder, qr/^released$/m);
$node->poll_query_until('postgres', qq{SELECT process_status_cd = 'COMPLETED' FROM ont_process_status
	WHERE process_id = $live}) or die 'the run did not complete';
pass('the original run completed');

is(run_query('SELECT 1'), '1', 'the server is up');
$node->stop;
done_testing();
