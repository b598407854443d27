# CALL ontstatus.run_process: a SQL job as an i2b2 process.  Progress is
# watched from other sessions while a step waits on a lock the test holds
# (no sleeps): a second psql holds the lock, a third runs the CALL, both
# driven through IPC::Run, which PostgreSQL 13's TAP modules have as well.
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

my $node = PostgreSQL::Test::Cluster->new('run_process');
$node->init;
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION ontstatus;
	CREATE SCHEMA i2b2metadata;
	SET search_path = i2b2metadata;
} . slurp_file('test/fixtures/ont_process_status.sql') . q{
	ALTER DATABASE postgres SET search_path = i2b2metadata, public;
	CREATE TABLE public.gate (x int);
	CREATE TABLE public.done (v int, who text DEFAULT current_user);
	CREATE TABLE public.uniq (v int PRIMARY KEY);
	INSERT INTO public.uniq VALUES (1);
	CREATE TABLE public.dfr (v int UNIQUE DEFERRABLE INITIALLY DEFERRED);
	INSERT INTO public.dfr VALUES (1);
});

sub run_query { $node->safe_psql('postgres', shift) }

# the row of a process: step, status, message
sub row
{
	my ($id) = @_;
	return run_query(qq{SELECT concat_ws('|', process_step_cd, process_status_cd, coalesce(message, '<null>'))
		FROM ont_process_status WHERE process_id = $id});
}

sub done_values
{
	return run_query(q{SELECT coalesce(string_agg(v::text, ',' ORDER BY v), '') FROM done});
}



sub wait_until_waiting
{
	$node->poll_query_until('postgres', q{
		SELECT count(*) = 1 FROM pg_stat_activity
		WHERE query LIKE 'CALL ontstatus.run_process%' AND wait_event_type = 'Lock'})
	  or die 'run_process never waited on the gate';
}

my ($rc, $stdout, $stderr);

# --- progress from another session while step 2 waits; a stop from another
# session ends the run KILLED after that step, step 3 never runs
my $holder = hold_gate($node);
my $runner = session($node);
send_sql($runner, q{CALL ontstatus.run_process('ONT_PATIENT_COUNT_UPDATE',
	ARRAY['INSERT INTO done VALUES (1)', 'INSERT INTO done SELECT 2 FROM gate UNION ALL SELECT 2', 'INSERT INTO done VALUES (3)'],
	'demo');
\echo finished});
wait_until_waiting();
is(row(1), 'PROCESSED 1/3|PROCESSING|', 'while step 2 runs, another session sees PROCESSED 1/3');
is(done_values(), '1', 'step 1 is committed while step 2 runs');
is(run_query(q{SELECT progress_done || '/' || progress_total || ' ' || process_status_cd
	FROM ontstatus.running_processes() WHERE process_id = 1}),
	'1/3 PROCESSING', 'running_processes shows the progress');
is(run_query(q{SELECT string_agg(id::text, ',') FROM ontstatus.stop_processes() AS id}),
	'1', 'stop_processes from a second session aborts the run');
release_gate($holder);
wait_for($runner, qr/^finished$/m);
like($runner->{out}, qr/^1$/m, 'CALL returns the process_id');
is($runner->{err}, '', 'a stopped run is no error');
is(row(1), 'PROCESSED 2/3|KILLED|', 'KILLED after the current step, with its progress');
is(done_values(), '1,2', 'the step that ran when the stop came is committed, step 3 never ran');

# --- a failing step: rolled back, recorded as ERROR with the message, the
# steps before it committed, the ones after it not run, the SQLSTATE raised
run_query('TRUNCATE done');
$rc = $node->psql('postgres', q{\set VERBOSITY verbose
CALL ontstatus.run_process('ONT_PATIENT_COUNT_UPDATE',
	ARRAY['INSERT INTO done VALUES (10)', 'INSERT INTO done VALUES (11); INSERT INTO uniq VALUES (1)', 'INSERT INTO done VALUES (12)']);},
	stdout => \$stdout, stderr => \$stderr);
