# ontstatus.submit_process: run_process's run in a background worker that
# outlives the submitting session.  A step that reads a table the test has
# locked keeps the worker in that step for as long as the test wants (no
# sleeps); the worker is found by its backend_type.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use FindBin;
use lib "$FindBin::Bin/../perl";
use OntStatus::Session;

my $node = PostgreSQL::Test::Cluster->new('submit_process');
$node->init;
# few worker slots, none taken by parallel queries: the "no free slot" case
$node->append_conf('postgresql.conf', qq{
max_worker_processes = 3
max_parallel_workers = 0
max_parallel_workers_per_gather = 0
});
$node->start;
my $major = $node->safe_psql('postgres', 'SHOW server_version_num') / 10000;
$node->safe_psql('postgres', q{
	CREATE EXTENSION ontstatus;
	CREATE SCHEMA i2b2metadata;
	SET search_path = i2b2metadata;
} . slurp_file('test/fixtures/ont_process_status.sql') . q{
	CREATE TABLE public.gate (x int);
	CREATE TABLE public.done (v int, who text DEFAULT current_user,
		path text DEFAULT current_setting('search_path'),
		zone text DEFAULT current_setting('TimeZone'));
	CREATE ROLE job_role LOGIN;
	CREATE ROLE job_nologin NOLOGIN;
	CREATE ROLE job_reader LOGIN;
	GRANT USAGE ON SCHEMA i2b2metadata TO job_role, job_nologin, job_reader;
	GRANT SELECT, INSERT, UPDATE ON i2b2metadata.ont_process_status TO job_role, job_nologin;
	GRANT USAGE ON SEQUENCE i2b2metadata.ont_process_status_process_id_seq TO job_role, job_nologin;
	GRANT SELECT ON i2b2metadata.ont_process_status TO job_reader;
	GRANT SELECT ON public.gate TO job_role;
	GRANT INSERT ON public.done TO job_role, job_nologin;
	CREATE TABLE public.secret (x int);
	ALTER DATABASE postgres SET search_path = i2b2metadata, public;
});

sub run_query { $node->safe_psql('postgres', shift) }

sub row
{
	my ($id) = @_;
	return run_query(qq{SELECT concat_ws('|', process_step_cd, process_status_cd, coalesce(message, '<null>'))
		FROM i2b2metadata.ont_process_status WHERE process_id = $id});
}

sub wait_for_status
{
	my ($id, $status) = @_;
	$node->poll_query_until('postgres', qq{
		SELECT process_status_cd = '$status' FROM i2b2metadata.ont_process_status
		WHERE process_id = $id}) or die "process $id never became $status: " . row($id);
}

sub done_values
{
	return run_query(q{SELECT coalesce(string_agg(v::text, ',' ORDER BY v), '') FROM done});
}



# the pid of the worker waiting on the gate
sub waiting_worker
{
	$node->poll_query_until('postgres', q{
		SELECT count(*) = 1 FROM pg_stat_activity
		WHERE backend_type = 'ontstatus submit_process' AND wait_event_type = 'Lock'})
	  or die 'no worker waited on the gate';
	return run_query(q{SELECT pid FROM pg_stat_activity
		WHERE backend_type = 'ontstatus submit_process' AND wait_event_type = 'Lock'});
}

my $steps = q{ARRAY['INSERT INTO done (v) VALUES (1)', 'SELECT count(*) FROM gate',
	'INSERT INTO done (v) VALUES (2)']};
my $submit = qq{SELECT ontstatus.submit_process('ONT_PATIENT_COUNT_UPDATE', $steps, 'submitter')};

# --- the submitting session disconnects at once; the worker runs on, is
# alive while it waits, completes, and takes the role and settings of the
# submitter (not the worker owner's)
my $holder = hold_gate($node);
my $id = $node->safe_psql('postgres',
	"SET ROLE job_role; SET search_path = i2b2metadata, public; SET TimeZone = 'Asia/Kolkata'; $submit");
like($id, qr/^\d+$/, 'submit_process returns the process id');
my $worker = waiting_worker();
is(run_query("SELECT alive FROM ontstatus.running_processes() WHERE process_id = $id"), 't',
	'the submitted run is alive after its session has gone');
