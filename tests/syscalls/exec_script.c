/* exec_script.c: #! scripts (argument splitting, nesting, errors) and execveat / fexecve. */
#include "sc.h"

#include <limits.h>

extern char **environ;
static char self[PATH_MAX];

static int dump_main(int argc, char **argv)
{
	for (int i = 0; i < argc; i++)
		printf("[%s]", argv[i]);
	putchar('\n');
	return 0;
}

enum how { EXECVE, EXECVEAT };

/*
 * run(how, dirfd, path, argv, flags, out, cap): fork, exec with stdout a pipe; returns the
 * exit status, or -errno when the exec failed. Output in out.
 */
static int run(enum how how, int dirfd, const char *path, char *const argv[], int flags, char *out,
	       size_t cap)
{
	int p[2], e[2];

	CHECK_OK(pipe2(p, O_CLOEXEC));
	CHECK_OK(pipe2(e, O_CLOEXEC));
	pid_t pid = sc_fork();
	if (pid == 0) {
		dup2(p[1], 1);
		if (how == EXECVE)
			execve(path, argv, environ);
		else
			syscall(SYS_execveat, dirfd, path, argv, environ, flags);
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
		return -err;
	CHECK(WIFEXITED(st), "status %#x", st);
	return WEXITSTATUS(st);
}

static void expect_out(enum how how, int dirfd, const char *path, char *const argv[], int flags,
		       const char *want)
{
	char out[4096];
	int r = run(how, dirfd, path, argv, flags, out, sizeof(out));

	CHECK(r == 0, "exec %s: %d (%s)", path, r, r < 0 ? errname(-r) : "status");
	CHECK(!strcmp(out, want), "exec %s:\n got: %s want: %s", path, out, want);
}

static void test_scripts(void)
{
	char want[3 * PATH_MAX], line[2 * PATH_MAX];
	const char *s1 = tpath("s1"), *s2 = tpath("s2"), *s3 = tpath("s3"), *s4 = tpath("s4");
	const char *s5 = tpath("s5");
	char *argv[] = { "ignored-argv0", "x", "y z", NULL };

	/* The rest of the line is one argument; trailing whitespace goes. */
	write_file(s1, "#!/bin/echo one  two \t\nignored\n", 0755);
	snprintf(want, sizeof(want), "one  two %s x y z\n", s1);
	expect_out(EXECVE, 0, s1, argv, 0, want);
	ok("#! with an argument: one argument, the script path, then argv[1..]");

	write_file(s2, "#!/bin/echo\n", 0755);
	snprintf(want, sizeof(want), "%s x y z\n", s2);
	expect_out(EXECVE, 0, s2, argv, 0, want);
	write_file(s3, "#!  \t/bin/echo   a\n", 0755);
	snprintf(want, sizeof(want), "a %s x y z\n", s3);
	expect_out(EXECVE, 0, s3, argv, 0, want);
	ok("#! without an argument, and with blanks before the interpreter");

	/* A static interpreter sees the exact argv the kernel built. */
	snprintf(line, sizeof(line), "#!%s dump\n", self);
	write_file(s4, line, 0755);
	snprintf(want, sizeof(want), "[%s][dump][%s][x][y z]\n", self, s4);
	expect_out(EXECVE, 0, s4, argv, 0, want);
	ok("#! to a static interpreter: argv[0] is the interpreter path");

	/* A script whose interpreter is a script. */
	snprintf(line, sizeof(line), "#!%s b\n", s3);
	write_file(s5, line, 0755);
	snprintf(want, sizeof(want), "a %s b %s x y z\n", s3, s5);
	expect_out(EXECVE, 0, s5, argv, 0, want);
	ok("#! nested: a script as the interpreter of a script");

	/* A dynamic shell interpreter runs the script's body with its arguments. */
	write_file(s1, "#!/bin/sh -e\necho \"$0\" \"$#\" \"$1\" \"$2\"\nexit 6\n", 0755);
	char out[512];
	CHECK(run(EXECVE, 0, s1, argv, 0, out, sizeof(out)) == 6, "sh script exit status");
	snprintf(want, sizeof(want), "%s 2 x y z\n", s1);
	CHECK(!strcmp(out, want), "sh script: %s", out);
	ok("#!/bin/sh -e script: body runs with $0 the script, status returned");

	write_file(s1, "#!/nonexistent-runsc-c/interp\n", 0755);
	CHECK(run(EXECVE, 0, s1, argv, 0, out, sizeof(out)) == -ENOENT, "missing interpreter");
	write_file(s1, "#!/bin/echo\r\n", 0755);
	CHECK(run(EXECVE, 0, s1, argv, 0, out, sizeof(out)) == -ENOENT, "CRLF: interpreter 'echo\\r'");
	write_file(s1, "#!/tmp\n", 0755);
	CHECK(run(EXECVE, 0, s1, argv, 0, out, sizeof(out)) == -EACCES, "directory interpreter");
	const char *s6 = tpath("s6");
	write_file(s6, "#!/bin/echo hi\n", 0644);
	CHECK(run(EXECVE, 0, s6, argv, 0, out, sizeof(out)) == -EACCES, "script without x bit");
	ok("#! errors: missing interpreter or CRLF ENOENT, directory or no x bit EACCES");
}

static void test_execveat(void)
{
	char want[PATH_MAX], out[512];
	char *argv[] = { "a0", "x", NULL };
	int dfd = (int)CHECK_OK(open(sc_tmpdir(), O_RDONLY | O_DIRECTORY));
	const char *sc = tpath("sc");

	write_file(sc, "#!/bin/echo i\n", 0755);
	/* The kernel names the script dirfd-relatively: /dev/fd/N/sc. */
	snprintf(want, sizeof(want), "i /dev/fd/%d/sc x\n", dfd);
	expect_out(EXECVEAT, dfd, "sc", argv, 0, want);
	ok("execveat(dirfd, relative script): the interpreter gets /dev/fd/N/name");

	int efd = (int)CHECK_OK(open("/bin/echo", O_RDONLY));
	expect_out(EXECVEAT, efd, "", argv, AT_EMPTY_PATH, "x\n");
	close(efd);
	efd = (int)CHECK_OK(open(self, O_PATH));
	char *dargv[] = { "d0", "dump", NULL };
	expect_out(EXECVEAT, efd, "", dargv, AT_EMPTY_PATH, "[d0][dump]\n");
	ok("execveat(fd, \"\", AT_EMPTY_PATH) of a dynamic and an O_PATH static program");

	/* fexecve is execveat(fd, "", AT_EMPTY_PATH). */
	pid_t pid = sc_fork();
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		dup2(null, 1);
		char *fargv[] = { "f", "dump", NULL };
		fexecve(efd, fargv, environ);
		_exit(127);
	}
	expect_exit(pid, 0);
	close(efd);

	/* A script through an fd: /dev/fd/N, which must survive exec (no O_CLOEXEC). */
	int sfd = (int)CHECK_OK(open(sc, O_RDONLY));
	snprintf(want, sizeof(want), "i /dev/fd/%d x\n", sfd);
	expect_out(EXECVEAT, sfd, "", argv, AT_EMPTY_PATH, want);
	close(sfd);
	sfd = (int)CHECK_OK(open(sc, O_RDONLY | O_CLOEXEC));
	CHECK(run(EXECVEAT, sfd, "", argv, AT_EMPTY_PATH, out, sizeof(out)) == -ENOENT,
	      "script through an O_CLOEXEC fd: the interpreter cannot open it");
	close(sfd);
	ok("execveat of a script by fd: /dev/fd/N, ENOENT when the fd is O_CLOEXEC");

	CHECK(run(EXECVEAT, AT_FDCWD, "/bin/true", argv, 0, out, sizeof(out)) == 0, "AT_FDCWD");
	const char *lnk = tpath("link-to-true");
	CHECK_OK(symlink("/bin/true", lnk));
	CHECK(run(EXECVEAT, dfd, "link-to-true", argv, 0, out, sizeof(out)) == 0, "via a symlink");
	CHECK(run(EXECVEAT, dfd, "link-to-true", argv, AT_SYMLINK_NOFOLLOW, out, sizeof(out)) ==
		      -ELOOP,
	      "AT_SYMLINK_NOFOLLOW on a symlink: ELOOP");
	int ffd = (int)CHECK_OK(open("/etc/passwd", O_RDONLY));
	CHECK(run(EXECVEAT, ffd, "x", argv, 0, out, sizeof(out)) == -ENOTDIR, "file dirfd: ENOTDIR");
	close(ffd);
	CHECK(run(EXECVEAT, dfd, "", argv, 0, out, sizeof(out)) == -ENOENT,
	      "empty path without AT_EMPTY_PATH: ENOENT");
	CHECK(run(EXECVEAT, dfd, "sc", argv, 0x4, out, sizeof(out)) == -EINVAL, "bad flags: EINVAL");
	CHECK(run(EXECVEAT, 999, "sc", argv, 0, out, sizeof(out)) == -EBADF, "bad dirfd: EBADF");
	close(dfd);
	ok("execveat: AT_FDCWD, symlinks, ELOOP, ENOTDIR, ENOENT, EINVAL, EBADF");
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "dump"))
		return dump_main(argc, argv);
	CHECK(realpath(argv[0], self) != NULL, "realpath");
	test_scripts();
	test_execveat();
	return 0;
}