isnt($rc, 0, 'a failing step fails the CALL');
like($stderr, qr/ERROR:  23505: duplicate key value violates unique constraint "uniq_pkey"/,
	'with the original error and SQLSTATE');
like($stderr, qr/ontstatus\.run_process\(\) step 2 of 3/, 'its context names the step');
like(row(2), qr/^PROCESSED 1\/3\|ERROR\|step 2 of 3 failed: duplicate key value violates unique constraint "uniq_pkey" \(SQLSTATE 23505\) DETAIL: Key \(v\)=\(1\) already exists\.$/,
	'ERROR with the last step done and a message naming the step, the error and its detail');
is(done_values(), '10', 'step 1 committed, step 2 rolled back, step 3 not run');

# a deferred constraint fails its step, not the commit
$rc = $node->psql('postgres', q{\set VERBOSITY verbose
CALL ontstatus.run_process('ONT_UPDATE_CRC_CONCEPT', ARRAY['INSERT INTO done VALUES (20)', 'INSERT INTO dfr VALUES (1)']);},
	stdout => \$stdout, stderr => \$stderr);
like($stderr, qr/ERROR:  23505:/, 'a deferred unique violation is raised');
like(row(3), qr/^PROCESSED 1\/2\|ERROR\|step 2 of 2 failed: duplicate key/, 'and recorded as the step\'s error');

# a step cannot end its transaction
$rc = $node->psql('postgres', q{\set VERBOSITY verbose
CALL ontstatus.run_process('ONT_UPDATE_CRC_CONCEPT', ARRAY['COMMIT']);},
	stdout => \$stdout, stderr => \$stderr);
like($stderr, qr/ERROR:  2D000: a step of ontstatus.run_process\(\) cannot commit/, 'COMMIT as a step is refused');
like(row(4), qr/^PROCESSED 0\/1\|ERROR\|step 1 of 1 failed: a step/, 'and recorded');

# --- a cancel and a statement_timeout during a step are recorded as ERROR
$holder = hold_gate($node);
$runner = session($node);
send_sql($runner, q{CALL ontstatus.run_process('ONT_PATIENT_COUNT_UPDATE',
	ARRAY['INSERT INTO done VALUES (30)', 'SELECT count(*) FROM gate', 'INSERT INTO done VALUES (32)']);
\echo finished});
wait_until_waiting();
is(run_query(q{SELECT pg_cancel_backend(pid) FROM pg_stat_activity
	WHERE query LIKE 'CALL ontstatus.run_process%' AND wait_event_type = 'Lock'}), 't', 'cancel the waiting step');
wait_for($runner, qr/^finished$/m);
like($runner->{err}, qr/ERROR:  57014: canceling statement due to user request/, 'the cancel is raised');
like(row(5), qr/^PROCESSED 1\/3\|ERROR\|step 2 of 3 failed: canceling statement due to user request \(SQLSTATE 57014\)$/,
	'and recorded as ERROR');

send_sql($runner, q{SET statement_timeout = '1s';
CALL ontstatus.run_process('ONT_PATIENT_COUNT_UPDATE', ARRAY['SELECT count(*) FROM gate', 'INSERT INTO done VALUES (42)']);
\echo finished again});
wait_for($runner, qr/^finished again$/m);
like($runner->{err}, qr/ERROR:  57014: canceling statement due to statement timeout/, 'statement_timeout is raised');
like(row(6), qr/^PROCESSED 0\/2\|ERROR\|step 1 of 2 failed: canceling statement due to statement timeout/,
	'and recorded as ERROR');
$runner->{in} .= "\\q\n";
$runner->{h}->finish;
release_gate($holder);
is(done_values(), '10,20,30', 'no step after a failure ran');

