/* wait.c: wait4/waitpid/waitid: exited, signalled, stopped, continued, WNOHANG, selectors, __WALL. */
#include "sc.h"

#include <sys/resource.h>

/* A child that exits with code once its parent writes to the pipe (or at EOF). */
static pid_t waiting_child(int *wfd, int code)
{
	int p[2];

	CHECK_OK(pipe(p));
	pid_t pid = sc_fork();
	if (pid == 0) {
		char c;
		close(p[1]);
		(void)!read(p[0], &c, 1);
		_exit(code);
	}
	close(p[0]);
	*wfd = p[1];
	return pid;
}

static void test_exited_signalled(void)
{
	int st;
	struct rusage ru;

	pid_t pid = sc_fork();
	if (pid == 0)
		_exit(42);
	CHECK(wait4(pid, &st, 0, &ru) == pid, "wait4 with rusage");
	CHECK(WIFEXITED(st) && !WIFSIGNALED(st) && !WIFSTOPPED(st) && WEXITSTATUS(st) == 42,
	      "status %#x", st);
	CHECK(st == 42 << 8, "raw exit status %#x", st);

	static const int sigs[] = { SIGKILL, SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGABRT };
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		int w;
		pid = waiting_child(&w, 0);
		if (sigs[i] == SIGQUIT || sigs[i] == SIGABRT) {
			/* core-action signals: the child must not dump (see no_core) */
			close(w);
			expect_exit(pid, 0);
			pid = sc_fork();
			if (pid == 0) {
				no_core();
				raise(sigs[i]);
				_exit(1);
			}
		} else {
			CHECK_OK(kill(pid, sigs[i]));
		}
		st = sc_wait(pid);
		CHECK(WIFSIGNALED(st) && WTERMSIG(st) == sigs[i] && !WIFEXITED(st) &&
			      !WCOREDUMP(st),
		      "%s: status %#x", sigabbrev_np(sigs[i]), st);
		CHECK(st == sigs[i], "raw signalled status %#x", st);
		if (sigs[i] != SIGQUIT && sigs[i] != SIGABRT)
			close(w);
	}
	ok("exit status and signalled statuses (KILL TERM INT HUP, QUIT ABRT without core)");
}

static void test_stop_continue(void)
{
	int w, st;
	pid_t pid = waiting_child(&w, 3);

	CHECK_OK(kill(pid, SIGSTOP));
	CHECK(waitpid(pid, &st, WUNTRACED) == pid, "waitpid WUNTRACED");
	CHECK(WIFSTOPPED(st) && WSTOPSIG(st) == SIGSTOP && (st & 0xff) == 0x7f, "stopped %#x", st);
	CHECK(waitpid(pid, &st, WUNTRACED | WNOHANG) == 0, "a stop is reported once");
	CHECK(waitpid(pid, &st, WNOHANG) == 0, "without WUNTRACED a stop is not reported");
	CHECK_OK(kill(pid, SIGCONT));
	CHECK(waitpid(pid, &st, WCONTINUED) == pid, "waitpid WCONTINUED");
	CHECK(WIFCONTINUED(st) && st == 0xffff, "continued %#x", st);
	CHECK(waitpid(pid, &st, WCONTINUED | WNOHANG) == 0, "continued reported once");
	CHECK(write(w, "x", 1) == 1, "go");
	expect_exit(pid, 3);
	close(w);

	/* waitid sees the same events as siginfo. */
	siginfo_t si;
	pid = waiting_child(&w, 4);
	CHECK_OK(kill(pid, SIGSTOP));
	memset(&si, 0, sizeof(si));
	CHECK_OK(waitid(P_PID, pid, &si, WSTOPPED));
	CHECK(si.si_signo == SIGCHLD && si.si_code == CLD_STOPPED && si.si_pid == pid &&
		      si.si_status == SIGSTOP && si.si_uid == getuid(),
	      "waitid stopped: code %d status %d", si.si_code, si.si_status);
	CHECK_OK(kill(pid, SIGCONT));
	memset(&si, 0, sizeof(si));
	CHECK_OK(waitid(P_PID, pid, &si, WCONTINUED));
	CHECK(si.si_code == CLD_CONTINUED && si.si_status == SIGCONT && si.si_pid == pid,
	      "waitid continued: code %d status %d", si.si_code, si.si_status);
	/* A stopped child that is killed reports the kill. */
	CHECK_OK(kill(pid, SIGSTOP));
	CHECK(waitpid(pid, &st, WUNTRACED) == pid && WIFSTOPPED(st), "stopped again");
	CHECK_OK(kill(pid, SIGKILL));
	memset(&si, 0, sizeof(si));
	CHECK_OK(waitid(P_PID, pid, &si, WEXITED));
	CHECK(si.si_code == CLD_KILLED && si.si_status == SIGKILL, "waitid killed: %d %d",
	      si.si_code, si.si_status);
	close(w);
	ok("stopped/continued via WUNTRACED/WCONTINUED and waitid WSTOPPED/WCONTINUED, once each");
}

