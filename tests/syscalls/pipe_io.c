/* pipe_io.c: pipe/pipe2: flags, blocking and O_NONBLOCK, EOF, EPIPE/SIGPIPE, capacity and
 * F_GETPIPE_SZ/F_SETPIPE_SZ, FIONREAD, ESPIPE, fstat. */
#include "sc.h"

#include <sys/ioctl.h>

static void test_flags(void)
{
	int p[2];

	CHECK_OK(pipe(p));
	CHECK(p[0] >= 0 && p[1] > 0 && p[0] != p[1], "two fds");
	CHECK((fcntl(p[0], F_GETFL) & O_ACCMODE) == O_RDONLY, "read end O_RDONLY");
	CHECK((fcntl(p[1], F_GETFL) & O_ACCMODE) == O_WRONLY, "write end O_WRONLY");
	CHECK(fcntl(p[0], F_GETFD) == 0 && !(fcntl(p[0], F_GETFL) & O_NONBLOCK), "no flags");
	struct stat st;
	CHECK_OK(fstat(p[0], &st));
	CHECK(S_ISFIFO(st.st_mode), "S_ISFIFO");
	struct stat st1;
	CHECK_OK(fstat(p[1], &st1));
	CHECK(st.st_ino == st1.st_ino && st.st_dev == st1.st_dev, "both ends are one inode");
	CHECK_ERR(write(p[0], "x", 1), EBADF);
	char c;
	CHECK_ERR(read(p[1], &c, 1), EBADF);
	CHECK_ERR(lseek(p[0], 0, SEEK_SET), ESPIPE);
	CHECK_ERR(pread(p[0], &c, 1, 0), ESPIPE);
	CHECK_ERR(pwrite(p[1], &c, 1, 0), ESPIPE);
	close(p[0]);
	close(p[1]);

	CHECK_OK(pipe2(p, O_CLOEXEC | O_NONBLOCK));
	CHECK(fcntl(p[0], F_GETFD) == FD_CLOEXEC && fcntl(p[1], F_GETFD) == FD_CLOEXEC, "cloexec");
	CHECK((fcntl(p[0], F_GETFL) & O_NONBLOCK) && (fcntl(p[1], F_GETFL) & O_NONBLOCK), "nonblock");
	close(p[0]);
	close(p[1]);
	CHECK_ERR(pipe2(p, O_APPEND), EINVAL);
	CHECK(raw(SYS_pipe2, 8, 0, 0, 0, 0, 0) == -EFAULT, "bad pointer: EFAULT");
	ok("pipe/pipe2: access modes, O_CLOEXEC/O_NONBLOCK, S_ISFIFO, one inode; errors");
}

static void test_data_and_eof(void)
{
	int p[2];
	char buf[64];

	CHECK_OK(pipe(p));
	CHECK(write(p[1], "hello", 5) == 5 && write(p[1], " world", 6) == 6, "write");
	int n = 0;
	CHECK_OK(ioctl(p[0], FIONREAD, &n));
	CHECK(n == 11, "FIONREAD %d", n);
	CHECK(read(p[0], buf, 3) == 3 && !memcmp(buf, "hel", 3), "partial read");
	CHECK(read(p[0], buf, sizeof(buf)) == 8 && !memcmp(buf, "lo world", 8), "rest in one read");
	CHECK(write(p[1], "", 0) == 0, "zero-length write");
	close(p[1]);
	CHECK(read(p[0], buf, sizeof(buf)) == 0, "EOF once the writer is closed");
	CHECK(read(p[0], buf, sizeof(buf)) == 0, "EOF again");
	close(p[0]);

	/* A blocking read waits for a writer in another process. */
	CHECK_OK(pipe(p));
	pid_t pid = sc_fork();
	if (pid == 0) {
		msleep(20);
		(void)!write(p[1], "late", 4);
		_exit(0);
	}
	CHECK(read(p[0], buf, sizeof(buf)) == 4 && !memcmp(buf, "late", 4), "blocking read");
	expect_exit(pid, 0);
	/* EOF only when every write end is closed (the child's copy too). */
	close(p[1]);
	CHECK(read(p[0], buf, sizeof(buf)) == 0, "EOF after the last writer");
	close(p[0]);
	ok("pipe data in order, FIONREAD, blocking read, EOF after the last writer closes");
}

