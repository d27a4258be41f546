/* sigaction.c: rt_sigaction: SA_SIGINFO siginfo, sa_mask, SA_NODEFER, SA_RESETHAND, SIG_IGN, errors. */
#include "sc.h"

static volatile int count;
static volatile int blocked_self, blocked_extra;
static volatile siginfo_t last_info;

static void info_handler(int sig, siginfo_t *si, void *uc)
{
	sigset_t cur;

	count++;
	last_info = *si;
	sigprocmask(SIG_SETMASK, NULL, &cur);
	blocked_self = sigismember(&cur, sig);
	blocked_extra = sigismember(&cur, SIGWINCH);
}

static void test_query_and_errors(void)
{
	struct sigaction sa, old;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = info_handler;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGWINCH);
	CHECK_OK(sigaction(SIGUSR1, &sa, NULL));
	memset(&old, 0, sizeof(old));
	CHECK_OK(sigaction(SIGUSR1, NULL, &old));
	CHECK(old.sa_sigaction == info_handler, "handler read back");
	CHECK((old.sa_flags & (SA_SIGINFO | SA_RESTART)) == (SA_SIGINFO | SA_RESTART),
	      "flags read back %#x", old.sa_flags);
	CHECK(sigismember(&old.sa_mask, SIGWINCH) && !sigismember(&old.sa_mask, SIGHUP), "mask");
	/* Setting returns the previous action. */
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	CHECK_OK(sigaction(SIGUSR1, &dfl, &old));
	CHECK(old.sa_sigaction == info_handler, "old action returned when setting");

	CHECK_ERR(sigaction(0, &dfl, NULL), EINVAL);
	CHECK_ERR(sigaction(65, NULL, &old), EINVAL);
	CHECK_ERR(sigaction(SIGKILL, &dfl, NULL), EINVAL);
	CHECK_ERR(sigaction(SIGSTOP, &dfl, NULL), EINVAL);
	CHECK_OK(sigaction(SIGKILL, NULL, &old)); /* querying is fine */
	CHECK(old.sa_handler == SIG_DFL, "SIGKILL is SIG_DFL");
	CHECK(raw(SYS_rt_sigaction, SIGUSR1, 0, (long)&old, 4, 0, 0) == -EINVAL, "bad sigsetsize");
	CHECK(raw(SYS_rt_sigaction, SIGUSR1, 8, 0, 8, 0, 0) == -EFAULT, "bad act pointer");
	/* Every signal starts SIG_DFL (nothing was inherited from the runner). */
	for (int s = 1; s < 65; s++) {
		if (s == 32 || s == 33) /* glibc-internal */
			continue;
		CHECK_OK(sigaction(s, NULL, &old));
		CHECK(old.sa_handler == SIG_DFL || old.sa_handler == SIG_IGN, "signal %d", s);
	}
	ok("rt_sigaction reads back handler, flags, mask; EINVAL/EFAULT cases");
}

static void test_siginfo(void)
{
	set_handler(SIGUSR1, (void *)info_handler, SA_SIGINFO);
	count = 0;
	CHECK_OK(kill(getpid(), SIGUSR1));
	CHECK(count == 1, "handler ran before kill returned");
	CHECK(last_info.si_signo == SIGUSR1 && last_info.si_code == SI_USER &&
		      last_info.si_pid == getpid() && last_info.si_uid == getuid(),
	      "kill siginfo: signo %d code %d", last_info.si_signo, last_info.si_code);
	CHECK_OK(syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), SIGUSR1));
	CHECK(count == 2 && last_info.si_code == SI_TKILL && last_info.si_pid == getpid(),
	      "tgkill code %d", last_info.si_code);
	union sigval v = { .sival_int = 1234 };
	CHECK_OK(sigqueue(getpid(), SIGUSR1, v));
	CHECK(count == 3 && last_info.si_code == SI_QUEUE && last_info.si_value.sival_int == 1234,
	      "sigqueue code %d value %d", last_info.si_code, last_info.si_value.sival_int);
	/* From another process. */
	pid_t parent = getpid();
	pid_t pid = sc_fork();
	if (pid == 0) {
		kill(parent, SIGUSR1);
		_exit(0);
	}
	expect_exit(pid, 0);
	CHECK(count == 4 && last_info.si_pid == pid && last_info.si_code == SI_USER,
	      "from a child: count %d", count);
	ok("SA_SIGINFO: si_signo, si_code (SI_USER, SI_TKILL, SI_QUEUE), si_pid, si_uid, si_value");
}

static volatile int depth, max_depth;
static void nest_handler(int sig)
{
	depth++;
	if (depth > max_depth)
		max_depth = depth;
	if (count++ == 0)
		raise(sig); /* while in the handler */
	depth--;
}

