/* pty.c: pseudo-terminals: posix_openpt/grantpt/unlockpt/ptsname, openpty, TIOCGPTPEER, the
 * slave's node, default termios, canonical editing and echo, raw mode with VMIN/VTIME, output
 * processing, ISIG signals to the foreground group, window size and SIGWINCH, /dev/tty,
 * hang-up when the master closes, EIO when the slave closes, packet mode, flushing. */
#include "sc.h"

#include <poll.h>
#include <pty.h>
#include <sys/ioctl.h>
#include <sys/sysmacros.h>
#include <termios.h>

static int master, slave;
static char pts[64];

static void open_pair(void)
{
	master = (int)CHECK_OK(posix_openpt(O_RDWR | O_NOCTTY));
	CHECK_OK(grantpt(master));
	CHECK_OK(unlockpt(master));
	CHECK(ptsname_r(master, pts, sizeof(pts)) == 0, "ptsname");
	slave = (int)CHECK_OK(open(pts, O_RDWR | O_NOCTTY));
}

static void close_pair(void)
{
	close(slave);
	close(master);
}

/* Read what the master has now (non-blocking, after a moment for the other side). */
static size_t master_drain(char *buf, size_t cap)
{
	size_t len = 0;
	struct pollfd p = {master, POLLIN, 0};

	while (len + 1 < cap && poll(&p, 1, 100) == 1 && (p.revents & POLLIN)) {
		ssize_t r = read(master, buf + len, cap - 1 - len);
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	buf[len] = 0;
	return len;
}

static void put(const char *s) { CHECK(write(master, s, strlen(s)) == (ssize_t)strlen(s), "write"); }

/* Linux hands what the master writes to the slave's line discipline asynchronously: wait
 * until the slave has something to read before looking without blocking. */
static void wait_input(void)
{
	struct pollfd p = {slave, POLLIN, 0};

	CHECK(poll(&p, 1, 5000) == 1, "the slave has input");
}

static void expect_line(const char *want)
{
	char buf[256];
	ssize_t n = read(slave, buf, sizeof(buf) - 1);

	CHECK(n == (ssize_t)strlen(want) && memcmp(buf, want, (size_t)n) == 0, "read %zd '%.*s'",
	      n, (int)(n > 0 ? n : 0), buf);
}

static void expect_echo(const char *want)
{
	char buf[256];

	master_drain(buf, sizeof(buf));
	CHECK(strcmp(buf, want) == 0, "echo '%s'", buf);
}

static void test_open(void)
{
	struct stat a, b;
	int v = 0;

	master = (int)CHECK_OK(posix_openpt(O_RDWR | O_NOCTTY));
	CHECK(ptsname_r(master, pts, sizeof(pts)) == 0 && strncmp(pts, "/dev/pts/", 9) == 0,
	      "ptsname %s", pts);
	CHECK_OK(ioctl(master, TIOCGPTLCK, &v));
	CHECK(v == 1, "locked at first");
	CHECK_ERR(open(pts, O_RDWR | O_NOCTTY), EIO);
	CHECK_OK(grantpt(master));
	CHECK_OK(unlockpt(master));
	CHECK_OK(ioctl(master, TIOCGPTLCK, &v));
	CHECK(v == 0, "unlocked");
	slave = (int)CHECK_OK(open(pts, O_RDWR | O_NOCTTY));
	CHECK(isatty(master) && isatty(slave), "isatty");
	CHECK(strcmp(ttyname(slave), pts) == 0, "ttyname %s", ttyname(slave));
	CHECK_OK(fstat(slave, &a));
	CHECK_OK(stat(pts, &b));
	unsigned n = 99;
	CHECK_OK(ioctl(master, TIOCGPTN, &n));
	CHECK(S_ISCHR(a.st_mode) && major(a.st_rdev) == 136 && minor(a.st_rdev) == n &&
		  a.st_ino == b.st_ino && a.st_dev == b.st_dev,
	      "slave node");
	CHECK_ERR(ioctl(slave, TIOCGPTN, &n), ENOTTY);
	ok("posix_openpt, grantpt, unlockpt, ptsname, the slave's node");

	int peer = (int)CHECK_OK(ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY));
	CHECK(strcmp(ttyname(peer), pts) == 0, "peer's name");
	close(peer);
	ok("TIOCGPTPEER");

	struct termios t, m;
	memset(&t, 0, sizeof(t)); /* padding: the structs are compared whole */
	memset(&m, 0, sizeof(m));
	CHECK_OK(tcgetattr(slave, &t));
	CHECK(t.c_iflag == (ICRNL | IXON) && t.c_oflag == (OPOST | ONLCR) &&
		  t.c_cflag == (B38400 | CS8 | CREAD) &&
		  t.c_lflag == (ISIG | ICANON | ECHO | ECHOE | ECHOK | ECHOCTL | ECHOKE | IEXTEN),
	      "default termios %o %o %o %o", t.c_iflag, t.c_oflag, t.c_cflag, t.c_lflag);
	CHECK(t.c_cc[VINTR] == 3 && t.c_cc[VERASE] == 0177 && t.c_cc[VEOF] == 4 &&
		  t.c_cc[VMIN] == 1 && t.c_cc[VTIME] == 0 && t.c_cc[VSUSP] == 032,
	      "default c_cc");
	CHECK_OK(tcgetattr(master, &m));
	CHECK(memcmp(&m, &t, sizeof(t)) == 0, "the master's termios are the slave's");
	struct winsize ws = {1, 1, 1, 1};
	CHECK_OK(ioctl(slave, TIOCGWINSZ, &ws));
	CHECK(ws.ws_row == 0 && ws.ws_col == 0, "no size yet");
	ok("default termios and window size");
	close_pair();

	int mfd, sfd;
	char name[64];
	struct winsize want = {24, 80, 0, 0};
	CHECK_OK(openpty(&mfd, &sfd, name, NULL, &want));
	CHECK(strcmp(ttyname(sfd), name) == 0, "openpty name");
	CHECK_OK(ioctl(mfd, TIOCGWINSZ, &ws));
	CHECK(ws.ws_row == 24 && ws.ws_col == 80, "openpty window size");
	close(sfd);
	close(mfd);
	CHECK_ERR(stat(name, &b), ENOENT);
	ok("openpty; the node goes with the master");
}

