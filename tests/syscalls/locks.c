/* locks.c: fcntl record locks between processes (conflicts, F_GETLK, splits, F_SETLKW,
 * EDEADLK, release on close and exit, EINTR), OFD locks, and flock(2). */
#include "sc.h"

#include <sys/file.h>

static int lk(int fd, int cmd, short type, off_t start, off_t len)
{
	struct flock fl = {.l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len};
	return fcntl(fd, cmd, &fl);
}

static struct flock getlk(int fd, short type, off_t start, off_t len)
{
	struct flock fl = {.l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len};
	CHECK_OK(fcntl(fd, F_GETLK, &fl));
	return fl;
}

/* A child that runs fn(fd) and reports its result byte on a pipe. */
static pid_t child_do(int (*fn)(int), int fd, int *res_fd)
{
	int p[2];
	CHECK_OK(pipe(p));
	pid_t pid = sc_fork();
	if (pid == 0) {
		close(p[0]);
		char r = (char)fn(fd);
		CHECK(write(p[1], &r, 1) == 1, "report");
		_exit(0);
	}
	close(p[1]);
	*res_fd = p[0];
	return pid;
}

static int try_wr_0_5(int fd) { return lk(fd, F_SETLK, F_WRLCK, 0, 5) == 0 ? 0 : errno; }
static int try_rd_0_5(int fd) { return lk(fd, F_SETLK, F_RDLCK, 0, 5) == 0 ? 0 : errno; }
static int try_rd_7_1(int fd) { return lk(fd, F_SETLK, F_RDLCK, 7, 1) == 0 ? 0 : errno; }
static int wait_wr_0_5(int fd) { return lk(fd, F_SETLKW, F_WRLCK, 0, 5) == 0 ? 0 : errno; }
static int getlk_pid_ok(int fd)
{
	struct flock fl = getlk(fd, F_WRLCK, 0, 0);
	return fl.l_type == F_RDLCK && fl.l_pid == getppid() && fl.l_start == 0 && fl.l_len == 10
		   ? 0
		   : 1;
}

static int result(pid_t pid, int res_fd)
{
	char r = -1;
	CHECK(read(res_fd, &r, 1) == 1, "child result");
	close(res_fd);
	expect_exit(pid, 0);
	return r;
}

static int run(int (*fn)(int), int fd)
{
	int rfd;
	pid_t pid = child_do(fn, fd, &rfd);
	return result(pid, rfd);
}

static void test_matrix(void)
{
	const char *path = tpath("lk");
	int fd = (int)CHECK_OK(open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600));

	CHECK_OK(lk(fd, F_SETLK, F_RDLCK, 0, 10));
	CHECK(run(try_rd_0_5, fd) == 0, "read/read shares");
	CHECK(run(try_wr_0_5, fd) == EAGAIN, "read/write conflicts");
	CHECK(run(getlk_pid_ok, fd) == 0, "F_GETLK names the holder");
	/* our own locks never conflict: upgrade in place */
	CHECK_OK(lk(fd, F_SETLK, F_WRLCK, 0, 10));
	CHECK(run(try_rd_0_5, fd) == EAGAIN, "write/read conflicts");
	/* unlock the middle: [0,5) and [8,10) stay */
	CHECK_OK(lk(fd, F_SETLK, F_UNLCK, 5, 3));
	CHECK(run(try_rd_7_1, fd) == 0, "the hole is free");
	CHECK(run(try_wr_0_5, fd) == EAGAIN, "the left part stays");
	struct flock fl = getlk(fd, F_RDLCK, 0, 0);
	CHECK(fl.l_type == F_UNLCK, "no conflict with our own locks");
	/* argument errors */
	CHECK_ERR(lk(fd, F_SETLK, 9, 0, 1), EINVAL);
	CHECK_ERR(lk(fd, F_SETLK, F_RDLCK, -1, 1), EINVAL);
	CHECK_ERR(lk(fd, F_SETLK, F_RDLCK, 2, -5), EINVAL);
	CHECK_ERR(lk(fd, F_GETLK, F_UNLCK, 0, 1), EINVAL);
	int ro = (int)CHECK_OK(open(path, O_RDONLY | O_CLOEXEC));
	CHECK_ERR(lk(ro, F_SETLK, F_WRLCK, 100, 1), EBADF);
	/* closing any fd of the file drops all our locks on it */
	CHECK_OK(close(ro));
	CHECK(run(try_wr_0_5, fd) == 0, "released by close of another fd");
	close(fd);
	ok("fcntl locks: conflict matrix, F_GETLK, upgrade, split, errors, close releases");
}