# --- recording a failure waits for the row no longer than the caller's
# statement_timeout allows (it waited for ever once the step's timeout had
# fired): another session holds the row; the CALL still returns, raises the
# step's error, and warns that the failure could not be recorded
$holder = hold_gate($node);
$runner = session($node);
send_sql($runner, q{SET statement_timeout = '5s';
CALL ontstatus.run_process('ONT_UPDATE_CRC_CONCEPT', ARRAY['SELECT count(*) FROM gate']);
\echo finished bounded});
wait_until_waiting();
my $bounded_id = run_query('SELECT max(process_id) FROM ont_process_status');
my $row_holder = session($node);
send_sql($row_holder, qq{BEGIN; SELECT 1 FROM ont_process_status WHERE process_id = $bounded_id FOR UPDATE; \\echo row locked});
wait_for($row_holder, qr/^row locked$/m);
wait_for($runner, qr/^finished bounded$/m);
like($runner->{err}, qr/WARNING:  55P03: ontstatus\.run_process\(\) could not record the failure of step 1 of 1 in process $bounded_id\nDETAIL:  Writing the record failed with "canceling statement due to lock timeout"/,
	'the record waited no longer than statement_timeout, and says it could not be written');
like($runner->{err}, qr/ERROR:  57014: canceling statement due to statement timeout/,
	'the step\'s own error is raised, not the record\'s');
send_sql($row_holder, "COMMIT; \\echo row released");
wait_for($row_holder, qr/^row released$/m);
$row_holder->{in} .= "\\q\n";
$row_holder->{h}->finish;
$runner->{in} .= "\\q\n";
$runner->{h}->finish;
release_gate($holder);
is(row($bounded_id), 'PROCESSED 0/1|PROCESSING|', 'the row keeps what it had, as the WARNING says');
run_query("SELECT ontstatus.finish_process($bounded_id, 'ERROR', 'ended by the test')");

# --- refusals: nothing is started
my $before = run_query('SELECT count(*) FROM ont_process_status');
$rc = $node->psql('postgres', q{\set VERBOSITY verbose
BEGIN;
CALL ontstatus.run_process('ONT_PATIENT_COUNT_UPDATE', ARRAY['SELECT 1']);},
	stdout => \$stdout, stderr => \$stderr);
like($stderr, qr/ERROR:  25001: ontstatus\.run_process\(\) cannot run inside a transaction block/,
	'refused inside BEGIN');
like($stderr, qr/HINT:  CALL it on its own/, 'with a hint to call it on its own');
$rc = $node->psql('postgres', q{
CREATE FUNCTION pg_temp.f() RETURNS void LANGUAGE plpgsql AS
  $$DECLARE id bigint; BEGIN CALL ontstatus.run_process('ONT_PATIENT_COUNT_UPDATE', ARRAY['SELECT 1'], NULL, id); END$$;
SELECT pg_temp.f();}, stdout => \$stdout, stderr => \$stderr);
like($stderr, qr/cannot run inside a transaction block/, 'refused in a function');
$rc = $node->psql('postgres', q{\set VERBOSITY verbose
CALL ontstatus.run_process('ONT_PATIENT_COUNT_UPDATE', '{}');},
	stdout => \$stdout, stderr => \$stderr);
like($stderr, qr/ERROR:  22023: steps must not be empty/, 'an empty steps array: 22023');
$rc = $node->psql('postgres', q{\set VERBOSITY verbose
CALL ontstatus.run_process('ONT_PATIENT_COUNT_UPDATE', ARRAY['INSERT INTO done VALUES (50)', NULL]);},
	stdout => \$stdout, stderr => \$stderr);
like($stderr, qr/ERROR:  22004: step 2 of steps is null/, 'a NULL step is refused');
is(run_query('SELECT count(*) FROM ont_process_status'), $before, 'no refused call started a process');
is(done_values(), '10,20,30', 'and no refused call ran a step');

