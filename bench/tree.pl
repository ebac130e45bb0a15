#!/usr/bin/perl
# The file creator of bench/scale.sh: one process, so no fork/exec per file is timed, and no
# extra SETATTR per file (touch(1) sets the times after opening, a second FUSE round trip).
#   tree.pl DIR NFILES PERDIR
# Makes DIR, then DIR/d0000, DIR/d0001, … with PERDIR empty files each (f000000, …; the last
# folder holds the rest), NFILES in all: mkdir, then open(O_CREAT|O_EXCL) and close per file.
# Prints the seconds it took (wall clock), nothing else.
use strict;
use warnings;
use Fcntl qw(O_WRONLY O_CREAT O_EXCL);
use Time::HiRes qw(time);

my ($dir, $nfiles, $perdir) = @ARGV;
die "usage: $0 DIR NFILES PERDIR\n" unless defined $perdir && $nfiles >= 0 && $perdir > 0;

my $t0 = time;
mkdir $dir or die "mkdir $dir: $!\n";
my ($folder, $made) = (-1, 0);
my $sub;
for my $i (0 .. $nfiles - 1) {
  if ($i % $perdir == 0) {
    $folder++;
    $sub = sprintf('%s/d%04d', $dir, $folder);
    mkdir $sub or die "mkdir $sub: $!\n";
  }
  my $p = sprintf('%s/f%06d', $sub, $i % $perdir);
  sysopen(my $fh, $p, O_WRONLY | O_CREAT | O_EXCL, 0644) or die "create $p: $!\n";
  close $fh or die "close $p: $!\n";
}
printf "%.6f\n", time - $t0;
