/* poll.c: poll, ppoll, select, pselect6 on pipes and files: readiness, POLLNVAL/EBADF,
 * POLLHUP/POLLERR, timeouts (and their write-back), a wake-up from another process, EINTR from
 * a handler (never restarted, SA_RESTART or not), ppoll's temporary signal mask. */
#include "sc.h"

#include <poll.h>
#include <sys/select.h>

static void test_readiness(void)
{
	int p[2];
	int f = (int)CHECK_OK(open(tpath("file"), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
	struct pollfd fds[4];

	CHECK_OK(pipe(p));
	fds[0] = (struct pollfd){p[0], POLLIN, 0};
	fds[1] = (struct pollfd){p[1], POLLOUT, 0};
	fds[2] = (struct pollfd){f, POLLIN | POLLOUT, 0};
	fds[3] = (struct pollfd){99, POLLIN, 0};
	CHECK(poll(fds, 4, 0) == 3, "three ready");
	CHECK(fds[0].revents == 0 && fds[1].revents == POLLOUT, "pipe ends");
	CHECK(fds[2].revents == (POLLIN | POLLOUT), "a file is always ready");
	CHECK(fds[3].revents == POLLNVAL, "bad fd");
	fds[3].fd = -5;
	CHECK(poll(fds, 4, 0) == 2 && fds[3].revents == 0, "negative fd ignored");
	CHECK_ERR(syscall(SYS_poll, 8, 1, 0), EFAULT);
	struct rlimit rl;
	CHECK_OK(getrlimit(RLIMIT_NOFILE, &rl));
	CHECK_ERR(poll(fds, (nfds_t)rl.rlim_cur + 1, 0), EINVAL);

	/* select on the same */
	fd_set r, w;
	FD_ZERO(&r);
	FD_ZERO(&w);
	FD_SET(p[0], &r);
	FD_SET(p[1], &w);
	FD_SET(f, &r);
	int nfds = (f > p[1] ? f : p[1]) + 1;
	CHECK(select(nfds, &r, &w, NULL, &(struct timeval){0, 0}) == 2, "select counts");
	CHECK(!FD_ISSET(p[0], &r) && FD_ISSET(f, &r) && FD_ISSET(p[1], &w), "select sets");
	/* (below 64: Linux looks no further than its fd table, at least 64 slots) */
	FD_ZERO(&r);
	FD_SET(60, &r);
	CHECK_ERR(select(61, &r, NULL, NULL, &(struct timeval){0, 0}), EBADF);
	CHECK_ERR(select(-1, NULL, NULL, NULL, &(struct timeval){0, 0}), EINVAL);
	CHECK_ERR(select(1, NULL, NULL, NULL, &(struct timeval){0, -1}), EINVAL);
	CHECK_ERR(select(1, NULL, NULL, NULL, &(struct timeval){-1, 0}), EINVAL);

	/* data, then HUP; a write end without readers: POLLERR */
	CHECK(write(p[1], "x", 1) == 1, "write");
	CHECK(poll(fds, 1, 0) == 1 && fds[0].revents == POLLIN, "POLLIN");
	CHECK_OK(close(p[1]));
	CHECK(poll(fds, 1, 0) == 1 && fds[0].revents == (POLLIN | POLLHUP), "POLLIN|POLLHUP");
	char c;
	CHECK(read(p[0], &c, 1) == 1, "read");
	CHECK(poll(fds, 1, 0) == 1 && fds[0].revents == POLLHUP, "POLLHUP");
	FD_ZERO(&r);
	FD_SET(p[0], &r);
	CHECK(select(p[0] + 1, &r, NULL, NULL, NULL) == 1, "EOF is readable for select");
	CHECK_OK(close(p[0]));
	CHECK_OK(pipe(p));
	CHECK_OK(close(p[0]));
	fds[1].fd = p[1];
	CHECK(poll(&fds[1], 1, 0) == 1 && fds[1].revents == (POLLOUT | POLLERR), "POLLERR");
	CHECK_OK(close(p[1]));
	close(f);
	ok("poll/select: pipes, files, POLLNVAL, EBADF, EINVAL, POLLHUP, POLLERR");
}

static long elapsed_since(long t0) { return now_ms() - t0; }

static void test_timeouts(void)
{
	int p[2];
	CHECK_OK(pipe(p));
	struct pollfd pf = {p[0], POLLIN, 0};

	long t0 = now_ms();
	CHECK(poll(&pf, 1, 50) == 0, "poll times out");
	CHECK(elapsed_since(t0) >= 45, "poll waited");

	struct timespec ts = {0, 40 * 1000000L};
	/* glibc's ppoll passes a copy: the raw call shows the kernel's write-back */
	CHECK(syscall(SYS_ppoll, &pf, 1, &ts, NULL, 8) == 0, "ppoll times out");
	CHECK(ts.tv_sec == 0 && ts.tv_nsec == 0, "ppoll wrote back 0");
	ts = (struct timespec){0, 1000000000L};
	CHECK_ERR(ppoll(&pf, 1, &ts, NULL), EINVAL);

	fd_set r;
	FD_ZERO(&r);
	FD_SET(p[0], &r);
	struct timeval tv = {0, 40000};
	CHECK(select(p[0] + 1, &r, NULL, NULL, &tv) == 0, "select times out");
	CHECK(tv.tv_sec == 0 && tv.tv_usec == 0, "select wrote back 0");
	CHECK(!FD_ISSET(p[0], &r), "set cleared");
	/* tv_usec over a second is folded into tv_sec */
	CHECK(write(p[1], "x", 1) == 1, "write");
	FD_SET(p[0], &r);
	tv = (struct timeval){0, 2500000};
	CHECK(select(p[0] + 1, &r, NULL, NULL, &tv) == 1, "ready at once");
	CHECK(tv.tv_sec == 2 && tv.tv_usec > 400000, "time left %ld.%06ld", (long)tv.tv_sec,
	      (long)tv.tv_usec);

	struct timespec pts = {0, 30 * 1000000L};
	FD_ZERO(&r);
	char c;
	CHECK(read(p[0], &c, 1) == 1, "drain");
	FD_SET(p[0], &r);
	CHECK(pselect(p[0] + 1, &r, NULL, NULL, &pts, NULL) == 0, "pselect times out");
	/* glibc's pselect passes a copy: the caller's timespec is left alone */
	CHECK(pts.tv_nsec == 30 * 1000000L, "pselect's timespec is the caller's");
	FD_SET(p[0], &r);
	long rv = syscall(SYS_pselect6, p[0] + 1, &r, NULL, NULL, &pts, NULL);
	CHECK(rv == 0 && pts.tv_sec == 0 && pts.tv_nsec == 0, "raw pselect6 wrote back 0");
	close(p[0]);
	close(p[1]);
	ok("poll/ppoll/select/pselect6: timeouts and their write-back");
}

static void test_wakeup(void)
{
	int p[2];
	CHECK_OK(pipe(p));
	pid_t pid = sc_fork();
	if (pid == 0) {
		msleep(40);
		CHECK(write(p[1], "w", 1) == 1, "child write");
		_exit(0);
	}
	struct pollfd pf = {p[0], POLLIN, 0};
	CHECK(poll(&pf, 1, 5000) == 1 && pf.revents == POLLIN, "woken by the child");
	expect_exit(pid, 0);
	char c;
	CHECK(read(p[0], &c, 1) == 1, "read");
	pid = sc_fork();
	if (pid == 0) {
		msleep(40);
		CHECK(write(p[1], "w", 1) == 1, "child write");
		_exit(0);
	}
	fd_set r;
	FD_ZERO(&r);
	FD_SET(p[0], &r);
	CHECK(select(p[0] + 1, &r, NULL, NULL, NULL) == 1, "select woken");
	expect_exit(pid, 0);
	close(p[0]);
	close(p[1]);
	ok("poll/select: woken by a write from another process");
}

static volatile int hits;
static void on_usr1(int sig) { hits++; }

static void test_eintr(void)
{
	int p[2];
	CHECK_OK(pipe(p));
	struct pollfd pf = {p[0], POLLIN, 0};

	/* SA_RESTART does not restart poll or select */
	set_handler(SIGUSR1, (void *)on_usr1, SA_RESTART);
	pid_t pid = pinger(getpid(), SIGUSR1, 20, 1, -1, 0);
	CHECK_ERR(poll(&pf, 1, 5000), EINTR);
	sc_wait(pid);
	pid = pinger(getpid(), SIGUSR1, 20, 1, -1, 0);
	fd_set r;
	FD_ZERO(&r);
	FD_SET(p[0], &r);
	struct timeval tv = {5, 0};
	CHECK_ERR(select(p[0] + 1, &r, NULL, NULL, &tv), EINTR);
	CHECK(tv.tv_sec < 5, "time left written back on EINTR");
	sc_wait(pid);

	/* ppoll's mask: SIGUSR1 blocked outside, unblocked during the wait */
	block(SIGUSR1);
	hits = 0;
	pid = pinger(getpid(), SIGUSR1, 20, 1, -1, 0);
	sigset_t during;
	sigemptyset(&during);
	struct timespec ts = {5, 0};
	CHECK_ERR(ppoll(&pf, 1, &ts, &during), EINTR);
	CHECK(hits == 1, "the handler ran during ppoll");
	sigset_t now;
	CHECK_OK(sigprocmask(SIG_SETMASK, NULL, &now));
	CHECK(sigismember(&now, SIGUSR1), "the old mask is back");
	sc_wait(pid);
	/* not interrupted: the mask is restored too */
	ts = (struct timespec){0, 1000};
	sigaddset(&during, SIGUSR2);
	CHECK(ppoll(&pf, 1, &ts, &during) == 0, "timeout");
	CHECK_OK(sigprocmask(SIG_SETMASK, NULL, &now));
	CHECK(sigismember(&now, SIGUSR1) && !sigismember(&now, SIGUSR2), "mask restored");
	/* a pending blocked signal that the temporary mask unblocks ends ppoll at once */
	hits = 0;
	raise(SIGUSR1);
	sigemptyset(&during);
	ts = (struct timespec){5, 0};
	CHECK_ERR(ppoll(&pf, 1, &ts, &during), EINTR);
	CHECK(hits == 1, "delivered");
	CHECK_ERR(syscall(SYS_ppoll, &pf, 1, &ts, &during, 4), EINVAL);
	unblock(SIGUSR1);
	close(p[0]);
	close(p[1]);
	ok("poll/select/ppoll: EINTR despite SA_RESTART, ppoll's temporary mask");
}

int main(void)
{
	test_readiness();
	test_timeouts();
	test_wakeup();
	test_eintr();
	return 0;
}
