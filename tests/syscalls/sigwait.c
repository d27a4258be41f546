/* sigwait.c: sigsuspend, pause, rt_sigtimedwait (timeouts, EAGAIN, EINTR, siginfo). */
#include "sc.h"

static volatile int hits;
static void on_sig(int sig)
{
	hits++;
}

static void test_sigsuspend(void)
{
	sigset_t wait_mask, cur;

	set_handler(SIGUSR1, (void *)on_sig, 0);
	block(SIGUSR1);
	block(SIGHUP);
	hits = 0;
	pid_t p = pinger(getpid(), SIGUSR1, 20, 1, -1, 0);
	/* Atomically unblock SIGUSR1 (keep SIGHUP blocked) and wait. */
	sigprocmask(SIG_SETMASK, NULL, &wait_mask);
	sigdelset(&wait_mask, SIGUSR1);
	errno = 0;
	CHECK(sigsuspend(&wait_mask) == -1 && errno == EINTR, "sigsuspend returns -1/EINTR");
	CHECK(hits == 1, "the handler ran");
	sigprocmask(SIG_SETMASK, NULL, &cur);
	CHECK(sigismember(&cur, SIGUSR1) && sigismember(&cur, SIGHUP), "the old mask is back");
	expect_exit(p, 0);

	/* A signal already pending when sigsuspend unblocks it: returns at once. */
	raise(SIGUSR1);
	CHECK(hits == 1, "still blocked");
	CHECK(sigsuspend(&wait_mask) == -1 && errno == EINTR, "pending: immediate EINTR");
	CHECK(hits == 2, "handler ran");
	unblock(SIGUSR1);
	unblock(SIGHUP);
	ok("sigsuspend: atomic mask swap, EINTR after the handler, old mask restored");
}

static void test_pause(void)
{
	hits = 0;
	/* Repeated signals: one of them lands while we are in pause, however slow we are. */
	pid_t p = pinger(getpid(), SIGUSR1, 20, 50, -1, 0);
	CHECK(pause() == -1 && errno == EINTR, "pause returns -1/EINTR");
	CHECK(hits >= 1, "handler ran");
	kill(p, SIGKILL);
	sc_wait(p);
	ok("pause returns EINTR after a handler");
}

static void test_sigtimedwait(void)
{
	sigset_t set;
	siginfo_t si;
	struct timespec zero = { 0, 0 }, short_to = { 0, 30 * 1000000 };

	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGRTMIN);
	block(SIGUSR2);
	block(SIGRTMIN);

	CHECK_ERR(sigtimedwait(&set, &si, &zero), EAGAIN);
	long t0 = now_ms();
	CHECK_ERR(sigtimedwait(&set, &si, &short_to), EAGAIN);
	long el = now_ms() - t0;
	CHECK(el >= 25 && el < 5000, "waited about 30 ms: %ld", el);

	union sigval v = { .sival_int = 77 };
	CHECK_OK(sigqueue(getpid(), SIGRTMIN, v));
	memset(&si, 0, sizeof(si));
	CHECK(sigtimedwait(&set, &si, &zero) == SIGRTMIN, "pending signal returned");
	CHECK(si.si_signo == SIGRTMIN && si.si_code == SI_QUEUE && si.si_value.sival_int == 77 &&
		      si.si_pid == getpid(),
	      "siginfo from sigtimedwait");
	sigset_t pend;
	sigpending(&pend);
	CHECK(!sigismember(&pend, SIGRTMIN), "consumed");

	/* A signal that arrives while waiting (from another process). */
	pid_t p = pinger(getpid(), SIGUSR2, 20, 1, -1, 0);
	struct timespec long_to = { 10, 0 };
	memset(&si, 0, sizeof(si));
	CHECK(sigtimedwait(&set, &si, &long_to) == SIGUSR2, "signal during the wait");
	CHECK(si.si_code == SI_USER && si.si_pid == p, "sender pid in siginfo");
	expect_exit(p, 0);
	/* sigwaitinfo (no timeout), signal already pending. */
	raise(SIGUSR2);
	CHECK(sigwaitinfo(&set, NULL) == SIGUSR2, "sigwaitinfo");

	/* A handled signal outside the set interrupts the wait: EINTR. */
	set_handler(SIGUSR1, (void *)on_sig, 0);
	hits = 0;
	p = pinger(getpid(), SIGUSR1, 20, 50, -1, 0);
	CHECK_ERR(sigtimedwait(&set, &si, &long_to), EINTR);
	CHECK(hits >= 1, "handler ran");
	kill(p, SIGKILL);
	sc_wait(p);

	struct timespec bad = { 0, 1000000000 };
	CHECK_ERR(sigtimedwait(&set, &si, &bad), EINVAL);
	bad.tv_sec = -1;
	bad.tv_nsec = 0;
	CHECK_ERR(sigtimedwait(&set, &si, &bad), EINVAL);
	CHECK(raw(SYS_rt_sigtimedwait, (long)&set, 0, (long)&zero, 4, 0, 0) == -EINVAL,
	      "bad sigsetsize");
	unblock(SIGUSR2);
	unblock(SIGRTMIN);
	ok("rt_sigtimedwait: EAGAIN on timeout, siginfo, waits, EINTR, EINVAL");
}

static void test_sigwait_ignored(void)
{
	/* sigtimedwait picks up even a signal whose action is "ignore by default". */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	block(SIGCHLD);
	pid_t pid = sc_fork();
	if (pid == 0)
		_exit(3);
	siginfo_t si;
	struct timespec to = { 10, 0 };
	CHECK(sigtimedwait(&set, &si, &to) == SIGCHLD, "SIGCHLD from a child's exit");
	CHECK(si.si_code == CLD_EXITED && si.si_pid == pid && si.si_status == 3, "CLD_EXITED info");
	expect_exit(pid, 3);
	unblock(SIGCHLD);
	ok("sigtimedwait receives a blocked SIGCHLD with the child's exit info");
}

int main(void)
{
	test_sigsuspend();
	test_pause();
	test_sigtimedwait();
	test_sigwait_ignored();
	return 0;
}
