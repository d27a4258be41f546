/* pidfd.c: pidfd_open and pidfd_send_signal: argument rules, readiness on exit (poll and
 * epoll: EPOLLIN for a zombie, EPOLLHUP too once reaped), signals through a pidfd (with and
 * without a siginfo, the permission rule for a forged one), ESRCH after the reap. */
#include "sc.h"

#include <poll.h>
#include <pthread.h>
#include <sys/epoll.h>

#ifndef PIDFD_NONBLOCK
#define PIDFD_NONBLOCK O_NONBLOCK
#endif

static int pidfd_open(pid_t pid, unsigned flags)
{
	return (int)syscall(SYS_pidfd_open, pid, flags);
}

static int pidfd_send_signal(int fd, int sig, siginfo_t *info, unsigned flags)
{
	return (int)syscall(SYS_pidfd_send_signal, fd, sig, info, flags);
}

static short revents(int fd)
{
	struct pollfd p = {fd, POLLIN, 0};
	CHECK(poll(&p, 1, 0) >= 0, "poll");
	return p.revents;
}

static volatile pid_t g_tid;
static void *thread_main(void *arg)
{
	(void)arg;
	g_tid = (pid_t)syscall(SYS_gettid);
	msleep(200);
	return NULL;
}

static void test_open(void)
{
	CHECK_ERR(pidfd_open(getpid(), 0x1), EINVAL);
	CHECK_ERR(pidfd_open(0, 0), EINVAL);
	CHECK_ERR(pidfd_open(-1, 0), EINVAL);
	CHECK_ERR(pidfd_open(4000000, 0), ESRCH);
	int fd = (int)CHECK_OK(pidfd_open(getpid(), 0));
	CHECK(fcntl(fd, F_GETFD) == FD_CLOEXEC, "always close-on-exec");
	CHECK(revents(fd) == 0, "a live process: not ready");
	char c;
	CHECK_ERR(read(fd, &c, 1), EINVAL);
	int nb = (int)CHECK_OK(pidfd_open(getpid(), PIDFD_NONBLOCK));
	CHECK(fcntl(nb, F_GETFL) & O_NONBLOCK, "PIDFD_NONBLOCK");
	close(nb);

	/* a thread that is not the leader names no process */
	pthread_t th;
	CHECK(pthread_create(&th, NULL, thread_main, NULL) == 0, "pthread_create");
	while (!g_tid)
		msleep(1);
	CHECK_ERR(pidfd_open(g_tid, 0), ENOENT);
	pthread_join(th, NULL);
	close(fd);
	ok("pidfd: pidfd_open's rules, close-on-exec, a live process is not ready");
}

static void test_exit(void)
{
	int p[2];

	CHECK_OK(pipe(p));
	pid_t pid = sc_fork();
	if (pid == 0) {
		char c;
		close(p[1]);
		(void)!read(p[0], &c, 1); /* until the parent says */
		_exit(7);
	}
	close(p[0]);
	int fd = (int)CHECK_OK(pidfd_open(pid, 0));
	int ep = (int)CHECK_OK(epoll_create1(EPOLL_CLOEXEC));
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 9};
	CHECK_OK(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev));
	CHECK(revents(fd) == 0 && epoll_wait(ep, &ev, 1, 0) == 0, "alive: not ready");
	close(p[1]); /* the child exits */
	CHECK(epoll_wait(ep, &ev, 1, 5000) == 1 && ev.data.u64 == 9 && ev.events == EPOLLIN,
	      "epoll woken by the exit: %#x", ev.events);
	CHECK(revents(fd) == POLLIN, "a zombie: POLLIN");
	CHECK_OK(pidfd_send_signal(fd, 0, NULL, 0)); /* a zombie still exists */
	expect_exit(pid, 7);
	CHECK(revents(fd) == (POLLIN | POLLHUP), "reaped: POLLIN|POLLHUP %#x", revents(fd));
	CHECK_ERR(pidfd_send_signal(fd, SIGTERM, NULL, 0), ESRCH);
	close(ep);
	close(fd);

	/* a poll blocked on a pidfd */
	pid = sc_fork();
	if (pid == 0) {
		msleep(50);
		_exit(0);
	}
	fd = (int)CHECK_OK(pidfd_open(pid, 0));
	struct pollfd pf = {fd, POLLIN, 0};
	CHECK(poll(&pf, 1, 5000) == 1 && pf.revents == POLLIN, "poll woken by the exit");
	expect_exit(pid, 0);
	close(fd);
	ok("pidfd: ready at exit (poll, epoll), hang-up once reaped, ESRCH after");
}

static volatile sig_atomic_t g_value;
static void on_usr1(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	g_value = si->si_code == SI_QUEUE ? si->si_value.sival_int : -1;
}

static void test_signal(void)
{
	int p[2];

	CHECK_OK(pipe(p));
	pid_t pid = sc_fork();
	if (pid == 0) {
		pause();
		_exit(0);
	}
	int fd = (int)CHECK_OK(pidfd_open(pid, 0));
	CHECK_ERR(pidfd_send_signal(fd, SIGTERM, NULL, 0x100), EINVAL);
	CHECK_ERR(pidfd_send_signal(p[0], SIGTERM, NULL, 0), EBADF);
	CHECK_ERR(pidfd_send_signal(99, SIGTERM, NULL, 0), EBADF);
	CHECK_ERR(pidfd_send_signal(fd, 99, NULL, 0), EINVAL);
	CHECK_OK(pidfd_send_signal(fd, 0, NULL, 0));
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	si.si_signo = SIGUSR1;
	si.si_code = SI_QUEUE;
	CHECK_ERR(pidfd_send_signal(fd, SIGTERM, &si, 0), EINVAL); /* signo mismatch */
	si.si_signo = SIGTERM;
	si.si_code = SI_USER;
	CHECK_ERR(pidfd_send_signal(fd, SIGTERM, &si, 0), EPERM); /* forged, to another */
	CHECK_OK(pidfd_send_signal(fd, SIGTERM, NULL, 0));
	expect_killed(pid, SIGTERM);
	close(fd);

	/* to oneself, a siginfo of one's choosing goes through */
	set_handler(SIGUSR1, on_usr1, SA_SIGINFO);
	fd = (int)CHECK_OK(pidfd_open(getpid(), 0));
	memset(&si, 0, sizeof(si));
	si.si_signo = SIGUSR1;
	si.si_code = SI_QUEUE;
	si.si_value.sival_int = 1234;
	CHECK_OK(pidfd_send_signal(fd, SIGUSR1, &si, 0));
	CHECK(g_value == 1234, "the handler got the value: %d", (int)g_value);
	set_disposition(SIGUSR1, SIG_DFL);
	close(fd);
	close(p[0]);
	close(p[1]);
	ok("pidfd: pidfd_send_signal's rules, killing a child, a siginfo to oneself");
}

int main(void)
{
	test_open();
	test_exit();
	test_signal();
	return 0;
}
