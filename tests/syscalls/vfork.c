/* vfork.c: vfork (shared memory, parent suspended until exit or exec), posix_spawn, system. */
#include "sc.h"

#include <spawn.h>

extern char **environ;
static volatile int shared_var;
static const char *self;

static void test_vfork_exit(void)
{
	pid_t parent = getpid();

	shared_var = 0;
	pid_t pid = vfork();
	if (pid == 0) {
		/* Only async-signal-safe calls here: the child borrows the parent's memory. */
		shared_var = 1;
		struct timespec ts = { 0, 30 * 1000000 };
		nanosleep(&ts, NULL);
		shared_var = getppid() == parent ? 2 : 3;
		_exit(7);
	}
	CHECK(pid > 0, "vfork");
	CHECK(shared_var == 2, "parent resumed before the child exited, or memory not shared: %d",
	      shared_var);
	expect_exit(pid, 7);
	ok("vfork: the parent waits for the child's _exit and sees its writes");
}

static void test_vfork_exec(void)
{
	int p[2];

	CHECK_OK(pipe2(p, O_CLOEXEC));
	shared_var = 0;
	pid_t pid = vfork();
	if (pid == 0) {
		/* The exec'd child waits for EOF on stdin: the parent must run before it exits. */
		shared_var = 5;
		dup2(p[0], 0);
		execl(self, self, "wait-eof", (char *)NULL);
		_exit(127);
	}
	CHECK(pid > 0, "vfork");
	CHECK(shared_var == 5, "child's write before exec not seen");
	close(p[0]);
	close(p[1]); /* EOF: the child can now exit */
	expect_exit(pid, 0);
	ok("vfork: the parent resumes when the child execs");

	shared_var = 0;
	pid = vfork();
	if (pid == 0) {
		execl("/bin/true", "true", (char *)NULL);
		_exit(127);
	}
	expect_exit(pid, 0);
	pid = vfork();
	if (pid == 0) {
		execl("/nonexistent/runsc-c", "x", (char *)NULL);
		shared_var = errno;
		_exit(127);
	}
	expect_exit(pid, 127);
	CHECK(shared_var == ENOENT, "exec error seen through shared memory: %d", shared_var);
	ok("vfork+exec of a dynamic program, and a failed exec reporting errno");
}

static void test_posix_spawn(void)
{
	int p[2];
	pid_t pid;
	char buf[64];
	posix_spawn_file_actions_t fa;
	char *argv[] = { "echo", "hello", "from", "spawn", NULL };

	CHECK_OK(pipe2(p, O_CLOEXEC));
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, p[1], 1);
	CHECK(posix_spawn(&pid, "/bin/echo", &fa, NULL, argv, environ) == 0, "posix_spawn");
	close(p[1]);
	read_fd_all(p[0], buf, sizeof(buf));
	close(p[0]);
	expect_exit(pid, 0);
	CHECK(!strcmp(buf, "hello from spawn\n"), "output %s", buf);
	posix_spawn_file_actions_destroy(&fa);

	CHECK(posix_spawn(&pid, "/nonexistent/runsc-c", NULL, NULL, argv, environ) == ENOENT,
	      "posix_spawn of a missing file reports ENOENT");
	setenv("PATH", "/nonexistent:/usr/bin:/bin", 1);
	char *targv[] = { "true", NULL };
	CHECK(posix_spawnp(&pid, "true", NULL, NULL, targv, environ) == 0, "posix_spawnp");
	expect_exit(pid, 0);
	ok("posix_spawn with file actions, ENOENT, posix_spawnp on PATH");

	/* POSIX_SPAWN_SETPGROUP: the child leads a new group. */
	posix_spawnattr_t attr;
	CHECK_OK(pipe2(p, O_CLOEXEC));
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, p[0], 0);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
	posix_spawnattr_setpgroup(&attr, 0);
	char *sargv[] = { (char *)self, "wait-eof", NULL };
	CHECK(posix_spawn(&pid, self, &fa, &attr, sargv, environ) == 0, "spawn");
	CHECK(getpgid(pid) == pid, "spawned child's pgid %d, pid %d", getpgid(pid), pid);
	CHECK(getpgid(pid) != getpgrp(), "new group");
	close(p[0]);
	close(p[1]);
	expect_exit(pid, 0);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	ok("posix_spawn with POSIX_SPAWN_SETPGROUP");
}

static void test_system(void)
{
	int st = system("exit 3");

	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 3, "system status %#x", st);
	st = system("test \"$(echo a b | wc -w)\" -eq 2");
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "system status %#x", st);
	ok("system() runs /bin/sh -c and returns its status");
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "wait-eof")) {
		char c;
		while (read(0, &c, 1) > 0)
			;
		return 0;
	}
	self = argv[0];
	test_vfork_exit();
	test_vfork_exec();
	test_posix_spawn();
	test_system();
	return 0;
}
