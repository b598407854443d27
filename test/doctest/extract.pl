#!/usr/bin/env perl
# Extracts the fenced sql blocks of Markdown files, in order, for
# test/doctest/run.sh: for block N it writes OUT/N.sql, OUT/N.where
# ("file:line"), OUT/N.role (when the line before the fence is
# <!-- doctest: as ROLE -->), OUT/N.at_end (<!-- doctest: at-end -->) and
# OUT/N.expected (a ```text block right after it, only blank lines
# between).  <!-- doctest: skip ... --> drops the block.  Prints the number
# of blocks.
use strict;
use warnings;

my ($out, @files) = @ARGV;
die "usage: extract.pl OUTDIR FILE...\n" unless $out && @files;
my $n = 0;

sub write_file
{
	my ($path, $text) = @_;
	open(my $fh, '>', $path) or die "$path: $!";
	print $fh $text;
	close $fh;
}

for my $file (@files)
{
	open(my $fh, '<', $file) or die "$file: $!";
	my @lines = <$fh>;
	close $fh;
	my $i = 0;
	my $last_sql;		# the number of the last sql block, while only blank lines follow it
	while ($i < @lines)
	{
		my $line = $lines[$i];
		if ($line =~ /^```(\S*)\s*$/)
		{
			my $info = $1;
			my $start = $i + 1;
			my @body;
			$i++;
			while ($i < @lines && $lines[$i] !~ /^```\s*$/)
			{
				push @body, $lines[$i];
				$i++;
			}
			die "$file:$start: unterminated code block\n" if $i >= @lines;
			$i++;
			my $marker = $start >= 2 ? $lines[$start - 2] : '';
			if ($info eq 'sql')
			{
				$last_sql = undef;
				next if $marker =~ /<!--\s*doctest:\s*skip\b/;
				$n++;
				my $id = sprintf('%03d', $n);
				write_file("$out/$id.sql", join('', @body));
				write_file("$out/$id.where", "$file:$start\n");
				write_file("$out/$id.role", "$1\n")
				  if $marker =~ /<!--\s*doctest:\s*as\s+(\w+)\s*-->/;
				write_file("$out/$id.at_end", "1\n")
				  if $marker =~ /<!--\s*doctest:\s*at-end\s*-->/;
				$last_sql = $id;
			}
			elsif ($info eq 'text' && defined $last_sql)
			{
				write_file("$out/$last_sql.expected", join('', @body));
				$last_sql = undef;
			}
			else
			{
				$last_sql = undef;
			}
			next;
		}
		$last_sql = undef if $line =~ /\S/;
		$i++;
	}
}
print "$n\n";
