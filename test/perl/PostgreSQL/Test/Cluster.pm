# PostgreSQL::Test::Cluster for PostgreSQL 13, whose TAP module is
# PostgresNode (renamed in 15).  Only found when the server's own
# src/test/perl has no PostgreSQL::Test::Cluster: PGXS searches that first.
package PostgreSQL::Test::Cluster;

use strict;
use warnings;
use PostgresNode;

our @ISA = ('PostgresNode');

sub new
{
	my ($class, $name, %params) = @_;
	my $node = PostgresNode::get_new_node($name, %params);
	return bless $node, $class;
}

1;
