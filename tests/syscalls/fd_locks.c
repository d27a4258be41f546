/* fd_locks.c: fcntl record locks between processes (F_SETLK, F_SETLKW, F_GETLK, F_OFD_*),
 * their release rules, and flock(2). */
#include "sc.h"

#include <sys/file.h>

static int lock(int fd, int cmd, short type, off_t start, off_t len)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len };

	return fcntl(fd, cmd, &fl);
}

/* getlk(fd, type, start, len, &fl): F_GETLK for that range; fl gets the answer. */
static void getlk(int fd, short type, off_t start, off_t len, struct flock *fl)
{
	memset(fl, 0, sizeof(*fl));
	fl->l_type = type;
	fl->l_whence = SEEK_SET;
	fl->l_start = start;
	fl->l_len = len;
	CHECK_OK(fcntl(fd, F_GETLK, fl));
}

/* In a child: run fn(fd) on a fresh fd of path and return its exit status. */
static int child_run(const char *path, int (*fn)(int))
{
	pid_t pid = sc_fork();

	if (pid == 0) {
		int fd = open(path, O_RDWR);
		_exit(fd < 0 ? 100 : fn(fd));
	}
	int st = sc_wait(pid);
	CHECK(WIFEXITED(st), "child status %#x", st);
	return WEXITSTATUS(st);
}

static pid_t parent_pid;

static int c_conflicts(int fd)
{
	struct flock fl;
	int r = 0;

	/* Overlapping write and read locks conflict with the parent's write lock on [0,100). */
	if (!(lock(fd, F_SETLK, F_WRLCK, 50, 10) == -1 && (errno == EAGAIN || errno == EACCES)))
		r |= 1;
	if (!(lock(fd, F_SETLK, F_RDLCK, 99, 1) == -1 && errno == EAGAIN))
		r |= 2;
	/* Outside it is free. */
	if (lock(fd, F_SETLK, F_WRLCK, 100, 50) != 0)
		r |= 4;
	getlk(fd, F_WRLCK, 0, 0, &fl);
	if (!(fl.l_type == F_WRLCK && fl.l_pid == parent_pid && fl.l_start == 0 && fl.l_len == 100))
		r |= 8;
	getlk(fd, F_WRLCK, 200, 10, &fl);
	if (fl.l_type != F_UNLCK)
		r |= 16;
	return r;
}

static int c_readers(int fd)
{
	/* The parent holds a read lock: another read lock is fine, a write lock is not. */
	if (lock(fd, F_SETLK, F_RDLCK, 0, 10) != 0)
		return 1;
	if (!(lock(fd, F_SETLK, F_WRLCK, 5, 1) == -1 && errno == EAGAIN))
		return 2;
	return 0;
}

static int c_free(int fd)
{
	return lock(fd, F_SETLK, F_WRLCK, 0, 0) == 0 ? 0 : 1;
}

static void test_conflicts(void)
{
	const char *path = tpath("locks");
	write_file(path, "", 0644);
	int fd = (int)CHECK_OK(open(path, O_RDWR));
	parent_pid = getpid();

	CHECK_OK(lock(fd, F_SETLK, F_WRLCK, 0, 100));
	/* Our own locks never conflict with us; F_GETLK says so. */
	struct flock fl;
	getlk(fd, F_WRLCK, 0, 10, &fl);
	CHECK(fl.l_type == F_UNLCK, "own lock is no conflict");
	CHECK_OK(lock(fd, F_SETLK, F_RDLCK, 0, 10)); /* downgrade part of it */
	CHECK_OK(lock(fd, F_SETLK, F_WRLCK, 0, 10)); /* and upgrade back */
	int r = child_run(path, c_conflicts);
	CHECK(r == 0, "conflicts seen by another process: %#x", r);
	CHECK_OK(lock(fd, F_SETLK, F_UNLCK, 0, 0));
	CHECK_OK(lock(fd, F_SETLK, F_RDLCK, 0, 0));
	CHECK(child_run(path, c_readers) == 0, "read locks are shared");
	CHECK_OK(lock(fd, F_SETLK, F_UNLCK, 0, 0));
	CHECK(child_run(path, c_free) == 0, "free after unlock");

	/* Closing any fd of the file drops the process's locks (POSIX). */
	CHECK_OK(lock(fd, F_SETLK, F_WRLCK, 0, 0));
	int other = (int)CHECK_OK(open(path, O_RDONLY));
	close(other);
	CHECK(child_run(path, c_free) == 0, "closing another fd of the file released the lock");
	close(fd);
	ok("F_SETLK/F_GETLK: write and read locks between processes, ranges, l_pid, close rule");

	/* Lock type must match the open mode. */
	int ro = (int)CHECK_OK(open(path, O_RDONLY));
	CHECK(lock(ro, F_SETLK, F_WRLCK, 0, 1) == -1 && errno == EBADF, "write lock on O_RDONLY");
	close(ro);
	int wo = (int)CHECK_OK(open(path, O_WRONLY));
	CHECK(lock(wo, F_SETLK, F_RDLCK, 0, 1) == -1 && errno == EBADF, "read lock on O_WRONLY");
	CHECK(lock(wo, F_SETLK, 99, 0, 1) == -1 && errno == EINVAL, "bad type");
	close(wo);
	ok("record lock errors: EBADF for the wrong open mode, EINVAL");
}