static void test_waitid_exit(void)
{
	siginfo_t si;
	int w;
	pid_t pid = waiting_child(&w, 17);

	/* WNOHANG with nothing to report: 0 and si_pid 0. */
	memset(&si, 0x55, sizeof(si));
	CHECK(waitid(P_PID, pid, &si, WEXITED | WNOHANG) == 0 && si.si_pid == 0,
	      "waitid WNOHANG: si_pid %d", si.si_pid);
	close(w);
	/* WNOWAIT leaves the zombie in place. */
	memset(&si, 0, sizeof(si));
	CHECK_OK(waitid(P_PID, pid, &si, WEXITED | WNOWAIT));
	CHECK(si.si_code == CLD_EXITED && si.si_status == 17 && si.si_pid == pid, "WNOWAIT");
	memset(&si, 0, sizeof(si));
	CHECK_OK(waitid(P_ALL, 0, &si, WEXITED | WNOWAIT));
	CHECK(si.si_pid == pid, "P_ALL WNOWAIT");
	CHECK_OK(waitid(P_PID, pid, &si, WEXITED));
	CHECK(si.si_code == CLD_EXITED && si.si_status == 17, "reaped");
	CHECK(waitid(P_PID, pid, &si, WEXITED) == -1 && errno == ECHILD, "gone after reaping");

	CHECK_ERR(waitid(P_ALL, 0, &si, WNOHANG), EINVAL);
	CHECK_ERR(waitid(99, 0, &si, WEXITED), EINVAL);
	CHECK_ERR(waitpid(-1, NULL, 0x100), EINVAL);
	ok("waitid: WNOHANG, WNOWAIT, P_ALL, CLD_EXITED with si_status, EINVAL");
}

static void test_wnohang_and_selectors(void)
{
	int st, wa, wb;
	pid_t a = waiting_child(&wa, 1);
	pid_t b = waiting_child(&wb, 2);

	/* b gets its own process group; both sides set it, so there is no race. */
	CHECK_OK(setpgid(b, b));
	CHECK(waitpid(-1, &st, WNOHANG) == 0, "WNOHANG with running children returns 0");
	CHECK(waitpid(a, &st, WNOHANG) == 0, "WNOHANG on a running child");
	close(wb);
	close(wa);
	/* Wait for our own group: only a qualifies, even if b exits first. */
	CHECK(waitpid(0, &st, 0) == a && WEXITSTATUS(st) == 1, "waitpid(0) takes the same group");
	CHECK(waitpid(0, &st, WNOHANG) == -1 && errno == ECHILD, "no more children in our group");
	CHECK(waitpid(-b, &st, 0) == b && WEXITSTATUS(st) == 2, "waitpid(-pgid)");

	/* waitid P_PGID, and a specific pid is not satisfied by another child. */
	a = waiting_child(&wa, 5);
	b = waiting_child(&wb, 6);
	CHECK_OK(setpgid(b, b));
	close(wa);
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	CHECK_OK(waitid(P_PGID, b, &si, WEXITED | WNOHANG));
	CHECK(si.si_pid == 0, "P_PGID: b still running");
	msleep(20);
	close(wb);
	CHECK(waitpid(b, &st, 0) == b && WEXITSTATUS(st) == 6, "waitpid(b) takes b");
	CHECK(waitpid(-1, &st, 0) == a && WEXITSTATUS(st) == 5, "then a");
	ok("WNOHANG returns 0 for running children; pid, 0, -pgid and P_PGID selectors");
}

static void test_echild(void)
{
	int st;

	CHECK(waitpid(-1, &st, 0) == -1 && errno == ECHILD, "no children: ECHILD");
	CHECK(wait(&st) == -1 && errno == ECHILD, "wait: ECHILD");
	CHECK(waitpid(getppid(), &st, WNOHANG) == -1 && errno == ECHILD, "our parent: ECHILD");
	CHECK(waitpid(getpid(), &st, WNOHANG) == -1 && errno == ECHILD, "ourselves: ECHILD");
	siginfo_t si;
	CHECK(waitid(P_ALL, 0, &si, WEXITED) == -1 && errno == ECHILD, "waitid: ECHILD");
	ok("ECHILD: no children, a non-child pid, ourselves");
}

static void test_wall(void)
{
	int st;

	/* A "clone child": exit signal other than SIGCHLD (here none). */
	pid_t pid = (pid_t)syscall(SYS_clone, 0, 0, 0, 0, 0);
	CHECK(pid >= 0, "clone");
	if (pid == 0)
		_exit(8);
	msleep(10);
	CHECK(waitpid(pid, &st, 0) == -1 && errno == ECHILD, "a clone child needs __WALL/__WCLONE");
	CHECK(waitpid(pid, &st, __WCLONE) == pid && WEXITSTATUS(st) == 8, "__WCLONE");
	/* the exit signal is SIGUSR1; keep it from killing us (blocked before the clone: the
	 * child may exit before the parent runs again) */
	block(SIGUSR1);
	pid = (pid_t)syscall(SYS_clone, SIGUSR1, 0, 0, 0, 0);
	if (pid == 0)
		_exit(9);
	CHECK(waitpid(-1, &st, __WALL) == pid && WEXITSTATUS(st) == 9, "__WALL");
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGUSR1);
	siginfo_t si;
	struct timespec to = { 5, 0 };
	CHECK(sigtimedwait(&s, &si, &to) == SIGUSR1, "the exit signal was sent");
	CHECK(si.si_code == CLD_EXITED && si.si_pid == pid && si.si_status == 9,
	      "exit-signal siginfo: code %d pid ok %d status %d", si.si_code, si.si_pid == pid,
	      si.si_status);
	unblock(SIGUSR1);
	pid = sc_fork();
	if (pid == 0)
		_exit(10);
	CHECK(waitpid(pid, &st, __WCLONE) == -1 && errno == ECHILD, "__WCLONE skips fork children");
	CHECK(waitpid(pid, &st, __WALL) == pid && WEXITSTATUS(st) == 10, "__WALL takes them");
	ok("__WCLONE/__WALL for clone children; the exit signal carries CLD_EXITED");
}

int main(void)
{
	test_exited_signalled();
	test_stop_continue();
	test_waitid_exit();
	test_wnohang_and_selectors();
	test_echild();
	test_wall();
	return 0;
}
