/* orphan.c: zombies until reaped, orphans reparented to the reaper (init or a subreaper). */
#include "sc.h"

#include <sys/prctl.h>

static void test_zombie(void)
{
	int p[2];

	CHECK_OK(pipe(p));
	pid_t pid = sc_fork();
	if (pid == 0)
		_exit(21);
	/* Wait for the exit without reaping. */
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	CHECK_OK(waitid(P_PID, pid, &si, WEXITED | WNOWAIT));
	CHECK(kill(pid, 0) == 0, "a zombie still has its pid");
	CHECK(getpgid(pid) == getpgrp(), "a zombie keeps its process group");
	CHECK(kill(pid, SIGKILL) == 0, "signalling a zombie succeeds (and does nothing)");
	expect_exit(pid, 21);
	CHECK(kill(pid, 0) == -1 && errno == ESRCH, "a reaped pid is gone: ESRCH");
	CHECK(getpgid(pid) == -1 && errno == ESRCH, "getpgid of a reaped pid: ESRCH");
	close(p[0]);
	close(p[1]);
	ok("an exited child stays a zombie (kill 0 works, status kept) until reaped");
}

/*
 * The orphan test needs to be the reaper: natively via PR_SET_CHILD_SUBREAPER; in a pid
 * namespace we may instead be its init (pid 1), which reaps orphans anyway.
 */
static void become_reaper(void)
{
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0) {
		int on = 0;
		CHECK_OK(prctl(PR_GET_CHILD_SUBREAPER, &on, 0, 0, 0));
		CHECK(on == 1, "PR_GET_CHILD_SUBREAPER");
		return;
	}
	CHECK(getpid() == 1, "neither a subreaper nor init");
}

static void test_orphan(void)
{
	int ids[2], hold[2], ready[2];
	pid_t me = getpid();

	become_reaper();
	CHECK_OK(pipe(ids));
	CHECK_OK(pipe(hold));
	CHECK_OK(pipe(ready));
	pid_t mid = sc_fork();
	if (mid == 0) {
		pid_t g = sc_fork();
		if (g == 0) {
			/* Wait for mid to die (EOF on hold), then report our new parent. */
			char c;
			close(hold[1]);
			pid_t before = getppid();
			(void)!write(ready[1], "r", 1);
			(void)!read(hold[0], &c, 1);
			for (int i = 0; i < 500 && getppid() == before; i++)
				msleep(2);
			pid_t after[2] = { before, getppid() };
			(void)!write(ids[1], after, sizeof(after));
			_exit(9);
		}
		char c;
		CHECK(read(ready[0], &c, 1) == 1, "ready");
		_exit(0); /* orphans g; its copy of hold[1] is closed by then */
	}
	close(hold[0]);
	close(hold[1]);
	close(ready[0]);
	close(ready[1]);
	expect_exit(mid, 0);
	pid_t got[2];
	CHECK(read(ids[0], got, sizeof(got)) == sizeof(got), "read");
	CHECK(got[0] == mid, "the grandchild's first parent");
	CHECK(got[1] == me, "the orphan's getppid is the reaper");
	/* The reaper can wait for it like any child. */
	int st;
	pid_t r = waitpid(-1, &st, 0);
	CHECK(r > 0 && r != mid && WIFEXITED(st) && WEXITSTATUS(st) == 9, "reaped the orphan");
	CHECK(wait(NULL) == -1 && errno == ECHILD, "no children left");
	close(ids[0]);
	close(ids[1]);
	ok("an orphan is reparented to the reaper, which can wait for it");
}

static void test_pid_relations(void)
{
	pid_t me = getpid();
	char buf[64];

	CHECK(me > 0, "getpid");
	CHECK(getppid() >= 0, "getppid");
	CHECK(syscall(SYS_gettid) == me, "main thread tid");
	/* /proc/self names us. */
	ssize_t n = readlink("/proc/self", buf, sizeof(buf) - 1);
	CHECK(n > 0, "readlink /proc/self");
	buf[n] = 0;
	CHECK(atoi(buf) == me, "/proc/self -> %s, getpid %d", buf, me);
	ok("getpid > 0, tid == pid, /proc/self is getpid");
}

int main(void)
{
	test_pid_relations();
	test_zombie();
	test_orphan();
	return 0;
}
