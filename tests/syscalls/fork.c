/* fork.c: fork: pids, memory independence, shared fds and offsets, many and nested children,
 * the FPU state. */
#include "sc.h"

#include <sys/mman.h>

static int global = 1;

static void test_pids(void)
{
	pid_t parent = getpid();
	int p[2];

	CHECK(parent > 0, "getpid %d", parent);
	CHECK_OK(pipe(p));
	pid_t pid = sc_fork();
	if (pid == 0) {
		pid_t ids[2] = { getpid(), getppid() };
		CHECK(write(p[1], ids, sizeof(ids)) == sizeof(ids), "write");
		_exit(0);
	}
	pid_t ids[2];
	CHECK(read(p[0], ids, sizeof(ids)) == sizeof(ids), "read");
	CHECK(pid > 0 && pid != parent, "fork returned %d", pid);
	CHECK(ids[0] == pid, "child getpid %d, fork returned %d", ids[0], pid);
	CHECK(ids[1] == parent, "child getppid %d, parent %d", ids[1], parent);
	CHECK(getpid() == parent, "parent pid changed");
	CHECK(syscall(SYS_gettid) == parent, "gettid != getpid in a single-threaded process");
	expect_exit(pid, 0);
	close(p[0]);
	close(p[1]);
	ok("fork returns the child's pid; child's getppid is the parent");
}

static void test_memory(void)
{
	int stack_var = 10;
	char *heap = malloc(1 << 20);
	char *anon = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int p[2];

	CHECK(heap && anon != MAP_FAILED, "alloc");
	memset(heap, 'h', 1 << 20);
	memset(anon, 'a', 1 << 20);
	global = 1;
	CHECK_OK(pipe(p));
	pid_t pid = sc_fork();
	if (pid == 0) {
		/* The child sees the parent's values at fork time... */
		CHECK(global == 1 && stack_var == 10 && heap[12345] == 'h' && anon[999999] == 'a',
		      "child sees pre-fork values");
		/* ...and its writes stay its own. */
		global = 2;
		stack_var = 20;
		memset(heap, 'H', 1 << 20);
		memset(anon, 'A', 1 << 20);
		char c;
		CHECK(read(p[0], &c, 1) == 1, "sync");
		/* The parent wrote after the fork: the child must still see its own values. */
		CHECK(global == 2 && stack_var == 20 && heap[0] == 'H' && anon[0] == 'A',
		      "child's values changed by the parent: %d %d %c %c", global, stack_var,
		      heap[0], anon[0]);
		_exit(0);
	}
	msleep(1);
	global = 3;
	stack_var = 30;
	heap[0] = 'x';
	anon[0] = 'y';
	CHECK(write(p[1], "g", 1) == 1, "sync");
	expect_exit(pid, 0);
	CHECK(global == 3 && stack_var == 30 && heap[0] == 'x' && heap[1] == 'h' &&
		      heap[(1 << 20) - 1] == 'h' && anon[0] == 'y' && anon[1] == 'a',
	      "parent memory changed by the child");
	free(heap);
	munmap(anon, 1 << 20);
	close(p[0]);
	close(p[1]);
	ok("memory is independent after fork (globals, stack, heap, anonymous mmap)");
}

static void test_shared_offset(void)
{
	const char *path = tpath("offset");
	int fd = (int)CHECK_OK(open(path, O_RDWR | O_CREAT | O_TRUNC, 0644));

	CHECK(write(fd, "0123456789", 10) == 10, "write");
	CHECK_OK(lseek(fd, 2, SEEK_SET));
	pid_t pid = sc_fork();
	if (pid == 0) {
		char b[3] = { 0 };
		CHECK(lseek(fd, 0, SEEK_CUR) == 2, "child inherits the offset");
		CHECK(read(fd, b, 2) == 2 && !memcmp(b, "23", 2), "child read");
		CHECK(write(fd, "ab", 2) == 2, "child write");
		/* A file the child opens is its own. */
		int own = open(path, O_RDONLY);
		CHECK(own >= 0, "child open");
		_exit(own == fd ? 1 : 0);
	}
	expect_exit(pid, 0);
	CHECK(lseek(fd, 0, SEEK_CUR) == 6, "the child's read+write moved the shared offset: %ld",
	      (long)lseek(fd, 0, SEEK_CUR));
	char buf[16] = { 0 };
	CHECK(pread(fd, buf, 10, 0) == 10 && !strcmp(buf, "0123ab6789"), "file: %s", buf);
	/* fd + 1 was opened by the child only. */
	CHECK(fcntl(fd + 1, F_GETFD) == -1 && errno == EBADF, "child's fd leaked to the parent");
	close(fd);
	ok("fds are inherited and share their file offset with the child");
}

static void test_many(void)
{
	enum { N = 24 };
	pid_t pids[N];

	for (int i = 0; i < N; i++) {
		pids[i] = sc_fork();
		if (pids[i] == 0)
			_exit(i);
	}
	for (int i = 0; i < N; i++)
		for (int j = 0; j < i; j++)
			CHECK(pids[i] != pids[j], "duplicate pid");
	/* Reap in reverse order: each pid gives its own exit code. */
	for (int i = N - 1; i >= 0; i--)
		expect_exit(pids[i], i);
	CHECK(wait(NULL) == -1 && errno == ECHILD, "no children left");
	ok("%d children with distinct pids, reaped out of order with their exit codes", N);
}

