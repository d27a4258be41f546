/* tty_ioctl.c: terminal ioctls on things that are not terminals (ENOTTY), FIONREAD, FIONBIO,
 * FIOCLEX/FIONCLEX, and /dev/tty without a controlling terminal (ENXIO). */
#include "sc.h"

#include <sys/ioctl.h>
#include <termios.h>

static void not_a_tty(int fd, const char *what)
{
	struct termios t;
	struct winsize ws;
	pid_t pg;

	CHECK(ioctl(fd, TCGETS, &t) == -1 && errno == ENOTTY, "%s: TCGETS", what);
	CHECK(ioctl(fd, TCSETS, &t) == -1 && errno == ENOTTY, "%s: TCSETS", what);
	CHECK(ioctl(fd, TIOCGWINSZ, &ws) == -1 && errno == ENOTTY, "%s: TIOCGWINSZ", what);
	CHECK(ioctl(fd, TIOCGPGRP, &pg) == -1 && errno == ENOTTY, "%s: TIOCGPGRP", what);
	CHECK(ioctl(fd, TIOCSCTTY, 0) == -1 && errno == ENOTTY, "%s: TIOCSCTTY", what);
	CHECK(!isatty(fd) && errno == ENOTTY, "%s: isatty", what);
	CHECK(tcgetpgrp(fd) == -1 && errno == ENOTTY, "%s: tcgetpgrp", what);
	char name[64];
	CHECK(ttyname_r(fd, name, sizeof(name)) == ENOTTY, "%s: ttyname_r", what);
}

static void test_enotty(void)
{
	int p[2];
	const char *f = tpath("file");

	write_file(f, "0123456789", 0644);
	int ffd = (int)CHECK_OK(open(f, O_RDONLY));
	int nfd = (int)CHECK_OK(open("/dev/null", O_RDWR));
	CHECK_OK(pipe(p));
	not_a_tty(ffd, "a /tmp file");
	not_a_tty(nfd, "/dev/null");
	not_a_tty(p[0], "a pipe");
	int hfd = (int)CHECK_OK(open("/etc/passwd", O_RDONLY));
	not_a_tty(hfd, "a host file");
	CHECK(ioctl(ffd, _IO('x', 99), 0) == -1 && errno == ENOTTY, "unknown ioctl: ENOTTY");
	CHECK(ioctl(999, TCGETS, NULL) == -1 && errno == EBADF, "bad fd: EBADF");
	close(hfd);
	ok("TCGETS, TCSETS, TIOCGWINSZ, TIOCGPGRP, TIOCSCTTY, isatty, ttyname on non-ttys: ENOTTY");

	/* FIONREAD: bytes left in a file from the offset, bytes queued in a pipe. */
	int n = -1;
	CHECK_OK(ioctl(ffd, FIONREAD, &n));
	CHECK(n == 10, "FIONREAD on a file at 0: %d", n);
	CHECK_OK(lseek(ffd, 4, SEEK_SET));
	CHECK_OK(ioctl(ffd, FIONREAD, &n));
	CHECK(n == 6, "FIONREAD at offset 4: %d", n);
	CHECK(write(p[1], "abc", 3) == 3, "write");
	CHECK_OK(ioctl(p[0], FIONREAD, &n));
	CHECK(n == 3, "FIONREAD on a pipe: %d", n);

	/* FIONBIO toggles O_NONBLOCK; FIOCLEX/FIONCLEX toggle FD_CLOEXEC. */
	int on = 1;
	CHECK_OK(ioctl(p[0], FIONBIO, &on));
	CHECK(fcntl(p[0], F_GETFL) & O_NONBLOCK, "FIONBIO on");
	char buf[8];
	CHECK(read(p[0], buf, 8) == 3, "read");
	CHECK_ERR(read(p[0], buf, 8), EAGAIN);
	on = 0;
	CHECK_OK(ioctl(p[0], FIONBIO, &on));
	CHECK(!(fcntl(p[0], F_GETFL) & O_NONBLOCK), "FIONBIO off");
	CHECK_OK(ioctl(ffd, FIOCLEX));
	CHECK(fcntl(ffd, F_GETFD) == FD_CLOEXEC, "FIOCLEX");
	CHECK_OK(ioctl(ffd, FIONCLEX));
	CHECK(fcntl(ffd, F_GETFD) == 0, "FIONCLEX");
	close(ffd);
	close(nfd);
	close(p[0]);
	close(p[1]);
	ok("FIONREAD on files and pipes, FIONBIO, FIOCLEX/FIONCLEX");
}

static void no_ctty(void)
{
	CHECK(setsid() == getpid(), "setsid");
	CHECK_ERR(open("/dev/tty", O_RDWR), ENXIO);
}

static void test_dev_tty(void)
{
	/* A new session has no controlling terminal. */
	in_child(no_ctty);
	ok("/dev/tty without a controlling terminal: ENXIO");
}

int main(void)
{
	test_enotty();
	test_dev_tty();
	return 0;
}
