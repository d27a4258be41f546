/* execve.c: execve: argv/envp, static and dynamic targets, state kept and reset, errors. */
#include "sc.h"

#include <libgen.h>
#include <sys/auxv.h>
#include <sys/prctl.h>

extern char **environ;
static char self[4096];

/* Helper mode "dump": argc, argv and envp, one per line, to stdout. */
static int dump_main(int argc, char **argv)
{
	printf("argc=%d\n", argc);
	for (int i = 0; i < argc; i++)
		printf("argv[%d]=%s\n", i, argv[i]);
	for (char **e = environ; *e; e++)
		printf("env=%s\n", *e);
	return 0;
}

/* Helper mode "state PID PPID EXECFN": what execve kept and what it reset, as one line. */
static int state_main(int argc, char **argv)
{
	struct sigaction sa;
	sigset_t mask, pend;
	stack_t ss;
	char cwd[512], comm[32] = "";

	if (argc < 5)
		return 3;
	printf("fd20=%s ", fcntl(20, F_GETFD) == -1 && errno == EBADF ? "closed" : "open");
	printf("fd21=%s ", fcntl(21, F_GETFD) == 0 ? "open" : "bad");
	printf("fd22=%s ", fcntl(22, F_GETFD) == -1 ? "closed" : "open");
	sigaction(SIGUSR1, NULL, &sa);
	printf("usr1=%s ", sa.sa_handler == SIG_DFL ? "dfl" : "not-dfl");
	sigaction(SIGTERM, NULL, &sa);
	printf("term=%s ", sa.sa_handler == SIG_DFL && !(sa.sa_flags & SA_ONSTACK) ? "dfl" : "not-dfl");
	sigaction(SIGUSR2, NULL, &sa);
	printf("usr2=%s ", sa.sa_handler == SIG_IGN ? "ign" : "not-ign");
	sigprocmask(SIG_SETMASK, NULL, &mask);
	printf("hup=%s ", sigismember(&mask, SIGHUP) ? "blocked" : "unblocked");
	sigpending(&pend);
	printf("prof=%s ", sigismember(&pend, SIGPROF) ? "pending" : "not-pending");
	unsigned left = alarm(0);
	printf("alarm=%s ", left > 90 && left <= 100 ? "kept" : "lost");
	sigaltstack(NULL, &ss);
	printf("altstack=%s ", ss.ss_flags & SS_DISABLE ? "disabled" : "enabled");
	printf("pid=%s ", getpid() == atoi(argv[2]) ? "same" : "changed");
	printf("ppid=%s ", getppid() == atoi(argv[3]) ? "same" : "changed");
	mode_t um = umask(0);
	printf("umask=%03o ", um);
	printf("cwd=%s ", getcwd(cwd, sizeof(cwd)) && !strcmp(cwd, "/tmp") ? "kept" : "changed");
	prctl(PR_GET_NAME, comm);
	printf("comm=%s ", comm);
	const char *execfn = (const char *)getauxval(AT_EXECFN);
	printf("execfn=%s\n", execfn && !strcmp(execfn, argv[4]) ? "ok" : "wrong");
	return 0;
}

/*
 * run(path, argv, envp, out, cap): fork, exec path with stdout a pipe; returns the wait status
 * and the output in out. When the exec itself fails, out is "ERRNO=<name>" and the status 127.
 */
static int run(const char *path, char *const argv[], char *const envp[], char *out, size_t cap)
{
	int p[2], e[2];

	CHECK_OK(pipe2(p, O_CLOEXEC));
	CHECK_OK(pipe2(e, O_CLOEXEC));
	pid_t pid = sc_fork();
	if (pid == 0) {
		dup2(p[1], 1);
		execve(path, argv, envp);
		int err = errno;
		(void)!write(e[1], &err, sizeof(err));
		_exit(127);
	}
	close(p[1]);
	close(e[1]);
	read_fd_all(p[0], out, cap);
	int err = 0;
	ssize_t n = read(e[0], &err, sizeof(err));
	close(p[0]);
	close(e[0]);
	int st = sc_wait(pid);
	if (n == sizeof(err))
		snprintf(out, cap, "ERRNO=%s", errname(err));
	return st;
}