static void test_canonical(void)
{
	char buf[64];

	open_pair();
	put("abc\n");
	expect_line("abc\n");
	expect_echo("abc\r\n");
	put("line\r");
	expect_line("line\n");
	expect_echo("line\r\n");
	ok("canonical lines, ICRNL, echo with ONLCR");

	put("ab\177c\n");
	expect_line("ac\n");
	expect_echo("ab\b \bc\r\n");
	put("xyz\025ok\n");
	expect_line("ok\n");
	expect_echo("xyz\b \b\b \b\b \bok\r\n");
	put("one two\027three\n");
	expect_line("one three\n");
	master_drain(buf, sizeof(buf));
	put("a\026\177b\n");
	expect_line("a\177b\n");
	master_drain(buf, sizeof(buf));
	ok("ERASE, KILL, WERASE, LNEXT");

	put("\004");
	CHECK(read(slave, buf, sizeof(buf)) == 0, "VEOF on an empty line");
	put("ab\004");
	expect_line("ab");
	put("hello\n");
	CHECK(read(slave, buf, 3) == 3 && memcmp(buf, "hel", 3) == 0, "part of a line");
	expect_line("lo\n");
	master_drain(buf, sizeof(buf));
	ok("VEOF, partial reads of a line");

	put("partial");
	int fl = fcntl(slave, F_GETFL);
	CHECK_OK(fcntl(slave, F_SETFL, fl | O_NONBLOCK));
	CHECK_ERR(read(slave, buf, sizeof(buf)), EAGAIN);
	int avail = -1;
	CHECK_OK(ioctl(slave, FIONREAD, &avail));
	CHECK(avail == 0, "no complete line: %d", avail);
	put("\n");
	wait_input();
	CHECK_OK(ioctl(slave, FIONREAD, &avail));
	CHECK(avail == 8, "FIONREAD %d", avail);
	expect_line("partial\n");
	CHECK_OK(fcntl(slave, F_SETFL, fl));
	master_drain(buf, sizeof(buf));
	ok("an unfinished line is not readable; FIONREAD");

	put("dropped\n");
	wait_input();
	CHECK_OK(tcflush(slave, TCIFLUSH));
	CHECK_OK(fcntl(slave, F_SETFL, fl | O_NONBLOCK));
	CHECK_ERR(read(slave, buf, sizeof(buf)), EAGAIN);
	CHECK_OK(fcntl(slave, F_SETFL, fl));
	master_drain(buf, sizeof(buf));
	ok("tcflush(TCIFLUSH)");

	struct termios t;
	CHECK_OK(tcgetattr(slave, &t));
	t.c_lflag &= ~ECHO;
	CHECK_OK(tcsetattr(slave, TCSANOW, &t));
	put("secret\n");
	expect_line("secret\n");
	CHECK(master_drain(buf, sizeof(buf)) == 0, "no echo: '%s'", buf);
	t.c_lflag |= ECHONL;
	CHECK_OK(tcsetattr(slave, TCSANOW, &t));
	put("pw\n");
	expect_line("pw\n");
	expect_echo("\r\n");
	ok("ECHO off, ECHONL");
	close_pair();
}

