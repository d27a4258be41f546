/* eintr.c: interrupted system calls: EINTR without SA_RESTART, transparent restart with it,
 * always-EINTR calls (nanosleep, poll, select, pause), ignored signals and stop/continue. */
#include "sc.h"

#include <poll.h>
#include <sys/select.h>

static volatile int hits;
static void on_sig(int sig)
{
	hits++;
}

/*
 * With a pipe, the pinger sends SIGUSR1 every 5 ms, 20 times, then writes 'd' to it: some
 * signals land while we block, and the data comes after them. Without one (wfd < 0), it keeps
 * signalling for 2 s, until finish() kills it: one lands while we block, however slow we are.
 */
static pid_t start_pinger(int wfd)
{
	return pinger(getpid(), SIGUSR1, 5, wfd < 0 ? 400 : 20, wfd, 'd');
}

static void finish(pid_t p)
{
	kill(p, SIGKILL);
	sc_wait(p);
}

static void test_read(void)
{
	int p[2];
	char c = 0;

	CHECK_OK(pipe(p));
	set_handler(SIGUSR1, (void *)on_sig, 0);
	hits = 0;
	pid_t pg = start_pinger(-1);
	errno = 0;
	CHECK(read(p[0], &c, 1) == -1 && errno == EINTR, "read without SA_RESTART: EINTR");
	CHECK(hits >= 1, "handler ran");
	finish(pg);

	set_handler(SIGUSR1, (void *)on_sig, SA_RESTART);
	hits = 0;
	pg = start_pinger(p[1]);
	CHECK(read(p[0], &c, 1) == 1 && c == 'd', "read with SA_RESTART restarts until data");
	CHECK(hits >= 1, "signals were handled during the read");
	expect_exit(pg, 0);
	close(p[0]);
	close(p[1]);
	ok("read on a pipe: EINTR without SA_RESTART, restarted with it");
}

static void test_wait(void)
{
	int p[2];

	CHECK_OK(pipe(p));
	pid_t child = sc_fork();
	if (child == 0) {
		char c;
		close(p[1]);
		(void)!read(p[0], &c, 1);
		_exit(7);
	}
	close(p[0]);
	set_handler(SIGUSR1, (void *)on_sig, 0);
	pid_t pg = start_pinger(-1);
	int st;
	CHECK(waitpid(child, &st, 0) == -1 && errno == EINTR, "waitpid without SA_RESTART: EINTR");
	finish(pg);
	set_handler(SIGUSR1, (void *)on_sig, SA_RESTART);
	pg = pinger(getpid(), SIGUSR1, 5, 20, p[1], 'x');
	CHECK(waitpid(child, &st, 0) == child && WEXITSTATUS(st) == 7,
	      "waitpid with SA_RESTART restarts");
	expect_exit(pg, 0);
	close(p[1]);
	ok("waitpid: EINTR without SA_RESTART, restarted with it");
}

static void test_always_eintr(void)
{
	int p[2];

	CHECK_OK(pipe(p));
	set_handler(SIGUSR1, (void *)on_sig, SA_RESTART);

	pid_t pg = start_pinger(-1);
	struct timespec ts = { 30, 0 }, rem = { 0, 0 };
	CHECK(nanosleep(&ts, &rem) == -1 && errno == EINTR, "nanosleep: EINTR despite SA_RESTART");
	CHECK(rem.tv_sec > 20 && rem.tv_sec <= 30, "remaining time reported: %ld",
	      (long)rem.tv_sec);
	finish(pg);

	pg = start_pinger(-1);
	struct pollfd pfd = { .fd = p[0], .events = POLLIN };
	CHECK(poll(&pfd, 1, 30000) == -1 && errno == EINTR, "poll: EINTR despite SA_RESTART");
	finish(pg);

	pg = start_pinger(-1);
	fd_set rs;
	FD_ZERO(&rs);
	FD_SET(p[0], &rs);
	struct timeval tv = { 30, 0 };
	CHECK(select(p[0] + 1, &rs, NULL, NULL, &tv) == -1 && errno == EINTR, "select: EINTR");
	finish(pg);

	pg = start_pinger(-1);
	CHECK(pause() == -1 && errno == EINTR, "pause: EINTR");
	finish(pg);
	close(p[0]);
	close(p[1]);
	ok("nanosleep (with the time left), poll, select, pause: EINTR even with SA_RESTART");
}

static void test_not_interrupted(void)
{
	int p[2];
	char c = 0;

	CHECK_OK(pipe(p));
	/* An ignored signal does not interrupt. */
	set_disposition(SIGUSR1, SIG_IGN);
	pid_t pg = start_pinger(p[1]);
	CHECK(read(p[0], &c, 1) == 1 && c == 'd', "ignored signals do not interrupt read");
	expect_exit(pg, 0);
	/* Nor does a default-ignored one (SIGWINCH), nor a blocked one. */
	pg = pinger(getpid(), SIGWINCH, 5, 20, p[1], 'w');
	CHECK(read(p[0], &c, 1) == 1 && c == 'w', "SIGWINCH does not interrupt");
	expect_exit(pg, 0);
	set_handler(SIGUSR1, (void *)on_sig, 0);
	block(SIGUSR1);
	hits = 0;
	pg = start_pinger(p[1]);
	CHECK(read(p[0], &c, 1) == 1 && c == 'd' && hits == 0, "blocked signals do not interrupt");
	expect_exit(pg, 0);
	set_disposition(SIGUSR1, SIG_IGN); /* drop the pending one */
	unblock(SIGUSR1);

	/* Stop and continue, with no handler: the read resumes transparently. */
	int q[2];
	CHECK_OK(pipe(q));
	pid_t child = sc_fork();
	if (child == 0) {
		char d = 0;
		ssize_t r = read(p[0], &d, 1);
		_exit(r == 1 && d == 's' ? 0 : 1);
	}
	msleep(20);
	CHECK_OK(kill(child, SIGSTOP));
	int st;
	CHECK(waitpid(child, &st, WUNTRACED) == child && WIFSTOPPED(st), "stopped");
	CHECK_OK(kill(child, SIGCONT));
	CHECK(write(p[1], "s", 1) == 1, "write");
	expect_exit(child, 0);
	close(p[0]);
	close(p[1]);
	close(q[0]);
	close(q[1]);
	set_disposition(SIGUSR1, SIG_DFL);
	ok("ignored, default-ignored, blocked signals and stop/continue do not interrupt read");
}

int main(void)
{
	test_read();
	test_wait();
	test_always_eintr();
	test_not_interrupted();
	return 0;
}