# from a DO block or a procedure CALLed on its own it can commit, and runs
$rc = $node->psql('postgres', q{
DO $$DECLARE id bigint; BEGIN CALL ontstatus.run_process('ONT_UPDATE_CRC_CONCEPT', ARRAY['SELECT 1'], NULL, id); RAISE NOTICE 'ran %', id; END$$;},
	stdout => \$stdout, stderr => \$stderr);
like($stderr, qr/NOTICE:  ran \d+/, 'a DO block outside a transaction block may CALL it');

# --- the Workbench's parse of every change announced, and the cell's row
$rc = $node->psql('postgres', q{
LISTEN ontstatus;
CALL ontstatus.run_process('ONT_PATIENT_COUNT_UPDATE', ARRAY['SELECT 1', 'SELECT 2', 'SELECT 3'], 'demo');},
	stdout => \$stdout, stderr => \$stderr);
my @payloads = ($stdout =~ /Asynchronous notification "ontstatus" with payload "(.*?)" received/g);
is(scalar @payloads, 4, 'four changes announced: the start, 1/3, 2/3, COMPLETED')
  or diag("stdout: $stdout\nstderr: $stderr");
my @seen;
for my $p (@payloads)
{
	my ($step) = $p =~ /"process_step_cd" : "([^"]*)"/;
	my ($status) = $p =~ /"process_status_cd" : "([^"]*)"/;
	# the Workbench: split on the space, then on the slash
	my (undef, $count) = split / /, $step;
	my ($done, $total) = split m{/}, ($count // '');
	push @seen, (defined $total && $done =~ /^\d+$/ && $total =~ /^\d+$/)
	  ? "$done/$total $status" : "unparsable '$step' $status";
}
is(join(',', @seen), '0/3 PROCESSING,1/3 PROCESSING,2/3 PROCESSING,3/3 COMPLETED',
	'every step parses as i/n');
my $id = run_query('SELECT max(process_id) FROM ont_process_status');
is(run_query(qq{SELECT concat_ws('|', process_type_cd, process_step_cd, process_status_cd, status_cd,
	'[' || message || ']', rtrim(changedby_char), start_date = entry_date, end_date = change_date,
	end_date >= start_date, crc_upload_id IS NULL)
	FROM ont_process_status WHERE process_id = $id}),
	'ONT_PATIENT_COUNT_UPDATE|PROCESSED 3/3|COMPLETED|U|[]|demo|t|t|t|t',
	'the row is the cell\'s: COMPLETED, status_cd U, message empty, the i2b2 user, the times');

# --- the steps run with the caller's rights
$node->safe_psql('postgres', q{
	CREATE ROLE alice;
	GRANT USAGE ON SCHEMA i2b2metadata TO alice;
	GRANT SELECT, INSERT, UPDATE ON i2b2metadata.ont_process_status TO alice;
	GRANT USAGE ON SEQUENCE i2b2metadata.ont_process_status_process_id_seq TO alice;
	GRANT INSERT ON done TO alice;
});
$rc = $node->psql('postgres', q{\set VERBOSITY verbose
SET ROLE alice;
CALL ontstatus.run_process('ONT_UPDATE_CRC_CONCEPT', ARRAY['INSERT INTO done (v) VALUES (60)', 'SELECT * FROM uniq']);},
	stdout => \$stdout, stderr => \$stderr);
like($stderr, qr/ERROR:  42501: permission denied for (table|relation) uniq/, 'a step alice may not run fails');
is(run_query(q{SELECT who FROM done WHERE v = 60}), 'alice', 'and the one she may ran as alice');
like(row($id + 1), qr/^PROCESSED 1\/2\|ERROR\|step 2 of 2 failed: permission denied/, 'recorded as ERROR');

# the server survived all of it
is(run_query('SELECT 1'), '1', 'the server is up');
$node->stop;
done_testing();
