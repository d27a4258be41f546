/* eventfd.c: eventfd/eventfd2: flags, the counter (read takes it all, or one in semaphore
 * mode), the 8-byte rule, the overflow limit, non-blocking EAGAIN, blocking reads and writes
 * woken from another process or thread, EINTR, poll readiness, the file's name and stream
 * nature. */
#include "sc.h"

#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>

static uint64_t rd(int fd)
{
	uint64_t v = 0;
	CHECK(read(fd, &v, sizeof(v)) == 8, "read");
	return v;
}

static void wr(int fd, uint64_t v) { CHECK(write(fd, &v, sizeof(v)) == 8, "write %#lx", v); }

static short revents(int fd)
{
	struct pollfd p = {fd, POLLIN | POLLOUT, 0};
	CHECK(poll(&p, 1, 0) >= 0, "poll");
	return p.revents;
}

static void test_basics(void)
{
	uint64_t v = 1;
	char small[4], big[32];

	CHECK_ERR(eventfd(0, 0x10), EINVAL);
	CHECK_ERR(syscall(SYS_eventfd2, 0, O_RDONLY | 0x10), EINVAL);
	int fd = (int)CHECK_OK(eventfd(5, EFD_CLOEXEC | EFD_NONBLOCK));
	CHECK(fcntl(fd, F_GETFD) == FD_CLOEXEC, "EFD_CLOEXEC");
	CHECK((fcntl(fd, F_GETFL) & (O_ACCMODE | O_NONBLOCK)) == (O_RDWR | O_NONBLOCK), "flags");
	int plain = (int)CHECK_OK(syscall(SYS_eventfd, 2));
	CHECK(fcntl(plain, F_GETFD) == 0 && !(fcntl(plain, F_GETFL) & O_NONBLOCK), "eventfd()");

	CHECK_ERR(read(fd, small, sizeof(small)), EINVAL);
	CHECK_ERR(write(fd, small, sizeof(small)), EINVAL);
	CHECK(revents(fd) == (POLLIN | POLLOUT), "readable and writable");
	CHECK(read(fd, big, sizeof(big)) == 8 && memcmp(big, &(uint64_t){5}, 8) == 0,
	      "a big buffer reads 8 bytes");
	CHECK(revents(fd) == POLLOUT, "empty: writable only");
	CHECK_ERR(read(fd, &v, sizeof(v)), EAGAIN);
	wr(fd, 3);
	wr(fd, 4);
	wr(fd, 0); /* adds nothing */
	CHECK(rd(fd) == 7, "the sum");
	CHECK(rd(plain) == 2, "eventfd()'s initial value");

	/* the limit: the counter never reaches 2^64-1 */
	v = UINT64_MAX;
	CHECK_ERR(write(fd, &v, sizeof(v)), EINVAL);
	wr(fd, UINT64_MAX - 1);
	CHECK(revents(fd) == POLLIN, "at the limit: readable, not writable");
	v = 1;
	CHECK_ERR(write(fd, &v, sizeof(v)), EAGAIN);
	CHECK(rd(fd) == UINT64_MAX - 1, "read at the limit");

	/* a stream: no pread, lseek does nothing */
	CHECK_ERR(pread(fd, &v, sizeof(v), 0), ESPIPE);
	CHECK(lseek(fd, 5, SEEK_SET) == 0, "lseek is a no-op");
	char link[64] = {0}, proc[32];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	CHECK(readlink(proc, link, sizeof(link) - 1) > 0 &&
		  strcmp(link, "anon_inode:[eventfd]") == 0,
	      "link %s", link);
	close(fd);
	close(plain);
	ok("eventfd: flags, counter, 8-byte rule, limit, EAGAIN, poll, stream, name");
}

static void test_semaphore(void)
{
	int fd = (int)CHECK_OK(eventfd(3, EFD_SEMAPHORE | EFD_NONBLOCK | EFD_CLOEXEC));
	uint64_t v;

	CHECK(rd(fd) == 1 && rd(fd) == 1 && rd(fd) == 1, "one at a time");
	CHECK_ERR(read(fd, &v, sizeof(v)), EAGAIN);
	wr(fd, 2);
	CHECK(rd(fd) == 1 && rd(fd) == 1, "again");
	close(fd);
	ok("eventfd: EFD_SEMAPHORE");
}

static void *reader_thread(void *arg)
{
	int fd = *(int *)arg;
	msleep(50);
	(void)rd(fd);
	return NULL;
}

static volatile sig_atomic_t g_got;
static void on_usr1(int sig) { g_got = sig; }

static void test_blocking(void)
{
	int fd = (int)CHECK_OK(eventfd(0, EFD_CLOEXEC));
	pthread_t th;

	/* a read waits for a write from another process */
	pid_t pid = sc_fork();
	if (pid == 0) {
		msleep(50);
		wr(fd, 9);
		_exit(0);
	}
	CHECK(rd(fd) == 9, "woken by the child's write");
	expect_exit(pid, 0);

	/* a write waits for room made by a read in another thread */
	wr(fd, UINT64_MAX - 1);
	CHECK(pthread_create(&th, NULL, reader_thread, &fd) == 0, "pthread_create");
	wr(fd, 5);
	pthread_join(th, NULL);
	CHECK(rd(fd) == 5, "the blocked write went in");

	/* a handler without SA_RESTART interrupts a blocked read */
	set_handler(SIGUSR1, on_usr1, 0);
	pid = pinger(getpid(), SIGUSR1, 50, 1, -1, 0);
	uint64_t v;
	CHECK_ERR(read(fd, &v, sizeof(v)), EINTR);
	CHECK(g_got == SIGUSR1, "handler ran");
	expect_exit(pid, 0);
	/* with SA_RESTART the read goes on and gets the value written later */
	set_handler(SIGUSR1, on_usr1, SA_RESTART);
	g_got = 0;
	pid = sc_fork();
	if (pid == 0) {
		msleep(30);
		kill(getppid(), SIGUSR1);
		msleep(30);
		wr(fd, 11);
		_exit(0);
	}
	CHECK(rd(fd) == 11, "restarted read");
	CHECK(g_got == SIGUSR1, "handler ran");
	expect_exit(pid, 0);
	set_disposition(SIGUSR1, SIG_DFL);
	close(fd);
	ok("eventfd: blocking read and write, EINTR, SA_RESTART");
}

int main(void)
{
	test_basics();
	test_semaphore();
	test_blocking();
	return 0;
}
