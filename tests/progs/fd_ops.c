/* fd_ops.c: dup/dup2/dup3/fcntl(F_DUPFD, F_DUPFD_CLOEXEC, F_GETFD, F_SETFD, F_GETFL, F_SETFL). */
#include "check.h"

#include <fcntl.h>

static void close_from(int lo)
{
	for (int fd = lo; fd < 64; fd++)
		close(fd);
}

int main(void)
{
	char buf[16];
	int fd, d, d2;

	/* The runner gives us 0, 1, 2 only; make sure nothing else is open. */
	close_from(3);

	/* Lowest free number first. */
	fd = CHECK_OK(open("/etc/passwd", O_RDONLY));
	CHECK(fd == 3, "first open got %d", fd);
	d = CHECK_OK(dup(fd));
	CHECK(d == 4, "dup got %d", d);
	CHECK_OK(close(3));
	d2 = CHECK_OK(dup(d));
	CHECK(d2 == 3, "dup into the hole got %d", d2);
	printf("ok lowest-numbered fd allocation\n");

	/* Duplicates share the offset and status flags. */
	CHECK(read(3, buf, 5) == 5, "read");
	CHECK(lseek(4, 0, SEEK_CUR) == 5, "offset not shared");
	CHECK(lseek(4, 2, SEEK_SET) == 2 && lseek(3, 0, SEEK_CUR) == 2, "seek not shared");
	printf("ok dup shares the offset\n");

	/* FD_CLOEXEC is per descriptor. */
	CHECK(fcntl(3, F_GETFD) == 0, "F_GETFD %d", fcntl(3, F_GETFD));
	CHECK_OK(fcntl(3, F_SETFD, FD_CLOEXEC));
	CHECK(fcntl(3, F_GETFD) == FD_CLOEXEC, "F_SETFD");
	CHECK(fcntl(4, F_GETFD) == 0, "cloexec leaked to the duplicate");
	CHECK_OK(fcntl(3, F_SETFD, 0));
	CHECK(fcntl(3, F_GETFD) == 0, "F_SETFD 0");
	printf("ok F_GETFD/F_SETFD\n");

	/* F_DUPFD takes the lowest free number >= arg. */
	d = CHECK_OK(fcntl(3, F_DUPFD, 10));
	CHECK(d == 10, "F_DUPFD 10 got %d", d);
	d = CHECK_OK(fcntl(3, F_DUPFD, 10));
	CHECK(d == 11, "F_DUPFD 10 again got %d", d);
	CHECK(fcntl(11, F_GETFD) == 0, "F_DUPFD sets no cloexec");
	d = CHECK_OK(fcntl(3, F_DUPFD_CLOEXEC, 0));
	CHECK(d == 5, "F_DUPFD_CLOEXEC 0 got %d", d);
	CHECK(fcntl(5, F_GETFD) == FD_CLOEXEC, "F_DUPFD_CLOEXEC flag");
	CHECK_ERR(fcntl(3, F_DUPFD, -1), EINVAL);
	CHECK_ERR(fcntl(3, F_DUPFD, 1 << 30), EINVAL);
	printf("ok F_DUPFD/F_DUPFD_CLOEXEC\n");

	/* dup2: onto an open fd closes it; onto itself is a no-op that checks validity. */
	int other = CHECK_OK(open("/etc/os-release", O_RDONLY));
	CHECK(other == 6, "open got %d", other);
	CHECK(dup2(3, 6) == 6, "dup2 onto open fd");
	CHECK(lseek(6, 0, SEEK_CUR) == 2, "dup2 target now shares fd 3's file");
	CHECK(dup2(3, 3) == 3, "dup2 onto itself");
	CHECK_ERR(dup2(40, 40), EBADF);
	CHECK_ERR(dup2(3, -1), EBADF);
	CHECK(dup2(3, 50) == 50, "dup2 to a high fd");
	CHECK(fcntl(50, F_GETFD) == 0, "dup2 sets no cloexec");
	CHECK_OK(fcntl(5, F_GETFD));
	CHECK(dup2(3, 5) == 5 && fcntl(5, F_GETFD) == 0, "dup2 clears cloexec of the target");
	printf("ok dup2\n");

	/* dup3 */
	CHECK(dup3(3, 51, O_CLOEXEC) == 51 && fcntl(51, F_GETFD) == FD_CLOEXEC, "dup3 O_CLOEXEC");
	CHECK(dup3(3, 52, 0) == 52 && fcntl(52, F_GETFD) == 0, "dup3 0");
	CHECK_ERR(dup3(3, 3, 0), EINVAL);
	CHECK_ERR(dup3(3, 53, O_NONBLOCK), EINVAL);
	CHECK_ERR(dup3(99, 53, 0), EBADF);
	printf("ok dup3\n");

	/* F_GETFL: access mode and status flags; F_SETFL changes O_APPEND/O_NONBLOCK only. */
	char path[128];
	snprintf(path, sizeof(path), "/tmp/runsc-c-fd-%s", uniq());
	int w = CHECK_OK(open(path, O_CREAT | O_WRONLY | O_TRUNC, 0600));
	int rw = CHECK_OK(open(path, O_RDWR | O_APPEND));
	CHECK((fcntl(3, F_GETFL) & O_ACCMODE) == O_RDONLY, "O_RDONLY");
	CHECK((fcntl(w, F_GETFL) & O_ACCMODE) == O_WRONLY, "O_WRONLY");
	CHECK((fcntl(rw, F_GETFL) & (O_ACCMODE | O_APPEND)) == (O_RDWR | O_APPEND), "O_RDWR|O_APPEND %#x",
	      fcntl(rw, F_GETFL));
	CHECK((fcntl(w, F_GETFL) & (O_CREAT | O_TRUNC | O_CLOEXEC)) == 0, "open-time flags in F_GETFL");
	CHECK_OK(fcntl(w, F_SETFL, O_APPEND | O_NONBLOCK | O_RDWR));
	int fl = fcntl(w, F_GETFL);
	CHECK((fl & O_ACCMODE) == O_WRONLY, "F_SETFL changed the access mode");
	CHECK((fl & (O_APPEND | O_NONBLOCK)) == (O_APPEND | O_NONBLOCK), "F_SETFL flags %#x", fl);
	int wd = CHECK_OK(dup(w));
	CHECK((fcntl(wd, F_GETFL) & O_APPEND) == O_APPEND, "status flags are shared by duplicates");
	CHECK_OK(fcntl(w, F_SETFL, 0));
	CHECK((fcntl(wd, F_GETFL) & (O_APPEND | O_NONBLOCK)) == 0, "F_SETFL 0");
	printf("ok F_GETFL/F_SETFL\n");

	/* A closed duplicate leaves the other working. */
	CHECK(write(w, "abc", 3) == 3, "write");
	CHECK_OK(close(w));
	CHECK(write(wd, "def", 3) == 3, "write via the duplicate after close");
	CHECK(pread(rw, buf, 6, 0) == 6 && !memcmp(buf, "abcdef", 6), "content");
	CHECK_ERR(write(w, "x", 1), EBADF);
	CHECK_ERR(fcntl(w, F_GETFD), EBADF);
	printf("ok close one duplicate\n");
	CHECK_OK(unlink(path));

	close_from(3);
	fd = CHECK_OK(open("/dev/null", O_RDONLY));
	CHECK(fd == 3, "after closing everything, open got %d", fd);
	printf("fd_ops: done\n");
	return 0;
}