static void test_raw(void)
{
	struct termios t;
	char buf[64];
	struct pollfd p;

	open_pair();
	CHECK_OK(tcgetattr(slave, &t));
	cfmakeraw(&t);
	CHECK_OK(tcsetattr(slave, TCSANOW, &t));
	put("xy\r");
	CHECK(read(slave, buf, sizeof(buf)) == 3 && memcmp(buf, "xy\r", 3) == 0, "raw");
	CHECK(master_drain(buf, sizeof(buf)) == 0, "no echo");
	CHECK(write(slave, "a\nb", 3) == 3, "write");
	expect_echo("a\nb");
	ok("raw mode: no editing, no echo, no output processing");

	t.c_cc[VMIN] = 0;
	t.c_cc[VTIME] = 0;
	CHECK_OK(tcsetattr(slave, TCSANOW, &t));
	CHECK(read(slave, buf, sizeof(buf)) == 0, "VMIN 0 VTIME 0: nothing");
	t.c_cc[VTIME] = 2;
	CHECK_OK(tcsetattr(slave, TCSANOW, &t));
	long t0 = now_ms();
	CHECK(read(slave, buf, sizeof(buf)) == 0, "VTIME timeout");
	long el = now_ms() - t0;
	CHECK(el >= 150 && el < 1000, "waited %ld ms", el);
	ok("VMIN 0: VTIME 0 polls, VTIME 2 times out");

	t.c_cc[VMIN] = 3;
	t.c_cc[VTIME] = 0;
	CHECK_OK(tcsetattr(slave, TCSANOW, &t));
	put("12");
	p = (struct pollfd){slave, POLLIN, 0};
	CHECK(poll(&p, 1, 100) == 0, "VMIN 3: two bytes are not enough for poll");
	put("3");
	CHECK(poll(&p, 1, 1000) == 1, "three are");
	CHECK(read(slave, buf, sizeof(buf)) == 3, "VMIN read");
	ok("VMIN 3");

	/* back to canonical: what is queued becomes readable */
	put("raw");
	wait_input();
	CHECK_OK(tcgetattr(slave, &t));
	t.c_lflag |= ICANON;
	CHECK_OK(tcsetattr(slave, TCSANOW, &t));
	expect_line("raw");
	ok("switching to canonical keeps queued input readable");

	int on = 1;
	CHECK_OK(ioctl(master, TIOCPKT, &on));
	CHECK(write(slave, "z", 1) == 1, "write");
	CHECK(read(master, buf, sizeof(buf)) == 2 && buf[0] == 0 && buf[1] == 'z', "packet");
	ok("TIOCPKT");

	CHECK(write(slave, "x", 1) == 1, "write");
	struct pollfd mp = {master, POLLIN, 0};
	CHECK(poll(&mp, 1, 5000) == 1, "the master has input");
	int n = -1;
	CHECK_OK(ioctl(master, FIONREAD, &n));
	CHECK(n == 1, "master FIONREAD %d", n);
	close_pair();
}

/* Signals: a child leads a session with the slave as its controlling terminal. */
static volatile sig_atomic_t got;
static void on_sig(int s) { got = s; }