/* exec_errno(path, argv): the errno a failing execve gives (0 when it succeeded). */
static int exec_errno(const char *path, char *const argv[])
{
	char out[256];
	char *envp[] = { NULL };

	run(path, argv, envp, out, sizeof(out));
	if (!strncmp(out, "ERRNO=", 6)) {
		for (int e = 1; e < 200; e++)
			if (!strcmp(out + 6, errname(e)))
				return e;
	}
	return 0;
}

static void test_argv_envp(void)
{
	char out[8192];
	char *argv[] = { "argv-zero", "dump", "", "b c", "\xc3\xa9", "--x=y", NULL };
	char *envp[] = { "X=1", "EMPTY=", "NOEQ", "PATH=/nope", NULL };

	int st = run(self, argv, envp, out, sizeof(out));
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %#x", st);
	const char *want = "argc=6\nargv[0]=argv-zero\nargv[1]=dump\nargv[2]=\nargv[3]=b c\n"
			   "argv[4]=\xc3\xa9\nargv[5]=--x=y\n"
			   "env=X=1\nenv=EMPTY=\nenv=NOEQ\nenv=PATH=/nope\n";
	CHECK(!strcmp(out, want), "dump:\n%s", out);

	char *argv2[] = { "z", "dump", NULL };
	char *noenv[] = { NULL };
	st = run(self, argv2, noenv, out, sizeof(out));
	CHECK(!strcmp(out, "argc=2\nargv[0]=z\nargv[1]=dump\n"), "empty envp:\n%s", out);
	ok("execve passes argv (empty and UTF-8 strings) and envp exactly");

	/* Many arguments, 128 KiB in all. */
	enum { N = 2000 };
	static char *many[N + 3];
	static char strs[N][64];
	many[0] = "m";
	many[1] = "dump";
	for (int i = 0; i < N; i++) {
		snprintf(strs[i], sizeof(strs[i]), "%d-%050d", i, i);
		many[i + 2] = strs[i];
	}
	many[N + 2] = NULL;
	static char big[N * 80 + 256];
	st = run(self, many, noenv, big, sizeof(big));
	char line[128];
	snprintf(line, sizeof(line), "argv[%d]=%s\n", N + 1, strs[N - 1]);
	CHECK(WIFEXITED(st) && strstr(big, "argc=2002\n") && strstr(big, line), "many args");
	ok("execve with %d arguments", N);

	/* One string over MAX_ARG_STRLEN (32 pages) is E2BIG. */
	static char huge[200000];
	memset(huge, 'a', sizeof(huge) - 1);
	char *hargv[] = { "h", huge, NULL };
	CHECK(exec_errno(self, hargv) == E2BIG, "an argument over 128 KiB: E2BIG");
	ok("execve with a 200000-byte argument: E2BIG");
}

static void test_dynamic(void)
{
	char out[1024];
	char *envp[] = { "A=1", "B=x y", NULL };
	char *argv[] = { "env", NULL };

	int st = run("/usr/bin/env", argv, envp, out, sizeof(out));
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0 && !strcmp(out, "A=1\nB=x y\n"), "env: %s", out);

	char *sh[] = { "sh", "-c", "echo \"$0|$1|$#|$A\"; exit 4", "name", "arg", NULL };
	st = run("/bin/sh", sh, envp, out, sizeof(out));
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 4 && !strcmp(out, "name|arg|1|1\n"), "sh: %s",
	      out);

	char *f[] = { "false", NULL };
	st = run("/bin/false", f, envp, out, sizeof(out));
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 1, "false: %#x", st);
	ok("execve of dynamic programs (env, sh -c, false): output and status");
}

