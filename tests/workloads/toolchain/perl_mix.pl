#!/usr/bin/perl
# perl_mix.pl: perl in the sandbox: regexes, hashes, sort, sprintf, file I/O in a temp dir,
# fork/wait, open with a pipe (both ways), localtime of a fixed epoch under TZ=UTC; signals (alarm,
# SIGCHLD), select on a pipe, a TCP connection over loopback, flock between processes.
use strict;
use warnings;
use File::Temp qw(tempdir);
use Fcntl qw(:flock SEEK_SET O_RDWR O_CREAT);
use IO::Select;
use IO::Socket::INET;
use POSIX qw(strftime WNOHANG);
use Time::HiRes qw(ualarm);

my $dir = tempdir("rt-perl.XXXXXX", TMPDIR => 1, CLEANUP => 1);

# Regexes and hashes: word counts of a generated text.
my @words = qw(alpha beta gamma delta epsilon zeta eta theta);
my $text = join(" ", map { $words[($_ * $_ + 3 * $_) % 13 % @words] . ($_ % 5) } 0 .. 999);
my %count;
$count{$1}++ while $text =~ /\b([a-z]+)\d\b/g;
for my $w (sort { $count{$b} <=> $count{$a} || $a cmp $b } keys %count) {
	printf "%-8s %4d\n", $w, $count{$w};
}
(my $swapped = "2026-11-27") =~ s/(\d+)-(\d+)-(\d+)/$3.$2.$1/;
print "swapped $swapped\n";
my @parts = split /[,;]\s*/, "a, b;c,  d";
print "split ", scalar(@parts), " [@parts]\n";

# sprintf and sort.
my @nums = map { ($_ * 7919) % 1009 } 1 .. 200;
my @sorted = sort { $a <=> $b } @nums;
printf "min %d max %d median %.1f sum %d\n", $sorted[0], $sorted[-1],
	($sorted[99] + $sorted[100]) / 2, eval { my $s = 0; $s += $_ for @nums; $s };
printf "%05.2f|%-6s|%x|%o|%e|%s\n", 3.14159, "ab", 255, 8, 12345.678, join(",", @sorted[0 .. 4]);

# File I/O: write, append, read back, rename, stat, unlink, a directory listing.
my $f = "$dir/data.txt";
open(my $out, ">", $f) or die "open $f: $!";
print $out "line $_\n" for 1 .. 1000;
close($out);
open($out, ">>", $f) or die;
print $out "appended\n";
close($out);
open(my $in, "<", $f) or die;
my @lines = <$in>;
close($in);
print "lines ", scalar(@lines), " last $lines[-1]";
rename($f, "$dir/moved.txt") or die "rename: $!";
printf "size %d exists-old %d\n", -s "$dir/moved.txt", (-e $f ? 1 : 0);
mkdir("$dir/sub") or die;
open($out, ">", "$dir/sub/$_") and close($out) for qw(c a b);
opendir(my $dh, "$dir/sub") or die;
print "dir ", join(" ", sort grep { !/^\./ } readdir($dh)), "\n";
closedir($dh);
unlink("$dir/moved.txt") or die;

# fork/wait: children exit with distinct statuses.
my %kids;
for my $i (1 .. 4) {
	my $pid = fork();
	die "fork: $!" unless defined $pid;
	if ($pid == 0) {
		open(my $o, ">", "$dir/child$i") or exit 99;
		print $o "child $i\n";
		close($o);
		exit $i * 10;
	}
	$kids{$pid} = $i;
}
my @st;
while ((my $pid = wait()) > 0) {
	push @st, sprintf "%d:%d", $kids{$pid}, $? >> 8;
}
print "waited ", join(" ", sort @st), "\n";
my @cf;
for my $i (1 .. 4) {
	open(my $c, "<", "$dir/child$i") or die "child$i: $!";
	chomp(my $l = <$c>);
	push @cf, $l;
}
print "child files ", join(";", @cf), "\n";

# Pipes: read from a command, write to a command.
open(my $p, "-|", "sh", "-c", "echo from-sh; seq 1 3") or die "pipe from: $!";
my @got = <$p>;
close($p);
chomp @got;
print "pipe read [@got] status $?\n";
open($p, "|-", "sh -c 'tr a-z A-Z >$dir/upper; exit 3'") or die "pipe to: $!";
print $p "to the pipe\n";
close($p);
print "pipe write status ", $? >> 8, "\n";
open($in, "<", "$dir/upper") or die;
print "upper: ", <$in>;
close($in);
my $bt = `echo backticks`;
print "qx: $bt";