static void test_nonblock_and_capacity(void)
{
	int p[2];
	char c;

	CHECK_OK(pipe2(p, O_NONBLOCK));
	CHECK_ERR(read(p[0], &c, 1), EAGAIN);
	CHECK(fcntl(p[1], F_GETPIPE_SZ) == 65536, "default capacity 64 KiB");
	/* Fill it with page-sized writes: the capacity is exactly what fits. */
	static char buf[1 << 16];
	memset(buf, 'f', sizeof(buf));
	long total = 0;
	for (;;) {
		ssize_t r = write(p[1], buf, 4096);
		if (r < 0) {
			CHECK(errno == EAGAIN, "full pipe: EAGAIN");
			break;
		}
		total += r;
	}
	CHECK(total == 65536, "a full pipe holds 64 KiB: %ld", total);
	CHECK_ERR(write(p[1], "x", 1), EAGAIN);
	/* Shrinking below the contents: EBUSY. */
	CHECK_ERR(fcntl(p[1], F_SETPIPE_SZ, 4096), EBUSY);
	CHECK(read(p[0], buf, sizeof(buf)) == 65536, "drain");
	/* Sizes round up to a power-of-two number of pages. */
	CHECK(fcntl(p[1], F_SETPIPE_SZ, 5000) == 8192, "F_SETPIPE_SZ 5000 -> 8192");
	CHECK(fcntl(p[0], F_GETPIPE_SZ) == 8192, "seen from the read end");
	CHECK(fcntl(p[1], F_SETPIPE_SZ, 1) == 4096, "minimum one page");
	CHECK(fcntl(p[1], F_SETPIPE_SZ, 1 << 20) == 1 << 20, "1 MiB");
	total = 0;
	for (;;) {
		ssize_t r = write(p[1], buf, sizeof(buf));
		if (r < 0)
			break;
		total += r;
	}
	CHECK(total == 1 << 20, "a 1 MiB pipe holds 1 MiB: %ld", total);
	int null = (int)CHECK_OK(open("/dev/null", O_RDONLY));
	CHECK_ERR(fcntl(null, F_GETPIPE_SZ), EBADF); /* not a pipe */
	close(null);
	close(p[0]);
	close(p[1]);
	ok("O_NONBLOCK: EAGAIN when empty or full; 64 KiB default; F_SETPIPE_SZ rounding, EBUSY");
}

static void test_blocking_write(void)
{
	int p[2];

	CHECK_OK(pipe(p));
	/* The child writes 1 MiB into a 64 KiB pipe: it blocks until we drain. */
	pid_t pid = sc_fork();
	if (pid == 0) {
		static char b[1 << 20];
		for (size_t i = 0; i < sizeof(b); i++)
			b[i] = (char)(i * 31 + (i >> 12));
		close(p[0]);
		_exit(write(p[1], b, sizeof(b)) == (ssize_t)sizeof(b) ? 0 : 1);
	}
	close(p[1]);
	static char got[1 << 20];
	size_t len = 0;
	while (len < sizeof(got)) {
		ssize_t r = read(p[0], got + len, sizeof(got) - len);
		CHECK(r > 0, "read at %zu", len);
		len += (size_t)r;
	}
	char extra;
	CHECK(read(p[0], &extra, 1) == 0, "EOF after 1 MiB");
	for (size_t i = 0; i < sizeof(got); i++)
		CHECK(got[i] == (char)(i * 31 + (i >> 12)), "byte %zu", i);
	expect_exit(pid, 0);
	close(p[0]);
	ok("a 1 MiB blocking write completes as the reader drains; data intact");
}

static void test_epipe(void)
{
	int p[2];

	/* Default SIGPIPE kills the writer. The read end is closed before the fork so no reader
	 * exists when the child writes (closing it after the fork raced with the child's write). */
	CHECK_OK(pipe(p));
	close(p[0]);
	pid_t pid = sc_fork();
	if (pid == 0) {
		(void)!write(p[1], "x", 1);
		_exit(0);
	}
	close(p[1]);
	expect_killed(pid, SIGPIPE);

	/* Ignored: EPIPE. */
	set_disposition(SIGPIPE, SIG_IGN);
	CHECK_OK(pipe(p));
	close(p[0]);
	CHECK_ERR(write(p[1], "x", 1), EPIPE);
	close(p[1]);
	set_disposition(SIGPIPE, SIG_DFL);

	/* Blocked: EPIPE, and SIGPIPE is pending. */
	block(SIGPIPE);
	CHECK_OK(pipe(p));
	close(p[0]);
	CHECK_ERR(write(p[1], "x", 1), EPIPE);
	sigset_t pend;
	sigpending(&pend);
	CHECK(sigismember(&pend, SIGPIPE), "SIGPIPE pending");
	set_disposition(SIGPIPE, SIG_IGN);
	unblock(SIGPIPE);
	set_disposition(SIGPIPE, SIG_DFL);
	close(p[1]);

	/* A writer blocked on a full pipe gets EPIPE when the reader goes away. */
	CHECK_OK(pipe(p));
	pid = sc_fork();
	if (pid == 0) {
		static char b[200000];
		signal(SIGPIPE, SIG_IGN);
		close(p[0]);
		ssize_t r = write(p[1], b, sizeof(b));
		/* Partial progress is reported as a short count, else EPIPE. */
		_exit(r == -1 ? (errno == EPIPE ? 0 : 2) : (r > 0 && r < (ssize_t)sizeof(b) ? 0 : 3));
	}
	close(p[1]);
	msleep(30);
	close(p[0]);
	expect_exit(pid, 0);
	ok("EPIPE/SIGPIPE: default kills, ignored or blocked gives EPIPE, also mid-write");
}

int main(void)
{
	test_flags();
	test_data_and_eof();
	test_nonblock_and_capacity();
	test_blocking_write();
	test_epipe();
	return 0;
}