static void test_setlkw(void)
{
	const char *path = tpath("lkw");
	write_file(path, "", 0644);
	int fd = (int)CHECK_OK(open(path, O_RDWR));
	int p[2];

	CHECK_OK(pipe(p));
	CHECK_OK(lock(fd, F_SETLK, F_WRLCK, 0, 0));
	pid_t pid = sc_fork();
	if (pid == 0) {
		int cfd = open(path, O_RDWR);
		/* Blocks until the parent unlocks. */
		int r = lock(cfd, F_SETLKW, F_WRLCK, 0, 0);
		(void)!write(p[1], "L", 1);
		_exit(r == 0 ? 0 : 1);
	}
	msleep(30);
	char c;
	CHECK_OK(fcntl(p[0], F_SETFL, O_NONBLOCK));
	CHECK(read(p[0], &c, 1) == -1 && errno == EAGAIN, "the child is still waiting");
	CHECK_OK(fcntl(p[0], F_SETFL, 0));
	CHECK_OK(lock(fd, F_SETLK, F_UNLCK, 0, 0));
	CHECK(read(p[0], &c, 1) == 1 && c == 'L', "the child got the lock after the unlock");
	expect_exit(pid, 0);
	/* The child's exit released its lock. */
	CHECK_OK(lock(fd, F_SETLK, F_WRLCK, 0, 0));
	close(fd);
	close(p[0]);
	close(p[1]);
	ok("F_SETLKW blocks until the holder unlocks; exit releases locks");
}

static void test_fork_not_inherited(void)
{
	const char *path = tpath("inh");
	write_file(path, "", 0644);
	int fd = (int)CHECK_OK(open(path, O_RDWR));

	CHECK_OK(lock(fd, F_SETLK, F_WRLCK, 0, 0));
	pid_t pid = sc_fork();
	if (pid == 0) {
		/* Same fd, but the lock belongs to the parent process. */
		_exit(lock(fd, F_SETLK, F_WRLCK, 0, 0) == -1 && errno == EAGAIN ? 0 : 1);
	}
	expect_exit(pid, 0);
	close(fd);
	ok("record locks are not inherited by fork");
}

static void test_ofd(void)
{
	const char *path = tpath("ofd");
	write_file(path, "", 0644);
	int a = (int)CHECK_OK(open(path, O_RDWR));
	int b = (int)CHECK_OK(open(path, O_RDWR));
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };

	CHECK_OK(fcntl(a, F_OFD_SETLK, &fl));
	/* Open file description locks conflict between descriptions, even in one process. */
	CHECK(fcntl(b, F_OFD_SETLK, &fl) == -1 && errno == EAGAIN, "OFD conflict");
	struct flock q = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	CHECK_OK(fcntl(b, F_OFD_GETLK, &q));
	CHECK(q.l_type == F_WRLCK && q.l_pid == -1, "F_OFD_GETLK: l_pid -1");
	int d = dup(a);
	close(d); /* closing a dup does not drop an OFD lock */
	CHECK(fcntl(b, F_OFD_SETLK, &fl) == -1 && errno == EAGAIN, "still held");
	close(a);
	CHECK_OK(fcntl(b, F_OFD_SETLK, &fl));
	fl.l_pid = 1;
	CHECK(fcntl(b, F_OFD_SETLK, &fl) == -1 && errno == EINVAL, "l_pid must be 0");
	close(b);
	ok("F_OFD_SETLK/GETLK: per open file description, survive closing a dup");
}

static void test_flock(void)
{
	const char *path = tpath("flock");
	write_file(path, "", 0644);
	int a = (int)CHECK_OK(open(path, O_RDONLY));
	int b = (int)CHECK_OK(open(path, O_RDONLY));

	CHECK_OK(flock(a, LOCK_EX));
	CHECK(flock(b, LOCK_EX | LOCK_NB) == -1 && errno == EWOULDBLOCK, "LOCK_EX conflict");
	CHECK(flock(b, LOCK_SH | LOCK_NB) == -1 && errno == EWOULDBLOCK, "LOCK_SH vs LOCK_EX");
	CHECK_OK(flock(a, LOCK_SH)); /* convert */
	CHECK_OK(flock(b, LOCK_SH | LOCK_NB));
	CHECK_OK(flock(a, LOCK_UN));
	CHECK_OK(flock(b, LOCK_UN));
	/* A fork child shares the description, hence the lock. */
	CHECK_OK(flock(a, LOCK_EX));
	pid_t pid = sc_fork();
	if (pid == 0) {
		int same = flock(a, LOCK_EX | LOCK_NB) == 0;
		int other = open(path, O_RDONLY);
		int blocked = flock(other, LOCK_EX | LOCK_NB) == -1 && errno == EWOULDBLOCK;
		_exit(same && blocked ? 0 : 1);
	}
	expect_exit(pid, 0);
	close(a); /* last reference: released */
	CHECK_OK(flock(b, LOCK_EX | LOCK_NB));
	CHECK_ERR(flock(b, 0x40), EINVAL);
	CHECK_ERR(flock(999, LOCK_EX), EBADF);
	close(b);
	ok("flock: LOCK_EX/LOCK_SH/LOCK_NB/LOCK_UN, shared through fork, released at last close");
}

int main(void)
{
	test_conflicts();
	test_setlkw();
	test_fork_not_inherited();
	test_ofd();
	test_flock();
	return 0;
}
