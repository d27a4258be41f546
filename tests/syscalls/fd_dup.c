/* fd_dup.c: dup, dup2, dup3, F_DUPFD(_CLOEXEC), F_GETFD/F_SETFD, F_GETFL/F_SETFL, close,
 * close_range (incl. CLOSE_RANGE_CLOEXEC), RLIMIT_NOFILE limits. */
#include "sc.h"

#include <linux/close_range.h>
#include <sys/resource.h>

static int lowest_free(void)
{
	int fd = (int)CHECK_OK(open("/dev/null", O_RDONLY));

	close(fd);
	return fd;
}

static void test_dup(void)
{
	const char *path = tpath("dup");
	write_file(path, "0123456789", 0644);
	int fd = (int)CHECK_OK(open(path, O_RDONLY | O_CLOEXEC));
	int low = lowest_free();

	int d = (int)CHECK_OK(dup(fd));
	CHECK(d == low, "dup takes the lowest free fd");
	CHECK(fcntl(d, F_GETFD) == 0 && fcntl(fd, F_GETFD) == FD_CLOEXEC, "dup clears FD_CLOEXEC");
	/* One open file description: a shared offset and status flags. */
	char c;
	CHECK(read(fd, &c, 1) == 1 && c == '0', "read");
	CHECK(lseek(d, 0, SEEK_CUR) == 1, "shared offset");
	CHECK_OK(fcntl(d, F_SETFL, O_NONBLOCK));
	CHECK(fcntl(fd, F_GETFL) & O_NONBLOCK, "shared status flags");
	CHECK_OK(fcntl(d, F_SETFL, 0));
	close(d);

	/* dup2: onto a free fd, onto an open fd (closed first), onto itself. */
	CHECK(dup2(fd, 40) == 40, "dup2 to 40");
	int other = (int)CHECK_OK(open("/dev/null", O_RDONLY));
	CHECK(dup2(fd, other) == other && lseek(other, 0, SEEK_CUR) == 1, "dup2 replaces an fd");
	CHECK(dup2(fd, fd) == fd && fcntl(fd, F_GETFD) == FD_CLOEXEC, "dup2(fd, fd) is a no-op");
	CHECK_ERR(dup2(fd, -1), EBADF);
	CHECK_ERR(dup2(999, 41), EBADF);
	CHECK(fcntl(41, F_GETFD) == -1, "a failed dup2 leaves newfd alone");
	CHECK(dup2(40, 41) == 41, "dup2 of a dup");

	/* dup3. */
	CHECK(dup3(fd, 42, O_CLOEXEC) == 42 && fcntl(42, F_GETFD) == FD_CLOEXEC, "dup3 O_CLOEXEC");
	CHECK(dup3(fd, 43, 0) == 43 && fcntl(43, F_GETFD) == 0, "dup3 0");
	CHECK_ERR(dup3(fd, fd, 0), EINVAL);
	CHECK_ERR(dup3(fd, 44, O_NONBLOCK), EINVAL);

	/* F_DUPFD / F_DUPFD_CLOEXEC: the lowest free fd >= arg. */
	CHECK(fcntl(fd, F_DUPFD, 40) == 44, "F_DUPFD 40 -> 44 (40..43 taken)");
	CHECK(fcntl(fd, F_DUPFD_CLOEXEC, 100) == 100 && fcntl(100, F_GETFD) == FD_CLOEXEC,
	      "F_DUPFD_CLOEXEC");
	CHECK_ERR(fcntl(fd, F_DUPFD, -1), EINVAL);
	for (int i = 40; i <= 44; i++)
		close(i);
	close(100);
	close(other);
	close(fd);
	ok("dup/dup2/dup3/F_DUPFD: lowest fd, shared description, FD_CLOEXEC rules, errors");
}

