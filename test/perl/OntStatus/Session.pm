# A psql session in the background, for the TAP tests that watch one
# session from another (003_run_process, 004_watch, 006_submit_process): send it SQL, wait for
# what it prints.  IPC::Run, which PostgreSQL 13's TAP modules have too.
package OntStatus::Session;

use strict;
use warnings;
use Exporter 'import';
use IPC::Run;

our @EXPORT = qw(session send_sql wait_for hold_gate release_gate);

my $timeout = 180;

# session($node) or session($node, $user): verbose errors, so that tests
# can match SQLSTATEs
sub session
{
	my ($node, $user) = @_;
	my %s = (in => '', out => '', err => '');
	my @user = defined $user ? ('-U', $user) : ();
	$s{h} = IPC::Run::start(
		[ 'psql', '-XAtq', @user, '-d', $node->connstr('postgres'), '-f', '-' ],
		'<', \$s{in}, '>', \$s{out}, '2>', \$s{err},
		IPC::Run::timeout($timeout));
	$s{in} .= "\\set VERBOSITY verbose\n";
	return \%s;
}

sub send_sql
{
	my ($s, $sql) = @_;
	$s->{in} .= $sql . "\n";
	$s->{h}->pump while length $s->{in};
}

sub wait_for
{
	my ($s, $re) = @_;
	$s->{h}->pump until $s->{out} =~ $re;
}

# hold_gate($node) or hold_gate($node, $user): a session holding the table
# gate locked, so that a step reading it waits until release_gate (no sleeps)
sub hold_gate
{
	my ($node, $user) = @_;
	my $holder = session($node, $user);
	send_sql($holder, "BEGIN; LOCK TABLE gate IN ACCESS EXCLUSIVE MODE; \\echo locked");
	wait_for($holder, qr/^locked$/m);
	return $holder;
}

sub release_gate
{
	my ($holder) = @_;
	send_sql($holder, "COMMIT; \\echo released");
	wait_for($holder, qr/^released$/m);
	$holder->{in} .= "\\q\n";
	$holder->{h}->finish;
}

1;