static void test_signals(void)
{
	int ready[2];
	char c, buf[64];

	open_pair();
	CHECK_OK(pipe(ready));
	pid_t pid = sc_fork();
	if (pid == 0) {
		CHECK_OK(setsid());
		CHECK_OK(ioctl(slave, TIOCSCTTY, 0));
		CHECK(tcgetpgrp(slave) == getpgrp(), "foreground group");
		pid_t sid = 0;
		CHECK_OK(ioctl(slave, TIOCGSID, &sid));
		CHECK(sid == getsid(0), "TIOCGSID");
		int tty = (int)CHECK_OK(open("/dev/tty", O_RDWR));
		CHECK(write(tty, "via /dev/tty\n", 13) == 13, "write /dev/tty");
		close(tty);
		set_handler(SIGINT, on_sig, 0);
		set_handler(SIGQUIT, on_sig, 0);
		set_handler(SIGTSTP, on_sig, 0);
		set_handler(SIGWINCH, on_sig, 0);
		sigset_t block, old;
		sigemptyset(&block);
		sigaddset(&block, SIGINT);
		sigaddset(&block, SIGQUIT);
		sigaddset(&block, SIGTSTP);
		sigaddset(&block, SIGWINCH);
		sigprocmask(SIG_BLOCK, &block, &old);
		for (int i = 0; i < 4; i++) {
			got = 0;
			CHECK(write(ready[1], "r", 1) == 1, "ready");
			while (!got)
				sigsuspend(&old);
			c = (char)got;
			CHECK(write(ready[1], &c, 1) == 1, "report");
		}
		_exit(0);
	}
	close(ready[1]);
	CHECK(read(ready[0], &c, 1) == 1, "ready");
	expect_echo("via /dev/tty\r\n");
	ok("/dev/tty is the session's controlling terminal");
	put("\003");
	CHECK(read(ready[0], &c, 1) == 1 && c == SIGINT, "SIGINT");
	expect_echo("^C");
	CHECK(read(ready[0], &c, 1) == 1, "ready");
	put("\034");
	CHECK(read(ready[0], &c, 1) == 1 && c == SIGQUIT, "SIGQUIT");
	master_drain(buf, sizeof(buf));
	CHECK(read(ready[0], &c, 1) == 1, "ready");
	put("\032");
	CHECK(read(ready[0], &c, 1) == 1 && c == SIGTSTP, "SIGTSTP");
	master_drain(buf, sizeof(buf));
	CHECK(read(ready[0], &c, 1) == 1, "ready");
	struct winsize ws = {30, 100, 0, 0};
	CHECK_OK(ioctl(master, TIOCSWINSZ, &ws));
	CHECK(read(ready[0], &c, 1) == 1 && c == SIGWINCH, "SIGWINCH");
	expect_exit(pid, 0);
	close(ready[0]);
	ok("^C, ^\\, ^Z and TIOCSWINSZ signal the foreground group");
	close_pair();

	/* the session leader hears SIGHUP when the master goes */
	open_pair();
	CHECK_OK(pipe(ready));
	pid = sc_fork();
	if (pid == 0) {
		CHECK_OK(setsid());
		CHECK_OK(ioctl(slave, TIOCSCTTY, 0));
		close(master);
		CHECK(write(ready[1], "r", 1) == 1, "ready");
		for (;;)
			pause();
	}
	close(ready[1]);
	CHECK(read(ready[0], &c, 1) == 1, "ready");
	close(master);
	expect_killed(pid, SIGHUP);
	CHECK(read(slave, buf, sizeof(buf)) == 0, "a hung-up slave reads end of file");
	CHECK_ERR(write(slave, "x", 1), EIO);
	close(slave);
	close(ready[0]);
	ok("closing the master hangs up the slave: SIGHUP, EOF, EIO");
}

static void bg_child(void)
{
	char buf[8];

	CHECK_OK(setsid());
	CHECK_OK(ioctl(slave, TIOCSCTTY, 0));
	pid_t pid = sc_fork();
	if (pid == 0) {
		CHECK_OK(setpgid(0, 0)); /* a background group of the session */
		signal(SIGTTIN, SIG_IGN);
		CHECK_ERR(read(slave, buf, sizeof(buf)), EIO);
		_exit(0);
	}
	expect_exit(pid, 0);
}

static void test_close(void)
{
	char buf[64];

	open_pair();
	in_child(bg_child);
	ok("a background read with SIGTTIN ignored fails with EIO");
	CHECK(write(slave, "last", 4) == 4, "write");
	close(slave);
	CHECK(read(master, buf, sizeof(buf)) == 4, "data before the end");
	CHECK_ERR(read(master, buf, sizeof(buf)), EIO);
	struct pollfd p = {master, POLLIN, 0};
	CHECK(poll(&p, 1, 0) == 1 && (p.revents & POLLHUP), "POLLHUP %x", p.revents);
	close(master);
	ok("the master reads EIO once the slave is closed");

	int fd = open("/dev/tty", O_RDWR);
	pid_t pid = sc_fork();
	if (pid == 0) {
		CHECK_OK(setsid());
		CHECK_ERR(open("/dev/tty", O_RDWR), ENXIO);
		_exit(0);
	}
	expect_exit(pid, 0);
	if (fd >= 0)
		close(fd);
	ok("no controlling terminal: /dev/tty is ENXIO");
}

int main(void)
{
	test_open();
	test_canonical();
	test_raw();
	test_signals();
	test_close();
	return 0;
}