static void test_mask_nodefer(void)
{
	struct sigaction sa;

	/* Default: the signal is blocked in its handler, plus sa_mask. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = info_handler;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGWINCH);
	CHECK_OK(sigaction(SIGUSR2, &sa, NULL));
	count = 0;
	raise(SIGUSR2);
	CHECK(count == 1 && blocked_self && blocked_extra, "self %d extra %d", blocked_self,
	      blocked_extra);
	sigset_t cur;
	sigprocmask(SIG_SETMASK, NULL, &cur);
	CHECK(!sigismember(&cur, SIGUSR2) && !sigismember(&cur, SIGWINCH), "mask restored");
	/* SA_NODEFER: not blocked in its own handler. */
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	CHECK_OK(sigaction(SIGUSR2, &sa, NULL));
	count = 0;
	raise(SIGUSR2);
	CHECK(count == 1 && !blocked_self, "SA_NODEFER: blocked %d", blocked_self);

	/* Re-raising inside the handler: nested with SA_NODEFER, deferred without. */
	set_handler(SIGUSR2, (void *)nest_handler, SA_NODEFER);
	count = depth = max_depth = 0;
	raise(SIGUSR2);
	CHECK(count == 2 && max_depth == 2, "SA_NODEFER nests: count %d depth %d", count,
	      max_depth);
	set_handler(SIGUSR2, (void *)nest_handler, 0);
	count = depth = max_depth = 0;
	raise(SIGUSR2);
	CHECK(count == 2 && max_depth == 1, "deferred until return: count %d depth %d", count,
	      max_depth);
	ok("the signal and sa_mask are blocked in the handler; SA_NODEFER nests");
}

static void test_resethand(void)
{
	struct sigaction old;

	set_handler(SIGUSR1, (void *)info_handler, SA_SIGINFO | SA_RESETHAND);
	count = 0;
	raise(SIGUSR1);
	CHECK(count == 1, "handler ran once");
	CHECK_OK(sigaction(SIGUSR1, NULL, &old));
	CHECK(old.sa_handler == SIG_DFL, "SA_RESETHAND: back to SIG_DFL");
	/* The second one takes the default action. */
	pid_t pid = sc_fork();
	if (pid == 0) {
		set_handler(SIGUSR1, (void *)info_handler, SA_SIGINFO | SA_RESETHAND);
		raise(SIGUSR1);
		raise(SIGUSR1);
		_exit(count == 1 ? 0 : 3);
	}
	expect_killed(pid, SIGUSR1);
	ok("SA_RESETHAND: one handler call, then the default action");
}

static void test_ignore(void)
{
	set_disposition(SIGUSR1, SIG_IGN);
	CHECK_OK(kill(getpid(), SIGUSR1)); /* discarded */
	sigset_t pend;
	block(SIGUSR2);
	raise(SIGUSR2);
	sigpending(&pend);
	CHECK(sigismember(&pend, SIGUSR2), "blocked signal pending");
	/* Setting SIG_IGN discards a pending instance. */
	set_disposition(SIGUSR2, SIG_IGN);
	sigpending(&pend);
	CHECK(!sigismember(&pend, SIGUSR2), "SIG_IGN discards the pending signal");
	/* But a blocked signal is queued even when ignored (the action may change before it is
	 * unblocked); unblocking it while still ignored drops it. */
	raise(SIGUSR2);
	sigpending(&pend);
	CHECK(sigismember(&pend, SIGUSR2), "an ignored but blocked signal is queued");
	unblock(SIGUSR2);
	sigpending(&pend);
	CHECK(!sigismember(&pend, SIGUSR2), "and dropped when unblocked");
	set_disposition(SIGUSR2, SIG_DFL);
	set_disposition(SIGUSR1, SIG_DFL);
	/* SIG_DFL for an ignore-by-default signal discards it too. */
	block(SIGWINCH);
	raise(SIGWINCH);
	sigpending(&pend);
	CHECK(sigismember(&pend, SIGWINCH), "SIGWINCH pending while blocked");
	set_disposition(SIGWINCH, SIG_DFL);
	sigpending(&pend);
	CHECK(!sigismember(&pend, SIGWINCH), "setting SIG_DFL (ignore) discards it");
	unblock(SIGWINCH);
	ok("SIG_IGN drops signals (pending ones too, blocked ones at unblock); so does SIG_DFL for "
	   "ignored-by-default ones");
}

int main(void)
{
	test_query_and_errors();
	test_siginfo();
	test_mask_nodefer();
	test_resethand();
	test_ignore();
	return 0;
}
