# Jobs scheduled with pg_cron (Debian's postgresql-NN-cron): the README's
# recipe (the concept synchronisation and the patient counts as procedures,
# scheduled with cron.schedule_in_database) run by pg_cron on an i2b2 site
# (test/fixtures/i2b2_site.sql), and bare CALL ontstatus.run_process jobs:
# a scheduled run is alive in running_processes and run by pg_cron's
# connection, stop_processes ends it KILLED, a failing step is 'failed' in
# cron.job_run_details and ERROR in the row, SET ...; CALL ... fails with
# 25001 and starts nothing, a terminated pg_cron backend leaves a row that
# reap_processes ends, and a job unscheduled while it runs goes on until
# stopped.  pg_cron schedules by the minute: every job is scheduled for
# the next minute of the day (GMT), so the test waits for one tick (at most
# a minute; about 40 s in all on average).  With pg_cron 1.3 (Debian 11's,
# the only one packaged for PostgreSQL 13), which has no
# schedule_in_database, the README's schedule for 1.3 runs instead.
# Skipped when pg_cron is not installed for the PostgreSQL under test.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

# the PostgreSQL under test is the one whose bin is first on PATH (PGXS puts it there)
chomp(my $pkglibdir = `pg_config --pkglibdir`);
chomp(my $sharedir = `pg_config --sharedir`);
my ($major) = `pg_config --version` =~ /PostgreSQL (\d+)/;
$major //= 'NN';
if (!-f "$pkglibdir/pg_cron.so" || !-f "$sharedir/extension/pg_cron.control")
{
	plan skip_all => "pg_cron is not installed for PostgreSQL $major "
	  . "(no $pkglibdir/pg_cron.so): Debian's package postgresql-$major-cron";
}

my $node = PostgreSQL::Test::Cluster->new('pg_cron');
$node->init;
# pg_cron connects as the job's role over the node's socket (trust)
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'pg_cron'\n"
	  . "cron.database_name = 'i2b2'\n"
	  . "cron.host = '" . $node->host . "'\n");
$node->start;
# the launcher connects to cron.database_name: create it, then restart
$node->safe_psql('postgres', 'CREATE DATABASE i2b2');
$node->restart;