static void test_flags(void)
{
	const char *path = tpath("flags");
	int fd = (int)CHECK_OK(open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644));

	CHECK((fcntl(fd, F_GETFL) & (O_ACCMODE | O_APPEND | O_NONBLOCK)) == O_WRONLY, "flags");
	/* F_SETFL changes O_APPEND and O_NONBLOCK only; the access mode stays. */
	CHECK_OK(fcntl(fd, F_SETFL, O_APPEND | O_RDWR | O_NONBLOCK));
	int fl = fcntl(fd, F_GETFL);
	CHECK((fl & O_ACCMODE) == O_WRONLY && (fl & O_APPEND) && (fl & O_NONBLOCK), "F_SETFL");
	CHECK(write(fd, "ab", 2) == 2 && pwrite(fd, "Z", 1, 0) == 1, "write");
	CHECK(write(fd, "cd", 2) == 2, "append");
	char buf[8] = { 0 };
	int rfd = (int)CHECK_OK(open(path, O_RDONLY));
	CHECK(read(rfd, buf, sizeof(buf)) == 5, "read back");
	close(rfd);
	/* Under O_APPEND, Linux's pwrite ignores the offset and appends. */
	CHECK(!strcmp(buf, "abZcd"), "contents %s", buf);

	CHECK_OK(fcntl(fd, F_SETFD, FD_CLOEXEC));
	CHECK(fcntl(fd, F_GETFD) == FD_CLOEXEC, "F_SETFD");
	CHECK_OK(fcntl(fd, F_SETFD, 0));
	CHECK_ERR(fcntl(999, F_GETFD), EBADF);
	CHECK_ERR(fcntl(fd, 9999), EINVAL);
	close(fd);
	CHECK_ERR(close(fd), EBADF);
	CHECK_ERR(close(-1), EBADF);
	ok("fcntl F_GETFL/F_SETFL (O_APPEND, O_NONBLOCK; access mode fixed), F_GETFD/F_SETFD");
}

static void test_close_range(void)
{
	for (int i = 50; i < 60; i++)
		CHECK(dup2(0, i) == i, "dup2");
	CHECK_OK(syscall(SYS_close_range, 52, 54, 0));
	CHECK(fcntl(51, F_GETFD) == 0 && fcntl(52, F_GETFD) == -1 && fcntl(54, F_GETFD) == -1 &&
		      fcntl(55, F_GETFD) == 0,
	      "close_range closed exactly 52..54");
	CHECK_OK(syscall(SYS_close_range, 55, 57, CLOSE_RANGE_CLOEXEC));
	CHECK(fcntl(55, F_GETFD) == FD_CLOEXEC && fcntl(57, F_GETFD) == FD_CLOEXEC &&
		      fcntl(58, F_GETFD) == 0,
	      "CLOSE_RANGE_CLOEXEC marks without closing");
	CHECK_OK(syscall(SYS_close_range, 50, ~0U, 0));
	for (int i = 50; i < 60; i++)
		CHECK(fcntl(i, F_GETFD) == -1, "fd %d closed by close_range(50, ~0)", i);
	CHECK(fcntl(2, F_GETFD) >= 0, "lower fds untouched");
	CHECK(raw(SYS_close_range, 10, 5, 0, 0, 0, 0) == -EINVAL, "first > last: EINVAL");
	CHECK(raw(SYS_close_range, 5, 10, 0x80, 0, 0, 0) == -EINVAL, "bad flags: EINVAL");
	CHECK_OK(syscall(SYS_close_range, 1000, 2000, 0)); /* nothing open there */
	ok("close_range: closes a range, CLOSE_RANGE_CLOEXEC, ~0 as last, EINVAL");
}

static void limit_child(void)
{
	struct rlimit rl = { 20, 20 };
	CHECK_OK(setrlimit(RLIMIT_NOFILE, &rl));
	CHECK_ERR(dup2(0, 20), EBADF);
	CHECK_ERR(fcntl(0, F_DUPFD, 20), EINVAL);
	CHECK(dup2(0, 19) == 19, "the highest allowed fd");
	int n = 0;
	for (;;) {
		int fd = dup(0);
		if (fd < 0) {
			CHECK(errno == EMFILE, "out of fds: EMFILE");
			break;
		}
		CHECK(fd < 20, "fd %d over the limit", fd);
		n++;
	}
	CHECK_ERR(open("/dev/null", O_RDONLY), EMFILE);
	int p[2];
	CHECK_ERR(pipe(p), EMFILE);
}

static void test_limits(void)
{
	in_child(limit_child);
	ok("RLIMIT_NOFILE: EBADF for dup2, EINVAL for F_DUPFD, EMFILE for dup/open/pipe");
}

int main(void)
{
	test_dup();
	test_flags();
	test_close_range();
	test_limits();
	return 0;
}
