/* signalfd.c: signalfd/signalfd4: argument rules, reading blocked pending signals (kill,
 * sigqueue with its value, SIGCHLD with the child's status, thread-directed ones), several
 * records per read, EAGAIN, blocking reads woken by a signal from another process, mask
 * updates, poll and epoll readiness. */
#include "sc.h"

#include <poll.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>

static sigset_t set_of(int a, int b)
{
	sigset_t s;
	sigemptyset(&s);
	if (a)
		sigaddset(&s, a);
	if (b)
		sigaddset(&s, b);
	return s;
}

static void test_errors(void)
{
	sigset_t s = set_of(SIGUSR1, 0);
	int p[2];

	CHECK_ERR(syscall(SYS_signalfd4, -1, &s, 4, 0), EINVAL);
	CHECK_ERR(syscall(SYS_signalfd4, -1, &s, 8, 0x10), EINVAL);
	CHECK_ERR(syscall(SYS_signalfd4, -1, NULL, 8, 0), EFAULT);
	CHECK_ERR(signalfd(99, &s, 0), EBADF);
	CHECK_OK(pipe(p));
	CHECK_ERR(signalfd(p[0], &s, 0), EINVAL);
	int fd = (int)CHECK_OK(signalfd(-1, &s, SFD_CLOEXEC | SFD_NONBLOCK));
	CHECK(fcntl(fd, F_GETFD) == FD_CLOEXEC && (fcntl(fd, F_GETFL) & O_NONBLOCK), "flags");
	int plain = (int)CHECK_OK(syscall(SYS_signalfd, -1, &s, 8));
	CHECK(fcntl(plain, F_GETFD) == 0, "signalfd(): no flags");
	char small[64];
	CHECK_ERR(read(fd, small, sizeof(small)), EINVAL);
	struct signalfd_siginfo si;
	CHECK_ERR(read(fd, &si, sizeof(si)), EAGAIN);
	char link[64] = {0}, proc[32];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	CHECK(readlink(proc, link, sizeof(link) - 1) > 0 &&
		  strcmp(link, "anon_inode:[signalfd]") == 0,
	      "link %s", link);
	close(plain);
	close(fd);
	close(p[0]);
	close(p[1]);
	ok("signalfd: argument rules, flags, EAGAIN, the file's name");
}

static void test_reads(void)
{
	sigset_t s = set_of(SIGUSR1, SIGUSR2);
	struct signalfd_siginfo si[4];

	CHECK_OK(sigprocmask(SIG_BLOCK, &s, NULL));
	int fd = (int)CHECK_OK(signalfd(-1, &s, SFD_CLOEXEC | SFD_NONBLOCK));
	struct pollfd pf = {fd, POLLIN, 0};
	CHECK(poll(&pf, 1, 0) == 0, "nothing pending");
	CHECK_OK(kill(getpid(), SIGUSR2));
	CHECK_OK(kill(getpid(), SIGUSR1));
	CHECK(poll(&pf, 1, 0) == 1 && pf.revents == POLLIN, "readable");
	CHECK(read(fd, si, sizeof(si)) == 2 * (ssize_t)sizeof(si[0]), "two records");
	CHECK(si[0].ssi_signo == SIGUSR1 && si[1].ssi_signo == SIGUSR2, "lowest first");
	CHECK(si[0].ssi_code == SI_USER && si[0].ssi_pid == (uint32_t)getpid() &&
		  si[0].ssi_uid == getuid(),
	      "kill's sender");
	CHECK(poll(&pf, 1, 0) == 0, "consumed");
	sigset_t pend;
	CHECK_OK(sigpending(&pend));
	CHECK(!sigismember(&pend, SIGUSR1), "no longer pending");

	/* sigqueue: real-time signals queue, with their value */
	sigset_t rt = set_of(SIGRTMIN, 0);
	CHECK_OK(sigprocmask(SIG_BLOCK, &rt, NULL));
	CHECK(signalfd(fd, &rt, 0) == fd, "mask update returns the fd");
	CHECK_OK(sigqueue(getpid(), SIGRTMIN, (union sigval){.sival_int = 42}));
	CHECK_OK(sigqueue(getpid(), SIGRTMIN, (union sigval){.sival_int = 43}));
	CHECK_OK(kill(getpid(), SIGUSR1)); /* no longer in the mask */
	CHECK(read(fd, si, sizeof(si)) == 2 * (ssize_t)sizeof(si[0]), "two queued");
	CHECK(si[0].ssi_signo == (uint32_t)SIGRTMIN && si[0].ssi_code == SI_QUEUE &&
		  si[0].ssi_int == 42 && si[1].ssi_int == 43,
	      "values in order");
	CHECK_OK(sigpending(&pend));
	CHECK(sigismember(&pend, SIGUSR1), "SIGUSR1 left pending");
	CHECK(signalfd(fd, &s, 0) == fd, "mask back");
	CHECK(read(fd, si, sizeof(si)) == sizeof(si[0]) && si[0].ssi_signo == SIGUSR1, "now read");

	/* a thread-directed signal */
	CHECK_OK(syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), SIGUSR2));
	CHECK(read(fd, si, sizeof(si)) == sizeof(si[0]) && si[0].ssi_signo == SIGUSR2 &&
		  si[0].ssi_code == SI_TKILL,
	      "tgkill");
	close(fd);
	CHECK_OK(sigprocmask(SIG_UNBLOCK, &rt, NULL));
	CHECK_OK(sigprocmask(SIG_UNBLOCK, &s, NULL));
	ok("signalfd: kill, sigqueue values, several per read, mask updates, tgkill");
}