static void test_nested(void)
{
	/* A chain of 5 processes, each the parent of the next; the status bubbles up. */
	int depth = 0;

	for (;;) {
		pid_t pid = sc_fork();
		if (pid == 0) {
			depth++;
			if (depth == 5)
				_exit(40 + depth);
			continue;
		}
		int st = sc_wait(pid);
		CHECK(WIFEXITED(st), "status %#x", st);
		if (depth == 0) {
			CHECK(WEXITSTATUS(st) == 45, "chain status %d", WEXITSTATUS(st));
			break;
		}
		_exit(WEXITSTATUS(st));
	}
	ok("a chain of 5 nested forks passes the exit status back up");
}

static void test_exit_codes(void)
{
	static const int codes[] = { 0, 1, 127, 128, 255, 256, 257 };

	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		pid_t pid = sc_fork();
		if (pid == 0)
			_exit(codes[i]);
		expect_exit(pid, codes[i] & 0xff);
	}
	pid_t pid = sc_fork();
	if (pid == 0) {
		syscall(SYS_exit_group, 300);
		_exit(1);
	}
	expect_exit(pid, 300 & 0xff);
	ok("exit codes are truncated to 8 bits");
}

/* The FPU/SSE state at the fork is the child's too: MXCSR (rounding mode, flush-to-zero), the
 * x87 control word, and xmm registers, which the kernel keeps across the syscall instruction
 * (a raw one here: libc's fork() may use xmm registers after it). */
static void test_fpu_state(void)
{
	const uint32_t mxcsr = 0x5f80 | 0x8000; /* round up, exceptions masked, flush-to-zero */
	const uint16_t fcw = 0x027f;            /* 53-bit precision (Linux starts with 0x037f) */
	const uint64_t pattern = 0x0123456789abcdefULL;
	uint32_t mx_in = mxcsr, mx_out = 0, mx_old;
	uint16_t cw_in = fcw, cw_out = 0, cw_old;
	uint64_t x7 = 0, x15 = 0;
	long ret;

	fflush(NULL);
	__asm__ volatile("stmxcsr %0; fnstcw %1" : "=m"(mx_old), "=m"(cw_old));
	__asm__ volatile("ldmxcsr %[mx]\n\t"
			 "fldcw %[cw]\n\t"
			 "movq %[pat], %%xmm7\n\t"
			 "movq %[pat], %%xmm15\n\t"
			 "syscall\n\t"
			 "movq %%xmm7, %[x7]\n\t"
			 "movq %%xmm15, %[x15]\n\t"
			 "stmxcsr %[mxo]\n\t"
			 "fnstcw %[cwo]"
			 : "=a"(ret), [x7] "=r"(x7), [x15] "=r"(x15), [mxo] "=m"(mx_out),
			   [cwo] "=m"(cw_out)
			 : "a"((long)SYS_fork), [mx] "m"(mx_in), [cw] "m"(cw_in), [pat] "r"(pattern)
			 : "rcx", "r11", "xmm7", "xmm15", "memory");
	if (ret == 0) {
		int bad = (mx_out != mxcsr) | (cw_out != fcw) << 1 | (x7 != pattern) << 2 |
			  (x15 != pattern) << 3;
		syscall(SYS_exit_group, bad);
	}
	__asm__ volatile("ldmxcsr %0; fldcw %1" : : "m"(mx_old), "m"(cw_old));
	CHECK(ret > 0, "fork: %ld", ret);
	CHECK(mx_out == mxcsr && cw_out == fcw && x7 == pattern && x15 == pattern,
	      "the parent's state changed: mxcsr %#x fcw %#x xmm7 %#lx xmm15 %#lx", mx_out, cw_out,
	      (unsigned long)x7, (unsigned long)x15);
	int st = sc_wait((pid_t)ret);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	      "the child's FPU state differs (bits: 1 mxcsr, 2 x87 cw, 4 xmm7, 8 xmm15): status %#x",
	      st);
	ok("the child starts with the parent's MXCSR, x87 control word and xmm registers");

	/* libc's fork, several times from one call site (a patched one after the first, on
	 * systrap: the parent's state is read from a thread that reported without a frame). The
	 * control words survive a call; the vector registers need not. */
	for (int i = 0; i < 4; i++) {
		uint32_t want = (i & 1) ? mxcsr : 0x1f80 | 0x2000 /* round down */;
		uint16_t cw = (i & 1) ? fcw : 0x037f;
		__asm__ volatile("ldmxcsr %0; fldcw %1" : : "m"(want), "m"(cw));
		pid_t pid = sc_fork();
		if (pid == 0) {
			uint32_t m;
			uint16_t c;
			__asm__ volatile("stmxcsr %0; fnstcw %1" : "=m"(m), "=m"(c));
			_exit(m != want || c != cw);
		}
		__asm__ volatile("ldmxcsr %0; fldcw %1" : : "m"(mx_old), "m"(cw_old));
		expect_exit(pid, 0);
	}
	ok("so does a child of libc's fork, fork after fork");
}

int main(void)
{
	test_pids();
	test_memory();
	test_shared_offset();
	test_many();
	test_nested();
	test_exit_codes();
	test_fpu_state();
	return 0;
}