static void test_state(void)
{
	char out[1024], link[512], arg_pid[16], arg_ppid[16];
	int p[2];

	snprintf(link, sizeof(link), "%s", tpath("my-exec-link"));
	CHECK_OK(symlink(self, link));
	CHECK_OK(pipe2(p, O_CLOEXEC));
	pid_t parent = getpid();
	pid_t pid = sc_fork();
	if (pid == 0) {
		int fd = (int)CHECK_OK(open("/dev/null", O_RDONLY | O_CLOEXEC));
		CHECK_OK(dup3(fd, 20, O_CLOEXEC));
		CHECK_OK(dup2(fd, 21));
		CHECK_OK(dup2(fd, 22));
		CHECK_OK(fcntl(22, F_SETFD, FD_CLOEXEC));
		set_handler(SIGUSR1, (void *)exit, 0);
		set_disposition(SIGUSR2, SIG_IGN);
		static char altstack[65536];
		stack_t ss = { .ss_sp = altstack, .ss_size = sizeof(altstack) };
		CHECK_OK(sigaltstack(&ss, NULL));
		set_handler(SIGTERM, (void *)exit, SA_ONSTACK);
		block(SIGHUP);
		block(SIGPROF);
		raise(SIGPROF);
		alarm(100);
		umask(027);
		CHECK_OK(chdir("/tmp"));
		dup2(p[1], 1);
		snprintf(arg_pid, sizeof(arg_pid), "%d", getpid());
		snprintf(arg_ppid, sizeof(arg_ppid), "%d", parent);
		char *argv[] = { "x", "state", arg_pid, arg_ppid, link, NULL };
		execve(link, argv, environ);
		_exit(127);
	}
	close(p[1]);
	read_fd_all(p[0], out, sizeof(out));
	close(p[0]);
	expect_exit(pid, 0);
	const char *want = "fd20=closed fd21=open fd22=closed usr1=dfl term=dfl usr2=ign "
			   "hup=blocked prof=pending alarm=kept altstack=disabled pid=same "
			   "ppid=same umask=027 cwd=kept comm=my-exec-link execfn=ok\n";
	CHECK(!strcmp(out, want), "state after exec:\n got %s want %s", out, want);
	ok("execve: O_CLOEXEC/FD_CLOEXEC fds closed, others kept; handlers reset, SIG_IGN kept");
	ok("execve: mask, pending, alarm, umask, cwd kept; altstack reset; same pid and ppid");
	ok("execve: comm is the executed name, AT_EXECFN the path");
}

static void test_errors(void)
{
	char *argv[] = { "x", NULL };
	const char *plain = tpath("plain");
	const char *empty = tpath("empty");
	const char *text = tpath("text");
	const char *trunc = tpath("trunc-elf");
	char toolong[400];

	write_file(plain, "#!/bin/sh\necho hi\n", 0644);
	write_file(empty, "", 0755);
	write_file(text, "echo no shebang\n", 0755);
	write_file(trunc, "\x7f" "ELF\x02\x01", 0755);
	memset(toolong, 'n', sizeof(toolong) - 1);
	toolong[0] = '/';
	toolong[sizeof(toolong) - 1] = 0;

	CHECK(exec_errno("/nonexistent-runsc-c/x", argv) == ENOENT, "missing: ENOENT");
	CHECK(exec_errno("", argv) == ENOENT, "empty path: ENOENT");
	CHECK(exec_errno("/etc/passwd/x", argv) == ENOTDIR, "file as directory: ENOTDIR");
	CHECK(exec_errno(plain, argv) == EACCES, "no exec bit: EACCES");
	CHECK(exec_errno("/tmp", argv) == EACCES, "a directory: EACCES");
	CHECK(exec_errno(empty, argv) == ENOEXEC, "empty file: ENOEXEC");
	CHECK(exec_errno(text, argv) == ENOEXEC, "text without #!: ENOEXEC");
	CHECK(exec_errno(trunc, argv) == ENOEXEC, "truncated ELF: ENOEXEC");
	CHECK(exec_errno(toolong, argv) == ENAMETOOLONG, "long name: ENAMETOOLONG");
	CHECK(exec_errno((const char *)8, argv) == EFAULT, "bad pointer: EFAULT");
	ok("execve errors: ENOENT, ENOTDIR, EACCES (mode, directory), ENOEXEC, ENAMETOOLONG, EFAULT");
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "dump"))
		return dump_main(argc, argv);
	if (argc > 1 && !strcmp(argv[1], "state"))
		return state_main(argc, argv);
	CHECK(realpath(argv[0], self) != NULL, "realpath %s", argv[0]);
	test_argv_envp();
	test_dynamic();
	test_state();
	test_errors();
	return 0;
}
