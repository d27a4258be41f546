/* proc_pid.c: /proc/PID of other processes: a child's state (S, T, Z), ppid, cmdline, exe and
 * environ after exec, task/ of a threaded child, and the directory vanishing when reaped. */
#include "sc.h"

#include <limits.h>

static char big[1 << 16];

/* state_of(pid): the state letter in /proc/PID/stat, or 0 if the file cannot be read. */
static char state_of(pid_t pid, long long *ppid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	size_t n = read_fd_all(fd, big, sizeof(big));
	close(fd);
	char *close_paren = strrchr(big, ')');
	CHECK(n > 0 && close_paren, "stat format");
	if (ppid)
		*ppid = atoll(close_paren + 4);
	return close_paren[2];
}

/* wait_state(pid, want): polls until /proc/PID/stat shows want (at most 10 s). */
static void wait_state(pid_t pid, char want)
{
	long t0 = now_ms();
	char s;

	while ((s = state_of(pid, NULL)) != want && now_ms() - t0 < 10000)
		msleep(2);
	CHECK(s == want, "/proc/%d/stat: state %c, want %c", pid, s, want);
}

static void test_states(void)
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
	wait_state(pid, 'S');
	long long ppid = 0;
	state_of(pid, &ppid);
	CHECK(ppid == getpid(), "the child's ppid field is us");
	CHECK_OK(kill(pid, SIGSTOP));
	int st;
	CHECK(waitpid(pid, &st, WUNTRACED) == pid, "stopped");
	CHECK(state_of(pid, NULL) == 'T', "stopped: T");
	CHECK_OK(kill(pid, SIGCONT));
	wait_state(pid, 'S');
	close(p[1]);
	siginfo_t si;
	CHECK_OK(waitid(P_PID, pid, &si, WEXITED | WNOWAIT));
	CHECK(state_of(pid, NULL) == 'Z', "zombie: Z");
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d", pid);
	struct stat sb;
	CHECK_OK(stat(path, &sb));
	expect_exit(pid, 0);
	CHECK(stat(path, &sb) == -1 && errno == ENOENT, "/proc/PID goes when the child is reaped");
	ok("/proc/PID/stat of a child: S while blocked, T stopped, Z zombie; gone once reaped");
}

static void test_exec_child(void)
{
	int p[2];

	CHECK_OK(pipe(p));
	pid_t pid = sc_fork();
	if (pid == 0) {
		dup2(p[0], 0);
		close(p[1]);
		char *argv[] = { "cat", "-", NULL };
		char *envp[] = { "ONLY=this", NULL };
		execve("/bin/cat", argv, envp); /* blocks reading the pipe */
		_exit(127);
	}
	close(p[0]);
	char path[64], buf[PATH_MAX], want[PATH_MAX];
	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	/* Wait until the exec has happened (cmdline changes from ours). */
	long t0 = now_ms();
	size_t n = 0;
	while (now_ms() - t0 < 10000) {
		n = read_file(path, buf, sizeof(buf));
		if (n == 6 && !memcmp(buf, "cat\0-\0", 6))
			break;
		msleep(2);
	}
	CHECK(n == 6 && !memcmp(buf, "cat\0-\0", 6), "a child's cmdline after exec");
	snprintf(path, sizeof(path), "/proc/%d/environ", pid);
	n = read_file(path, buf, sizeof(buf));
	CHECK(n == 10 && !memcmp(buf, "ONLY=this\0", 10), "a child's environ after exec");
	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	ssize_t l = readlink(path, buf, sizeof(buf) - 1);
	CHECK(l > 0, "readlink exe");
	buf[l] = 0;
	CHECK(realpath("/bin/cat", want) && !strcmp(buf, want), "exe %s, want %s", buf, want);
	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	read_file(path, buf, sizeof(buf));
	CHECK(!strcmp(buf, "cat\n"), "comm %s", buf);
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	read_file(path, big, sizeof(big));
	char line[64];
	snprintf(line, sizeof(line), "\nPPid:\t%d\n", getpid());
	CHECK(!strncmp(big, "Name:\tcat\n", 10) && strstr(big, line), "Name and PPid in status");
	close(p[1]);
	expect_exit(pid, 0);
	ok("/proc/PID of an exec'd child: cmdline, environ, exe, comm, status Name/PPid");

	char dir[64];
	snprintf(dir, sizeof(dir), "/proc/%d", getpid() + 1000000);
	struct stat sb;
	CHECK(stat(dir, &sb) == -1 && errno == ENOENT, "a nonexistent pid: ENOENT");
	ok("/proc/<nonexistent pid>: ENOENT");
}

int main(void)
{
	test_states();
	test_exec_child();
	return 0;
}
