/* sc.h: helpers shared by the syscall conformance tests in tests/syscalls (on top of check.h). */
#ifndef TESTS_SYSCALLS_SC_H
#define TESTS_SYSCALLS_SC_H

#include "../progs/check.h"

#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>

/*
 * Conventions (tests/syscalls/run.sh runs every program natively and in the sandbox):
 * - stdout carries only deterministic lines ("ok what"), never pids, addresses or times;
 *   it must be byte-identical in both runs.
 * - A failed check prints FAIL and exits 1 (check.h), also from a forked child: the parent
 *   sees the status and fails in turn.
 * - stdout is line-buffered, so a fork never duplicates buffered output; a child may print
 *   while its parent waits for it.
 * - Tests check relations (a child's getppid() is its parent's getpid()), not values that
 *   differ between the host and the sandbox (pid 1 in the sandbox).
 */

static pid_t sc_main_pid;
static char sc_tmp[128];

static void __attribute__((constructor)) sc_setup(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	sc_main_pid = getpid();
}

/* ok(fmt, ...): prints "ok <what>". */
static inline void __attribute__((format(printf, 1, 2))) ok(const char *fmt, ...)
{
	va_list ap;

	fputs("ok ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

/* msleep(ms): sleeps ms milliseconds, resuming after signal handlers. */
static inline void msleep(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* now_ms(): CLOCK_MONOTONIC in milliseconds. */
static inline long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* sc_wait(pid): waitpid(pid, 0) retrying EINTR; returns the raw status. */
static inline int sc_wait(pid_t pid)
{
	int st = 0;
	pid_t r;

	do
		r = waitpid(pid, &st, 0);
	while (r == -1 && errno == EINTR);
	if (r != pid)
		check_fail(__FILE__, __LINE__, "waitpid(%d) returned %d", (int)pid, (int)r);
	return st;
}

/* expect_exit(pid, code): reaps pid, which must have exited with code. */
#define expect_exit(pid, code)                                                              \
	do {                                                                                \
		int __st = sc_wait(pid);                                                    \
		CHECK(WIFEXITED(__st) && WEXITSTATUS(__st) == (code),                       \
		      "child status %#x, want exit %d", __st, (code));                      \
	} while (0)

/* expect_killed(pid, sig): reaps pid, which must have been killed by sig (no core). */
#define expect_killed(pid, sig)                                                             \
	do {                                                                                \
		int __st = sc_wait(pid);                                                    \
		CHECK(WIFSIGNALED(__st) && WTERMSIG(__st) == (sig) && !WCOREDUMP(__st),     \
		      "child status %#x, want killed by %s", __st, sigabbrev_np(sig));      \
	} while (0)

/*
 * no_core(): no core dump for this process, whatever the host's core_pattern (a pipe pattern
 * ignores RLIMIT_CORE 0), so a core-action signal reports WCOREDUMP false in both runs.
 * Errors are ignored: a sandbox without PR_SET_DUMPABLE never dumps core anyway.
 */
static inline void no_core(void)
{
	struct rlimit rl = { 0, 0 };

	setrlimit(RLIMIT_CORE, &rl);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

/* sc_fork(): fork() that must succeed. */
static inline pid_t sc_fork(void)
{
	fflush(NULL);
	return (pid_t)CHECK_OK(fork());
}

/* in_child(fn): runs fn in a forked child that must exit 0; isolates signal/fd/mm state. */
#define in_child(fn) sc_in_child(#fn, fn)
static inline void sc_in_child(const char *name, void (*fn)(void))
{
	pid_t pid = sc_fork();

	if (pid == 0) {
		fn();
		fflush(NULL);
		_exit(0);
	}
	int st = sc_wait(pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s (in a child) ended with status %#x",
	      name, st);
}

static int sc_rm(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (type == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

static void sc_cleanup(void)
{
	if (getpid() == sc_main_pid && sc_tmp[0])
		nftw(sc_tmp, sc_rm, 16, FTW_DEPTH | FTW_PHYS);
}

/* sc_tmpdir(): a fresh private directory under /tmp, removed when the main process exits. */
static inline const char *sc_tmpdir(void)
{
	if (!sc_tmp[0]) {
		strcpy(sc_tmp, "/tmp/runsc-c-sc-XXXXXX");
		CHECK(mkdtemp(sc_tmp) != NULL, "mkdtemp");
		atexit(sc_cleanup);
	}
	return sc_tmp;
}

/* tpath(name): a new string sc_tmpdir()/name (never freed: tests are short-lived). */
static inline const char *tpath(const char *name)
{
	char *p;

	CHECK(asprintf(&p, "%s/%s", sc_tmpdir(), name) > 0, "asprintf");
	return p;
}

/* write_file(path, data, mode): creates/truncates path with data. */
static inline void write_file(const char *path, const char *data, mode_t mode)
{
	int fd = (int)CHECK_OK(open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode));
	size_t n = strlen(data);

	CHECK(write(fd, data, n) == (ssize_t)n, "write %s", path);
	CHECK_OK(close(fd));
}

/* read_fd_all(fd, buf, cap): reads until EOF or cap-1 bytes; NUL-terminates; returns length. */
static inline size_t read_fd_all(int fd, char *buf, size_t cap)
{
	size_t len = 0;

	while (len + 1 < cap) {
		ssize_t r = read(fd, buf + len, cap - 1 - len);

		if (r == -1 && errno == EINTR)
			continue;
		CHECK(r >= 0, "read fd %d", fd);
		if (r == 0)
			break;
		len += (size_t)r;
	}
	buf[len] = 0;
	return len;
}

/* read_file(path, buf, cap): the whole file (up to cap-1 bytes), NUL-terminated; its length. */
static inline size_t read_file(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		check_fail(__FILE__, __LINE__, "open %s", path);
	size_t n = read_fd_all(fd, buf, cap);

	close(fd);
	return n;
}

/* set_handler(sig, fn, flags): installs fn (an sa_sigaction when flags has SA_SIGINFO). */
static inline void set_handler(int sig, void *fn, int flags)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = (void (*)(int, siginfo_t *, void *))fn;
	sa.sa_flags = flags;
	sigemptyset(&sa.sa_mask);
	CHECK_OK(sigaction(sig, &sa, NULL));
}

/* set_disposition(sig, h): SIG_DFL or SIG_IGN (or a plain handler), no flags. */
static inline void set_disposition(int sig, void (*h)(int))
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = h;
	sigemptyset(&sa.sa_mask);
	CHECK_OK(sigaction(sig, &sa, NULL));
}

/* block(sig) / unblock(sig): adjusts the calling thread's signal mask. */
static inline void sc_mask(int how, int sig)
{
	sigset_t s;

	sigemptyset(&s);
	sigaddset(&s, sig);
	CHECK_OK(sigprocmask(how, &s, NULL));
}
#define block(sig) sc_mask(SIG_BLOCK, sig)
#define unblock(sig) sc_mask(SIG_UNBLOCK, sig)

/*
 * pinger(target, sig, every_ms, count, fd, byte): a child that sends sig to target every
 * every_ms ms, count times, then (when fd >= 0) writes byte to fd and exits. Used to interrupt
 * a blocking call without racing: one of the signals lands while the caller is blocked.
 * Returns the child's pid; reap it with sc_wait (or kill it first).
 */
static inline pid_t pinger(pid_t target, int sig, int every_ms, int count, int fd, char byte)
{
	pid_t pid = sc_fork();

	if (pid == 0) {
		for (int i = 0; i < count; i++) {
			msleep(every_ms);
			kill(target, sig);
		}
		if (fd >= 0)
			(void)!write(fd, &byte, 1);
		_exit(0);
	}
	return pid;
}

/* raw syscall helpers that return -errno instead of -1 + errno. */
static inline long raw(long nr, long a, long b, long c, long d, long e, long f)
{
	long r = syscall(nr, a, b, c, d, e, f);

	return r == -1 ? -errno : r;
}

#endif