# Signals: an alarm interrupts a sleep and runs its handler; SIGCHLD reaps a killed child.
my $alarms = 0;
{
	local $SIG{ALRM} = sub { $alarms++ };
	ualarm(100_000);
	my $slept = sleep 5;
	print "alarm handled $alarms, sleep cut short ", ($slept < 5 ? 1 : 0), "\n";
}
my ($reaped, $how) = (0, "");
{
	local $SIG{CHLD} = sub {
		while ((my $pid = waitpid(-1, WNOHANG)) > 0) { $reaped++; $how = $? & 127 }
	};
	my $pid = fork() // die "fork: $!";
	if ($pid == 0) { sleep 30; exit 0 }
	kill "TERM", $pid;
	for (1 .. 1000) { last if $reaped; select(undef, undef, undef, 0.01) }
	print "SIGCHLD reaped $reaped, killed by signal $how\n";
}

# select on a pipe a child writes 70000 bytes to, read in 4 KiB pieces.
pipe(my $pr, my $pw) or die "pipe: $!";
my $writer = fork() // die "fork: $!";
if ($writer == 0) {
	close($pr);
	syswrite($pw, "x" x 70000) == 70000 or exit 1;
	exit 3;
}
close($pw);
my ($total, $sel) = (0, IO::Select->new($pr));
while ($sel->can_read(10)) {
	my $n = sysread($pr, my $buf, 4096);
	last unless $n;
	$total += $n;
}
waitpid($writer, 0);
print "select read $total, writer status ", $? >> 8, "\n";

# TCP over loopback: a child connects to a port the kernel picked and sends 100 lines.
my $srv = IO::Socket::INET->new(LocalAddr => "127.0.0.1", LocalPort => 0, Listen => 5, ReuseAddr => 1)
	or die "listen: $!";
my $client = fork() // die "fork: $!";
if ($client == 0) {
	my $c = IO::Socket::INET->new(PeerAddr => "127.0.0.1", PeerPort => $srv->sockport) or exit 9;
	print $c "line $_\n" for 1 .. 100;
	close($c);
	exit 0;
}
my $conn = $srv->accept() or die "accept: $!";
my @recv = <$conn>;
waitpid($client, 0);
print "tcp received ", scalar(@recv), " lines, last $recv[-1]";

# flock: a child cannot take the lock the parent holds; sysopen, sysseek, truncate, utime, symlink.
open(my $lk, ">", "$dir/lock") or die;
flock($lk, LOCK_EX) or die "flock: $!";
my $locker = fork() // die "fork: $!";
if ($locker == 0) {
	open(my $l2, ">>", "$dir/lock") or exit 2;
	exit(flock($l2, LOCK_EX | LOCK_NB) ? 1 : 0);
}
waitpid($locker, 0);
print "flock refused to the child: ", ($? >> 8) == 0 ? "yes" : "no", "\n";
sysopen(my $sh, "$dir/s", O_RDWR | O_CREAT, 0640) or die "sysopen: $!";
syswrite($sh, "0123456789");
sysseek($sh, 3, SEEK_SET);
sysread($sh, my $four, 4);
truncate($sh, 5) or die;
close($sh);
utime(1000000000, 1000000000, "$dir/s") or die;
symlink("s", "$dir/l") or die;
my @lst = stat("$dir/l");
printf "read %s size %d mode %o mtime %d link %s\n", $four, $lst[7], $lst[2] & 07777, $lst[9],
	readlink("$dir/l");

# Time: a fixed epoch under TZ=UTC.
$ENV{TZ} = "UTC";
POSIX::tzset();
my @lt = localtime(1700000000);
print strftime("localtime %Y-%m-%d %H:%M:%S %a %j", @lt), "\n";
printf "sprintf %04d/%02d/%02d %02d:%02d wday %d yday %d\n", $lt[5] + 1900, $lt[4] + 1, $lt[3],
	$lt[2], $lt[1], $lt[6], $lt[7];
print "gmtime ", scalar(gmtime(0)), "\n";
print "done\n";