static void test_sigchld(void)
{
	sigset_t s = set_of(SIGCHLD, 0);
	struct signalfd_siginfo si;

	CHECK_OK(sigprocmask(SIG_BLOCK, &s, NULL));
	int fd = (int)CHECK_OK(signalfd(-1, &s, SFD_CLOEXEC));
	pid_t pid = sc_fork();
	if (pid == 0)
		_exit(3);
	CHECK(read(fd, &si, sizeof(si)) == sizeof(si), "blocking read");
	CHECK(si.ssi_signo == SIGCHLD && si.ssi_code == CLD_EXITED && si.ssi_status == 3 &&
		  si.ssi_pid == (uint32_t)pid,
	      "the child's exit");
	expect_exit(pid, 3);
	close(fd);
	CHECK_OK(sigprocmask(SIG_UNBLOCK, &s, NULL));
	ok("signalfd: SIGCHLD with the child's pid and status");
}

static void test_wakeups(void)
{
	sigset_t s = set_of(SIGUSR1, 0);
	struct signalfd_siginfo si;

	CHECK_OK(sigprocmask(SIG_BLOCK, &s, NULL));
	int fd = (int)CHECK_OK(signalfd(-1, &s, SFD_CLOEXEC));
	int ep = (int)CHECK_OK(epoll_create1(EPOLL_CLOEXEC));
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 5};
	CHECK_OK(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev));
	CHECK(epoll_wait(ep, &ev, 1, 0) == 0, "nothing");

	/* a blocked read, woken by another process's kill */
	pid_t pid = pinger(getpid(), SIGUSR1, 50, 1, -1, 0);
	CHECK(read(fd, &si, sizeof(si)) == sizeof(si) && si.ssi_signo == SIGUSR1, "woken read");
	expect_exit(pid, 0);
	/* a blocked epoll_wait, the same */
	pid = pinger(getpid(), SIGUSR1, 50, 1, -1, 0);
	CHECK(epoll_wait(ep, &ev, 1, 5000) == 1 && ev.data.u64 == 5, "woken epoll_wait");
	CHECK(read(fd, &si, sizeof(si)) == sizeof(si), "read it");
	CHECK(epoll_wait(ep, &ev, 1, 0) == 0, "consumed");
	expect_exit(pid, 0);
	close(ep);
	close(fd);
	CHECK_OK(sigprocmask(SIG_UNBLOCK, &s, NULL));
	ok("signalfd: blocking read and epoll woken by a signal");
}

int main(void)
{
	test_errors();
	test_reads();
	test_sigchld();
	test_wakeups();
	return 0;
}
