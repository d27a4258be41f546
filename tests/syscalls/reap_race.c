/* reap_race.c: many children exiting at once to a parent that reaps them automatically (SIGCHLD
 * ignored, SA_NOCLDWAIT): single and multi-threaded, leaders that exit first, non-leader threads
 * that exec or exit_group, parents that exit while their children do. */
#include "sc.h"

#include <pthread.h>
#include <stdbool.h>

enum { NCHILD = 24, NTHREAD = 3, ROUNDS = 3 };

static char self[4096];
static int gate[2]; /* children block reading it; closing the write end releases them all */

enum kind { PLAIN, LEADER_FIRST, THREAD_EXIT_GROUP, THREAD_EXEC, KINDS };

/* pid is no child of ours any more (reaped): asked with waitid, not kill(pid, 0), which a pid the
 * host reused for a process of its own would answer (seen natively, in a busy CI run). */
static bool reaped(pid_t pid)
{
	siginfo_t si;

	return waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == -1 && errno == ECHILD;
}

static void wait_gate(void)
{
	char c;
	while (read(gate[0], &c, 1) == -1 && errno == EINTR)
		;
}

static void *exit_group_thread(void *arg)
{
	wait_gate();
	_exit(0);
}

static void *exec_thread(void *arg)
{
	char *argv[] = { self, "exit", NULL };
	wait_gate();
	execve(self, argv, environ);
	_exit(127);
}

static void *plain_thread(void *arg)
{
	wait_gate();
	return NULL;
}

/* The body of one child: its threads wait at the gate, then it ends the way kind says. */
static void child(enum kind k)
{
	pthread_t th;
	void *(*fn)(void *) = k == THREAD_EXIT_GROUP ? exit_group_thread :
			      k == THREAD_EXEC	     ? exec_thread :
							plain_thread;

	if (k != PLAIN) {
		for (int i = 0; i < NTHREAD; i++)
			if (pthread_create(&th, NULL, i == 0 ? fn : plain_thread, NULL) != 0)
				_exit(2);
	}
	if (k == LEADER_FIRST)
		pthread_exit(NULL); /* the leader goes first; the last thread ends the process */
	wait_gate();
	if (k == PLAIN)
		_exit(0);
	/* the thread that ends the process (exit_group or exec) does so while this one waits */
	for (;;)
		pause();
}

/* One round: NCHILD children of every kind released at once; none may remain. */
static void round_autoreap(void)
{
	pid_t pids[NCHILD];
	int st;

	CHECK_OK(pipe(gate));
	for (int i = 0; i < NCHILD; i++) {
		pids[i] = sc_fork();
		if (pids[i] == 0) {
			close(gate[1]);
			child((enum kind)(i % KINDS));
		}
	}
	close(gate[0]);
	close(gate[1]);
	/* wait blocks while any child lives, then fails: every child was reaped at its exit */
	pid_t r;
	while ((r = waitpid(-1, &st, 0)) == -1 && errno == EINTR)
		;
	CHECK(r == -1 && errno == ECHILD, "wait ends with ECHILD (got %d)", (int)r);
	for (int i = 0; i < NCHILD; i++)
		CHECK(reaped(pids[i]), "child %d left a zombie", i);
}

static void test_sig_ign(void)
{
	signal(SIGCHLD, SIG_IGN);
	for (int i = 0; i < ROUNDS; i++)
		round_autoreap();
}

static void on_chld(int sig)
{
}

static void test_nocldwait(void)
{
	struct sigaction sa = { .sa_handler = on_chld, .sa_flags = SA_NOCLDWAIT | SA_RESTART };

	CHECK_OK(sigaction(SIGCHLD, &sa, NULL));
	for (int i = 0; i < ROUNDS; i++)
		round_autoreap();
}

/* Middle processes exit while their own children (auto-reaped by them) exit too. */
static void test_parent_exits(void)
{
	pid_t mids[NCHILD / 4];

	signal(SIGCHLD, SIG_IGN);
	for (int round = 0; round < ROUNDS; round++) {
		CHECK_OK(pipe(gate));
		for (int i = 0; i < NCHILD / 4; i++) {
			mids[i] = sc_fork();
			if (mids[i] != 0)
				continue;
			signal(SIGCHLD, i % 2 ? SIG_IGN : SIG_DFL);
			for (int j = 0; j < 4; j++) {
				if (sc_fork() == 0) {
					close(gate[1]);
					child((enum kind)(j % KINDS));
				}
			}
			close(gate[1]);
			wait_gate();
			_exit(0);
		}
		close(gate[0]);
		close(gate[1]);
		int st;
		pid_t r;
		while ((r = waitpid(-1, &st, 0)) == -1 && errno == EINTR)
			;
		CHECK(r == -1 && errno == ECHILD, "wait ends with ECHILD (got %d)", (int)r);
		for (int i = 0; i < NCHILD / 4; i++)
			CHECK(reaped(mids[i]), "parent %d left a zombie", i);
	}
}

static void *vfork_thread(void *arg)
{
	struct timespec ts = { 0, 20 * 1000000L };

	if (vfork() == 0) {
		/* raw calls only: this child runs on the parent's stack */
		syscall(SYS_nanosleep, &ts, NULL);
		syscall(SYS_exit_group, 0);
	}
	return NULL;
}

/* A thread waiting in vfork is killed with its process (exit_group by another thread) and its
 * process reaped before the vfork child exits and releases it. */
static void test_vfork_parent_killed(void)
{
	pid_t pids[4];
	pthread_t th;

	signal(SIGCHLD, SIG_IGN);
	for (int i = 0; i < 4; i++) {
		pids[i] = sc_fork();
		if (pids[i] == 0) {
			if (pthread_create(&th, NULL, vfork_thread, NULL) != 0)
				_exit(2);
			msleep(5);
			_exit(0);
		}
	}
	int st;
	pid_t r;
	while ((r = waitpid(-1, &st, 0)) == -1 && errno == EINTR)
		;
	CHECK(r == -1 && errno == ECHILD, "wait ends with ECHILD (got %d)", (int)r);
	for (int i = 0; i < 4; i++)
		CHECK(reaped(pids[i]), "child %d left a zombie", i);
	msleep(40); /* the vfork children exit meanwhile */
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "exit"))
		return 0; /* the image a child's non-leader thread execs */
	CHECK(realpath(argv[0], self) != NULL, "realpath %s", argv[0]);
	in_child(test_sig_ign);
	ok("SIGCHLD ignored: %d children of every kind exiting at once are reaped, %d rounds",
	   NCHILD, ROUNDS);
	in_child(test_nocldwait);
	ok("SA_NOCLDWAIT: %d children of every kind exiting at once are reaped, %d rounds", NCHILD,
	   ROUNDS);
	in_child(test_parent_exits);
	ok("parents exiting while their auto-reaped children exit");
	in_child(test_vfork_parent_killed);
	ok("a thread killed while waiting in vfork, its process reaped before the vfork child exits");
	return 0;
}