is(row($id), 'PROCESSED 1/3|PROCESSING|', 'step 1 committed while step 2 waits');
is(run_query("SELECT backend_pid FROM ontstatus.process_watch WHERE process_id = $id"), $worker,
	'the process is registered to the worker');
release_gate($holder);
wait_for_status($id, 'COMPLETED');
is(row($id), 'PROCESSED 3/3|COMPLETED|', 'the run completes after its session disconnected');
is(run_query(q{SELECT string_agg(concat_ws('|', v, who, path, zone), ',' ORDER BY v) FROM done}),
	'1|job_role|i2b2metadata, public|Asia/Kolkata,2|job_role|i2b2metadata, public|Asia/Kolkata',
	"the steps ran as the submitting role, with its search_path and TimeZone");
is(run_query("SELECT rtrim(changedby_char) FROM i2b2metadata.ont_process_status WHERE process_id = $id"),
	'submitter', 'changed_by is recorded');
is(run_query("SELECT count(*) FROM ontstatus.process_watch WHERE process_id = $id"), '0',
	'the registration ends with the run');
run_query('TRUNCATE done');

# --- the row exists and is PROCESSING when submit_process returns; the
# worker waits for the submitting transaction: nothing runs before COMMIT
my $s = session($node);
send_sql($s, "BEGIN; $submit; \\echo submitted");
wait_for($s, qr/^(\d+)\nsubmitted$/m);
($id) = $s->{out} =~ /^(\d+)\nsubmitted$/m;
send_sql($s, "SELECT process_status_cd FROM ont_process_status WHERE process_id = $id; \\echo seen");
wait_for($s, qr/^PROCESSING\nseen$/m);
ok(1, 'the row is PROCESSING in the submitting transaction');
run_query('SELECT pg_sleep(0.5)');
is(done_values(), '', 'no step runs before the submitting transaction commits');
send_sql($s, "COMMIT; \\echo committed");
wait_for($s, qr/^committed$/m);
wait_for_status($id, 'COMPLETED');
is(done_values(), '1,2', 'the steps run once it commits');
run_query('TRUNCATE done');

# --- a role whose transactions default to read-only submits from a
# read-write transaction: the worker, connected as that role, would start
# read-only ones; its run's transactions are read-write too
run_query('ALTER ROLE job_role SET default_transaction_read_only = on');
$id = $node->safe_psql('postgres', qq{SET ROLE job_role; BEGIN READ WRITE;
	$submit; COMMIT;});
wait_for_status($id, 'COMPLETED');
is(done_values(), '1,2', 'a run submitted by a role with a read-only default completes');
run_query('ALTER ROLE job_role RESET default_transaction_read_only');
run_query('TRUNCATE done');

# --- a rolled-back submission leaves nothing, and runs nothing
send_sql($s, "BEGIN; $submit; ROLLBACK; \\echo rolled");
wait_for($s, qr/^rolled$/m);
$node->poll_query_until('postgres', q{
	SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'ontstatus submit_process'})
  or die 'the worker of a rolled-back submission did not exit';
is(run_query(q{SELECT count(*) FROM ont_process_status WHERE process_status_cd = 'PROCESSING'}), '0',
	'a rolled-back submission leaves no row');
is(done_values(), '', 'and ran no step');
$s->{in} .= "\\q\n";
$s->{h}->finish;

# --- a stop ends the run KILLED after the step it interrupts
$holder = hold_gate($node);
$id = run_query($submit);
waiting_worker();
is(run_query(qq{SELECT count(*) FROM ontstatus.stop_processes()}), '1', 'stop_processes');
release_gate($holder);
wait_for_status($id, 'KILLED');
is(row($id), 'PROCESSED 2/3|KILLED|', 'KILLED after step 2; step 3 never ran');
is(done_values(), '1', 'step 1 committed, step 3 not run');
run_query('TRUNCATE done');

# --- a failing step: ERROR with the step's message, earlier steps kept
$id = run_query(q{SELECT ontstatus.submit_process('ONT_PATIENT_COUNT_UPDATE',
	ARRAY['INSERT INTO done (v) VALUES (1)', 'SELECT 1/0', 'INSERT INTO done (v) VALUES (3)'])});
wait_for_status($id, 'ERROR');
like(row($id), qr/^PROCESSED 1\/3\|ERROR\|step 2 of 3 failed: division by zero \(SQLSTATE 22012\)/,
	'a failing step is recorded as ERROR with its message');