$node->command_ok(
	[ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', 'i2b2', '-f', 'test/fixtures/i2b2_site.sql' ],
	'the i2b2 site fixture loads');
$node->safe_psql('i2b2', 'CREATE EXTENSION ontstatus; CREATE EXTENSION pg_cron;');

# queries of the test: the metadata schema's process table
sub run_query
{
	return $node->safe_psql('i2b2', shift);
}

# the README's sql blocks, with the role of their doctest marker
sub readme_blocks
{
	open(my $fh, '<', 'README.md') or die "README.md: $!";
	my @lines = <$fh>;
	close $fh;
	my @blocks;
	for (my $i = 0; $i < @lines; $i++)
	{
		next unless $lines[$i] =~ /^```sql\s*$/;
		my ($role) = ($i > 0 ? $lines[ $i - 1 ] : '') =~ /<!--\s*doctest:\s*as\s+(\w+)\s*-->/;
		my $sql = '';
		$sql .= $lines[$i] while ++$i < @lines && $lines[$i] !~ /^```\s*$/;
		push @blocks, { sql => $sql, role => $role, line => $i };
	}
	return @blocks;
}

# the README's set-up of what the scheduled jobs need: the job role, the
# metadata owner's grants, the two procedures; then its schedule
my @blocks = readme_blocks();
my @setup = grep {
	$_->{sql} =~ /CREATE ROLE i2b2_jobs|ON i2b2demodata\.concept_dimension TO i2b2metadata|CREATE PROCEDURE i2b2metadata\./
} @blocks;
for my $b (@setup)
{
	$node->safe_psql('i2b2', $b->{sql}, $b->{role} ? (extra_params => [ '-U', $b->{role} ]) : ());
}
# the README's schedule for the pg_cron installed: schedule_in_database from
# 1.4 on, each role's own cron.schedule before
my $cron_version = $node->safe_psql('i2b2', q{SELECT extversion FROM pg_extension WHERE extname = 'pg_cron'});
my $cron_old = $cron_version =~ /^1\.[0-3](?!\d)/;
my ($schedule) = grep {
	$cron_old
	  ? $_->{sql} =~ /SET ROLE i2b2metadata;\s*SELECT cron\.schedule\(/
	  : $_->{sql} =~ /cron\.schedule_in_database/
} @blocks;
is(scalar(grep { $_->{sql} =~ /CREATE PROCEDURE/ } @setup), 2, 'the README has both procedures');
ok($schedule, "the README has the schedule for pg_cron $cron_version");

# the next minute (GMT, as pg_cron reads schedules), not about to pass:
# every job is scheduled for that minute of the day, so each runs once, at
# the same tick (unscheduling a running job would cancel it)
my $second = $node->safe_psql('postgres', 'SELECT extract(second FROM clock_timestamp())::int');
sleep(62 - $second) if $second >= 55;
my $at = $node->safe_psql('postgres', q{
	SELECT extract(minute FROM t)::int || ' ' || extract(hour FROM t)::int || ' * * *'
	FROM (SELECT date_trunc('minute', clock_timestamp() AT TIME ZONE 'UTC') + interval '1 minute' AS t) AS n});

# the README's schedule, at that minute instead of nightly
(my $readme_schedule = $schedule->{sql}) =~ s/'[0-9*]+ [0-9*]+ \* \* \*'/'$at'/g;
$node->safe_psql('i2b2', $readme_schedule);
# and bare run_process jobs, scheduled by the metadata owner itself (as
# every pg_cron version allows in its own database)
my $long = q{array_fill('SELECT pg_sleep(0.2)'::text, ARRAY[1500])};
$node->safe_psql('i2b2', 'GRANT USAGE ON SCHEMA cron TO i2b2metadata');
$node->safe_psql('i2b2', qq{
	SELECT cron.schedule('stop', '$at',
	  \$\$CALL ontstatus.run_process('ONT_SYNCALL_CRC_CONCEPT', $long, 'cron-stop')\$\$);
	SELECT cron.schedule('kill', '$at',
	  \$\$CALL ontstatus.run_process('ONT_UPDATE_CRC_CONCEPT', $long, 'cron-kill')\$\$);
	SELECT cron.schedule('unschedule', '$at',
	  \$\$CALL ontstatus.run_process('ONT_UPDATE_CRC_CONCEPT', $long, 'cron-unschedule')\$\$);
	SELECT cron.schedule('set-call', '$at',
	  \$\$SET search_path = i2b2metadata; CALL ontstatus.run_process('ONT_UPDATE_CRC_CONCEPT', ARRAY['SELECT 1'], 'cron-set')\$\$);
	SELECT cron.schedule('fail', '$at',
	  \$\$CALL ontstatus.run_process('ONT_UPDATE_CRC_CONCEPT', ARRAY['SELECT 1', 'SELECT 1/0', 'SELECT 3'], 'cron-fail')\$\$);
}, extra_params => [ '-U', 'i2b2metadata' ]);
is($node->safe_psql('i2b2', q{SELECT string_agg(jobname || ':' || username || ':' || database, ' ' ORDER BY jobname) FROM cron.job}),
	'fail:i2b2metadata:i2b2 i2b2 concept synchronisation:i2b2metadata:i2b2 i2b2 patient counts:i2b2_jobs:i2b2 kill:i2b2metadata:i2b2 set-call:i2b2metadata:i2b2 stop:i2b2metadata:i2b2 unschedule:i2b2metadata:i2b2',
	'seven jobs scheduled, each as its role, in the database i2b2');
# the test's own queries read the metadata schema's table
$node->safe_psql('i2b2', 'ALTER ROLE CURRENT_USER IN DATABASE i2b2 SET search_path = i2b2metadata, public');

$node->poll_query_until('i2b2', q{SELECT count(DISTINCT jobid) = 7 FROM cron.job_run_details})
  or die 'the scheduled jobs did not all start';

# the job of each run, by name (cron.job is empty now)
sub cron_run
{
	my ($changed_by_or_command) = @_;
	return $node->safe_psql('i2b2', qq{
		SELECT status || '|' || coalesce(return_message, '') FROM cron.job_run_details
		WHERE command LIKE '%$changed_by_or_command%'});
}

# --- alive while pg_cron's connection runs it; stop_processes ends it KILLED
$node->poll_query_until('i2b2', q{SELECT count(*) = 2 FROM i2b2metadata.ont_process_status
	WHERE changedby_char IN ('cron-stop', 'cron-kill') AND process_step_cd LIKE 'PROCESSED %/1500'})
  or die 'the long jobs did not start';
my $stop_id = run_query(q{SELECT process_id FROM ont_process_status WHERE changedby_char = 'cron-stop'});
is(run_query(qq{SELECT process_status_cd || ' alive=' || alive FROM ontstatus.running_processes()
	WHERE process_id = $stop_id}), 'PROCESSING alive=true', 'a scheduled run is alive in running_processes');
is(run_query(qq{SELECT a.application_name FROM ontstatus.process_watch w
	JOIN pg_stat_activity a ON a.pid = w.backend_pid WHERE w.process_id = $stop_id}),
	'pg_cron', 'run by pg_cron\'s connection');
is(run_query(q{SELECT string_agg(id::text, ',') FROM ontstatus.stop_processes('ONT_SYNCALL_CRC_CONCEPT') AS id}),
	$stop_id, 'stop_processes aborts it');
$node->poll_query_until('i2b2', qq{SELECT process_status_cd = 'KILLED' FROM i2b2metadata.ont_process_status
	WHERE process_id = $stop_id}) or die 'the stopped run did not end';
$node->poll_query_until('i2b2', q{SELECT status <> 'running' FROM cron.job_run_details WHERE command LIKE '%cron-stop%'});
like(cron_run('cron-stop'), qr/^succeeded\|/, 'a stopped CALL run_process is a succeeded cron run');
like(run_query(qq{SELECT process_step_cd FROM ont_process_status WHERE process_id = $stop_id}),
	qr/^PROCESSED [1-9]\d*\/1500$/, 'KILLED with its progress');

# --- a failing step: failed in pg_cron, ERROR in the row
$node->poll_query_until('i2b2', q{SELECT status IN ('succeeded', 'failed') FROM cron.job_run_details WHERE command LIKE '%cron-fail%'})
  or die 'the failing job did not end';
like(cron_run('cron-fail'), qr/^failed\|.*division by zero/, 'a failing step: the cron run failed, with the error');
is(run_query(q{SELECT concat_ws('|', process_step_cd, process_status_cd, message) FROM ont_process_status
	WHERE changedby_char = 'cron-fail'}),
	'PROCESSED 1/3|ERROR|step 2 of 3 failed: division by zero (SQLSTATE 22012)',
	'and the process ERROR with the step\'s message');

# --- SET ...; CALL ...: one query, an implicit transaction block: 25001
$node->poll_query_until('i2b2', q{SELECT status IN ('succeeded', 'failed') FROM cron.job_run_details WHERE command LIKE '%cron-set%'})
  or die 'the SET; CALL job did not end';
like(cron_run('cron-set'), qr/^failed\|.*cannot run inside a transaction block/,
	'SET ...; CALL run_process as one command fails (25001)');
is(run_query(q{SELECT count(*) FROM ont_process_status WHERE changedby_char = 'cron-set'}), '0',
	'and starts no process');

# --- pg_cron's backend terminated: alive false, reaped ERROR
my $kill_id = run_query(q{SELECT process_id FROM ont_process_status WHERE changedby_char = 'cron-kill'});
is(run_query(qq{SELECT alive FROM ontstatus.running_processes() WHERE process_id = $kill_id}), 't',
	'the other long run is alive');
is(run_query(qq{SELECT pg_terminate_backend(backend_pid) FROM ontstatus.process_watch WHERE process_id = $kill_id}),
	't', 'terminate pg_cron\'s backend running it');
$node->poll_query_until('i2b2', qq{SELECT alive = false FROM ontstatus.running_processes() WHERE process_id = $kill_id})
  or die 'the terminated run is still alive';
is(run_query(qq{SELECT process_status_cd FROM ont_process_status WHERE process_id = $kill_id}), 'PROCESSING',
	'its row stays PROCESSING');
is(run_query(q{SELECT string_agg(id::text, ',') FROM ontstatus.reap_processes() AS id}), $kill_id,
	'reap_processes ends it');
like(run_query(qq{SELECT process_status_cd || '|' || message FROM ont_process_status WHERE process_id = $kill_id}),
	qr/^ERROR\|the session running this process \(pid \d+, connected since .*\) ended before it finished$/,
	'ERROR, naming the session');
$node->poll_query_until('i2b2', q{SELECT status <> 'running' FROM cron.job_run_details WHERE command LIKE '%cron-kill%'});
like(cron_run('cron-kill'), qr/^failed\|/, 'the cron run failed');

# --- a running job unscheduled: pg_cron 1.4 drops its connection ('job
# canceled') but the run goes on, alive, until it next writes to its client;
# stop_processes still ends it
my $unsched_id = run_query(q{SELECT process_id FROM ont_process_status WHERE changedby_char = 'cron-unschedule'});
is(run_query(qq{SELECT alive FROM ontstatus.running_processes() WHERE process_id = $unsched_id}), 't',
	'a third long run is alive');
is(run_query(q{SELECT cron.unschedule(jobid) FROM cron.job WHERE jobname = 'unschedule'}), 't',
	'unschedule its job while it runs');
$node->poll_query_until('i2b2', q{SELECT status <> 'running' FROM cron.job_run_details WHERE command LIKE '%cron-unschedule%'})
  or die 'pg_cron did not cancel the unscheduled job';
is(cron_run('cron-unschedule'), 'failed|job canceled', 'pg_cron says failed: job canceled');
is(run_query(qq{SELECT process_status_cd || ' alive=' || alive FROM ontstatus.running_processes()
	WHERE process_id = $unsched_id}), 'PROCESSING alive=true', 'the run goes on');
is(run_query(q{SELECT string_agg(id::text, ',') FROM ontstatus.stop_processes('ONT_UPDATE_CRC_CONCEPT') AS id}),
	$unsched_id, 'stop_processes aborts it');
$node->poll_query_until('i2b2', qq{SELECT process_status_cd = 'KILLED' FROM ont_process_status WHERE process_id = $unsched_id})
  or die 'the unscheduled run did not stop';
pass('and it ends KILLED');

# --- the README's recipe: both procedures completed as pg_cron's jobs
$node->poll_query_until('i2b2', q{SELECT bool_and(status IN ('succeeded', 'failed')) FROM cron.job_run_details
	WHERE command LIKE '%i2b2metadata.%(''cron'')%'}) or die 'the README\'s jobs did not end';
is(cron_run('sync_concept_dimension'), 'succeeded|CALL', 'the scheduled concept synchronisation succeeded');
is(cron_run('count_patients'), 'succeeded|CALL', 'the scheduled patient counts succeeded');
is(run_query(q{SELECT string_agg(concat_ws(' ', process_type_cd, process_step_cd, process_status_cd), '; ' ORDER BY process_type_cd)
	FROM ont_process_status WHERE changedby_char = 'cron'}),
	'ONT_PATIENT_COUNT_UPDATE PROCESSED 2/2 COMPLETED; ONT_UPDATE_CRC_CONCEPT PROCESSED 3/3 COMPLETED',
	'both as i2b2 processes, one step per distinct active table');
is(run_query(q{SELECT count(*) FROM i2b2demodata.concept_dimension WHERE upload_id = 1}), '7',
	'concept_dimension rebuilt from the ontology');
is(run_query(q{SELECT c_totalnum FROM birn WHERE c_fullname = '\BIRN\'}), '4', 'the patients counted');
is($node->safe_psql('i2b2', q{SELECT count(*) FROM cron.job_run_details WHERE status NOT IN ('succeeded', 'failed')}),
	'0', 'every run ended, each ran once');
is($node->safe_psql('i2b2', 'SELECT count(cron.unschedule(jobid)) FROM cron.job'), '6', 'unschedule the others');

$node->stop;
done_testing();
