/* pgrp_session.c: setsid/getsid/setpgid/getpgid/getpgrp semantics and errors; kill of a group. */
#include "sc.h"

static char self[4096];

/* A child of ours that waits (blocked in read) until we close *wfd. */
static pid_t blocked_child(int *wfd)
{
	int p[2];

	CHECK_OK(pipe(p));
	pid_t pid = sc_fork();
	if (pid == 0) {
		char c;
		close(p[1]);
		(void)!read(p[0], &c, 1);
		_exit(0);
	}
	close(p[0]);
	*wfd = p[1];
	return pid;
}

/* A pid that no longer exists: a reaped child's. */
static pid_t dead_pid(void)
{
	pid_t pid = sc_fork();

	if (pid == 0)
		_exit(0);
	sc_wait(pid);
	return pid;
}

static void session_leader(void)
{
	pid_t me = getpid();
	pid_t parent = getppid();

	CHECK(getsid(0) != me, "not yet a session leader");
	CHECK(setsid() == me, "setsid returns the new sid");
	CHECK(getsid(0) == me && getsid(me) == me, "getsid");
	CHECK(getpgrp() == me && getpgid(0) == me && getpgid(me) == me, "group leader too");
	CHECK(getsid(parent) != me, "the parent stays in its session");
	CHECK_ERR(setsid(), EPERM);
	CHECK_ERR(setpgid(0, 0), EPERM); /* a session leader cannot move */
	ok("setsid: new session and group led by the caller; EPERM for a leader");

	/* A child starts in our group and session. */
	int w;
	pid_t c = blocked_child(&w);
	CHECK(getpgid(c) == me && getsid(c) == me, "child inherits pgid and sid");
	CHECK_OK(setpgid(c, c));
	CHECK(getpgid(c) == c && getsid(c) == me, "setpgid(child, child): own group, same session");
	CHECK_OK(setpgid(c, me));
	CHECK(getpgid(c) == me, "setpgid(child, existing group)");
	CHECK_ERR(setpgid(c, dead_pid()), EPERM); /* no such group in the session */
	CHECK_ERR(setpgid(0, -1), EINVAL);
	CHECK_ERR(setpgid(-5, 0), EINVAL);
	CHECK_ERR(setpgid(parent, parent), ESRCH); /* not us nor our child */
	CHECK_ERR(setpgid(dead_pid(), 0), ESRCH);
	CHECK_ERR(getpgid(dead_pid()), ESRCH);
	CHECK_ERR(getsid(dead_pid()), ESRCH);
	close(w);
	expect_exit(c, 0);
	ok("setpgid: into a new or an existing group; EPERM, EINVAL, ESRCH");

	/* A child in another session cannot be moved. */
	int p[2];
	CHECK_OK(pipe(p));
	c = sc_fork();
	if (c == 0) {
		char ch;
		setsid();
		close(p[1]);
		(void)!read(p[0], &ch, 1);
		_exit(0);
	}
	close(p[0]);
	while (getsid(c) != c)
		msleep(1);
	CHECK_ERR(setpgid(c, me), EPERM);
	close(p[1]);
	expect_exit(c, 0);

	/* A child that has exec'd cannot be moved: EACCES. */
	int in[2], out[2];
	CHECK_OK(pipe(in));
	CHECK_OK(pipe(out));
	c = sc_fork();
	if (c == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[1]);
		execl(self, self, "signal-then-wait", (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	char ch;
	CHECK(read(out[0], &ch, 1) == 1, "child exec'd");
	CHECK_ERR(setpgid(c, c), EACCES);
	close(in[1]);
	close(out[0]);
	expect_exit(c, 0);
	ok("setpgid: EPERM for a child in another session, EACCES after it execs");

	/* kill(-pgid) and kill(0) reach every member of a group. */
	int w1, w2;
	pid_t a = blocked_child(&w1), b = blocked_child(&w2);
	CHECK_OK(setpgid(a, a));
	CHECK_OK(setpgid(b, a));
	CHECK_OK(kill(-a, SIGTERM));
	expect_killed(a, SIGTERM);
	expect_killed(b, SIGTERM);
	close(w1);
	close(w2);
	CHECK_ERR(kill(-a, SIGTERM), ESRCH);
	CHECK_ERR(killpg(dead_pid(), SIGTERM), ESRCH);

	a = blocked_child(&w1);
	b = blocked_child(&w2);
	block(SIGUSR1); /* we are in the group too */
	CHECK_OK(kill(0, SIGUSR1));
	expect_killed(a, SIGUSR1);
	expect_killed(b, SIGUSR1);
	sigset_t pend;
	sigpending(&pend);
	CHECK(sigismember(&pend, SIGUSR1), "kill(0) also signalled the caller");
	close(w1);
	close(w2);
	ok("kill(-pgid), killpg and kill(0) signal every member of the group; ESRCH when empty");
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "signal-then-wait")) {
		char c;
		(void)!write(1, "x", 1);
		while (read(0, &c, 1) > 0)
			;
		return 0;
	}
	CHECK(realpath(argv[0], self) != NULL, "realpath");
	/* Everything runs in a fresh session, the same natively and in the sandbox. */
	in_child(session_leader);
	return 0;
}