is(done_values(), '1', 'the steps before it stay committed');
like(slurp_file($node->logfile), qr/division by zero/, "the step's error is in the server log");
run_query('TRUNCATE done');

# --- a step the submitting role may not run fails as that role
$id = $node->safe_psql('postgres', q{SET ROLE job_role;
	SELECT ontstatus.submit_process('ONT_PATIENT_COUNT_UPDATE', ARRAY['SELECT * FROM public.secret'])});
wait_for_status($id, 'ERROR');
like(row($id), qr/permission denied for table secret \(SQLSTATE 42501\)/,
	"the worker has the submitting role's privileges, not its owner's");

# --- a terminated worker is seen dead and reaped
$holder = hold_gate($node);
$id = run_query($submit);
$worker = waiting_worker();
run_query("SELECT pg_terminate_backend($worker)");
$node->poll_query_until('postgres', qq{
	SELECT alive = false FROM ontstatus.running_processes() WHERE process_id = $id})
  or die 'the terminated worker was never seen dead';
is(run_query(qq{SELECT count(*) FROM ontstatus.reap_processes()}), '1', 'reap_processes ends it');
like(row($id), qr/^PROCESSED 1\/3\|ERROR\|/, 'the reaped run is ERROR with its progress');
release_gate($holder);
run_query('TRUNCATE done');

# --- no free worker slot: a clear error, and no PROCESSING row
$holder = hold_gate($node);
my @busy;
my $free = 0;
my ($rc, $stdout, $stderr);
for my $i (1 .. 5)
{
	($rc, $stdout, $stderr) = $node->psql('postgres', $submit);
	last if $rc != 0;
	push @busy, $stdout;
}
ok(@busy >= 1 && $rc != 0, 'submissions beyond the worker slots fail (' . scalar(@busy) . ' ran)');
like($stderr, qr/could not start a background worker for process \d+/, 'with a clear message');
like($stderr, qr/max_worker_processes = 3/, 'naming the limit');
# (a start sets the running processes of its type to ABORT, as the cell's
# does: the refused one's start is rolled back, that ABORT with it)
is(run_query(q{SELECT string_agg(process_status_cd, ',' ORDER BY process_id) FROM ont_process_status
	WHERE process_status_cd IN ('PROCESSING', 'ABORT')}),
	join(',', ('ABORT') x (@busy - 1), 'PROCESSING'),
	'the refused submission left no PROCESSING row, and aborted nothing');
run_query(q{SELECT ontstatus.stop_processes()});
release_gate($holder);
wait_for_status($_, 'KILLED') for @busy;
run_query('TRUNCATE done');

# --- refusals: a role without the lifecycle's privileges, a read-only
# transaction; before PostgreSQL 17, a role that may not log in
($rc, $stdout, $stderr) = $node->psql('postgres', "SET ROLE job_reader; $submit");
like($stderr, qr/permission denied for table ont_process_status/, 'a role that may not write the table is refused');
($rc, $stdout, $stderr) = $node->psql('postgres', "SET default_transaction_read_only = on; $submit");
like($stderr, qr/cannot run in a read-only transaction|read-only/, 'a read-only transaction is refused');
($rc, $stdout, $stderr) = $node->psql('postgres', q{SET ROLE job_nologin;
	SELECT ontstatus.submit_process('ONT_PATIENT_COUNT_UPDATE', ARRAY['INSERT INTO done (v) VALUES (9)'])});
if ($major < 17)
{
	like($stderr, qr/cannot run a job as role "job_nologin"/, 'before 17: a NOLOGIN role is refused up front');
}
else
{
	is($rc, 0, 'from 17 on: a NOLOGIN role may submit');
	wait_for_status($stdout, 'COMPLETED');
	is(run_query(q{SELECT string_agg(concat_ws('|', v, who), ',') FROM done}), '9|job_nologin',
		'and its job runs as that role');
}
is(run_query(q{SELECT count(*) FROM ont_process_status WHERE process_status_cd = 'PROCESSING'}), '0',
	'no refusal left a PROCESSING row');

$node->stop;
unlike(slurp_file($node->logfile), qr/terminated by signal/, 'no backend crashed');
done_testing();
