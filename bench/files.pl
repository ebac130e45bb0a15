#!/usr/bin/perl
# Small-file workloads of bench/run.sh and bench/remote.sh, in one process so that no fork/exec
# per file is timed:
#   files.pl create|read|rename|delete DIR NFILES NDIRS [MIN_KIB-MAX_KIB]
# create: DIR/dNN/fNNNNN, NFILES files of 4 KiB (or, with MIN_KIB-MAX_KIB, of a size between the
#         two that depends only on the file's number) spread over NDIRS folders (open, write, close)
# read:   opens and reads each file back (checks the size)
# rename: fNNNNN -> rNNNNN in the same folder
# delete: unlinks every rNNNNN, then the folders and DIR
# Prints the seconds the workload took (wall clock), nothing else.
use strict;
use warnings;
use Fcntl qw(O_WRONLY O_RDONLY O_CREAT O_EXCL);
use Time::HiRes qw(time);

my ($op, $dir, $nfiles, $ndirs, $sizes) = @ARGV;
die "usage: $0 create|read|rename|delete DIR NFILES NDIRS [MIN_KIB-MAX_KIB]\n" unless defined $ndirs;
my ($min_kib, $max_kib) = (4, 4);
if (defined $sizes) {
  ($min_kib, $max_kib) = $sizes =~ /^(\d+)-(\d+)$/ or die "bad sizes '$sizes': want MIN_KIB-MAX_KIB\n";
  die "bad sizes '$sizes'\n" unless $min_kib >= 1 && $max_kib >= $min_kib;
}
# File i gets min + (i * 7919 mod span) KiB: every size of the range, the same on every run.
sub size_of { my ($i) = @_; return 1024 * ($min_kib + ($i * 7919) % ($max_kib - $min_kib + 1)); }

srand(20261201);
my $block = join '', map { chr(int(rand(256))) } 1 .. 1024 * $max_kib;
my @paths;    # [folder, name number]
for my $i (0 .. $nfiles - 1) {
  push @paths, [sprintf('%s/d%02d', $dir, $i % $ndirs), sprintf('%05d', $i), size_of($i)];
}

my $t0 = time;
if ($op eq 'create') {
  mkdir $dir or die "mkdir $dir: $!\n";
  for my $d (0 .. $ndirs - 1) {
    my $p = sprintf('%s/d%02d', $dir, $d);
    mkdir $p or die "mkdir $p: $!\n";
  }
  for my $e (@paths) {
    my $p = "$e->[0]/f$e->[1]";
    sysopen(my $fh, $p, O_WRONLY | O_CREAT | O_EXCL, 0644) or die "create $p: $!\n";
    my $n = syswrite($fh, $block, $e->[2]);
    die "write $p: " . (defined $n ? "short write $n" : $!) . "\n" unless defined $n && $n == $e->[2];
    close $fh or die "close $p: $!\n";
  }
} elsif ($op eq 'read') {
  for my $e (@paths) {
    my $p = "$e->[0]/f$e->[1]";
    sysopen(my $fh, $p, O_RDONLY) or die "open $p: $!\n";
    my ($buf, $total, $n) = ('', 0, 0);
    while (($n = sysread($fh, $buf, 65536)) > 0) { $total += $n; }
    die "read $p: $!\n" unless defined $n;
    die "read $p: got $total bytes, want $e->[2]\n" unless $total == $e->[2];
    close $fh;
  }
} elsif ($op eq 'rename') {
  for my $e (@paths) {
    rename("$e->[0]/f$e->[1]", "$e->[0]/r$e->[1]") or die "rename $e->[0]/f$e->[1]: $!\n";
  }
} elsif ($op eq 'delete') {
  for my $e (@paths) {
    unlink("$e->[0]/r$e->[1]") or die "unlink $e->[0]/r$e->[1]: $!\n";
  }
  for my $d (0 .. $ndirs - 1) {
    my $p = sprintf('%s/d%02d', $dir, $d);
    rmdir $p or die "rmdir $p: $!\n";
  }
  rmdir $dir or die "rmdir $dir: $!\n";
} else {
  die "unknown workload: $op\n";
}
printf "%.6f\n", time - $t0;
