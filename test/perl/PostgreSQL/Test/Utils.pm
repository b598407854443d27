# PostgreSQL::Test::Utils for PostgreSQL 13, whose TAP module is TestLib
# (renamed in 15): the same functions, exported the same way, Test::More
# included.
package PostgreSQL::Test::Utils;

use strict;
use warnings;
use TestLib ();
use Exporter 'import';

our @EXPORT;

BEGIN
{
	no strict 'refs';
	for my $name (@TestLib::EXPORT)
	{
		next unless $name =~ /^\w+$/ && defined &{"TestLib::$name"};
		*{$name} = \&{"TestLib::$name"};
		push @EXPORT, $name;
	}
}

1;