static void test_wait_and_deadlock(void)
{
	int fd = (int)CHECK_OK(open(tpath("lk2"), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
	int go[2], rfd;

	CHECK_OK(lk(fd, F_SETLK, F_WRLCK, 0, 5));
	CHECK_OK(pipe(go));
	pid_t pid = sc_fork();
	if (pid == 0) {
		close(go[0]);
		/* hold [100,101), tell the parent, then wait for [0,5) */
		CHECK_OK(lk(fd, F_SETLK, F_WRLCK, 100, 1));
		CHECK(write(go[1], "g", 1) == 1, "go");
		CHECK_OK(lk(fd, F_SETLKW, F_WRLCK, 0, 5));
		_exit(0);
	}
	close(go[1]);
	char c;
	CHECK(read(go[0], &c, 1) == 1, "child holds its lock");
	close(go[0]);
	msleep(50); /* let it block */
	CHECK_ERR(lk(fd, F_SETLKW, F_WRLCK, 100, 1), EDEADLK);
	CHECK_OK(lk(fd, F_SETLK, F_UNLCK, 0, 5));
	expect_exit(pid, 0); /* it got the lock, then exited, releasing everything */
	CHECK(run(try_wr_0_5, fd) == 0, "released at exit");

	/* a waiter wakes when the holder unlocks */
	CHECK_OK(lk(fd, F_SETLK, F_WRLCK, 0, 5));
	pid = child_do(wait_wr_0_5, fd, &rfd);
	msleep(50);
	CHECK_OK(lk(fd, F_SETLK, F_UNLCK, 0, 0));
	CHECK(result(pid, rfd) == 0, "the waiter got it");
	close(fd);
	ok("F_SETLKW: waits, EDEADLK, released at exit");
}

static volatile int hits;
static void on_usr1(int sig) { hits++; }

static void test_eintr(void)
{
	int fd = (int)CHECK_OK(open(tpath("lk3"), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
	int go[2];

	CHECK_OK(pipe(go));
	pid_t holder = sc_fork();
	if (holder == 0) {
		close(go[0]);
		CHECK_OK(lk(fd, F_SETLK, F_WRLCK, 0, 1));
		CHECK(write(go[1], "g", 1) == 1, "go");
		pause();
		_exit(0);
	}
	close(go[1]);
	char c;
	CHECK(read(go[0], &c, 1) == 1, "holder ready");
	close(go[0]);
	set_handler(SIGUSR1, (void *)on_usr1, SA_RESTART);
	pid_t p = pinger(getpid(), SIGUSR1, 20, 1, -1, 0);
	/* fcntl(F_SETLKW) is restarted after a SA_RESTART handler: use one without */
	set_handler(SIGUSR1, (void *)on_usr1, 0);
	CHECK_ERR(lk(fd, F_SETLKW, F_RDLCK, 0, 1), EINTR);
	sc_wait(p);
	kill(holder, SIGKILL);
	sc_wait(holder);
	close(fd);
	ok("F_SETLKW: EINTR");
}

static void test_ofd(void)
{
	const char *path = tpath("ofd");
	int a = (int)CHECK_OK(open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600));
	int b = (int)CHECK_OK(open(path, O_RDWR | O_CLOEXEC));
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 10};

	CHECK_OK(fcntl(a, F_OFD_SETLK, &fl));
	fl.l_type = F_RDLCK;
	CHECK_ERR(fcntl(b, F_OFD_SETLK, &fl), EAGAIN);
	/* and against a classic lock of the same process */
	CHECK_ERR(lk(b, F_SETLK, F_RDLCK, 5, 1), EAGAIN);
	fl.l_pid = 1;
	CHECK_ERR(fcntl(b, F_OFD_SETLK, &fl), EINVAL);
	fl = (struct flock){.l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 3, .l_len = 1};
	CHECK_OK(fcntl(b, F_OFD_GETLK, &fl));
	CHECK(fl.l_type == F_WRLCK && fl.l_pid == -1, "OFD holder pid is -1");
	/* closing another fd does not drop an OFD lock; closing its own file does */
	int c = (int)CHECK_OK(open(path, O_RDONLY | O_CLOEXEC));
	close(c);
	fl = (struct flock){.l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1};
	CHECK_ERR(fcntl(b, F_OFD_SETLK, &fl), EAGAIN);
	close(a);
	CHECK_OK(fcntl(b, F_OFD_SETLK, &fl));
	close(b);
	ok("OFD locks: per open file, conflict with classic locks, l_pid -1");
}

static int flock_ex_nb(int fd) { return flock(fd, LOCK_EX | LOCK_NB) == 0 ? 0 : errno; }

static void test_flock(void)
{
	const char *path = tpath("fl");
	int a = (int)CHECK_OK(open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600));
	int b = (int)CHECK_OK(open(path, O_RDONLY | O_CLOEXEC));

	CHECK_OK(flock(a, LOCK_SH | LOCK_NB));
	CHECK_OK(flock(b, LOCK_SH | LOCK_NB));
	CHECK_ERR(flock(b, LOCK_EX | LOCK_NB), EWOULDBLOCK);
	CHECK_OK(flock(a, LOCK_UN));
	CHECK_OK(flock(b, LOCK_EX | LOCK_NB));
	CHECK_ERR(flock(a, LOCK_SH | LOCK_NB), EWOULDBLOCK);
	CHECK_ERR(flock(a, 0), EINVAL);
	CHECK_ERR(flock(77, LOCK_SH), EBADF);
	/* a forked child shares the open file, so the lock too */
	CHECK(run(flock_ex_nb, b) == 0, "the child's fd is the same open file");
	CHECK(run(flock_ex_nb, a) == EWOULDBLOCK, "another open file conflicts");
	/* flock and fcntl locks are independent */
	CHECK_OK(lk(a, F_SETLK, F_WRLCK, 0, 0));
	close(b);
	CHECK_OK(flock(a, LOCK_EX | LOCK_NB));
	close(a);
	ok("flock: shared/exclusive, LOCK_NB, per open file, independent of fcntl locks");
}

int main(void)
{
	test_matrix();
	test_wait_and_deadlock();
	test_eintr();
	test_ofd();
	test_flock();
	return 0;
}
